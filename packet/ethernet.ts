/**
 * Ethernet II / IEEE 802.3 MAC header: destination, source, type-or-length.
 *
 * Promises: EthernetView reads the 14 bytes in place and allocates nothing after
 * construction; `decodeEthernet` returns owned copies of the addresses;
 * `encodeEthernet` writes exactly ETH_HEADER_LEN bytes. A type below ETH_TYPE_MIN is an
 * 802.3 length and an LLC header follows (see llc.ts). VLAN tags are separate headers
 * (vlan.ts): the `type` here is whatever the wire holds after the source address.
 *
 * It does not handle the preamble or the FCS, which neither OVS nor pcap carries.
 */
import { copyBytes, putBytes, rd16, rd32, wr16 } from "./_bytes.js";
import { HeaderView } from "./_view.js";
import { checkRange, needBytes, needRoom, PacketErrorCode } from "./errors.js";

export const ETH_ADDR_LEN = 6;
export const ETH_HEADER_LEN = 14;
/** Minimum frame length without FCS (IEEE 802.3 §4.4.2: 64 bytes with FCS). */
export const ETH_MIN_FRAME_LEN = 60;

export interface EthernetFields {
  /** 6 bytes. */
  dst: Uint8Array;
  /** 6 bytes. */
  src: Uint8Array;
  /** EtherType (>= 0x600) or 802.3 length. */
  type: number;
}

/** A re-pointable zero-copy view of an Ethernet header. */
export class EthernetView extends HeaderView {
  /** IEEE 802.3 §3.1.1: the header is 14 octets. */
  validate(): PacketErrorCode | undefined {
    return this.end - this.off < ETH_HEADER_LEN ? PacketErrorCode.TRUNCATED : undefined;
  }

  /** Bytes 0-1 of the destination (flow-key packing: W_DL_DST_HI). */
  get dstHi(): number {
    return rd16(this.buf, this.off);
  }
  /** Bytes 2-5 of the destination. */
  get dstLo(): number {
    return rd32(this.buf, this.off + 2);
  }
  get srcHi(): number {
    return rd16(this.buf, this.off + 6);
  }
  get srcLo(): number {
    return rd32(this.buf, this.off + 8);
  }
  get type(): number {
    return rd16(this.buf, this.off + 12);
  }
  set type(v: number) {
    wr16(this.buf, this.off + 12, v);
  }
  /** I/G bit of the destination (IEEE 802 §8.2): multicast or broadcast. */
  get isMulticast(): boolean {
    return (this.buf[this.off] & 1) === 1;
  }
  /** Copies 6 address bytes from `src` at `srcOff` into the destination field. */
  setDst(src: Uint8Array, srcOff = 0): void {
    for (let i = 0; i < ETH_ADDR_LEN; i++) this.buf[this.off + i] = src[srcOff + i];
  }
  setSrc(src: Uint8Array, srcOff = 0): void {
    for (let i = 0; i < ETH_ADDR_LEN; i++) this.buf[this.off + 6 + i] = src[srcOff + i];
  }
}

export function decodeEthernet(buf: Uint8Array, off = 0, end: number = buf.length): EthernetFields {
  needBytes("Ethernet", end, off, ETH_HEADER_LEN);
  return {
    dst: copyBytes(buf, off, ETH_ADDR_LEN),
    src: copyBytes(buf, off + 6, ETH_ADDR_LEN),
    type: rd16(buf, off + 12),
  };
}

export function encodingLengthEthernet(_fields?: EthernetFields): number {
  return ETH_HEADER_LEN;
}

/** Writes the header at `off` and returns the offset just past it. */
export function encodeEthernet(f: EthernetFields, buf: Uint8Array, off = 0): number {
  needRoom("Ethernet", buf, off, ETH_HEADER_LEN);
  checkRange("Ethernet", "type", f.type, 0xffff);
  putBytes(buf, off, f.dst, ETH_ADDR_LEN);
  putBytes(buf, off + 6, f.src, ETH_ADDR_LEN);
  wr16(buf, off + 12, f.type);
  return off + ETH_HEADER_LEN;
}
