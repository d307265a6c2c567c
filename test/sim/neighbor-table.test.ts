import { describe, expect, it } from "vitest";
import { World } from "../../sim/world.js";

function pair(
  neighbor: {
    reachableMs?: number;
    retransMs?: number;
    maxSolicit?: number;
    maxPending?: number;
  } = {},
) {
  const world = new World();
  const h1 = world.endpoint("h1", {
    vnics: [{ ipv4: "10.0.0.1/24" }],
    neighbor,
    gratuitousArp: false,
  });
  const h2 = world.endpoint("h2", {
    vnics: [{ ipv4: "10.0.0.2/24" }],
    neighbor,
    gratuitousArp: false,
  });
  const link = world.link(h1.vnics[0], h2.vnics[0], { latency: "1ms" });
  return { world, h1, h2, link };
}

describe("neighbour table (ARP cache)", () => {
  it("resolves once and reuses the entry while it is reachable", () => {
    const { world, h1 } = pair();
    const p = h1.ping("10.0.0.2", { count: 5, intervalMs: 100 });
    world.runUntilIdle();
    expect(p.result.received).toBe(5);
    expect(h1.counters.ArpOutRequests).toBe(1);
  });

  it("asks again once the entry has aged past its reachable time", () => {
    const { world, h1 } = pair({ reachableMs: 1500 });
    const p = h1.ping("10.0.0.2", { count: 3, intervalMs: 1000 });
    world.runUntilIdle();
    // Echo 1 resolves at t≈2ms; echo 2 at 1s still fresh; echo 3 at 2s is stale.
    expect(h1.counters.ArpOutRequests).toBe(2);
    expect(p.result.replies.map((r) => r.rttNs)).toEqual([4e6, 2e6, 4e6]);
  });

  it("retries maxSolicit times retransMs apart, then drops the held frames", () => {
    const { world, h1, link } = pair({ retransMs: 200, maxSolicit: 5 });
    link.setUp(false);
    const p = h1.ping("10.0.0.2", { count: 1, timeoutMs: 5000 });
    world.runUntilIdle();
    expect(h1.counters.ArpOutRequests).toBe(5);
    expect(p.result.errors.map((e) => e.type)).toEqual([3]);
    expect(h1.counters.NeighUnresolved).toBe(1);
    expect(h1.neighbors()).toEqual([]);
  });

  it("holds at most maxPending frames per unresolved neighbour, dropping the oldest", () => {
    const { world, h1, h2 } = pair({ maxPending: 2 });
    const server = h2.udpSocket().bind(9);
    const got: number[] = [];
    server.onMessage = (d, o) => got.push(d[o]);
    const c = h1.udpSocket();
    for (let i = 1; i <= 4; i++) c.sendTo(Uint8Array.of(i), "10.0.0.2", 9);
    world.runUntilIdle();
    expect(got).toEqual([3, 4]);
  });

  it("learns the sender of a request addressed to it, so the reply needs no ARP", () => {
    const { world, h1, h2 } = pair();
    h1.ping("10.0.0.2", { count: 1 });
    world.runUntilIdle();
    expect(h2.counters.ArpOutRequests).toBe(0);
    expect(h2.neighbors()).toEqual([
      { vnic: "h2-eth0", address: "10.0.0.1", mac: "02:00:00:00:00:01", state: "REACHABLE" },
    ]);
  });

  it("ignores a stranger's gratuitous ARP and forgets everything when the link goes down", () => {
    const world = new World();
    const h1 = world.endpoint("h1", { vnics: [{ ipv4: "10.0.0.1/24" }] });
    const h2 = world.endpoint("h2", { vnics: [{ ipv4: "10.0.0.2/24" }] });
    const link = world.link(h1.vnics[0], h2.vnics[0], { latency: "1ms" });
    world.runUntilIdle();
    expect(h1.counters.ArpInRequests).toBe(1);
    expect(h1.neighbors()).toEqual([]);
    h1.ping("10.0.0.2", { count: 1 });
    world.runUntilIdle();
    expect(h1.neighbors().map((n) => n.state)).toEqual(["REACHABLE"]);
    link.setUp(false);
    expect(h1.neighbors()).toEqual([]);
    // Back up: each side announces itself again.
    link.setUp(true);
    world.runUntilIdle();
    expect(h2.counters.ArpOutRequests).toBe(2);
  });
});
