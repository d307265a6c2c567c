import { describe, expect, it } from "vitest";
import { World } from "../../sim/world.js";

function pair(ipv4a = "10.0.0.1/24", ipv4b = "10.0.0.2/24") {
  const world = new World();
  const h1 = world.endpoint("h1", { vnics: [{ ipv4: ipv4a, ipv6: "fd00::1/64" }] });
  const h2 = world.endpoint("h2", { vnics: [{ ipv4: ipv4b, ipv6: "fd00::2/64" }] });
  world.link(h1.vnics[0], h2.vnics[0], { latency: "100us" });
  return { world, h1, h2 };
}

describe("UDP sockets", () => {
  it("carries a datagram from a bound port to a bound port with its source address", () => {
    const { world, h1, h2 } = pair();
    const server = h2.udpSocket().bind(9000);
    const got: string[] = [];
    server.onMessage = (data, off, len, from) =>
      got.push(
        `${new TextDecoder().decode(data.subarray(off, off + len))} from ${from.address.words[0].toString(16)}:${from.port}`,
      );
    const client = h1.udpSocket().bind(4000);
    expect(client.sendTo(new TextEncoder().encode("hello"), "10.0.0.2", 9000)).toBe(true);
    world.runUntilIdle();
    expect(got).toEqual(["hello from a000001:4000"]);
    expect(h2.counters.UdpInDatagrams).toBe(1);
  });

  it("carries datagrams over IPv6 with a verified checksum", () => {
    const { world, h1, h2 } = pair();
    const server = h2.udpSocket().bind(9000);
    const lens: number[] = [];
    server.onMessage = (_d, _o, len, from) => {
      expect(from.address.v6).toBe(true);
      lens.push(len);
    };
    h1.udpSocket().sendTo(new Uint8Array(300), "fd00::2", 9000);
    world.runUntilIdle();
    expect(lens).toEqual([300]);
    expect(h2.counters.UdpInCsumErrors).toBe(0);
  });

  it("picks an ephemeral port from 32768 when sending unbound", () => {
    const { world, h1, h2 } = pair();
    const ports: number[] = [];
    h2.udpSocket().bind(53).onMessage = (_d, _o, _l, from) => ports.push(from.port);
    const c = h1.udpSocket();
    c.sendTo(new Uint8Array(1), "10.0.0.2", 53);
    world.runUntilIdle();
    expect(c.port).toBe(32768);
    expect(ports).toEqual([32768]);
  });

  it("answers a datagram to a closed port with ICMP port unreachable, reported to the sender", () => {
    const { world, h1, h2 } = pair();
    const c = h1.udpSocket().bind(5000);
    const errors: string[] = [];
    c.onError = (e) => errors.push(`type ${e.type} code ${e.code} port ${e.dstPort}`);
    c.sendTo(new Uint8Array(10), "10.0.0.2", 7777);
    world.runUntilIdle();
    expect(h2.counters.UdpNoPorts).toBe(1);
    expect(h2.counters.IcmpOutDestUnreachs).toBe(1);
    expect(errors).toEqual(["type 3 code 3 port 7777"]);
  });

  it("rate-limits port unreachables per destination as Linux does: a burst of 6, then 1 per second", () => {
    const { world, h1, h2 } = pair();
    const c = h1.udpSocket().bind(5000);
    let errors = 0;
    c.onError = () => errors++;
    for (let i = 0; i < 20; i++)
      world.scheduler.schedule(i * 10e6, () => c.sendTo(new Uint8Array(1), "10.0.0.2", 9));
    world.runUntilIdle();
    expect(errors).toBe(6);
    expect(h2.counters.UdpNoPorts).toBe(20);
    expect(h2.counters.IcmpOutRateLimitHost).toBe(14);
    // 1.2 s later a token has come back (one every second, the burst refills over 6 s).
    world.run({ untilNs: world.nowNs() + 1.2e9 });
    c.sendTo(new Uint8Array(1), "10.0.0.2", 9);
    c.sendTo(new Uint8Array(1), "10.0.0.2", 9);
    world.runUntilIdle();
    expect(errors).toBe(7);
  });

  it("drops a datagram whose UDP checksum is wrong and counts it", () => {
    const { world, h1, h2 } = pair();
    const server = h2.udpSocket().bind(9000);
    let n = 0;
    server.onMessage = () => n++;
    // Corrupt one payload byte in flight, keeping IP's header checksum valid.
    const link = world.linkOf(h1.vnics[0])!;
    const inner = h2.vnics[0];
    const receive = inner.receive.bind(inner);
    inner.receive = (f, o, l) => {
      // IPv4 carrying UDP: flip the first payload byte (after 14 + 20 + 8 header bytes).
      if (f[o + 12] === 0x08 && f[o + 13] === 0x00 && f[o + 23] === 17) f[o + 42] ^= 0xff;
      receive(f, o, l);
    };
    h1.udpSocket().sendTo(Uint8Array.of(1, 2, 3, 4), "10.0.0.2", 9000);
    world.runUntilIdle();
    expect(link.stats()[0].rxPackets).toBeGreaterThan(0);
    expect(n).toBe(0);
    expect(h2.counters.UdpInCsumErrors).toBe(1);
  });

  it("refuses a port that is taken, naming the endpoint", () => {
    const { h1 } = pair();
    h1.udpSocket().bind(53);
    expect(() => h1.udpSocket().bind(53)).toThrow(
      "endpoint h1: UDP port 53 is already bound; close that socket or bind another port",
    );
    expect(() => h1.udpSocket().sendTo(new Uint8Array(1), "nowhere", 1)).toThrow(
      /is not an IP address/,
    );
  });

  it("frees the port on close", () => {
    const { h1 } = pair();
    const s = h1.udpSocket().bind(53);
    s.close();
    expect(h1.udpSocket().bind(53).port).toBe(53);
  });
});
