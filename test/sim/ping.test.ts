import { describe, expect, it } from "vitest";
import { formatPing } from "../../sim/ping.js";
import { World } from "../../sim/world.js";

function twoHosts(seed = 1, link: Parameters<World["link"]>[2] = { latency: "10ms" }) {
  const world = new World({ seed });
  const h1 = world.endpoint("h1", { vnics: [{ ipv4: "10.0.0.1/24", ipv6: "fd00::1/64" }] });
  const h2 = world.endpoint("h2", { vnics: [{ ipv4: "10.0.0.2/24", ipv6: "fd00::2/64" }] });
  const l = world.link(h1.vnics[0], h2.vnics[0], link);
  return { world, h1, h2, link: l };
}

describe("ping between two endpoints on one link", () => {
  it("resolves ARP first, then gets every echo back with RTT = 2 × latency", () => {
    const { world, h1, h2 } = twoHosts(1, { latency: "10ms" });
    // Let the gratuitous ARPs pass first (a stranger's is not cached): h1 must ask for h2.
    world.run({ untilNs: 100e6 });
    const p = h1.ping("10.0.0.2", { count: 3, intervalMs: 1000 });
    world.runUntilIdle();
    const r = p.result;
    expect(p.done).toBe(true);
    expect(r.transmitted).toBe(3);
    expect(r.received).toBe(3);
    expect(r.loss).toBe(0);
    // First echo waits for ARP request + reply: 2 × 10 ms, then the echo round trip.
    expect(r.replies.map((x) => x.rttNs)).toEqual([40e6, 20e6, 20e6]);
    expect(r.rttMinNs).toBe(20e6);
    expect(r.rttMaxNs).toBe(40e6);
    expect(r.replies[1].ttl).toBe(64);
    expect(h1.counters.ArpOutRequests).toBeGreaterThanOrEqual(1);
    expect(h2.counters.ArpOutReplies).toBe(1);
    expect(h2.counters.IcmpOutEchoReps).toBe(3);
    expect(h1.neighbors().find((n) => n.address === "10.0.0.2")?.state).toBe("REACHABLE");
    expect(formatPing(r)).toEqual([
      "PING 10.0.0.2 (10.0.0.2) 56(84) bytes of data.",
      "64 bytes from 10.0.0.2: icmp_seq=1 ttl=64 time=40.0 ms",
      "64 bytes from 10.0.0.2: icmp_seq=2 ttl=64 time=20.0 ms",
      "64 bytes from 10.0.0.2: icmp_seq=3 ttl=64 time=20.0 ms",
      "",
      "--- 10.0.0.2 ping statistics ---",
      "3 packets transmitted, 3 received, 0% packet loss, time 2020ms",
      "rtt min/avg/max/mdev = 20.000/26.666/40.000/9.429 ms",
    ]);
  });

  it("includes serialisation delay of both frames when the link is bandwidth limited", () => {
    const { world, h1 } = twoHosts(1, { latency: "1ms", bandwidth: "1Mbit" });
    const p = h1.ping("10.0.0.2", { count: 2, size: 56 });
    world.runUntilIdle();
    // 56 data + 8 ICMP + 20 IPv4 + 14 Ethernet = 98 bytes = 784 us at 1 Mbit/s, each way.
    expect(p.result.replies[1].rttNs).toBe(2 * (1e6 + 784_000));
  });

  it("sends the first echo as soon as the peer's gratuitous ARP arrives while ARP is pending", () => {
    const { world, h1 } = twoHosts(1, { latency: "10ms" });
    // At t=0 h1 asks for h2 while h2 announces itself; the announcement (t=10ms) answers
    // the pending entry first, as Linux's neighbour code does with any ARP from it.
    const p = h1.ping("10.0.0.2", { count: 1 });
    world.runUntilIdle();
    expect(p.result.replies.map((x) => x.rttNs)).toEqual([30e6]);
  });

  it("pings over IPv6 after Neighbor Discovery", () => {
    const { world, h1, h2 } = twoHosts(1, { latency: "5ms" });
    world.run({ untilNs: 100e6 });
    const p = h1.ping("fd00::2", { count: 2 });
    world.runUntilIdle();
    expect(p.result.received).toBe(2);
    expect(p.result.replies.map((x) => x.rttNs)).toEqual([20e6, 10e6]);
    expect(h1.counters.NdOutSolicits).toBe(1);
    expect(h2.counters.NdInSolicits).toBe(1);
    expect(h1.neighbors().find((n) => n.address === "fd00::2")?.mac).toBe("02:00:00:00:00:02");
  });

  it("changes the RTT when the link's delay changes mid-run", () => {
    const { world, h1, link } = twoHosts(1, { latency: "10ms" });
    world.run({ untilNs: 100e6 });
    const p = h1.ping("10.0.0.2", { count: 4, intervalMs: 1000 });
    world.scheduler.schedule(1_500_000_000, () => link.set({ latency: "30ms" }));
    world.runUntilIdle();
    expect(p.result.replies.map((x) => x.rttNs)).toEqual([40e6, 20e6, 60e6, 60e6]);
  });

  it("reports Destination Host Unreachable when nobody answers ARP", () => {
    const world = new World();
    const h1 = world.endpoint("h1", { vnics: [{ ipv4: "10.0.0.1/24" }] });
    const h2 = world.endpoint("h2", { vnics: [{ ipv4: "10.0.0.2/24" }] });
    world.link(h1.vnics[0], h2.vnics[0], { latency: "1ms" });
    // ARP gives up after 3 solicitations 1 s apart; ping lingers long enough to hear it.
    const p = h1.ping("10.0.0.9", { count: 1, timeoutMs: 5000 });
    world.runUntilIdle();
    expect(p.result.received).toBe(0);
    expect(p.result.loss).toBe(1);
    expect(p.result.errors).toEqual([{ seq: 1, type: 3, code: 1, from: "10.0.0.1" }]);
    expect(formatPing(p.result)[1]).toBe("From 10.0.0.1 icmp_seq=1 Destination Host Unreachable");
    expect(h1.counters.ArpOutRequests).toBe(1 + 3); // gratuitous + 3 solicitations
    expect(h1.counters.NeighUnresolved).toBe(1);
  });

  it("loses echoes on a lossy link in a pattern fixed by the seed", () => {
    const lostSeqs = (seed: number): number[] => {
      const { world, h1 } = twoHosts(seed, { latency: "1ms", loss: "20%" });
      // Warm ARP up through a lossless interval first so only echoes are at stake.
      const p = h1.ping("10.0.0.2", { count: 200, intervalMs: 10 });
      world.runUntilIdle();
      const got = new Set(p.result.replies.map((r) => r.seq));
      return Array.from({ length: 200 }, (_, i) => i + 1).filter((s) => !got.has(s));
    };
    const a = lostSeqs(11);
    // Each echo survives two 20 % draws: ~36 % lost.
    expect(a.length).toBeGreaterThan(40);
    expect(a.length).toBeLessThan(110);
    expect(lostSeqs(11)).toEqual(a);
    expect(lostSeqs(12)).not.toEqual(a);
  });

  it("answers a ping to its own address at once, without touching the link", () => {
    const { world, h1, link } = twoHosts(1, { latency: "10ms" });
    world.runUntilIdle();
    const before = link.stats()[0].txPackets;
    const p4 = h1.ping("10.0.0.1", { count: 2, intervalMs: 10 });
    const p6 = h1.ping("fd00::1", { count: 1 });
    world.runUntilIdle();
    expect(p4.result.replies.map((r) => r.rttNs)).toEqual([0, 0]);
    expect(p6.result.received).toBe(1);
    expect(link.stats()[0].txPackets).toBe(before);
  });

  it("refuses a target that is not an address, naming the endpoint", () => {
    const { h1 } = twoHosts();
    expect(() => h1.ping("10.0.0.300")).toThrow(
      'endpoint h1: ping target "10.0.0.300" is not an IPv4 or IPv6 address',
    );
    expect(() => h1.ping("10.0.0.2", { count: 0 })).toThrow(
      /count must be a whole number in \[1, 65535\], got 0/,
    );
  });
});
