/**
 * Flow and match printing in OVS's own syntax: `formatMatch` is lib/match.c's
 * match_format(), and with no mask it is lib/flow.c's flow_format(), which is what
 * `ovs-ofctl parse-pcap`, the `Flow:` line of `ofproto/trace` and packet-ins print.
 *
 * Promises
 * - Field order, names, number bases and shorthands are OVS 3.1's: `priority`,
 *   `pkt_mark`, `recirc_id`, `dp_hash`, `skb_priority`, `eth` (megaflows), the
 *   protocol shorthand (`ip`, `tcp6`, `arp`, `mpls`...), `reg0..15`, `tun_*`,
 *   `metadata`, `in_port`, VLANs, MACs, dl_type, L3, nw_proto/arp_op, ARP hardware
 *   addresses, nw_tos/nw_ecn/nw_ttl, MPLS, nw_frag, L4 (`icmp_type`, `tp_src`,
 *   `nd_target`...), tcp_flags.
 * - Masked fields print as OVS prints them: CIDR prefixes for addresses
 *   (`nw_dst=10.0.0.0/24`), `value/mask` in hex for integers (`tp_dst=0x50/0xfff0`),
 *   `+flag-flag` for partially masked flag sets.
 * - IGMP prints as OVS 3.1 prints it: `ip,nw_proto=2,...,tp_src=<type>,tp_dst=<code>`.
 * - The key and mask are only read.
 *
 * Not covered (ovsim's key has no such fields): conntrack fields, packet_type other
 * than Ethernet, actset_output, conj_id, Geneve tun_metadata, tun_gbp_*, ERSPAN/GTP-U.
 */
import { formatIpv4Masked, formatIpv6Masked, formatMacMasked } from "./address.js";
import {
  FLOW_N_REGS,
  FLOW_NW_FRAG_ANY,
  FLOW_NW_FRAG_LATER,
  FLOW_NW_FRAG_MASK,
  FLOW_WORDS,
  type FlowKey,
  NW_FRAG_SHIFT,
  NW_TOS_SHIFT,
  NW_TTL_SHIFT,
  VLAN_CFI,
  VLAN_PCP_SHIFT,
  VLAN_VID_MASK,
  W_ARP_SHA_HI,
  W_ARP_SHA_LO,
  W_ARP_THA_HI,
  W_ARP_THA_LO,
  W_DL_DST_HI,
  W_DL_DST_LO,
  W_DL_SRC_HI,
  W_DL_SRC_LO,
  W_DL_TYPE,
  W_DP_HASH,
  W_IGMP_GROUP,
  W_IN_PORT,
  W_IPV6_DST,
  W_IPV6_LABEL,
  W_IPV6_SRC,
  W_METADATA_HI,
  W_METADATA_LO,
  W_MPLS0,
  W_ND_TARGET,
  W_NSH_BASE,
  W_NSH_C1,
  W_NSH_PATH,
  W_NW,
  W_NW_DST,
  W_NW_SRC,
  W_PKT_MARK,
  W_RECIRC_ID,
  W_REG0,
  W_SKB_PRIORITY,
  W_TCP_FLAGS,
  W_TP,
  W_TUN_DST,
  W_TUN_FLAGS,
  W_TUN_ID_HI,
  W_TUN_ID_LO,
  W_TUN_IPV6_DST,
  W_TUN_IPV6_SRC,
  W_TUN_SRC,
  W_TUN_TOS_TTL,
  W_TUN_TP,
  W_VLAN0,
} from "./flow-key.js";

const ETH_TYPE_IP = 0x0800;
const ETH_TYPE_ARP = 0x0806;
const ETH_TYPE_RARP = 0x8035;
const ETH_TYPE_IPV6 = 0x86dd;
const ETH_TYPE_MPLS = 0x8847;
const ETH_TYPE_MPLS_MCAST = 0x8848;
const ETH_TYPE_NSH = 0x894f;
const IPPROTO_ICMP = 1;
const IPPROTO_IGMP = 2;
const IPPROTO_TCP = 6;
const IPPROTO_UDP = 17;
const IPPROTO_ICMPV6 = 58;
const IPPROTO_SCTP = 132;
const ND_NEIGHBOR_SOLICIT = 135;
const ND_NEIGHBOR_ADVERT = 136;
const MPLS_BOS_MASK = 0x100;
/** FLOW_TNL_F_MASK: the tunnel flags OVS prints (df, csum, key, oam). */
const FLOW_TNL_F_MASK = 0xf;
const TCP_FLAGS_MASK = 0x0fff;
/** OpenFlow's default priority: match_format() omits `priority=` for it. */
export const OFP_DEFAULT_PRIORITY = 0x8000;

/** OpenFlow reserved port numbers (16-bit OpenFlow 1.0 space, as OVS keeps them). */
export const OFPP_MAX = 0xff00;
export const OFPP_UNSET = 0xfff7;
export const OFPP_IN_PORT = 0xfff8;
export const OFPP_TABLE = 0xfff9;
export const OFPP_NORMAL = 0xfffa;
export const OFPP_FLOOD = 0xfffb;
export const OFPP_ALL = 0xfffc;
export const OFPP_CONTROLLER = 0xfffd;
export const OFPP_LOCAL = 0xfffe;
export const OFPP_NONE = 0xffff;

const RESERVED_PORT_NAMES: Readonly<Record<number, string>> = {
  [OFPP_UNSET]: "UNSET",
  [OFPP_IN_PORT]: "IN_PORT",
  [OFPP_TABLE]: "TABLE",
  [OFPP_NORMAL]: "NORMAL",
  [OFPP_FLOOD]: "FLOOD",
  [OFPP_ALL]: "ALL",
  [OFPP_CONTROLLER]: "CONTROLLER",
  [OFPP_LOCAL]: "LOCAL",
  [OFPP_NONE]: "ANY",
};

/** ofputil_port_to_string(): a reserved port's name, else the number in decimal. */
export function formatOfPort(port: number): string {
  return RESERVED_PORT_NAMES[port] ?? String(port >>> 0);
}

export interface FormatMatchOptions {
  /**
   * Names a port for `in_port=` (OVS's port map); return undefined to fall back to
   * the number or reserved name.
   */
  portName?: (ofport: number) => string | undefined;
  /** Printed as `priority=N,` first unless it is OFP_DEFAULT_PRIORITY. */
  priority?: number;
  /**
   * Whether packet_type is pinned to Ethernet in the mask; OVS then prints `eth,` in
   * megaflows (matches with recirc_id masked). Defaults to true, as in every
   * datapath flow.
   */
  packetTypeMasked?: boolean;
}

/** TCP flag names, bit 0 first (lib/packets.c packet_tcp_flag_to_string). */
const TCP_FLAG_NAMES = [
  "fin",
  "syn",
  "rst",
  "psh",
  "ack",
  "urg",
  "ece",
  "cwr",
  "ns",
  "[200]",
  "[400]",
  "[800]",
];
const TUN_FLAG_NAMES = ["df", "csum", "key", "oam"];

function hex(v: number): string {
  return (v >>> 0).toString(16);
}

/** C's `%#x`: `0` for zero, else `0x` and the hex digits. */
function altHex(v: number): string {
  return v >>> 0 === 0 ? "0" : `0x${hex(v)}`;
}

/** `%#x` of a 64-bit value held as two words. */
function altHex64(hi: number, lo: number): string {
  if (hi >>> 0 === 0) return altHex(lo);
  return `0x${hex(hi)}${hex(lo).padStart(8, "0")}`;
}

/** format_flags(): set bits by name joined by `sep`, unknown bits as one hex value. */
function formatFlags(names: readonly string[], flags: number, sep: string): string {
  if (flags === 0) return "0";
  const parts: string[] = [];
  let bad = 0;
  for (let bit = 0; bit < 32; bit++) {
    const v = (1 << bit) >>> 0;
    if (!(flags & v)) continue;
    const name = names[bit];
    if (name) parts.push(name);
    else bad |= v;
  }
  if (bad) parts.push(`0x${hex(bad)}`);
  return parts.join(sep);
}

/** format_flags_masked(). */
function formatFlagsMasked(
  names: readonly string[],
  flags: number,
  mask: number,
  maxMask: number,
): string {
  if (mask === maxMask) return formatFlags(names, flags, "|");
  if (!mask) return "0/0";
  let out = "";
  for (let bit = 0; bit < 32; bit++) {
    const v = (1 << bit) >>> 0;
    if (!(mask & v)) continue;
    out += `${flags & v ? "+" : "-"}${names[bit] ?? "[Unknown]"}`;
  }
  return out;
}

/** format_be16_masked(): decimal when exact, `0x..../0x....` otherwise. */
function be16Masked(name: string, value: number, mask: number): string {
  if (!mask) return "";
  if (mask === 0xffff) return `${name}=${value},`;
  return `${name}=0x${hex(value)}/0x${hex(mask)},`;
}

/** format_be32_masked(): decimal when exact, zero-padded hex pair otherwise. */
function be32Masked(name: string, value: number, mask: number): string {
  if (!mask) return "";
  if (mask >>> 0 === 0xffffffff) return `${name}=${value >>> 0},`;
  return `${name}=0x${hex(value).padStart(8, "0")}/0x${hex(mask).padStart(8, "0")},`;
}

/** format_be32_masked_hex(). */
function be32MaskedHex(name: string, value: number, mask: number): string {
  if (!mask) return "";
  if (mask >>> 0 === 0xffffffff) return `${name}=0x${hex(value)},`;
  return `${name}=0x${hex(value)}/0x${hex(mask)},`;
}

/** format_uint32_masked(): `%#x`, with `/%#x` unless exact. */
function u32Masked(name: string, value: number, mask: number): string {
  if (!mask) return "";
  return mask >>> 0 === 0xffffffff
    ? `${name}=${altHex(value)},`
    : `${name}=${altHex(value)}/${altHex(mask)},`;
}

/** format_uint8_masked(). */
function u8Masked(name: string, value: number, mask: number): string {
  if (!mask) return "";
  if (mask === 0xff) return `${name}=${value},`;
  return `${name}=0x${hex(value).padStart(2, "0")}/0x${hex(mask).padStart(2, "0")},`;
}

function ipMasked(name: string, value: number, mask: number): string {
  return mask ? `${name}=${formatIpv4Masked(value, mask)},` : "";
}

function ipv6Masked(name: string, key: FlowKey, mask: FlowKey, w: number): string {
  if (!(mask[w] | mask[w + 1] | mask[w + 2] | mask[w + 3])) return "";
  return `${name}=${formatIpv6Masked(key, w, mask, w)},`;
}

function ethMasked(name: string, key: FlowKey, mask: FlowKey, hi: number, lo: number): string {
  if (!(mask[hi] & 0xffff) && !mask[lo]) return "";
  return `${name}=${formatMacMasked(key[hi], key[lo], mask[hi], mask[lo])},`;
}

/** Whether the tunnel has a destination (flow_tnl_dst_is_set()). */
function tunnelDstIsSet(key: FlowKey): boolean {
  return (
    key[W_TUN_DST] !== 0 ||
    (key[W_TUN_IPV6_DST] |
      key[W_TUN_IPV6_DST + 1] |
      key[W_TUN_IPV6_DST + 2] |
      key[W_TUN_IPV6_DST + 3]) !==
      0
  );
}

function setWords(mask: FlowKey, from: number, n: number): void {
  mask.fill(0xffffffff, from, from + n);
}

/**
 * flow_wildcards_init_for_packet() followed by match_wc_init()'s registers and
 * metadata: writes into `mask` every bit a packet with this key actually determines
 * (the fields its protocols carry), zero elsewhere.
 */
export function flowWildcardsForPacket(key: FlowKey, mask: FlowKey): void {
  mask.fill(0);
  if (tunnelDstIsSet(key)) {
    if (key[W_TUN_FLAGS] & 4) setWords(mask, W_TUN_ID_HI, 2);
    setWords(mask, W_TUN_SRC, 2);
    setWords(mask, W_TUN_IPV6_SRC, 8);
    mask[W_TUN_FLAGS] = 0xffff;
    mask[W_TUN_TOS_TTL] = 0xffff;
    mask[W_TUN_TP] = 0xffffffff;
  } else if (key[W_TUN_ID_HI] | key[W_TUN_ID_LO]) {
    setWords(mask, W_TUN_ID_HI, 2);
  }
  setWords(mask, W_METADATA_HI, 2);
  setWords(mask, W_REG0, FLOW_N_REGS);
  mask[W_SKB_PRIORITY] = 0xffffffff;
  mask[W_PKT_MARK] = 0xffffffff;
  mask[W_RECIRC_ID] = 0xffffffff;
  mask[W_DP_HASH] = 0xffffffff;
  mask[W_IN_PORT] = 0xffffffff;

  mask[W_DL_DST_HI] = 0xffff;
  mask[W_DL_DST_LO] = 0xffffffff;
  mask[W_DL_SRC_HI] = 0xffff;
  mask[W_DL_SRC_LO] = 0xffffffff;
  mask[W_DL_TYPE] = 0xffff;
  for (let i = 0; i < 2; i++) {
    mask[W_VLAN0 + i] = 0xffffffff;
    if ((key[W_VLAN0 + i] & 0xffff) === 0) break;
  }

  const dlType = key[W_DL_TYPE];
  const nwProto = key[W_NW] & 0xff;
  if (dlType === ETH_TYPE_IP) {
    mask[W_NW_SRC] = 0xffffffff;
    mask[W_NW_DST] = 0xffffffff;
  } else if (dlType === ETH_TYPE_IPV6) {
    setWords(mask, W_IPV6_SRC, 8);
    mask[W_IPV6_LABEL] = 0xfffff;
    if (nwProto === IPPROTO_ICMPV6) {
      // is_nd() unwildcards the type and code it looks at.
      const tp = key[W_TP];
      const type = tp >>> 16;
      if ((tp & 0xffff) === 0 && (type === ND_NEIGHBOR_SOLICIT || type === ND_NEIGHBOR_ADVERT)) {
        setWords(mask, W_ARP_SHA_HI, 4);
        mask[W_ARP_SHA_HI] = 0xffff;
        mask[W_ARP_THA_HI] = 0xffff;
        setWords(mask, W_ND_TARGET, 4);
      }
    }
  } else if (dlType === ETH_TYPE_ARP || dlType === ETH_TYPE_RARP) {
    mask[W_NW_SRC] = 0xffffffff;
    mask[W_NW_DST] = 0xffffffff;
    mask[W_NW] = 0xff;
    mask[W_ARP_SHA_HI] = 0xffff;
    mask[W_ARP_SHA_LO] = 0xffffffff;
    mask[W_ARP_THA_HI] = 0xffff;
    mask[W_ARP_THA_LO] = 0xffffffff;
    return;
  } else if (dlType === ETH_TYPE_MPLS || dlType === ETH_TYPE_MPLS_MCAST) {
    for (let i = 0; i < 3; i++) {
      mask[W_MPLS0 + i] = 0xffffffff;
      if (key[W_MPLS0 + i] & MPLS_BOS_MASK) break;
    }
    return;
  } else if (dlType === ETH_TYPE_NSH) {
    setWords(mask, W_NSH_BASE, 6);
  } else {
    return;
  }

  mask[W_NW] = 0xffffffff;
  const frag = (key[W_NW] >>> NW_FRAG_SHIFT) & FLOW_NW_FRAG_MASK;
  if (
    !(frag & FLOW_NW_FRAG_LATER) &&
    (nwProto === IPPROTO_ICMP ||
      nwProto === IPPROTO_ICMPV6 ||
      nwProto === IPPROTO_TCP ||
      nwProto === IPPROTO_UDP ||
      nwProto === IPPROTO_SCTP ||
      nwProto === IPPROTO_IGMP)
  ) {
    mask[W_TP] = 0xffffffff;
    if (nwProto === IPPROTO_TCP) mask[W_TCP_FLAGS] = 0xffff;
    else if (nwProto === IPPROTO_IGMP) mask[W_IGMP_GROUP] = 0xffffffff;
  }
}

/** flow_format()'s mask: the packet's fields, minus metadata that is zero. */
function flowFormatMask(key: FlowKey): FlowKey {
  const mask = new Uint32Array(FLOW_WORDS);
  flowWildcardsForPacket(key, mask);
  for (const w of [W_IN_PORT, W_SKB_PRIORITY, W_PKT_MARK, W_RECIRC_ID, W_DP_HASH]) {
    if (!key[w]) mask[w] = 0;
  }
  for (let i = 0; i < FLOW_N_REGS; i++) if (!key[W_REG0 + i]) mask[W_REG0 + i] = 0;
  if (!key[W_METADATA_HI] && !key[W_METADATA_LO]) {
    mask[W_METADATA_HI] = 0;
    mask[W_METADATA_LO] = 0;
  }
  return mask;
}

/**
 * Prints `key` under `mask` as OVS's match_format() does; with no mask, prints the
 * exact flow as flow_format() does (the fields the packet's protocols carry, zero
 * metadata omitted). Values outside the mask are ignored.
 */
export function formatMatch(
  key: FlowKey,
  mask: FlowKey | undefined,
  opts: FormatMatchOptions = {},
): string {
  const m = mask ?? flowFormatMask(key);
  let s = "";
  if (opts.priority !== undefined && opts.priority !== OFP_DEFAULT_PRIORITY) {
    s += `priority=${opts.priority},`;
  }
  s += u32Masked("pkt_mark", key[W_PKT_MARK], m[W_PKT_MARK]);
  let isMegaflow = false;
  if (m[W_RECIRC_ID]) {
    s += u32Masked("recirc_id", key[W_RECIRC_ID], m[W_RECIRC_ID]);
    isMegaflow = true;
  }
  s += u32Masked("dp_hash", key[W_DP_HASH], m[W_DP_HASH]);
  if (m[W_SKB_PRIORITY]) s += `skb_priority=${altHex(key[W_SKB_PRIORITY])},`;
  if (isMegaflow && (opts.packetTypeMasked ?? true)) s += "eth,";

  const dlType = key[W_DL_TYPE] & 0xffff;
  const nwProto = key[W_NW] & 0xff;
  const nwProtoMasked = (m[W_NW] & 0xff) !== 0;
  let skipType = false;
  let skipProto = false;
  if (m[W_DL_TYPE] & 0xffff) {
    skipType = true;
    if (dlType === ETH_TYPE_IP) {
      let name = "ip";
      if (nwProtoMasked) {
        skipProto = true;
        if (nwProto === IPPROTO_ICMP) name = "icmp";
        else if (nwProto === IPPROTO_TCP) name = "tcp";
        else if (nwProto === IPPROTO_UDP) name = "udp";
        else if (nwProto === IPPROTO_SCTP) name = "sctp";
        else skipProto = false;
      }
      s += `${name},`;
    } else if (dlType === ETH_TYPE_IPV6) {
      let name = "ipv6";
      if (nwProtoMasked) {
        skipProto = true;
        if (nwProto === IPPROTO_ICMPV6) name = "icmp6";
        else if (nwProto === IPPROTO_TCP) name = "tcp6";
        else if (nwProto === IPPROTO_UDP) name = "udp6";
        else if (nwProto === IPPROTO_SCTP) name = "sctp6";
        else skipProto = false;
      }
      s += `${name},`;
    } else if (dlType === ETH_TYPE_ARP) s += "arp,";
    else if (dlType === ETH_TYPE_RARP) s += "rarp,";
    else if (dlType === ETH_TYPE_MPLS) s += "mpls,";
    else if (dlType === ETH_TYPE_MPLS_MCAST) s += "mplsm,";
    else skipType = false;
  }

  for (let i = 0; i < FLOW_N_REGS; i++) s += u32Masked(`reg${i}`, key[W_REG0 + i], m[W_REG0 + i]);

  // For a packet OVS unwildcards every tunnel field once the tunnel has a destination,
  // including ones ovsim's key does not carry (GBP, ERSPAN, GTP-U), which print as 0.
  s += formatTunnel(key, m, mask === undefined && tunnelDstIsSet(key));

  if (m[W_METADATA_HI] | m[W_METADATA_LO]) {
    s += `metadata=${altHex64(key[W_METADATA_HI], key[W_METADATA_LO])}`;
    if ((m[W_METADATA_HI] & m[W_METADATA_LO]) >>> 0 !== 0xffffffff) {
      s += `/${altHex64(m[W_METADATA_HI], m[W_METADATA_LO])}`;
    }
    s += ",";
  }

  if (m[W_IN_PORT]) {
    const port = key[W_IN_PORT];
    s += `in_port=${opts.portName?.(port) ?? formatOfPort(port)},`;
  }

  s += formatVlans(key, m);
  s += ethMasked("dl_src", key, m, W_DL_SRC_HI, W_DL_SRC_LO);
  s += ethMasked("dl_dst", key, m, W_DL_DST_HI, W_DL_DST_LO);
  if (!skipType && m[W_DL_TYPE] & 0xffff) s += `dl_type=0x${hex(dlType).padStart(4, "0")},`;

  const isArp = dlType === ETH_TYPE_ARP || dlType === ETH_TYPE_RARP;
  if (dlType === ETH_TYPE_IPV6) {
    s += ipv6Masked("ipv6_src", key, m, W_IPV6_SRC);
    s += ipv6Masked("ipv6_dst", key, m, W_IPV6_DST);
    const lm = m[W_IPV6_LABEL];
    if (lm) {
      const label = hex(key[W_IPV6_LABEL]).padStart(5, "0");
      s +=
        lm >>> 0 === 0xffffffff || lm === 0xfffff
          ? `ipv6_label=0x${label},`
          : `ipv6_label=0x${label}/0x${hex(lm).padStart(5, "0")},`;
    }
  } else if (isArp) {
    s += ipMasked("arp_spa", key[W_NW_SRC], m[W_NW_SRC]);
    s += ipMasked("arp_tpa", key[W_NW_DST], m[W_NW_DST]);
  } else if (dlType === ETH_TYPE_NSH) {
    s += formatNsh(key, m);
  } else {
    s += ipMasked("nw_src", key[W_NW_SRC], m[W_NW_SRC]);
    s += ipMasked("nw_dst", key[W_NW_DST], m[W_NW_DST]);
  }
  if (!skipProto && nwProtoMasked) s += `${isArp ? "arp_op" : "nw_proto"}=${nwProto},`;
  if (isArp) {
    s += ethMasked("arp_sha", key, m, W_ARP_SHA_HI, W_ARP_SHA_LO);
    s += ethMasked("arp_tha", key, m, W_ARP_THA_HI, W_ARP_THA_LO);
  }
  const tos = (key[W_NW] >>> NW_TOS_SHIFT) & 0xff;
  const tosMask = (m[W_NW] >>> NW_TOS_SHIFT) & 0xff;
  if (tosMask & 0xfc) s += `nw_tos=${tos & 0xfc},`;
  if (tosMask & 0x03) s += `nw_ecn=${tos & 0x03},`;
  if ((m[W_NW] >>> NW_TTL_SHIFT) & 0xff) s += `nw_ttl=${(key[W_NW] >>> NW_TTL_SHIFT) & 0xff},`;

  const lse = key[W_MPLS0];
  const lseMask = m[W_MPLS0];
  if (lseMask & 0xfffff000) s += `mpls_label=${lse >>> 12},`;
  if (lseMask & 0xe00) s += `mpls_tc=${(lse >>> 9) & 7},`;
  if (lseMask & 0xff) s += `mpls_ttl=${lse & 0xff},`;
  if (lseMask & 0x100) s += `mpls_bos=${(lse >>> 8) & 1},`;
  s += be32Masked("mpls_lse1", key[W_MPLS0 + 1], m[W_MPLS0 + 1]);
  s += be32Masked("mpls_lse2", key[W_MPLS0 + 2], m[W_MPLS0 + 2]);

  const frag = (key[W_NW] >>> NW_FRAG_SHIFT) & FLOW_NW_FRAG_MASK;
  const fragMask = (m[W_NW] >>> NW_FRAG_SHIFT) & FLOW_NW_FRAG_MASK;
  if (fragMask === FLOW_NW_FRAG_MASK) {
    const any = frag & FLOW_NW_FRAG_ANY;
    const later = frag & FLOW_NW_FRAG_LATER;
    s += `nw_frag=${any ? (later ? "later" : "first") : later ? "<error>" : "no"},`;
  } else if (fragMask === FLOW_NW_FRAG_ANY) {
    s += `nw_frag=${frag & FLOW_NW_FRAG_ANY ? "yes" : "no"},`;
  } else if (fragMask === FLOW_NW_FRAG_LATER) {
    s += `nw_frag=${frag & FLOW_NW_FRAG_LATER ? "later" : "not_later"},`;
  }

  const tpSrc = key[W_TP] >>> 16;
  const tpDst = key[W_TP] & 0xffff;
  const tpSrcMask = m[W_TP] >>> 16;
  const tpDstMask = m[W_TP] & 0xffff;
  if (dlType === ETH_TYPE_IP && nwProto === IPPROTO_ICMP) {
    s += be16Masked("icmp_type", tpSrc, tpSrcMask);
    s += be16Masked("icmp_code", tpDst, tpDstMask);
  } else if (dlType === ETH_TYPE_IPV6 && nwProto === IPPROTO_ICMPV6) {
    s += be16Masked("icmp_type", tpSrc, tpSrcMask);
    s += be16Masked("icmp_code", tpDst, tpDstMask);
    s += ipv6Masked("nd_target", key, m, W_ND_TARGET);
    s += ethMasked("nd_sll", key, m, W_ARP_SHA_HI, W_ARP_SHA_LO);
    s += ethMasked("nd_tll", key, m, W_ARP_THA_HI, W_ARP_THA_LO);
    s += be32Masked("nd_reserved", key[W_IGMP_GROUP], m[W_IGMP_GROUP]);
    s += u8Masked("nd_options_type", key[W_TCP_FLAGS] & 0xff, m[W_TCP_FLAGS] & 0xff);
  } else {
    s += be16Masked("tp_src", tpSrc, tpSrcMask);
    s += be16Masked("tp_dst", tpDst, tpDstMask);
  }
  const tcpMask = m[W_TCP_FLAGS] & TCP_FLAGS_MASK;
  if ((dlType === ETH_TYPE_IP || dlType === ETH_TYPE_IPV6) && nwProto === IPPROTO_TCP && tcpMask) {
    s += `tcp_flags=${formatFlagsMasked(TCP_FLAG_NAMES, key[W_TCP_FLAGS] & TCP_FLAGS_MASK, tcpMask, TCP_FLAGS_MASK)},`;
  }

  return s.endsWith(",") ? s.slice(0, -1) : s;
}

/**
 * flow_format(): the exact flow of a packet (the `Flow:` and `Final flow:` lines of
 * ofproto/trace, each line of `ovs-ofctl parse-pcap`). Same as
 * `formatMatch(key, undefined, opts)`.
 */
export function formatFlow(key: FlowKey, opts: FormatMatchOptions = {}): string {
  return formatMatch(key, undefined, opts);
}

/** format_flow_tunnel(). */
function formatTunnel(key: FlowKey, m: FlowKey, zeroExtras: boolean): string {
  let s = "";
  if (m[W_TUN_ID_HI] | m[W_TUN_ID_LO]) {
    s += `tun_id=${altHex64(key[W_TUN_ID_HI], key[W_TUN_ID_LO])}`;
    if ((m[W_TUN_ID_HI] & m[W_TUN_ID_LO]) >>> 0 !== 0xffffffff) {
      s += `/${altHex64(m[W_TUN_ID_HI], m[W_TUN_ID_LO])}`;
    }
    s += ",";
  }
  s += ipMasked("tun_src", key[W_TUN_SRC], m[W_TUN_SRC]);
  s += ipMasked("tun_dst", key[W_TUN_DST], m[W_TUN_DST]);
  s += ipv6Masked("tun_ipv6_src", key, m, W_TUN_IPV6_SRC);
  s += ipv6Masked("tun_ipv6_dst", key, m, W_TUN_IPV6_DST);
  if (zeroExtras) s += "tun_gbp_id=0,tun_gbp_flags=0,";
  if ((m[W_TUN_TOS_TTL] >>> 8) & 0xff) s += `tun_tos=${hex((key[W_TUN_TOS_TTL] >>> 8) & 0xff)},`;
  if (m[W_TUN_TOS_TTL] & 0xff) s += `tun_ttl=${key[W_TUN_TOS_TTL] & 0xff},`;
  if (zeroExtras) s += "tun_erspan_ver=0,gtpu_flags=0,gtpu_msgtype=0,";
  const flagsMask = m[W_TUN_FLAGS] & FLOW_TNL_F_MASK;
  if (flagsMask) {
    const flags = key[W_TUN_FLAGS] & FLOW_TNL_F_MASK;
    s += `tun_flags=${formatFlagsMasked(TUN_FLAG_NAMES, flags, flagsMask, FLOW_TNL_F_MASK)},`;
  }
  return s;
}

/** The VLAN part of match_format(): dl_vlan/dl_vlan_pcp when clean, else vlan_tci. */
function formatVlans(key: FlowKey, m: FlowKey): string {
  let s = "";
  for (let i = 0; i < 2; i++) {
    const tciMask = m[W_VLAN0 + i] & 0xffff;
    if (!tciMask) break;
    const tci = key[W_VLAN0 + i] & 0xffff;
    const suffix = i === 0 ? "" : String(i);
    const vidMask = tciMask & VLAN_VID_MASK;
    const pcpMask = tciMask & 0xe000;
    if (
      tciMask & VLAN_CFI &&
      tci & VLAN_CFI &&
      (!vidMask || vidMask === VLAN_VID_MASK) &&
      (!pcpMask || pcpMask === 0xe000) &&
      (vidMask || pcpMask)
    ) {
      if (vidMask) s += `dl_vlan${suffix}=${tci & VLAN_VID_MASK},`;
      if (pcpMask) s += `dl_vlan_pcp${suffix}=${tci >>> VLAN_PCP_SHIFT},`;
    } else if (tciMask === 0xffff) {
      s += `vlan_tci${suffix}=0x${hex(tci).padStart(4, "0")},`;
    } else {
      s += `vlan_tci${suffix}=0x${hex(tci).padStart(4, "0")}/0x${hex(tciMask).padStart(4, "0")},`;
    }
  }
  return s;
}

/** format_nsh_masked(). */
function formatNsh(key: FlowKey, m: FlowKey): string {
  const base = key[W_NSH_BASE];
  const baseMask = m[W_NSH_BASE];
  let s = "";
  s += u8Masked("nsh_flags", base >>> 24, baseMask >>> 24);
  s += u8Masked("nsh_ttl", (base >>> 16) & 0xff, (baseMask >>> 16) & 0xff);
  s += u8Masked("nsh_mdtype", (base >>> 8) & 0xff, (baseMask >>> 8) & 0xff);
  s += u8Masked("nsh_np", base & 0xff, baseMask & 0xff);
  const spiMask = m[W_NSH_PATH] >>> 8;
  s += be32MaskedHex("nsh_spi", key[W_NSH_PATH] >>> 8, spiMask === 0xffffff ? 0xffffffff : spiMask);
  s += u8Masked("nsh_si", key[W_NSH_PATH] & 0xff, m[W_NSH_PATH] & 0xff);
  if (((baseMask >>> 8) & 0xff) === 0xff && ((base >>> 8) & 0xff) === 1) {
    for (let i = 0; i < 4; i++) {
      s += be32MaskedHex(`nsh_c${i + 1}`, key[W_NSH_C1 + i], m[W_NSH_C1 + i]);
    }
  }
  return s;
}
