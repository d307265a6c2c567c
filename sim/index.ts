/**
 * sim/ — the world every packet lives in: a virtual clock and event scheduler, links
 * with latency, jitter, bandwidth, queues, loss and MTU, and emulated VMs and
 * containers with a small, honest IP stack. (Mininet's role, in one deterministic
 * process.)
 *
 * Overview
 * A `World` owns one `Scheduler` (integer virtual nanoseconds; events ordered by
 * time, priority, sequence) and one seeded `Rng` (xoshiro128**). Everything that
 * waits — a frame crossing a link, an ARP retry, a ping interval — is an event on that
 * scheduler, and everything random — link loss — draws from that RNG, so a topology
 * and a seed determine the run bit for bit. Tests and batch runs drive the scheduler
 * as fast as possible (`run`, `runUntilIdle`, `runUntil`); the daemon wraps it in a
 * `RealtimeDriver` that paces it to the wall clock.
 *
 * A `Link` joins two `LinkPort`s — anything with `receive(frame, offset, length)`:
 * an endpoint's `Vnic` today, a datapath vport later. An `Endpoint` is a VM or
 * container: vNICs with MAC/IPv4/IPv6/gateway/MTU, ARP and ND neighbour tables, a
 * routing table, ICMP/ICMPv6 echo and errors, UDP sockets, optional forwarding, and
 * the tools people reach for: `ping`, `traceroute`, an iperf-like `TrafficGenerator`,
 * a pcap `PortCapture` and a `PacketLog`.
 *
 * Glossary
 * - "virtual time": integer nanoseconds since the world began, a JS number (exact to
 *   2^53 ns ≈ 104 days). Nothing in sim/ but realtime.ts reads the wall clock.
 * - "event": a function and one number argument, run at a virtual time. Hot paths bind
 *   their handler once and pass a slot index, so scheduling allocates nothing.
 * - "wire": the transmit side a link hands each port it joins.
 * - "tx / rx / drop": a frame offered to a link, delivered by it, or discarded (with a
 *   reason: down, mtu, loss, queue) — the three things a link tap sees.
 * - "neighbour": an on-link IP address and its MAC, learnt by ARP (IPv4) or NS/NA
 *   (IPv6); states INCOMPLETE and REACHABLE, as Linux names them.
 *
 * Invariants
 * - Same topology, same seed, same calls → same packet log (tested).
 * - A link's counters satisfy tx = rx + drops + in flight, per direction.
 * - Bad parameters are refused when a link, endpoint or vNIC is made or changed, with
 *   an error from errors.ts that names the object and quotes the value; expected
 *   outcomes (drops, unreachable hosts, lost pings) are counters and results, never
 *   exceptions.
 * - Frames are real Ethernet bytes built and parsed with packet/, with correct IPv4,
 *   ICMP, ICMPv6 and UDP checksums (checked against tshark in test/interop).
 * - An idle world is idle: timers exist only while work is pending (no periodic ARP
 *   sweeps), so `runUntilIdle()` terminates.
 *
 * Typical use
 *   const world = new World({ seed: 7 });
 *   const h1 = world.endpoint("h1", { vnics: [{ ipv4: "10.0.0.1/24" }] });
 *   const h2 = world.endpoint("h2", { vnics: [{ ipv4: "10.0.0.2/24" }] });
 *   const link = world.link(h1.vnics[0], h2.vnics[0], { latency: "10ms", bandwidth: "100Mbit", loss: "1%" });
 *   const ping = h1.ping("10.0.0.2", { count: 3 });
 *   world.runUntilIdle();
 *   ping.result; // { transmitted: 3, received: 3, rttAvgNs: …, … }
 *   link.set({ latency: "50ms" }); // at run time, as Mininet users expect
 *
 * Who may call what: lower modules (datapath, overlay, vswitchd) never import sim/;
 * they take a `Clock` (`nowNs()`), and sim/ puts them on links through a `FramePort`
 * (whose `transmit` is datapath/'s NetdevPort and whose handler feeds Dpif.receive).
 */
export { PortCapture } from "./capture.js";
export {
  Endpoint,
  type EndpointContext,
  type EndpointCounters,
  type EndpointOptions,
  type IpPacketHandler,
  RAW_TX,
  type RawTxResult,
} from "./endpoint.js";
export {
  InvalidAddressError,
  InvalidDelayError,
  InvalidParameterError,
  InvalidUnitError,
  NotIdleError,
  PortInUseError,
  SimError,
  type SimErrorCode,
  SocketError,
} from "./errors.js";
export { type FrameHandler, FramePort } from "./frame-port.js";
export { Hypervisor, type HypervisorOptions } from "./hypervisor.js";
export { formatIp, type IpAddress, type IpPrefix, parseIp, parsePrefix } from "./ip-address.js";
// Topologies as code (topology.ts builds, network.ts runs, journey.ts follows one
// packet; topology-schema.ts is the model both the builder and the YAML/JSON loader
// produce, validated before anything starts).
export {
  describeFrame,
  Journey,
  type JourneyHop,
  type JourneyOptions,
  type JourneyResult,
} from "./journey.js";
export {
  DROP_REASONS,
  type DropReason,
  Link,
  type LinkContext,
  type LinkDirectionStats,
  type LinkOptions,
  type LinkPort,
  type LinkTap,
  type TapKind,
  type Wire,
} from "./link.js";
export {
  DEFAULT_NEIGHBOR_CONFIG,
  type NeighborConfig,
  type NeighborEntrySnapshot,
} from "./neighbor-table.js";
export {
  Network,
  type PingAllResult,
  type PingPair,
  type TrafficSpec,
  type VmLike,
} from "./network.js";
export { fnv1a, PacketLog } from "./packet-log.js";
export {
  formatPing,
  type PingError,
  type PingOptions,
  type PingReply,
  type PingResult,
  PingSession,
} from "./ping.js";
export { RealtimeDriver, type RealtimeOptions } from "./realtime.js";
export { Rng } from "./rng.js";
export {
  type Clock,
  DEFAULT_MAX_EVENTS,
  type EventFn,
  type EventHandle,
  type RunOptions,
  Scheduler,
} from "./scheduler.js";
export {
  BridgeRef,
  HostRef,
  type MeshOptions,
  meshPortName,
  type StartOptions,
  Topology,
  type TopologyOptions,
  tunnelPortName,
  VmRef,
} from "./topology.js";
export {
  TopologyError,
  type TopologyErrorCode,
  TopologyValidationError,
} from "./topology-errors.js";
export {
  type BridgeSpec,
  checkTopology,
  defaultVmMtu,
  defaultVmMtus,
  type HostSpec,
  type LinkSpec,
  type OverlaySpec,
  type RouterSpec,
  type SwitchSpec,
  type TopologySpec,
  TUNNEL_OVERHEAD,
  type TunnelType as TopologyTunnelType,
  type UplinkSpec,
  type VmSpec,
  validateTopology,
} from "./topology-schema.js";
export { loadTopologyFile, parseTopology } from "./topology-yaml.js";
export {
  formatTraceroute,
  type TracerouteHop,
  type TracerouteOptions,
  type TracerouteResult,
  TracerouteSession,
} from "./traceroute.js";
export { type FlowReport, type FlowSpec, TrafficGenerator } from "./traffic.js";
export { type SendOptions, type UdpError, type UdpPeer, UdpSocket } from "./udp-socket.js";
export { UnderlaySwitch, UnderlaySwitchPort } from "./underlay-switch.js";
export {
  formatDurationNs,
  formatRateBps,
  parseBytes,
  parseDurationNs,
  parseProbability,
  parseRateBps,
} from "./units.js";
export { Vnic, type VnicOptions } from "./vnic.js";
export { World, type WorldOptions } from "./world.js";
