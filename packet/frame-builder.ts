/**
 * A frame builder for tests and the simulator: describe the headers, get exact bytes.
 *
 * `buildFrame(spec)` lays the headers out in wire order — Ethernet, VLAN tags (outer
 * first), then LLC or MPLS or NSH, then ARP/RARP or IPv4 or IPv6, then UDP, TCP,
 * ICMP, ICMPv6 or SCTP, then the payload — and fills in what follows from the rest:
 * every type / next-header / protocol field, IPv4 total length and header checksum,
 * IPv6 payload length, UDP length, the 802.3 length of an LLC frame, the MPLS
 * bottom-of-stack bit, NSH's next protocol, and every L4 checksum (over the right
 * pseudo-header). A field given explicitly is written as given, so tests can build
 * wrong frames on purpose (e.g. `udp: { ..., checksum: 0 }` for "no checksum").
 *
 * RARP: an `arp` with op 3 or 4 goes out with EtherType 0x8035 (RFC 903).
 *
 * Addresses may be given as bytes/numbers or as text ("02:00:00:00:00:01",
 * "10.0.0.1", "fe80::1", parsed by address.ts); bad text throws a PacketMalformedError
 * naming it. ICMPv6 accepts `sll` / `tll` shorthands for the ND link-layer options.
 *
 * It allocates (slow path); `encodeFrame` writes into a caller's buffer instead.
 */

import { wr32 } from "./_bytes.js";
import { parseIpv4, parseIpv6, parseMac } from "./address.js";
import {
  ARP_OP_RARP_REPLY,
  ARP_OP_RARP_REQUEST,
  type ArpFields,
  encodeArp,
  encodingLengthArp,
} from "./arp.js";
import { needRoom, PacketErrorCode, PacketMalformedError } from "./errors.js";
import { ETH_HEADER_LEN, ETH_MIN_FRAME_LEN, encodeEthernet } from "./ethernet.js";
import {
  ETH_TYPE_ARP,
  ETH_TYPE_IPV4,
  ETH_TYPE_IPV6,
  ETH_TYPE_MPLS,
  ETH_TYPE_NSH,
  ETH_TYPE_RARP,
  ETH_TYPE_VLAN_8021Q,
} from "./ethertype.js";
import { encodeIcmp, fillIcmpChecksum, ICMP_HEADER_LEN, type IcmpFields } from "./icmp.js";
import {
  encodeIcmpv6,
  encodingLengthIcmpv6,
  fillIcmpv6Checksum,
  type Icmpv6Fields,
  ND_OPT_SOURCE_LINKADDR,
  ND_OPT_TARGET_LINKADDR,
  ndLinkAddrOption,
} from "./icmpv6.js";
import {
  IPPROTO_ICMP,
  IPPROTO_ICMPV6,
  IPPROTO_NONE,
  IPPROTO_SCTP,
  IPPROTO_TCP,
  IPPROTO_UDP,
} from "./ipproto.js";
import { encodeIpv4, encodingLengthIpv4, type Ipv4Fields } from "./ipv4.js";
import { encodeIpv6, encodingLengthIpv6, type Ipv6Fields } from "./ipv6.js";
import { encodeLlc, encodingLengthLlc, type LlcFields } from "./llc.js";
import { encodeMpls, MPLS_HLEN, type MplsFields } from "./mpls.js";
import { encodeNsh, encodingLengthNsh, NSH_P_IPV4, NSH_P_IPV6, type NshFields } from "./nsh.js";
import { encodeSctp, encodingLengthSctp, fillSctpChecksum, type SctpFields } from "./sctp.js";
import {
  encodeTcp,
  encodingLengthTcp,
  fillTcpChecksumIpv4,
  fillTcpChecksumIpv6,
  type TcpFields,
} from "./tcp.js";
import {
  encodeUdp,
  fillUdpChecksumIpv4,
  fillUdpChecksumIpv6,
  UDP_HEADER_LEN,
  type UdpFields,
} from "./udp.js";
import { encodeVlan, VLAN_HEADER_LEN, type VlanFields } from "./vlan.js";

/** A MAC as 6 bytes or as text ("02:00:00:00:00:01"). */
export type MacLike = Uint8Array | string;
/** An IPv4 address as an unsigned 32-bit number or a dotted quad. */
export type Ipv4Like = number | string;
/** An IPv6 address as 16 bytes or as text ("fe80::1"). */
export type Ipv6Like = Uint8Array | string;

export interface FrameSpec {
  /** `type` defaults to what the next header needs. */
  eth: { dst: MacLike; src: MacLike; type?: number };
  /** Outer first; `tpid` defaults to 0x8100 (use 0x88a8 for an 802.1ad S-tag). */
  vlans?: (Omit<VlanFields, "type"> & { tpid?: number })[];
  /** Makes an 802.3 frame: the type field becomes the length. */
  llc?: LlcFields;
  /** Label stack, outer first; `bos` defaults to 1 on the last entry only. */
  mpls?: (Omit<MplsFields, "bos"> & { bos?: number })[];
  /** `nextProto` defaults from the L3 header that follows. */
  nsh?: Omit<NshFields, "nextProto"> & { nextProto?: number };
  /**
   * ARP, or RARP when op is 3 or 4. Addresses as bytes for other hardware/protocol
   * types; `tha` defaults to zeros.
   */
  arp?: Omit<ArpFields, "sha" | "spa" | "tha" | "tpa"> & {
    sha: MacLike;
    spa: Ipv4Like | Uint8Array;
    tha?: MacLike;
    tpa: Ipv4Like | Uint8Array;
  };
  /** `protocol` defaults from the L4 header. */
  ipv4?: Omit<Ipv4Fields, "protocol" | "src" | "dst"> & {
    protocol?: number;
    src: Ipv4Like;
    dst: Ipv4Like;
  };
  /**
   * `protocol` defaults from the L4 header. `finalDst` is the pseudo-header
   * destination when a Routing header still has segments left (RFC 8200 §8.1).
   */
  ipv6?: Omit<Ipv6Fields, "protocol" | "src" | "dst"> & {
    protocol?: number;
    src: Ipv6Like;
    dst: Ipv6Like;
    finalDst?: Ipv6Like;
  };
  udp?: UdpFields;
  tcp?: TcpFields;
  icmp?: IcmpFields;
  /**
   * Needs `ipv6` for its checksum. `sll` / `tll` append Source / Target Link-Layer
   * Address options (RFC 4861 §4.6.1) after any given `options`.
   */
  icmpv6?: Omit<Icmpv6Fields, "target"> & { target?: Ipv6Like; sll?: MacLike; tll?: MacLike };
  sctp?: SctpFields;
  payload?: Uint8Array;
  /** Pad with zeros to the 60-byte Ethernet minimum (IEEE 802.3 §4.4.2). */
  padToMin?: boolean;
}

/** FrameSpec with every address in wire form. */
interface WireSpec extends Omit<FrameSpec, "eth" | "arp" | "ipv4" | "ipv6" | "icmpv6"> {
  eth: { dst: Uint8Array; src: Uint8Array; type?: number };
  arp?: ArpFields;
  ipv4?: Omit<Ipv4Fields, "protocol"> & { protocol?: number };
  ipv6?: Omit<Ipv6Fields, "protocol"> & { protocol?: number; finalDst?: Uint8Array };
  icmpv6?: Icmpv6Fields;
}

function badAddress(kind: string, text: string): PacketMalformedError {
  return new PacketMalformedError(
    PacketErrorCode.BAD_FIELD,
    "frame",
    `"${text}" is not ${kind} address`,
  );
}

function macBytes(m: MacLike): Uint8Array {
  if (typeof m !== "string") return m;
  const hl = parseMac(m);
  if (!hl) throw badAddress("a MAC", m);
  const out = new Uint8Array(6);
  out[0] = hl[0] >>> 8;
  out[1] = hl[0] & 0xff;
  wr32(out, 2, hl[1]);
  return out;
}

function ipv4Number(a: Ipv4Like): number {
  if (typeof a !== "string") return a;
  const v = parseIpv4(a);
  if (v === undefined) throw badAddress("an IPv4", a);
  return v;
}

function ipv4Bytes(a: Ipv4Like | Uint8Array): Uint8Array {
  if (a instanceof Uint8Array) return a;
  const out = new Uint8Array(4);
  wr32(out, 0, ipv4Number(a));
  return out;
}

function ipv6Bytes(a: Ipv6Like): Uint8Array {
  if (typeof a !== "string") return a;
  const words = new Uint32Array(4);
  if (!parseIpv6(a, words)) throw badAddress("an IPv6", a);
  const out = new Uint8Array(16);
  for (let i = 0; i < 4; i++) wr32(out, 4 * i, words[i]);
  return out;
}

function toWire(s: FrameSpec): WireSpec {
  const w: WireSpec = {
    ...s,
    eth: { ...s.eth, dst: macBytes(s.eth.dst), src: macBytes(s.eth.src) },
  } as WireSpec;
  if (s.arp) {
    const sha = macBytes(s.arp.sha);
    w.arp = {
      ...s.arp,
      sha,
      spa: ipv4Bytes(s.arp.spa),
      tha: s.arp.tha === undefined ? new Uint8Array(sha.length) : macBytes(s.arp.tha),
      tpa: ipv4Bytes(s.arp.tpa),
    };
  }
  if (s.ipv4) w.ipv4 = { ...s.ipv4, src: ipv4Number(s.ipv4.src), dst: ipv4Number(s.ipv4.dst) };
  if (s.ipv6) {
    const { finalDst, ...rest } = s.ipv6;
    w.ipv6 = { ...rest, src: ipv6Bytes(s.ipv6.src), dst: ipv6Bytes(s.ipv6.dst) };
    if (finalDst !== undefined) w.ipv6.finalDst = ipv6Bytes(finalDst);
  }
  if (s.icmpv6) {
    const { sll, tll, target, ...rest } = s.icmpv6;
    const options = [...(rest.options ?? [])];
    if (sll !== undefined) options.push(ndLinkAddrOption(ND_OPT_SOURCE_LINKADDR, macBytes(sll)));
    if (tll !== undefined) options.push(ndLinkAddrOption(ND_OPT_TARGET_LINKADDR, macBytes(tll)));
    w.icmpv6 = { ...rest, options };
    if (target !== undefined) w.icmpv6.target = ipv6Bytes(target);
  }
  return w;
}

function l4Proto(s: WireSpec): number | undefined {
  if (s.udp) return IPPROTO_UDP;
  if (s.tcp) return IPPROTO_TCP;
  if (s.icmp) return IPPROTO_ICMP;
  if (s.icmpv6) return IPPROTO_ICMPV6;
  if (s.sctp) return IPPROTO_SCTP;
  return undefined;
}

function l4HeaderLen(s: WireSpec): number {
  if (s.udp) return UDP_HEADER_LEN;
  if (s.tcp) return encodingLengthTcp(s.tcp);
  if (s.icmp) return ICMP_HEADER_LEN;
  if (s.icmpv6) return encodingLengthIcmpv6(s.icmpv6);
  if (s.sctp) return encodingLengthSctp(s.sctp);
  return 0;
}

function l3Type(s: WireSpec): number | undefined {
  if (s.arp)
    return s.arp.op === ARP_OP_RARP_REQUEST || s.arp.op === ARP_OP_RARP_REPLY
      ? ETH_TYPE_RARP
      : ETH_TYPE_ARP;
  if (s.ipv4) return ETH_TYPE_IPV4;
  if (s.ipv6) return ETH_TYPE_IPV6;
  return undefined;
}

function l3Len(s: WireSpec): number {
  if (s.arp) return encodingLengthArp(s.arp);
  if (s.ipv4) return encodingLengthIpv4(s.ipv4 as Ipv4Fields);
  if (s.ipv6) return encodingLengthIpv6(s.ipv6 as Ipv6Fields);
  return 0;
}

/** Bytes the frame needs before any minimum-size padding. */
function rawLength(s: WireSpec): number {
  let len = ETH_HEADER_LEN + VLAN_HEADER_LEN * (s.vlans?.length ?? 0);
  if (s.llc) len += encodingLengthLlc(s.llc);
  len += MPLS_HLEN * (s.mpls?.length ?? 0);
  if (s.nsh) len += encodingLengthNsh(s.nsh as NshFields);
  return len + l3Len(s) + l4HeaderLen(s) + (s.payload?.length ?? 0);
}

/** Total frame length, padding included. */
export function encodingLengthFrame(spec: FrameSpec): number {
  return wireLength(toWire(spec));
}

function wireLength(s: WireSpec): number {
  const len = rawLength(s);
  return s.padToMin && len < ETH_MIN_FRAME_LEN ? ETH_MIN_FRAME_LEN : len;
}

/** Writes the frame at `off` and returns the offset just past it. */
export function encodeFrame(spec: FrameSpec, buf: Uint8Array, off = 0): number {
  return encodeWire(toWire(spec), buf, off);
}

function encodeWire(s: WireSpec, buf: Uint8Array, off: number): number {
  const total = wireLength(s);
  needRoom("frame", buf, off, total);
  const payloadLen = s.payload?.length ?? 0;
  const l4Len = l4HeaderLen(s) + payloadLen;
  const l3 = l3Type(s);

  // The type that follows the VLAN tags: what the first header after them needs.
  let innerType = s.eth.type;
  if (s.llc) innerType = rawLength(s) - ETH_HEADER_LEN - VLAN_HEADER_LEN * (s.vlans?.length ?? 0);
  else if (s.mpls?.length) innerType = ETH_TYPE_MPLS;
  else if (s.nsh) innerType = ETH_TYPE_NSH;
  else if (l3 !== undefined) innerType = l3;
  if (innerType === undefined)
    throw new PacketMalformedError(
      PacketErrorCode.BAD_FIELD,
      "frame",
      "no EtherType: give eth.type or a header (llc, mpls, nsh, arp, ipv4, ipv6) that implies one",
    );

  const vlans = s.vlans ?? [];
  const ethType = s.eth.type ?? (vlans.length ? (vlans[0].tpid ?? ETH_TYPE_VLAN_8021Q) : innerType);
  let p = encodeEthernet({ dst: s.eth.dst, src: s.eth.src, type: ethType }, buf, off);
  for (let i = 0; i < vlans.length; i++) {
    const next = i + 1 < vlans.length ? (vlans[i + 1].tpid ?? ETH_TYPE_VLAN_8021Q) : innerType;
    // Each tag's own TPID sits in the previous header's type field; see vlan.ts.
    p = encodeVlan({ ...vlans[i], type: next }, buf, p);
  }
  if (s.llc) p = encodeLlc(s.llc, buf, p);
  const mpls = s.mpls ?? [];
  for (let i = 0; i < mpls.length; i++)
    p = encodeMpls({ ...mpls[i], bos: mpls[i].bos ?? (i === mpls.length - 1 ? 1 : 0) }, buf, p);
  if (s.nsh) {
    const np = s.nsh.nextProto ?? (s.ipv4 ? NSH_P_IPV4 : s.ipv6 ? NSH_P_IPV6 : undefined);
    if (np === undefined)
      throw new PacketMalformedError(
        PacketErrorCode.BAD_FIELD,
        "frame",
        "nsh.nextProto is needed when no IPv4/IPv6 header follows",
      );
    p = encodeNsh({ ...s.nsh, nextProto: np } as NshFields, buf, p);
  }

  // RFC 4443 §2.3: the ICMPv6 checksum covers an IPv6 pseudo-header.
  if (s.icmpv6 && !s.ipv6 && s.icmpv6.checksum === undefined)
    throw new PacketMalformedError(
      PacketErrorCode.BAD_FIELD,
      "frame",
      "icmpv6 needs an ipv6 header for its checksum; add ipv6 or give icmpv6.checksum",
    );
  const proto = l4Proto(s);
  const l3Off = p;
  if (s.arp) p = encodeArp(s.arp, buf, p);
  else if (s.ipv4) {
    const hlen = encodingLengthIpv4(s.ipv4 as Ipv4Fields);
    p = encodeIpv4(
      {
        ...s.ipv4,
        protocol: s.ipv4.protocol ?? proto ?? IPPROTO_NONE,
        totalLength: s.ipv4.totalLength ?? hlen + l4Len,
      },
      buf,
      p,
    );
  } else if (s.ipv6) {
    const extLen = encodingLengthIpv6(s.ipv6 as Ipv6Fields) - 40;
    p = encodeIpv6(
      {
        ...s.ipv6,
        protocol: s.ipv6.protocol ?? proto ?? IPPROTO_NONE,
        payloadLength: s.ipv6.payloadLength ?? extLen + l4Len,
      },
      buf,
      p,
    );
  }

  const l4Off = p;
  if (s.udp) p = encodeUdp({ ...s.udp, length: s.udp.length ?? l4Len }, buf, p);
  else if (s.tcp) p = encodeTcp(s.tcp, buf, p);
  else if (s.icmp) p = encodeIcmp(s.icmp, buf, p);
  else if (s.icmpv6) p = encodeIcmpv6(s.icmpv6, buf, p);
  else if (s.sctp) p = encodeSctp({ ...s.sctp, checksum: 0 }, buf, p);
  if (s.payload) {
    buf.set(s.payload, p);
    p += payloadLen;
  }
  fillL4Checksum(s, buf, l3Off, l4Off, l4Len);
  if (p < off + total) {
    buf.fill(0, p, off + total);
    p = off + total;
  }
  return p;
}

function fillL4Checksum(
  s: WireSpec,
  buf: Uint8Array,
  l3Off: number,
  l4Off: number,
  l4Len: number,
): void {
  if (s.icmp && s.icmp.checksum === undefined) fillIcmpChecksum(buf, l4Off, l4Len);
  if (s.sctp) {
    if (s.sctp.checksum === undefined) fillSctpChecksum(buf, l4Off, l4Len);
    else wr32(buf, l4Off + 8, s.sctp.checksum);
  }
  if (s.ipv4) {
    const src = s.ipv4.src >>> 0;
    const dst = s.ipv4.dst >>> 0;
    if (s.udp && s.udp.checksum === undefined) fillUdpChecksumIpv4(buf, l4Off, l4Len, src, dst);
    if (s.tcp && s.tcp.checksum === undefined) fillTcpChecksumIpv4(buf, l4Off, l4Len, src, dst);
  } else if (s.ipv6) {
    const dstBuf = s.ipv6.finalDst ?? buf;
    const dstOff = s.ipv6.finalDst ? 0 : l3Off + 24;
    const srcOff = l3Off + 8;
    if (s.udp && s.udp.checksum === undefined)
      fillUdpChecksumIpv6(buf, l4Off, l4Len, buf, srcOff, dstOff, dstBuf);
    if (s.tcp && s.tcp.checksum === undefined)
      fillTcpChecksumIpv6(buf, l4Off, l4Len, buf, srcOff, dstOff, dstBuf);
    if (s.icmpv6 && s.icmpv6.checksum === undefined)
      fillIcmpv6Checksum(buf, l4Off, l4Len, buf, srcOff, dstOff, dstBuf);
  }
}

/** Builds the frame into a new buffer of exactly encodingLengthFrame(spec) bytes. */
export function buildFrame(spec: FrameSpec): Uint8Array {
  const s = toWire(spec);
  const buf = new Uint8Array(wireLength(s));
  encodeWire(s, buf, 0);
  return buf;
}
