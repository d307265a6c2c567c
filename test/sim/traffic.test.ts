import { describe, expect, it } from "vitest";
import { PacketLog } from "../../sim/packet-log.js";
import { TrafficGenerator } from "../../sim/traffic.js";
import { World } from "../../sim/world.js";

function setup(seed: number, link: Parameters<World["link"]>[2]) {
  const world = new World({ seed });
  const h1 = world.endpoint("h1", { vnics: [{ ipv4: "10.0.0.1/24" }] });
  const h2 = world.endpoint("h2", { vnics: [{ ipv4: "10.0.0.2/24" }] });
  const l = world.link(h1.vnics[0], h2.vnics[0], link);
  return { world, h1, h2, link: l };
}

describe("traffic generator", () => {
  it("measures a bandwidth-limited link's throughput within 1 % of its rate", () => {
    const { world, h1, h2, link } = setup(1, {
      latency: "1ms",
      bandwidth: "10Mbit",
      queue: "100KB",
    });
    h1.ping("10.0.0.2", { count: 1 });
    world.runUntilIdle();
    // Offer 12 Mbit/s for 2 s: the queue fills and overflows.
    const gen = new TrafficGenerator(world, [
      { from: h1, to: h2, dst: "10.0.0.2", size: 1000, rate: "12Mbit", duration: "2s" },
    ]);
    world.runUntilIdle();
    const [r] = gen.report();
    // Frames carry 1000 + 42 bytes; the link carries 10 Mbit/s of them.
    expect(Math.abs(r.frameBps - 1e7) / 1e7).toBeLessThan(0.01);
    expect(Math.abs(r.throughputBps - (1e7 * 1000) / 1042) / 1e7).toBeLessThan(0.01);
    expect(r.lost).toBeGreaterThan(0);
    expect(link.stats()[0].drops.queue).toBe(r.lost);
  });

  it("delivers every datagram of a flow below the link's rate with latency = latency + serialisation", () => {
    const { world, h1, h2 } = setup(1, { latency: "2ms", bandwidth: "100Mbit" });
    world.run({ untilNs: 50e6 });
    // Warm ARP so the first datagram does not wait.
    h1.ping("10.0.0.2", { count: 1 });
    world.runUntilIdle();
    const gen = new TrafficGenerator(world, [
      {
        from: h1,
        to: h2,
        dst: "10.0.0.2",
        dstPort: 6000,
        srcPort: 7000,
        size: 458,
        rate: "10Mbit",
        duration: "100ms",
      },
    ]);
    world.runUntilIdle();
    const [r] = gen.report();
    expect(r.sent).toBe(273);
    expect(r.received).toBe(273);
    expect(r.loss).toBe(0);
    // 458 + 42 = 500 bytes = 40 us at 100 Mbit/s.
    expect(r.latencyMinNs).toBe(2_040_000);
    expect(r.latencyMaxNs).toBe(2_040_000);
    expect(r.jitterNs).toBe(0);
  });

  it("sends bursts back to back and shows the queueing in latency", () => {
    const { world, h1, h2 } = setup(1, { latency: "1ms", bandwidth: "8Mbit" });
    h1.ping("10.0.0.2", { count: 1 });
    world.runUntilIdle();
    const gen = new TrafficGenerator(world, [
      {
        from: h1,
        to: h2,
        dst: "10.0.0.2",
        size: 958,
        burst: { packets: 5, interval: "100ms" },
        duration: "250ms",
      },
    ]);
    world.runUntilIdle();
    const [r] = gen.report();
    expect(r.sent).toBe(15);
    expect(r.received).toBe(15);
    // 1000-byte frames at 8 Mbit/s: 1 ms each; the fifth of a burst waits for four.
    expect(r.latencyMinNs).toBe(2e6);
    expect(r.latencyMaxNs).toBe(6e6);
  });

  it("runs flows over IPv6 and in both directions at once", () => {
    const world = new World();
    const h1 = world.endpoint("h1", { vnics: [{ ipv6: "fd00::1/64" }] });
    const h2 = world.endpoint("h2", { vnics: [{ ipv6: "fd00::2/64" }] });
    world.link(h1.vnics[0], h2.vnics[0], { latency: "1ms", bandwidth: "1Gbps" });
    const gen = new TrafficGenerator(world, [
      {
        from: h1,
        to: h2,
        dst: "fd00::2",
        size: 512,
        rate: "50Mbit",
        duration: "100ms",
        start: "10ms",
      },
      {
        from: h2,
        to: h1,
        dst: "fd00::1",
        size: 64,
        rate: "5Mbit",
        duration: "100ms",
        start: "10ms",
      },
    ]);
    world.runUntilIdle();
    const [up, down] = gen.report();
    // Datagrams sent while Neighbor Discovery was pending wait in the hold queue (101
    // deep, as Linux's unres_qlen) and go out on resolution: nothing is lost, but the
    // first ones arrive late.
    expect(up.lost).toBe(0);
    expect(down.lost).toBe(0);
    expect(up.latencyMaxNs).toBeGreaterThan(up.latencyMinNs + 900_000);
    expect(up.sent).toBe(Math.ceil((0.1 * 50e6) / (512 * 8)));
    expect(up.outOfOrder).toBe(0);
  });

  it("refuses a flow with both or neither of rate and burst, naming it", () => {
    const { world, h1, h2 } = setup(1, {});
    expect(
      () => new TrafficGenerator(world, [{ name: "x", from: h1, to: h2, dst: "10.0.0.2" }]),
    ).toThrow(/traffic flow x: rate\/burst must be exactly one of rate or burst/);
    expect(
      () =>
        new TrafficGenerator(world, [
          { from: h1, to: h2, dst: "10.0.0.2", rate: "1Mbit", size: 4 },
        ]),
    ).toThrow(/traffic flow flow0: size must be a whole number in \[16, 65000\], got 4/);
  });
});

describe("determinism", () => {
  function run(seed: number): { log: string[]; lost: number } {
    const { world, h1, h2, link } = setup(seed, {
      latency: "1ms",
      bandwidth: "20Mbit",
      loss: "5%",
      queue: "20KB",
    });
    const log = new PacketLog([link]);
    const gen = new TrafficGenerator(world, [
      { from: h1, to: h2, dst: "10.0.0.2", size: 1200, rate: "25Mbit", duration: "200ms" },
      {
        from: h2,
        to: h1,
        dst: "10.0.0.1",
        size: 200,
        burst: { packets: 3, interval: "7ms" },
        duration: "200ms",
      },
    ]);
    const ping = h1.ping("10.0.0.2", { count: 20, intervalMs: 10 });
    world.runUntilIdle();
    log.close();
    return {
      log: log.lines,
      lost: gen.report()[0].lost + ping.result.transmitted - ping.result.received,
    };
  }

  it("gives an identical packet log for the same seed", () => {
    const a = run(42);
    const b = run(42);
    expect(a.log.length).toBeGreaterThan(500);
    expect(b.log).toEqual(a.log);
  });

  it("gives a different loss pattern for a different seed", () => {
    const a = run(42).log.filter((l) => l.includes(" drop loss "));
    const b = run(43).log.filter((l) => l.includes(" drop loss "));
    expect(a.length).toBeGreaterThan(0);
    expect(b).not.toEqual(a);
  });
});
