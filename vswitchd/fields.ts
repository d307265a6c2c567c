/**
 * The OpenFlow match fields ovs-ofctl knows, as data: each field's names, where its
 * bits live in the flow key (packet/flow-key.ts), how its value is written, and its
 * prerequisites (OVS's lib/meta-flow.c `mf_fields`).
 *
 * A field is a list of parts, most significant first; a part is `bits` bits at
 * `shift` in key word `w`. Values cross this module as bigints because a field may be
 * up to 128 bits wide; this is the slow path (flow syntax, set-field), never per packet.
 *
 * It does not parse flows (match-parse.ts) nor print them (match-format.ts).
 */
import * as K from "../packet/index.js";

export type FieldFormat =
  | "dec"
  | "hex"
  | "mac"
  | "ipv4"
  | "ipv6"
  | "port"
  | "frag"
  | "tunflags"
  | "tos";

/** Prerequisites (lib/meta-flow.h `enum mf_prereqs`). */
export type Prereq =
  | "none"
  | "ip"
  | "ipv6"
  | "ip_any"
  | "arp"
  | "ip_or_arp"
  | "tcp"
  | "udp"
  | "sctp"
  | "l4"
  | "icmp"
  | "icmp6"
  | "icmp_any"
  | "nd";

export interface FieldPart {
  readonly w: number;
  readonly shift: number;
  readonly bits: number;
}

export interface MatchField {
  /** The name ovs-ofctl prints. */
  readonly name: string;
  readonly aliases: readonly string[];
  readonly parts: readonly FieldPart[];
  readonly bits: number;
  readonly format: FieldFormat;
  readonly prereq: Prereq;
  readonly maskable: boolean;
}

function field(
  name: string,
  aliases: string[],
  parts: FieldPart[],
  format: FieldFormat,
  prereq: Prereq = "none",
  maskable = true,
): MatchField {
  return {
    name,
    aliases,
    parts,
    bits: parts.reduce((n, p) => n + p.bits, 0),
    format,
    prereq,
    maskable,
  };
}
const p = (w: number, shift: number, bits: number): FieldPart => ({ w, shift, bits });
const mac = (hi: number, lo: number) => [p(hi, 0, 16), p(lo, 0, 32)];
const v6 = (w: number) => [p(w, 0, 32), p(w + 1, 0, 32), p(w + 2, 0, 32), p(w + 3, 0, 32)];

const regs: MatchField[] = [];
for (let i = 0; i < K.FLOW_N_REGS; i++) {
  regs.push(field(`reg${i}`, [`NXM_NX_REG${i}`], [p(K.W_REG0 + i, 0, 32)], "hex"));
}
// xreg/xxreg are pairs of registers (reg0:reg1 is xreg0).
for (let i = 0; i < K.FLOW_N_REGS / 2; i++) {
  regs.push(
    field(
      `xreg${i}`,
      [`NXM_NX_XREG${i}`],
      [p(K.W_REG0 + 2 * i, 0, 32), p(K.W_REG0 + 2 * i + 1, 0, 32)],
      "hex",
    ),
  );
}

export const MATCH_FIELDS: readonly MatchField[] = [
  field("recirc_id", [], [p(K.W_RECIRC_ID, 0, 32)], "dec"),
  field("dp_hash", [], [p(K.W_DP_HASH, 0, 32)], "hex"),
  field("skb_priority", [], [p(K.W_SKB_PRIORITY, 0, 32)], "hex", "none", false),
  field("pkt_mark", [], [p(K.W_PKT_MARK, 0, 32)], "hex"),
  field(
    "tun_id",
    ["tunnel_id", "NXM_NX_TUN_ID"],
    [p(K.W_TUN_ID_HI, 0, 32), p(K.W_TUN_ID_LO, 0, 32)],
    "hex",
  ),
  field("tun_src", ["NXM_NX_TUN_IPV4_SRC"], [p(K.W_TUN_SRC, 0, 32)], "ipv4"),
  field("tun_dst", ["NXM_NX_TUN_IPV4_DST"], [p(K.W_TUN_DST, 0, 32)], "ipv4"),
  field("tun_ipv6_src", [], v6(K.W_TUN_IPV6_SRC), "ipv6"),
  field("tun_ipv6_dst", [], v6(K.W_TUN_IPV6_DST), "ipv6"),
  field("tun_flags", [], [p(K.W_TUN_FLAGS, 0, 16)], "tunflags"),
  field("tun_tos", [], [p(K.W_TUN_TOS_TTL, 8, 8)], "dec"),
  field("tun_ttl", [], [p(K.W_TUN_TOS_TTL, 0, 8)], "dec"),
  field("tun_tp_src", [], [p(K.W_TUN_TP, 16, 16)], "dec"),
  field("tun_tp_dst", [], [p(K.W_TUN_TP, 0, 16)], "dec"),
  field(
    "metadata",
    ["OXM_OF_METADATA"],
    [p(K.W_METADATA_HI, 0, 32), p(K.W_METADATA_LO, 0, 32)],
    "hex",
  ),
  ...regs,
  field("in_port", ["NXM_OF_IN_PORT"], [p(K.W_IN_PORT, 0, 16)], "port", "none", false),
  field("dl_dst", ["eth_dst", "NXM_OF_ETH_DST"], mac(K.W_DL_DST_HI, K.W_DL_DST_LO), "mac"),
  field("dl_src", ["eth_src", "NXM_OF_ETH_SRC"], mac(K.W_DL_SRC_HI, K.W_DL_SRC_LO), "mac"),
  field("dl_type", ["eth_type", "NXM_OF_ETH_TYPE"], [p(K.W_DL_TYPE, 0, 16)], "hex", "none", false),
  field("vlan_tci", ["NXM_OF_VLAN_TCI"], [p(K.W_VLAN0, 0, 16)], "hex"),
  field("nw_src", ["ip_src", "NXM_OF_IP_SRC"], [p(K.W_NW_SRC, 0, 32)], "ipv4", "ip_or_arp"),
  field("nw_dst", ["ip_dst", "NXM_OF_IP_DST"], [p(K.W_NW_DST, 0, 32)], "ipv4", "ip_or_arp"),
  field("arp_spa", ["NXM_OF_ARP_SPA"], [p(K.W_NW_SRC, 0, 32)], "ipv4", "arp"),
  field("arp_tpa", ["NXM_OF_ARP_TPA"], [p(K.W_NW_DST, 0, 32)], "ipv4", "arp"),
  field("ipv6_src", ["NXM_NX_IPV6_SRC"], v6(K.W_IPV6_SRC), "ipv6", "ipv6"),
  field("ipv6_dst", ["NXM_NX_IPV6_DST"], v6(K.W_IPV6_DST), "ipv6", "ipv6"),
  field("ipv6_label", [], [p(K.W_IPV6_LABEL, 0, 20)], "hex", "ipv6"),
  field(
    "nw_proto",
    ["ip_proto", "NXM_OF_IP_PROTO"],
    [p(K.W_NW, K.NW_PROTO_SHIFT, 8)],
    "dec",
    "ip_any",
    false,
  ),
  field("arp_op", ["NXM_OF_ARP_OP"], [p(K.W_NW, K.NW_PROTO_SHIFT, 8)], "dec", "arp", false),
  field("nw_tos", [], [p(K.W_NW, K.NW_TOS_SHIFT + 2, 6)], "tos", "ip_any", false),
  field("ip_dscp", [], [p(K.W_NW, K.NW_TOS_SHIFT + 2, 6)], "dec", "ip_any", false),
  field("nw_ecn", ["ip_ecn"], [p(K.W_NW, K.NW_TOS_SHIFT, 2)], "dec", "ip_any", false),
  field("nw_ttl", [], [p(K.W_NW, K.NW_TTL_SHIFT, 8)], "dec", "ip_any", false),
  field("nw_frag", ["ip_frag"], [p(K.W_NW, K.NW_FRAG_SHIFT, 2)], "frag", "ip_any"),
  field("arp_sha", ["NXM_NX_ARP_SHA"], mac(K.W_ARP_SHA_HI, K.W_ARP_SHA_LO), "mac", "arp"),
  field("arp_tha", ["NXM_NX_ARP_THA"], mac(K.W_ARP_THA_HI, K.W_ARP_THA_LO), "mac", "arp"),
  field("nd_target", [], v6(K.W_ND_TARGET), "ipv6", "nd"),
  field("nd_sll", [], mac(K.W_ARP_SHA_HI, K.W_ARP_SHA_LO), "mac", "nd"),
  field("nd_tll", [], mac(K.W_ARP_THA_HI, K.W_ARP_THA_LO), "mac", "nd"),
  field("tcp_flags", [], [p(K.W_TCP_FLAGS, 0, 12)], "hex", "tcp"),
  field("tp_src", [], [p(K.W_TP, 16, 16)], "dec", "l4"),
  field("tp_dst", [], [p(K.W_TP, 0, 16)], "dec", "l4"),
  field("tcp_src", ["NXM_OF_TCP_SRC"], [p(K.W_TP, 16, 16)], "dec", "tcp"),
  field("tcp_dst", ["NXM_OF_TCP_DST"], [p(K.W_TP, 0, 16)], "dec", "tcp"),
  field("udp_src", ["NXM_OF_UDP_SRC"], [p(K.W_TP, 16, 16)], "dec", "udp"),
  field("udp_dst", ["NXM_OF_UDP_DST"], [p(K.W_TP, 0, 16)], "dec", "udp"),
  field("sctp_src", [], [p(K.W_TP, 16, 16)], "dec", "sctp"),
  field("sctp_dst", [], [p(K.W_TP, 0, 16)], "dec", "sctp"),
  // ovs-ofctl accepts icmp_type/icmp_code for ICMPv6 too (ofp-flow.c maps them).
  // match_set_icmp_type() sets the whole 16-bit tp_src; values stay below 256.
  field("icmp_type", ["icmpv4_type"], [p(K.W_TP, 16, 16)], "dec", "icmp_any", false),
  field("icmp_code", ["icmpv4_code"], [p(K.W_TP, 0, 16)], "dec", "icmp_any", false),
  field("icmpv6_type", [], [p(K.W_TP, 16, 16)], "dec", "icmp6", false),
  field("icmpv6_code", [], [p(K.W_TP, 0, 16)], "dec", "icmp6", false),
];

const byName = new Map<string, MatchField>();
for (const f of MATCH_FIELDS) {
  byName.set(f.name, f);
  for (const a of f.aliases) byName.set(a, f);
}

/** Looks a field up by any of its names (case-sensitive, as ovs-ofctl). */
export function findField(name: string): MatchField | undefined {
  return byName.get(name);
}

export function fieldMaxMask(f: MatchField): bigint {
  return (1n << BigInt(f.bits)) - 1n;
}

export function getField(key: Uint32Array, f: MatchField): bigint {
  let v = 0n;
  for (const pt of f.parts) {
    const m = pt.bits === 32 ? 0xffffffff : (1 << pt.bits) - 1;
    v = (v << BigInt(pt.bits)) | BigInt(((key[pt.w]! >>> pt.shift) & m) >>> 0);
  }
  return v;
}

/** Writes `value` into the field's bits of `key`; only bits under `mask` change. */
export function setField(key: Uint32Array, f: MatchField, value: bigint, mask?: bigint): void {
  let v = value;
  let mk = mask ?? fieldMaxMask(f);
  for (let i = f.parts.length - 1; i >= 0; i--) {
    const pt = f.parts[i]!;
    const m = pt.bits === 32 ? 0xffffffff : (1 << pt.bits) - 1;
    const pv = Number(v & BigInt(m));
    const pm = Number(mk & BigInt(m));
    const wm = (pm << pt.shift) >>> 0;
    key[pt.w] = ((key[pt.w]! & ~wm) | ((pv << pt.shift) & wm)) >>> 0;
    v >>= BigInt(pt.bits);
    mk >>= BigInt(pt.bits);
  }
}

/** ORs the field's bits (restricted to `mask`) into a mask key. */
export function unwildcardField(wc: Uint32Array, f: MatchField, mask?: bigint): void {
  const cur = getField(wc, f);
  setField(wc, f, cur | (mask ?? fieldMaxMask(f)));
}

export const ETH_TYPE_IP = 0x0800;
export const ETH_TYPE_IPV6 = 0x86dd;
export const ETH_TYPE_ARP = 0x0806;
export const ETH_TYPE_RARP = 0x8035;
export const ETH_TYPE_VLAN = 0x8100;

export function dlType(key: Uint32Array): number {
  return key[K.W_DL_TYPE]! & 0xffff;
}
export function nwProto(key: Uint32Array): number {
  return (key[K.W_NW]! >>> K.NW_PROTO_SHIFT) & 0xff;
}
export function isIpAny(key: Uint32Array): boolean {
  const t = dlType(key);
  return t === ETH_TYPE_IP || t === ETH_TYPE_IPV6;
}

/** Whether `key` (a flow or a rule's match value) satisfies the prerequisite. */
export function prereqOk(prereq: Prereq, key: Uint32Array): boolean {
  const t = dlType(key);
  const proto = nwProto(key);
  const ipAny = t === ETH_TYPE_IP || t === ETH_TYPE_IPV6;
  switch (prereq) {
    case "none":
      return true;
    case "ip":
      return t === ETH_TYPE_IP;
    case "ipv6":
      return t === ETH_TYPE_IPV6;
    case "ip_any":
      return ipAny;
    case "arp":
      return t === ETH_TYPE_ARP || t === ETH_TYPE_RARP;
    case "ip_or_arp":
      return t === ETH_TYPE_IP || t === ETH_TYPE_ARP || t === ETH_TYPE_RARP;
    case "tcp":
      return ipAny && proto === 6;
    case "udp":
      return ipAny && proto === 17;
    case "sctp":
      return ipAny && proto === 132;
    case "l4":
      return ipAny && (proto === 6 || proto === 17 || proto === 132 || proto === 1 || proto === 58);
    case "icmp":
      return t === ETH_TYPE_IP && proto === 1;
    case "icmp6":
      return t === ETH_TYPE_IPV6 && proto === 58;
    case "icmp_any":
      return (t === ETH_TYPE_IP && proto === 1) || (t === ETH_TYPE_IPV6 && proto === 58);
    case "nd": {
      const type = (key[K.W_TP]! >>> 16) & 0xff;
      return t === ETH_TYPE_IPV6 && proto === 58 && (type === 135 || type === 136);
    }
  }
}
