/**
 * The underlay interface: what a host's IP stack must offer the tunnel vports, and
 * what the vports offer back. overlay/ defines it; sim/ (the hypervisor, with the IP
 * stack its emulated endpoints use) and overlay/udp-underlay.ts (real UDP sockets)
 * implement it.
 *
 * Contract, transmit side (`Underlay`)
 * - `route(dstIp)` answers from the host's route table (longest prefix match, as
 *   `ovs/route/show`): the egress NIC, the source address the stack would pick, and that
 *   NIC's MTU; undefined when no route. Pure: no packet is sent, nothing is learned.
 * - `sendIpv4(packet, offset, length)` takes a complete outer IPv4 datagram (header
 *   checksum and lengths already correct, no Ethernet header), routes it by its
 *   destination, resolves the next hop's MAC through the neighbour cache (ARPing and
 *   queueing or dropping as the stack does), adds the Ethernet header and sends it out
 *   the NIC. It never throws on a packet: the result says what happened. The bytes are
 *   valid only during the call; a stack that queues the packet copies it.
 * - The vports check the MTU themselves (so the drop is counted where users look), so
 *   the stack needs no fragmentation: outer packets carry DF, as OVS sets it.
 *
 * Contract, receive side (`UnderlayReceiver`, implemented by overlay's TunnelStack)
 * - The stack calls `receiveIpv4(packet, offset, length)` for every IPv4 datagram
 *   addressed to one of its own addresses whose protocol is UDP (17) or GRE (47),
 *   before its own UDP demultiplexing. True: a tunnel consumed it (or counted it as a
 *   malformed/unmatched tunnel packet); false: not a tunnel packet, the stack goes on
 *   (e.g. delivers to a UDP socket or answers ICMP port unreachable).
 * - `receiveUdp(...)` is the same for stacks that only see UDP payloads (real sockets).
 * - Receivers never throw on a packet and copy nothing they keep past the call.
 *
 * Addresses are IPv4 as host-order uint32 (10.0.0.1 = 0x0a000001).
 */

/** Outcome of `Underlay.sendIpv4`; numbers so the per-packet path allocates nothing. */
export const UNDERLAY_TX = {
  SENT: 0,
  /** No route to the outer destination. */
  NO_ROUTE: 1,
  /** Next hop unresolved; the stack dropped (or queued behind ARP) the packet. */
  NO_NEIGH: 2,
  /** The NIC refused it (down, or larger than its MTU). */
  DEVICE_DROP: 3,
} as const;
export type UnderlayTxResult = (typeof UNDERLAY_TX)[keyof typeof UNDERLAY_TX];

export interface UnderlayRoute {
  /** Egress NIC name, as `ovs/route/show` prints it. */
  readonly dev: string;
  /** The source address the stack would use for this destination. */
  readonly srcIp: number;
  /** The egress NIC's MTU in bytes (IP datagram size, Ethernet header excluded). */
  readonly mtu: number;
}

/** Implemented by the host's IP stack (sim/hypervisor.ts, overlay/udp-underlay.ts). */
export interface Underlay {
  route(dstIp: number): UnderlayRoute | undefined;
  sendIpv4(packet: Uint8Array, offset: number, length: number): UnderlayTxResult;
}

/** Implemented by overlay (TunnelStack); called by the host's IP stack. */
export interface UnderlayReceiver {
  /** A received IPv4 datagram (from its IPv4 header) for one of the host's addresses. */
  receiveIpv4(packet: Uint8Array, offset: number, length: number): boolean;
  /**
   * A received UDP payload (from the VXLAN/Geneve header). `tos`/`ttl` are the outer
   * IPv4 values when known (0 and 64 otherwise).
   */
  receiveUdp(
    srcIp: number,
    dstIp: number,
    srcPort: number,
    dstPort: number,
    tos: number,
    ttl: number,
    payload: Uint8Array,
    offset: number,
    length: number,
  ): boolean;
}
