/**
 * The outer headers of a userspace (native) tunnel push, as OVS's `tnl_push` datapath
 * action carries them, printed the way lib/odp-util.c `format_odp_tnl_push_header`
 * prints them: `header(size=50,type=4,eth(...),ipv4(...),udp(...),vxlan(...))`.
 *
 * It builds the text for translation and traces. The bytes come from one place, the
 * datapath's parser of that text (datapath/tnl-push-header.ts): encodeTunnelHeader
 * prints, then parses, so text and bytes cannot disagree. Filling the per-packet
 * fields (lengths, checksums, UDP source port) is the tnl_push hook's (tunnel-stack.ts).
 */
import {
  buildTnlPushHeader,
  OVS_VPORT_TYPE_GENEVE,
  OVS_VPORT_TYPE_GRE,
  OVS_VPORT_TYPE_VXLAN,
} from "../datapath/index.js";
import { internetChecksum } from "../packet/index.js";

export type TunnelType = "vxlan" | "gre" | "geneve";

/** OVS_VPORT_TYPE_* numbers, as the header's `type=` prints them. */
export const VPORT_TYPE: Readonly<Record<TunnelType, number>> = {
  gre: OVS_VPORT_TYPE_GRE,
  vxlan: OVS_VPORT_TYPE_VXLAN,
  geneve: OVS_VPORT_TYPE_GENEVE,
};

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

/**
 * The outer header bytes tnl_push prepends (what `header(...)` describes), built by
 * the datapath's tnl_push parser from the printed text, with the IPv4 header checksum
 * of the template (total length 0) filled as OVS's netdev_tnl_ip_build_header does.
 */
export function encodeTunnelHeader(p: TunnelHeaderParams): Uint8Array {
  const m = /^header\(size=(\d+),type=(\d+),(.*)\)$/.exec(formatTunnelHeader(p))!;
  const b = buildTnlPushHeader(m[3], Number(m[1]), Number(m[2]));
  const c = internetChecksum(b, 14, 20);
  b[24] = c >>> 8;
  b[25] = c & 0xff;
  return b;
}
