/**
 * Geneve header codec (RFC 8926 §3.4/3.5): 8 bytes plus options after the outer UDP.
 *
 *   Ver(2) OptLen(6) O(1) C(1) Rsvd(6) | Protocol Type(16)
 *   VNI(24) Reserved(8)
 *   options: Class(16) Type(8) R(3) Length(5) | data (Length * 4 bytes) ...
 *
 * Promises: `geneveCheck` walks the option TLVs in place without throwing or allocating
 * (the receive path); `decodeGeneve` / `encodeGeneve` / `encodingLengthGeneve` handle
 * options as objects for everything else. Acceptance is OVS's (geneve_extract_md):
 * version 0, options inside the datagram, protocol Ethernet (0x6558).
 */
import { OVERLAY_DROP, OVERLAY_ERROR_CODES, OverlayError } from "./errors.js";
import { VNI_MAX } from "./vxlan.js";

export const GENEVE_PORT = 6081;
export const GENEVE_BASE_LEN = 8;
/** OptLen is 6 bits of 4-byte words. */
export const GENEVE_MAX_OPTIONS_LEN = 63 * 4;
export const GENEVE_FLAG_OAM = 0x80;
export const GENEVE_FLAG_CRITICAL = 0x40;
const ETH_TYPE_TEB = 0x6558;

export interface GeneveOption {
  readonly optClass: number;
  readonly type: number;
  /** Length a multiple of 4, at most 124 bytes (RFC 8926 §3.5). */
  readonly data: Uint8Array;
}

export interface GeneveHeader {
  readonly vni: number;
  readonly oam?: boolean;
  readonly critical?: boolean;
  readonly options?: readonly GeneveOption[];
}

/** 0 when the Geneve header (and its option TLVs) at `off` is acceptable, else a drop reason. */
export function geneveCheck(buf: Uint8Array, off: number, end: number): number {
  if (end - off < GENEVE_BASE_LEN) return OVERLAY_DROP.MALFORMED_OUTER;
  // §3.4: Ver MUST be 0 for this version; an unknown version is dropped.
  if (buf[off] >>> 6 !== 0) return OVERLAY_DROP.BAD_GENEVE;
  const optLen = (buf[off] & 0x3f) * 4;
  if (end - off < GENEVE_BASE_LEN + optLen) return OVERLAY_DROP.MALFORMED_OUTER;
  if (((buf[off + 2] << 8) | buf[off + 3]) !== ETH_TYPE_TEB) return OVERLAY_DROP.BAD_GENEVE;
  // §3.5: each option's Length counts 4-byte words after its 4-byte header; the TLVs
  // must tile the options area exactly.
  let at = off + GENEVE_BASE_LEN;
  const optEnd = at + optLen;
  while (at < optEnd) {
    if (optEnd - at < 4) return OVERLAY_DROP.BAD_GENEVE;
    at += 4 + (buf[at + 3] & 0x1f) * 4;
  }
  if (at !== optEnd) return OVERLAY_DROP.BAD_GENEVE;
  return 0;
}

/** Total header length (base + options) of a checked header. */
export function geneveHeaderLength(buf: Uint8Array, off: number): number {
  return GENEVE_BASE_LEN + (buf[off] & 0x3f) * 4;
}

export function geneveVni(buf: Uint8Array, off: number): number {
  return (buf[off + 4] << 16) | (buf[off + 5] << 8) | buf[off + 6];
}

/** Decodes the header; option data are zero-copy `subarray`s of `buf`. */
export function decodeGeneve(buf: Uint8Array, off = 0, end: number = buf.length): GeneveHeader {
  const r = geneveCheck(buf, off, end);
  if (r === OVERLAY_DROP.MALFORMED_OUTER)
    throw new OverlayError(
      OVERLAY_ERROR_CODES.TRUNCATED,
      `Cannot decode Geneve header: ${end - off} bytes left, need ${end - off < GENEVE_BASE_LEN ? GENEVE_BASE_LEN : geneveHeaderLength(buf, off)}`,
    );
  if (r !== 0)
    throw new OverlayError(
      OVERLAY_ERROR_CODES.BAD_HEADER,
      "Cannot decode Geneve header: need version 0, protocol 0x6558 and option TLVs that fill OptLen exactly (RFC 8926 §3.4-3.5)",
    );
  const options: GeneveOption[] = [];
  let at = off + GENEVE_BASE_LEN;
  const optEnd = off + geneveHeaderLength(buf, off);
  while (at < optEnd) {
    const len = (buf[at + 3] & 0x1f) * 4;
    options.push({
      optClass: (buf[at] << 8) | buf[at + 1],
      type: buf[at + 2],
      data: buf.subarray(at + 4, at + 4 + len),
    });
    at += 4 + len;
  }
  return {
    vni: geneveVni(buf, off),
    oam: (buf[off + 1] & GENEVE_FLAG_OAM) !== 0,
    critical: (buf[off + 1] & GENEVE_FLAG_CRITICAL) !== 0,
    options,
  };
}

export function encodingLengthGeneve(h: GeneveHeader): number {
  let n = GENEVE_BASE_LEN;
  for (const o of h.options ?? []) n += 4 + o.data.length;
  return n;
}

/** Writes the header and options at `off`; returns the offset after them. */
export function encodeGeneve(h: GeneveHeader, buf: Uint8Array, off = 0): number {
  if (!Number.isInteger(h.vni) || h.vni < 0 || h.vni > VNI_MAX)
    throw new OverlayError(
      OVERLAY_ERROR_CODES.FIELD_RANGE,
      `Cannot encode Geneve VNI ${h.vni}: it must be an integer from 0 to ${VNI_MAX}`,
    );
  const len = encodingLengthGeneve(h);
  if (len - GENEVE_BASE_LEN > GENEVE_MAX_OPTIONS_LEN)
    throw new OverlayError(
      OVERLAY_ERROR_CODES.FIELD_RANGE,
      `Cannot encode Geneve options of ${len - GENEVE_BASE_LEN} bytes: at most ${GENEVE_MAX_OPTIONS_LEN}`,
    );
  if (buf.length - off < len)
    throw new OverlayError(
      OVERLAY_ERROR_CODES.NO_ROOM,
      `Cannot encode Geneve header: ${buf.length - off} bytes of room, need ${len}`,
    );
  let at = writeGeneveBase(
    buf,
    off,
    h.vni,
    len - GENEVE_BASE_LEN,
    (h.oam ? GENEVE_FLAG_OAM : 0) | (h.critical ? GENEVE_FLAG_CRITICAL : 0),
  );
  for (const o of h.options ?? []) {
    if (o.data.length % 4 !== 0 || o.data.length > 124)
      throw new OverlayError(
        OVERLAY_ERROR_CODES.BAD_OPTION,
        `Cannot encode Geneve option class 0x${o.optClass.toString(16)} type ${o.type}: data is ${o.data.length} bytes, need a multiple of 4 up to 124`,
      );
    buf[at] = o.optClass >>> 8;
    buf[at + 1] = o.optClass & 0xff;
    buf[at + 2] = o.type & 0xff;
    buf[at + 3] = o.data.length / 4;
    buf.set(o.data, at + 4);
    at += 4 + o.data.length;
  }
  return at;
}

/** Per-packet writer of the 8 fixed bytes; `optLen` bytes of options follow (caller writes them). */
export function writeGeneveBase(
  buf: Uint8Array,
  off: number,
  vni: number,
  optLen: number,
  flags: number,
): number {
  buf[off] = (optLen >>> 2) & 0x3f;
  buf[off + 1] = flags;
  buf[off + 2] = ETH_TYPE_TEB >>> 8;
  buf[off + 3] = ETH_TYPE_TEB & 0xff;
  buf[off + 4] = (vni >>> 16) & 0xff;
  buf[off + 5] = (vni >>> 8) & 0xff;
  buf[off + 6] = vni & 0xff;
  buf[off + 7] = 0;
  return off + GENEVE_BASE_LEN;
}
