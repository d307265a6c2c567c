/**
 * The outer headers of a userspace (native) tunnel push, as OVS's `tnl_push` datapath
 * action carries them, printed the way lib/odp-util.c `format_odp_tnl_push_header`
 * prints them: `header(size=50,type=4,eth(...),ipv4(...),udp(...),vxlan(...))`.
 *
 * It builds text for translation and traces; encapsulating packets is the datapath's.
 */

export type TunnelType = "vxlan" | "gre" | "geneve";

/** OVS_VPORT_TYPE_* numbers, as the header's `type=` prints them. */
export const VPORT_TYPE: Readonly<Record<TunnelType, number>> = { gre: 3, vxlan: 4, geneve: 5 };

export interface TunnelHeaderParams {
  readonly type: TunnelType;
  readonly ethDst: string;
  readonly ethSrc: string;
  readonly ipSrc: string;
  readonly ipDst: string;
  readonly tos: number;
  readonly ttl: number;
  readonly df: boolean;
  readonly dstPort: number;
  readonly csum: boolean;
  /** The key/VNI, undefined when the port has none. */
  readonly key: bigint | undefined;
}

const hex = (n: number | bigint) => `0x${n.toString(16)}`;

/** The `header(...)` argument of tnl_push. */
export function formatTunnelHeader(p: TunnelHeaderParams): string {
  const eth = `eth(dst=${p.ethDst},src=${p.ethSrc},dl_type=0x0800)`;
  const proto = p.type === "gre" ? 47 : 17;
  const ip = `ipv4(src=${p.ipSrc},dst=${p.ipDst},proto=${proto},tos=${hex(p.tos) === "0x0" ? "0" : hex(p.tos)},ttl=${p.ttl},frag=${p.df ? "0x4000" : "0x0"})`;
  if (p.type === "gre") {
    let flags = 0;
    let size = 14 + 20 + 4;
    if (p.csum) {
      flags |= 0x8000;
      size += 4;
    }
    if (p.key !== undefined) {
      flags |= 0x2000;
      size += 4;
    }
    let gre = `gre((flags=${hex(flags)},proto=0x6558)`;
    if (p.csum) gre += ",csum=0x0";
    if (p.key !== undefined) gre += `,key=${hex(p.key)}`;
    gre += ")";
    return `header(size=${size},type=${VPORT_TYPE.gre},${eth},${ip},${gre})`;
  }
  const udp = `udp(src=0,dst=${p.dstPort},csum=${p.csum ? "0xffff" : "0x0"})`;
  const vni = hex((p.key ?? 0n) & 0xffffffn);
  const inner = p.type === "vxlan" ? `vxlan(flags=0x8000000,vni=${vni})` : `geneve(vni=${vni})`;
  return `header(size=50,type=${VPORT_TYPE[p.type]},${eth},${ip},${udp},${inner})`;
}

function macBytes(text: string, out: Uint8Array, off: number): void {
  const parts = text.split(":");
  for (let i = 0; i < 6; i++) out[off + i] = Number.parseInt(parts[i] ?? "0", 16);
}

function ipBytes(text: string, out: Uint8Array, off: number): void {
  const parts = text.split(".");
  for (let i = 0; i < 4; i++) out[off + i] = Number(parts[i] ?? 0);
}

/** RFC 791 header checksum over `len` bytes at `off`. */
function ipChecksum(b: Uint8Array, off: number, len: number): number {
  let sum = 0;
  for (let i = 0; i < len; i += 2) sum += (b[off + i]! << 8) | b[off + i + 1]!;
  while (sum > 0xffff) sum = (sum & 0xffff) + (sum >>> 16);
  return ~sum & 0xffff;
}

/**
 * The outer header bytes tnl_push prepends (what `header(...)` describes): Ethernet,
 * IPv4 (RFC 791, checksum filled, total length left 0 for the datapath to fix per
 * packet, as OVS's template does), then UDP + VXLAN (RFC 7348) / Geneve (RFC 8926),
 * or GRE (RFC 2890) with its optional checksum and key words.
 */
export function encodeTunnelHeader(p: TunnelHeaderParams): Uint8Array {
  const isGre = p.type === "gre";
  const greLen = 4 + (p.csum ? 4 : 0) + (p.key !== undefined ? 4 : 0);
  const size = 14 + 20 + (isGre ? greLen : 16);
  const b = new Uint8Array(size);
  macBytes(p.ethDst, b, 0);
  macBytes(p.ethSrc, b, 6);
  b[12] = 0x08;
  b[13] = 0x00;
  const ip = 14;
  b[ip] = 0x45;
  b[ip + 1] = p.tos;
  if (p.df) b[ip + 6] = 0x40;
  b[ip + 8] = p.ttl;
  b[ip + 9] = isGre ? 47 : 17;
  ipBytes(p.ipSrc, b, ip + 12);
  ipBytes(p.ipDst, b, ip + 16);
  const csum = ipChecksum(b, ip, 20);
  b[ip + 10] = csum >>> 8;
  b[ip + 11] = csum & 0xff;
  const l4 = ip + 20;
  const vni = Number((p.key ?? 0n) & 0xffffffn);
  if (isGre) {
    let flags = 0;
    if (p.csum) flags |= 0x8000;
    if (p.key !== undefined) flags |= 0x2000;
    b[l4] = flags >>> 8;
    b[l4 + 1] = flags & 0xff;
    b[l4 + 2] = 0x65;
    b[l4 + 3] = 0x58;
    if (p.key !== undefined) {
      const k = Number(p.key & 0xffffffffn);
      const at = l4 + 4 + (p.csum ? 4 : 0);
      b[at] = k >>> 24;
      b[at + 1] = (k >>> 16) & 0xff;
      b[at + 2] = (k >>> 8) & 0xff;
      b[at + 3] = k & 0xff;
    }
    return b;
  }
  b[l4 + 2] = p.dstPort >>> 8;
  b[l4 + 3] = p.dstPort & 0xff;
  if (p.csum) {
    b[l4 + 6] = 0xff;
    b[l4 + 7] = 0xff;
  }
  const t = l4 + 8;
  if (p.type === "vxlan") b[t] = 0x08;
  else {
    b[t + 2] = 0x65;
    b[t + 3] = 0x58;
  }
  b[t + 4] = vni >>> 16;
  b[t + 5] = (vni >>> 8) & 0xff;
  b[t + 6] = vni & 0xff;
  return b;
}
