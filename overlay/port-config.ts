/**
 * A tunnel port's configuration, parsed once from its OVSDB-style options
 * (`options:remote_ip`, `local_ip`, `key`/`in_key`/`out_key`, `dst_port`, `ttl`, `tos`,
 * `csum`, `df_default`), as OVS's lib/netdev-vport.c set_tunnel_config reads them.
 *
 * Numbers use sentinels so the per-packet path reads plain fields: FLOW (-1) for "take
 * it from the flow", ABSENT (-2) for "not configured".
 */
import { parseIpv4 } from "../packet/index.js";
import { OVERLAY_ERROR_CODES, OverlayError } from "./errors.js";
import { GENEVE_PORT } from "./geneve.js";
import type { TunnelType } from "./tunnel-header.js";
import { VXLAN_PORT } from "./vxlan.js";

export const TUNNEL_TYPES: readonly TunnelType[] = ["vxlan", "gre", "geneve"];

export const FLOW = -1;
export const ABSENT = -2;
/** options:tos=inherit: copy the inner IPv4 TOS. */
export const TOS_INHERIT = -1;
export const DEFAULT_TTL = 64;

/** Bytes the outer headers add to the inner Ethernet frame, counting the outer Ethernet header. */
export const TUNNEL_OVERHEAD: Readonly<Record<TunnelType, number>> = {
  vxlan: 14 + 20 + 8 + 8,
  geneve: 14 + 20 + 8 + 8,
  gre: 14 + 20 + 4,
};

export interface TunnelPortConfig {
  readonly portNo: number;
  readonly name: string;
  readonly type: TunnelType;
  /** Host-order IPv4, FLOW, or ABSENT. */
  readonly remoteIp: number;
  readonly localIp: number;
  /** uint32, FLOW, or ABSENT (no key: GRE sends none, VXLAN/Geneve VNI 0). */
  readonly inKey: number;
  readonly outKey: number;
  /** UDP destination port (0 for GRE). */
  readonly dstPort: number;
  readonly ttl: number;
  /** 0..255 or TOS_INHERIT. */
  readonly tos: number;
  readonly csum: boolean;
  readonly df: boolean;
}

function bad(name: string, option: string, value: string, need: string): never {
  throw new OverlayError(
    OVERLAY_ERROR_CODES.BAD_PORT_OPTION,
    `Tunnel port "${name}": options:${option}=${value} is invalid; ${need}`,
  );
}

function ip(name: string, option: string, v: string | undefined, allowFlow: boolean): number {
  if (v === undefined) return ABSENT;
  if (v === "flow" && allowFlow) return FLOW;
  const n = parseIpv4(v);
  if (n === undefined)
    bad(name, option, v, `use a dotted IPv4 address${allowFlow ? ' or "flow"' : ""}`);
  return n!;
}

function key(name: string, option: string, v: string | undefined): number {
  if (v === undefined) return ABSENT;
  if (v === "flow") return FLOW;
  const n = /^0x[0-9a-f]+$/i.test(v)
    ? Number.parseInt(v, 16)
    : /^\d+$/.test(v)
      ? Number(v)
      : Number.NaN;
  if (!(n >= 0 && n <= 0xffffffff))
    bad(name, option, v, 'use a number from 0 to 4294967295 or "flow"');
  return n;
}

/** Parses a port's options; throws OverlayError naming the option on a bad value. */
export function parseTunnelPortConfig(
  portNo: number,
  name: string,
  type: TunnelType,
  options: Readonly<Record<string, string>>,
): TunnelPortConfig {
  const remoteIp = ip(name, "remote_ip", options.remote_ip, true);
  if (remoteIp === ABSENT)
    bad(name, "remote_ip", "(missing)", 'a tunnel needs remote_ip (an address or "flow")');
  const k = key(name, "key", options.key);
  const inKey = options.in_key !== undefined ? key(name, "in_key", options.in_key) : k;
  const outKey = options.out_key !== undefined ? key(name, "out_key", options.out_key) : k;
  let dstPort = type === "vxlan" ? VXLAN_PORT : type === "geneve" ? GENEVE_PORT : 0;
  if (options.dst_port !== undefined) {
    const p = Number(options.dst_port);
    if (type === "gre" || !Number.isInteger(p) || p < 1 || p > 65535)
      bad(
        name,
        "dst_port",
        options.dst_port,
        type === "gre" ? "GRE has no UDP port" : "use 1..65535",
      );
    dstPort = p;
  }
  let ttl = DEFAULT_TTL;
  if (options.ttl !== undefined) {
    ttl = Number(options.ttl);
    if (!Number.isInteger(ttl) || ttl < 1 || ttl > 255) bad(name, "ttl", options.ttl, "use 1..255");
  }
  let tos = 0;
  if (options.tos === "inherit") tos = TOS_INHERIT;
  else if (options.tos !== undefined) {
    tos = Number(options.tos);
    if (!Number.isInteger(tos) || tos < 0 || tos > 255)
      bad(name, "tos", options.tos, 'use 0..255 or "inherit"');
  }
  return {
    portNo,
    name,
    type,
    remoteIp,
    localIp: ip(name, "local_ip", options.local_ip, true),
    inKey,
    outKey,
    dstPort,
    ttl,
    tos,
    csum: options.csum === "true",
    df: options.df_default !== "false",
  };
}
