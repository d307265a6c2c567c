/**
 * Flow extraction: the packet fields of an Ethernet frame, written into a flow key
 * exactly as Open vSwitch 3.1's miniflow_extract() (lib/flow.c) would fill
 * `struct flow`.
 *
 * Promises
 * - Writes every word in [FLOW_SEGMENT_L2, FLOW_WORDS): what the frame carries, zero
 *   where OVS would leave the field unset. The metadata segment (tunnel, registers,
 *   in_port, recirc_id...) belongs to the caller and is not touched.
 * - Malformed and truncated frames are handled the way OVS handles them: each stage
 *   keeps what it could read and stops, e.g. an IPv4 header that fails OVS's sanity
 *   checks yields the Ethernet fields only; an IPv6 extension-header chain that runs
 *   out yields the addresses but no nw_proto; an ARP body shorter than 28 bytes
 *   yields nothing past dl_type.
 * - Fills `layers` with OVS's dp_packet offsets (relative to `offset`, -1 when
 *   absent): l2_5 at the first MPLS label, l3 just past the Ethernet/VLAN/LLC-SNAP
 *   headers (or past the MPLS stack), l4 just past the IP header and its extension
 *   headers. l7 (which OVS no longer tracks) is set just past a TCP, UDP, SCTP, ICMP
 *   or IGMP header whose fixed part is present, so actions can find a payload.
 * - Allocates nothing and never throws, whatever the bytes.
 *
 * It does not verify checksums, does not reassemble fragments and does not look at
 * tunnel headers (the tunnel vport does that before calling here).
 */
import {
  FLOW_NW_FRAG_ANY,
  FLOW_NW_FRAG_LATER,
  FLOW_SEGMENT_L2,
  FLOW_WORDS,
  type FlowKey,
  LAYER_L2_5,
  LAYER_L3,
  LAYER_L4,
  LAYER_L7,
  NW_FRAG_SHIFT,
  NW_TOS_SHIFT,
  NW_TTL_SHIFT,
  type PacketLayers,
  VLAN_CFI,
  W_ARP_SHA_HI,
  W_ARP_SHA_LO,
  W_ARP_THA_HI,
  W_ARP_THA_LO,
  W_DL_DST_HI,
  W_DL_DST_LO,
  W_DL_SRC_HI,
  W_DL_SRC_LO,
  W_DL_TYPE,
  W_IGMP_GROUP,
  W_IPV6_DST,
  W_IPV6_LABEL,
  W_IPV6_SRC,
  W_MPLS0,
  W_ND_TARGET,
  W_NSH_BASE,
  W_NSH_C1,
  W_NSH_PATH,
  W_NW,
  W_NW_DST,
  W_NW_SRC,
  W_TCP_FLAGS,
  W_TP,
  W_VLAN0,
} from "./flow-key.js";

// Values from lib/packets.h, named as OVS names them.
const ETH_HEADER_LEN = 14;
const ETH_TYPE_MIN = 0x600;
const FLOW_DL_TYPE_NONE = 0x5ff;
const ETH_TYPE_IP = 0x0800;
const ETH_TYPE_ARP = 0x0806;
const ETH_TYPE_RARP = 0x8035;
const ETH_TYPE_IPV6 = 0x86dd;
const ETH_TYPE_VLAN_8021Q = 0x8100;
const ETH_TYPE_VLAN_8021AD = 0x88a8;
const ETH_TYPE_MPLS = 0x8847;
const ETH_TYPE_MPLS_MCAST = 0x8848;
const ETH_TYPE_NSH = 0x894f;
const LLC_SNAP_HEADER_LEN = 8;
const FLOW_MAX_VLAN_HEADERS = 2;
const FLOW_MAX_MPLS_LABELS = 3;
const MPLS_BOS_BIT = 0x100;
const IP_HEADER_LEN = 20;
const IP_MORE_FRAGMENTS = 0x2000;
const IP_FRAG_OFF_MASK = 0x1fff;
const IPV6_HEADER_LEN = 40;
const IPV6_LABEL_MASK = 0xfffff;
const IP6F_OFF_MASK = 0xfff8;
const ARP_ETH_HEADER_LEN = 28;
const TCP_HEADER_LEN = 20;
const UDP_HEADER_LEN = 8;
const SCTP_HEADER_LEN = 12;
const ICMP_HEADER_LEN = 8;
const IGMP_HEADER_LEN = 8;
/** struct icmp6_data_header: type, code, checksum and the 4-byte data word. */
const ICMP6_DATA_HEADER_LEN = 8;
const ND_NEIGHBOR_SOLICIT = 135;
const ND_NEIGHBOR_ADVERT = 136;
const ND_OPT_SOURCE_LINKADDR = 1;
const ND_OPT_TARGET_LINKADDR = 2;
const ND_LLA_OPT_LEN = 8;
const NSH_BASE_HDR_LEN = 8;
const NSH_M_TYPE1 = 1;
const NSH_M_TYPE2 = 2;
const NSH_M_TYPE1_LEN = 24;
const IPPROTO_HOPOPTS = 0;
const IPPROTO_ICMP = 1;
const IPPROTO_IGMP = 2;
const IPPROTO_TCP = 6;
const IPPROTO_UDP = 17;
const IPPROTO_ROUTING = 43;
const IPPROTO_FRAGMENT = 44;
const IPPROTO_AH = 51;
const IPPROTO_ICMPV6 = 58;
const IPPROTO_DSTOPTS = 60;
const IPPROTO_SCTP = 132;

/**
 * Extracts the L2-L4 fields of the frame at `frame[offset, offset + length)` into
 * `key` and the layer offsets into `layers`. See the file header for the contract.
 */
export function flowExtract(
  frame: Uint8Array,
  offset: number,
  length: number,
  key: FlowKey,
  layers: PacketLayers,
): void {
  key.fill(0, FLOW_SEGMENT_L2, FLOW_WORDS);
  layers[LAYER_L2_5] = -1;
  layers[LAYER_L3] = -1;
  layers[LAYER_L4] = -1;
  layers[LAYER_L7] = -1;
  // A caller's length past the end of the buffer would read `undefined`; clamp so the
  // "never throws, deterministic" promise holds for any arguments.
  if (offset < 0) return;
  if (length > frame.length - offset) length = frame.length - offset;
  if (length < ETH_HEADER_LEN) return;

  const b = frame;
  let p = offset;
  key[W_DL_DST_HI] = (b[p] << 8) | b[p + 1];
  key[W_DL_DST_LO] = (b[p + 2] << 24) | (b[p + 3] << 16) | (b[p + 4] << 8) | b[p + 5];
  key[W_DL_SRC_HI] = (b[p + 6] << 8) | b[p + 7];
  key[W_DL_SRC_LO] = (b[p + 8] << 24) | (b[p + 9] << 16) | (b[p + 10] << 8) | b[p + 11];
  p += 12;
  let size = length - 12;

  // parse_vlan(): at most two tags, each needing its 4 bytes plus the next type.
  for (let n = 0; n < FLOW_MAX_VLAN_HEADERS; n++) {
    const tpid = (b[p] << 8) | b[p + 1];
    if (tpid !== ETH_TYPE_VLAN_8021Q && tpid !== ETH_TYPE_VLAN_8021AD) break;
    if (size < 6) break;
    key[W_VLAN0 + n] = (tpid << 16) | (b[p + 2] << 8) | b[p + 3] | VLAN_CFI;
    p += 4;
    size -= 4;
  }

  // parse_ethertype(): 802.3 frames become FLOW_DL_TYPE_NONE unless LLC/SNAP with an
  // Ethernet OUI carries a real EtherType.
  let dlType = (b[p] << 8) | b[p + 1];
  p += 2;
  size -= 2;
  if (dlType < ETH_TYPE_MIN) {
    dlType = FLOW_DL_TYPE_NONE;
    if (
      size >= LLC_SNAP_HEADER_LEN &&
      b[p] === 0xaa &&
      b[p + 1] === 0xaa &&
      b[p + 2] === 0x03 &&
      b[p + 3] === 0 &&
      b[p + 4] === 0 &&
      b[p + 5] === 0
    ) {
      const snapType = (b[p + 6] << 8) | b[p + 7];
      p += LLC_SNAP_HEADER_LEN;
      size -= LLC_SNAP_HEADER_LEN;
      if (snapType >= ETH_TYPE_MIN) dlType = snapType;
    }
  }
  key[W_DL_TYPE] = dlType;

  if (dlType === ETH_TYPE_MPLS || dlType === ETH_TYPE_MPLS_MCAST) {
    layers[LAYER_L2_5] = p - offset;
    // parse_mpls(): pulls every label up to bottom-of-stack, keeps the first three.
    let count = 0;
    while (size >= 4) {
      const lse = (b[p] << 24) | (b[p + 1] << 16) | (b[p + 2] << 8) | b[p + 3];
      if (count < FLOW_MAX_MPLS_LABELS) key[W_MPLS0 + count] = lse;
      count++;
      p += 4;
      size -= 4;
      if (lse & MPLS_BOS_BIT) break;
    }
  }

  layers[LAYER_L3] = p - offset;

  let nwFrag = 0;
  let nwTos = 0;
  let nwTtl = 0;
  let nwProto = 0;
  if (dlType === ETH_TYPE_IP) {
    // ipv4_sanity_check(): any failure leaves the L3 fields unset. (OVS 3.1 accepts
    // any amount of L2 padding; later releases refuse more than 255 bytes.)
    if (size < IP_HEADER_LEN) return;
    const ipLen = (b[p] & 0x0f) * 4;
    if (ipLen < IP_HEADER_LEN || size < ipLen) return;
    const totLen = (b[p + 2] << 8) | b[p + 3];
    if (totLen > size || ipLen > totLen) return;
    size = totLen; // Never pull L2 padding.
    key[W_NW_SRC] = (b[p + 12] << 24) | (b[p + 13] << 16) | (b[p + 14] << 8) | b[p + 15];
    key[W_NW_DST] = (b[p + 16] << 24) | (b[p + 17] << 16) | (b[p + 18] << 8) | b[p + 19];
    nwTos = b[p + 1];
    nwTtl = b[p + 8];
    nwProto = b[p + 9];
    const fragOff = (b[p + 6] << 8) | b[p + 7];
    if (fragOff & (IP_MORE_FRAGMENTS | IP_FRAG_OFF_MASK)) {
      nwFrag = FLOW_NW_FRAG_ANY;
      if (fragOff & IP_FRAG_OFF_MASK) nwFrag |= FLOW_NW_FRAG_LATER;
    }
    p += ipLen;
    size -= ipLen;
  } else if (dlType === ETH_TYPE_IPV6) {
    // ipv6_sanity_check().
    if (size < IPV6_HEADER_LEN) return;
    const plen = (b[p + 4] << 8) | b[p + 5];
    if (plen + IPV6_HEADER_LEN > size) return;
    const tcFlow = ((b[p] << 24) | (b[p + 1] << 16) | (b[p + 2] << 8) | b[p + 3]) >>> 0;
    nwTos = (tcFlow >>> 20) & 0xff;
    nwTtl = b[p + 7];
    nwProto = b[p + 6];
    for (let i = 0; i < 4; i++) {
      const s = p + 8 + i * 4;
      const d = p + 24 + i * 4;
      key[W_IPV6_SRC + i] = (b[s] << 24) | (b[s + 1] << 16) | (b[s + 2] << 8) | b[s + 3];
      key[W_IPV6_DST + i] = (b[d] << 24) | (b[d + 1] << 16) | (b[d + 2] << 8) | b[d + 3];
    }
    p += IPV6_HEADER_LEN;
    size = plen;

    // parse_ipv6_ext_hdrs__(): a chain that runs out keeps the addresses only.
    for (;;) {
      if (
        nwProto !== IPPROTO_HOPOPTS &&
        nwProto !== IPPROTO_ROUTING &&
        nwProto !== IPPROTO_DSTOPTS &&
        nwProto !== IPPROTO_AH &&
        nwProto !== IPPROTO_FRAGMENT
      ) {
        break;
      }
      if (size < 8) return;
      if (nwProto === IPPROTO_FRAGMENT) {
        nwProto = b[p];
        const offlg = (b[p + 2] << 8) | b[p + 3];
        p += 8;
        size -= 8;
        if (offlg !== 0) {
          nwFrag = FLOW_NW_FRAG_ANY;
          if (offlg & IP6F_OFF_MASK) {
            nwFrag |= FLOW_NW_FRAG_LATER;
            nwProto = IPPROTO_FRAGMENT;
            break;
          }
        }
      } else {
        const extLen = nwProto === IPPROTO_AH ? (b[p + 1] + 2) * 4 : (b[p + 1] + 1) * 8;
        nwProto = b[p];
        if (size < extLen) return;
        p += extLen;
        size -= extLen;
      }
    }
    key[W_IPV6_LABEL] = tcFlow & IPV6_LABEL_MASK;
  } else {
    if (dlType === ETH_TYPE_ARP || dlType === ETH_TYPE_RARP) {
      if (
        size >= ARP_ETH_HEADER_LEN &&
        b[p] === 0 &&
        b[p + 1] === 1 &&
        b[p + 2] === 0x08 &&
        b[p + 3] === 0x00 &&
        b[p + 4] === 6 &&
        b[p + 5] === 4
      ) {
        key[W_NW_SRC] = (b[p + 14] << 24) | (b[p + 15] << 16) | (b[p + 16] << 8) | b[p + 17];
        key[W_NW_DST] = (b[p + 24] << 24) | (b[p + 25] << 16) | (b[p + 26] << 8) | b[p + 27];
        // OVS matches only the low 8 bits of the opcode: a larger one leaves it unset.
        if (b[p + 6] === 0) key[W_NW] = b[p + 7];
        key[W_ARP_SHA_HI] = (b[p + 8] << 8) | b[p + 9];
        key[W_ARP_SHA_LO] = (b[p + 10] << 24) | (b[p + 11] << 16) | (b[p + 12] << 8) | b[p + 13];
        key[W_ARP_THA_HI] = (b[p + 18] << 8) | b[p + 19];
        key[W_ARP_THA_LO] = (b[p + 20] << 24) | (b[p + 21] << 16) | (b[p + 22] << 8) | b[p + 23];
      }
    } else if (dlType === ETH_TYPE_NSH) {
      extractNsh(b, p, size, key);
    }
    return;
  }

  layers[LAYER_L4] = p - offset;
  key[W_NW] =
    (nwFrag << NW_FRAG_SHIFT) | (nwTos << NW_TOS_SHIFT) | (nwTtl << NW_TTL_SHIFT) | nwProto;
  if (nwFrag & FLOW_NW_FRAG_LATER) return;

  if (nwProto === IPPROTO_TCP) {
    // OVS 3.1 also requires the data offset to be sane and within the packet.
    const doff = (b[p + 12] >> 4) * 4;
    if (size >= TCP_HEADER_LEN && doff >= TCP_HEADER_LEN && doff <= size) {
      key[W_TCP_FLAGS] = ((b[p + 12] << 8) | b[p + 13]) & 0x0fff;
      key[W_TP] = (b[p] << 24) | (b[p + 1] << 16) | (b[p + 2] << 8) | b[p + 3];
      layers[LAYER_L7] = p + doff - offset;
    }
  } else if (nwProto === IPPROTO_UDP) {
    if (size >= UDP_HEADER_LEN) {
      key[W_TP] = (b[p] << 24) | (b[p + 1] << 16) | (b[p + 2] << 8) | b[p + 3];
      layers[LAYER_L7] = p + UDP_HEADER_LEN - offset;
    }
  } else if (nwProto === IPPROTO_SCTP) {
    if (size >= SCTP_HEADER_LEN) {
      key[W_TP] = (b[p] << 24) | (b[p + 1] << 16) | (b[p + 2] << 8) | b[p + 3];
      layers[LAYER_L7] = p + SCTP_HEADER_LEN - offset;
    }
  } else if (nwProto === IPPROTO_ICMP) {
    if (size >= ICMP_HEADER_LEN) {
      key[W_TP] = (b[p] << 16) | b[p + 1];
      layers[LAYER_L7] = p + ICMP_HEADER_LEN - offset;
    }
  } else if (nwProto === IPPROTO_IGMP) {
    if (size >= IGMP_HEADER_LEN) {
      key[W_TP] = (b[p] << 16) | b[p + 1];
      key[W_IGMP_GROUP] = (b[p + 4] << 24) | (b[p + 5] << 16) | (b[p + 6] << 8) | b[p + 7];
      layers[LAYER_L7] = p + IGMP_HEADER_LEN - offset;
    }
  } else if (nwProto === IPPROTO_ICMPV6) {
    if (size >= ICMP6_DATA_HEADER_LEN) {
      key[W_TP] = (b[p] << 16) | b[p + 1];
      extractNd(b, p, size, key);
    }
  }
}

/**
 * parse_icmpv6() for Neighbor Solicitation/Advertisement: the target, the source and
 * target link-layer address options, the first option's type (stored in tcp_flags)
 * and the reserved/RSO word (stored in igmp_group_ip4), as OVS stores them. A
 * repeated link-layer option makes OVS discard the target and both addresses.
 */
function extractNd(b: Uint8Array, p: number, size: number, key: FlowKey): void {
  const type = b[p];
  if (b[p + 1] !== 0 || (type !== ND_NEIGHBOR_SOLICIT && type !== ND_NEIGHBOR_ADVERT)) return;
  key[W_IGMP_GROUP] = (b[p + 4] << 24) | (b[p + 5] << 16) | (b[p + 6] << 8) | b[p + 7];
  p += ICMP6_DATA_HEADER_LEN;
  size -= ICMP6_DATA_HEADER_LEN;
  if (size < 16) return;
  const target = p;
  p += 16;
  size -= 16;
  let sll = -1;
  let tll = -1;
  let optType = 0;
  let invalid = false;
  while (size >= 8) {
    const optLen = b[p + 1] * ND_LLA_OPT_LEN;
    if (optLen === 0 || optLen > size) break;
    const t = b[p];
    if (optLen === 8 && t === ND_OPT_SOURCE_LINKADDR) {
      if (sll >= 0 && !macIsZero(b, sll)) {
        invalid = true;
        break;
      }
      sll = p + 2;
      if (optType === 0) optType = t;
    } else if (optLen === 8 && t === ND_OPT_TARGET_LINKADDR) {
      if (tll >= 0 && !macIsZero(b, tll)) {
        invalid = true;
        break;
      }
      tll = p + 2;
      if (optType === 0) optType = t;
    }
    p += optLen;
    size -= optLen;
  }
  key[W_TCP_FLAGS] = optType;
  if (invalid) return;
  for (let i = 0; i < 4; i++) {
    const s = target + i * 4;
    key[W_ND_TARGET + i] = (b[s] << 24) | (b[s + 1] << 16) | (b[s + 2] << 8) | b[s + 3];
  }
  if (sll >= 0) {
    key[W_ARP_SHA_HI] = (b[sll] << 8) | b[sll + 1];
    key[W_ARP_SHA_LO] = (b[sll + 2] << 24) | (b[sll + 3] << 16) | (b[sll + 4] << 8) | b[sll + 5];
  }
  if (tll >= 0) {
    key[W_ARP_THA_HI] = (b[tll] << 8) | b[tll + 1];
    key[W_ARP_THA_LO] = (b[tll + 2] << 24) | (b[tll + 3] << 16) | (b[tll + 4] << 8) | b[tll + 5];
  }
}

/** OVS treats an all-zero address already stored as "not yet seen". */
function macIsZero(b: Uint8Array, p: number): boolean {
  return (b[p] | b[p + 1] | b[p + 2] | b[p + 3] | b[p + 4] | b[p + 5]) === 0;
}

/** parse_nsh(): base header, service path and, for MD type 1, the four contexts. */
function extractNsh(b: Uint8Array, p: number, size: number, key: FlowKey): void {
  if (size < NSH_BASE_HDR_LEN) return;
  const verFlagsTtlLen = (b[p] << 8) | b[p + 1];
  const version = verFlagsTtlLen >> 14;
  const flags = (verFlagsTtlLen >> 12) & 0x3;
  const ttl = (verFlagsTtlLen >> 6) & 0x3f;
  const length = (verFlagsTtlLen & 0x3f) << 2;
  if (length > size || version !== 0) return;
  const mdType = b[p + 2];
  if (mdType === NSH_M_TYPE1 && length !== NSH_M_TYPE1_LEN) return;
  if (mdType === NSH_M_TYPE2 && length < NSH_BASE_HDR_LEN) return;
  key[W_NSH_BASE] = (flags << 24) | (ttl << 16) | (mdType << 8) | b[p + 3];
  key[W_NSH_PATH] = (b[p + 4] << 24) | (b[p + 5] << 16) | (b[p + 6] << 8) | b[p + 7];
  if (mdType === NSH_M_TYPE1) {
    for (let i = 0; i < 4; i++) {
      const c = p + 8 + i * 4;
      key[W_NSH_C1 + i] = (b[c] << 24) | (b[c + 1] << 16) | (b[c + 2] << 8) | b[c + 3];
    }
  }
}
