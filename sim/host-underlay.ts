/**
 * A hypervisor's underlay for tunnels: overlay/'s `Underlay` contract implemented on
 * the host's own sim IP stack (an Endpoint whose vNICs are the underlay NICs), so
 * outer packets are routed by the host's connected subnets and gateways and their
 * next hop resolved by real ARP on the simulated wire.
 *
 * Transmit: `sendIpv4` takes the outer IPv4 datagram a tunnel vport built and sends
 * its UDP payload from the host's tunnel socket (bound to the tunnel's UDP port), so
 * the endpoint stack writes the IPv4/UDP headers, ARPs and queues as Linux does.
 * Receive: datagrams arriving on the tunnel UDP ports are handed to the receiver
 * (overlay's TunnelStack) with their outer addresses.
 *
 * It does not: carry GRE (the endpoint stack has no raw IP sockets; GRE packets are
 * refused as DEVICE_DROP), keep the outer UDP source port entropy (the stack sends
 * from the bound port), or preserve outer TOS/TTL on receive (reported as 0 and 64).
 */
import {
  UNDERLAY_TX,
  type Underlay,
  type UnderlayReceiver,
  type UnderlayRoute,
  type UnderlayTxResult,
} from "../overlay/index.js";
import type { Endpoint } from "./endpoint.js";
import { InvalidParameterError } from "./errors.js";
import type { IpAddress } from "./ip-address.js";
import type { UdpSocket } from "./udp-socket.js";

const TX_SENT = UNDERLAY_TX.SENT;
const TX_NO_ROUTE = UNDERLAY_TX.NO_ROUTE;
const TX_DEVICE_DROP = UNDERLAY_TX.DEVICE_DROP;
type TxResult = UnderlayTxResult;

/** What the host hands received tunnel datagrams to (overlay's TunnelStack). */
export type UnderlayUdpReceiver = Pick<UnderlayReceiver, "receiveUdp">;

export type HostRoute = UnderlayRoute;

export class HostUnderlay implements Underlay {
  private readonly sockets = new Map<number, UdpSocket>();
  private readonly dstCache = new Map<number, IpAddress>();
  private receiver: UnderlayUdpReceiver | null = null;
  /** Tunnel datagrams refused (GRE, malformed). */
  refused = 0;

  constructor(private readonly stack: Endpoint) {}

  setReceiver(receiver: UnderlayUdpReceiver | null): void {
    this.receiver = receiver;
  }

  /** Opens (once) the host's socket on a tunnel UDP port (4789, 6081, ...). */
  listen(port: number): void {
    if (this.sockets.has(port)) return;
    const s = this.stack.udpSocket().bind(port);
    s.onMessage = (data, off, len, from) => {
      const src = from.address.words[0]!;
      this.receiver?.receiveUdp(src, this.localIp(src), from.port, port, 0, 64, data, off, len);
    };
    this.sockets.set(port, s);
  }

  /** The host address on the subnet of `peer`, else its first address. */
  private localIp(peer: number): number {
    const r = this.route(peer);
    return r ? r.srcIp : 0;
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

  /** Sends a complete outer IPv4 datagram (see the header for what is kept). */
  sendIpv4(packet: Uint8Array, offset: number, length: number): TxResult {
    if (length < 28) return this.refuse();
    const ihl = (packet[offset]! & 0x0f) * 4;
    const proto = packet[offset + 9]!;
    if (proto !== 17 || length < ihl + 8) return this.refuse();
    const tos = packet[offset + 1]!;
    const ttl = packet[offset + 8]!;
    const dst =
      ((packet[offset + 16]! << 24) |
        (packet[offset + 17]! << 16) |
        (packet[offset + 18]! << 8) |
        packet[offset + 19]!) >>>
      0;
    const l4 = offset + ihl;
    const dstPort = (packet[l4 + 2]! << 8) | packet[l4 + 3]!;
    if (!this.route(dst)) return TX_NO_ROUTE;
    let sock = this.sockets.get(dstPort);
    if (!sock) {
      this.listen(dstPort);
      sock = this.sockets.get(dstPort)!;
    }
    let addr = this.dstCache.get(dst);
    if (!addr) {
      const words = new Uint32Array(4);
      words[0] = dst;
      addr = { v6: false, words };
      this.dstCache.set(dst, addr);
    }
    const ok = sock.sendRaw(packet, l4 + 8, length - ihl - 8, addr, dstPort, ttl, tos);
    return ok ? TX_SENT : TX_DEVICE_DROP;
  }

  private refuse(): TxResult {
    this.refused++;
    return TX_DEVICE_DROP;
  }

  /** Fails loudly when asked for a tunnel type the host cannot carry. */
  static check(type: string): void {
    if (type === "gre")
      throw new InvalidParameterError(
        "host underlay",
        "tunnel type",
        "vxlan or geneve (the sim endpoint stack has no raw IP sockets for GRE)",
        type,
      );
  }
}
