/**
 * IEEE 802.1Q (C-tag, TPID 0x8100) and 802.1ad (S-tag, TPID 0x88a8) VLAN tags.
 *
 * A tag is modelled as the 4 bytes that follow its TPID — TCI then the next type — the
 * way the TPID sits in the previous header's type field. QinQ is therefore Ethernet
 * (type 0x88a8) + tag (type 0x8100) + tag (type 0x0800).
 *
 * Promises: VlanView allocates nothing; the encoder rejects out-of-range PCP/DEI/VID.
 * It does not push or pop tags in a frame (the datapath's actions do, by moving bytes).
 */
import { rd16, wr16 } from "./_bytes.js";
import { HeaderView } from "./_view.js";
import { checkRange, needBytes, needRoom, PacketErrorCode } from "./errors.js";

/** Bytes after the TPID: TCI and the encapsulated type. */
export const VLAN_HEADER_LEN = 4;
export const VLAN_PCP_MASK = 0xe000;
export const VLAN_DEI = 0x1000;
export const VLAN_VID_MAX = 0x0fff;

export interface VlanFields {
  /** Priority code point, 0..7 (802.1Q §6.9.3). Default 0. */
  pcp?: number;
  /** Drop eligible indicator (formerly CFI), 0 or 1. Default 0. */
  dei?: number;
  /** VLAN identifier, 0..4095. */
  vid: number;
  /** The EtherType (or next TPID) that follows the tag. */
  type: number;
}

export class VlanView extends HeaderView {
  /** IEEE 802.1Q §9.5: TCI (2 octets) then the EtherType of the payload. */
  validate(): PacketErrorCode | undefined {
    return this.end - this.off < VLAN_HEADER_LEN ? PacketErrorCode.TRUNCATED : undefined;
  }

  get tci(): number {
    return rd16(this.buf, this.off);
  }
  set tci(v: number) {
    wr16(this.buf, this.off, v);
  }
  get pcp(): number {
    return this.buf[this.off] >>> 5;
  }
  get dei(): number {
    return (this.buf[this.off] >>> 4) & 1;
  }
  get vid(): number {
    return rd16(this.buf, this.off) & VLAN_VID_MAX;
  }
  get type(): number {
    return rd16(this.buf, this.off + 2);
  }
}

export function decodeVlan(
  buf: Uint8Array,
  off = 0,
  end: number = buf.length,
): Required<VlanFields> {
  needBytes("VLAN", end, off, VLAN_HEADER_LEN);
  const tci = rd16(buf, off);
  return {
    pcp: tci >>> 13,
    dei: (tci >>> 12) & 1,
    vid: tci & VLAN_VID_MAX,
    type: rd16(buf, off + 2),
  };
}

export function encodingLengthVlan(_fields?: VlanFields): number {
  return VLAN_HEADER_LEN;
}

/** The 16-bit TCI for the given fields. */
export function vlanTci(f: VlanFields): number {
  checkRange("VLAN", "pcp", f.pcp ?? 0, 7);
  checkRange("VLAN", "dei", f.dei ?? 0, 1);
  checkRange("VLAN", "vid", f.vid, VLAN_VID_MAX);
  return ((f.pcp ?? 0) << 13) | ((f.dei ?? 0) << 12) | f.vid;
}

export function encodeVlan(f: VlanFields, buf: Uint8Array, off = 0): number {
  needRoom("VLAN", buf, off, VLAN_HEADER_LEN);
  checkRange("VLAN", "type", f.type, 0xffff);
  wr16(buf, off, vlanTci(f));
  wr16(buf, off + 2, f.type);
  return off + VLAN_HEADER_LEN;
}
