/**
 * Network Service Header (RFC 8300 §2): base header, service path header, and
 * MD Type 1 (fixed 16-byte context) or MD Type 2 (variable TLVs) metadata.
 *
 * Base header word: Ver(2) O(1) U(1) TTL(6) Length(6, in 4-byte words, whole NSH)
 * U(4) MD Type(4) Next Protocol(8). Service path: SPI(24) SI(8).
 *
 * Promises: NshView reads in place, allocates nothing and validates exactly as OVS's
 * parse_nsh() does (lib/flow.c), which accepts MD types other than 1 and 2 without
 * reading their metadata; `decodeNsh` (slow path) decodes only types 1 and 2.
 * Encoders compute the Length field. It does not forward along service paths.
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

export const NSH_BASE_HDR_LEN = 8;
export const NSH_M_TYPE1 = 1;
export const NSH_M_TYPE2 = 2;
export const NSH_M_TYPE1_LEN = 24;
export const NSH_CTX_LEN = 16;
/** RFC 8300 §9.1.5 Next Protocol values. */
export const NSH_P_IPV4 = 1;
export const NSH_P_IPV6 = 2;
export const NSH_P_ETHERNET = 3;
export const NSH_P_NSH = 4;
export const NSH_P_MPLS = 5;

export interface NshTlv {
  /** Metadata class (16 bits). */
  class: number;
  type: number;
  /** Value, 0..127 bytes; zero-padded to a multiple of 4 on the wire. */
  data: Uint8Array;
}

export interface NshFields {
  /** OAM bit. Default false. */
  oam?: boolean;
  /** Default 63 (RFC 8300 §2.2 "the default TTL value of 63"). */
  ttl?: number;
  mdType: typeof NSH_M_TYPE1 | typeof NSH_M_TYPE2;
  /** NSH_P_*. */
  nextProto: number;
  /** Service path identifier, 24 bits. */
  spi: number;
  /** Service index, 8 bits. */
  si: number;
  /** MD Type 1 context, 16 bytes (default zeros). */
  context?: Uint8Array;
  /** MD Type 2 TLVs. */
  tlvs?: NshTlv[];
}

export class NshView extends HeaderView {
  validate(): PacketErrorCode | undefined {
    const left = this.end - this.off;
    // RFC 8300 §2.2-2.3: base header and service path header, 4 octets each.
    if (left < NSH_BASE_HDR_LEN) return PacketErrorCode.TRUNCATED;
    // RFC 8300 §2.2 "Version: ... MUST be set to 0x0".
    if (this.version !== 0) return PacketErrorCode.BAD_VERSION;
    const len = this.headerLen;
    // RFC 8300 §2.2 "Length: The total length, in 4-byte words, of NSH".
    if (len > left) return PacketErrorCode.TRUNCATED;
    const md = this.mdType;
    // RFC 8300 §2.4: with MD Type 1 "the Length field is 0x6".
    if (md === NSH_M_TYPE1 && len !== NSH_M_TYPE1_LEN) return PacketErrorCode.BAD_LENGTH;
    // RFC 8300 §2.5: with MD Type 2 the length covers at least the two fixed words.
    if (md === NSH_M_TYPE2 && len < NSH_BASE_HDR_LEN) return PacketErrorCode.BAD_LENGTH;
    // Other MD types (0 reserved, 0xF experimental) pass, as OVS's parse_nsh lets them.
    return undefined;
  }

  get version(): number {
    return this.buf[this.off] >>> 6;
  }
  get oam(): boolean {
    return (this.buf[this.off] & 0x20) !== 0;
  }
  /** OVS's nsh_flags: the O bit (2) and the unassigned bit after it (1). */
  get flags(): number {
    return (this.buf[this.off] >>> 4) & 0x3;
  }
  get ttl(): number {
    return (rd16(this.buf, this.off) >>> 6) & 0x3f;
  }
  /** Whole NSH length in bytes. */
  get headerLen(): number {
    return (this.buf[this.off + 1] & 0x3f) << 2;
  }
  get mdType(): number {
    return this.buf[this.off + 2] & 0xf;
  }
  get nextProto(): number {
    return this.buf[this.off + 3];
  }
  get spi(): number {
    return rd32(this.buf, this.off + 4) >>> 8;
  }
  get si(): number {
    return this.buf[this.off + 7];
  }
  set si(v: number) {
    this.buf[this.off + 7] = v;
  }
  /** MD Type 1 context word i (0..3). */
  context(i: number): number {
    return rd32(this.buf, this.off + 8 + 4 * i);
  }
}

export function encodingLengthNsh(f: NshFields): number {
  if (f.mdType === NSH_M_TYPE1) return NSH_M_TYPE1_LEN;
  let len = NSH_BASE_HDR_LEN;
  for (const t of f.tlvs ?? []) len += 4 + ((t.data.length + 3) & ~3);
  return len;
}

export function encodeNsh(f: NshFields, buf: Uint8Array, off = 0): number {
  const len = encodingLengthNsh(f);
  needRoom("NSH", buf, off, len);
  const ttl = f.ttl ?? 63;
  checkRange("NSH", "ttl", ttl, 0x3f);
  checkRange("NSH", "length (words)", len >>> 2, 0x3f);
  checkRange("NSH", "nextProto", f.nextProto, 0xff);
  checkRange("NSH", "spi", f.spi, 0xffffff);
  checkRange("NSH", "si", f.si, 0xff);
  wr16(buf, off, (f.oam ? 0x2000 : 0) | (ttl << 6) | (len >>> 2));
  buf[off + 2] = f.mdType;
  buf[off + 3] = f.nextProto;
  wr32(buf, off + 4, ((f.spi << 8) | f.si) >>> 0);
  if (f.mdType === NSH_M_TYPE1) {
    putBytes(buf, off + 8, f.context ?? new Uint8Array(0), NSH_CTX_LEN);
    return off + len;
  }
  if (f.mdType !== NSH_M_TYPE2)
    throw new PacketMalformedError(
      PacketErrorCode.BAD_FIELD,
      "NSH",
      `MD type ${f.mdType} is not 1 or 2`,
    );
  let p = off + NSH_BASE_HDR_LEN;
  for (const t of f.tlvs ?? []) {
    checkRange("NSH", "TLV class", t.class, 0xffff);
    checkRange("NSH", "TLV type", t.type, 0xff);
    checkRange("NSH", "TLV length", t.data.length, 0x7f);
    wr16(buf, p, t.class);
    buf[p + 2] = t.type;
    buf[p + 3] = t.data.length;
    const padded = (t.data.length + 3) & ~3;
    putBytes(buf, p + 4, t.data, padded);
    p += 4 + padded;
  }
  return p;
}

export function decodeNsh(buf: Uint8Array, off = 0, end: number = buf.length): NshFields {
  needBytes("NSH", end, off, NSH_BASE_HDR_LEN);
  const malformed = (code: PacketErrorCode, d: string) => new PacketMalformedError(code, "NSH", d);
  const version = buf[off] >>> 6;
  if (version !== 0) throw malformed(PacketErrorCode.BAD_VERSION, `version is ${version}, need 0`);
  const len = (buf[off + 1] & 0x3f) << 2;
  if (len < NSH_BASE_HDR_LEN)
    throw malformed(PacketErrorCode.BAD_LENGTH, `length is ${len} bytes, the minimum is 8`);
  needBytes("NSH", end, off, len);
  const mdType = buf[off + 2] & 0xf;
  const base = {
    oam: (buf[off] & 0x20) !== 0,
    ttl: (rd16(buf, off) >>> 6) & 0x3f,
    nextProto: buf[off + 3],
    spi: rd32(buf, off + 4) >>> 8,
    si: buf[off + 7],
  };
  if (mdType === NSH_M_TYPE1) {
    if (len !== NSH_M_TYPE1_LEN)
      throw malformed(PacketErrorCode.BAD_LENGTH, `MD type 1 needs length 24 bytes, found ${len}`);
    return { ...base, mdType: NSH_M_TYPE1, context: copyBytes(buf, off + 8, NSH_CTX_LEN) };
  }
  if (mdType !== NSH_M_TYPE2)
    throw malformed(PacketErrorCode.BAD_FIELD, `MD type ${mdType} is not 1 or 2`);
  const tlvs: NshTlv[] = [];
  let p = off + NSH_BASE_HDR_LEN;
  while (p < off + len) {
    const tlen = (buf[p + 3] ?? 0) & 0x7f;
    // RFC 8300 §2.5: each TLV is a 4-byte header and its value padded to 4 bytes.
    if (off + len - p < 4 || p + 4 + ((tlen + 3) & ~3) > off + len)
      throw malformed(
        PacketErrorCode.BAD_OPTION,
        `TLV at ${p - off} runs past the ${len}-byte header`,
      );
    tlvs.push({ class: rd16(buf, p), type: buf[p + 2], data: copyBytes(buf, p + 4, tlen) });
    p += 4 + ((tlen + 3) & ~3);
  }
  return { ...base, mdType: NSH_M_TYPE2, tlvs };
}
