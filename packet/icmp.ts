/**
 * ICMP for IPv4 (RFC 792): type, code, checksum and the 32-bit "rest of header"
 * (identifier and sequence number for echo, unused/pointer/gateway for the others).
 *
 * Promises: IcmpView allocates nothing and keeps the checksum right when type/code
 * change (RFC 1624, as OVS's packet_set_icmp does). `encodeIcmp` writes the 8-byte
 * header with the given checksum (0 when absent); the checksum covers the message
 * body too, so call `fillIcmpChecksum` once the body is in place (frame-builder.ts
 * does). The body (echo data, or the quoted datagram of an error) is the caller's.
 */
import { rd16, rd32, wr16, wr32 } from "./_bytes.js";
import { HeaderView } from "./_view.js";
import { internetChecksum, update16 } from "./checksum.js";
import { checkRange, needBytes, needRoom, PacketErrorCode } from "./errors.js";

export const ICMP_HEADER_LEN = 8;
export const ICMP_ECHO_REPLY = 0;
export const ICMP_DEST_UNREACH = 3;
export const ICMP_REDIRECT = 5;
export const ICMP_ECHO_REQUEST = 8;
export const ICMP_TIME_EXCEEDED = 11;
export const ICMP_PARAM_PROBLEM = 12;

export interface IcmpFields {
  type: number;
  /** Default 0. */
  code?: number;
  /** Default 0 (fill it with fillIcmpChecksum once the body is written). */
  checksum?: number;
  /** The 32-bit rest of header. Default: id << 16 | seq. */
  rest?: number;
  /** Echo identifier (RFC 792 "Echo or Echo Reply Message"). */
  id?: number;
  /** Echo sequence number. */
  seq?: number;
}

export class IcmpView extends HeaderView {
  /** RFC 792: every message starts with type, code, checksum and 4 more octets. */
  validate(): PacketErrorCode | undefined {
    return this.end - this.off < ICMP_HEADER_LEN ? PacketErrorCode.TRUNCATED : undefined;
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
  get rest(): number {
    return rd32(this.buf, this.off + 4);
  }
  get id(): number {
    return rd16(this.buf, this.off + 4);
  }
  get seq(): number {
    return rd16(this.buf, this.off + 6);
  }
  /** Sets type and code, fixing the checksum incrementally. */
  setTypeCode(type: number, code: number): void {
    const old = rd16(this.buf, this.off);
    const now = ((type & 0xff) << 8) | (code & 0xff);
    wr16(this.buf, this.off, now);
    wr16(this.buf, this.off + 2, update16(this.checksum, old, now));
  }
  /** True when the checksum over [off, end) verifies (RFC 792 "Checksum"). */
  get checksumOk(): boolean {
    return internetChecksum(this.buf, this.off, this.end - this.off) === 0;
  }
}

export function decodeIcmp(
  buf: Uint8Array,
  off = 0,
  end: number = buf.length,
): Required<IcmpFields> {
  needBytes("ICMP", end, off, ICMP_HEADER_LEN);
  const rest = rd32(buf, off + 4);
  return {
    type: buf[off],
    code: buf[off + 1],
    checksum: rd16(buf, off + 2),
    rest,
    id: rest >>> 16,
    seq: rest & 0xffff,
  };
}

export function encodingLengthIcmp(_fields?: IcmpFields): number {
  return ICMP_HEADER_LEN;
}

export function encodeIcmp(f: IcmpFields, buf: Uint8Array, off = 0): number {
  needRoom("ICMP", buf, off, ICMP_HEADER_LEN);
  checkRange("ICMP", "type", f.type, 0xff);
  checkRange("ICMP", "code", f.code ?? 0, 0xff);
  checkRange("ICMP", "checksum", f.checksum ?? 0, 0xffff);
  checkRange("ICMP", "id", f.id ?? 0, 0xffff);
  checkRange("ICMP", "seq", f.seq ?? 0, 0xffff);
  const rest = f.rest ?? (((f.id ?? 0) << 16) | (f.seq ?? 0)) >>> 0;
  checkRange("ICMP", "rest", rest, 0xffffffff);
  buf[off] = f.type;
  buf[off + 1] = f.code ?? 0;
  wr16(buf, off + 2, f.checksum ?? 0);
  wr32(buf, off + 4, rest);
  return off + ICMP_HEADER_LEN;
}

/** Computes and stores the checksum of the `len`-byte ICMP message at `off`. */
export function fillIcmpChecksum(buf: Uint8Array, off: number, len: number): void {
  wr16(buf, off + 2, 0);
  wr16(buf, off + 2, internetChecksum(buf, off, len));
}
