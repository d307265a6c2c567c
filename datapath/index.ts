/**
 * datapath/ — the fast path: what OVS's userspace datapath (lib/dpif-netdev.c) is.
 *
 * Overview
 * The datapath knows nothing of OpenFlow. It caches decisions vswitchd made, as
 * "megaflows" (key, mask → actions), and asks vswitchd about everything else by
 * "upcall". A frame arriving on a vport is turned into a flow key, looked up in the
 * exact-match cache, then in the megaflow classifier; a hit runs the megaflow's
 * datapath actions, a miss queues an upcall. vswitchd talks to it only through `Dpif`
 * (flowPut/flowDel/flowGet/flowDump, execute, upcalls, ports, stats).
 *
 * Glossary
 * - "megaflow": a wildcarded datapath flow: key, mask, actions, stats, ufid.
 * - "subtable": all megaflows sharing one mask, one hash table (subtable.ts).
 * - "tuple-space search": trying subtables one by one (classifier.ts).
 * - "EMC": the exact-match cache in front of the classifier (emc.ts).
 * - "upcall": a packet handed to vswitchd; "miss" or "action" (upcall.ts).
 * - "vport": a datapath port: netdev, internal, or a tunnel type from overlay/.
 * - "ufid": a megaflow's 128-bit unique id, printed as a UUID.
 * - "recirculation": looking a packet up again with a new recirc_id (recirc action).
 *
 * Invariants
 * - Megaflows never overlap; vswitchd guarantees it and `checkOverlap` asserts it. So
 *   the classifier needs no priorities, and an EMC entry can be verified against its
 *   megaflow's masked key: the EMC never changes an answer, only its cost.
 * - Actions are validated at flowPut; nothing throws per packet. Malformed frames are
 *   extracted as far as possible and looked up; runts (< 14 bytes) are counted and
 *   dropped (`rxInvalid`).
 * - The receive path allocates nothing (upcalls excepted): keys, layers, scratch
 *   frames and stats are preallocated typed arrays.
 * - Time is `clock.nowNs()` from the caller; randomness (EMC insertion, sample) is a
 *   seeded generator. Same inputs, same run.
 *
 * Contracts with other modules
 * - Keys and masks are packet/ FlowKeys. A megaflow key's metadata words are the
 *   datapath's: in_port (W_IN_PORT, the datapath port number), recirc_id, tunnel
 *   (filled by a tunnel vport's tnl_pop hook), skb_mark/priority, dp_hash. Registers
 *   and OpenFlow metadata are never part of a datapath key: masks must leave them 0.
 * - A megaflow for untagged traffic should match W_VLAN0 exactly 0 (parseOdpKey does
 *   that when no vlan(...) is given), else tagged frames match it too.
 * - Frames handed to a port's transmit are valid during the call only; a port must
 *   not call back into the same Dpif's receive synchronously (schedule it).
 * - Upcalls own copies of their packet and key; deliver them with handleUpcalls() (or
 *   recvUpcall()) when the simulation decides the upcall has been serviced.
 *
 * Typical use
 *   const dp = new Dpif({ clock: { nowNs: () => sim.now } });
 *   dp.addPort({ name: "p1", type: "netdev", portNo: 1, port: link1 });
 *   dp.setUpcallHandler((u) => vswitchd.handleUpcall(u));
 *   dp.flowPut(key, mask, "set(ipv4(ttl=63)),2");
 *   dp.receive(1, frame, 0, frame.length);        // sim delivers frames
 *   dp.handleUpcalls();                             // sim schedules upcall delivery
 *   formatDumpFlows(dp);                            // dpctl/dump-flows text
 *
 * Public surface: Dpif and its types, PacketBatch, the vport interfaces, action types,
 * the ODP text parsers/printers (keys and actions), dump-flows/show formatting, errors.
 */
export type {
  CloneAction,
  DpAction,
  DpActions,
  OutputAction,
  PopVlanAction,
  PushVlanAction,
  RecircAction,
  SampleAction,
  SetAction,
  SetAttr,
  TnlPopAction,
  TnlPushAction,
  TruncAction,
  UserspaceAction,
} from "./actions.js";
export { makeActions, SAMPLE_ALWAYS } from "./actions.js";
export {
  BATCH_SIZE,
  type DatapathClock,
  type DpFlow,
  Dpif,
  type DpifOptions,
  type DpifStats,
  type FlowExtractFn,
  type FlowPutOptions,
  type FlowSelector,
  type FlowStats,
  formatUfid,
  ODPP_NONE,
  PacketBatch,
  parseUfid,
  type TunnelHooks,
} from "./dpif.js";
export {
  dpctlAddFlow,
  dpctlDelFlow,
  dpctlModFlow,
  formatDpctlShow,
  formatDpFlow,
  formatDumpFlows,
  formatPmdStatsShow,
  formatTcpFlagsShort,
} from "./dump-flows.js";
export { EMC_ENTRIES, EMC_INSERT_INV_PROB_DEFAULT, EMC_SHIFT } from "./emc.js";
export {
  DATAPATH_ERROR_CODES,
  DatapathError,
  type DatapathErrorCode,
  OdpParseError,
} from "./errors.js";
export { EXEC_HEADROOM, MAX_EXEC_DEPTH } from "./execute.js";
export { hashAdd, hashFinish } from "./flow-hash.js";
export { formatOdpActions } from "./odp-actions-format.js";
export { parseOdpActions } from "./odp-actions-parse.js";
export { formatOdpKey } from "./odp-key-format.js";
export { checkOdpKeyFit, type OdpFlowMatch, parseOdpKey } from "./odp-key-parse.js";
export {
  buildTnlPushHeader,
  OVS_VPORT_TYPE_GENEVE,
  OVS_VPORT_TYPE_GRE,
  OVS_VPORT_TYPE_VXLAN,
} from "./tnl-push-header.js";
export {
  UPCALL_QUEUE_DEFAULT,
  type Upcall,
  type UpcallHandler,
  type UpcallType,
} from "./upcall.js";
export {
  isTunnelPort,
  type NetdevPort,
  type TunnelPort,
  type Vport,
  type VportFactory,
  type VportImpl,
  type VportSpec,
} from "./vport.js";
