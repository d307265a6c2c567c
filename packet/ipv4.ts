/**
 * IPv4 header (RFC 791 §3.1) with options, fragmentation fields and the header
 * checksum.
 *
 * Promises:
 * - Ipv4View reads the header in place and allocates nothing; its `validate()` applies
 *   the length checks of OVS's ipv4_sanity_check() (lib/flow.c) plus the version
 *   check a host makes (OVS leaves that to the EtherType), each with its RFC 791 rule
 *   quoted; its setters keep the header checksum right by RFC 1624 incremental update.
 * - `encodeIpv4` computes the header checksum unless one is given, pads options to a
 *   4-byte boundary with End-of-Option-List zeros (RFC 791 §3.1 "Padding").
 * - `decodeIpv4` (slow path) throws on what `validate()` rejects.
 * It does not reassemble fragments, and does not fix L4 checksums when addresses
 * change (see checksum.ts fixL4ForIpv4Addr).
 */
import { copyBytes, rd16, rd32, wr16, wr32 } from "./_bytes.js";
import { decodeOptionList, encodeOptionList } from "./_options.js";
import { HeaderView } from "./_view.js";
import { internetChecksum, update16, update32 } from "./checksum.js";
import {
  checkRange,
  needBytes,
  needRoom,
  PacketErrorCode,
  PacketMalformedError,
} from "./errors.js";

export const IPV4_HEADER_LEN = 20;
export const IPV4_MAX_HEADER_LEN = 60;
export const IPV4_FLAG_DF = 0x4000;
export const IPV4_FLAG_MF = 0x2000;
export const IPV4_FRAG_OFF_MASK = 0x1fff;
export const IPV4_OPT_EOL = 0;
export const IPV4_OPT_NOP = 1;

export interface Ipv4Option {
  /** Option type octet (copied flag, class, number). */
  type: number;
  /** Option data after the type and length octets; absent for EOL and NOP. */
  data?: Uint8Array;
}

export interface Ipv4Fields {
  /** The whole TOS byte: DSCP << 2 | ECN. Default 0. */
  tos?: number;
  /** Header plus payload. Default: the header length alone. */
  totalLength?: number;
  /** Default 0. */
  id?: number;
  /** Don't Fragment. Default false. */
  df?: boolean;
  /** More Fragments. Default false. */
  mf?: boolean;
  /** Fragment offset in 8-octet units. Default 0. */
  fragOffset?: number;
  /** Default 64. */
  ttl?: number;
  protocol: number;
  /** Header checksum; computed when absent. */
  checksum?: number;
  /** Addresses as unsigned 32-bit numbers (10.0.0.1 is 0x0a000001). */
  src: number;
  dst: number;
  /** Raw option bytes; padded with zeros to a multiple of 4. */
  options?: Uint8Array;
}

export class Ipv4View extends HeaderView {
  validate(): PacketErrorCode | undefined {
    const left = this.end - this.off;
    // RFC 791 §3.1: the fixed part of the header is 20 octets.
    if (left < IPV4_HEADER_LEN) return PacketErrorCode.TRUNCATED;
    // RFC 791 §3.1 "Version: 4 bits ... 4". (OVS's ipv4_sanity_check() skips this
    // one check: the EtherType decides there. flow-extract.ts mirrors OVS.)
    if (this.buf[this.off] >>> 4 !== 4) return PacketErrorCode.BAD_VERSION;
    const hlen = this.headerLen;
    // RFC 791 §3.1 "IHL ... the minimum value for a correct header is 5".
    if (hlen < IPV4_HEADER_LEN) return PacketErrorCode.BAD_LENGTH;
    if (left < hlen) return PacketErrorCode.TRUNCATED;
    const total = this.totalLength;
    // RFC 791 §3.1 "Total Length ... including internet header and data".
    if (total < hlen) return PacketErrorCode.BAD_LENGTH;
    if (total > left) return PacketErrorCode.TRUNCATED;
    return undefined;
  }

  get version(): number {
    return this.buf[this.off] >>> 4;
  }
  /** Header length in bytes (IHL × 4). */
  get headerLen(): number {
    return (this.buf[this.off] & 0xf) << 2;
  }
  get tos(): number {
    return this.buf[this.off + 1];
  }
  set tos(v: number) {
    this.setWord(0, (this.buf[this.off] << 8) | (v & 0xff));
  }
  get totalLength(): number {
    return rd16(this.buf, this.off + 2);
  }
  get id(): number {
    return rd16(this.buf, this.off + 4);
  }
  /** Flags and fragment offset word. */
  get fragWord(): number {
    return rd16(this.buf, this.off + 6);
  }
  get df(): boolean {
    return (this.buf[this.off + 6] & 0x40) !== 0;
  }
  get mf(): boolean {
    return (this.buf[this.off + 6] & 0x20) !== 0;
  }
  /** In 8-octet units. */
  get fragOffset(): number {
    return this.fragWord & IPV4_FRAG_OFF_MASK;
  }
  /** RFC 791 §2.3: a fragment has MF set or a non-zero offset. */
  get isFragment(): boolean {
    return (this.fragWord & (IPV4_FLAG_MF | IPV4_FRAG_OFF_MASK)) !== 0;
  }
  /** A fragment other than the first: its L4 header is elsewhere. */
  get isLaterFragment(): boolean {
    return this.fragOffset !== 0;
  }
  get ttl(): number {
    return this.buf[this.off + 8];
  }
  set ttl(v: number) {
    this.setWord(8, ((v & 0xff) << 8) | this.buf[this.off + 9]);
  }
  get protocol(): number {
    return this.buf[this.off + 9];
  }
  get checksum(): number {
    return rd16(this.buf, this.off + 10);
  }
  get src(): number {
    return rd32(this.buf, this.off + 12);
  }
  /** Sets the source and fixes the header checksum (not the L4 one). */
  set src(v: number) {
    this.setAddr(12, v >>> 0);
  }
  get dst(): number {
    return rd32(this.buf, this.off + 16);
  }
  set dst(v: number) {
    this.setAddr(16, v >>> 0);
  }
  /** True when the header checksum verifies (RFC 791 §3.1 "Header Checksum"). */
  get checksumOk(): boolean {
    return internetChecksum(this.buf, this.off, this.headerLen) === 0;
  }
  /** Recomputes and stores the header checksum. */
  fillChecksum(): void {
    wr16(this.buf, this.off + 10, 0);
    wr16(this.buf, this.off + 10, internetChecksum(this.buf, this.off, this.headerLen));
  }

  private setWord(at: number, now: number): void {
    const old = rd16(this.buf, this.off + at);
    wr16(this.buf, this.off + at, now);
    wr16(this.buf, this.off + 10, update16(this.checksum, old, now));
  }
  private setAddr(at: number, now: number): void {
    const old = rd32(this.buf, this.off + at);
    wr32(this.buf, this.off + at, now);
    wr16(this.buf, this.off + 10, update32(this.checksum, old, now));
  }
}

/** Validation failures as thrown errors, for the slow path. */
function malformed(code: PacketErrorCode, detail: string): PacketMalformedError {
  return new PacketMalformedError(code, "IPv4", detail);
}

export function decodeIpv4(
  buf: Uint8Array,
  off = 0,
  end: number = buf.length,
): Required<Ipv4Fields> {
  needBytes("IPv4", end, off, IPV4_HEADER_LEN);
  const version = buf[off] >>> 4;
  if (version !== 4) throw malformed(PacketErrorCode.BAD_VERSION, `version is ${version}, need 4`);
  const hlen = (buf[off] & 0xf) << 2;
  if (hlen < IPV4_HEADER_LEN)
    throw malformed(PacketErrorCode.BAD_LENGTH, `IHL is ${hlen >>> 2}, the minimum is 5`);
  needBytes("IPv4", end, off, hlen);
  const total = rd16(buf, off + 2);
  if (total < hlen)
    throw malformed(
      PacketErrorCode.BAD_LENGTH,
      `total length ${total} is shorter than the ${hlen}-byte header`,
    );
  const frag = rd16(buf, off + 6);
  return {
    tos: buf[off + 1],
    totalLength: total,
    id: rd16(buf, off + 4),
    df: (frag & IPV4_FLAG_DF) !== 0,
    mf: (frag & IPV4_FLAG_MF) !== 0,
    fragOffset: frag & IPV4_FRAG_OFF_MASK,
    ttl: buf[off + 8],
    protocol: buf[off + 9],
    checksum: rd16(buf, off + 10),
    src: rd32(buf, off + 12),
    dst: rd32(buf, off + 16),
    options: copyBytes(buf, off + IPV4_HEADER_LEN, hlen - IPV4_HEADER_LEN),
  };
}

export function encodingLengthIpv4(f: Ipv4Fields): number {
  const opt = f.options?.length ?? 0;
  return IPV4_HEADER_LEN + ((opt + 3) & ~3);
}

export function encodeIpv4(f: Ipv4Fields, buf: Uint8Array, off = 0): number {
  const hlen = encodingLengthIpv4(f);
  // RFC 791 §3.1: IHL is 4 bits, so at most 40 bytes of options.
  if (hlen > IPV4_MAX_HEADER_LEN)
    throw malformed(
      PacketErrorCode.BAD_LENGTH,
      `${f.options?.length} bytes of options, at most 40 fit (IHL is 4 bits)`,
    );
  needRoom("IPv4", buf, off, hlen);
  const total = f.totalLength ?? hlen;
  checkRange("IPv4", "tos", f.tos ?? 0, 0xff);
  checkRange("IPv4", "totalLength", total, 0xffff);
  checkRange("IPv4", "id", f.id ?? 0, 0xffff);
  checkRange("IPv4", "fragOffset", f.fragOffset ?? 0, IPV4_FRAG_OFF_MASK);
  checkRange("IPv4", "ttl", f.ttl ?? 64, 0xff);
  checkRange("IPv4", "protocol", f.protocol, 0xff);
  checkRange("IPv4", "src", f.src, 0xffffffff);
  checkRange("IPv4", "dst", f.dst, 0xffffffff);
  if (total < hlen)
    throw malformed(
      PacketErrorCode.BAD_LENGTH,
      `total length ${total} is shorter than the ${hlen}-byte header`,
    );
  buf[off] = 0x40 | (hlen >>> 2);
  buf[off + 1] = f.tos ?? 0;
  wr16(buf, off + 2, total);
  wr16(buf, off + 4, f.id ?? 0);
  wr16(buf, off + 6, (f.df ? IPV4_FLAG_DF : 0) | (f.mf ? IPV4_FLAG_MF : 0) | (f.fragOffset ?? 0));
  buf[off + 8] = f.ttl ?? 64;
  buf[off + 9] = f.protocol;
  wr16(buf, off + 10, 0);
  wr32(buf, off + 12, f.src);
  wr32(buf, off + 16, f.dst);
  const opt = f.options?.length ?? 0;
  if (f.options) buf.set(f.options, off + IPV4_HEADER_LEN);
  buf.fill(0, off + IPV4_HEADER_LEN + opt, off + hlen);
  if (f.checksum !== undefined) {
    checkRange("IPv4", "checksum", f.checksum, 0xffff);
    wr16(buf, off + 10, f.checksum);
  } else {
    wr16(buf, off + 10, internetChecksum(buf, off, hlen));
  }
  return off + hlen;
}

/**
 * Splits option bytes into options (RFC 791 §3.1 "Options": EOL ends the list, NOP is
 * one octet, every other option is type, length ≥ 2 counting itself, data). Throws
 * PacketMalformedError on a length that is < 2 or runs past the options.
 */
export function decodeIpv4Options(opts: Uint8Array): Ipv4Option[] {
  return decodeOptionList("IPv4", opts).map(({ code, data }) =>
    data ? { type: code, data } : { type: code },
  );
}

/** Serialises options (EOL/NOP as one octet, others as type, length, data); unpadded. */
export function encodeIpv4Options(options: readonly Ipv4Option[]): Uint8Array {
  return encodeOptionList(
    "IPv4",
    options.map((o) => ({ code: o.type, data: o.data })),
  );
}
