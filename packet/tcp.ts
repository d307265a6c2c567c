/**
 * TCP header (RFC 9293 §3.1): ports, sequence and acknowledgment numbers, data offset,
 * flags, window, checksum, urgent pointer and options.
 *
 * Promises: TcpView allocates nothing; its port setters fix the checksum
 * incrementally. `encodeTcp` pads options with zeros (End of Option List) to a 4-byte
 * boundary and writes the given checksum (default 0); `fillTcpChecksum*` compute the
 * real one over the pseudo-header once the payload is in place. Flags are the 12 bits
 * OVS's tcp_flags match sees (the 9 defined ones plus 3 reserved), RFC 3168 ECE/CWR
 * included. It does not track connections.
 */
import { copyBytes, rd16, rd32, wr16, wr32 } from "./_bytes.js";
import { decodeOptionList, encodeOptionList } from "./_options.js";
import { L4PortsView } from "./_view.js";
import { l4ChecksumIpv4, l4ChecksumIpv6 } from "./checksum.js";
import {
  checkRange,
  needBytes,
  needRoom,
  PacketErrorCode,
  PacketMalformedError,
} from "./errors.js";
import { IPPROTO_TCP } from "./ipproto.js";

export const TCP_HEADER_LEN = 20;
export const TCP_MAX_HEADER_LEN = 60;
export const TCP_FIN = 0x001;
export const TCP_SYN = 0x002;
export const TCP_RST = 0x004;
export const TCP_PSH = 0x008;
export const TCP_ACK = 0x010;
export const TCP_URG = 0x020;
export const TCP_ECE = 0x040;
export const TCP_CWR = 0x080;
export const TCP_NS = 0x100;
/** All 12 bits below the data offset (OVS TCP_FLAGS). */
export const TCP_FLAGS_MASK = 0x0fff;

export const TCP_OPT_EOL = 0;
export const TCP_OPT_NOP = 1;
export const TCP_OPT_MSS = 2;
export const TCP_OPT_WSCALE = 3;
export const TCP_OPT_SACK_PERMITTED = 4;
export const TCP_OPT_SACK = 5;
export const TCP_OPT_TIMESTAMP = 8;

export interface TcpOption {
  kind: number;
  /** Bytes after kind and length; absent for EOL and NOP. */
  data?: Uint8Array;
}

export interface TcpFields {
  srcPort: number;
  dstPort: number;
  /** Default 0. */
  seq?: number;
  /** Default 0. */
  ack?: number;
  /** TCP_* bits, up to 12. Default 0. */
  flags?: number;
  /** Default 65535. */
  window?: number;
  /** Default 0 (fill it with fillTcpChecksum*). */
  checksum?: number;
  /** Default 0. */
  urgent?: number;
  /** Raw option bytes (see encodeTcpOptions); zero-padded to a multiple of 4. */
  options?: Uint8Array;
}

export class TcpView extends L4PortsView {
  protected readonly ipProto = IPPROTO_TCP;

  validate(): PacketErrorCode | undefined {
    const left = this.end - this.off;
    // RFC 9293 §3.1: the fixed header is 20 octets.
    if (left < TCP_HEADER_LEN) return PacketErrorCode.TRUNCATED;
    const hlen = this.headerLen;
    // RFC 9293 §3.1 "Data Offset ... the minimum value is 5" (OVS: tcp_hdr_len >= 20).
    if (hlen < TCP_HEADER_LEN) return PacketErrorCode.BAD_LENGTH;
    return hlen > left ? PacketErrorCode.TRUNCATED : undefined;
  }

  get seq(): number {
    return rd32(this.buf, this.off + 4);
  }
  get ack(): number {
    return rd32(this.buf, this.off + 8);
  }
  /** Header length in bytes (data offset × 4). */
  get headerLen(): number {
    return (this.buf[this.off + 12] >>> 4) << 2;
  }
  get flags(): number {
    return rd16(this.buf, this.off + 12) & TCP_FLAGS_MASK;
  }
  get window(): number {
    return rd16(this.buf, this.off + 14);
  }
  get checksum(): number {
    return rd16(this.buf, this.off + 16);
  }
  get urgent(): number {
    return rd16(this.buf, this.off + 18);
  }
}

export function decodeTcp(buf: Uint8Array, off = 0, end: number = buf.length): Required<TcpFields> {
  needBytes("TCP", end, off, TCP_HEADER_LEN);
  const hlen = (buf[off + 12] >>> 4) << 2;
  if (hlen < TCP_HEADER_LEN)
    throw new PacketMalformedError(
      PacketErrorCode.BAD_LENGTH,
      "TCP",
      `data offset is ${hlen >>> 2}, the minimum is 5`,
    );
  needBytes("TCP", end, off, hlen);
  return {
    srcPort: rd16(buf, off),
    dstPort: rd16(buf, off + 2),
    seq: rd32(buf, off + 4),
    ack: rd32(buf, off + 8),
    flags: rd16(buf, off + 12) & TCP_FLAGS_MASK,
    window: rd16(buf, off + 14),
    checksum: rd16(buf, off + 16),
    urgent: rd16(buf, off + 18),
    options: copyBytes(buf, off + TCP_HEADER_LEN, hlen - TCP_HEADER_LEN),
  };
}

export function encodingLengthTcp(f: TcpFields): number {
  return TCP_HEADER_LEN + (((f.options?.length ?? 0) + 3) & ~3);
}

export function encodeTcp(f: TcpFields, buf: Uint8Array, off = 0): number {
  const hlen = encodingLengthTcp(f);
  // RFC 9293 §3.1: the data offset is 4 bits, so at most 40 bytes of options.
  if (hlen > TCP_MAX_HEADER_LEN)
    throw new PacketMalformedError(
      PacketErrorCode.BAD_LENGTH,
      "TCP",
      `${f.options?.length} bytes of options, at most 40 fit (data offset is 4 bits)`,
    );
  needRoom("TCP", buf, off, hlen);
  checkRange("TCP", "srcPort", f.srcPort, 0xffff);
  checkRange("TCP", "dstPort", f.dstPort, 0xffff);
  checkRange("TCP", "seq", f.seq ?? 0, 0xffffffff);
  checkRange("TCP", "ack", f.ack ?? 0, 0xffffffff);
  checkRange("TCP", "flags", f.flags ?? 0, TCP_FLAGS_MASK);
  checkRange("TCP", "window", f.window ?? 65535, 0xffff);
  checkRange("TCP", "checksum", f.checksum ?? 0, 0xffff);
  checkRange("TCP", "urgent", f.urgent ?? 0, 0xffff);
  wr16(buf, off, f.srcPort);
  wr16(buf, off + 2, f.dstPort);
  wr32(buf, off + 4, f.seq ?? 0);
  wr32(buf, off + 8, f.ack ?? 0);
  wr16(buf, off + 12, ((hlen >>> 2) << 12) | (f.flags ?? 0));
  wr16(buf, off + 14, f.window ?? 65535);
  wr16(buf, off + 16, f.checksum ?? 0);
  wr16(buf, off + 18, f.urgent ?? 0);
  const opt = f.options?.length ?? 0;
  if (f.options) buf.set(f.options, off + TCP_HEADER_LEN);
  buf.fill(0, off + TCP_HEADER_LEN + opt, off + hlen);
  return off + hlen;
}

/** Computes and stores the checksum of the `len`-byte segment at `off` over IPv4. */
export function fillTcpChecksumIpv4(
  buf: Uint8Array,
  off: number,
  len: number,
  src: number,
  dst: number,
): void {
  wr16(buf, off + 16, 0);
  wr16(buf, off + 16, l4ChecksumIpv4(buf, off, len, src, dst, IPPROTO_TCP));
}

/** As fillTcpChecksumIpv4, over IPv6 (16-byte addresses at srcOff/dstOff of `addrs`). */
export function fillTcpChecksumIpv6(
  buf: Uint8Array,
  off: number,
  len: number,
  addrs: Uint8Array,
  srcOff: number,
  dstOff: number,
  dstBuf: Uint8Array = addrs,
): void {
  wr16(buf, off + 16, 0);
  wr16(buf, off + 16, l4ChecksumIpv6(buf, off, len, addrs, srcOff, dstOff, IPPROTO_TCP, dstBuf));
}

/** Serialises options: EOL and NOP as one octet, the rest as kind, length, data. Unpadded. */
export function encodeTcpOptions(options: readonly TcpOption[]): Uint8Array {
  return encodeOptionList(
    "TCP",
    options.map((o) => ({ code: o.kind, data: o.data })),
  );
}

/**
 * Splits option bytes (RFC 9293 §3.1 "Options": kinds 0 and 1 are one octet; every
 * other option is kind, length ≥ 2 counting kind and length, data). Stops after EOL.
 * Throws PacketMalformedError on a bad length.
 */
export function decodeTcpOptions(opts: Uint8Array): TcpOption[] {
  return decodeOptionList("TCP", opts).map(({ code, data }) =>
    data ? { kind: code, data } : { kind: code },
  );
}

/** RFC 9293 §3.2: Maximum Segment Size. */
export function tcpOptMss(mss: number): TcpOption {
  checkRange("TCP", "mss", mss, 0xffff);
  return { kind: TCP_OPT_MSS, data: Uint8Array.of(mss >>> 8, mss & 0xff) };
}

/** RFC 7323 §2.2: Window Scale (shift ≤ 14). */
export function tcpOptWindowScale(shift: number): TcpOption {
  checkRange("TCP", "window scale", shift, 14);
  return { kind: TCP_OPT_WSCALE, data: Uint8Array.of(shift) };
}

/** RFC 2018 §2: SACK-Permitted. */
export function tcpOptSackPermitted(): TcpOption {
  return { kind: TCP_OPT_SACK_PERMITTED, data: new Uint8Array(0) };
}

/** RFC 2018 §3: SACK blocks as [left, right) pairs of sequence numbers. */
export function tcpOptSack(blocks: readonly (readonly [number, number])[]): TcpOption {
  const data = new Uint8Array(8 * blocks.length);
  blocks.forEach(([l, r], i) => {
    wr32(data, 8 * i, l);
    wr32(data, 8 * i + 4, r);
  });
  return { kind: TCP_OPT_SACK, data };
}

/** RFC 7323 §3.2: Timestamps (TSval, TSecr). */
export function tcpOptTimestamp(tsVal: number, tsEcr: number): TcpOption {
  const data = new Uint8Array(8);
  wr32(data, 0, tsVal);
  wr32(data, 4, tsEcr);
  return { kind: TCP_OPT_TIMESTAMP, data };
}
