/**
 * ARP (RFC 826) and RARP (RFC 903) packets.
 *
 * The codec speaks the general form — hardware and protocol address lengths come
 * from the packet — but OVS only extracts fields from Ethernet/IPv4 ARP (htype 1,
 * ptype 0x0800, hlen 6, plen 4; lib/flow.c), so the view's `isEthIpv4` says whether
 * the sha/spa/tha/tpa getters apply.
 *
 * Promises: ArpView allocates nothing; `decodeArp` returns owned address bytes;
 * `encodeArp` derives hlen/plen from the address lengths when not given.
 */
import { copyBytes, putBytes, rd16, rd32, wr16, wr32 } from "./_bytes.js";
import { HeaderView } from "./_view.js";
import {
  checkRange,
  needBytes,
  needRoom,
  PacketErrorCode,
  PacketMalformedError,
} from "./errors.js";
import { ETH_TYPE_IPV4 } from "./ethertype.js";

export const ARP_HTYPE_ETHERNET = 1;
export const ARP_OP_REQUEST = 1;
export const ARP_OP_REPLY = 2;
/** RFC 903: reverse request / reply. */
export const ARP_OP_RARP_REQUEST = 3;
export const ARP_OP_RARP_REPLY = 4;
export const ARP_FIXED_LEN = 8;
/** Ethernet/IPv4 ARP packet length. */
export const ARP_ETH_IPV4_LEN = 28;

export interface ArpFields {
  /** Hardware type. Default 1 (Ethernet). */
  htype?: number;
  /** Protocol type. Default 0x0800. */
  ptype?: number;
  op: number;
  /** Sender hardware address (hlen bytes, 6 for Ethernet). */
  sha: Uint8Array;
  /** Sender protocol address as bytes (4 for IPv4). */
  spa: Uint8Array;
  tha: Uint8Array;
  tpa: Uint8Array;
}

export class ArpView extends HeaderView {
  /** RFC 826 "Packet format": 8 fixed octets, then 2·hlen + 2·plen of addresses. */
  validate(): PacketErrorCode | undefined {
    const left = this.end - this.off;
    if (left < ARP_FIXED_LEN) return PacketErrorCode.TRUNCATED;
    const need = ARP_FIXED_LEN + 2 * (this.hlen + this.plen);
    return left < need ? PacketErrorCode.TRUNCATED : undefined;
  }

  get htype(): number {
    return rd16(this.buf, this.off);
  }
  get ptype(): number {
    return rd16(this.buf, this.off + 2);
  }
  get hlen(): number {
    return this.buf[this.off + 4];
  }
  get plen(): number {
    return this.buf[this.off + 5];
  }
  get op(): number {
    return rd16(this.buf, this.off + 6);
  }
  set op(v: number) {
    wr16(this.buf, this.off + 6, v);
  }
  /** The Ethernet/IPv4 form whose fields OVS extracts. */
  get isEthIpv4(): boolean {
    return (
      this.htype === ARP_HTYPE_ETHERNET &&
      this.ptype === ETH_TYPE_IPV4 &&
      this.hlen === 6 &&
      this.plen === 4
    );
  }
  // The getters below assume isEthIpv4.
  get shaHi(): number {
    return rd16(this.buf, this.off + 8);
  }
  get shaLo(): number {
    return rd32(this.buf, this.off + 10);
  }
  get spa(): number {
    return rd32(this.buf, this.off + 14);
  }
  set spa(v: number) {
    wr32(this.buf, this.off + 14, v);
  }
  get thaHi(): number {
    return rd16(this.buf, this.off + 18);
  }
  get thaLo(): number {
    return rd32(this.buf, this.off + 20);
  }
  get tpa(): number {
    return rd32(this.buf, this.off + 24);
  }
  set tpa(v: number) {
    wr32(this.buf, this.off + 24, v);
  }
}

export function decodeArp(buf: Uint8Array, off = 0, end: number = buf.length): Required<ArpFields> {
  needBytes("ARP", end, off, ARP_FIXED_LEN);
  const hlen = buf[off + 4];
  const plen = buf[off + 5];
  needBytes("ARP", end, off, ARP_FIXED_LEN + 2 * (hlen + plen));
  let p = off + ARP_FIXED_LEN;
  const sha = copyBytes(buf, p, hlen);
  const spa = copyBytes(buf, (p += hlen), plen);
  const tha = copyBytes(buf, (p += plen), hlen);
  const tpa = copyBytes(buf, (p += hlen), plen);
  return {
    htype: rd16(buf, off),
    ptype: rd16(buf, off + 2),
    op: rd16(buf, off + 6),
    sha,
    spa,
    tha,
    tpa,
  };
}

export function encodingLengthArp(f: ArpFields): number {
  return ARP_FIXED_LEN + 2 * (f.sha.length + f.spa.length);
}

export function encodeArp(f: ArpFields, buf: Uint8Array, off = 0): number {
  const hlen = f.sha.length;
  const plen = f.spa.length;
  // RFC 826: both hardware (and both protocol) addresses share one length field.
  if (f.tha.length !== hlen || f.tpa.length !== plen || hlen > 255 || plen > 255)
    throw new PacketMalformedError(
      PacketErrorCode.BAD_LENGTH,
      "ARP",
      `address lengths differ (sha ${hlen}, tha ${f.tha.length}, spa ${plen}, tpa ${f.tpa.length}); sender and target addresses must have equal lengths`,
    );
  const len = encodingLengthArp(f);
  needRoom("ARP", buf, off, len);
  checkRange("ARP", "htype", f.htype ?? ARP_HTYPE_ETHERNET, 0xffff);
  checkRange("ARP", "ptype", f.ptype ?? ETH_TYPE_IPV4, 0xffff);
  checkRange("ARP", "op", f.op, 0xffff);
  wr16(buf, off, f.htype ?? ARP_HTYPE_ETHERNET);
  wr16(buf, off + 2, f.ptype ?? ETH_TYPE_IPV4);
  buf[off + 4] = hlen;
  buf[off + 5] = plen;
  wr16(buf, off + 6, f.op);
  let p = off + ARP_FIXED_LEN;
  putBytes(buf, p, f.sha, hlen);
  putBytes(buf, (p += hlen), f.spa, plen);
  putBytes(buf, (p += plen), f.tha, hlen);
  putBytes(buf, (p += hlen), f.tpa, plen);
  return off + len;
}
