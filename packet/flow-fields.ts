/**
 * The match fields of OVS's flow syntax as data: for each field, the name ovs-ofctl
 * uses, where its bits live in a flow key (flow-key.ts), its prerequisites and how its
 * value is written. vswitchd's flow-syntax parser and the printers read this table;
 * nothing here parses or prints by itself.
 *
 * Where a field lives
 * - `word`, `shift`, `bits`: a field of at most 32 bits occupies `bits` bits of word
 *   `word` starting at bit `shift`. A wider field (MAC 48, tun_id/metadata 64, IPv6
 *   128) starts at `word` with `shift` 0 and spans ceil(bits / 32) words, most
 *   significant first; the first word holds the leftover high bits (16 for a MAC).
 *
 * Prerequisites (OVS's mf_prereqs, `ovs-fields(7)`): a field may only be matched when
 * the flow also pins the listed protocol, e.g. `tp_src` needs `tcp`, `udp` or `sctp`.
 *
 * It does not cover conntrack, packet_type, actset_output, xregs or NSH MD2 TLVs.
 */
import {
  NW_FRAG_SHIFT,
  NW_PROTO_SHIFT,
  NW_TOS_SHIFT,
  NW_TTL_SHIFT,
  W_ARP_SHA_HI,
  W_ARP_THA_HI,
  W_DL_DST_HI,
  W_DL_SRC_HI,
  W_DL_TYPE,
  W_DP_HASH,
  W_IGMP_GROUP,
  W_IN_PORT,
  W_IPV6_DST,
  W_IPV6_LABEL,
  W_IPV6_SRC,
  W_METADATA_HI,
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
  W_TUN_IPV6_DST,
  W_TUN_IPV6_SRC,
  W_TUN_SRC,
  W_TUN_TOS_TTL,
  W_VLAN0,
  W_VLAN1,
} from "./flow-key.js";

/** What a field needs the flow to pin first (OVS MFP_*). */
export type FieldPrereq =
  | "none"
  | "vlan"
  | "arp"
  | "ip"
  | "ipv4"
  | "ipv6"
  | "mpls"
  | "tcp"
  | "udp"
  | "sctp"
  | "tcp_udp_sctp"
  | "icmp"
  | "icmpv6"
  | "nd"
  | "nd_solicit"
  | "nd_advert"
  | "nsh";

/** How a value is written in flow syntax. */
export type FieldStyle =
  | "decimal"
  | "hex"
  | "mac"
  | "ipv4"
  | "ipv6"
  | "port"
  | "tcp_flags"
  | "tun_flags"
  | "frag";

export interface FlowField {
  /** The name ovs-ofctl prints. */
  readonly name: string;
  /** Other names ovs-ofctl accepts on input. */
  readonly aliases: readonly string[];
  readonly word: number;
  readonly shift: number;
  readonly bits: number;
  /**
   * For fields of at most 32 bits, the value bits that exist (before shifting): all
   * `bits` ones except where flow syntax reserves some, e.g. nw_tos is the TOS byte
   * with its two ECN bits always zero (0xfc). Multi-word fields: 0 (use `bits`).
   */
  readonly valueMask: number;
  readonly prereq: FieldPrereq;
  readonly style: FieldStyle;
  /** Whether flow syntax accepts `value/mask` for it. */
  readonly maskable: boolean;
  /**
   * Whether ovs-ofctl accepts the field in an OpenFlow match. Some are only printed
   * (the inner VLAN, the second and third MPLS entries, and datapath-only metadata
   * that appears in megaflows and traces: skb_priority, tun_tos, tun_ttl).
   */
  readonly input: boolean;
}

/** Fields OVS prints but does not accept in an OpenFlow match (checked with ovs-ofctl 3.1). */
const PRINT_ONLY: ReadonlySet<string> = new Set([
  "skb_priority",
  "tun_tos",
  "tun_ttl",
  "dl_vlan1",
  "dl_vlan_pcp1",
  "vlan_tci1",
  "mpls_lse1",
  "mpls_lse2",
]);

function f(
  name: string,
  word: number,
  shift: number,
  bits: number,
  prereq: FieldPrereq,
  style: FieldStyle,
  maskable: boolean,
  aliases: readonly string[] = [],
  valueMask: number = bits > 32 ? 0 : bits === 32 ? 0xffffffff : (1 << bits) - 1,
): FlowField {
  const input = !PRINT_ONLY.has(name);
  return { name, aliases, word, shift, bits, valueMask, prereq, style, maskable, input };
}

const regs: FlowField[] = [];
for (let i = 0; i < 16; i++) regs.push(f(`reg${i}`, W_REG0 + i, 0, 32, "none", "hex", true));

/** Every match field, in the order OVS's match_format() prints them. */
export const FLOW_FIELDS = [
  f("pkt_mark", W_PKT_MARK, 0, 32, "none", "hex", true),
  f("recirc_id", W_RECIRC_ID, 0, 32, "none", "hex", false),
  f("dp_hash", W_DP_HASH, 0, 32, "none", "hex", true),
  f("skb_priority", W_SKB_PRIORITY, 0, 32, "none", "hex", false),
  ...regs,
  f("tun_id", W_TUN_ID_HI, 0, 64, "none", "hex", true, ["tunnel_id"]),
  f("tun_src", W_TUN_SRC, 0, 32, "none", "ipv4", true),
  f("tun_dst", W_TUN_DST, 0, 32, "none", "ipv4", true),
  f("tun_ipv6_src", W_TUN_IPV6_SRC, 0, 128, "none", "ipv6", true),
  f("tun_ipv6_dst", W_TUN_IPV6_DST, 0, 128, "none", "ipv6", true),
  f("tun_tos", W_TUN_TOS_TTL, 8, 8, "none", "decimal", false),
  f("tun_ttl", W_TUN_TOS_TTL, 0, 8, "none", "decimal", false),
  f("tun_flags", W_TUN_FLAGS, 0, 16, "none", "tun_flags", true),
  f("metadata", W_METADATA_HI, 0, 64, "none", "hex", true),
  f("in_port", W_IN_PORT, 0, 32, "none", "port", false),
  f("dl_vlan", W_VLAN0, 0, 12, "none", "decimal", false),
  f("dl_vlan_pcp", W_VLAN0, 13, 3, "none", "decimal", false),
  f("vlan_tci", W_VLAN0, 0, 16, "none", "hex", true),
  f("dl_vlan1", W_VLAN1, 0, 12, "none", "decimal", false),
  f("dl_vlan_pcp1", W_VLAN1, 13, 3, "none", "decimal", false),
  f("vlan_tci1", W_VLAN1, 0, 16, "none", "hex", true),
  f("dl_src", W_DL_SRC_HI, 0, 48, "none", "mac", true, ["eth_src"]),
  f("dl_dst", W_DL_DST_HI, 0, 48, "none", "mac", true, ["eth_dst"]),
  f("dl_type", W_DL_TYPE, 0, 16, "none", "hex", false, ["eth_type"]),
  f("ipv6_src", W_IPV6_SRC, 0, 128, "ipv6", "ipv6", true),
  f("ipv6_dst", W_IPV6_DST, 0, 128, "ipv6", "ipv6", true),
  f("ipv6_label", W_IPV6_LABEL, 0, 20, "ipv6", "hex", true),
  f("arp_spa", W_NW_SRC, 0, 32, "arp", "ipv4", true),
  f("arp_tpa", W_NW_DST, 0, 32, "arp", "ipv4", true),
  f("nw_src", W_NW_SRC, 0, 32, "ipv4", "ipv4", true, ["ip_src"]),
  f("nw_dst", W_NW_DST, 0, 32, "ipv4", "ipv4", true, ["ip_dst"]),
  f("arp_op", W_NW, NW_PROTO_SHIFT, 8, "arp", "decimal", false),
  f("nw_proto", W_NW, NW_PROTO_SHIFT, 8, "ip", "decimal", false, ["ip_proto"]),
  f("arp_sha", W_ARP_SHA_HI, 0, 48, "arp", "mac", true),
  f("arp_tha", W_ARP_THA_HI, 0, 48, "arp", "mac", true),
  // nw_tos is the TOS byte with its ECN bits zero (nw_tos=184 is DSCP 46); nw_ecn
  // is the ECN bits alone.
  f("nw_tos", W_NW, NW_TOS_SHIFT, 8, "ip", "decimal", false, [], 0xfc),
  f("nw_ecn", W_NW, NW_TOS_SHIFT, 2, "ip", "decimal", false, ["ip_ecn"]),
  f("nw_ttl", W_NW, NW_TTL_SHIFT, 8, "ip", "decimal", false),
  f("mpls_label", W_MPLS0, 12, 20, "mpls", "decimal", false),
  f("mpls_tc", W_MPLS0, 9, 3, "mpls", "decimal", false),
  f("mpls_ttl", W_MPLS0, 0, 8, "mpls", "decimal", false),
  f("mpls_bos", W_MPLS0, 8, 1, "mpls", "decimal", false),
  f("mpls_lse1", W_MPLS0 + 1, 0, 32, "mpls", "decimal", true),
  f("mpls_lse2", W_MPLS0 + 2, 0, 32, "mpls", "decimal", true),
  f("nw_frag", W_NW, NW_FRAG_SHIFT, 2, "ip", "frag", true, ["ip_frag"]),
  f("icmp_type", W_TP, 16, 16, "icmp", "decimal", false),
  f("icmp_code", W_TP, 0, 16, "icmp", "decimal", false),
  f("icmpv6_type", W_TP, 16, 16, "icmpv6", "decimal", false),
  f("icmpv6_code", W_TP, 0, 16, "icmpv6", "decimal", false),
  f("nd_target", W_ND_TARGET, 0, 128, "nd", "ipv6", true),
  f("nd_sll", W_ARP_SHA_HI, 0, 48, "nd_solicit", "mac", true),
  f("nd_tll", W_ARP_THA_HI, 0, 48, "nd_advert", "mac", true),
  f("nd_reserved", W_IGMP_GROUP, 0, 32, "nd", "decimal", false),
  f("nd_options_type", W_TCP_FLAGS, 0, 8, "nd", "decimal", false),
  f("tp_src", W_TP, 16, 16, "tcp_udp_sctp", "decimal", true, ["tcp_src", "udp_src", "sctp_src"]),
  f("tp_dst", W_TP, 0, 16, "tcp_udp_sctp", "decimal", true, ["tcp_dst", "udp_dst", "sctp_dst"]),
  f("tcp_flags", W_TCP_FLAGS, 0, 12, "tcp", "tcp_flags", true),
  f("nsh_flags", W_NSH_BASE, 24, 8, "nsh", "decimal", true),
  f("nsh_ttl", W_NSH_BASE, 16, 8, "nsh", "decimal", false),
  f("nsh_mdtype", W_NSH_BASE, 8, 8, "nsh", "decimal", false),
  f("nsh_np", W_NSH_BASE, 0, 8, "nsh", "decimal", false),
  f("nsh_spi", W_NSH_PATH, 8, 24, "nsh", "hex", false),
  f("nsh_si", W_NSH_PATH, 0, 8, "nsh", "decimal", false),
  f("nsh_c1", W_NSH_C1, 0, 32, "nsh", "hex", true),
  f("nsh_c2", W_NSH_C1 + 1, 0, 32, "nsh", "hex", true),
  f("nsh_c3", W_NSH_C1 + 2, 0, 32, "nsh", "hex", true),
  f("nsh_c4", W_NSH_C1 + 3, 0, 32, "nsh", "hex", true),
] as const satisfies readonly FlowField[];

/** The field named `name` (or one of its aliases), or undefined. */
export function findFlowField(name: string): FlowField | undefined {
  for (const field of FLOW_FIELDS) {
    if (field.name === name || field.aliases.includes(name)) return field;
  }
  return undefined;
}

/**
 * Protocol shorthands of flow syntax: dl_type, and nw_proto when it is pinned too.
 * (OVS 3.1 has no `igmp` shorthand: IGMP is `ip,nw_proto=2`, its type and code are
 * `tp_src` and `tp_dst`.)
 */
export const PROTOCOL_SHORTHANDS = {
  eth: {},
  ip: { dlType: 0x0800 },
  ipv6: { dlType: 0x86dd },
  icmp: { dlType: 0x0800, nwProto: 1 },
  tcp: { dlType: 0x0800, nwProto: 6 },
  udp: { dlType: 0x0800, nwProto: 17 },
  sctp: { dlType: 0x0800, nwProto: 132 },
  icmp6: { dlType: 0x86dd, nwProto: 58 },
  tcp6: { dlType: 0x86dd, nwProto: 6 },
  udp6: { dlType: 0x86dd, nwProto: 17 },
  sctp6: { dlType: 0x86dd, nwProto: 132 },
  arp: { dlType: 0x0806 },
  rarp: { dlType: 0x8035 },
  mpls: { dlType: 0x8847 },
  mplsm: { dlType: 0x8848 },
} as const satisfies Record<string, { dlType?: number; nwProto?: number }>;
