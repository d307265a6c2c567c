/**
 * SCTP common header and chunks (RFC 9260 §3), with the CRC32c checksum (RFC 9260
 * Appendix A; Castagnoli polynomial, reflected, stored so that the wire bytes are the
 * CRC's little-endian bytes, as Linux and scapy do).
 *
 * Promises: SctpView reads the 12-byte common header in place and allocates nothing;
 * OVS looks no further than the ports. `encodeSctp` writes the header and chunks
 * (each padded to 4 bytes) and computes the CRC32c over the whole packet. It does not
 * run associations.
 */
import { copyBytes, rd16, rd32, wr16, wr32 } from "./_bytes.js";
import { HeaderView } from "./_view.js";
import {
  checkRange,
  needBytes,
  needRoom,
  PacketErrorCode,
  PacketMalformedError,
} from "./errors.js";

export const SCTP_HEADER_LEN = 12;
export const SCTP_CHUNK_HEADER_LEN = 4;
export const SCTP_CHUNK_DATA = 0;
export const SCTP_CHUNK_INIT = 1;
export const SCTP_CHUNK_ABORT = 6;
export const SCTP_CHUNK_SHUTDOWN_COMPLETE = 14;

export interface SctpChunk {
  type: number;
  /** Default 0. */
  flags?: number;
  /** Chunk value after the 4-byte chunk header; zero-padded to a multiple of 4. */
  data: Uint8Array;
}

export interface SctpFields {
  srcPort: number;
  dstPort: number;
  /** Verification tag. Default 0. */
  vtag?: number;
  /** CRC32c as the 32-bit number read big-endian from the wire; computed when absent. */
  checksum?: number;
  chunks?: SctpChunk[];
}

const CRC32C_TABLE = (() => {
  const t = new Uint32Array(256);
  for (let i = 0; i < 256; i++) {
    let c = i;
    for (let k = 0; k < 8; k++) c = c & 1 ? (c >>> 1) ^ 0x82f63b78 : c >>> 1;
    t[i] = c >>> 0;
  }
  return t;
})();

/** CRC32c (Castagnoli) of `len` bytes at `off`, as the standard unsigned value. */
export function crc32c(buf: Uint8Array, off: number, len: number): number {
  let crc = 0xffffffff;
  for (let i = off, e = off + len; i < e; i++)
    crc = CRC32C_TABLE[(crc ^ buf[i]) & 0xff] ^ (crc >>> 8);
  return ~crc >>> 0;
}

/** The checksum field's wire value (read big-endian) for the `len`-byte packet at `off`. */
export function sctpChecksum(buf: Uint8Array, off: number, len: number): number {
  const saved = rd32(buf, off + 8);
  wr32(buf, off + 8, 0);
  const c = crc32c(buf, off, len);
  wr32(buf, off + 8, saved);
  // RFC 9260 Appendix A: the CRC goes out least significant byte first.
  return (((c & 0xff) << 24) | ((c & 0xff00) << 8) | ((c >>> 8) & 0xff00) | (c >>> 24)) >>> 0;
}

/** Computes and stores the CRC32c of the `len`-byte SCTP packet at `off`. */
export function fillSctpChecksum(buf: Uint8Array, off: number, len: number): void {
  wr32(buf, off + 8, sctpChecksum(buf, off, len));
}

export class SctpView extends HeaderView {
  /** RFC 9260 §3.1: the common header is 12 octets. */
  validate(): PacketErrorCode | undefined {
    return this.end - this.off < SCTP_HEADER_LEN ? PacketErrorCode.TRUNCATED : undefined;
  }

  get srcPort(): number {
    return rd16(this.buf, this.off);
  }
  get dstPort(): number {
    return rd16(this.buf, this.off + 2);
  }
  get vtag(): number {
    return rd32(this.buf, this.off + 4);
  }
  get checksum(): number {
    return rd32(this.buf, this.off + 8);
  }
  /** True when the CRC32c over [off, end) verifies (RFC 9260 §6.8). */
  get checksumOk(): boolean {
    return sctpChecksum(this.buf, this.off, this.end - this.off) === this.checksum;
  }
}

export function decodeSctp(
  buf: Uint8Array,
  off = 0,
  end: number = buf.length,
): Required<SctpFields> {
  needBytes("SCTP", end, off, SCTP_HEADER_LEN);
  const chunks: SctpChunk[] = [];
  let p = off + SCTP_HEADER_LEN;
  while (end - p >= SCTP_CHUNK_HEADER_LEN) {
    const len = rd16(buf, p + 2);
    // RFC 9260 §3.2 "Chunk Length ... includes the Chunk Type, Chunk Flags, Chunk Length, and Chunk Value".
    if (len < SCTP_CHUNK_HEADER_LEN || p + len > end)
      throw new PacketMalformedError(
        PacketErrorCode.BAD_LENGTH,
        "SCTP",
        `chunk at ${p - off} has length ${len}, which is < 4 or runs past the ${end - off}-byte packet`,
      );
    chunks.push({ type: buf[p], flags: buf[p + 1], data: copyBytes(buf, p + 4, len - 4) });
    p += (len + 3) & ~3;
  }
  return {
    srcPort: rd16(buf, off),
    dstPort: rd16(buf, off + 2),
    vtag: rd32(buf, off + 4),
    checksum: rd32(buf, off + 8),
    chunks,
  };
}

export function encodingLengthSctp(f: SctpFields): number {
  let len = SCTP_HEADER_LEN;
  for (const c of f.chunks ?? []) len += (SCTP_CHUNK_HEADER_LEN + c.data.length + 3) & ~3;
  return len;
}

export function encodeSctp(f: SctpFields, buf: Uint8Array, off = 0): number {
  const total = encodingLengthSctp(f);
  needRoom("SCTP", buf, off, total);
  checkRange("SCTP", "srcPort", f.srcPort, 0xffff);
  checkRange("SCTP", "dstPort", f.dstPort, 0xffff);
  checkRange("SCTP", "vtag", f.vtag ?? 0, 0xffffffff);
  wr16(buf, off, f.srcPort);
  wr16(buf, off + 2, f.dstPort);
  wr32(buf, off + 4, f.vtag ?? 0);
  wr32(buf, off + 8, 0);
  let p = off + SCTP_HEADER_LEN;
  for (const c of f.chunks ?? []) {
    const len = SCTP_CHUNK_HEADER_LEN + c.data.length;
    checkRange("SCTP", "chunk type", c.type, 0xff);
    checkRange("SCTP", "chunk flags", c.flags ?? 0, 0xff);
    checkRange("SCTP", "chunk length", len, 0xffff);
    buf[p] = c.type;
    buf[p + 1] = c.flags ?? 0;
    wr16(buf, p + 2, len);
    buf.set(c.data, p + 4);
    const padded = (len + 3) & ~3;
    buf.fill(0, p + len, p + padded);
    p += padded;
  }
  if (f.checksum !== undefined) {
    checkRange("SCTP", "checksum", f.checksum, 0xffffffff);
    wr32(buf, off + 8, f.checksum);
  } else {
    fillSctpChecksum(buf, off, total);
  }
  return p;
}
