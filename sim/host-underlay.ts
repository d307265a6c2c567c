/**
 * A hypervisor's underlay for tunnels: overlay/'s `Underlay` contract implemented on
 * the host's own sim IP stack (an Endpoint whose vNICs are the underlay NICs), so
 * outer packets are routed by the host's connected subnets and gateways and their
 * next hop resolved by real ARP on the simulated wire.
 *
 * Transmit: `sendIpv4` hands the outer IPv4 datagram the TunnelStack built to the
 * stack's raw IP path (`Endpoint.sendIpv4Raw`, Linux's IP_HDRINCL), so the bytes on the
 * wire are the TunnelStack's own: VXLAN/Geneve with the hashed UDP source port, GRE as
 * IP protocol 47, its TTL/TOS/DF and checksums. The stack only routes, ARPs, checks the
 * MTU and adds the Ethernet header.
 * Receive: the host hooks IP protocol 47 and the tunnel UDP ports (4789, 6081, and any
 * other port it sends tunnel traffic to) on its stack; each datagram reaches the
 * receiver's `receiveIpv4` as the whole outer IPv4 packet, so tun_src/tun_dst/tun_tos/
 * tun_ttl/tun_tp are the real outer fields. A datagram the receiver does not take (not
 * a tunnel packet) goes on through the stack (a UDP socket, or ICMP unreachable).
 * Delivery happens in the frame's arrival event on the underlay link (or the
 * loopback event), never inside a Dpif's transmit, so the receiver may look the inner
 * frame up in the same host's datapath.
 *
 * It does not: do IPv6 outer headers, fragment (oversize outer packets are refused,
 * as the vports check the MTU first), or answer for tunnel ports nobody listens on.
 */
import {
  UNDERLAY_TX,
  type Underlay,
  type UnderlayReceiver,
  type UnderlayRoute,
  type UnderlayTxResult,
} from "../overlay/index.js";
import { type Endpoint, type IpPacketHandler, RAW_TX } from "./endpoint.js";

const IPPROTO_UDP = 17;
const IPPROTO_GRE = 47;

/** What the host hands received tunnel datagrams to (overlay's TunnelStack). */
export type UnderlayIpReceiver = Pick<UnderlayReceiver, "receiveIpv4">;

export type HostRoute = UnderlayRoute;

export class HostUnderlay implements Underlay {
  private readonly ports = new Set<number>();
  private receiver: UnderlayIpReceiver | null = null;
  private readonly onTunnel: IpPacketHandler = (packet, offset, length) =>
    this.receiver?.receiveIpv4(packet, offset, length) === true;
  /** Outer datagrams the stack refused (malformed, over the MTU, link refused). */
  refused = 0;

  constructor(private readonly stack: Endpoint) {
    stack.onIpProtocol(IPPROTO_GRE, this.onTunnel);
  }

  setReceiver(receiver: UnderlayIpReceiver | null): void {
    this.receiver = receiver;
  }

  /** Receives tunnel datagrams on UDP port `port` (4789, 6081, ...); idempotent. */
  listen(port: number): void {
    if (this.ports.has(port)) return;
    this.stack.onUdpPort(port, this.onTunnel);
    this.ports.add(port);
  }

  /** The UDP ports tunnel traffic is received on, ascending. */
  listening(): number[] {
    return [...this.ports].sort((a, b) => a - b);
  }

  /** Longest-prefix connected route, else the first NIC with a gateway. */
  route(dstIp: number): HostRoute | undefined {
    let best: HostRoute | undefined;
    let bestLen = -1;
    for (const v of this.stack.vnics) {
      if (!v.ipv4) continue;
      const a = v.ipv4.words[0]!;
      const len = v.prefix4;
      const m = len === 0 ? 0 : (0xffffffff << (32 - len)) >>> 0;
      if (((a ^ dstIp) & m) >>> 0 === 0 && len > bestLen) {
        best = { dev: v.name, srcIp: a, mtu: v.mtu };
        bestLen = len;
      }
    }
    if (best) return best;
    for (const v of this.stack.vnics)
      if (v.ipv4 && v.gateway4) return { dev: v.name, srcIp: v.ipv4.words[0]!, mtu: v.mtu };
    return undefined;
  }

  /** Sends a complete outer IPv4 datagram unchanged through the host's stack. */
  sendIpv4(packet: Uint8Array, offset: number, length: number): UnderlayTxResult {
    // A tunnel on a UDP port we do not listen on yet (options:dst_port) answers there:
    // its peer sends back to the same port.
    if (length >= 24 && packet[offset + 9] === IPPROTO_UDP) {
      const l4 = offset + (packet[offset]! & 0x0f) * 4;
      if (l4 + 4 <= offset + length) {
        const dstPort = (packet[l4 + 2]! << 8) | packet[l4 + 3]!;
        if (dstPort !== 0 && !this.ports.has(dstPort)) this.listen(dstPort);
      }
    }
    const r = this.stack.sendIpv4Raw(packet, offset, length);
    if (r === RAW_TX.SENT) return UNDERLAY_TX.SENT;
    if (r === RAW_TX.NO_ROUTE) return UNDERLAY_TX.NO_ROUTE;
    this.refused++;
    return UNDERLAY_TX.DEVICE_DROP;
  }
}
