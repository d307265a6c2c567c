/**
 * GRE header codec (RFC 2784 §2, key and sequence number per RFC 2890 §2).
 *
 *   C(1) R(1) K(1) S(1) reserved0(9) version(3) | protocol type(16)
 *   [checksum(16) reserved1(16)] [key(32)] [sequence number(32)]
 *
 * Promises: `greCheck` / `greHeaderLength` read in place without throwing or allocating;
 * `decodeGre` / `encodeGre` / `encodingLengthGre` for the rest. The checksum (when C is
 * set) covers the GRE header and payload (RFC 2784 §2.5); `greChecksumOk` verifies it.
 * Acceptance is OVS's (parse_gre_header): version 0, no routing (R), no other reserved
 * flags, protocol 0x6558 (transparent Ethernet bridging) for gre/gretap ports.
 */
import { internetChecksum, onesSum } from "../packet/index.js";
import { OVERLAY_DROP, OVERLAY_ERROR_CODES, OverlayError } from "./errors.js";

export const IPPROTO_GRE = 47;
export const GRE_CSUM = 0x8000;
export const GRE_ROUTING = 0x4000;
export const GRE_KEY = 0x2000;
export const GRE_SEQ = 0x1000;
export const GRE_VERSION_MASK = 0x0007;
/** Transparent Ethernet bridging: the payload is an Ethernet frame. */
export const ETH_TYPE_TEB = 0x6558;
export const GRE_BASE_LEN = 4;
export const GRE_MAX_LEN = 16;

export interface GreHeader {
  readonly protocol: number;
  /** Present when K is set. */
  readonly key?: number;
  /** Present when S is set. */
  readonly seq?: number;
  /** C set; the checksum value (decode) or ignored (encode: computed by encodeGre's caller via fillGreChecksum). */
  readonly csum?: boolean;
  readonly checksum?: number;
}

/** Header length implied by the flags word `flags`. */
export function greLengthFromFlags(flags: number): number {
  return (
    GRE_BASE_LEN +
    (flags & GRE_CSUM ? 4 : 0) +
    (flags & GRE_KEY ? 4 : 0) +
    (flags & GRE_SEQ ? 4 : 0)
  );
}

/** 0 when the GRE header at `off` is acceptable (datagram ends at `end`), else a drop reason. */
export function greCheck(buf: Uint8Array, off: number, end: number): number {
  if (end - off < GRE_BASE_LEN) return OVERLAY_DROP.MALFORMED_OUTER;
  const flags = (buf[off] << 8) | buf[off + 1];
  // RFC 2784 §2.3/2.3.1: version 0; reserved0 bits other than K and S (RFC 2890) MUST be 0.
  if (flags & ~(GRE_CSUM | GRE_KEY | GRE_SEQ)) return OVERLAY_DROP.BAD_GRE;
  if (end - off < greLengthFromFlags(flags)) return OVERLAY_DROP.MALFORMED_OUTER;
  if (((buf[off + 2] << 8) | buf[off + 3]) !== ETH_TYPE_TEB) return OVERLAY_DROP.BAD_GRE;
  return 0;
}

/** Length of a checked header. */
export function greHeaderLength(buf: Uint8Array, off: number): number {
  return greLengthFromFlags((buf[off] << 8) | buf[off + 1]);
}

/** The key of a checked header with K set (a uint32). */
export function greKey(buf: Uint8Array, off: number): number {
  const at = off + 4 + (buf[off] & 0x80 ? 4 : 0);
  return ((buf[at] << 24) | (buf[at + 1] << 16) | (buf[at + 2] << 8) | buf[at + 3]) >>> 0;
}

/** RFC 2784 §2.5: the ones'-complement sum over header and payload checks to zero. */
export function greChecksumOk(buf: Uint8Array, off: number, end: number): boolean {
  return onesSum(buf, off, end - off) === 0xffff;
}

export function decodeGre(buf: Uint8Array, off = 0, end: number = buf.length): GreHeader {
  const r = greCheck(buf, off, end);
  if (r === OVERLAY_DROP.MALFORMED_OUTER)
    throw new OverlayError(
      OVERLAY_ERROR_CODES.TRUNCATED,
      `Cannot decode GRE header: ${end - off} bytes left, need ${end - off < 4 ? 4 : greHeaderLength(buf, off)}`,
    );
  if (r !== 0)
    throw new OverlayError(
      OVERLAY_ERROR_CODES.BAD_HEADER,
      "Cannot decode GRE header: need version 0, no routing or reserved flags, protocol 0x6558 (RFC 2784 §2)",
    );
  const flags = (buf[off] << 8) | buf[off + 1];
  let at = off + 4;
  let checksum: number | undefined;
  let key: number | undefined;
  let seq: number | undefined;
  const word = (p: number) =>
    ((buf[p] << 24) | (buf[p + 1] << 16) | (buf[p + 2] << 8) | buf[p + 3]) >>> 0;
  if (flags & GRE_CSUM) {
    checksum = (buf[at] << 8) | buf[at + 1];
    at += 4;
  }
  if (flags & GRE_KEY) {
    key = word(at);
    at += 4;
  }
  if (flags & GRE_SEQ) seq = word(at);
  return {
    protocol: ETH_TYPE_TEB,
    csum: (flags & GRE_CSUM) !== 0,
    ...(checksum !== undefined ? { checksum } : {}),
    ...(key !== undefined ? { key } : {}),
    ...(seq !== undefined ? { seq } : {}),
  };
}

export function encodingLengthGre(h: GreHeader): number {
  return (
    GRE_BASE_LEN + (h.csum ? 4 : 0) + (h.key !== undefined ? 4 : 0) + (h.seq !== undefined ? 4 : 0)
  );
}

/**
 * Writes the header at `off` with a zero checksum field; returns the offset after it.
 * With `csum`, call fillGreChecksum once the payload is in place.
 */
export function encodeGre(h: GreHeader, buf: Uint8Array, off = 0): number {
  const u32 = (v: number | undefined, what: string) => {
    if (v !== undefined && (!Number.isInteger(v) || v < 0 || v > 0xffffffff))
      throw new OverlayError(
        OVERLAY_ERROR_CODES.FIELD_RANGE,
        `Cannot encode GRE ${what} ${v}: it must be an integer from 0 to 4294967295`,
      );
  };
  u32(h.key, "key");
  u32(h.seq, "sequence number");
  const len = encodingLengthGre(h);
  if (buf.length - off < len)
    throw new OverlayError(
      OVERLAY_ERROR_CODES.NO_ROOM,
      `Cannot encode GRE header: ${buf.length - off} bytes of room, need ${len}`,
    );
  return writeGre(buf, off, h.protocol, h.csum === true, h.key ?? -1, h.seq ?? -1);
}

/** Per-packet writer: `key`/`seq` of -1 mean absent. Returns the offset after the header. */
export function writeGre(
  buf: Uint8Array,
  off: number,
  protocol: number,
  csum: boolean,
  key: number,
  seq: number,
): number {
  const flags = (csum ? GRE_CSUM : 0) | (key >= 0 ? GRE_KEY : 0) | (seq >= 0 ? GRE_SEQ : 0);
  buf[off] = flags >>> 8;
  buf[off + 1] = 0;
  buf[off + 2] = protocol >>> 8;
  buf[off + 3] = protocol & 0xff;
  let at = off + 4;
  if (csum) {
    buf[at] = 0;
    buf[at + 1] = 0;
    buf[at + 2] = 0;
    buf[at + 3] = 0;
    at += 4;
  }
  if (key >= 0) {
    buf[at] = key >>> 24;
    buf[at + 1] = (key >>> 16) & 0xff;
    buf[at + 2] = (key >>> 8) & 0xff;
    buf[at + 3] = key & 0xff;
    at += 4;
  }
  if (seq >= 0) {
    buf[at] = seq >>> 24;
    buf[at + 1] = (seq >>> 16) & 0xff;
    buf[at + 2] = (seq >>> 8) & 0xff;
    buf[at + 3] = seq & 0xff;
    at += 4;
  }
  return at;
}

/** Fills the checksum of the GRE packet (header with C set, then payload) at [off, end). */
export function fillGreChecksum(buf: Uint8Array, off: number, end: number): void {
  buf[off + 4] = 0;
  buf[off + 5] = 0;
  const c = internetChecksum(buf, off, end - off);
  buf[off + 4] = c >>> 8;
  buf[off + 5] = c & 0xff;
}
