/**
 * The UDP source port of an encapsulated packet: a hash of the inner flow mapped into
 * the ephemeral range, so ECMP in the underlay spreads flows while each flow keeps one
 * path (RFC 7348 §5, RFC 8926 §3.3). The mapping is OVS's netdev_tnl_get_src_port:
 * min + (hash * (max - min)) >> 32, with min 32768 and max 61000 (Linux's default
 * ip_local_port_range, which OVS reads).
 *
 * The hash covers the inner Ethernet addresses and type and, for IPv4, the addresses,
 * protocol and (for unfragmented TCP/UDP/SCTP) ports. It reads bytes in place and
 * allocates nothing. It is not OVS's RSS hash; only its properties are promised.
 */

import { hashAdd, hashFinish } from "../datapath/index.js";

export const TNL_UDP_PORT_MIN = 32768;
export const TNL_UDP_PORT_MAX = 61000;

function word(b: Uint8Array, p: number): number {
  return (b[p] << 24) | (b[p + 1] << 16) | (b[p + 2] << 8) | b[p + 3];
}

/** 32-bit hash of the inner frame's flow (Ethernet at `off`, `len` bytes). */
export function innerFlowHash(b: Uint8Array, off: number, len: number): number {
  if (len < 14) return 0;
  let h = hashAdd(0x2f3a5c71, word(b, off));
  h = hashAdd(h, word(b, off + 4));
  h = hashAdd(h, word(b, off + 8));
  h = hashAdd(h, (b[off + 12] << 8) | b[off + 13]);
  const ip = off + 14;
  if (b[off + 12] === 0x08 && b[off + 13] === 0x00 && len >= 34 && b[ip] >>> 4 === 4) {
    h = hashAdd(h, word(b, ip + 12));
    h = hashAdd(h, word(b, ip + 16));
    const proto = b[ip + 9];
    h = hashAdd(h, proto);
    const ihl = (b[ip] & 0x0f) * 4;
    const frag = ((b[ip + 6] & 0x3f) << 8) | b[ip + 7];
    if ((proto === 6 || proto === 17 || proto === 132) && frag === 0 && len >= 14 + ihl + 4)
      h = hashAdd(h, word(b, ip + ihl));
  }
  return hashFinish(h, 0);
}

/** The ephemeral source port for a flow hash. */
export function tunnelSrcPort(
  hash: number,
  min = TNL_UDP_PORT_MIN,
  max = TNL_UDP_PORT_MAX,
): number {
  return min + Math.floor(((hash >>> 0) * (max - min)) / 0x100000000);
}
