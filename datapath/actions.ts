/**
 * Datapath actions in parsed form: what a megaflow does to a packet. OVS: the
 * OVS_ACTION_ATTR_* netlink attributes of lib/odp-util.c / datapath/linux.
 *
 * The text syntax (`set(ipv4(src=10.0.0.1,ttl=63)),push_vlan(vid=10,pcp=0),2`) is
 * parsed by odp-actions-parse.ts and printed by odp-actions-format.ts. A `set` action
 * carries its value and mask in flow-key layout (only the words of its attribute are
 * meaningful), so the executor and the key printer share one representation.
 *
 * Invariant: every DpActions that reaches the executor came out of the parser or
 * `validateActions`, so execution never meets an unknown or malformed action.
 */
import type { FlowKey } from "../packet/index.js";

/** Key attributes a `set(...)` action may modify. */
export type SetAttr =
  | "eth"
  | "ipv4"
  | "ipv6"
  | "tcp"
  | "udp"
  | "skb_mark"
  | "skb_priority"
  | "tunnel";

export interface OutputAction {
  readonly type: "output";
  readonly port: number;
}
export interface PushVlanAction {
  readonly type: "push_vlan";
  readonly tpid: number;
  /** The TCI as it goes on the wire (pcp << 13 | cfi << 12 | vid). */
  readonly tci: number;
}
export interface PopVlanAction {
  readonly type: "pop_vlan";
}
export interface SetAction {
  readonly type: "set";
  /** OVS_ACTION_ATTR_SET_MASKED (some field partly set) versus OVS_ACTION_ATTR_SET. */
  readonly masked: boolean;
  readonly attr: SetAttr;
  readonly key: FlowKey;
  readonly mask: FlowKey;
}
export interface UserspaceAction {
  readonly type: "userspace";
  readonly pid: number;
  /** Raw `userdata(...)` bytes, or null when the cookie is a structured one. */
  readonly userdata: Uint8Array | null;
  /** Everything after `pid=N,` exactly as printed (e.g. `slow_path(action)`), or "". */
  readonly cookie: string;
}
export interface CloneAction {
  readonly type: "clone";
  readonly actions: readonly DpAction[];
}
export interface RecircAction {
  readonly type: "recirc";
  readonly id: number;
}
export interface TruncAction {
  readonly type: "trunc";
  readonly maxLen: number;
}
export interface SampleAction {
  readonly type: "sample";
  /** Probability as OVS stores it: UINT32_MAX means always. */
  readonly probability: number;
  readonly actions: readonly DpAction[];
}
export interface TnlPopAction {
  readonly type: "tnl_pop";
  readonly port: number;
}
export interface TnlPushAction {
  readonly type: "tnl_push";
  readonly tnlPort: number;
  readonly headerSize: number;
  /** OVS_VPORT_TYPE_* of the tunnel (3 GRE, 4 VXLAN, 5 Geneve). */
  readonly headerType: number;
  /** The `eth(...),ipv4(...),udp(...),vxlan(...)` text inside `header(...)`, as written. */
  readonly headerText: string;
  /** The header as bytes, `headerSize` long (see tnl-push-header.ts for what is left 0). */
  readonly header: Uint8Array;
  readonly outPort: number;
}

export type DpAction =
  | OutputAction
  | PushVlanAction
  | PopVlanAction
  | SetAction
  | UserspaceAction
  | CloneAction
  | RecircAction
  | TruncAction
  | SampleAction
  | TnlPopAction
  | TnlPushAction;

/** A megaflow's action list plus what the executor needs to know up front. */
export interface DpActions {
  readonly list: readonly DpAction[];
  /** True when some action changes the frame's bytes or length (work on a copy). */
  readonly modifiesFrame: boolean;
  /** True when some action changes packet metadata in the key (set(tunnel/skb_mark/...)). */
  readonly modifiesKey: boolean;
}

const FRAME_MODIFYING: ReadonlySet<DpAction["type"]> = new Set([
  "push_vlan",
  "pop_vlan",
  "set",
  "tnl_push",
  "tnl_pop",
]);

function modifies(list: readonly DpAction[]): boolean {
  for (const a of list) {
    if (FRAME_MODIFYING.has(a.type)) return true;
    if ((a.type === "clone" || a.type === "sample") && modifies(a.actions)) return true;
  }
  return false;
}

function modifiesKey(list: readonly DpAction[]): boolean {
  for (const a of list)
    if (
      a.type === "set" &&
      (a.attr === "tunnel" || a.attr === "skb_mark" || a.attr === "skb_priority")
    )
      return true;
  return false;
}

/** Wraps a validated action list. */
export function makeActions(list: readonly DpAction[]): DpActions {
  return { list, modifiesFrame: modifies(list), modifiesKey: modifiesKey(list) };
}

/** UINT32_MAX, the probability of a `sample` that always fires. */
export const SAMPLE_ALWAYS = 0xffffffff;
