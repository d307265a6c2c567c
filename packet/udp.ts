/**
 * UDP header (RFC 768): ports, length, checksum over an IPv4 or IPv6 pseudo-header.
 *
 * Promises: UdpView allocates nothing; its port setters keep a non-zero checksum
 * right (a zero checksum over IPv4 means "none" and stays zero). `encodeUdp` writes 8
 * bytes with the given length (default 8) and checksum (default 0); the
 * `fillUdpChecksum*` helpers compute the real one once the payload is in place,
 * sending a computed 0 as 0xffff (RFC 768 "Fields"). It does not know about tunnels
 * that ride on UDP (overlay/ does).
 */
import { rd16, wr16 } from "./_bytes.js";
import { L4PortsView } from "./_view.js";
import { l4ChecksumIpv4, l4ChecksumIpv6 } from "./checksum.js";
import { checkRange, needBytes, needRoom, PacketErrorCode } from "./errors.js";
import { IPPROTO_UDP } from "./ipproto.js";

export const UDP_HEADER_LEN = 8;

export interface UdpFields {
  srcPort: number;
  dstPort: number;
  /** Header plus data. Default 8. */
  length?: number;
  /** Default 0 ("no checksum" over IPv4; fill it for IPv6, RFC 8200 §8.1). */
  checksum?: number;
}

export class UdpView extends L4PortsView {
  protected readonly ipProto = IPPROTO_UDP;

  validate(): PacketErrorCode | undefined {
    const left = this.end - this.off;
    // RFC 768: the header is 8 octets.
    if (left < UDP_HEADER_LEN) return PacketErrorCode.TRUNCATED;
    const len = this.length;
    // RFC 768 "Length ... the minimum value of the length is eight".
    if (len < UDP_HEADER_LEN) return PacketErrorCode.BAD_LENGTH;
    return len > left ? PacketErrorCode.TRUNCATED : undefined;
  }

  get length(): number {
    return rd16(this.buf, this.off + 4);
  }
  get checksum(): number {
    return rd16(this.buf, this.off + 6);
  }
}

export function decodeUdp(buf: Uint8Array, off = 0, end: number = buf.length): Required<UdpFields> {
  needBytes("UDP", end, off, UDP_HEADER_LEN);
  return {
    srcPort: rd16(buf, off),
    dstPort: rd16(buf, off + 2),
    length: rd16(buf, off + 4),
    checksum: rd16(buf, off + 6),
  };
}

export function encodingLengthUdp(_fields?: UdpFields): number {
  return UDP_HEADER_LEN;
}

export function encodeUdp(f: UdpFields, buf: Uint8Array, off = 0): number {
  needRoom("UDP", buf, off, UDP_HEADER_LEN);
  checkRange("UDP", "srcPort", f.srcPort, 0xffff);
  checkRange("UDP", "dstPort", f.dstPort, 0xffff);
  checkRange("UDP", "length", f.length ?? UDP_HEADER_LEN, 0xffff);
  checkRange("UDP", "checksum", f.checksum ?? 0, 0xffff);
  wr16(buf, off, f.srcPort);
  wr16(buf, off + 2, f.dstPort);
  wr16(buf, off + 4, f.length ?? UDP_HEADER_LEN);
  wr16(buf, off + 6, f.checksum ?? 0);
  return off + UDP_HEADER_LEN;
}

/** Computes and stores the checksum of the `len`-byte datagram at `off` over IPv4. */
export function fillUdpChecksumIpv4(
  buf: Uint8Array,
  off: number,
  len: number,
  src: number,
  dst: number,
): void {
  wr16(buf, off + 6, 0);
  const c = l4ChecksumIpv4(buf, off, len, src, dst, IPPROTO_UDP);
  wr16(buf, off + 6, c === 0 ? 0xffff : c);
}

/** As fillUdpChecksumIpv4, over IPv6 (16-byte addresses at srcOff/dstOff of `addrs`). */
export function fillUdpChecksumIpv6(
  buf: Uint8Array,
  off: number,
  len: number,
  addrs: Uint8Array,
  srcOff: number,
  dstOff: number,
  dstBuf: Uint8Array = addrs,
): void {
  wr16(buf, off + 6, 0);
  const c = l4ChecksumIpv6(buf, off, len, addrs, srcOff, dstOff, IPPROTO_UDP, dstBuf);
  wr16(buf, off + 6, c === 0 ? 0xffff : c);
}
