/**
 * The flow key: every header field OVS's `struct flow` carries, laid out as a
 * fixed-length `Uint32Array` of FLOW_WORDS words.
 *
 * Why a flat word array: the datapath hashes, masks and compares keys per packet,
 * and doing so over plain 32-bit words with `Math.imul` is the fastest thing V8 does.
 * A mask uses the same layout (a 1 bit means "this bit matters").
 *
 * Layout promises (the datapath, the classifier and translation rely on them):
 * - Word order follows `struct flow` in OVS's lib/flow.h, so the four staged-lookup
 *   segments are contiguous ranges: metadata [0, FLOW_SEGMENT_L2), L2
 *   [FLOW_SEGMENT_L2, FLOW_SEGMENT_L3), L3 [FLOW_SEGMENT_L3, FLOW_SEGMENT_L4) and L4
 *   [FLOW_SEGMENT_L4, FLOW_WORDS), exactly as FLOW_SEGMENT_{1,2,3}_ENDS_AT split it.
 * - Multi-byte fields are stored as host integers holding the network-order value
 *   (a MAC is a 16-bit high word and a 32-bit low word; an IPv6 address is four
 *   words, most significant first).
 * - Fields narrower than 32 bits that share a word are packed at the shifts below; a
 *   field's mask lives at the same bits of the mask word.
 * - Where OVS reuses a field, so do we: ARP spa/tpa in nw_src/nw_dst, ARP opcode in
 *   nw_proto, ND sll/tll in arp_sha/arp_tha, ICMP type/code in tp_src/tp_dst, and the
 *   VLAN CFI bit (0x1000) marks "a VLAN header is present" in vlan tci.
 *
 * It does not parse packets (flow-extract.ts does) nor print them (flow-format.ts).
 */

// --- metadata segment: tunnel, OpenFlow metadata, registers, datapath metadata ---
export const W_TUN_ID_HI = 0;
export const W_TUN_ID_LO = 1;
export const W_TUN_SRC = 2;
export const W_TUN_DST = 3;
/** Four words: IPv6 tunnel source, most significant first. */
export const W_TUN_IPV6_SRC = 4;
/** Four words: IPv6 tunnel destination. */
export const W_TUN_IPV6_DST = 8;
/** Low 16 bits: FLOW_TNL_F_* flags (DONT_FRAGMENT 1, CSUM 2, KEY 4, OAM 8). */
export const W_TUN_FLAGS = 12;
/** tun_tos << 8 | tun_ttl. */
export const W_TUN_TOS_TTL = 13;
/** tun_tp_src << 16 | tun_tp_dst. */
export const W_TUN_TP = 14;
/** Eight words of Geneve option data (tun_metadata), see overlay/. */
export const W_TUN_METADATA = 15;
export const TUN_METADATA_WORDS = 8;
/** Bit i set: tun_metadata word i is present. */
export const W_TUN_METADATA_PRESENT = 23;
export const W_METADATA_HI = 24;
export const W_METADATA_LO = 25;
/** reg0..reg15 are W_REG0 + n. */
export const W_REG0 = 26;
export const FLOW_N_REGS = 16;
export const W_SKB_PRIORITY = 42;
export const W_PKT_MARK = 43;
export const W_DP_HASH = 44;
export const W_IN_PORT = 45;
export const W_RECIRC_ID = 46;

// --- L2 segment ---
export const FLOW_SEGMENT_L2 = 47;
/** Bytes 0-1 of dl_dst in the low 16 bits. */
export const W_DL_DST_HI = 47;
/** Bytes 2-5 of dl_dst. */
export const W_DL_DST_LO = 48;
export const W_DL_SRC_HI = 49;
export const W_DL_SRC_LO = 50;
/** Low 16 bits. */
export const W_DL_TYPE = 51;
/** Outer VLAN: tpid << 16 | tci (tci has VLAN_CFI set when present). */
export const W_VLAN0 = 52;
/** Inner VLAN (QinQ), same packing. */
export const W_VLAN1 = 53;
export const FLOW_MAX_VLAN_HEADERS = 2;
/** mpls_lse[0..2], each a whole label stack entry. */
export const W_MPLS0 = 54;
export const FLOW_MAX_MPLS_LABELS = 3;

// --- L3 segment ---
export const FLOW_SEGMENT_L3 = 57;
export const W_NW_SRC = 57;
export const W_NW_DST = 58;
export const W_IPV6_SRC = 59;
export const W_IPV6_DST = 63;
/** Low 20 bits. */
export const W_IPV6_LABEL = 67;
/** nw_frag << 24 | nw_tos << 16 | nw_ttl << 8 | nw_proto. nw_tos is the whole byte (DSCP | ECN). */
export const W_NW = 68;
export const NW_FRAG_SHIFT = 24;
export const NW_TOS_SHIFT = 16;
export const NW_TTL_SHIFT = 8;
export const NW_PROTO_SHIFT = 0;
export const W_ND_TARGET = 69;
export const W_ARP_SHA_HI = 73;
export const W_ARP_SHA_LO = 74;
export const W_ARP_THA_HI = 75;
export const W_ARP_THA_LO = 76;
/** Low 12 bits: TCP flags (or the ND options type, as OVS stores it there). */
export const W_TCP_FLAGS = 77;
/** NSH: flags << 24 | ttl << 16 | mdtype << 8 | np. */
export const W_NSH_BASE = 78;
/** NSH: spi << 8 | si. */
export const W_NSH_PATH = 79;
/** NSH context headers c1..c4. */
export const W_NSH_C1 = 80;

// --- L4 segment ---
export const FLOW_SEGMENT_L4 = 84;
/** tp_src << 16 | tp_dst (ICMP type/code for ICMP and ICMPv6). */
export const W_TP = 84;
/** IGMP group address, or the ND reserved field, as OVS stores them. */
export const W_IGMP_GROUP = 85;

export const FLOW_WORDS = 86;

/** nw_frag bits (lib/flow.h FLOW_NW_FRAG_*). */
export const FLOW_NW_FRAG_ANY = 1;
export const FLOW_NW_FRAG_LATER = 2;
export const FLOW_NW_FRAG_MASK = FLOW_NW_FRAG_ANY | FLOW_NW_FRAG_LATER;

/** The CFI bit that OVS sets in a flow's vlan tci to mean "VLAN header present". */
export const VLAN_CFI = 0x1000;
export const VLAN_VID_MASK = 0x0fff;
export const VLAN_PCP_SHIFT = 13;

/** Tunnel flags (lib/packets.h FLOW_TNL_F_*). */
export const FLOW_TNL_F_DONT_FRAGMENT = 1 << 0;
export const FLOW_TNL_F_CSUM = 1 << 1;
export const FLOW_TNL_F_KEY = 1 << 2;
export const FLOW_TNL_F_OAM = 1 << 3;

/** A flow key or mask. Always FLOW_WORDS long. */
export type FlowKey = Uint32Array;

export function newFlowKey(): FlowKey {
  return new Uint32Array(FLOW_WORDS);
}

/**
 * Offsets of a frame's layers, filled by flow extraction so that actions can find
 * headers without parsing again (OVS's dp_packet l2_5/l3/l4 offsets). -1: absent.
 */
export const LAYER_L2_5 = 0;
export const LAYER_L3 = 1;
export const LAYER_L4 = 2;
export const LAYER_L7 = 3;
export const LAYER_SLOTS = 4;
export type PacketLayers = Int32Array;

export function newPacketLayers(): PacketLayers {
  return new Int32Array(LAYER_SLOTS).fill(-1);
}
