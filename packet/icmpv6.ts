/**
 * ICMPv6 (RFC 4443) with Echo and the Neighbor Discovery messages OVS matches on
 * (RFC 4861 §4.3 Neighbor Solicitation, §4.4 Neighbor Advertisement) and their
 * Source/Target Link-Layer Address options (§4.6.1).
 *
 * Layout: type, code, checksum, then a 32-bit word (echo id/seq, NA R|S|O flags, the
 * MTU of Packet Too Big, a pointer, or reserved); NS and NA continue with the 16-byte
 * target and options. The checksum covers the IPv6 pseudo-header (RFC 4443 §2.3), so
 * `encodeIcmpv6` writes the given checksum (default 0) and `fillIcmpv6Checksum`
 * computes it once the message is complete.
 *
 * Promises: Icmpv6View allocates nothing; its `ndOptionsOff` / `validateNdOptions`
 * follow RFC 4861 §4.6 (a zero length option invalidates the message).
 */
import { copyBytes, putBytes, rd16, rd32, wr16, wr32 } from "./_bytes.js";
import { HeaderView } from "./_view.js";
import { l4ChecksumIpv6, update16 } from "./checksum.js";
import {
  checkRange,
  needBytes,
  needRoom,
  PacketErrorCode,
  PacketMalformedError,
} from "./errors.js";
import { IPPROTO_ICMPV6 } from "./ipproto.js";

export const ICMPV6_HEADER_LEN = 8;
export const ICMPV6_DEST_UNREACH = 1;
export const ICMPV6_PACKET_TOO_BIG = 2;
export const ICMPV6_TIME_EXCEEDED = 3;
export const ICMPV6_PARAM_PROBLEM = 4;
export const ICMPV6_ECHO_REQUEST = 128;
export const ICMPV6_ECHO_REPLY = 129;
export const ND_ROUTER_SOLICIT = 133;
export const ND_ROUTER_ADVERT = 134;
export const ND_NEIGHBOR_SOLICIT = 135;
export const ND_NEIGHBOR_ADVERT = 136;
/** NS/NA: header, then the 16-byte target address. */
export const ND_MSG_LEN = 24;
export const ND_OPT_SOURCE_LINKADDR = 1;
export const ND_OPT_TARGET_LINKADDR = 2;
/** RFC 4861 §4.4 flag bits in the NA's 32-bit word. */
export const ND_NA_ROUTER = 0x80000000;
export const ND_NA_SOLICITED = 0x40000000;
export const ND_NA_OVERRIDE = 0x20000000;

export interface NdOption {
  /** ND_OPT_*. */
  type: number;
  /** Bytes after type and length (6 for an Ethernet address); zero-padded to 8n - 2. */
  data: Uint8Array;
}

export interface Icmpv6Fields {
  type: number;
  /** Default 0. */
  code?: number;
  /** Default 0 (fill it with fillIcmpv6Checksum). */
  checksum?: number;
  /** The 32 bits after the checksum. Default: from id/seq (echo) or R/S/O (NA), else 0. */
  word?: number;
  /** Echo identifier (RFC 4443 §4.1). */
  id?: number;
  /** Echo sequence number. */
  seq?: number;
  /** NA flags (RFC 4861 §4.4). */
  router?: boolean;
  solicited?: boolean;
  override?: boolean;
  /** NS/NA target address, 16 bytes (required for those types). */
  target?: Uint8Array;
  /** NS/NA options. */
  options?: NdOption[];
}

function isNd(type: number): boolean {
  return type === ND_NEIGHBOR_SOLICIT || type === ND_NEIGHBOR_ADVERT;
}

function isEcho(type: number): boolean {
  return type === ICMPV6_ECHO_REQUEST || type === ICMPV6_ECHO_REPLY;
}

export class Icmpv6View extends HeaderView {
  validate(): PacketErrorCode | undefined {
    const left = this.end - this.off;
    // RFC 4443 §2.1: type, code, checksum and the message body's first 32 bits.
    if (left < ICMPV6_HEADER_LEN) return PacketErrorCode.TRUNCATED;
    // RFC 4861 §7.1.1 / §7.1.2: "ICMP length (derived from the IP length) is 24 or more octets".
    if (isNd(this.type) && left < ND_MSG_LEN) return PacketErrorCode.TRUNCATED;
    return undefined;
  }

  /**
   * RFC 4861 §4.6: options run to the end of the message in 8-octet units; "Nodes
   * MUST silently discard an ND packet that contains an option with length zero."
   */
  validateNdOptions(): PacketErrorCode | undefined {
    let p = this.off + ND_MSG_LEN;
    while (p < this.end) {
      if (this.end - p < 2) return PacketErrorCode.TRUNCATED;
      const len = this.buf[p + 1] * 8;
      if (len === 0) return PacketErrorCode.BAD_OPTION;
      if (len > this.end - p) return PacketErrorCode.TRUNCATED;
      p += len;
    }
    return undefined;
  }

  /** Offset of the first ND option (NS/NA only). */
  get ndOptionsOff(): number {
    return this.off + ND_MSG_LEN;
  }
  get type(): number {
    return this.buf[this.off];
  }
  get code(): number {
    return this.buf[this.off + 1];
  }
  get checksum(): number {
    return rd16(this.buf, this.off + 2);
  }
  get word(): number {
    return rd32(this.buf, this.off + 4);
  }
  get id(): number {
    return rd16(this.buf, this.off + 4);
  }
  get seq(): number {
    return rd16(this.buf, this.off + 6);
  }
  /** Offset of the 16-byte NS/NA target. */
  get targetOff(): number {
    return this.off + 8;
  }
  /** Sets type and code, fixing the checksum incrementally (OVS packet_set_icmp). */
  setTypeCode(type: number, code: number): void {
    const old = rd16(this.buf, this.off);
    const now = ((type & 0xff) << 8) | (code & 0xff);
    wr16(this.buf, this.off, now);
    wr16(this.buf, this.off + 2, update16(this.checksum, old, now));
  }
}

export function encodingLengthIcmpv6(f: Icmpv6Fields): number {
  if (!isNd(f.type)) return ICMPV6_HEADER_LEN;
  let len = ND_MSG_LEN;
  for (const o of f.options ?? []) len += (2 + o.data.length + 7) & ~7;
  return len;
}

export function encodeIcmpv6(f: Icmpv6Fields, buf: Uint8Array, off = 0): number {
  const total = encodingLengthIcmpv6(f);
  needRoom("ICMPv6", buf, off, total);
  checkRange("ICMPv6", "type", f.type, 0xff);
  checkRange("ICMPv6", "code", f.code ?? 0, 0xff);
  checkRange("ICMPv6", "checksum", f.checksum ?? 0, 0xffff);
  let word = f.word;
  if (word === undefined) {
    if (isEcho(f.type)) {
      checkRange("ICMPv6", "id", f.id ?? 0, 0xffff);
      checkRange("ICMPv6", "seq", f.seq ?? 0, 0xffff);
      word = (((f.id ?? 0) << 16) | (f.seq ?? 0)) >>> 0;
    } else {
      word =
        ((f.router ? ND_NA_ROUTER : 0) |
          (f.solicited ? ND_NA_SOLICITED : 0) |
          (f.override ? ND_NA_OVERRIDE : 0)) >>>
        0;
    }
  }
  checkRange("ICMPv6", "word", word, 0xffffffff);
  buf[off] = f.type;
  buf[off + 1] = f.code ?? 0;
  wr16(buf, off + 2, f.checksum ?? 0);
  wr32(buf, off + 4, word);
  if (!isNd(f.type)) return off + ICMPV6_HEADER_LEN;
  if (f.target?.length !== 16)
    throw new PacketMalformedError(
      PacketErrorCode.BAD_FIELD,
      "ICMPv6",
      `type ${f.type} needs a 16-byte target address (RFC 4861 §4.3, §4.4)`,
    );
  putBytes(buf, off + 8, f.target, 16);
  let p = off + ND_MSG_LEN;
  for (const o of f.options ?? []) {
    const len = (2 + o.data.length + 7) & ~7;
    checkRange("ICMPv6", "ND option type", o.type, 0xff);
    checkRange("ICMPv6", "ND option length", len / 8, 0xff);
    buf[p] = o.type;
    buf[p + 1] = len / 8;
    putBytes(buf, p + 2, o.data, len - 2);
    p += len;
  }
  return p;
}

/** Decodes the message in [off, end) (NS/NA options run to `end`). */
export function decodeIcmpv6(buf: Uint8Array, off = 0, end: number = buf.length): Icmpv6Fields {
  needBytes("ICMPv6", end, off, ICMPV6_HEADER_LEN);
  const type = buf[off];
  const word = rd32(buf, off + 4);
  const f: Icmpv6Fields = { type, code: buf[off + 1], checksum: rd16(buf, off + 2), word };
  if (isEcho(type)) {
    f.id = word >>> 16;
    f.seq = word & 0xffff;
  }
  if (!isNd(type)) return f;
  needBytes("ICMPv6 ND", end, off, ND_MSG_LEN);
  if (type === ND_NEIGHBOR_ADVERT) {
    f.router = (word & ND_NA_ROUTER) !== 0;
    f.solicited = (word & ND_NA_SOLICITED) !== 0;
    f.override = (word & ND_NA_OVERRIDE) !== 0;
  }
  f.target = copyBytes(buf, off + 8, 16);
  f.options = [];
  let p = off + ND_MSG_LEN;
  while (p < end) {
    const len = end - p >= 2 ? buf[p + 1] * 8 : 0;
    // RFC 4861 §4.6 "The value 0 is invalid."
    if (len === 0 || len > end - p)
      throw new PacketMalformedError(
        PacketErrorCode.BAD_OPTION,
        "ICMPv6 ND",
        `option at ${p - off} has length ${len} bytes, which is 0 or runs past the ${end - off}-byte message`,
      );
    f.options.push({ type: buf[p], data: copyBytes(buf, p + 2, len - 2) });
    p += len;
  }
  return f;
}

/** Computes and stores the checksum of the `len`-byte message at `off` (RFC 4443 §2.3). */
export function fillIcmpv6Checksum(
  buf: Uint8Array,
  off: number,
  len: number,
  addrs: Uint8Array,
  srcOff: number,
  dstOff: number,
  dstBuf: Uint8Array = addrs,
): void {
  wr16(buf, off + 2, 0);
  wr16(buf, off + 2, l4ChecksumIpv6(buf, off, len, addrs, srcOff, dstOff, IPPROTO_ICMPV6, dstBuf));
}

/** A Source (type 1) or Target (type 2) Link-Layer Address option for a 6-byte MAC. */
export function ndLinkAddrOption(type: number, mac: Uint8Array): NdOption {
  return { type, data: copyBytes(mac, 0, 6) };
}
