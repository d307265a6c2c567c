/**
 * Translation ("xlate", ofproto/ofproto-dpif-xlate.c): runs one flow through a
 * bridge's OpenFlow pipeline and produces the datapath actions, in OVS's text syntax,
 * and the megaflow mask — every bit of the flow the decision depended on.
 *
 * How a translation runs
 * 1. The working flow starts as the packet's flow; `base` is what the datapath packet
 *    looks like after the actions emitted so far; `wc` collects examined bits.
 * 2. Table lookups go through the classifier, which ORs what it examined into `wc`.
 *    Actions rewrite the working flow only; a rewrite reaches the datapath action list
 *    when an output needs it ("commit"): `set(eth(..))`, masked `set(ipv4(..))`,
 *    `pop_vlan`/`push_vlan(..)`, in OVS's order (commit_odp_actions).
 * 3. Output to a patch port continues in the peer bridge within the same call, then
 *    restores the flow, so later outputs commit the undo. Output to a tunnel port is
 *    `set(tunnel(..)),vport`, or with native tunnelling `tnl_push(..)` followed by the
 *    underlay bridge's own translation; output to LOCAL of a bridge that owns a VTEP
 *    address gives `tnl_pop(vport)` for tunnel traffic.
 * 4. NORMAL is a VLAN-aware learning switch over the bridge's ports.
 *
 * Limits follow OVS: 64 levels of recursion and 4096 resubmits, after which the whole
 * translation drops. Not here: conntrack, groups, learn, bonds, mirrors, STP.
 */

import {
  formatTunnelHeader,
  type NeighCache,
  type RouteTable,
  type TunnelType,
} from "../overlay/index.js";
import * as K from "../packet/index.js";
import type { OfAction, SubField } from "./actions.js";
import { formatAction } from "./actions.js";
import type { Bridge, OfRule, Port } from "./bridge.js";
import { Classifier } from "./classifier.js";
import {
  ETH_TYPE_IP,
  ETH_TYPE_IPV6,
  fieldMaxMask,
  findField,
  getField,
  isIpAny,
  type MatchField,
  prereqOk,
  setField,
} from "./fields.js";
import { type MacEntry, type MacLearning, macFromWords, macIsMulticast } from "./mac-learning.js";
import { formatIpv4, formatIpv6, formatMac, formatMatch } from "./match-format.js";
import {
  OFPP_ALL,
  OFPP_CONTROLLER,
  OFPP_FLOOD,
  OFPP_IN_PORT,
  OFPP_LOCAL,
  OFPP_NORMAL,
  OFPP_TABLE,
} from "./match-parse.js";

// Plain local bindings: namespace property reads cost on hot paths.
const {
  FLOW_MAX_VLAN_HEADERS,
  FLOW_N_REGS,
  FLOW_TNL_F_CSUM,
  FLOW_TNL_F_DONT_FRAGMENT,
  FLOW_TNL_F_KEY,
  NW_FRAG_SHIFT,
  NW_TOS_SHIFT,
  NW_TTL_SHIFT,
  VLAN_CFI,
  VLAN_PCP_SHIFT,
  VLAN_VID_MASK,
  W_DL_TYPE,
  W_IN_PORT,
  W_METADATA_HI,
  W_METADATA_LO,
  W_NW,
  W_NW_DST,
  W_NW_SRC,
  W_PKT_MARK,
  W_RECIRC_ID,
  W_REG0,
  W_SKB_PRIORITY,
  W_TP,
  W_TUN_DST,
  W_TUN_FLAGS,
  W_TUN_ID_HI,
  W_TUN_ID_LO,
  W_TUN_IPV6_DST,
  W_TUN_SRC,
  W_TUN_TOS_TTL,
  W_VLAN0,
  W_VLAN1,
} = K;

export const XLATE_MAX_DEPTH = 64;
export const XLATE_MAX_RESUBMITS = XLATE_MAX_DEPTH * XLATE_MAX_DEPTH;

/** What translation needs from the switch that owns the bridges. */
export interface XlateEnv {
  bridge(name: string): Bridge | undefined;
  bridges(): Iterable<Bridge>;
  /** The datapath has userspace (native) tunnelling: tnl_push/tnl_pop. */
  readonly tnlPushPop: boolean;
  readonly routes: RouteTable;
  readonly neigh: NeighCache;
  /** IPv4 address (host order) of a bridge's LOCAL port, set by netdev-dummy/ip4addr. */
  address(dev: string): number | undefined;
  /** Datapath port number of a tunnel vport of this type and UDP port. */
  tunnelDpPort(type: TunnelType, dstPort: number): number;
  nowNs(): number;
}

export interface XlateResult {
  /** Datapath actions text, `drop` when empty. */
  readonly actions: string;
  /** The megaflow mask the datapath must install (sound: never wider than examined). */
  readonly mask: Uint32Array;
  /** The megaflow as ofproto/trace prints it. */
  readonly megaflow: string;
  readonly flow: Uint32Array;
  /**
   * The working flow after translation. With `trace` it is the result's own copy;
   * without, it is shared scratch, valid only until the next translation.
   */
  readonly finalFlow: Uint32Array;
  /** ofproto/trace's per-bridge lines. */
  readonly trace: readonly string[];
  /** Rules that took part, for stats crediting. */
  readonly rules: readonly OfRule[];
  /**
   * What the MAC tables told this translation: `macTags[i]` is a (MAC, VLAN) tag
   * (MacLearning.tag) looked up in `macTables[i]`. A megaflow's translation can change
   * through the MAC tables only when one of these entries changes.
   */
  readonly macTags: readonly number[];
  readonly macTables: readonly MacLearning[];
}

const NO_TAGS: readonly number[] = [];
const NO_TABLES: readonly MacLearning[] = [];

const F = (n: string): MatchField => findField(n)!;
const TUN_WORDS_END = W_METADATA_HI;
const UDP_TUNNEL_PORT: Readonly<Record<TunnelType, number>> = { vxlan: 4789, geneve: 6081, gre: 0 };

interface Ctx {
  readonly env: XlateEnv;
  bridge: Bridge;
  flow: Uint32Array;
  base: Uint32Array;
  wc: Uint32Array;
  odp: string[];
  trace: string[];
  depth: number;
  resubmits: number;
  generate: boolean;
  exit: boolean;
  error: string | undefined;
  rule: OfRule | undefined;
  tableId: number;
  recirc: { n: number };
  baseTunnel: string;
  /** Current trace nesting: table lines are indented by 4 per resubmit level. */
  level: number;
  rules: OfRule[];
  /** True while the action being run is the last one of the whole translation. */
  last: boolean;
  recircIds: Map<string, number> | undefined;
  /** The running action is the last of its list: a patch or resubmit there does not nest. */
  tailAction: boolean;
  /** Extra trace indent of table lines inside a nested patch port. */
  tableExtra: number;
  /** Translation depth of the first lookup in a patch peer or underlay bridge. */
  peerDepth: number;
  /** An IP header rewrite ran: OVS then pins nw_proto in the megaflow. */
  l3Touched: boolean;
  /** Build ofproto/trace text (slow); plain upcalls skip it. */
  readonly tracing: boolean;
  /** MAC lookups' revalidation tags and the table of each (parallel arrays). */
  macTags: number[] | undefined;
  macTables: MacLearning[] | undefined;
}

const L3_FIELDS = new Set([
  "arp_spa",
  "arp_tpa",
  "arp_sha",
  "arp_tha",
  "arp_op",
  "nw_src",
  "nw_dst",
  "nw_tos",
  "nw_ecn",
  "ip_dscp",
  "nw_ttl",
  "ipv6_src",
  "ipv6_dst",
  "ipv6_label",
]);

function tr(ctx: Ctx, text: string): void {
  if (!ctx.tracing) return;
  ctx.trace.push(`${" ".repeat(4 + 8 * ctx.level)}${text}`);
}
function note(ctx: Ctx, text: string): void {
  if (ctx.tracing) tr(ctx, ` -> ${text}`);
}
function warn(ctx: Ctx, text: string): void {
  if (ctx.tracing) tr(ctx, ` >> ${text}`);
}

function bridgeHeader(ctx: Ctx, name: string): void {
  if (!ctx.tracing) return;
  const h = `bridge("${name}")`;
  ctx.trace.push(
    "",
    `${" ".repeat(4 * ctx.level)}${h}`,
    `${" ".repeat(4 * ctx.level)}${"-".repeat(h.length)}`,
  );
}

// ---------------------------------------------------------------------------
// Commit: turning working-flow rewrites into datapath set actions.

interface KeyPart {
  readonly name: string;
  readonly f: MatchField;
  readonly fmt: (v: bigint) => string;
  /** Mask bits writable through this set action (0 for read-only parts). */
  readonly writable: bigint;
}

const hexFmt = (v: bigint) => `0x${v.toString(16)}`;
const decFmt = (v: bigint) => String(v);
const ETH_PARTS: KeyPart[] = [
  { name: "src", f: F("dl_src"), fmt: formatMac, writable: fieldMaxMask(F("dl_src")) },
  { name: "dst", f: F("dl_dst"), fmt: formatMac, writable: fieldMaxMask(F("dl_dst")) },
];
const TOS_FIELD: MatchField = {
  name: "tos",
  aliases: [],
  parts: [{ w: W_NW, shift: NW_TOS_SHIFT, bits: 8 }],
  bits: 8,
  format: "hex",
  prereq: "ip_any",
  maskable: true,
};
const IPV4_PARTS: KeyPart[] = [
  { name: "src", f: F("nw_src"), fmt: (v) => formatIpv4(v), writable: 0xffffffffn },
  { name: "dst", f: F("nw_dst"), fmt: (v) => formatIpv4(v), writable: 0xffffffffn },
  { name: "tos", f: TOS_FIELD, fmt: hexFmt, writable: 0xffn },
  { name: "ttl", f: F("nw_ttl"), fmt: decFmt, writable: 0xffn },
];
const IPV6_PARTS: KeyPart[] = [
  { name: "src", f: F("ipv6_src"), fmt: formatIpv6, writable: fieldMaxMask(F("ipv6_src")) },
  { name: "dst", f: F("ipv6_dst"), fmt: formatIpv6, writable: fieldMaxMask(F("ipv6_dst")) },
  { name: "label", f: F("ipv6_label"), fmt: hexFmt, writable: 0xfffffn },
  { name: "tclass", f: TOS_FIELD, fmt: hexFmt, writable: 0xffn },
  { name: "hlimit", f: F("nw_ttl"), fmt: decFmt, writable: 0xffn },
];
const L4_PARTS: KeyPart[] = [
  { name: "src", f: F("tp_src"), fmt: decFmt, writable: 0xffffn },
  { name: "dst", f: F("tp_dst"), fmt: decFmt, writable: 0xffffn },
];
const ARP_PARTS: KeyPart[] = [
  { name: "sip", f: F("arp_spa"), fmt: (v) => formatIpv4(v), writable: 0xffffffffn },
  { name: "tip", f: F("arp_tpa"), fmt: (v) => formatIpv4(v), writable: 0xffffffffn },
  { name: "op", f: F("arp_op"), fmt: decFmt, writable: 0xffn },
  { name: "sha", f: F("arp_sha"), fmt: formatMac, writable: fieldMaxMask(F("arp_sha")) },
  { name: "tha", f: F("arp_tha"), fmt: formatMac, writable: fieldMaxMask(F("arp_tha")) },
];

/**
 * commit(): emits `set(attr(...))` when the flow differs from the base under the
 * wildcard mask. Fields are printed with their wc mask, masked when partial; `base`
 * takes the new values.
 */
function commitGroup(ctx: Ctx, attr: string, parts: readonly KeyPart[]): boolean {
  // Cheap word-level test first: most outputs have nothing to commit.
  let any = 0;
  for (const p of parts)
    for (const pt of p.f.parts) any |= (ctx.flow[pt.w]! ^ ctx.base[pt.w]!) & ctx.wc[pt.w]!;
  if (!any) return false;
  const items: string[] = [];
  let changed = false;
  for (const p of parts) {
    let m = getField(ctx.wc, p.f) & p.writable;
    if (
      p.f === TOS_FIELD &&
      ctx.baseTunnel &&
      ((getField(ctx.flow, p.f) ^ getField(ctx.base, p.f)) & 3n) === 0n
    )
      m &= ~3n;
    if (((getField(ctx.flow, p.f) ^ getField(ctx.base, p.f)) & m) !== 0n) changed = true;
  }
  if (!changed) return false;
  for (const p of parts) {
    let m = getField(ctx.wc, p.f) & p.writable;
    // After set(tunnel), an unchanged ECN is the tunnel's to copy, not ours to set.
    if (
      p.f === TOS_FIELD &&
      ctx.baseTunnel &&
      ((getField(ctx.flow, p.f) ^ getField(ctx.base, p.f)) & 3n) === 0n
    )
      m &= ~3n;
    if (m === 0n || ((getField(ctx.flow, p.f) ^ getField(ctx.base, p.f)) & m) === 0n) continue;
    const v = getField(ctx.flow, p.f) & m;
    items.push(m === p.writable ? `${p.name}=${p.fmt(v)}` : `${p.name}=${p.fmt(v)}/${p.fmt(m)}`);
    setField(ctx.base, p.f, getField(ctx.flow, p.f), m);
  }
  ctx.odp.push(`set(${attr}(${items.join(",")}))`);
  return true;
}

/**
 * commit_set_icmp_action(): ICMP type/code are set unmasked, and once set both are
 * exact in the megaflow. For ICMPv6, is_nd() looks at the type on every commit.
 */
function commitIcmp(ctx: Ctx, t: number, proto: number): void {
  const v4 = t === ETH_TYPE_IP && proto === 1;
  const v6 = t === ETH_TYPE_IPV6 && proto === 58;
  if (!v4 && !v6) return;
  if (v6) ctx.wc[W_TP] = (ctx.wc[W_TP]! | 0x00ff0000) >>> 0;
  const m = ctx.wc[W_TP]! & 0x00ff00ff;
  if (((ctx.flow[W_TP]! ^ ctx.base[W_TP]!) & m) === 0) return;
  const type = (ctx.flow[W_TP]! >>> 16) & 0xff;
  const code = ctx.flow[W_TP]! & 0xff;
  ctx.odp.push(`set(${v4 ? "icmp" : "icmpv6"}(type=${type},code=${code}))`);
  ctx.wc[W_TP] = (ctx.wc[W_TP]! | 0x00ff00ff) >>> 0;
  ctx.base[W_TP] = ctx.flow[W_TP]!;
}

function vlanTci(key: Uint32Array, i: number): number {
  return key[W_VLAN0 + i]! & 0xffff;
}
function vlanCount(key: Uint32Array): number {
  let n = 0;
  while (n < FLOW_MAX_VLAN_HEADERS && vlanTci(key, n) & VLAN_CFI) n++;
  return n;
}

function formatPushVlan(word: number): string {
  const tpid = word >>> 16 || 0x8100;
  const tci = word & 0xffff;
  let s = "push_vlan(";
  if (tpid !== 0x8100) s += `tpid=0x${tpid.toString(16)},`;
  s += `vid=${tci & 0xfff},pcp=${tci >>> 13}`;
  if (!(tci & VLAN_CFI)) s += ",cfi=0";
  return `${s})`;
}

function commitVlan(ctx: Ctx): void {
  let bn = vlanCount(ctx.base);
  let fn = vlanCount(ctx.flow);
  // Skip the common innermost headers (flow_skip_common_vlan_headers).
  while (bn > 0 && fn > 0) {
    const b = ctx.base[W_VLAN0 + bn - 1]!;
    const f = ctx.flow[W_VLAN0 + fn - 1]!;
    if ((b & 0xffff) !== (f & 0xffff) || (b >>> 16 || 0x8100) !== (f >>> 16 || 0x8100)) break;
    bn--;
    fn--;
  }
  for (let i = 0; i < bn; i++) {
    ctx.odp.push("pop_vlan");
    ctx.wc[W_VLAN0 + i] = 0xffffffff;
  }
  for (let i = fn - 1; i >= 0; i--) ctx.odp.push(formatPushVlan(ctx.flow[W_VLAN0 + i]!));
  for (let i = 0; i < FLOW_MAX_VLAN_HEADERS; i++) ctx.base[W_VLAN0 + i] = ctx.flow[W_VLAN0 + i]!;
}

/** commit_odp_actions(): eth, L3, L4, VLAN, in OVS's order. */
function commit(ctx: Ctx): void {
  commitGroup(ctx, "eth", ETH_PARTS);
  const t = ctx.flow[W_DL_TYPE]! & 0xffff;
  const proto = ctx.flow[W_NW]! & 0xff;
  // An L3 set pins the L4 protocol in the megaflow, as OVS's does.
  const l3 =
    t === ETH_TYPE_IP
      ? commitGroup(ctx, "ipv4", IPV4_PARTS)
      : t === ETH_TYPE_IPV6 && commitGroup(ctx, "ipv6", IPV6_PARTS);
  if (l3) ctx.wc[W_NW] = (ctx.wc[W_NW]! | 0xff) >>> 0;
  else if (t === 0x0806 || t === 0x8035) commitGroup(ctx, "arp", ARP_PARTS);
  if (isIpAny(ctx.flow) && !(ctx.flow[W_NW]! & (2 << NW_FRAG_SHIFT))) {
    if (proto === 6) commitGroup(ctx, "tcp", L4_PARTS);
    else if (proto === 17) commitGroup(ctx, "udp", L4_PARTS);
    else if (proto === 132) commitGroup(ctx, "sctp", L4_PARTS);
  }
  commitIcmp(ctx, t, proto);
  commitVlan(ctx);
  for (const w of [W_SKB_PRIORITY, W_PKT_MARK]) {
    if (ctx.flow[w] !== ctx.base[w]) {
      ctx.odp.push(
        w === W_PKT_MARK
          ? `set(skb_mark(${ctx.flow[w]}))`
          : `set(skb_priority(0x${ctx.flow[w]!.toString(16)}))`,
      );
      ctx.base[w] = ctx.flow[w]!;
    }
  }
}

function isArpType(flow: Uint32Array): boolean {
  const t = flow[W_DL_TYPE]! & 0xffff;
  return t === 0x0806 || t === 0x8035;
}

// ---------------------------------------------------------------------------
// Outputs.

function findPeer(ctx: Ctx, port: Port): [Bridge, Port] | undefined {
  const peer = port.options.peer;
  if (!peer) return undefined;
  for (const b of ctx.env.bridges()) {
    const p = b.portByName(peer);
    if (p && p.type === "patch" && p.options.peer === port.name) return [b, p];
  }
  return undefined;
}

function isTunnel(port: Port): port is Port & { type: TunnelType } {
  return port.type === "vxlan" || port.type === "gre" || port.type === "geneve";
}

interface TunnelParams {
  tunId: bigint;
  src: number;
  dst: number;
  tos: number;
  ttl: number;
  tpDst: number;
  flags: number;
  keyPresent: boolean;
}

/** tnl_port_send(): the tunnel metadata an output to `port` gives the packet. */
function tunnelParams(ctx: Ctx, port: Port & { type: TunnelType }): TunnelParams | undefined {
  const o = port.options;
  const flow = ctx.flow;
  const keyOpt = o.out_key ?? o.key;
  const keyPresent = keyOpt !== undefined;
  const tunId = keyOpt === "flow" ? getField(flow, F("tun_id")) : keyPresent ? BigInt(keyOpt) : 0n;
  const dst = o.remote_ip === "flow" ? flow[W_TUN_DST]! : o.remote_ip ? ipNum(o.remote_ip) : 0;
  if (!dst) return undefined;
  const src = o.local_ip === "flow" ? flow[W_TUN_SRC]! : o.local_ip ? ipNum(o.local_ip) : 0;
  let tos = 0;
  const innerTos = (flow[W_NW]! >>> NW_TOS_SHIFT) & 0xff;
  if (isIpAny(flow)) {
    ctx.wc[W_NW] = (ctx.wc[W_NW]! | (0x03 << NW_TOS_SHIFT)) >>> 0;
    if (o.tos === "inherit") {
      ctx.wc[W_NW] = (ctx.wc[W_NW]! | (0xfc << NW_TOS_SHIFT)) >>> 0;
      tos = innerTos & 0xfc;
    }
    const ecn = innerTos & 3;
    tos |= ecn === 3 ? 2 : ecn;
  }
  if (o.tos !== undefined && o.tos !== "inherit") tos = Number(o.tos);
  let ttl = 64;
  if (o.ttl === "inherit") {
    ctx.wc[W_NW] = (ctx.wc[W_NW]! | (0xff << NW_TTL_SHIFT)) >>> 0;
    ttl = (flow[W_NW]! >>> NW_TTL_SHIFT) & 0xff;
  } else if (o.ttl !== undefined) ttl = Number(o.ttl);
  let flags = 0;
  if (o.df_default !== "false") flags |= FLOW_TNL_F_DONT_FRAGMENT;
  if (o.csum === "true") flags |= FLOW_TNL_F_CSUM;
  if (keyPresent) flags |= FLOW_TNL_F_KEY;
  const tpDst = port.type === "gre" ? 0 : Number(o.dst_port ?? UDP_TUNNEL_PORT[port.type]);
  return { tunId, src, dst, tos, ttl, tpDst, flags, keyPresent };
}

function ipNum(text: string): number {
  const p = text.split(".").map(Number);
  return ((p[0]! << 24) | (p[1]! << 16) | (p[2]! << 8) | p[3]!) >>> 0;
}

function formatTunnelSet(t: TunnelParams): string {
  const items: string[] = [];
  if (t.tunId || t.flags & FLOW_TNL_F_KEY) items.push(`tun_id=0x${t.tunId.toString(16)}`);
  if (t.src) items.push(`src=${formatIpv4(t.src)}`);
  items.push(`dst=${formatIpv4(t.dst)}`);
  if (t.tos) items.push(`tos=0x${t.tos.toString(16)}`);
  items.push(`ttl=${t.ttl}`);
  if (t.tpDst) items.push(`tp_dst=${t.tpDst}`);
  const fl = [
    [FLOW_TNL_F_DONT_FRAGMENT, "df"],
    [FLOW_TNL_F_CSUM, "csum"],
    [FLOW_TNL_F_KEY, "key"],
  ]
    .filter(([b]) => t.flags & (b as number))
    .map(([, n]) => n);
  items.push(`flags(${fl.length ? fl.join("|") : "0"})`);
  return `set(tunnel(${items.join(",")}))`;
}

function tunnelOutput(ctx: Ctx, port: Port & { type: TunnelType }): void {
  const t = tunnelParams(ctx, port);
  if (!t) {
    warn(ctx, "tunnel has no remote IP, dropping");
    return;
  }
  const vport = ctx.env.tunnelDpPort(port.type, t.tpDst);
  if (!ctx.env.tnlPushPop) {
    note(ctx, "output to kernel tunnel");
    const s = formatTunnelSet(t);
    if (s !== ctx.baseTunnel) {
      ctx.odp.push(s);
      ctx.baseTunnel = s;
    }
    commit(ctx);
    ctx.odp.push(String(vport));
    return;
  }
  note(ctx, "output to native tunnel");
  // ovs_router_lookup() with a source (local_ip) needs a "local" route for that
  // address; hand-added routes never are, so such a tunnel does not route.
  const route = t.src ? undefined : ctx.env.routes.lookup(t.dst);
  const out = route ? ctx.env.bridge(route.dev) : undefined;
  const srcIp = route?.src || (route ? ctx.env.address(route.dev) : undefined);
  if (!route || !out || !srcIp) {
    warn(ctx, "native tunnel routing failed");
    return;
  }
  note(ctx, `tunneling to ${formatIpv4(t.dst)} via ${route.dev}`);
  const nh = route.gw || t.dst;
  const neigh = ctx.env.neigh.lookup(nh);
  if (!neigh) {
    note(
      ctx,
      `neighbor cache miss for ${formatIpv4(nh)} on bridge ${route.dev}, sending ARP request`,
    );
    return;
  }
  const ethSrc = formatMac(out.hwaddr);
  const ethDst = formatMac(BigInt(neigh.mac));
  const src = t.src || srcIp;
  note(ctx, `tunneling from ${ethSrc} ${formatIpv4(src)} to ${ethDst} ${formatIpv4(t.dst)}`);
  const header = formatTunnelHeader({
    type: port.type,
    ethDst,
    ethSrc,
    ipSrc: formatIpv4(src),
    ipDst: formatIpv4(t.dst),
    tos: t.tos,
    ttl: t.ttl,
    df: (t.flags & FLOW_TNL_F_DONT_FRAGMENT) !== 0,
    dstPort: t.tpDst,
    csum: (t.flags & FLOW_TNL_F_CSUM) !== 0,
    key: t.keyPresent ? t.tunId : undefined,
  });
  commit(ctx);
  const local = out.ports.get(OFPP_LOCAL)!;
  const push = `tnl_push(tnl_port(${vport}),${header},out_port(${local.dpPort}))`;
  // The underlay bridge translates the encapsulated packet; its wildcards do not
  // belong to this megaflow.
  const saved = {
    flow: ctx.flow,
    base: ctx.base,
    wc: ctx.wc,
    odp: ctx.odp,
    bridge: ctx.bridge,
    tunnel: ctx.baseTunnel,
  };
  const outer = K.newFlowKey();
  outer[W_IN_PORT] = OFPP_LOCAL;
  setField(outer, F("dl_src"), out.hwaddr);
  setField(outer, F("dl_dst"), BigInt(neigh.mac));
  outer[W_DL_TYPE] = ETH_TYPE_IP;
  outer[W_NW_SRC] = src;
  outer[W_NW_DST] = t.dst;
  outer[W_NW] =
    ((t.tos << NW_TOS_SHIFT) | (t.ttl << NW_TTL_SHIFT) | (port.type === "gre" ? 47 : 17)) >>> 0;
  outer[W_TP] = t.tpDst;
  ctx.flow = outer;
  ctx.base = outer.slice();
  ctx.wc = K.newFlowKey();
  ctx.odp = [];
  ctx.bridge = out;
  ctx.baseTunnel = "";
  const wasLast = ctx.last;
  const nest = ctx.tailAction ? 0 : 1;
  ctx.level += nest;
  ctx.tableExtra += 4 * nest;
  bridgeHeader(ctx, out.name);
  ctx.peerDepth = ctx.depth + 1;
  xlateTable(ctx, 0);
  ctx.peerDepth = -1;
  ctx.level -= nest;
  ctx.tableExtra -= 4 * nest;
  const inner = ctx.odp;
  ctx.flow = saved.flow;
  ctx.base = saved.base;
  ctx.wc = saved.wc;
  ctx.odp = saved.odp;
  ctx.bridge = saved.bridge;
  ctx.baseTunnel = saved.tunnel;
  ctx.exit = false;
  const all = [push, ...inner].join(",");
  ctx.odp.push(wasLast ? all : `clone(${all})`);
}

/** tnl_port_map_lookup(): is this packet, sent to LOCAL, for one of our tunnel ports? */
function tnlPortLookup(ctx: Ctx): number | undefined {
  const cls = new Classifier<number>([]);
  for (const b of ctx.env.bridges()) {
    for (const p of b.ports.values()) {
      if (!isTunnel(p)) continue;
      const dstPort = p.type === "gre" ? 0 : Number(p.options.dst_port ?? UDP_TUNNEL_PORT[p.type]);
      for (const dev of ctx.env.bridges()) {
        const ip = ctx.env.address(dev.name);
        if (ip === undefined) continue;
        const key = K.newFlowKey();
        const mask = K.newFlowKey();
        setField(key, F("dl_dst"), dev.hwaddr);
        setField(mask, F("dl_dst"), fieldMaxMask(F("dl_dst")));
        key[W_DL_TYPE] = ETH_TYPE_IP;
        mask[W_DL_TYPE] = 0xffff;
        key[W_NW_DST] = ip;
        mask[W_NW_DST] = 0xffffffff;
        key[W_NW] = p.type === "gre" ? 47 : 17;
        mask[W_NW] = 0xff | (3 << NW_FRAG_SHIFT);
        if (dstPort) {
          key[W_TP] = dstPort;
          mask[W_TP] = 0xffff;
        }
        cls.insert(key, mask, 1, ctx.env.tunnelDpPort(p.type, dstPort));
      }
    }
  }
  return cls.lookup(ctx.flow, ctx.wc)?.data;
}

function composeOutput(ctx: Ctx, ofport: number): void {
  const port = ctx.bridge.ports.get(ofport);
  if (!port) {
    warn(ctx, `Nonexistent output port`);
    return;
  }
  if (port.type === "patch") {
    const peer = findPeer(ctx, port);
    if (!peer) {
      warn(ctx, `patch port ${port.name} has no peer`);
      return;
    }
    const [pb, pp] = peer;
    const savedFlow = ctx.flow.slice();
    const savedBridge = ctx.bridge;
    const savedExit = ctx.exit;
    ctx.bridge = pb;
    ctx.flow[W_IN_PORT] = pp.ofport;
    ctx.flow.fill(0, 0, TUN_WORDS_END);
    ctx.flow[W_METADATA_HI] = 0;
    ctx.flow[W_METADATA_LO] = 0;
    ctx.flow.fill(0, W_REG0, W_REG0 + FLOW_N_REGS);
    const nest = ctx.tailAction ? 0 : 1;
    ctx.level += nest;
    ctx.tableExtra += 4 * nest;
    bridgeHeader(ctx, pb.name);
    const savedPeer = ctx.peerDepth;
    ctx.peerDepth = ctx.depth + 1;
    xlateTable(ctx, 0);
    ctx.peerDepth = savedPeer;
    ctx.level -= nest;
    ctx.tableExtra -= 4 * nest;
    ctx.flow = savedFlow;
    ctx.bridge = savedBridge;
    ctx.exit = savedExit;
    return;
  }
  if (isTunnel(port)) {
    tunnelOutput(ctx, port);
    return;
  }
  if (port.dpPort === undefined) {
    warn(ctx, `port ${port.name} has no datapath port`);
    return;
  }
  if (
    ofport === OFPP_LOCAL &&
    ctx.env.tnlPushPop &&
    (ctx.flow[W_DL_TYPE]! & 0xffff) === ETH_TYPE_IP
  ) {
    const tnl = tnlPortLookup(ctx);
    if (tnl !== undefined) {
      commit(ctx);
      ctx.odp.push(`tnl_pop(${tnl})`);
      return;
    }
  }
  commit(ctx);
  ctx.odp.push(String(port.dpPort));
}

// ---------------------------------------------------------------------------
// NORMAL: the VLAN-aware learning switch (xlate_normal).

/** One level of OVS's xvlan: the VLAN a NORMAL bridge thinks a packet is in. */
interface XvlanLevel {
  tpid: number;
  vid: number;
  /** PCP bits in place (tci & 0xe000). */
  pcp: number;
}
type Xvlan = [XvlanLevel, XvlanLevel];

/** 802.1ad, the default qinq-ethtype of dot1q-tunnel ports. */
const QINQ_ETHTYPE = 0x88a8;

function xvlanExtract(flow: Uint32Array): Xvlan {
  const lv = (i: number): XvlanLevel => {
    const w = flow[W_VLAN0 + i]!;
    if (!(w & VLAN_CFI)) return { tpid: 0, vid: 0, pcp: 0 };
    return { tpid: w >>> 16 || 0x8100, vid: w & VLAN_VID_MASK, pcp: w & 0xe000 };
  };
  const v0 = lv(0);
  return [v0, v0.tpid ? lv(1) : { tpid: 0, vid: 0, pcp: 0 }];
}

function isNative(port: Port): boolean {
  return port.vlanMode === "native-tagged" || port.vlanMode === "native-untagged";
}

/** xbundle_trunks_vlan(): a native-mode port without trunks carries every VLAN but 0. */
function trunksVlan(port: Port, vid: number): boolean {
  if (port.vlanMode === "access") return false;
  if (!port.trunks) return !isNative(port) || vid !== 0 || port.tag === 0;
  return port.trunks.has(vid) || (isNative(port) && vid === port.tag);
}

/** input_vid_is_valid(): undefined if allowed, else the reason OVS prints. */
function inputVidRefusal(port: Port, vid: number): string | undefined {
  switch (port.vlanMode) {
    case "access":
      return vid
        ? `dropping VLAN ${vid} tagged packet received on port ${port.name} configured as VLAN ${port.tag ?? 0} access port`
        : undefined;
    case "dot1q-tunnel":
      return undefined;
    default:
      if (isNative(port) && !vid) return undefined;
      return trunksVlan(port, vid)
        ? undefined
        : `dropping VLAN ${vid} packet received on port ${port.name} not configured for trunking VLAN ${vid}`;
  }
}

/** xvlan_input_translate(). */
function xvlanInput(port: Port, inx: Xvlan): Xvlan {
  const tag = port.tag ?? 0;
  const x: Xvlan = [{ ...inx[0] }, { ...inx[1] }];
  switch (port.vlanMode) {
    case "access":
      return [
        { tpid: inx[0].tpid || 0x8100, vid: tag, pcp: inx[0].pcp },
        { tpid: 0, vid: 0, pcp: 0 },
      ];
    case "trunk":
      return x;
    case "dot1q-tunnel":
      return [{ tpid: QINQ_ETHTYPE, vid: tag, pcp: 0 }, x[0]];
    default:
      if (!inx[0].vid) x[0] = { tpid: inx[0].tpid || 0x8100, vid: tag, pcp: inx[0].pcp };
      return x;
  }
}

/** xbundle_includes_vlan(). */
function includesVlan(port: Port, x: Xvlan): boolean {
  switch (port.vlanMode) {
    case "access":
      return x[0].vid === (port.tag ?? 0) && x[1].vid === 0;
    case "dot1q-tunnel":
      return x[0].vid === (port.tag ?? 0);
    default:
      return trunksVlan(port, x[0].vid);
  }
}

/** xvlan_output_translate(). */
function xvlanOutput(port: Port, x: Xvlan): Xvlan {
  const none = { tpid: 0, vid: 0, pcp: 0 };
  switch (port.vlanMode) {
    case "access":
      return [none, none];
    case "native-untagged":
      return x[0].vid === port.tag ? [x[1], none] : x;
    case "dot1q-tunnel":
      return [x[1], none];
    default:
      return x;
  }
}

/** output_normal(): put the port's view of the VLAN on the flow and output. */
function outputNormal(ctx: Ctx, port: Port, x: Xvlan): void {
  const out = xvlanOutput(port, x);
  const old0 = ctx.flow[W_VLAN0]!;
  const old1 = ctx.flow[W_VLAN1]!;
  for (let i = 0; i < 2; i++) {
    const l = out[i]!;
    // xvlan_put(): a zero VID with a nonzero PCP still goes out priority-tagged.
    const present = l.vid !== 0 || l.pcp !== 0;
    ctx.flow[W_VLAN0 + i] = present
      ? (((l.tpid || 0x8100) << 16) | l.pcp | VLAN_CFI | l.vid) >>> 0
      : 0;
  }
  if (!(ctx.flow[W_VLAN0]! & VLAN_CFI)) ctx.flow[W_VLAN1] = 0;
  composeOutput(ctx, port.ofport);
  ctx.flow[W_VLAN0] = old0;
  ctx.flow[W_VLAN1] = old1;
}

function isGratuitousArp(ctx: Ctx): boolean {
  const f = ctx.flow;
  if ((f[W_DL_TYPE]! & 0xffff) !== 0x0806) return false;
  setField(ctx.wc, F("dl_dst"), fieldMaxMask(F("dl_dst")));
  if (getField(f, F("dl_dst")) !== 0xffffffffffffn) return false;
  ctx.wc[W_NW] = (ctx.wc[W_NW]! | 0xff) >>> 0;
  const op = f[W_NW]! & 0xff;
  if (op === 2) return true;
  if (op === 1) {
    ctx.wc[W_NW_SRC] = 0xffffffff;
    ctx.wc[W_NW_DST] = 0xffffffff;
    return f[W_NW_SRC] === f[W_NW_DST];
  }
  return false;
}

/** The MAC whose bytes 0-1 are in word `hi` (low 16 bits) and 2-5 in `hi + 1`. */
function macOf(f: Uint32Array, hi: number): number {
  return macFromWords(f[hi]!, f[hi + 1]!);
}

function xlateNormal(ctx: Ctx): void {
  const f = ctx.flow;
  const wc = ctx.wc;
  // Both MACs in full (setField on dl_src/dl_dst, by their words: once per upcall).
  wc[K.W_DL_SRC_HI] = (wc[K.W_DL_SRC_HI]! | 0xffff) >>> 0;
  wc[K.W_DL_SRC_LO] = 0xffffffff;
  wc[K.W_DL_DST_HI] = (wc[K.W_DL_DST_HI]! | 0xffff) >>> 0;
  wc[K.W_DL_DST_LO] = 0xffffffff;
  wc[W_VLAN0] = (wc[W_VLAN0]! | VLAN_VID_MASK | VLAN_CFI) >>> 0;
  const inPort = ctx.bridge.ports.get(f[W_IN_PORT]! & 0xffff);
  if (!inPort) {
    note(ctx, "no input bundle, dropping");
    return;
  }
  const inx = xvlanExtract(f);
  const refusal = inputVidRefusal(inPort, inx[0].vid);
  if (refusal) {
    if (ctx.tracing) tr(ctx, ` >>>> ${refusal} <<<<`);
    warn(ctx, "disallowed VLAN VID for this input port, dropping");
    return;
  }
  const x = xvlanInput(inPort, inx);
  const vlan = x[0].vid;
  const dst = macOf(f, K.W_DL_DST_HI);
  // 01:80:c2:00:00:0x, the IEEE 802.1D reserved group.
  if (
    (f[K.W_DL_DST_HI]! & 0xffff) === 0x0180 &&
    (f[K.W_DL_DST_LO]! & 0xfffffff0) >>> 0 === 0xc2000000
  ) {
    note(ctx, "packet has reserved destination MAC, dropping");
    return;
  }
  // Examined for its wildcards; the grat-ARP lock only matters for bonds.
  isGratuitousArp(ctx);
  if (ctx.generate)
    ctx.bridge.mac.learn(macOf(f, K.W_DL_SRC_HI), vlan, inPort.ofport, ctx.env.nowNs());
  let entry: MacEntry | undefined;
  if (!macIsMulticast(dst)) {
    // The lookup's tag goes with the translation: revalidation re-translates this
    // megaflow only when that (MAC, VLAN) entry changes.
    ctx.macTags ??= [];
    ctx.macTables ??= [];
    const n = ctx.macTags.length;
    entry = ctx.bridge.mac.lookup(dst, vlan, ctx.env.nowNs(), ctx.macTags);
    if (ctx.macTags.length > n) ctx.macTables.push(ctx.bridge.mac);
  }
  if (entry) {
    const out = ctx.bridge.ports.get(entry.port);
    if (!out) {
      warn(ctx, "learned port is unknown, dropping");
    } else if (out.ofport === inPort.ofport) {
      note(ctx, "learned port is input port, dropping");
    } else {
      note(ctx, "forwarding to learned port");
      outputNormal(ctx, out, x);
    }
    return;
  }
  note(ctx, "no learned MAC for destination, flooding");
  const ports = floodOrder(ctx.bridge);
  for (const p of ports) {
    if (p.ofport === inPort.ofport || !includesVlan(p, x)) continue;
    outputNormal(ctx, p, x);
  }
}

// ---------------------------------------------------------------------------
// Tables and actions.

function controllerAction(ctx: Ctx, reason: number, maxLen: number, controllerId = 0): void {
  commit(ctx);
  const rule = ctx.rule;
  let r = reason;
  if (r === 1 && rule && rule.priority === 0 && rule.mask.every((w) => w === 0)) r = 6;
  const cookie = rule ? rule.cookie : 0n;
  // A recirculation id names a frozen state; equal states share one (recirc_alloc_id_ctx).
  const state = `${ctx.bridge.name}/${ctx.tableId}/${ctx.flow.subarray(W_METADATA_HI, W_IN_PORT + 1).join(",")}`;
  ctx.recircIds ??= new Map();
  let id = ctx.recircIds.get(state);
  if (id === undefined) {
    id = ctx.recirc.n++;
    ctx.recircIds.set(state, id);
  }
  ctx.odp.push(
    `userspace(pid=0,controller(reason=${r},dont_send=1,continuation=0,recirc_id=${id},rule_cookie=${cookie ? `0x${cookie.toString(16)}` : "0"},controller_id=${controllerId},max_len=${maxLen}))`,
  );
}

/**
 * The order floods visit ports. OVS floods in hash order, which only shows when a
 * rewrite sits between outputs; plain ports first, then tunnels, then patch ports
 * (whose peer may rewrite and need undoing) matches what it prints.
 */
function floodOrder(bridge: Bridge): Port[] {
  const rank = (p: Port) =>
    p.type === "patch" ? 3 : isTunnel(p) ? 2 : p.ofport === OFPP_LOCAL ? 0 : 1;
  return [...bridge.ports.values()].sort((a, b) => rank(a) - rank(b) || a.ofport - b.ofport);
}

function floodPorts(ctx: Ctx, all: boolean): void {
  const inPort = ctx.flow[W_IN_PORT]! & 0xffff;
  const ports = floodOrder(ctx.bridge);
  for (const p of ports) {
    if (p.ofport === inPort) continue;
    void all;
    composeOutput(ctx, p.ofport);
  }
}

function xlateOutput(ctx: Ctx, port: number, maxLen: number): void {
  const inPort = ctx.flow[W_IN_PORT]! & 0xffff;
  switch (port) {
    case OFPP_IN_PORT:
      composeOutput(ctx, inPort);
      return;
    case OFPP_TABLE:
      return;
    case OFPP_NORMAL:
      xlateNormal(ctx);
      return;
    case OFPP_FLOOD:
      floodPorts(ctx, false);
      return;
    case OFPP_ALL:
      floodPorts(ctx, true);
      return;
    case OFPP_CONTROLLER:
      controllerAction(ctx, 1, maxLen || 65535);
      return;
    default:
      if (port === inPort) {
        warn(ctx, "skipping output to input port");
        return;
      }
      composeOutput(ctx, port);
  }
}

function readSub(flow: Uint32Array, s: SubField): bigint {
  return (getField(flow, s.field) >> BigInt(s.ofs)) & ((1n << BigInt(s.nbits)) - 1n);
}
/** learn_execute(): adds the flow a learn() action describes for this packet. */
function installLearned(ctx: Ctx, a: Extract<OfAction, { t: "learn" }>): void {
  const key = K.newFlowKey();
  const mask = K.newFlowKey();
  const actions: OfAction[] = [];
  for (const sp of a.specs) {
    const v = typeof sp.src === "bigint" ? sp.src : readSub(ctx.flow, sp.src);
    if (sp.kind === "match" && sp.dst) {
      setField(key, sp.dst.field, v << BigInt(sp.dst.ofs), subMask(sp.dst));
      orField(mask, sp.dst.field, subMask(sp.dst));
    } else if (sp.kind === "load" && sp.dst) {
      actions.push({
        t: "set_field",
        field: sp.dst.field,
        value: v << BigInt(sp.dst.ofs),
        mask: subMask(sp.dst),
        text: `load:0x${v.toString(16)}->${sp.dst.text}`,
      });
    } else if (sp.kind === "output") actions.push({ t: "output", port: Number(v), maxLen: 0 });
  }
  ctx.bridge.addFlowMod(
    {
      match: { key, mask },
      table: a.table,
      priority: a.priority,
      cookie: a.cookie,
      cookieMask: 0n,
      idleTimeout: a.idleTimeout,
      hardTimeout: a.hardTimeout,
      importance: 0,
      sendFlowRem: false,
      outPort: undefined,
      actions,
    },
    ctx.env.nowNs(),
  );
}

/** A subfield's value as OVS's trace prints it: the field's own syntax when whole. */
function formatSubValue(flow: Uint32Array, s: SubField): string {
  const v = readSub(flow, s);
  if (s.nbits === s.field.bits) {
    if (s.field.format === "mac") return formatMac(v);
    if (s.field.format === "ipv4") return formatIpv4(v);
    if (s.field.format === "ipv6") return formatIpv6(v);
  }
  return `0x${v.toString(16)}`;
}

function subMask(s: SubField): bigint {
  return ((1n << BigInt(s.nbits)) - 1n) << BigInt(s.ofs);
}
function orField(wc: Uint32Array, f: MatchField, m: bigint): void {
  setField(wc, f, getField(wc, f) | m);
}

/** Prerequisites for setting a field, as the action sees them (IPv4 addresses need IPv4). */
function setPrereqOk(ctx: Ctx, f: MatchField): boolean {
  if (f.name === "nw_src" || f.name === "nw_dst")
    return (ctx.flow[W_DL_TYPE]! & 0xffff) === ETH_TYPE_IP;
  if (f.prereq === "l4" || f.prereq === "tcp" || f.prereq === "udp" || f.prereq === "sctp") {
    // set_field's mf_are_prereqs_ok() / mod_tp_*: nw_proto is examined only for IP.
    if (!isIpAny(ctx.flow)) return false;
    ctx.wc[W_NW] = (ctx.wc[W_NW]! | 0xff) >>> 0;
    if (ctx.flow[W_NW]! & (2 << NW_FRAG_SHIFT)) return false;
  }
  return prereqOk(f.prereq, ctx.flow);
}

function doActions(ctx: Ctx, actions: readonly OfAction[]): void {
  const outerLast = ctx.last;
  for (let i = 0; i < actions.length; i++) {
    if (ctx.exit) break;
    const a = actions[i]!;
    ctx.last = outerLast && i === actions.length - 1;
    ctx.tailAction = i === actions.length - 1;
    if (ctx.tracing) tr(ctx, formatAction(a, undefined));
    switch (a.t) {
      case "output":
        xlateOutput(ctx, a.port, a.maxLen);
        break;
      case "output_reg": {
        orField(ctx.wc, a.src.field, subMask(a.src));
        if (ctx.tracing) note(ctx, `output port is ${readSub(ctx.flow, a.src)}`);
        xlateOutput(ctx, Number(readSub(ctx.flow, a.src)), 0);
        break;
      }
      case "controller":
        controllerAction(ctx, a.reason, a.maxLen, a.id);
        break;
      case "set_field":
        // OVS skips a set whose field the packet lacks, without a word in the trace.
        if (!setPrereqOk(ctx, a.field)) break;
        if (L3_FIELDS.has(a.field.name)) ctx.l3Touched = true;
        orField(ctx.wc, a.field, a.mask);
        setField(ctx.flow, a.field, a.value, a.mask);
        break;
      case "move": {
        if (!prereqOk(a.src.field.prereq, ctx.flow) || !prereqOk(a.dst.field.prereq, ctx.flow))
          break;
        const v = readSub(ctx.flow, a.src);
        orField(ctx.wc, a.src.field, subMask(a.src));
        orField(ctx.wc, a.dst.field, subMask(a.dst));
        setField(ctx.flow, a.dst.field, v << BigInt(a.dst.ofs), subMask(a.dst));
        if (ctx.tracing) note(ctx, `${a.dst.text} is now ${formatSubValue(ctx.flow, a.dst)}`);
        break;
      }
      case "mod_vlan_vid": {
        ctx.wc[W_VLAN0] = (ctx.wc[W_VLAN0]! | VLAN_VID_MASK | VLAN_CFI) >>> 0;
        const w = ctx.flow[W_VLAN0]!;
        if (w & VLAN_CFI || a.push) {
          const tpid = w & VLAN_CFI ? w & 0xffff0000 : 0x81000000;
          ctx.flow[W_VLAN0] = (tpid | (w & 0xe000) | VLAN_CFI | a.vid) >>> 0;
        }
        break;
      }
      case "mod_vlan_pcp": {
        ctx.wc[W_VLAN0] = (ctx.wc[W_VLAN0]! | 0xe000 | VLAN_CFI) >>> 0;
        const w = ctx.flow[W_VLAN0]!;
        if (w & VLAN_CFI || a.push) {
          const tpid = w & VLAN_CFI ? w & 0xffff0000 : 0x81000000;
          ctx.flow[W_VLAN0] = (tpid | (w & 0x0fff) | VLAN_CFI | (a.pcp << VLAN_PCP_SHIFT)) >>> 0;
        }
        break;
      }
      case "pop_vlan":
        // flow_pop_vlan() unwildcards only the tags that move up.
        if (ctx.flow[W_VLAN1]! & VLAN_CFI) ctx.wc[W_VLAN1] = 0xffffffff;
        ctx.flow[W_VLAN0] = ctx.flow[W_VLAN1]!;
        ctx.flow[W_VLAN1] = 0;
        break;
      case "push_vlan":
        // flow_push_vlan_uninit(): the tags already there become exact.
        if (ctx.flow[W_VLAN0]! & VLAN_CFI) ctx.wc[W_VLAN0] = 0xffffffff;
        if (ctx.flow[W_VLAN1]! & VLAN_CFI) ctx.wc[W_VLAN1] = 0xffffffff;
        ctx.flow[W_VLAN1] = ctx.flow[W_VLAN0]!;
        ctx.flow[W_VLAN0] = ((a.tpid << 16) | VLAN_CFI) >>> 0;
        break;
      case "dec_ttl": {
        // do_xlate_actions() unwildcards nw_ttl before compose_dec_ttl() looks at IP.
        ctx.wc[W_NW] = (ctx.wc[W_NW]! | (0xff << NW_TTL_SHIFT)) >>> 0;
        ctx.l3Touched = true;
        if (!isIpAny(ctx.flow)) break;
        const ttl = (ctx.flow[W_NW]! >>> NW_TTL_SHIFT) & 0xff;
        if (ttl > 1) {
          ctx.flow[W_NW] =
            ((ctx.flow[W_NW]! & ~(0xff << NW_TTL_SHIFT)) | ((ttl - 1) << NW_TTL_SHIFT)) >>> 0;
        } else {
          for (const id of a.ids) controllerAction(ctx, 2, 65535, id);
          warn(
            ctx,
            `IPv${(ctx.flow[W_DL_TYPE]! & 0xffff) === ETH_TYPE_IPV6 ? 6 : 4} decrement TTL exception`,
          );
          ctx.last = outerLast;
          return;
        }
        break;
      }
      case "resubmit": {
        const saved = ctx.flow[W_IN_PORT]!;
        if (a.port !== undefined && a.port !== OFPP_IN_PORT) ctx.flow[W_IN_PORT] = a.port;
        // The trace nests a resubmit unless it is the rule's last action (a tail call).
        const nest = i < actions.length - 1 ? 1 : 0;
        ctx.level += nest;
        xlateTable(ctx, a.table ?? ctx.tableId);
        ctx.level -= nest;
        if (a.port !== undefined) ctx.flow[W_IN_PORT] = saved;
        break;
      }
      case "goto_table":
        xlateTable(ctx, a.table);
        break;
      case "write_metadata": {
        const m = getField(ctx.flow, F("metadata"));
        setField(ctx.flow, F("metadata"), (m & ~a.mask) | a.value);
        break;
      }
      case "clone": {
        // The datapath supports clone, but OVS inlines a clone whose actions it can
        // undo: run them, then restore the flow; later outputs commit the undo.
        const savedFlow = ctx.flow.slice();
        doActions(ctx, a.actions);
        ctx.flow = savedFlow;
        ctx.exit = false;
        break;
      }
      case "learn":
        // learn_mask(): the packet fields the learned flow copies are examined.
        for (const sp of a.specs) {
          if (typeof sp.src !== "bigint") orField(ctx.wc, sp.src.field, subMask(sp.src));
        }
        if (ctx.generate) installLearned(ctx, a);
        break;
      case "exit":
        // Stops the whole pipeline, not just this rule (OFPACT_EXIT).
        ctx.exit = true;
        break;
      case "note":
      case "drop":
        break;
    }
  }
  ctx.last = outerLast;
}

/**
 * Looks `ctx.flow` up in table `tableId` of the current bridge and runs the rule's
 * actions (xlate_table_action). A miss in the pipeline's first lookup is OVS's
 * table-miss (drop, no controller connected).
 */
function xlateTable(ctx: Ctx, tableId: number): void {
  if (ctx.depth >= XLATE_MAX_DEPTH) {
    ctx.error = "over max translation depth 64";
    ctx.exit = true;
    return;
  }
  if (ctx.resubmits >= XLATE_MAX_RESUBMITS) {
    ctx.error = "over 4096 resubmit actions";
    ctx.exit = true;
    return;
  }
  ctx.resubmits++;
  ctx.depth++;
  const savedTable = ctx.tableId;
  const savedRule = ctx.rule;
  ctx.tableId = tableId;
  const cls = ctx.bridge.tables[tableId];
  const hit = cls?.lookup(ctx.flow, ctx.wc);
  const pad = ctx.tracing ? " ".repeat(4 * ctx.level + ctx.tableExtra) : "";
  const num = ctx.tracing ? String(tableId).padStart(2, " ") : "";
  if (hit) {
    const r = hit.data;
    if (ctx.tracing) {
      const m = formatMatch(r.key, r.mask);
      const cookie = r.cookie ? `, cookie 0x${r.cookie.toString(16)}` : "";
      ctx.trace.push(`${pad}${num}. ${m ? `${m}, ` : ""}priority ${r.priority}${cookie}`);
    }
    ctx.rule = r;
    ctx.rules.push(r);
    if (r.actions.length === 0) tr(ctx, "drop");
    doActions(ctx, r.actions);
  } else {
    if (ctx.tracing) {
      // The first lookup in a patch peer or underlay bridge reports a miss as
      // ofproto-dpif's hidden no-packet-in rule; other lookups as "No match."
      const peerMiss = ctx.depth === ctx.peerDepth;
      ctx.trace.push(`${pad}${num}. ${peerMiss ? "reg0=0x2, priority 0" : "No match."}`);
    }
    tr(ctx, "drop");
  }
  ctx.tableId = savedTable;
  ctx.rule = savedRule;
  ctx.depth--;
}

export interface XlateOptions {
  /** Side effects (MAC learning), as `ofproto/trace -generate` and real upcalls. */
  readonly generate?: boolean;
  /** Controller recirculation ids continue from here (per-switch counter). */
  readonly recirc?: { n: number };
  /** Collect ofproto/trace lines (off for plain upcalls: it costs time). */
  readonly trace?: boolean;
}

// `base` never leaves a translation, so one buffer serves them all (translation is
// synchronous and does not nest).
const SCRATCH_BASE = K.newFlowKey();
function scratchBase(flow: Uint32Array): Uint32Array {
  SCRATCH_BASE.set(flow);
  return SCRATCH_BASE;
}
// Likewise the working flow of an untraced translation: its final state is only read
// by ofproto/trace, which asks for `trace` and gets its own copy.
const SCRATCH_FLOW = K.newFlowKey();

// Megaflow masks outlive their translation (ukeys keep them), so each needs its own
// words; carving them from a shared slab spares a backing-store allocation per upcall,
// the largest single cost of a flow setup. A slab lives while any of its masks does.
const SLAB_KEYS = 512;
let maskSlab = new ArrayBuffer(0);
let maskSlabNext = SLAB_KEYS;
function newMask(): Uint32Array {
  if (maskSlabNext === SLAB_KEYS) {
    maskSlab = new ArrayBuffer(SLAB_KEYS * K.FLOW_WORDS * 4);
    maskSlabNext = 0;
  }
  return new Uint32Array(maskSlab, K.FLOW_WORDS * 4 * maskSlabNext++, K.FLOW_WORDS);
}

/** XlateResult, with the printed megaflow built only when asked for. */
class Xlated implements XlateResult {
  private text: string | undefined;
  constructor(
    readonly actions: string,
    readonly mask: Uint32Array,
    readonly flow: Uint32Array,
    readonly finalFlow: Uint32Array,
    readonly trace: readonly string[],
    readonly rules: readonly OfRule[],
    readonly macTags: readonly number[],
    readonly macTables: readonly MacLearning[],
    /** The VLAN mask word before the datapath's always-matched CFI bit was added. */
    private readonly ovsVlan0: number,
  ) {}

  get megaflow(): string {
    if (this.text === undefined) {
      // The printed megaflow leaves out the VLAN of an untagged packet: the datapath
      // key says "no VLAN" through its ethertype. Our mask keeps the CFI bit for that.
      const untagged = !(this.flow[W_VLAN0]! & VLAN_CFI);
      const p = this.mask.slice();
      p[W_VLAN0] = untagged ? 0 : this.ovsVlan0 & 0xffff;
      p[W_VLAN1] = untagged ? 0 : p[W_VLAN1]! & 0xffff;
      this.text = formatMatch(this.flow, p);
    }
    return this.text;
  }
}

/** Translates `flow` (not modified) arriving on `bridge`. */
export function xlate(
  env: XlateEnv,
  bridge: Bridge,
  flow: Uint32Array,
  opts: XlateOptions = {},
): XlateResult {
  const wc = newMask();
  const tracing = opts.trace ?? false;
  let work: Uint32Array;
  if (tracing) work = flow.slice();
  else {
    work = SCRATCH_FLOW;
    work.set(flow);
  }
  const ctx: Ctx = {
    env,
    bridge,
    flow: work,
    base: scratchBase(flow),
    wc,
    odp: [],
    trace: [],
    depth: 0,
    resubmits: 0,
    generate: opts.generate ?? false,
    exit: false,
    error: undefined,
    rule: undefined,
    tableId: 0,
    recirc: opts.recirc ?? { n: 1 },
    baseTunnel: "",
    level: 0,
    rules: [],
    last: true,
    l3Touched: false,
    recircIds: undefined,
    tailAction: true,
    tableExtra: 0,
    peerDepth: -1,
    tracing,
    macTags: undefined,
    macTables: undefined,
  };
  // Always in the megaflow (xlate_actions / xlate_wc_init).
  wc[W_RECIRC_ID] = 0xffffffff;
  wc[W_IN_PORT] = 0xffff;
  wc[W_DL_TYPE] = 0xffff;
  if (isIpAny(flow)) wc[W_NW] = (wc[W_NW]! | (3 << NW_FRAG_SHIFT)) >>> 0;
  if (flow[W_TUN_DST] || flow[W_TUN_IPV6_DST]) {
    wc.fill(0xffffffff, W_TUN_ID_HI, W_TUN_ID_LO + 1);
    wc[W_TUN_SRC] = 0xffffffff;
    wc[W_TUN_DST] = 0xffffffff;
    wc[W_TUN_TOS_TTL] = (wc[W_TUN_TOS_TTL]! | 0xff00) >>> 0;
    wc[W_TUN_FLAGS] = (wc[W_TUN_FLAGS]! | 0x7) >>> 0;
  }
  bridgeHeader(ctx, bridge.name);
  xlateTable(ctx, 0);
  let odp = ctx.odp;
  if (ctx.error) {
    ctx.trace.push("", `Translation failed (${ctx.error}), packet is dropped.`);
    odp = [];
  }
  if (ctx.l3Touched && (isIpAny(flow) || isArpType(flow))) wc[W_NW] = (wc[W_NW]! | 0xff) >>> 0;
  // xlate_wc_finish(), in place: wc becomes the megaflow mask.
  const mask = wc;
  // Tunnel metadata of a packet that did not arrive on a tunnel is not matched.
  if (!flow[W_TUN_DST] && !flow[W_TUN_IPV6_DST]) mask.fill(0, 0, TUN_WORDS_END);
  mask.fill(0, W_METADATA_HI, W_REG0 + FLOW_N_REGS);
  const t = flow[W_DL_TYPE]! & 0xffff;
  const proto = flow[W_NW]! & 0xff;
  if ((t === ETH_TYPE_IP && proto === 1) || (t === ETH_TYPE_IPV6 && proto === 58)) {
    mask[W_TP] = (mask[W_TP]! & 0x00ff00ff) >>> 0;
  }
  if (flow[W_NW]! & (2 << NW_FRAG_SHIFT)) mask[W_TP] = 0;
  for (let i = 0; i < FLOW_MAX_VLAN_HEADERS; i++) {
    if (mask[W_VLAN0 + i]! & 0xffff) mask[W_VLAN0 + i] = (mask[W_VLAN0 + i]! | VLAN_CFI) >>> 0;
  }
  const ovsVlan0 = mask[W_VLAN0]!;
  // Tagged or not is always part of the datapath key.
  mask[W_VLAN0] = (mask[W_VLAN0]! | VLAN_CFI) >>> 0;
  return new Xlated(
    odp.length === 0 ? "drop" : odp.length === 1 ? odp[0]! : odp.join(","),
    mask,
    flow,
    ctx.flow,
    ctx.trace,
    // An exact-size copy: a ukey keeps the rules for the megaflow's lifetime, and a
    // pushed-to literal holds spare capacity (16 slots after its first push).
    ctx.rules.slice(),
    ctx.macTags ?? NO_TAGS,
    ctx.macTables ?? NO_TABLES,
    ovsVlan0,
  );
}
