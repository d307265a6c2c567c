/**
 * IPv6 header (RFC 8200 §3) and the extension headers OVS walks: Hop-by-Hop Options
 * (§4.3), Routing (§4.4), Fragment (§4.5), Destination Options (§4.6) — plus AH
 * (RFC 4302 §2), whose length unit differs, on the view's walk only.
 *
 * Promises:
 * - Ipv6View reads in place and allocates nothing; `validate()` applies the length
 *   check of OVS's ipv6_sanity_check() (lib/flow.c) plus a host's version check (OVS
 *   leaves that to the EtherType). `walkExtHeaders()` follows the
 *   next-header chain exactly as OVS's parse_ipv6_ext_hdrs() does (lib/flow.c) and
 *   leaves the upper-layer protocol, its offset and the nw_frag bits on the view.
 * - `encodeIpv6` writes the fixed header and the extension headers, deriving every
 *   Next Header field from the chain and the payload length when not given; options
 *   are padded with Pad1/PadN (§4.2), routing data with zeros, to 8-octet multiples.
 * It does not reassemble fragments or process routing headers.
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
import { FLOW_NW_FRAG_ANY, FLOW_NW_FRAG_LATER } from "./flow-key.js";
import {
  IPPROTO_AH,
  IPPROTO_DSTOPTS,
  IPPROTO_FRAGMENT,
  IPPROTO_HOPOPTS,
  IPPROTO_ROUTING,
} from "./ipproto.js";

export const IPV6_HEADER_LEN = 40;
export const IPV6_ADDR_LEN = 16;
export const IPV6_FRAG_HEADER_LEN = 8;
export const IPV6_OPT_PAD1 = 0;
export const IPV6_OPT_PADN = 1;
/** Fragment header offset/flags word: offset in the top 13 bits, M in bit 0. */
export const IPV6_FRAG_OFF_MASK = 0xfff8;
export const IPV6_FRAG_MORE = 0x0001;

/** Hop-by-Hop or Destination Options: raw option TLVs after the two-octet header. */
export interface Ipv6OptionsHeader {
  type: typeof IPPROTO_HOPOPTS | typeof IPPROTO_DSTOPTS;
  /** Option TLVs; padded with Pad1/PadN to make the header a multiple of 8 octets. */
  options: Uint8Array;
}

export interface Ipv6RoutingHeader {
  type: typeof IPPROTO_ROUTING;
  routingType: number;
  segmentsLeft: number;
  /** Type-specific data after the 4 fixed octets; zero-padded to 8n + 4. */
  data: Uint8Array;
}

export interface Ipv6FragmentHeader {
  type: typeof IPPROTO_FRAGMENT;
  /** In 8-octet units, 0..8191. */
  fragOffset: number;
  /** More fragments. */
  m: boolean;
  id: number;
}

export type Ipv6ExtHeader = Ipv6OptionsHeader | Ipv6RoutingHeader | Ipv6FragmentHeader;

export interface Ipv6Option {
  /** Option type (RFC 8200 §4.2: action bits, change bit, number). */
  type: number;
  data?: Uint8Array;
}

export interface Ipv6Fields {
  /** Default 0. */
  trafficClass?: number;
  /** 20 bits. Default 0. */
  flowLabel?: number;
  /** Bytes after the fixed header. Default: the extension headers' length alone. */
  payloadLength?: number;
  /** Default 64. */
  hopLimit?: number;
  /** 16 bytes each. */
  src: Uint8Array;
  dst: Uint8Array;
  /** Extension headers in wire order. */
  extHeaders?: Ipv6ExtHeader[];
  /** Upper-layer protocol: the Next Header of the last header in the chain. */
  protocol: number;
}

function isWalkedExt(nh: number): boolean {
  return (
    nh === IPPROTO_HOPOPTS ||
    nh === IPPROTO_ROUTING ||
    nh === IPPROTO_DSTOPTS ||
    nh === IPPROTO_AH ||
    nh === IPPROTO_FRAGMENT
  );
}

export class Ipv6View extends HeaderView {
  /** Set by walkExtHeaders(): the upper-layer protocol (IPPROTO_FRAGMENT for later fragments). */
  upperProto = 0;
  /** Set by walkExtHeaders(): offset of the upper-layer header. */
  upperOff = 0;
  /** Set by walkExtHeaders(): FLOW_NW_FRAG_* bits. */
  nwFrag = 0;

  validate(): PacketErrorCode | undefined {
    const left = this.end - this.off;
    // RFC 8200 §3: the fixed header is 40 octets.
    if (left < IPV6_HEADER_LEN) return PacketErrorCode.TRUNCATED;
    // RFC 8200 §3 "Version 4-bit Internet Protocol version number = 6". (OVS's
    // ipv6_sanity_check() skips this one check; flow-extract.ts mirrors OVS.)
    if (this.buf[this.off] >>> 4 !== 6) return PacketErrorCode.BAD_VERSION;
    // RFC 8200 §3 "Payload Length ... the rest of the packet following this IPv6 header".
    if (this.payloadLength > left - IPV6_HEADER_LEN) return PacketErrorCode.TRUNCATED;
    return undefined;
  }

  /**
   * Walks the extension headers within the payload length (RFC 8200 §4.1 order is not
   * enforced, as OVS does not). Sets upperProto, upperOff and nwFrag; returns a code
   * when a header runs past the packet. Call after validate().
   */
  walkExtHeaders(): PacketErrorCode | undefined {
    const buf = this.buf;
    const end = this.off + IPV6_HEADER_LEN + this.payloadLength;
    let nh = buf[this.off + 6];
    let p = this.off + IPV6_HEADER_LEN;
    this.nwFrag = 0;
    while (isWalkedExt(nh)) {
      // RFC 8200 §4: every extension header is at least 8 octets.
      if (end - p < 8) return PacketErrorCode.TRUNCATED;
      let len: number;
      const next = buf[p];
      if (nh === IPPROTO_FRAGMENT) {
        len = IPV6_FRAG_HEADER_LEN;
        const offlg = rd16(buf, p + 2);
        if (offlg !== 0) {
          this.nwFrag = FLOW_NW_FRAG_ANY;
          if ((offlg & IPV6_FRAG_OFF_MASK) !== 0) {
            // RFC 8200 §4.5: only the first fragment carries the upper-layer header.
            this.nwFrag |= FLOW_NW_FRAG_LATER;
            this.upperProto = IPPROTO_FRAGMENT;
            this.upperOff = p + len;
            return undefined;
          }
        }
      } else if (nh === IPPROTO_AH) {
        // RFC 4302 §2.2: AH's Payload Len counts 4-octet units, minus 2.
        len = (buf[p + 1] + 2) * 4;
      } else {
        // RFC 8200 §4.3-4.6: Hdr Ext Len counts 8-octet units, not including the first 8.
        len = (buf[p + 1] + 1) * 8;
      }
      if (end - p < len) return PacketErrorCode.TRUNCATED;
      nh = next;
      p += len;
    }
    this.upperProto = nh;
    this.upperOff = p;
    return undefined;
  }

  get version(): number {
    return this.buf[this.off] >>> 4;
  }
  get trafficClass(): number {
    return ((this.buf[this.off] & 0xf) << 4) | (this.buf[this.off + 1] >>> 4);
  }
  set trafficClass(v: number) {
    this.buf[this.off] = 0x60 | ((v >>> 4) & 0xf);
    this.buf[this.off + 1] = ((v & 0xf) << 4) | (this.buf[this.off + 1] & 0xf);
  }
  get flowLabel(): number {
    return rd32(this.buf, this.off) & 0xfffff;
  }
  set flowLabel(v: number) {
    wr32(this.buf, this.off, (rd32(this.buf, this.off) & 0xfff00000) | (v & 0xfffff));
  }
  get payloadLength(): number {
    return rd16(this.buf, this.off + 4);
  }
  get nextHeader(): number {
    return this.buf[this.off + 6];
  }
  get hopLimit(): number {
    return this.buf[this.off + 7];
  }
  set hopLimit(v: number) {
    this.buf[this.off + 7] = v;
  }
  /** Offset of the 16-byte source address (read it as buf[srcOff .. srcOff + 16]). */
  get srcOff(): number {
    return this.off + 8;
  }
  get dstOff(): number {
    return this.off + 24;
  }
  /** Word i (0 = most significant) of the source, as the flow key packs it. */
  srcWord(i: number): number {
    return rd32(this.buf, this.off + 8 + 4 * i);
  }
  dstWord(i: number): number {
    return rd32(this.buf, this.off + 24 + 4 * i);
  }
}

function malformed(code: PacketErrorCode, detail: string): PacketMalformedError {
  return new PacketMalformedError(code, "IPv6", detail);
}

function extLength(h: Ipv6ExtHeader): number {
  if (h.type === IPPROTO_FRAGMENT) return IPV6_FRAG_HEADER_LEN;
  if (h.type === IPPROTO_ROUTING) return (4 + h.data.length + 7) & ~7;
  return (2 + h.options.length + 7) & ~7;
}

export function encodingLengthIpv6(f: Ipv6Fields): number {
  let len = IPV6_HEADER_LEN;
  for (const h of f.extHeaders ?? []) len += extLength(h);
  return len;
}

/** Fills `len` bytes at `off` with RFC 8200 §4.2 padding: Pad1 for one byte, else PadN. */
function writePadding(buf: Uint8Array, off: number, len: number): void {
  if (len === 0) return;
  if (len === 1) {
    buf[off] = IPV6_OPT_PAD1;
    return;
  }
  buf[off] = IPV6_OPT_PADN;
  buf[off + 1] = len - 2;
  buf.fill(0, off + 2, off + len);
}

export function encodeIpv6(f: Ipv6Fields, buf: Uint8Array, off = 0): number {
  const total = encodingLengthIpv6(f);
  needRoom("IPv6", buf, off, total);
  const exts = f.extHeaders ?? [];
  const tc = f.trafficClass ?? 0;
  const fl = f.flowLabel ?? 0;
  const plen = f.payloadLength ?? total - IPV6_HEADER_LEN;
  checkRange("IPv6", "trafficClass", tc, 0xff);
  checkRange("IPv6", "flowLabel", fl, 0xfffff);
  checkRange("IPv6", "payloadLength", plen, 0xffff);
  checkRange("IPv6", "hopLimit", f.hopLimit ?? 64, 0xff);
  checkRange("IPv6", "protocol", f.protocol, 0xff);
  wr32(buf, off, ((6 << 28) | (tc << 20) | fl) >>> 0);
  wr16(buf, off + 4, plen);
  buf[off + 6] = exts.length ? exts[0].type : f.protocol;
  buf[off + 7] = f.hopLimit ?? 64;
  putBytes(buf, off + 8, f.src, IPV6_ADDR_LEN);
  putBytes(buf, off + 24, f.dst, IPV6_ADDR_LEN);
  let p = off + IPV6_HEADER_LEN;
  for (let i = 0; i < exts.length; i++) {
    const h = exts[i];
    const len = extLength(h);
    buf[p] = i + 1 < exts.length ? exts[i + 1].type : f.protocol;
    if (h.type === IPPROTO_FRAGMENT) {
      checkRange("IPv6", "fragment offset", h.fragOffset, 0x1fff);
      checkRange("IPv6", "fragment id", h.id, 0xffffffff);
      buf[p + 1] = 0;
      wr16(buf, p + 2, (h.fragOffset << 3) | (h.m ? IPV6_FRAG_MORE : 0));
      wr32(buf, p + 4, h.id);
    } else if (h.type === IPPROTO_ROUTING) {
      checkRange("IPv6", "routing type", h.routingType, 0xff);
      checkRange("IPv6", "segments left", h.segmentsLeft, 0xff);
      if (len > 2048)
        throw malformed(PacketErrorCode.BAD_LENGTH, `routing header of ${len} bytes exceeds 2048`);
      buf[p + 1] = len / 8 - 1;
      buf[p + 2] = h.routingType;
      buf[p + 3] = h.segmentsLeft;
      buf.set(h.data, p + 4);
      buf.fill(0, p + 4 + h.data.length, p + len);
    } else if (h.type === IPPROTO_HOPOPTS || h.type === IPPROTO_DSTOPTS) {
      if (len > 2048)
        throw malformed(PacketErrorCode.BAD_LENGTH, `options header of ${len} bytes exceeds 2048`);
      buf[p + 1] = len / 8 - 1;
      buf.set(h.options, p + 2);
      writePadding(buf, p + 2 + h.options.length, len - 2 - h.options.length);
    } else {
      throw malformed(
        PacketErrorCode.BAD_FIELD,
        `extension header type ${(h as { type: number }).type} is not one of 0, 43, 44, 60`,
      );
    }
    p += len;
  }
  return p;
}

/** The fixed header and the Hop-by-Hop/Routing/Fragment/Destination headers. */
export function decodeIpv6(
  buf: Uint8Array,
  off = 0,
  end: number = buf.length,
): Required<Ipv6Fields> {
  needBytes("IPv6", end, off, IPV6_HEADER_LEN);
  const version = buf[off] >>> 4;
  if (version !== 6) throw malformed(PacketErrorCode.BAD_VERSION, `version is ${version}, need 6`);
  const w0 = rd32(buf, off);
  const plen = rd16(buf, off + 4);
  if (plen > end - off - IPV6_HEADER_LEN)
    throw new PacketMalformedError(
      PacketErrorCode.TRUNCATED,
      "IPv6",
      `payload length ${plen} but ${end - off - IPV6_HEADER_LEN} bytes follow the header`,
    );
  const stop = off + IPV6_HEADER_LEN + plen;
  const extHeaders: Ipv6ExtHeader[] = [];
  let nh = buf[off + 6];
  let p = off + IPV6_HEADER_LEN;
  while (
    nh === IPPROTO_HOPOPTS ||
    nh === IPPROTO_ROUTING ||
    nh === IPPROTO_FRAGMENT ||
    nh === IPPROTO_DSTOPTS
  ) {
    // RFC 8200 §4: each extension header is an integer multiple of 8 octets.
    needBytes("IPv6 extension", stop, p, 8);
    const next = buf[p];
    if (nh === IPPROTO_FRAGMENT) {
      const offlg = rd16(buf, p + 2);
      extHeaders.push({
        type: IPPROTO_FRAGMENT,
        fragOffset: offlg >>> 3,
        m: (offlg & IPV6_FRAG_MORE) !== 0,
        id: rd32(buf, p + 4),
      });
      p += IPV6_FRAG_HEADER_LEN;
    } else {
      const len = (buf[p + 1] + 1) * 8;
      needBytes("IPv6 extension", stop, p, len);
      if (nh === IPPROTO_ROUTING) {
        extHeaders.push({
          type: IPPROTO_ROUTING,
          routingType: buf[p + 2],
          segmentsLeft: buf[p + 3],
          data: copyBytes(buf, p + 4, len - 4),
        });
      } else {
        extHeaders.push({ type: nh, options: copyBytes(buf, p + 2, len - 2) });
      }
      p += len;
    }
    nh = next;
  }
  return {
    trafficClass: (w0 >>> 20) & 0xff,
    flowLabel: w0 & 0xfffff,
    payloadLength: plen,
    hopLimit: buf[off + 7],
    src: copyBytes(buf, off + 8, IPV6_ADDR_LEN),
    dst: copyBytes(buf, off + 24, IPV6_ADDR_LEN),
    extHeaders,
    protocol: nh,
  };
}

/** Serialises option TLVs (RFC 8200 §4.2) without the final padding. */
export function encodeIpv6Options(options: readonly Ipv6Option[]): Uint8Array {
  let len = 0;
  for (const o of options) len += o.type === IPV6_OPT_PAD1 ? 1 : 2 + (o.data?.length ?? 0);
  const out = new Uint8Array(len);
  let p = 0;
  for (const o of options) {
    out[p++] = o.type;
    if (o.type === IPV6_OPT_PAD1) continue;
    const data = o.data ?? new Uint8Array(0);
    checkRange("IPv6", "option data length", data.length, 0xff);
    out[p++] = data.length;
    out.set(data, p);
    p += data.length;
  }
  return out;
}

/**
 * Splits option TLVs (RFC 8200 §4.2: Pad1 is one octet; every other option is type,
 * data length, data). Padding options are returned like any other. Throws on an
 * option that runs past the area.
 */
export function decodeIpv6Options(opts: Uint8Array): Ipv6Option[] {
  const out: Ipv6Option[] = [];
  let p = 0;
  while (p < opts.length) {
    const type = opts[p];
    if (type === IPV6_OPT_PAD1) {
      out.push({ type });
      p++;
      continue;
    }
    if (p + 2 > opts.length || p + 2 + opts[p + 1] > opts.length)
      throw malformed(
        PacketErrorCode.BAD_OPTION,
        `option ${type} at ${p} runs past the ${opts.length}-byte option area`,
      );
    out.push({ type, data: copyBytes(opts, p + 2, opts[p + 1]) });
    p += 2 + opts[p + 1];
  }
  return out;
}
