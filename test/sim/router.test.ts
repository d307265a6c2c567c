import { describe, expect, it } from "vitest";
import { formatPing } from "../../sim/ping.js";
import { formatTraceroute } from "../../sim/traceroute.js";
import { World } from "../../sim/world.js";

/** h1 (10.0.1.0/24) — r1 — r2 — h2 (10.0.3.0/24), 1 ms per link. */
function chain() {
  const world = new World();
  const h1 = world.endpoint("h1", {
    vnics: [
      { ipv4: "10.0.1.10/24", gateway4: "10.0.1.1", ipv6: "fd01::10/64", gateway6: "fd01::1" },
    ],
  });
  const r1 = world.endpoint("r1", {
    ipForward: true,
    vnics: [
      { ipv4: "10.0.1.1/24", ipv6: "fd01::1/64" },
      { ipv4: "10.0.2.1/24", ipv6: "fd02::1/64", mtu: 1400 },
    ],
  });
  const r2 = world.endpoint("r2", {
    ipForward: true,
    vnics: [
      { ipv4: "10.0.2.2/24", ipv6: "fd02::2/64", mtu: 1400 },
      { ipv4: "10.0.3.1/24", ipv6: "fd03::1/64" },
    ],
  });
  const h2 = world.endpoint("h2", {
    vnics: [
      { ipv4: "10.0.3.10/24", gateway4: "10.0.3.1", ipv6: "fd03::10/64", gateway6: "fd03::1" },
    ],
  });
  r1.addRoute("10.0.3.0/24", { via: "10.0.2.2" });
  r1.addRoute("fd03::/64", { via: "fd02::2" });
  r2.addRoute("10.0.1.0/24", { via: "10.0.2.1" });
  r2.addRoute("fd01::/64", { via: "fd02::1" });
  world.link(h1.vnics[0], r1.vnics[0], { latency: "1ms" });
  world.link(r1.vnics[1], r2.vnics[0], { latency: "1ms", mtu: 1400 });
  world.link(r2.vnics[1], h2.vnics[0], { latency: "1ms" });
  world.run({ untilNs: 100e6 });
  return { world, h1, r1, r2, h2 };
}

describe("routing through endpoints that forward", () => {
  it("lists connected, static and default routes as ip route does", () => {
    const { h1, r1 } = chain();
    expect(h1.routeTable()).toEqual([
      "10.0.1.0/24 dev h1-eth0",
      "default via 10.0.1.1 dev h1-eth0",
      "fd01::/64 dev h1-eth0 (ipv6)",
      "default via fd01::1 dev h1-eth0 (ipv6)",
    ]);
    expect(r1.routeTable()).toContain("10.0.3.0/24 via 10.0.2.2 dev r1-eth1");
  });

  it("pings across two routers with the TTL decremented twice", () => {
    const { world, h1, r1 } = chain();
    const p4 = h1.ping("10.0.3.10", { count: 2 });
    const p6 = h1.ping("fd03::10", { count: 2 });
    world.runUntilIdle();
    expect(p4.result.received).toBe(2);
    expect(p4.result.replies[1]).toEqual({ seq: 2, rttNs: 6e6, ttl: 62 });
    expect(p6.result.received).toBe(2);
    expect(p6.result.replies[1].ttl).toBe(62);
    expect(r1.counters.IpForwDatagrams).toBeGreaterThanOrEqual(8);
  });

  it("traces the route hop by hop with ICMP Time Exceeded, then Port Unreachable", () => {
    const { world, h1 } = chain();
    const t = h1.traceroute("10.0.3.10", { probes: 2, waitMs: 1000 });
    world.runUntilIdle();
    expect(t.done).toBe(true);
    expect(t.result.reached).toBe(true);
    expect(t.result.hops.map((h) => h.probes.map((p) => p?.from))).toEqual([
      ["10.0.1.1", "10.0.1.1"],
      ["10.0.2.2", "10.0.2.2"],
      ["10.0.3.10", "10.0.3.10"],
    ]);
    // Three links each way, plus r2 asking ARP for h2 (a stranger's announcement is not cached).
    expect(t.result.hops[2].probes[1]?.rttNs).toBe(8e6);
    expect(formatTraceroute(t.result)).toEqual([
      "traceroute to 10.0.3.10 (10.0.3.10), 30 hops max, 60 byte packets",
      // Each hop's first answer includes one ARP exchange (2 ms) somewhere on the path.
      " 1  10.0.1.1 (10.0.1.1)  4.000 ms  4.000 ms",
      " 2  10.0.2.2 (10.0.2.2)  6.000 ms  6.000 ms",
      " 3  10.0.3.10 (10.0.3.10)  8.000 ms  8.000 ms",
    ]);
  });

  it("traces an IPv6 route", () => {
    const { world, h1 } = chain();
    const t = h1.traceroute("fd03::10", { probes: 1 });
    world.runUntilIdle();
    expect(t.result.hops.map((h) => h.probes[0]?.from)).toEqual(["fd01::1", "fd02::2", "fd03::10"]);
  });

  it("reports Time to live exceeded to a ping whose TTL runs out", () => {
    const { world, h1 } = chain();
    const p = h1.ping("10.0.3.10", { count: 1, ttl: 2 });
    world.runUntilIdle();
    expect(p.result.received).toBe(0);
    expect(p.result.errors).toEqual([{ seq: 1, type: 11, code: 0, from: "10.0.2.2" }]);
    expect(formatPing(p.result)).toEqual([
      "PING 10.0.3.10 (10.0.3.10) 56(84) bytes of data.",
      "From 10.0.2.2 icmp_seq=1 Time to live exceeded",
      "",
      "--- 10.0.3.10 ping statistics ---",
      "1 packets transmitted, 0 received, +1 errors, 100% packet loss, time 2000ms",
    ]);
  });

  it("answers a packet too big for the next link with Fragmentation Needed / Packet Too Big", () => {
    const { world, h1, r1 } = chain();
    const p4 = h1.ping("10.0.3.10", { count: 1, size: 1400 });
    const p6 = h1.ping("fd03::10", { count: 1, size: 1400 });
    world.runUntilIdle();
    expect(p4.result.errors).toEqual([{ seq: 1, type: 3, code: 4, from: "10.0.1.1", mtu: 1400 }]);
    expect(p6.result.errors).toEqual([{ seq: 1, type: 2, code: 0, from: "fd01::1", mtu: 1400 }]);
    expect(formatPing(p4.result)[1]).toBe(
      "From 10.0.1.1 icmp_seq=1 Frag needed and DF set (mtu = 1400)",
    );
    expect(formatPing(p6.result)[1]).toBe("From fd01::1 icmp_seq=1 Packet too big: mtu=1400");
    expect(r1.counters.IpFragFails).toBe(2);
  });

  it("drops packets for other hosts when not forwarding, and counts them", () => {
    const world = new World();
    const h1 = world.endpoint("h1", { vnics: [{ ipv4: "10.0.0.1/24" }] });
    const h2 = world.endpoint("h2", { vnics: [{ ipv4: "10.0.0.2/24" }] });
    world.link(h1.vnics[0], h2.vnics[0], { latency: "1ms" });
    h1.addRoute("10.9.0.0/16", { via: "10.0.0.2" });
    const p = h1.ping("10.9.0.1", { count: 1 });
    world.runUntilIdle();
    expect(p.result.received).toBe(0);
    expect(p.result.errors).toEqual([]);
    expect(h2.counters.IpInAddrErrors).toBe(1);
    expect(h2.counters.IpForwDatagrams).toBe(0);
  });

  it("refuses a route that does not parse or has no way out, naming the endpoint", () => {
    const { h1 } = chain();
    expect(() => h1.addRoute("10.0.0.0", {})).toThrow(
      /endpoint h1: route "10.0.0.0" is not a prefix/,
    );
    expect(() => h1.addRoute("10.5.0.0/16", { via: "192.168.1.1" })).toThrow(
      /has no vNIC to leave by/,
    );
    expect(() => h1.addRoute("10.5.0.0/16", { via: "fd01::1" })).toThrow(/is not an IPv4 address/);
  });
});
