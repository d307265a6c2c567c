import { describe, expect, it } from "vitest";
import type { LinkPort, Wire } from "../../sim/link.js";
import { World } from "../../sim/world.js";

/** A port that records what it receives and can send frames of a given size. */
class TestPort implements LinkPort {
  wire: Wire | null = null;
  received: { timeNs: number; length: number; first: number }[] = [];
  carrier: boolean[] = [];
  constructor(
    readonly name: string,
    private readonly world: World,
  ) {}
  attach(wire: Wire | null): void {
    this.wire = wire;
  }
  receive(frame: Uint8Array, offset: number, length: number): void {
    this.received.push({ timeNs: this.world.nowNs(), length, first: frame[offset + 14] });
  }
  carrierChanged(up: boolean): void {
    this.carrier.push(up);
  }
  send(length: number, tag = 0): boolean {
    const f = new Uint8Array(length);
    f[12] = 0x08; // IPv4 EtherType, no VLAN tag
    f[14] = tag;
    return this.wire!.transmit(f, 0, length);
  }
}

function pair(world: World): [TestPort, TestPort] {
  return [new TestPort("h1-eth0", world), new TestPort("h2-eth0", world)];
}

describe("Link", () => {
  it("delivers a frame after exactly its latency when bandwidth is unlimited", () => {
    const w = new World();
    const [a, b] = pair(w);
    w.link(a, b, { latency: "10us" });
    w.scheduler.schedule(1000, () => a.send(100));
    w.runUntilIdle();
    expect(b.received).toEqual([{ timeNs: 11_000, length: 100, first: 0 }]);
  });

  it("adds serialisation delay of length·8/rate and queues frames back to back", () => {
    const w = new World();
    const [a, b] = pair(w);
    w.link(a, b, { latency: "1ms", bandwidth: "1Mbit" });
    // 125 bytes at 1 Mbit/s = 1 ms on the wire each.
    a.send(125);
    a.send(125);
    a.send(125);
    w.runUntilIdle();
    expect(b.received.map((r) => r.timeNs)).toEqual([2e6, 3e6, 4e6]);
  });

  it("carries a bandwidth-limited flow at its rate within 1 %", () => {
    const w = new World();
    const [a, b] = pair(w);
    w.link(a, b, { latency: "2ms", bandwidth: "10Mbit", queue: "10MB" });
    // Offer 1000-byte frames at 20 Mbit/s for 1 s: twice the link's rate.
    const count = 2500;
    for (let i = 0; i < count; i++) w.scheduler.schedule(i * 400_000, () => a.send(1000));
    w.run({ untilNs: 1e9 });
    const bits = b.received.reduce((n, r) => n + r.length * 8, 0);
    const first = b.received[0].timeNs - 2e6 - 800_000;
    const seconds = (b.received[b.received.length - 1].timeNs - 2e6 - first) / 1e9;
    expect(Math.abs(bits / seconds - 1e7) / 1e7).toBeLessThan(0.01);
  });

  it("tail-drops exactly the frames that do not fit in the queue", () => {
    const w = new World();
    const [a, b] = pair(w);
    const link = w.link(a, b, { bandwidth: "8Mbit", queue: 3000 });
    // 1000-byte frames take 1 ms each. The first goes straight to the wire, three wait
    // (3000 bytes), the fifth and later overflow.
    const accepted = [1, 2, 3, 4, 5, 6].map((i) => a.send(1000, i));
    expect(accepted).toEqual([true, true, true, true, false, false]);
    expect(link.stats()[0].queuedBytes).toBe(3000);
    expect(link.stats()[0].drops.queue).toBe(2);
    // Once the first has been sent, the second starts and there is room for one more.
    w.run({ untilNs: 1_000_000 });
    expect(a.send(1000, 7)).toBe(true);
    expect(a.send(1000, 8)).toBe(false);
    w.runUntilIdle();
    expect(b.received.map((r) => r.first)).toEqual([1, 2, 3, 4, 7]);
    expect(b.received.map((r) => r.timeNs)).toEqual([1e6, 2e6, 3e6, 4e6, 5e6]);
  });

  it("drops frames longer than MTU + Ethernet header, allowing 4 bytes per VLAN tag", () => {
    const w = new World();
    const [a, b] = pair(w);
    const link = w.link(a, b, { mtu: 1500 });
    expect(a.send(1514)).toBe(true);
    expect(a.send(1515)).toBe(false);
    const tagged = new Uint8Array(1518);
    tagged[12] = 0x81;
    tagged[13] = 0x00;
    tagged[16] = 0x08;
    expect(a.wire!.transmit(tagged, 0, 1518)).toBe(true);
    expect(a.wire!.transmit(tagged, 0, 1519)).toBe(false);
    w.runUntilIdle();
    expect(b.received.length).toBe(2);
    expect(link.stats()[0].drops.mtu).toBe(2);
  });

  it("loses frames at the configured rate, the same ones for the same seed", () => {
    const lost = (seed: number): number[] => {
      const w = new World({ seed });
      const [a, b] = pair(w);
      w.link(a, b, { loss: "10%" });
      const out: number[] = [];
      for (let i = 0; i < 10_000; i++) if (!a.send(64)) out.push(i);
      w.runUntilIdle();
      expect(b.received.length + out.length).toBe(10_000);
      return out;
    };
    const first = lost(1);
    expect(Math.abs(first.length - 1000)).toBeLessThan(100);
    expect(lost(1)).toEqual(first);
    expect(lost(2)).not.toEqual(first);
  });

  it("adds jitter uniformly within ±jitter, fixed by the seed, reordering some frames", () => {
    const run = (seed: number) => {
      const w = new World({ seed });
      const a = new TestPort("h1-eth0", w);
      const got: { id: number; delay: number }[] = [];
      const b: LinkPort = {
        name: "h2-eth0",
        receive: (f, o) => {
          const id = (f[o + 14] << 8) | f[o + 15];
          got.push({ id, delay: w.nowNs() - id * 100_000 });
        },
      };
      const link = w.link(a, b, { latency: "10ms", jitter: "2ms" });
      const frame = new Uint8Array(64);
      for (let i = 0; i < 2000; i++)
        w.scheduler.schedule(i * 100_000, () => {
          frame[14] = i >> 8;
          frame[15] = i & 0xff;
          a.wire!.transmit(frame, 0, 64);
        });
      w.runUntilIdle();
      expect(link.describe()).toBe("h1-eth0<->h2-eth0 10ms jitter 2ms mtu 1500 up");
      return got;
    };
    const got = run(3);
    const delays = got.map((g) => g.delay);
    expect(got.length).toBe(2000);
    expect(Math.min(...delays)).toBeGreaterThanOrEqual(8e6);
    expect(Math.max(...delays)).toBeLessThanOrEqual(12e6);
    const mean = delays.reduce((x, y) => x + y, 0) / delays.length;
    expect(Math.abs(mean - 10e6)).toBeLessThan(0.1e6);
    // Frames 0.1 ms apart with ±2 ms of jitter overtake each other, as with netem.
    expect(got.some((g, i) => i > 0 && g.id < got[i - 1].id)).toBe(true);
    expect(run(3)).toEqual(got);
    expect(run(4)).not.toEqual(got);
  });

  it("refuses a negative jitter, naming the link", () => {
    const w = new World();
    const [a, b] = pair(w);
    expect(() => w.link(a, b, { jitter: "-1ms" })).toThrow(
      "link h1-eth0<->h2-eth0: jitter must be >= 0, got -1ms",
    );
  });

  it("applies a latency change to frames sent after it", () => {
    const w = new World();
    const [a, b] = pair(w);
    const link = w.link(a, b, { latency: "1ms" });
    a.send(64);
    link.set({ latency: "5ms" });
    a.send(64);
    w.runUntilIdle();
    expect(b.received.map((r) => r.timeNs)).toEqual([1e6, 5e6]);
  });

  it("applies bandwidth and loss changes made at run time", () => {
    const w = new World();
    const [a, b] = pair(w);
    const link = w.link(a, b, { bandwidth: "1Mbit" });
    a.send(125, 1); // 1 ms on the wire
    w.runUntilIdle();
    link.set({ bandwidth: "10Mbit" });
    const t = w.nowNs();
    a.send(125, 2); // now 100 us
    w.runUntilIdle();
    link.set({ loss: 1 });
    expect(a.send(125, 3)).toBe(false);
    link.set({ loss: "0%" });
    expect(a.send(125, 4)).toBe(true);
    w.runUntilIdle();
    expect(b.received.map((r) => r.first)).toEqual([1, 2, 4]);
    expect(b.received[1].timeNs - t).toBe(100_000);
    expect(link.stats()[0].drops.loss).toBe(1);
    expect(link.describe()).toBe("h1-eth0<->h2-eth0 0ns 10Mbps mtu 1500 up");
  });

  it("can differ per direction, as an asymmetric access link does", () => {
    const w = new World();
    const [a, b] = pair(w);
    const link = w.link(a, b, { latency: "1ms", bandwidth: "8Mbit" });
    // b → a becomes 10× faster with a shorter delay; a → b is untouched.
    link.set({ bandwidth: "80Mbit", latency: "500us" }, b);
    a.send(1000, 1);
    b.send(1000, 2);
    w.runUntilIdle();
    expect(b.received.map((r) => r.timeNs)).toEqual([1e6 + 1e6]);
    expect(a.received.map((r) => r.timeNs)).toEqual([500_000 + 100_000]);
    expect(link.parametersFrom(b)).toEqual({
      latencyNs: 500_000,
      jitterNs: 0,
      bandwidthBps: 8e7,
      queueBytes: 1_514_000,
      lossProbability: 0,
    });
    expect(link.latencyNs).toBe(1e6);
    expect(() => link.set({ loss: 0.5 }, new TestPort("elsewhere", w))).toThrow(
      "link h1-eth0<->h2-eth0: port must be h1-eth0 or h2-eth0, got elsewhere",
    );
  });

  it("drops at once while down, kills frames in flight when going down, and carries again when up", () => {
    const w = new World();
    const [a, b] = pair(w);
    const link = w.link(a, b, { latency: "1ms" });
    a.send(64, 1);
    w.run({ untilNs: 500_000 });
    link.setUp(false);
    expect(a.wire!.carrier).toBe(false);
    expect(a.send(64, 2)).toBe(false);
    w.run({ untilNs: 2e6 });
    link.setUp(true);
    expect(a.send(64, 3)).toBe(true);
    w.runUntilIdle();
    expect(b.received.map((r) => r.first)).toEqual([3]);
    const [ab] = link.stats();
    expect(ab.drops.down).toBe(2);
    expect(ab.txPackets).toBe(3);
    expect(ab.rxPackets).toBe(1);
    expect(a.carrier).toEqual([false, true]);
    expect(b.carrier).toEqual([false, true]);
  });

  it("counts each direction separately and keeps tx = rx + drops + in flight", () => {
    const w = new World({ seed: 5 });
    const [a, b] = pair(w);
    const link = w.link(a, b, { latency: "1ms", bandwidth: "1Mbit", queue: 2000, loss: 0.2 });
    for (let i = 0; i < 50; i++) a.send(500);
    b.send(100);
    const [ab, ba] = link.stats();
    expect(ab.txPackets).toBe(50);
    expect(ab.txBytes).toBe(25_000);
    expect(ab.rxPackets + ab.drops.loss + ab.drops.queue + ab.inFlight).toBe(50);
    expect(ab.drops.loss).toBeGreaterThan(0);
    expect(ab.drops.queue).toBeGreaterThan(0);
    expect(ba.txPackets).toBe(1);
    w.runUntilIdle();
    const [ab2, ba2] = link.stats();
    expect(ab2.inFlight).toBe(0);
    expect(ab2.rxPackets + ab2.drops.loss + ab2.drops.queue).toBe(50);
    expect(ba2.rxPackets).toBe(1);
    expect(ba2.rxBytes).toBe(100);
  });

  it("copies the sender's buffer so the sender may reuse it at once", () => {
    const w = new World();
    const [a, b] = pair(w);
    w.link(a, b, { latency: 10 });
    const f = new Uint8Array(64);
    f[14] = 1;
    a.wire!.transmit(f, 0, 64);
    f[14] = 2;
    a.wire!.transmit(f, 0, 64);
    w.runUntilIdle();
    expect(b.received.map((r) => r.first)).toEqual([1, 2]);
  });

  it("reports tx, rx and drop events to taps with the reason", () => {
    const w = new World();
    const [a, b] = pair(w);
    const link = w.link(a, b, { latency: 5, mtu: 100 });
    const events: string[] = [];
    const untap = link.tap((kind, from, _f, _o, length, t, reason) =>
      events.push(`${t} ${kind} ${from.name} ${length}${reason ? ` ${reason}` : ""}`),
    );
    a.send(64);
    a.send(200);
    w.runUntilIdle();
    untap();
    b.send(64);
    w.runUntilIdle();
    expect(events).toEqual([
      "0 tx h1-eth0 64",
      "0 tx h1-eth0 200",
      "0 drop h1-eth0 200 mtu",
      "5 rx h1-eth0 64",
    ]);
  });

  it("refuses bad parameters, naming the link and the value", () => {
    const w = new World();
    const [a, b] = pair(w);
    expect(() => w.link(a, b, { latency: "-5us" })).toThrow(
      "link h1-eth0<->h2-eth0: latency must be >= 0, got -5us",
    );
    expect(() => w.link(a, b, { loss: 1.5 })).toThrow(
      "link h1-eth0<->h2-eth0: loss must be in [0, 1], got 1.5",
    );
    expect(() => w.link(a, b, { loss: "-1%" })).toThrow(/loss must be in \[0, 1\], got -1%/);
    expect(() => w.link(a, b, { mtu: 0 })).toThrow(
      /mtu must be a whole number in \[68, 65535\], got 0/,
    );
    expect(() => w.link(a, b, { bandwidth: -1 })).toThrow(/bandwidth must be >= 0/);
    expect(() => w.link(a, b, { queue: "-1KB" })).toThrow(/queue must be/);
    expect(() => w.link(a, a)).toThrow(/h1-eth0<->h1-eth0: b must be a different port than a/);
    expect(() => w.link(a, b, { latency: "-5us" })).toThrow(
      expect.objectContaining({ code: "ERR_SIM_INVALID_PARAMETER" }),
    );
    // Nothing was joined by the failed attempts.
    expect(w.linkOf(a)).toBeUndefined();
  });

  it("refuses a port that is already on a link, and accepts it after that link is removed", () => {
    const w = new World();
    const [a, b] = pair(w);
    const c = new TestPort("h3-eth0", w);
    const first = w.link(a, b);
    expect(() => w.link(a, c)).toThrow(
      "link h1-eth0<->h3-eth0: port h1-eth0 is already on link h1-eth0<->h2-eth0; remove that link first",
    );
    first.remove();
    expect(a.wire).toBeNull();
    const second = w.link(a, c);
    expect(w.linkOf(a)).toBe(second);
  });

  it("refuses a bad change at run time and keeps the old parameters", () => {
    const w = new World();
    const [a, b] = pair(w);
    const link = w.link(a, b, { latency: "1ms", loss: 0.1 });
    expect(() => link.set({ latency: "2ms", loss: 2 })).toThrow(/loss/);
    expect(link.latencyNs).toBe(1e6);
    expect(link.lossProbability).toBe(0.1);
  });
});
