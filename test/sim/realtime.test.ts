import { describe, expect, it } from "vitest";
import { RealtimeDriver } from "../../sim/realtime.js";
import { Scheduler } from "../../sim/scheduler.js";
import { World } from "../../sim/world.js";

function sleep(ms: number): Promise<void> {
  return new Promise((r) => setTimeout(r, ms));
}

describe("RealtimeDriver", () => {
  it("runs events no earlier than their wall-clock moment and in order", async () => {
    const s = new Scheduler();
    const wallAt: number[] = [];
    const t0 = performance.now();
    for (const ms of [5, 20, 40]) s.schedule(ms * 1e6, () => wallAt.push(performance.now() - t0));
    const d = new RealtimeDriver(s);
    d.start();
    // Wait for the last event (40 ms) however loaded the machine is.
    for (let i = 0; i < 300 && wallAt.length < 3; i++) await sleep(10);
    d.stop();
    expect(wallAt.length).toBe(3);
    expect(wallAt[0]).toBeGreaterThanOrEqual(5 - 1);
    expect(wallAt[1]).toBeGreaterThanOrEqual(20 - 1);
    expect(wallAt[2]).toBeGreaterThanOrEqual(40 - 1);
    // The virtual clock followed the wall clock while running.
    expect(s.nowNs()).toBeGreaterThanOrEqual(40e6);
    expect(s.nowNs()).toBeLessThan(1e9);
  });

  it("paces a whole world: a ping over a 10 ms link takes real time", async () => {
    const world = new World();
    const h1 = world.endpoint("h1", { vnics: [{ ipv4: "10.0.0.1/24" }] });
    const h2 = world.endpoint("h2", { vnics: [{ ipv4: "10.0.0.2/24" }] });
    world.link(h1.vnics[0], h2.vnics[0], { latency: "10ms" });
    const d = new RealtimeDriver(world.scheduler);
    const t0 = performance.now();
    const ping = h1.ping("10.0.0.2", { count: 2, intervalMs: 20 });
    const done = new Promise<number>((resolve) => {
      ping.onDone = () => resolve(performance.now() - t0);
    });
    d.start();
    const wallMs = await done;
    d.stop();
    expect(ping.result.received).toBe(2);
    // Echo 2 leaves at 20 ms and returns at 40 ms (virtual = wall).
    expect(wallMs).toBeGreaterThanOrEqual(39);
    expect(ping.result.rttMinNs).toBe(20e6);
  });

  it("maps wall time to virtual time through the speed factor, with an injected clock", () => {
    const s = new Scheduler();
    let wall = 1000;
    const d = new RealtimeDriver(s, { speed: 10, wallMs: () => wall });
    d.start();
    wall += 3;
    expect(d.targetNs()).toBe(30e6);
    d.stop();
    expect(d.running).toBe(false);
  });

  it("picks up work scheduled from outside after wake()", async () => {
    const s = new Scheduler();
    const d = new RealtimeDriver(s, { maxSliceMs: 5000 });
    d.start();
    await sleep(10);
    const t0 = performance.now();
    await Promise.race([
      new Promise<void>((resolve) => {
        s.schedule(0, () => resolve());
        d.wake();
      }),
      sleep(2000),
    ]);
    d.stop();
    // Without wake() the driver would sleep for its 5 s slice.
    expect(performance.now() - t0).toBeLessThan(1000);
  });

  it("stops and keeps the error when an event throws", async () => {
    const s = new Scheduler();
    s.schedule(1e6, () => {
      throw new Error("boom");
    });
    const d = new RealtimeDriver(s);
    d.start();
    for (let i = 0; i < 200 && d.running; i++) await sleep(10);
    expect(d.running).toBe(false);
    expect((d.error as Error).message).toBe("boom");
  });

  it("refuses a speed that is not a positive finite number", () => {
    expect(() => new RealtimeDriver(new Scheduler(), { speed: 0 })).toThrow(
      "realtime driver: speed must be a finite number > 0, got 0",
    );
  });
});
