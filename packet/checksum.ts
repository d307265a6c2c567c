/**
 * The Internet checksum (RFC 1071) and its incremental update (RFC 1624), as IPv4,
 * ICMP, ICMPv6, UDP and TCP use it, with the IPv4 (RFC 768, RFC 9293 §3.1) and IPv6
 * (RFC 8200 §8.1) pseudo-headers.
 *
 * Conventions:
 * - A "sum" is a folded 16-bit ones'-complement sum, not yet complemented; sums chain
 *   through the `initial` argument, so a pseudo-header sum feeds the L4 sum.
 * - A "checksum" is the complemented sum, the value stored on the wire. Computing one
 *   assumes the checksum field itself reads zero; verifying one is computing it over
 *   the data with the field in place and getting 0.
 * - Incremental updates use RFC 1624 eqn. 3, HC' = ~(~HC + ~m + m'), which (unlike
 *   RFC 1141's eqn. 2) gives the same result as a full recomputation — except when
 *   the covered data becomes all zeros, where it yields 0x0000 for 0xffff: the same
 *   ones'-complement zero, verifying alike (RFC 1624 §3), and no real header is zero.
 * - UDP keeps OVS's rule (lib/packets.c packet_set_ipv4_addr): a zero UDP checksum over
 *   IPv4 means "none" and stays zero; a computed zero is sent as 0xffff (RFC 768).
 *
 * Nothing here allocates. It does not know SCTP, whose CRC32c lives in sctp.ts.
 */
import { IPPROTO_ICMP, IPPROTO_ICMPV6, IPPROTO_TCP, IPPROTO_UDP } from "./ipproto.js";

/** Folds any non-negative integer sum (< 2^53) to 16 bits with end-around carry. */
export function foldSum(sum: number): number {
  while (sum > 0xffff) sum = (sum & 0xffff) + Math.floor(sum / 0x10000);
  return sum;
}

/**
 * Ones'-complement sum of `len` bytes at `off` as big-endian 16-bit words (an odd last
 * byte is padded with a zero byte, RFC 1071 §4.1), plus `initial`.
 */
export function onesSum(buf: Uint8Array, off: number, len: number, initial = 0): number {
  let sum = initial;
  const even = off + (len & ~1);
  for (let i = off; i < even; i += 2) sum += (buf[i] << 8) | buf[i + 1];
  if (len & 1) sum += buf[even] << 8;
  return foldSum(sum);
}

/** The checksum to store for `len` bytes at `off` (field zeroed), given an initial sum. */
export function internetChecksum(buf: Uint8Array, off: number, len: number, initial = 0): number {
  return ~onesSum(buf, off, len, initial) & 0xffff;
}

/** Sum of the IPv4 pseudo-header: src, dst, zero, protocol, L4 length (RFC 9293 §3.1). */
export function pseudoSumIpv4(src: number, dst: number, proto: number, l4Len: number): number {
  return foldSum(
    (src >>> 16) + (src & 0xffff) + (dst >>> 16) + (dst & 0xffff) + proto + (l4Len & 0xffff),
  );
}

/**
 * Sum of the IPv6 pseudo-header (RFC 8200 §8.1): 16-byte source at `srcOff`, 16-byte
 * destination at `dstOff` (the final destination when a Routing header is present),
 * 32-bit upper-layer length, next header.
 */
export function pseudoSumIpv6(
  addrs: Uint8Array,
  srcOff: number,
  dstOff: number,
  proto: number,
  l4Len: number,
  dstBuf: Uint8Array = addrs,
): number {
  const s = onesSum(addrs, srcOff, 16, (l4Len >>> 16) + (l4Len & 0xffff) + proto);
  return onesSum(dstBuf, dstOff, 16, s);
}

/** Full L4 checksum over IPv4 (field zeroed). UDP callers map 0 to 0xffff. */
export function l4ChecksumIpv4(
  buf: Uint8Array,
  l4Off: number,
  l4Len: number,
  src: number,
  dst: number,
  proto: number,
): number {
  return internetChecksum(buf, l4Off, l4Len, pseudoSumIpv4(src, dst, proto, l4Len));
}

/** Full L4 checksum over IPv6 (field zeroed); addresses as for pseudoSumIpv6. */
export function l4ChecksumIpv6(
  buf: Uint8Array,
  l4Off: number,
  l4Len: number,
  addrs: Uint8Array,
  srcOff: number,
  dstOff: number,
  proto: number,
  dstBuf: Uint8Array = addrs,
): number {
  return internetChecksum(
    buf,
    l4Off,
    l4Len,
    pseudoSumIpv6(addrs, srcOff, dstOff, proto, l4Len, dstBuf),
  );
}

/** RFC 1624 eqn. 3: the checksum after one 16-bit word changes from `old` to `now`. */
export function update16(csum: number, old: number, now: number): number {
  return ~foldSum((~csum & 0xffff) + (~old & 0xffff) + (now & 0xffff)) & 0xffff;
}

/** RFC 1624 eqn. 3 for a 32-bit field (two adjacent words), e.g. an IPv4 address. */
export function update32(csum: number, old: number, now: number): number {
  return (
    ~foldSum(
      (~csum & 0xffff) + (~old & 0xffff) + (~(old >>> 16) & 0xffff) + (now & 0xffff) + (now >>> 16),
    ) & 0xffff
  );
}

/** RFC 1624 eqn. 3 for a 16-byte field (an IPv6 address), old and new given as bytes. */
export function update128(
  csum: number,
  oldBuf: Uint8Array,
  oldOff: number,
  newBuf: Uint8Array,
  newOff: number,
): number {
  let sum = ~csum & 0xffff;
  for (let i = 0; i < 16; i += 2) {
    sum +=
      (~((oldBuf[oldOff + i] << 8) | oldBuf[oldOff + i + 1]) & 0xffff) +
      ((newBuf[newOff + i] << 8) | newBuf[newOff + i + 1]);
  }
  return ~foldSum(sum) & 0xffff;
}

/**
 * Offset of the checksum field inside the L4 header for `proto` (TCP 16, UDP 6, ICMP
 * and ICMPv6 2), or -1 when the protocol has no Internet checksum.
 */
export function l4ChecksumOffset(proto: number): number {
  switch (proto) {
    case IPPROTO_TCP:
      return 16;
    case IPPROTO_UDP:
      return 6;
    case IPPROTO_ICMP:
    case IPPROTO_ICMPV6:
      return 2;
    default:
      return -1;
  }
}

/** The fixed header length OVS requires before it touches an L4 checksum. */
function l4MinLen(proto: number): number {
  return proto === IPPROTO_TCP ? 20 : proto === IPPROTO_UDP ? 8 : 4;
}

function applyL4(
  buf: Uint8Array,
  l4Off: number,
  l4Len: number,
  proto: number,
  pseudo: boolean,
  kind: 16 | 32 | 128,
  old: number,
  now: number,
  oldBuf: Uint8Array | undefined,
  oldOff: number,
  newBuf: Uint8Array | undefined,
  newOff: number,
): void {
  // An address change reaches only the checksums that cover a pseudo-header: ICMP
  // over IPv4 has none (RFC 792), ICMPv6 has one (RFC 4443 §2.3).
  if (pseudo && proto === IPPROTO_ICMP) return;
  const at = l4ChecksumOffset(proto);
  if (at < 0 || l4Len < l4MinLen(proto)) return;
  const p = l4Off + at;
  const csum = (buf[p] << 8) | buf[p + 1];
  // RFC 768: zero means "no checksum" for UDP; keep it so.
  if (proto === IPPROTO_UDP && csum === 0) return;
  let next =
    kind === 16
      ? update16(csum, old, now)
      : kind === 32
        ? update32(csum, old, now)
        : update128(csum, oldBuf!, oldOff, newBuf!, newOff);
  if (proto === IPPROTO_UDP && next === 0) next = 0xffff;
  buf[p] = next >>> 8;
  buf[p + 1] = next & 0xff;
}

/**
 * Fixes the L4 checksum at `l4Off` after a 16-bit word inside the L4 header changed
 * (a port, an ICMP type/code word). Mutates `buf`.
 */
export function fixL4ForField16(
  buf: Uint8Array,
  l4Off: number,
  l4Len: number,
  proto: number,
  old: number,
  now: number,
): void {
  applyL4(buf, l4Off, l4Len, proto, false, 16, old, now, undefined, 0, undefined, 0);
}

/**
 * Fixes the L4 checksum after an IPv4 address in the pseudo-header changed from
 * `old` to `now` (TCP, UDP; ICMP is untouched). Mutates `buf`.
 */
export function fixL4ForIpv4Addr(
  buf: Uint8Array,
  l4Off: number,
  l4Len: number,
  proto: number,
  old: number,
  now: number,
): void {
  applyL4(buf, l4Off, l4Len, proto, true, 32, old, now, undefined, 0, undefined, 0);
}

/**
 * Fixes the L4 checksum after an IPv6 address in the pseudo-header changed (TCP, UDP,
 * ICMPv6). Old and new addresses are 16 bytes at the given offsets. Mutates `buf`.
 */
export function fixL4ForIpv6Addr(
  buf: Uint8Array,
  l4Off: number,
  l4Len: number,
  proto: number,
  oldBuf: Uint8Array,
  oldOff: number,
  newBuf: Uint8Array,
  newOff: number,
): void {
  applyL4(buf, l4Off, l4Len, proto, true, 128, 0, 0, oldBuf, oldOff, newBuf, newOff);
}
