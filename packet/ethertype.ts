/**
 * EtherType values ovsim recognises (IEEE registry; OVS lib/packets.h ETH_TYPE_*).
 *
 * ETH_TYPE_MIN is the 802.3 boundary: a type/length field below it is a length and an
 * LLC header follows (IEEE 802.3 clause 3.2.6).
 */
export const ETH_TYPE_IPV4 = 0x0800;
export const ETH_TYPE_ARP = 0x0806;
export const ETH_TYPE_RARP = 0x8035;
export const ETH_TYPE_VLAN_8021Q = 0x8100;
export const ETH_TYPE_VLAN_8021AD = 0x88a8;
export const ETH_TYPE_IPV6 = 0x86dd;
export const ETH_TYPE_LACP = 0x8809;
export const ETH_TYPE_MPLS = 0x8847;
export const ETH_TYPE_MPLS_MCAST = 0x8848;
export const ETH_TYPE_NSH = 0x894f;
export const ETH_TYPE_ERSPAN1 = 0x88be;
export const ETH_TYPE_ERSPAN2 = 0x22eb;
export const ETH_TYPE_TEB = 0x6558;
/** Smallest value that is an EtherType rather than an 802.3 length. */
export const ETH_TYPE_MIN = 0x600;
/** What OVS puts in dl_type for an 802.3 frame without a SNAP EtherType (FLOW_DL_TYPE_NONE). */
export const FLOW_DL_TYPE_NONE = 0x5ff;

/** True for the TPIDs that introduce a VLAN tag (802.1Q C-tag, 802.1ad S-tag). */
export function isVlanTpid(type: number): boolean {
  return type === ETH_TYPE_VLAN_8021Q || type === ETH_TYPE_VLAN_8021AD;
}

/** True for the MPLS unicast and multicast EtherTypes (RFC 5332). */
export function isMplsType(type: number): boolean {
  return type === ETH_TYPE_MPLS || type === ETH_TYPE_MPLS_MCAST;
}
