import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { Scheduler } from "../../sim/scheduler.js";

describe("Scheduler", () => {
  it("runs events in (time, priority, sequence) order and moves the clock to each", () => {
    const s = new Scheduler();
    const log: string[] = [];
    const at = (tag: string) => () => log.push(`${tag}@${s.nowNs()}`);
    s.schedule(20, at("c"));
    s.schedule(10, at("b2"), 0, 1);
    s.schedule(10, at("b1"), 0, 0);
    s.schedule(10, at("b3"), 0, 1);
    s.schedule(0, at("a"));
    expect(s.runUntilIdle()).toBe(5);
    expect(log).toEqual(["a@0", "b1@10", "b2@10", "b3@10", "c@20"]);
  });

  it("orders any set of events exactly as sorting by (time, priority, sequence) does", () => {
    fc.assert(
      fc.property(
        fc.array(fc.tuple(fc.integer({ min: 0, max: 50 }), fc.integer({ min: -2, max: 2 })), {
          maxLength: 300,
        }),
        (events) => {
          const s = new Scheduler();
          const order: number[] = [];
          events.forEach(([t, p], i) => {
            s.schedule(t, (arg) => order.push(arg), i, p);
          });
          s.runUntilIdle();
          const expected = events
            .map(([t, p], i) => ({ t, p, i }))
            .sort((x, y) => x.t - y.t || x.p - y.p || x.i - y.i)
            .map((e) => e.i);
          expect(order).toEqual(expected);
        },
      ),
    );
  });

  it("passes the scheduled argument to the event function", () => {
    const s = new Scheduler();
    let got = -1;
    s.schedule(
      5,
      (arg) => {
        got = arg;
      },
      42,
    );
    s.step();
    expect(got).toBe(42);
  });

  it("does not run a cancelled event and refuses to cancel twice or after it ran", () => {
    const s = new Scheduler();
    const log: number[] = [];
    const h1 = s.schedule(10, () => log.push(1));
    const h2 = s.schedule(20, () => log.push(2));
    expect(s.pending).toBe(2);
    expect(s.cancel(h1)).toBe(true);
    expect(s.cancel(h1)).toBe(false);
    expect(s.pending).toBe(1);
    s.runUntilIdle();
    expect(log).toEqual([2]);
    expect(s.cancel(h2)).toBe(false);
    expect(s.nowNs()).toBe(20);
  });

  it("keeps a stale handle harmless after its slot is reused", () => {
    const s = new Scheduler();
    const log: number[] = [];
    const old = s.schedule(1, () => log.push(1));
    s.runUntilIdle();
    s.schedule(1, () => log.push(2));
    expect(s.cancel(old)).toBe(false);
    s.runUntilIdle();
    expect(log).toEqual([1, 2]);
  });

  it("runs up to and including `untilNs`, then parks the clock there", () => {
    const s = new Scheduler();
    const log: number[] = [];
    for (const t of [5, 10, 15]) s.schedule(t, () => log.push(t));
    expect(s.run({ untilNs: 10 })).toBe(2);
    expect(log).toEqual([5, 10]);
    expect(s.nowNs()).toBe(10);
    expect(s.run({ untilNs: 12 })).toBe(0);
    expect(s.nowNs()).toBe(12);
    expect(s.nextEventNs()).toBe(15);
    s.schedule(1, () => log.push(13));
    s.runUntilIdle();
    expect(log).toEqual([5, 10, 13, 15]);
  });

  it("steps one event at a time and reports when idle", () => {
    const s = new Scheduler();
    s.schedule(3, () => {});
    expect(s.step()).toBe(true);
    expect(s.nowNs()).toBe(3);
    expect(s.step()).toBe(false);
    expect(s.nextEventNs()).toBe(Number.POSITIVE_INFINITY);
  });

  it("lets events schedule further events, growing past its initial capacity", () => {
    const s = new Scheduler();
    let count = 0;
    for (let i = 0; i < 5000; i++) s.schedule(i % 97, () => count++);
    const chain = (n: number): void => {
      count++;
      if (n > 0) s.schedule(1, chain, n - 1);
    };
    s.schedule(0, chain, 100);
    s.runUntilIdle();
    expect(count).toBe(5101);
    expect(s.eventsRun).toBe(5101);
  });

  it("refuses negative, fractional and non-finite delays and times in the past", () => {
    const s = new Scheduler();
    s.schedule(10, () => {});
    s.runUntilIdle();
    expect(() => s.schedule(-1, () => {})).toThrow(
      /delayNs must be a whole number of nanoseconds not before now \(10ns\), got -1/,
    );
    expect(() => s.schedule(1.5, () => {})).toThrow(
      expect.objectContaining({ code: "ERR_SIM_INVALID_DELAY" }),
    );
    expect(() => s.schedule(Number.NaN, () => {})).toThrow(/got NaN/);
    expect(() => s.scheduleAt(5, () => {})).toThrow(/timeNs/);
    expect(() => s.run({ untilNs: 3 })).toThrow(/untilNs/);
  });

  it("gives up on runUntilIdle when a periodic timer never stops, naming the cause", () => {
    const s = new Scheduler();
    const tick = (): void => {
      s.schedule(1000, tick);
    };
    s.schedule(0, tick);
    expect(() => s.runUntilIdle(100)).toThrow(
      expect.objectContaining({ code: "ERR_SIM_NOT_IDLE" }),
    );
    expect(s.nowNs()).toBe(99_000);
  });

  it("leaves the queue intact when an event throws", () => {
    const s = new Scheduler();
    const log: number[] = [];
    s.schedule(1, () => {
      throw new Error("boom");
    });
    s.schedule(2, () => log.push(2));
    expect(() => s.runUntilIdle()).toThrow("boom");
    s.runUntilIdle();
    expect(log).toEqual([2]);
  });
});
