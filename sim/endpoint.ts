/**
 * An emulated endpoint — a VM or a container — with a small, honest IP stack behind its
 * vNICs: ARP and IPv6 Neighbor Discovery, IPv4/IPv6 send and receive with TTL and a
 * routing table (connected subnets, gateways, static routes), ICMP/ICMPv6 echo and
 * errors, UDP sockets, and optional forwarding (so an endpoint can be a router and a
 * traceroute has hops to find).
 *
 * The receive path, per frame: the vNIC filters by destination MAC; EtherType picks
 * ARP, IPv4 or IPv6; the IP header is validated (version, lengths, header checksum) and
 * fragments are dropped (no reassembly); a packet for one of our addresses goes to
 * ICMP or UDP (whose checksums are verified), anything else is forwarded when
 * `ipForward` is on (TTL decremented, ICMP Time Exceeded at 1, Fragmentation Needed /
 * Packet Too Big when it does not fit) and dropped otherwise. Every outcome has a
 * counter named as in Linux's /proc/net/snmp (IpInHdrErrors, UdpNoPorts, ...).
 *
 * The send path: longest-prefix route → out vNIC and next hop → IP header (DF set, as
 * Linux does with path MTU discovery) → L4 checksum over the right pseudo-header →
 * Ethernet header → the neighbour table writes the next hop's MAC or holds the frame
 * while it solicits → the vNIC's wire. Frames shorter than 60 bytes are zero-padded,
 * as a NIC does.
 *
 * Linux defaults it follows: weak host model (any of our addresses is accepted on any
 * vNIC), arp_ignore=0 (ARP answered for any of our addresses), no answer to broadcast
 * pings (icmp_echo_ignore_broadcasts=1), no ICMP error about a broadcast, multicast or
 * ICMP error packet (RFC 1122 §3.2.2, RFC 4443 §2.4), TTL 64, DF set, ephemeral ports
 * from 32768, packets to our own address looped back (as through `lo`).
 *
 * Raw IP (what a hypervisor's tunnel endpoint needs, as Linux's IP_HDRINCL sockets and
 * UDP encap_rcv give the kernel's vxlan/gre drivers): `sendIpv4Raw` sends a complete
 * IPv4 datagram built by the caller — routed by its destination, next hop ARPed, out
 * the right vNIC, MTU-checked — without touching a byte of it (TTL, TOS, checksums, UDP
 * source port stay the caller's); `onIpProtocol(proto, h)` and `onUdpPort(port, h)`
 * hand received IPv4 datagrams for our addresses to `h` as the whole IP packet (outer
 * TTL/TOS/ports intact), after header validation and, for UDP, the UDP checks Linux
 * makes before encap_rcv. A handler returning false lets the stack go on as if it were
 * not there (UDP socket, ICMP unreachable). Handlers run from the frame's arrival
 * event (links and loopback always deliver through the scheduler), never inside the
 * sender's call.
 *
 * Promises: frames are real bytes built and parsed with packet/, with correct
 * checksums; with a known neighbour and a bound socket the UDP send and receive paths
 * allocate nothing but `subarray` views (one preallocated transmit buffer per
 * endpoint, preallocated header views and field objects); gratuitous ARP (and an
 * unsolicited NA) is sent when a vNIC's link comes up. It does not do TCP,
 * fragmentation or reassembly, IPv6 SLAAC or router discovery, DAD, or multicast
 * beyond what ND needs.
 */
import {
  ARP_ETH_IPV4_LEN,
  ARP_OP_REPLY,
  ARP_OP_REQUEST,
  ArpView,
  ETH_HEADER_LEN,
  ETH_TYPE_ARP,
  ETH_TYPE_IPV4,
  ETH_TYPE_IPV6,
  encodeArp,
  encodeIcmp,
  encodeIcmpv6,
  encodeIpv4,
  encodeIpv6,
  encodeUdp,
  fillIcmpChecksum,
  fillIcmpv6Checksum,
  fillUdpChecksumIpv4,
  fillUdpChecksumIpv6,
  formatIpv4,
  ICMP_DEST_UNREACH,
  ICMP_ECHO_REPLY,
  ICMP_ECHO_REQUEST,
  ICMP_HEADER_LEN,
  ICMP_TIME_EXCEEDED,
  ICMPV6_DEST_UNREACH,
  ICMPV6_ECHO_REPLY,
  ICMPV6_ECHO_REQUEST,
  ICMPV6_PACKET_TOO_BIG,
  ICMPV6_TIME_EXCEEDED,
  IcmpView,
  Icmpv6View,
  IPPROTO_ICMP,
  IPPROTO_ICMPV6,
  IPPROTO_UDP,
  IPV4_HEADER_LEN,
  IPV6_HEADER_LEN,
  Ipv4View,
  Ipv6View,
  internetChecksum,
  l4ChecksumIpv4,
  l4ChecksumIpv6,
  ND_NEIGHBOR_ADVERT,
  ND_NEIGHBOR_SOLICIT,
  ND_OPT_SOURCE_LINKADDR,
  ND_OPT_TARGET_LINKADDR,
  ndLinkAddrOption,
  UDP_HEADER_LEN,
  UdpView,
} from "./_packet.js";
import { InvalidAddressError, InvalidParameterError, SocketError } from "./errors.js";
import {
  formatIp,
  type IpAddress,
  inPrefixWords,
  ipEqualsWords,
  parseIp,
  parsePrefix,
} from "./ip-address.js";
import { DEFAULT_NEIGHBOR_CONFIG, type NeighborConfig, NeighborTable } from "./neighbor-table.js";
import { type EchoHost, type PingOptions, PingSession } from "./ping.js";
import { RouteTable } from "./route-table.js";
import type { Scheduler } from "./scheduler.js";
import { type TracerouteOptions, TracerouteSession } from "./traceroute.js";
import { type UdpHost, UdpSocket } from "./udp-socket.js";
import { Vnic, type VnicOptions, type VnicOwner } from "./vnic.js";

/** What an endpoint needs from its world. */
export interface EndpointContext {
  readonly scheduler: Scheduler;
  /** A fresh, locally administered unicast MAC as [hi16, lo32]. */
  allocateMac(): [number, number];
}

export interface EndpointOptions {
  /** A label for displays; both behave alike. Default "vm". */
  kind?: "vm" | "container";
  vnics?: VnicOptions[];
  /** Forward packets not addressed to us (a router). Default false. */
  ipForward?: boolean;
  /** Neighbour table timers (ms) and limits; defaults are Linux's. */
  neighbor?: { reachableMs?: number; retransMs?: number; maxSolicit?: number; maxPending?: number };
  /** Announce each vNIC when its link comes up. Default true. */
  gratuitousArp?: boolean;
}

/** Counters named as in Linux's /proc/net/snmp (and a few for ARP/ND and L2). */
export interface EndpointCounters {
  IpInReceives: number;
  IpInHdrErrors: number;
  IpInAddrErrors: number;
  IpInUnknownProtos: number;
  IpInDelivers: number;
  IpReasmFails: number;
  IpForwDatagrams: number;
  IpOutRequests: number;
  IpOutNoRoutes: number;
  /** Raw datagrams refused before routing (malformed IPv4 header; Linux's name). */
  IpOutDiscards: number;
  IpFragFails: number;
  IcmpInMsgs: number;
  IcmpInErrors: number;
  IcmpInEchos: number;
  IcmpInEchoReps: number;
  IcmpInDestUnreachs: number;
  IcmpInTimeExcds: number;
  IcmpOutMsgs: number;
  IcmpOutEchos: number;
  IcmpOutEchoReps: number;
  IcmpOutDestUnreachs: number;
  IcmpOutTimeExcds: number;
  UdpInDatagrams: number;
  UdpNoPorts: number;
  UdpInCsumErrors: number;
  UdpOutDatagrams: number;
  ArpInRequests: number;
  ArpInReplies: number;
  ArpOutRequests: number;
  ArpOutReplies: number;
  NdInSolicits: number;
  NdInAdverts: number;
  NdOutSolicits: number;
  NdOutAdverts: number;
  NeighUnresolved: number;
  /** ICMP errors not sent because of the per-destination rate limit (Linux's name). */
  IcmpOutRateLimitHost: number;
  RxUnknownEtherType: number;
}

/**
 * A receive hook: the whole IPv4 datagram at packet[offset, offset+length) (from its
 * IPv4 header; length is the header's total length), valid only during the call.
 * True: consumed; false: the stack carries on with it.
 */
export type IpPacketHandler = (
  packet: Uint8Array,
  offset: number,
  length: number,
  vnic: Vnic,
) => boolean;

/** Outcome of `sendIpv4Raw` (numbers, so the per-packet path allocates nothing). */
export const RAW_TX = {
  /** Sent, or held by the neighbour table while it ARPs (sent when answered). */
  SENT: 0,
  /** No route to the destination (IpOutNoRoutes). */
  NO_ROUTE: 1,
  /** Not a sound IPv4 header (IpOutDiscards). */
  MALFORMED: 2,
  /** Larger than the vNIC's MTU (IpFragFails), or the vNIC's link refused it. */
  DEVICE_DROP: 3,
} as const;
export type RawTxResult = (typeof RAW_TX)[keyof typeof RAW_TX];

const L3_OFF = ETH_HEADER_LEN;
const L4_OFF_V4 = ETH_HEADER_LEN + IPV4_HEADER_LEN;
const L4_OFF_V6 = ETH_HEADER_LEN + IPV6_HEADER_LEN;
const ETH_MIN_FRAME = 60;
const TX_BUFFER = 65536 + 128;
/** RFC 1812 §4.3.2.3: an ICMP error quotes as much as fits in 576 bytes. */
const ICMP4_QUOTE_MAX = 576 - IPV4_HEADER_LEN - ICMP_HEADER_LEN;
/** RFC 4443 §2.4(c): as much as fits in the IPv6 minimum MTU. */
const ICMP6_QUOTE_MAX = 1280 - IPV6_HEADER_LEN - ICMP_HEADER_LEN;
const EPHEMERAL_FIRST = 32768;
const EPHEMERAL_LAST = 60999;
const ICMP_CODE_NET_UNREACH = 0;
const ICMP_CODE_HOST_UNREACH = 1;
const ICMP_CODE_PROTO_UNREACH = 2;
const ICMP_CODE_PORT_UNREACH = 3;
const ICMP_CODE_FRAG_NEEDED = 4;
const ICMPV6_CODE_NO_ROUTE = 0;
const ICMPV6_CODE_ADDR_UNREACH = 3;
const ICMPV6_CODE_PORT_UNREACH = 4;
const ND_HOP_LIMIT = 255;
/** Linux net.ipv4.icmp_ratelimit and net.ipv6.icmp.ratelimit: 1000 ms. */
const ICMP_RATELIMIT_NS = 1e9;
const XRLIM_BURST_FACTOR = 6;

export class Endpoint implements VnicOwner, UdpHost, EchoHost {
  readonly name: string;
  readonly kind: "vm" | "container";
  readonly scheduler: Scheduler;
  readonly vnics: Vnic[] = [];
  readonly ipForward: boolean;
  readonly counters: EndpointCounters = {
    IpInReceives: 0,
    IpInHdrErrors: 0,
    IpInAddrErrors: 0,
    IpInUnknownProtos: 0,
    IpInDelivers: 0,
    IpReasmFails: 0,
    IpForwDatagrams: 0,
    IpOutRequests: 0,
    IpOutNoRoutes: 0,
    IpOutDiscards: 0,
    IpFragFails: 0,
    IcmpInMsgs: 0,
    IcmpInErrors: 0,
    IcmpInEchos: 0,
    IcmpInEchoReps: 0,
    IcmpInDestUnreachs: 0,
    IcmpInTimeExcds: 0,
    IcmpOutMsgs: 0,
    IcmpOutEchos: 0,
    IcmpOutEchoReps: 0,
    IcmpOutDestUnreachs: 0,
    IcmpOutTimeExcds: 0,
    UdpInDatagrams: 0,
    UdpNoPorts: 0,
    UdpInCsumErrors: 0,
    UdpOutDatagrams: 0,
    ArpInRequests: 0,
    ArpInReplies: 0,
    ArpOutRequests: 0,
    ArpOutReplies: 0,
    NdInSolicits: 0,
    NdInAdverts: 0,
    NdOutSolicits: 0,
    NdOutAdverts: 0,
    NeighUnresolved: 0,
    IcmpOutRateLimitHost: 0,
    RxUnknownEtherType: 0,
  };
  private readonly context: EndpointContext;
  private readonly neighborConfig: NeighborConfig;
  private readonly gratuitous: boolean;
  private readonly routes = new RouteTable();
  private readonly udpPorts = new Map<number, UdpSocket>();
  /** Raw receive hooks: by IP protocol number, and by UDP destination port (IPv4). */
  private readonly protoHandlers: (IpPacketHandler | undefined)[] = new Array(256);
  private readonly udpHandlers = new Map<number, IpPacketHandler>();
  private nextEphemeral = EPHEMERAL_FIRST;
  private readonly pings = new Map<number, PingSession>();
  /** ICMP error rate-limit buckets by destination (error path only, so string keys). */
  private readonly icmpPeers = new Map<string, { tokens: number; lastNs: number }>();
  private nextEchoId = 1;
  private ipId = 0;
  // Preallocated working state: one transmit buffer, header views, scratch words.
  private readonly tx = new Uint8Array(TX_BUFFER);
  /** The route lookup's next hop, also used as scratch for a received IPv6 destination. */
  private readonly nextHop = this.routes.nextHop;
  private readonly words = new Uint32Array(4);
  private readonly ip4 = new Ipv4View();
  private readonly ip6 = new Ipv6View();
  private readonly quoted4 = new Ipv4View();
  private readonly quoted6 = new Ipv6View();
  private readonly icmp = new IcmpView();
  private readonly icmp6 = new Icmpv6View();
  private readonly udp = new UdpView();
  private readonly arpView = new ArpView();
  private readonly ip4Fields = {
    protocol: 0,
    src: 0,
    dst: 0,
    ttl: 64,
    tos: 0,
    totalLength: 0,
    id: 0,
    df: true,
  };
  private readonly ip6Fields = {
    protocol: 0,
    src: new Uint8Array(16),
    dst: new Uint8Array(16),
    hopLimit: 64,
    trafficClass: 0,
    payloadLength: 0,
  };
  private readonly udpFields = { srcPort: 0, dstPort: 0, length: 0 };
  private readonly onAnnounce = (vnic: number): void => this.announce(vnic);

  constructor(context: EndpointContext, name: string, options: EndpointOptions = {}) {
    if (!/^[A-Za-z0-9_.:-]{1,64}$/.test(name))
      throw new InvalidParameterError(
        "endpoint",
        "name",
        "1-64 letters, digits, '_', '.', ':' or '-'",
        name,
      );
    this.context = context;
    this.scheduler = context.scheduler;
    this.name = name;
    this.kind = options.kind ?? "vm";
    this.ipForward = options.ipForward ?? false;
    this.gratuitous = options.gratuitousArp ?? true;
    const n = options.neighbor ?? {};
    const what = `endpoint ${name}`;
    for (const [k, v] of Object.entries(n))
      if (!(typeof v === "number" && v >= 0 && Number.isFinite(v)))
        throw new InvalidParameterError(what, `neighbor.${k}`, "a finite number >= 0", v);
    this.neighborConfig = {
      reachableNs:
        n.reachableMs !== undefined ? n.reachableMs * 1e6 : DEFAULT_NEIGHBOR_CONFIG.reachableNs,
      retransNs:
        n.retransMs !== undefined
          ? Math.round(n.retransMs * 1e6)
          : DEFAULT_NEIGHBOR_CONFIG.retransNs,
      maxSolicit: n.maxSolicit ?? DEFAULT_NEIGHBOR_CONFIG.maxSolicit,
      maxPending: n.maxPending ?? DEFAULT_NEIGHBOR_CONFIG.maxPending,
    };
    for (const v of options.vnics ?? []) this.addVnic(v);
  }

  /** Adds a vNIC (its connected routes and default gateways too); join it with a link. */
  addVnic(options: VnicOptions = {}): Vnic {
    const index = this.vnics.length;
    const name = options.name ?? `${this.name}-eth${index}`;
    if (this.vnics.some((v) => v.name === name))
      throw new InvalidParameterError(`endpoint ${this.name}`, "vnic name", "unique", name);
    // Only vNICs without a MAC of their own consume one of the world's.
    const mac =
      options.mac === undefined ? this.context.allocateMac() : ([0, 0] as [number, number]);
    const vnic = new Vnic(this, name, options, mac);
    vnic.arp = new NeighborTable(this.scheduler, false, this.neighborConfig, {
      solicit: (addr) => {
        if (vnic.ipv4) this.sendArp(vnic, ARP_OP_REQUEST, vnic.ipv4.words[0], addr[0], null, 0);
      },
      transmit: (frame, length) => this.wireOut(vnic, frame, length),
      unresolved: (frame, length) => this.unresolved(false, frame, length),
    });
    vnic.nd = new NeighborTable(this.scheduler, true, this.neighborConfig, {
      solicit: (addr) => this.sendNeighborSolicit(vnic, addr),
      transmit: (frame, length) => this.wireOut(vnic, frame, length),
      unresolved: (frame, length) => this.unresolved(true, frame, length),
    });
    this.vnics.push(vnic);
    if (vnic.ipv4)
      this.routes.add(false, vnic.ipv4, vnic.prefix4, index, this.vnics[index].name, null);
    if (vnic.ipv6)
      this.routes.add(true, vnic.ipv6, vnic.prefix6, index, this.vnics[index].name, null);
    if (vnic.gateway4)
      this.routes.add(false, zero(false), 0, index, this.vnics[index].name, vnic.gateway4);
    if (vnic.gateway6)
      this.routes.add(true, zero(true), 0, index, this.vnics[index].name, vnic.gateway6);
    return vnic;
  }

  /** The vNIC named `name` (or "eth0" style suffix). */
  vnic(name: string): Vnic {
    const v = this.vnics.find((x) => x.name === name || x.name === `${this.name}-${name}`);
    if (!v)
      throw new InvalidParameterError(
        `endpoint ${this.name}`,
        "vnic",
        `one of ${this.vnics.map((x) => x.name).join(", ")}`,
        name,
      );
    return v;
  }

  /** `ip route add PREFIX [via GW] [dev VNIC]`. */
  addRoute(prefix: string, options: { via?: string; dev?: string } = {}): void {
    const what = `endpoint ${this.name}`;
    const p = parsePrefix(prefix);
    if (!p)
      throw new InvalidAddressError(
        what,
        "route",
        prefix,
        'is not a prefix (write "10.1.0.0/16" or "fd00:1::/64")',
      );
    let via: IpAddress | null = null;
    if (options.via !== undefined) {
      const g = parseIp(options.via);
      if (!g || g.v6 !== p.address.v6)
        throw new InvalidAddressError(
          what,
          "route via",
          options.via,
          `is not an ${p.address.v6 ? "IPv6" : "IPv4"} address`,
        );
      via = g;
    }
    let index = -1;
    if (options.dev !== undefined) index = this.vnics.indexOf(this.vnic(options.dev));
    else if (via) {
      index = this.vnics.findIndex((v) =>
        via!.v6
          ? v.ipv6 && inPrefixWords(v.ipv6, v.prefix6, via!.words, 0)
          : v.ipv4 && inPrefixWords(v.ipv4, v.prefix4, via!.words, 0),
      );
    }
    if (index < 0)
      throw new InvalidAddressError(
        what,
        "route",
        prefix,
        "has no vNIC to leave by: give dev, or a via on a vNIC's subnet",
      );
    this.routes.add(p.address.v6, p.address, p.length, index, this.vnics[index].name, via);
  }

  /** The routing table as `ip route` then `ip -6 route` print it (longest prefix first). */
  routeTable(): string[] {
    return this.routes.lines();
  }

  /** Opens a UDP socket (bind it, or let sendTo pick an ephemeral port). */
  udpSocket(): UdpSocket {
    return new UdpSocket(this);
  }

  /**
   * Sends the complete IPv4 datagram at packet[offset, offset+length) as it is: routed
   * by its destination, out that route's vNIC to the next hop (ARPing and holding it
   * if needed; the bytes are copied at once). Checks only that the header is sound
   * (version 4, IHL, total length = length) and that it fits the vNIC's MTU (no
   * fragmentation: the caller sets DF). Never throws on a packet; see RAW_TX.
   */
  sendIpv4Raw(packet: Uint8Array, offset: number, length: number): RawTxResult {
    if (
      length < IPV4_HEADER_LEN ||
      length + L3_OFF > TX_BUFFER ||
      packet[offset] >>> 4 !== 4 ||
      (packet[offset] & 0x0f) * 4 < IPV4_HEADER_LEN ||
      (packet[offset] & 0x0f) * 4 > length ||
      ((packet[offset + 2] << 8) | packet[offset + 3]) !== length
    ) {
      this.counters.IpOutDiscards++;
      return RAW_TX.MALFORMED;
    }
    this.counters.IpOutRequests++;
    const out = this.routes.lookup(false, this.wordsOf4(rd32(packet, offset + 16)));
    if (out < 0) {
      this.counters.IpOutNoRoutes++;
      return RAW_TX.NO_ROUTE;
    }
    const vnic = this.vnics[out];
    if (length > vnic.mtu) {
      this.counters.IpFragFails++;
      return RAW_TX.DEVICE_DROP;
    }
    this.tx.set(packet.subarray(offset, offset + length), L3_OFF);
    return this.emit(vnic, false, ETH_TYPE_IPV4, L3_OFF + length)
      ? RAW_TX.SENT
      : RAW_TX.DEVICE_DROP;
  }

  /**
   * Hands received IPv4 datagrams of IP protocol `proto` for our addresses to
   * `handler` (null removes it). ICMP (1) keeps its own handling and cannot be
   * hooked; for UDP (17) the hook sees every datagram before the UDP checks and
   * sockets (prefer onUdpPort).
   */
  onIpProtocol(proto: number, handler: IpPacketHandler | null): void {
    if (!Number.isInteger(proto) || proto < 0 || proto > 255 || proto === IPPROTO_ICMP)
      throw new InvalidParameterError(
        `endpoint ${this.name}`,
        "IP protocol",
        "a whole number in [0, 255] other than 1 (ICMP)",
        proto,
      );
    this.protoHandlers[proto] = handler ?? undefined;
  }

  /**
   * Hands received IPv4 UDP datagrams to our addresses on destination `port` to
   * `handler` as whole IP packets, after the UDP length and checksum checks (as
   * Linux's encap_rcv) and before any socket bound to that port. Null removes it.
   */
  onUdpPort(port: number, handler: IpPacketHandler | null): void {
    if (!Number.isInteger(port) || port < 1 || port > 65535)
      throw new InvalidParameterError(
        `endpoint ${this.name}`,
        "UDP port",
        "a whole number in [1, 65535]",
        port,
      );
    if (handler) this.udpHandlers.set(port, handler);
    else this.udpHandlers.delete(port);
  }

  /** Starts pinging `target`; run the world, then read the session's result. */
  ping(target: string, options: PingOptions = {}): PingSession {
    const what = `endpoint ${this.name}`;
    const addr = parseIp(target);
    if (!addr)
      throw new InvalidAddressError(what, "ping target", target, "is not an IPv4 or IPv6 address");
    const count = options.count ?? 4;
    const size = options.size ?? 56;
    const intervalMs = options.intervalMs ?? 1000;
    const ttl = options.ttl ?? 64;
    const timeoutMs = options.timeoutMs ?? 2000;
    if (!Number.isInteger(count) || count < 1 || count > 65535)
      throw new InvalidParameterError(
        `${what} ping`,
        "count",
        "a whole number in [1, 65535]",
        count,
      );
    if (!Number.isInteger(size) || size < 8 || size > 65000)
      throw new InvalidParameterError(`${what} ping`, "size", "a whole number in [8, 65000]", size);
    if (!(intervalMs >= 0) || !Number.isFinite(intervalMs))
      throw new InvalidParameterError(`${what} ping`, "intervalMs", ">= 0", intervalMs);
    if (!Number.isInteger(ttl) || ttl < 1 || ttl > 255)
      throw new InvalidParameterError(`${what} ping`, "ttl", "a whole number in [1, 255]", ttl);
    if (!(timeoutMs >= 0) || !Number.isFinite(timeoutMs))
      throw new InvalidParameterError(`${what} ping`, "timeoutMs", ">= 0", timeoutMs);
    let id = this.nextEchoId;
    while (this.pings.has(id)) id = (id % 0xffff) + 1;
    this.nextEchoId = (id % 0xffff) + 1;
    const session = new PingSession(
      this,
      id,
      addr,
      target,
      count,
      Math.round(intervalMs * 1e6),
      size,
      ttl,
      Math.round(timeoutMs * 1e6),
    );
    this.pings.set(id, session);
    return session;
  }

  /** Starts a traceroute to `target`; run the world, then read the session's result. */
  traceroute(target: string, options: TracerouteOptions = {}): TracerouteSession {
    return new TracerouteSession(this, target, options);
  }

  /** The neighbour tables, as `ip neigh show` lists them. */
  neighbors(): { vnic: string; address: string; mac: string | null; state: string }[] {
    const out: { vnic: string; address: string; mac: string | null; state: string }[] = [];
    for (const v of this.vnics) {
      for (const e of v.arp.snapshot())
        out.push({ vnic: v.name, address: formatIpv4(e.address[0]), mac: e.mac, state: e.state });
      for (const e of v.nd.snapshot())
        out.push({
          vnic: v.name,
          address: formatIp({ v6: true, words: e.address }),
          mac: e.mac,
          state: e.state,
        });
    }
    return out;
  }

  // ---------------------------------------------------------------- UdpHost, EchoHost

  /** @internal */
  udpBind(socket: UdpSocket, port: number): number {
    if (port === 0) {
      for (let i = 0; i <= EPHEMERAL_LAST - EPHEMERAL_FIRST; i++) {
        const p = this.nextEphemeral;
        this.nextEphemeral = p === EPHEMERAL_LAST ? EPHEMERAL_FIRST : p + 1;
        if (!this.udpPorts.has(p)) {
          port = p;
          break;
        }
      }
      if (port === 0)
        throw new SocketError(`endpoint ${this.name}`, "no ephemeral UDP port is free");
    } else if (this.udpPorts.has(port))
      throw new SocketError(
        `endpoint ${this.name}`,
        `UDP port ${port} is already bound; close that socket or bind another port`,
      );
    this.udpPorts.set(port, socket);
    return port;
  }

  /** @internal */
  udpUnbind(socket: UdpSocket): void {
    if (this.udpPorts.get(socket.port) === socket) this.udpPorts.delete(socket.port);
  }

  /** @internal */
  udpSend(
    socket: UdpSocket,
    data: Uint8Array,
    offset: number,
    length: number,
    dst: IpAddress,
    dstPort: number,
    ttl: number,
    tos: number,
  ): boolean {
    const l4 = dst.v6 ? L4_OFF_V6 : L4_OFF_V4;
    const udpLen = UDP_HEADER_LEN + length;
    if (l4 + udpLen > TX_BUFFER) {
      this.counters.IpFragFails++;
      return false;
    }
    const u = this.udpFields;
    u.srcPort = socket.port;
    u.dstPort = dstPort;
    u.length = udpLen;
    encodeUdp(u, this.tx, l4);
    this.tx.set(data.subarray(offset, offset + length), l4 + UDP_HEADER_LEN);
    this.counters.UdpOutDatagrams++;
    return dst.v6
      ? this.sendIp6(dst.words, IPPROTO_UDP, udpLen, ttl, tos)
      : this.sendIp4(dst.words[0], IPPROTO_UDP, udpLen, ttl, tos);
  }

  /** @internal */
  sendEcho(
    v6: boolean,
    dst: IpAddress,
    id: number,
    seq: number,
    size: number,
    ttl: number,
  ): boolean {
    const l4 = v6 ? L4_OFF_V6 : L4_OFF_V4;
    const tx = this.tx;
    if (v6) encodeIcmpv6({ type: ICMPV6_ECHO_REQUEST, id, seq }, tx, l4);
    else encodeIcmp({ type: ICMP_ECHO_REQUEST, id, seq }, tx, l4);
    // As ping does: a timestamp first, then the bytes 0x08, 0x09, ... (here: the ns clock).
    const now = this.scheduler.nowNs();
    const data = l4 + ICMP_HEADER_LEN;
    const hi = Math.floor(now / 4294967296);
    const lo = now >>> 0;
    tx[data] = hi >>> 24;
    tx[data + 1] = (hi >>> 16) & 0xff;
    tx[data + 2] = (hi >>> 8) & 0xff;
    tx[data + 3] = hi & 0xff;
    tx[data + 4] = lo >>> 24;
    tx[data + 5] = (lo >>> 16) & 0xff;
    tx[data + 6] = (lo >>> 8) & 0xff;
    tx[data + 7] = lo & 0xff;
    for (let i = 8; i < size; i++) tx[data + i] = i & 0xff;
    this.counters.IcmpOutMsgs++;
    this.counters.IcmpOutEchos++;
    return v6
      ? this.sendIp6(dst.words, IPPROTO_ICMPV6, ICMP_HEADER_LEN + size, ttl, 0)
      : this.sendIp4(dst.words[0], IPPROTO_ICMP, ICMP_HEADER_LEN + size, ttl, 0);
  }

  /** @internal */
  releaseEchoId(id: number): void {
    this.pings.delete(id);
  }

  // ---------------------------------------------------------------- VnicOwner

  /** @internal */
  carrierIn(vnic: Vnic, up: boolean): void {
    if (up) {
      if (this.gratuitous) this.scheduler.schedule(0, this.onAnnounce, this.vnics.indexOf(vnic));
    } else {
      vnic.arp.flush();
      vnic.nd.flush();
    }
  }

  /** @internal A frame for us (or broadcast / our multicast) arrived on `vnic`. */
  frameIn(vnic: Vnic, frame: Uint8Array, off: number, len: number): void {
    const type = (frame[off + 12] << 8) | frame[off + 13];
    const end = off + len;
    if (type === ETH_TYPE_IPV4) this.ipv4In(vnic, frame, off + ETH_HEADER_LEN, end);
    else if (type === ETH_TYPE_IPV6) this.ipv6In(vnic, frame, off + ETH_HEADER_LEN, end);
    else if (type === ETH_TYPE_ARP) this.arpIn(vnic, frame, off + ETH_HEADER_LEN, end);
    else this.counters.RxUnknownEtherType++;
  }

  // ---------------------------------------------------------------- ARP and ND

  private arpIn(vnic: Vnic, frame: Uint8Array, off: number, end: number): void {
    const a = this.arpView.wrap(frame, off, end);
    if (a.validate() !== undefined || !a.isEthIpv4 || !vnic.ipv4) return;
    const mine = vnic.ipv4.words[0];
    const spa = a.spa;
    const tpa = a.tpa;
    const op = a.op;
    if (op === ARP_OP_REQUEST) {
      this.counters.ArpInRequests++;
      // Linux's arp_ignore=0: answer for any of our addresses, on whichever vNIC asked.
      if (spa !== tpa && this.ownsAddress(false, this.wordsOf4(tpa))) {
        // RFC 826: merge the sender, then answer. (An RFC 5227 probe, from 0.0.0.0, is
        // answered but not learnt.)
        if (spa !== 0) vnic.arp.learn(spa, 0, 0, 0, a.shaHi, a.shaLo, true);
        this.sendArp(vnic, ARP_OP_REPLY, tpa, spa, frame, off + 8);
      } else if (spa !== 0) vnic.arp.learn(spa, 0, 0, 0, a.shaHi, a.shaLo, false);
    } else if (op === ARP_OP_REPLY) {
      this.counters.ArpInReplies++;
      vnic.arp.learn(spa, 0, 0, 0, a.shaHi, a.shaLo, tpa === mine);
    }
  }

  /** Sends an ARP request (to broadcast) or reply (to `thaBuf[thaOff..+6)`). */
  private sendArp(
    vnic: Vnic,
    op: number,
    spa: number,
    tpa: number,
    thaBuf: Uint8Array | null,
    thaOff: number,
  ): void {
    const tx = this.tx;
    const tha = thaBuf ? thaBuf.subarray(thaOff, thaOff + 6) : ZERO_MAC;
    if (thaBuf) tx.set(tha, 0);
    else tx.fill(0xff, 0, 6);
    tx.set(vnic.mac, 6);
    tx[12] = ETH_TYPE_ARP >>> 8;
    tx[13] = ETH_TYPE_ARP & 0xff;
    encodeArp(
      { op, sha: vnic.mac, spa: ipv4Bytes(spa), tha: Uint8Array.from(tha), tpa: ipv4Bytes(tpa) },
      tx,
      ETH_HEADER_LEN,
    );
    if (op === ARP_OP_REQUEST) this.counters.ArpOutRequests++;
    else this.counters.ArpOutReplies++;
    this.wireOut(vnic, tx, ETH_HEADER_LEN + ARP_ETH_IPV4_LEN);
  }

  private sendNeighborSolicit(vnic: Vnic, target: Uint32Array): void {
    if (!vnic.ipv6) return;
    // RFC 4861 §7.2.2: to the target's solicited-node group ff02::1:ffXX:XXXX.
    const group = this.words;
    group[0] = 0xff020000;
    group[1] = 0;
    group[2] = 1;
    group[3] = (0xff000000 | (target[3] & 0xffffff)) >>> 0;
    const l4 = L4_OFF_V6;
    encodeIcmpv6(
      {
        type: ND_NEIGHBOR_SOLICIT,
        target: ipv6Bytes(target),
        options: [ndLinkAddrOption(ND_OPT_SOURCE_LINKADDR, vnic.mac)],
      },
      this.tx,
      l4,
    );
    this.counters.NdOutSolicits++;
    this.sendIp6On(vnic, group, IPPROTO_ICMPV6, 32, ND_HOP_LIMIT, 0, null);
  }

  /** An NA for our address: solicited (to `dst`) or unsolicited (to all-nodes). */
  private sendNeighborAdvert(vnic: Vnic, dst: Uint32Array | null): void {
    if (!vnic.ipv6) return;
    const to = this.words;
    if (dst) to.set(dst);
    else to.set(ALL_NODES);
    encodeIcmpv6(
      {
        type: ND_NEIGHBOR_ADVERT,
        solicited: dst !== null,
        override: true,
        target: ipv6Bytes(vnic.ipv6.words),
        options: [ndLinkAddrOption(ND_OPT_TARGET_LINKADDR, vnic.mac)],
      },
      this.tx,
      L4_OFF_V6,
    );
    this.counters.NdOutAdverts++;
    this.sendIp6On(vnic, to, IPPROTO_ICMPV6, 32, ND_HOP_LIMIT, 0, null);
  }

  private ndIn(vnic: Vnic, buf: Uint8Array, end: number): void {
    const m = this.icmp6;
    const ip = this.ip6;
    // RFC 4861 §7.1.1/§7.1.2: hop limit 255, code 0, options sound.
    if (ip.hopLimit !== ND_HOP_LIMIT || m.code !== 0 || m.validateNdOptions() !== undefined) return;
    if (!vnic.ipv6) return;
    const t = m.targetOff;
    const t0 = rd32(buf, t);
    const t1 = rd32(buf, t + 4);
    const t2 = rd32(buf, t + 8);
    const t3 = rd32(buf, t + 12);
    // The link-layer address option, if any.
    let macHi = -1;
    let macLo = 0;
    const want = m.type === ND_NEIGHBOR_SOLICIT ? ND_OPT_SOURCE_LINKADDR : ND_OPT_TARGET_LINKADDR;
    for (let p = m.ndOptionsOff; p + 8 <= end; p += buf[p + 1] * 8) {
      if (buf[p] === want && buf[p + 1] === 1) {
        macHi = (buf[p + 2] << 8) | buf[p + 3];
        macLo = rd32(buf, p + 4);
        break;
      }
    }
    const me = vnic.ipv6.words;
    if (m.type === ND_NEIGHBOR_SOLICIT) {
      this.counters.NdInSolicits++;
      if (t0 !== me[0] || t1 !== me[1] || t2 !== me[2] || t3 !== me[3]) return;
      const s = this.nextHop;
      for (let i = 0; i < 4; i++) s[i] = rd32(buf, ip.srcOff + 4 * i);
      if ((s[0] | s[1] | s[2] | s[3]) === 0) return; // DAD probe: we do not defend (no DAD).
      if (macHi >= 0) vnic.nd.learn(s[0], s[1], s[2], s[3], macHi, macLo, true);
      this.sendNeighborAdvert(vnic, s);
    } else {
      this.counters.NdInAdverts++;
      if (macHi >= 0) vnic.nd.learn(t0, t1, t2, t3, macHi, macLo, false);
    }
  }

  private announce(index: number): void {
    const vnic = this.vnics[index];
    if (!vnic?.carrier) return;
    // Gratuitous ARP: a request for our own address (RFC 5227 §3 "ARP Announcement").
    if (vnic.ipv4) {
      const mine = vnic.ipv4.words[0];
      this.sendArp(vnic, ARP_OP_REQUEST, mine, mine, null, 0);
    }
    if (vnic.ipv6) this.sendNeighborAdvert(vnic, null);
  }

  // ---------------------------------------------------------------- IPv4

  private ipv4In(vnic: Vnic, buf: Uint8Array, off: number, end: number): void {
    const ip = this.ip4.wrap(buf, off, end);
    this.counters.IpInReceives++;
    if (ip.validate() !== undefined || !ip.checksumOk) {
      this.counters.IpInHdrErrors++;
      return;
    }
    const ipEnd = off + ip.totalLength;
    if (ip.isFragment) {
      this.counters.IpReasmFails++;
      return;
    }
    const dst = ip.dst;
    if (this.isLocal4(dst)) {
      this.counters.IpInDelivers++;
      const l4 = off + ip.headerLen;
      const proto = ip.protocol;
      const hook = this.protoHandlers[proto];
      if (hook?.(buf, off, ipEnd - off, vnic) === true) return;
      if (proto === IPPROTO_UDP) this.udpIn(false, buf, off, l4, ipEnd, vnic);
      else if (proto === IPPROTO_ICMP) this.icmp4In(buf, l4, ipEnd);
      else {
        this.counters.IpInUnknownProtos++;
        this.icmpError4(ICMP_DEST_UNREACH, ICMP_CODE_PROTO_UNREACH, 0, buf, off, ipEnd - off);
      }
      return;
    }
    if (!this.ipForward) {
      this.counters.IpInAddrErrors++;
      return;
    }
    this.forward4(vnic, buf, off, ipEnd);
  }

  /** 255.255.255.255 or the broadcast address of one of our subnets. */
  private isBroadcast4(a: number): boolean {
    if (a === 0xffffffff) return true;
    for (let i = 0; i < this.vnics.length; i++) {
      const v = this.vnics[i];
      if (!v.ipv4 || v.prefix4 >= 31) continue;
      const host = 0xffffffff >>> v.prefix4;
      if ((a & ~host) >>> 0 === (v.ipv4.words[0] & ~host) >>> 0 && (a & host) >>> 0 === host)
        return true;
    }
    return false;
  }

  private isLocal4(dst: number): boolean {
    return this.isBroadcast4(dst) || this.ownsAddress(false, this.wordsOf4(dst));
  }

  private forward4(_in: Vnic, buf: Uint8Array, off: number, ipEnd: number): void {
    const ip = this.ip4;
    if (ip.ttl <= 1) {
      this.icmpError4(ICMP_TIME_EXCEEDED, 0, 0, buf, off, ipEnd - off);
      return;
    }
    const out = this.routes.lookup(false, this.wordsOf4(ip.dst));
    if (out < 0) {
      this.counters.IpOutNoRoutes++;
      this.icmpError4(ICMP_DEST_UNREACH, ICMP_CODE_NET_UNREACH, 0, buf, off, ipEnd - off);
      return;
    }
    const vnic = this.vnics[out];
    const len = ipEnd - off;
    if (len > vnic.mtu) {
      this.counters.IpFragFails++;
      // RFC 1191 §4: Fragmentation Needed carries the next-hop MTU in the low 16 bits.
      if (ip.df) this.icmpError4(ICMP_DEST_UNREACH, ICMP_CODE_FRAG_NEEDED, vnic.mtu, buf, off, len);
      return;
    }
    const tx = this.tx;
    tx.set(buf.subarray(off, ipEnd), L3_OFF);
    this.ip4.wrap(tx, L3_OFF, L3_OFF + len).ttl = ip.ttl - 1;
    this.counters.IpForwDatagrams++;
    this.emit(vnic, false, ETH_TYPE_IPV4, L3_OFF + len);
  }

  private icmp4In(buf: Uint8Array, l4: number, end: number): void {
    const m = this.icmp.wrap(buf, l4, end);
    this.counters.IcmpInMsgs++;
    if (m.validate() !== undefined || internetChecksum(buf, l4, end - l4) !== 0) {
      this.counters.IcmpInErrors++;
      return;
    }
    const type = m.type;
    const ip = this.ip4;
    if (type === ICMP_ECHO_REQUEST) {
      this.counters.IcmpInEchos++;
      // Linux's icmp_echo_ignore_broadcasts=1: no answer to a broadcast ping.
      if (!this.ownsAddress(false, this.wordsOf4(ip.dst))) return;
      const len = end - l4;
      if (L4_OFF_V4 + len > TX_BUFFER) return;
      const src = ip.src;
      this.tx.set(buf.subarray(l4, end), L4_OFF_V4);
      this.tx[L4_OFF_V4] = ICMP_ECHO_REPLY;
      this.counters.IcmpOutMsgs++;
      this.counters.IcmpOutEchoReps++;
      this.sendIp4(src, IPPROTO_ICMP, len, 64, ip.tos);
    } else if (type === ICMP_ECHO_REPLY) {
      this.counters.IcmpInEchoReps++;
      this.pings.get(m.id)?.reply(m.seq, ip.ttl);
    } else if (type === ICMP_DEST_UNREACH || type === ICMP_TIME_EXCEEDED) {
      if (type === ICMP_DEST_UNREACH) this.counters.IcmpInDestUnreachs++;
      else this.counters.IcmpInTimeExcds++;
      this.wordsOf4(ip.src);
      this.errorIn(false, type, m.code, m.rest, this.words, buf, l4 + ICMP_HEADER_LEN, end);
    }
  }

  /**
   * Sends an ICMP error about the IPv4 packet at buf[off, off+len) to its source,
   * unless RFC 1122 §3.2.2 forbids it (about an ICMP error, a non-unicast source or
   * destination, a non-first fragment).
   */
  private icmpError4(
    type: number,
    code: number,
    rest: number,
    buf: Uint8Array,
    off: number,
    len: number,
  ): void {
    const q = this.quoted4.wrap(buf, off, off + len);
    const src = q.src;
    const dst = q.dst;
    if (
      src === 0 ||
      src >>> 28 === 0xe ||
      src === 0xffffffff ||
      dst >>> 28 === 0xe ||
      this.isBroadcast4(dst)
    )
      return;
    if (q.isLaterFragment) return;
    if (q.protocol === IPPROTO_ICMP) {
      const t = buf[off + q.headerLen];
      if (t !== ICMP_ECHO_REQUEST && t !== ICMP_ECHO_REPLY) return;
    }
    // Linux's icmp_ratemask covers Destination Unreachable (but not Fragmentation
    // Needed, which PMTU discovery relies on) and Time Exceeded.
    const limited = type === ICMP_TIME_EXCEEDED || code !== ICMP_CODE_FRAG_NEEDED;
    if (limited && !this.icmpRateAllows(false, this.wordsOf4(src), ICMP_RATELIMIT_NS)) return;
    const quote = Math.min(len, ICMP4_QUOTE_MAX);
    if (buf === this.tx) this.tx.copyWithin(L4_OFF_V4 + ICMP_HEADER_LEN, off, off + quote);
    else this.tx.set(buf.subarray(off, off + quote), L4_OFF_V4 + ICMP_HEADER_LEN);
    encodeIcmp({ type, code, rest }, this.tx, L4_OFF_V4);
    this.counters.IcmpOutMsgs++;
    if (type === ICMP_TIME_EXCEEDED) this.counters.IcmpOutTimeExcds++;
    else this.counters.IcmpOutDestUnreachs++;
    this.sendIp4(src, IPPROTO_ICMP, ICMP_HEADER_LEN + quote, 64, 0);
  }

  /**
   * Sends the L4 message already in tx[L4_OFF_V4, +l4Len) to `dst`: routes, writes the
   * IPv4 header and the L4 checksum, resolves the next hop, transmits.
   */
  private sendIp4(dst: number, proto: number, l4Len: number, ttl: number, tos: number): boolean {
    this.counters.IpOutRequests++;
    const out = this.routes.lookup(false, this.wordsOf4(dst));
    if (out < 0) {
      this.counters.IpOutNoRoutes++;
      return false;
    }
    const vnic = this.vnics[out];
    const total = IPV4_HEADER_LEN + l4Len;
    if (total > vnic.mtu) {
      this.counters.IpFragFails++;
      return false;
    }
    const src = vnic.ipv4!.words[0];
    const f = this.ip4Fields;
    f.protocol = proto;
    f.src = src;
    f.dst = dst;
    f.ttl = ttl;
    f.tos = tos;
    f.totalLength = total;
    f.id = this.ipId = (this.ipId + 1) & 0xffff;
    encodeIpv4(f, this.tx, L3_OFF);
    if (proto === IPPROTO_UDP) fillUdpChecksumIpv4(this.tx, L4_OFF_V4, l4Len, src, dst);
    else if (proto === IPPROTO_ICMP) fillIcmpChecksum(this.tx, L4_OFF_V4, l4Len);
    return this.emit(vnic, false, ETH_TYPE_IPV4, L3_OFF + total);
  }

  // ---------------------------------------------------------------- IPv6

  private ipv6In(vnic: Vnic, buf: Uint8Array, off: number, end: number): void {
    const ip = this.ip6.wrap(buf, off, end);
    this.counters.IpInReceives++;
    if (ip.validate() !== undefined || ip.walkExtHeaders() !== undefined) {
      this.counters.IpInHdrErrors++;
      return;
    }
    const ipEnd = off + IPV6_HEADER_LEN + ip.payloadLength;
    if (ip.nwFrag !== 0) {
      this.counters.IpReasmFails++;
      return;
    }
    const d = this.nextHop;
    for (let i = 0; i < 4; i++) d[i] = rd32(buf, ip.dstOff + 4 * i);
    if (this.isLocal6(d)) {
      this.counters.IpInDelivers++;
      const proto = ip.upperProto;
      const l4 = ip.upperOff;
      if (proto === IPPROTO_UDP) this.udpIn(true, buf, off, l4, ipEnd, vnic);
      else if (proto === IPPROTO_ICMPV6) this.icmp6In(vnic, buf, l4, ipEnd);
      else this.counters.IpInUnknownProtos++;
      return;
    }
    if (!this.ipForward || d[0] >>> 24 === 0xff) {
      this.counters.IpInAddrErrors++;
      return;
    }
    this.forward6(buf, off, ipEnd);
  }

  private isLocal6(d: Uint32Array): boolean {
    if (d[0] === 0xff020000 && d[1] === 0 && d[2] === 0 && d[3] === 1) return true;
    const solicited = d[0] === 0xff020000 && d[1] === 0 && d[2] === 1 && d[3] >>> 24 === 0xff;
    for (let i = 0; i < this.vnics.length; i++) {
      const a = this.vnics[i].ipv6;
      if (!a) continue;
      const w = a.words;
      if (w[0] === d[0] && w[1] === d[1] && w[2] === d[2] && w[3] === d[3]) return true;
      if (solicited && (w[3] & 0xffffff) === (d[3] & 0xffffff)) return true;
    }
    return false;
  }

  private forward6(buf: Uint8Array, off: number, ipEnd: number): void {
    const ip = this.ip6;
    const len = ipEnd - off;
    if (ip.hopLimit <= 1) {
      this.icmpError6(ICMPV6_TIME_EXCEEDED, 0, 0, buf, off, len);
      return;
    }
    const out = this.routes.lookup(true, this.nextHop);
    if (out < 0) {
      this.counters.IpOutNoRoutes++;
      this.icmpError6(ICMPV6_DEST_UNREACH, ICMPV6_CODE_NO_ROUTE, 0, buf, off, len);
      return;
    }
    const vnic = this.vnics[out];
    if (len > vnic.mtu) {
      this.counters.IpFragFails++;
      this.icmpError6(ICMPV6_PACKET_TOO_BIG, 0, vnic.mtu, buf, off, len);
      return;
    }
    this.tx.set(buf.subarray(off, ipEnd), L3_OFF);
    this.tx[L3_OFF + 7] = ip.hopLimit - 1;
    this.counters.IpForwDatagrams++;
    this.emit(vnic, true, ETH_TYPE_IPV6, L3_OFF + len);
  }

  private icmp6In(vnic: Vnic, buf: Uint8Array, l4: number, end: number): void {
    const m = this.icmp6.wrap(buf, l4, end);
    const ip = this.ip6;
    this.counters.IcmpInMsgs++;
    if (
      m.validate() !== undefined ||
      l4ChecksumIpv6(buf, l4, end - l4, buf, ip.srcOff, ip.dstOff, IPPROTO_ICMPV6) !== 0
    ) {
      this.counters.IcmpInErrors++;
      return;
    }
    const type = m.type;
    if (type === ND_NEIGHBOR_SOLICIT || type === ND_NEIGHBOR_ADVERT) {
      this.ndIn(vnic, buf, end);
    } else if (type === ICMPV6_ECHO_REQUEST) {
      this.counters.IcmpInEchos++;
      const len = end - l4;
      if (L4_OFF_V6 + len > TX_BUFFER) return;
      const src = this.words;
      for (let i = 0; i < 4; i++) src[i] = rd32(buf, ip.srcOff + 4 * i);
      this.tx.set(buf.subarray(l4, end), L4_OFF_V6);
      this.tx[L4_OFF_V6] = ICMPV6_ECHO_REPLY;
      this.counters.IcmpOutMsgs++;
      this.counters.IcmpOutEchoReps++;
      this.sendIp6(src, IPPROTO_ICMPV6, len, 64, 0);
    } else if (type === ICMPV6_ECHO_REPLY) {
      this.counters.IcmpInEchoReps++;
      this.pings.get(m.id)?.reply(m.seq, ip.hopLimit);
    } else if (
      type === ICMPV6_DEST_UNREACH ||
      type === ICMPV6_TIME_EXCEEDED ||
      type === ICMPV6_PACKET_TOO_BIG
    ) {
      if (type === ICMPV6_TIME_EXCEEDED) this.counters.IcmpInTimeExcds++;
      else this.counters.IcmpInDestUnreachs++;
      const from = this.words;
      for (let i = 0; i < 4; i++) from[i] = rd32(buf, ip.srcOff + 4 * i);
      this.errorIn(true, type, m.code, m.word, from, buf, l4 + ICMP_HEADER_LEN, end);
    }
  }

  /** As icmpError4, RFC 4443 §2.4(e): not about an ICMPv6 error or to a multicast destination. */
  private icmpError6(
    type: number,
    code: number,
    word: number,
    buf: Uint8Array,
    off: number,
    len: number,
  ): void {
    const q = this.quoted6.wrap(buf, off, off + len);
    if (q.validate() !== undefined) return;
    const srcFirst = rd32(buf, q.srcOff);
    if (srcFirst >>> 24 === 0xff) return;
    if (type !== ICMPV6_PACKET_TOO_BIG && rd32(buf, q.dstOff) >>> 24 === 0xff) return;
    if (q.nextHeader === IPPROTO_ICMPV6 && buf[off + IPV6_HEADER_LEN] < 128) return;
    const to = this.words;
    for (let i = 0; i < 4; i++) to[i] = rd32(buf, q.srcOff + 4 * i);
    // Linux's icmpv6_xrlim_allow: Packet Too Big is exempt; the interval shrinks for
    // destinations reached through shorter prefixes (1 s >> ((128 - plen) >> 5)).
    if (type !== ICMPV6_PACKET_TOO_BIG) {
      const out = this.routes.lookup(true, to);
      const plen = out < 0 ? 128 : this.routes.lastLength;
      const tmo = Math.floor(ICMP_RATELIMIT_NS / 2 ** ((128 - plen) >> 5));
      if (!this.icmpRateAllows(true, to, tmo)) return;
    }
    const quote = Math.min(len, ICMP6_QUOTE_MAX);
    if (buf === this.tx) this.tx.copyWithin(L4_OFF_V6 + ICMP_HEADER_LEN, off, off + quote);
    else this.tx.set(buf.subarray(off, off + quote), L4_OFF_V6 + ICMP_HEADER_LEN);
    encodeIcmpv6({ type, code, word }, this.tx, L4_OFF_V6);
    this.counters.IcmpOutMsgs++;
    if (type === ICMPV6_TIME_EXCEEDED) this.counters.IcmpOutTimeExcds++;
    else this.counters.IcmpOutDestUnreachs++;
    this.sendIp6(to, IPPROTO_ICMPV6, ICMP_HEADER_LEN + quote, 64, 0);
  }

  /** Routes and sends the L4 message at tx[L4_OFF_V6, +l4Len) to `dst` (4 words). */
  private sendIp6(
    dst: Uint32Array,
    proto: number,
    l4Len: number,
    hopLimit: number,
    tc: number,
  ): boolean {
    this.counters.IpOutRequests++;
    const out = this.routes.lookup(true, dst);
    if (out < 0) {
      this.counters.IpOutNoRoutes++;
      return false;
    }
    return this.sendIp6On(this.vnics[out], dst, proto, l4Len, hopLimit, tc, this.nextHop);
  }

  /** Sends on a known vNIC; `nextHop` null means on-link to `dst` (or multicast). */
  private sendIp6On(
    vnic: Vnic,
    dst: Uint32Array,
    proto: number,
    l4Len: number,
    hopLimit: number,
    tc: number,
    nextHop: Uint32Array | null,
  ): boolean {
    if (!vnic.ipv6) return false;
    const total = IPV6_HEADER_LEN + l4Len;
    if (total > vnic.mtu) {
      this.counters.IpFragFails++;
      return false;
    }
    const f = this.ip6Fields;
    f.protocol = proto;
    putWords(f.src, vnic.ipv6.words);
    putWords(f.dst, dst);
    f.hopLimit = hopLimit;
    f.trafficClass = tc;
    f.payloadLength = l4Len;
    encodeIpv6(f, this.tx, L3_OFF);
    const srcOff = L3_OFF + 8;
    const dstOff = L3_OFF + 24;
    if (proto === IPPROTO_UDP)
      fillUdpChecksumIpv6(this.tx, L4_OFF_V6, l4Len, this.tx, srcOff, dstOff);
    else if (proto === IPPROTO_ICMPV6)
      fillIcmpv6Checksum(this.tx, L4_OFF_V6, l4Len, this.tx, srcOff, dstOff);
    if (!nextHop) this.nextHop.set(dst);
    return this.emit(vnic, true, ETH_TYPE_IPV6, L3_OFF + total);
  }

  // ---------------------------------------------------------------- UDP and errors

  private udpIn(
    v6: boolean,
    buf: Uint8Array,
    ipOff: number,
    l4: number,
    end: number,
    vnic: Vnic,
  ): void {
    const u = this.udp.wrap(buf, l4, end);
    if (u.validate() !== undefined) {
      this.counters.IpInHdrErrors++;
      return;
    }
    const udpEnd = l4 + u.length;
    // RFC 768: a zero checksum over IPv4 means none; over IPv6 it is mandatory (RFC 8200 §8.1).
    const csum = u.checksum;
    if (v6 || csum !== 0) {
      const ok = v6
        ? l4ChecksumIpv6(
            buf,
            l4,
            udpEnd - l4,
            buf,
            this.ip6.srcOff,
            this.ip6.dstOff,
            IPPROTO_UDP,
          ) === 0
        : l4ChecksumIpv4(buf, l4, udpEnd - l4, this.ip4.src, this.ip4.dst, IPPROTO_UDP) === 0;
      if (!ok) {
        this.counters.UdpInCsumErrors++;
        return;
      }
    }
    if (!v6 && this.udpHandlers.size !== 0) {
      const hook = this.udpHandlers.get(u.dstPort);
      if (hook?.(buf, ipOff, end - ipOff, vnic) === true) {
        this.counters.UdpInDatagrams++;
        return;
      }
    }
    const socket = this.udpPorts.get(u.dstPort);
    if (!socket) {
      this.counters.UdpNoPorts++;
      if (v6)
        this.icmpError6(ICMPV6_DEST_UNREACH, ICMPV6_CODE_PORT_UNREACH, 0, buf, ipOff, end - ipOff);
      else this.icmpError4(ICMP_DEST_UNREACH, ICMP_CODE_PORT_UNREACH, 0, buf, ipOff, end - ipOff);
      return;
    }
    this.counters.UdpInDatagrams++;
    const peer = socket.peer;
    const w = peer.address.words;
    if (v6) {
      for (let i = 0; i < 4; i++) w[i] = rd32(buf, this.ip6.srcOff + 4 * i);
    } else {
      w[0] = this.ip4.src;
      w[1] = w[2] = w[3] = 0;
    }
    (peer.address as { v6: boolean }).v6 = v6;
    peer.port = u.srcPort;
    socket.deliver(buf, l4 + UDP_HEADER_LEN, udpEnd - l4 - UDP_HEADER_LEN);
  }

  /**
   * An ICMP(v6) error arrived (or a neighbour failed, with ourselves as `from`): find
   * the ping session or UDP socket whose packet is quoted at buf[qOff, end). `info` is
   * the word after the checksum (the next-hop MTU of Fragmentation Needed / Packet Too
   * Big).
   */
  private errorIn(
    v6: boolean,
    type: number,
    code: number,
    info: number,
    from: Uint32Array,
    buf: Uint8Array,
    qOff: number,
    end: number,
  ): void {
    let proto: number;
    let l4: number;
    if (v6) {
      const q = this.quoted6.wrap(buf, qOff, end);
      if (end - qOff < IPV6_HEADER_LEN + 8) return;
      proto = q.nextHeader;
      l4 = qOff + IPV6_HEADER_LEN;
    } else {
      const q = this.quoted4.wrap(buf, qOff, end);
      if (end - qOff < IPV4_HEADER_LEN || end - qOff < q.headerLen + 8) return;
      proto = q.protocol;
      l4 = qOff + q.headerLen;
    }
    const reporter: IpAddress = { v6, words: Uint32Array.from(from) };
    if (proto === (v6 ? IPPROTO_ICMPV6 : IPPROTO_ICMP)) {
      const id = (buf[l4 + 4] << 8) | buf[l4 + 5];
      const seq = (buf[l4 + 6] << 8) | buf[l4 + 7];
      this.pings.get(id)?.error(seq, type, code, formatIp(reporter), mtuOf(v6, type, code, info));
    } else if (proto === IPPROTO_UDP) {
      const socket = this.udpPorts.get((buf[l4] << 8) | buf[l4 + 1]);
      if (!socket?.onError) return;
      const dst = new Uint32Array(4);
      if (v6) for (let i = 0; i < 4; i++) dst[i] = rd32(buf, qOff + 24 + 4 * i);
      else dst[0] = rd32(buf, qOff + 16);
      socket.onError({
        v6,
        type,
        code,
        reporter,
        dst: { v6, words: dst },
        dstPort: (buf[l4 + 2] << 8) | buf[l4 + 3],
        mtu: mtuOf(v6, type, code, info),
        timeNs: this.scheduler.nowNs(),
      });
    }
  }

  /** A held frame whose next hop never answered ARP/NS. */
  private unresolved(v6: boolean, frame: Uint8Array, length: number): void {
    this.counters.NeighUnresolved++;
    const ipOff = ETH_HEADER_LEN;
    if (v6) {
      const q = this.quoted6.wrap(frame, ipOff, length);
      const src = this.words;
      for (let i = 0; i < 4; i++) src[i] = rd32(frame, q.srcOff + 4 * i);
      if (this.isLocal6(src))
        this.errorIn(
          true,
          ICMPV6_DEST_UNREACH,
          ICMPV6_CODE_ADDR_UNREACH,
          0,
          src,
          frame,
          ipOff,
          length,
        );
      else {
        const len = Math.min(length - ipOff, IPV6_HEADER_LEN + q.payloadLength);
        this.icmpError6(ICMPV6_DEST_UNREACH, ICMPV6_CODE_ADDR_UNREACH, 0, frame, ipOff, len);
      }
    } else {
      const q = this.quoted4.wrap(frame, ipOff, length);
      const src = q.src;
      if (this.isLocal4(src)) {
        this.wordsOf4(src);
        this.errorIn(
          false,
          ICMP_DEST_UNREACH,
          ICMP_CODE_HOST_UNREACH,
          0,
          this.words,
          frame,
          ipOff,
          length,
        );
      } else {
        const len = Math.min(length - ipOff, q.totalLength);
        this.icmpError4(ICMP_DEST_UNREACH, ICMP_CODE_HOST_UNREACH, 0, frame, ipOff, len);
      }
    }
  }

  // ---------------------------------------------------------------- routing and L2 out

  /** Puts IPv4 `addr` in this.words and returns it. */
  private wordsOf4(addr: number): Uint32Array {
    const w = this.words;
    w[0] = addr;
    w[1] = w[2] = w[3] = 0;
    return w;
  }

  /**
   * Writes the Ethernet header for tx[0, len) on `vnic` towards this.nextHop and sends
   * it, or leaves it with the neighbour table until the next hop answers.
   */
  private emit(vnic: Vnic, v6: boolean, type: number, len: number): boolean {
    const tx = this.tx;
    tx.set(vnic.mac, 6);
    tx[12] = type >>> 8;
    tx[13] = type & 0xff;
    if (len < ETH_MIN_FRAME) {
      tx.fill(0, len, ETH_MIN_FRAME);
      len = ETH_MIN_FRAME;
    }
    const nh = this.nextHop;
    if (this.ownsAddress(v6, nh)) {
      // To ourselves: Linux would use lo; we hand the frame back to our own stack one
      // event later, so a ping to our own address answers with a zero RTT.
      tx.set(vnic.mac, 0);
      const copy = Uint8Array.from(tx.subarray(0, len));
      this.scheduler.schedule(0, () => this.frameIn(vnic, copy, 0, len));
      return true;
    }
    if (v6) {
      if (nh[0] >>> 24 === 0xff) {
        // RFC 2464 §7: 33:33 and the group's last 32 bits.
        tx[0] = 0x33;
        tx[1] = 0x33;
        tx[2] = nh[3] >>> 24;
        tx[3] = (nh[3] >>> 16) & 0xff;
        tx[4] = (nh[3] >>> 8) & 0xff;
        tx[5] = nh[3] & 0xff;
      } else if (!vnic.nd.resolve(nh[0], nh[1], nh[2], nh[3], tx, 0, len)) return true;
    } else if (this.isBroadcast4(nh[0])) tx.fill(0xff, 0, 6);
    else if (!vnic.arp.resolve(nh[0], 0, 0, 0, tx, 0, len)) return true;
    return this.wireOut(vnic, tx, len);
  }

  /**
   * Linux's inet_peer_xrlim_allow: a token bucket per destination, `intervalNs` per
   * token, at most XRLIM_BURST_FACTOR (6) tokens, full for a destination not seen before.
   */
  private icmpRateAllows(v6: boolean, dst: Uint32Array, intervalNs: number): boolean {
    const key = v6 ? `${dst[0]}:${dst[1]}:${dst[2]}:${dst[3]}` : `${dst[0]}`;
    const now = this.scheduler.nowNs();
    const cap = XRLIM_BURST_FACTOR * intervalNs;
    let b = this.icmpPeers.get(key);
    if (!b) {
      b = { tokens: cap, lastNs: now };
      this.icmpPeers.set(key, b);
    }
    let tokens = Math.min(cap, b.tokens + (now - b.lastNs));
    b.lastNs = now;
    const ok = tokens >= intervalNs;
    if (ok) tokens -= intervalNs;
    else this.counters.IcmpOutRateLimitHost++;
    b.tokens = tokens;
    return ok;
  }

  /** Whether `w` (4 words) is a unicast address of one of our vNICs. */
  private ownsAddress(v6: boolean, w: Uint32Array): boolean {
    for (let i = 0; i < this.vnics.length; i++) {
      const a = v6 ? this.vnics[i].ipv6 : this.vnics[i].ipv4;
      if (a && ipEqualsWords(a, v6, w, 0)) return true;
    }
    return false;
  }

  private wireOut(vnic: Vnic, frame: Uint8Array, len: number): boolean {
    const wire = vnic.wire;
    if (!wire) return false;
    if (len < ETH_MIN_FRAME) {
      frame.fill(0, len, ETH_MIN_FRAME);
      len = ETH_MIN_FRAME;
    }
    return wire.transmit(frame, 0, len);
  }
}

const ZERO_MAC = new Uint8Array(6);
const ALL_NODES = Uint32Array.of(0xff020000, 0, 0, 1);

/** The next-hop MTU an ICMP error carries (RFC 1191 §4, RFC 4443 §3.2), else undefined. */
function mtuOf(v6: boolean, type: number, code: number, info: number): number | undefined {
  if (v6) return type === ICMPV6_PACKET_TOO_BIG ? info >>> 0 : undefined;
  return type === ICMP_DEST_UNREACH && code === ICMP_CODE_FRAG_NEEDED ? info & 0xffff : undefined;
}

function zero(v6: boolean): IpAddress {
  return { v6, words: new Uint32Array(4) };
}

function rd32(b: Uint8Array, o: number): number {
  return ((b[o] << 24) | (b[o + 1] << 16) | (b[o + 2] << 8) | b[o + 3]) >>> 0;
}

function ipv4Bytes(a: number): Uint8Array {
  return Uint8Array.of(a >>> 24, (a >>> 16) & 0xff, (a >>> 8) & 0xff, a & 0xff);
}

function ipv6Bytes(w: Uint32Array): Uint8Array {
  const b = new Uint8Array(16);
  putWords(b, w);
  return b;
}

function putWords(b: Uint8Array, w: Uint32Array): void {
  for (let i = 0; i < 4; i++) {
    b[4 * i] = w[i] >>> 24;
    b[4 * i + 1] = (w[i] >>> 16) & 0xff;
    b[4 * i + 2] = (w[i] >>> 8) & 0xff;
    b[4 * i + 3] = w[i] & 0xff;
  }
}
