import { describe, expect, it } from "vitest";
import { encodeIpv4, encodeUdp, fillUdpChecksumIpv4 } from "../../packet/index.js";
import { RAW_TX } from "../../sim/endpoint.js";
import { InvalidParameterError } from "../../sim/errors.js";
import { World } from "../../sim/world.js";

const A = 0x0a000001; // 10.0.0.1
const B = 0x0a000002; // 10.0.0.2

function pair(mtu?: number) {
  const world = new World({ seed: 3 });
  const a = world.endpoint("a", { vnics: [{ ipv4: "10.0.0.1/24", mtu }] });
  const b = world.endpoint("b", { vnics: [{ ipv4: "10.0.0.2/24" }] });
  world.link(a.vnics[0]!, b.vnics[0]!, { latency: "10us" });
  world.runUntilIdle();
  return { world, a, b };
}

/** An IPv4 datagram of protocol `proto` with `payload` bytes of 0xab. */
function ipPacket(
  proto: number,
  src: number,
  dst: number,
  payload: number,
  ttl = 7,
  tos = 0x28,
): Uint8Array {
  const b = new Uint8Array(20 + payload).fill(0xab);
  encodeIpv4({ protocol: proto, src, dst, ttl, tos, totalLength: b.length, df: true, id: 9 }, b);
  return b;
}

/** A UDP datagram from `sport` to `dport` with a valid checksum. */
function udpPacket(sport: number, dport: number, payload: number, ttl = 9): Uint8Array {
  const b = ipPacket(17, A, B, 8 + payload, ttl, 0x10);
  encodeUdp({ srcPort: sport, dstPort: dport, length: 8 + payload }, b, 20);
  fillUdpChecksumIpv4(b, 20, 8 + payload, A, B);
  return b;
}

describe("sending a raw IPv4 datagram", () => {
  it("delivers the caller's bytes unchanged to the peer's protocol handler after ARP", () => {
    const { world, a, b } = pair();
    const got: Uint8Array[] = [];
    b.onIpProtocol(47, (p, o, l, vnic) => {
      expect(vnic).toBe(b.vnics[0]);
      got.push(p.slice(o, o + l));
      return true;
    });
    const pkt = ipPacket(47, A, B, 40);
    expect(a.sendIpv4Raw(pkt, 0, pkt.length)).toBe(RAW_TX.SENT);
    expect(got).toHaveLength(0);
    world.runUntilIdle();
    expect(got).toEqual([pkt]);
    expect(a.neighbors().some((n) => n.address === "10.0.0.2" && n.mac !== null)).toBe(true);
    expect(b.counters.IpInUnknownProtos).toBe(0);
    expect(a.counters.IpOutRequests).toBe(1);
  });

  it("leaves an unhooked protocol to the stack, which answers protocol unreachable", () => {
    const { world, a, b } = pair();
    const pkt = ipPacket(47, A, B, 40);
    a.sendIpv4Raw(pkt, 0, pkt.length);
    world.runUntilIdle();
    expect(b.counters.IpInUnknownProtos).toBe(1);
    expect(b.counters.IcmpOutDestUnreachs).toBe(1);
    expect(a.counters.IcmpInDestUnreachs).toBe(1);
  });

  it("lets a handler that returns false fall through to the stack", () => {
    const { world, a, b } = pair();
    let seen = 0;
    b.onIpProtocol(47, () => {
      seen++;
      return false;
    });
    const pkt = ipPacket(47, A, B, 40);
    a.sendIpv4Raw(pkt, 0, pkt.length);
    world.runUntilIdle();
    expect(seen).toBe(1);
    expect(b.counters.IpInUnknownProtos).toBe(1);
    b.onIpProtocol(47, null);
    a.sendIpv4Raw(pkt, 0, pkt.length);
    world.runUntilIdle();
    expect(seen).toBe(1);
  });

  it("counts a datagram without a route, over the MTU, or with a bad header, and sends none", () => {
    const { world, a, b } = pair(576);
    let seen = 0;
    b.onIpProtocol(47, () => ++seen > 0);
    const far = ipPacket(47, A, 0x0b000001, 40);
    expect(a.sendIpv4Raw(far, 0, far.length)).toBe(RAW_TX.NO_ROUTE);
    expect(a.counters.IpOutNoRoutes).toBe(1);
    const big = ipPacket(47, A, B, 600);
    expect(a.sendIpv4Raw(big, 0, big.length)).toBe(RAW_TX.DEVICE_DROP);
    expect(a.counters.IpFragFails).toBe(1);
    const bad = ipPacket(47, A, B, 40);
    bad[0] = 0x65;
    expect(a.sendIpv4Raw(bad, 0, bad.length)).toBe(RAW_TX.MALFORMED);
    const short = ipPacket(47, A, B, 40);
    expect(a.sendIpv4Raw(short, 0, short.length - 1)).toBe(RAW_TX.MALFORMED);
    expect(a.counters.IpOutDiscards).toBe(2);
    world.runUntilIdle();
    expect(seen).toBe(0);
  });

  it("loops a datagram to one of our own addresses back through the scheduler", () => {
    const { world, a } = pair();
    let seen = 0;
    a.onIpProtocol(47, () => ++seen > 0);
    const self = ipPacket(47, A, A, 20);
    expect(a.sendIpv4Raw(self, 0, self.length)).toBe(RAW_TX.SENT);
    expect(seen).toBe(0);
    world.runUntilIdle();
    expect(seen).toBe(1);
  });

  it("refuses to hook ICMP or a protocol number out of range, naming the endpoint", () => {
    const { a } = pair();
    expect(() => a.onIpProtocol(1, () => true)).toThrow(InvalidParameterError);
    expect(() => a.onIpProtocol(256, () => true)).toThrow(/endpoint a/);
    expect(() => a.onUdpPort(0, () => true)).toThrow(InvalidParameterError);
  });
});

describe("a UDP port hook", () => {
  it("gets the whole IP packet with the sender's source port, TTL and TOS", () => {
    const { world, a, b } = pair();
    const got: Uint8Array[] = [];
    b.onUdpPort(4789, (p, o, l) => {
      got.push(p.slice(o, o + l));
      return true;
    });
    const pkt = udpPacket(54321, 4789, 30, 33);
    a.sendIpv4Raw(pkt, 0, pkt.length);
    world.runUntilIdle();
    expect(got).toEqual([pkt]);
    expect(got[0]![8]).toBe(33);
    expect(got[0]![1]).toBe(0x10);
    expect((got[0]![20]! << 8) | got[0]![21]!).toBe(54321);
    expect(b.counters.UdpInDatagrams).toBe(1);
    expect(b.counters.UdpNoPorts).toBe(0);
  });

  it("runs before a socket bound to the port, which gets what the hook declines", () => {
    const { world, a, b } = pair();
    const sock = b.udpSocket().bind(6081);
    const toSocket: number[] = [];
    sock.onMessage = (_d, _o, len, from) => toSocket.push(len, from.port);
    b.onUdpPort(6081, (p, o) => p[o + 28] === 1);
    const mine = udpPacket(40000, 6081, 4);
    mine[28] = 1;
    fillUdpChecksumIpv4(mine, 20, 12, A, B);
    const other = udpPacket(40001, 6081, 4);
    other[28] = 2;
    fillUdpChecksumIpv4(other, 20, 12, A, B);
    a.sendIpv4Raw(mine, 0, mine.length);
    a.sendIpv4Raw(other, 0, other.length);
    world.runUntilIdle();
    expect(toSocket).toEqual([4, 40001]);
  });

  it("never sees a datagram with a bad UDP checksum (counted as UdpInCsumErrors)", () => {
    const { world, a, b } = pair();
    let seen = 0;
    b.onUdpPort(4789, () => ++seen > 0);
    const pkt = udpPacket(50000, 4789, 16);
    pkt[30] ^= 0xff;
    a.sendIpv4Raw(pkt, 0, pkt.length);
    world.runUntilIdle();
    expect(seen).toBe(0);
    expect(b.counters.UdpInCsumErrors).toBe(1);
  });

  it("leaves ordinary UDP sockets and ping working alongside", () => {
    const { world, a, b } = pair();
    b.onUdpPort(4789, () => true);
    const sock = b.udpSocket().bind(7000);
    let n = 0;
    sock.onMessage = () => n++;
    a.udpSocket().sendTo(new Uint8Array(10), "10.0.0.2", 7000);
    const p = a.ping("10.0.0.2", { count: 2, intervalMs: 10 });
    world.runUntil(() => p.done);
    expect(n).toBe(1);
    expect(p.result.received).toBe(2);
  });
});
