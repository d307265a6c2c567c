/**
 * Prints a (flow, mask) pair as OVS's lib/match.c `match_format` does: the text of
 * `ovs-ofctl dump-flows` matches, of trace's `Megaflow:` line, and, through
 * `formatFlow`, of `Flow:` and `Final flow:` (lib/flow.c `flow_format`).
 *
 * `formatFlow` uses packet/'s flow_format(); `formatMatch` is this module's own
 * match_format() over the fields of fields.ts (not conntrack, MPLS or NSH), and
 * `formatFlowLocal` the matching flow_format(), kept as a cross-check of packet/'s.
 */
import * as K from "../packet/index.js";
import {
  ETH_TYPE_ARP,
  ETH_TYPE_IP,
  ETH_TYPE_IPV6,
  ETH_TYPE_RARP,
  findField,
  getField,
  type MatchField,
} from "./fields.js";
import { OFPP_CONTROLLER, OFPP_LOCAL, OFPP_NONE } from "./match-parse.js";

export interface FormatOptions {
  /** Prints in_port by name when it returns one. */
  readonly portName?: (ofport: number) => string | undefined;
  /** A priority other than 32768 is printed first, as `priority=N`. */
  readonly priority?: number;
  /** Printing a packet's flow (flow_format) rather than a match. */
  readonly packet?: boolean;
}

const F = (n: string): MatchField => findField(n)!;

export function formatMac(v: bigint): string {
  const out: string[] = [];
  for (let i = 5; i >= 0; i--)
    out.push(
      Number((v >> BigInt(8 * i)) & 0xffn)
        .toString(16)
        .padStart(2, "0"),
    );
  return out.join(":");
}

export function formatIpv4(v: bigint | number): string {
  const n = Number(v) >>> 0;
  return `${n >>> 24}.${(n >>> 16) & 255}.${(n >>> 8) & 255}.${n & 255}`;
}

/** RFC 5952 text, as inet_ntop prints it. */
export function formatIpv6(v: bigint): string {
  const g: number[] = [];
  for (let i = 7; i >= 0; i--) g.push(Number((v >> BigInt(16 * i)) & 0xffffn));
  let bestStart = -1;
  let bestLen = 0;
  for (let i = 0; i < 8; ) {
    if (g[i] !== 0) {
      i++;
      continue;
    }
    let j = i;
    while (j < 8 && g[j] === 0) j++;
    if (j - i > bestLen && j - i >= 2) {
      bestStart = i;
      bestLen = j - i;
    }
    i = j;
  }
  const hex = (a: number[]) => a.map((x) => x.toString(16)).join(":");
  if (bestStart < 0) return hex(g);
  return `${hex(g.slice(0, bestStart))}::${hex(g.slice(bestStart + bestLen))}`;
}

/** Prefix length if `mask` is a CIDR mask of `bits` bits, else -1. */
export function cidrLen(mask: bigint, bits: number): number {
  const inv = ~mask & ((1n << BigInt(bits)) - 1n);
  if ((inv & (inv + 1n)) !== 0n) return -1;
  let len = bits;
  for (let x = inv; x; x >>= 1n) len--;
  return len;
}

const PORT_NAMES: Readonly<Record<number, string>> = {
  65528: "IN_PORT",
  65529: "TABLE",
  65530: "NORMAL",
  65531: "FLOOD",
  65532: "ALL",
  [OFPP_CONTROLLER]: "CONTROLLER",
  [OFPP_LOCAL]: "LOCAL",
  [OFPP_NONE]: "NONE",
};

export function formatPort(port: number, portName?: (p: number) => string | undefined): string {
  const special = PORT_NAMES[port];
  if (special) return special;
  return portName?.(port) ?? String(port);
}

const TCP_FLAG_NAMES: ReadonlyArray<[number, string]> = [
  [0x001, "fin"],
  [0x002, "syn"],
  [0x004, "rst"],
  [0x008, "psh"],
  [0x010, "ack"],
  [0x020, "urg"],
  [0x040, "ece"],
  [0x080, "cwr"],
  [0x100, "ns"],
];
const TUN_FLAG_NAMES: ReadonlyArray<[number, string]> = [
  [1, "df"],
  [2, "csum"],
  [4, "key"],
  [8, "oam"],
];

function formatFlags(
  names: ReadonlyArray<[number, string]>,
  v: number,
  m: number,
  full: number,
): string {
  if (m === full) {
    const set = names.filter(([b]) => v & b).map(([, n]) => n);
    return set.length ? set.join("|") : "0";
  }
  return names
    .filter(([b]) => m & b)
    .map(([b, n]) => `${v & b ? "+" : "-"}${n}`)
    .join("");
}

/** Formats a `value/mask` pair for one field the way match_format does. */
function fmtField(
  out: string[],
  name: string,
  f: MatchField,
  key: Uint32Array,
  mask: Uint32Array,
): void {
  const m = getField(mask, f);
  if (m === 0n) return;
  const v = getField(key, f) & m;
  const full = (1n << BigInt(f.bits)) - 1n;
  switch (f.format) {
    case "mac":
      out.push(m === full ? `${name}=${formatMac(v)}` : `${name}=${formatMac(v)}/${formatMac(m)}`);
      return;
    case "ipv4": {
      const len = cidrLen(m, 32);
      if (m === full) out.push(`${name}=${formatIpv4(v)}`);
      else out.push(`${name}=${formatIpv4(v)}/${len >= 0 ? len : formatIpv4(m)}`);
      return;
    }
    case "ipv6": {
      const len = cidrLen(m, 128);
      if (m === full) out.push(`${name}=${formatIpv6(v)}`);
      else out.push(`${name}=${formatIpv6(v)}/${len >= 0 ? len : formatIpv6(m)}`);
      return;
    }
    default:
      break;
  }
  if (f.bits === 16 || f.bits === 8) {
    // format_be16_masked / format_u8: decimal when exact, hex pair otherwise.
    out.push(m === full ? `${name}=${v}` : `${name}=0x${v.toString(16)}/0x${m.toString(16)}`);
    return;
  }
  // format_uint32_masked / format_be64_masked: "%#x".
  const hx = (x: bigint) => (x === 0n ? "0" : `0x${x.toString(16)}`);
  out.push(m === full ? `${name}=${hx(v)}` : `${name}=${hx(v)}/${hx(m)}`);
}

/**
 * The match as ovs-ofctl/ofproto-trace print it (no trailing comma). `eth` (the
 * packet type) is printed when recirc_id is in the mask, as it is in megaflows.
 * (packet/'s formatMatch agrees on 1,600 recorded megaflows except one: OVS prints
 * a 20-bit ipv6_label mask as partial, its full mask being 32 bits.)
 */
export function formatMatch(key: Uint32Array, mask: Uint32Array, opts: FormatOptions = {}): string {
  const out: string[] = [];
  if (opts.priority !== undefined && opts.priority !== 32768) out.push(`priority=${opts.priority}`);
  fmtField(out, "recirc_id", F("recirc_id"), key, mask);
  fmtField(out, "dp_hash", F("dp_hash"), key, mask);
  fmtField(out, "skb_priority", F("skb_priority"), key, mask);
  fmtField(out, "pkt_mark", F("pkt_mark"), key, mask);
  if (mask[K.W_RECIRC_ID]) out.push("eth");

  const dlTypeMasked = (mask[K.W_DL_TYPE]! & 0xffff) === 0xffff;
  const dlType = key[K.W_DL_TYPE]! & 0xffff;
  const protoMasked = ((mask[K.W_NW]! >>> K.NW_PROTO_SHIFT) & 0xff) === 0xff;
  const proto = (key[K.W_NW]! >>> K.NW_PROTO_SHIFT) & 0xff;
  let skipType = false;
  let skipProto = false;
  if (dlTypeMasked) {
    const isV4 = dlType === ETH_TYPE_IP;
    const isV6 = dlType === ETH_TYPE_IPV6;
    if (isV4 || isV6) {
      skipType = true;
      const names: Record<number, string> = isV4
        ? { 1: "icmp", 2: "igmp", 6: "tcp", 17: "udp", 132: "sctp" }
        : { 58: "icmp6", 6: "tcp6", 17: "udp6", 132: "sctp6" };
      if (protoMasked && names[proto]) {
        out.push(names[proto]!);
        skipProto = true;
      } else out.push(isV4 ? "ip" : "ipv6");
    } else if (dlType === ETH_TYPE_ARP) {
      out.push("arp");
      skipType = true;
    } else if (dlType === ETH_TYPE_RARP) {
      out.push("rarp");
      skipType = true;
    }
  }
  // A packet's flow (flow_format) also shows tunnel fields ovsim does not model, as 0.
  const extras = opts.packet === true && (mask[K.W_TUN_DST] !== 0 || mask[K.W_TUN_SRC] !== 0);
  for (const n of [
    "tun_id",
    "tun_src",
    "tun_dst",
    "tun_ipv6_src",
    "tun_ipv6_dst",
    "tun_tos",
    "tun_ttl",
  ]) {
    if (n === "tun_tos" && extras) out.push("tun_gbp_id=0", "tun_gbp_flags=0");
    fmtField(out, n, F(n), key, mask);
  }
  if (extras) out.push("tun_erspan_ver=0", "gtpu_flags=0", "gtpu_msgtype=0");
  for (const n of ["tun_tp_src", "tun_tp_dst"]) fmtField(out, n, F(n), key, mask);
  const tfm = mask[K.W_TUN_FLAGS]! & 0xffff;
  if (tfm) {
    const s = formatFlags(TUN_FLAG_NAMES, key[K.W_TUN_FLAGS]! & 0xffff, tfm, 0xffff);
    out.push(`tun_flags=${s}`);
  }
  fmtField(out, "metadata", F("metadata"), key, mask);
  for (let i = 0; i < K.FLOW_N_REGS; i++) fmtField(out, `reg${i}`, F(`reg${i}`), key, mask);
  if (mask[K.W_IN_PORT])
    out.push(`in_port=${formatPort(key[K.W_IN_PORT]! & 0xffff, opts.portName)}`);
  for (let i = 0; i < K.FLOW_MAX_VLAN_HEADERS; i++) {
    const tm = mask[K.W_VLAN0 + i]! & 0xffff;
    if (!tm) break;
    const tci = key[K.W_VLAN0 + i]! & 0xffff;
    const sfx = i === 0 ? "" : String(i);
    const vidM = tm & K.VLAN_VID_MASK;
    const pcpM = tm & 0xe000;
    if (
      tm & K.VLAN_CFI &&
      tci & K.VLAN_CFI &&
      (!vidM || vidM === 0xfff) &&
      (!pcpM || pcpM === 0xe000) &&
      (vidM || pcpM)
    ) {
      if (vidM) out.push(`dl_vlan${sfx}=${tci & 0xfff}`);
      if (pcpM) out.push(`dl_vlan_pcp${sfx}=${tci >>> 13}`);
    } else if (tm === 0xffff) {
      out.push(`vlan_tci${sfx}=0x${(tci & tm).toString(16).padStart(4, "0")}`);
    } else {
      out.push(
        `vlan_tci${sfx}=0x${(tci & tm).toString(16).padStart(4, "0")}/0x${tm.toString(16).padStart(4, "0")}`,
      );
    }
  }
  fmtField(out, "dl_src", F("dl_src"), key, mask);
  fmtField(out, "dl_dst", F("dl_dst"), key, mask);
  if (!skipType && mask[K.W_DL_TYPE]! & 0xffff)
    out.push(`dl_type=0x${dlType.toString(16).padStart(4, "0")}`);
  const isArp = dlType === ETH_TYPE_ARP || dlType === ETH_TYPE_RARP;
  if (dlType === ETH_TYPE_IPV6) {
    fmtField(out, "ipv6_src", F("ipv6_src"), key, mask);
    fmtField(out, "ipv6_dst", F("ipv6_dst"), key, mask);
    const lwm = mask[K.W_IPV6_LABEL]! >>> 0;
    const lm = lwm === 0xffffffff ? 0xfffff : lwm & 0xfffff;
    if (lm) {
      const lv = (key[K.W_IPV6_LABEL]! & lm).toString(16).padStart(5, "0");
      out.push(
        lwm === 0xffffffff
          ? `ipv6_label=0x${lv}`
          : `ipv6_label=0x${lv}/0x${lm.toString(16).padStart(5, "0")}`,
      );
    }
  } else {
    fmtField(out, isArp ? "arp_spa" : "nw_src", F("nw_src"), key, mask);
    fmtField(out, isArp ? "arp_tpa" : "nw_dst", F("nw_dst"), key, mask);
  }
  if (!skipProto && (mask[K.W_NW]! >>> K.NW_PROTO_SHIFT) & 0xff) {
    out.push(isArp ? `arp_op=${proto}` : `nw_proto=${proto}`);
  }
  if (isArp) {
    fmtField(out, "arp_sha", F("arp_sha"), key, mask);
    fmtField(out, "arp_tha", F("arp_tha"), key, mask);
  }
  const tosM = (mask[K.W_NW]! >>> K.NW_TOS_SHIFT) & 0xff;
  const tos = (key[K.W_NW]! >>> K.NW_TOS_SHIFT) & 0xff;
  if (tosM & 0xfc) out.push(`nw_tos=${tos & 0xfc}`);
  if (tosM & 0x03) out.push(`nw_ecn=${tos & 0x03}`);
  if ((mask[K.W_NW]! >>> K.NW_TTL_SHIFT) & 0xff)
    out.push(`nw_ttl=${(key[K.W_NW]! >>> K.NW_TTL_SHIFT) & 0xff}`);
  const fragM = (mask[K.W_NW]! >>> K.NW_FRAG_SHIFT) & 3;
  const frag = (key[K.W_NW]! >>> K.NW_FRAG_SHIFT) & 3;
  if (fragM === 3)
    out.push(`nw_frag=${frag & 1 ? (frag & 2 ? "later" : "first") : frag & 2 ? "<error>" : "no"}`);
  else if (fragM === 1) out.push(`nw_frag=${frag & 1 ? "yes" : "no"}`);
  else if (fragM === 2) out.push(`nw_frag=${frag & 2 ? "later" : "not_later"}`);
  const isIcmp =
    (dlType === ETH_TYPE_IP && proto === 1) || (dlType === ETH_TYPE_IPV6 && proto === 58);
  const tpM = mask[K.W_TP]!;
  const tp = key[K.W_TP]!;
  const be16 = (name: string, v: number, m: number) => {
    if (!m) return;
    out.push(
      m === 0xffff ? `${name}=${v & m}` : `${name}=0x${(v & m).toString(16)}/0x${m.toString(16)}`,
    );
  };
  if (isIcmp) {
    be16("icmp_type", tp >>> 16, tpM >>> 16);
    be16("icmp_code", tp & 0xffff, tpM & 0xffff);
    if (dlType === ETH_TYPE_IPV6) {
      fmtField(out, "nd_target", F("nd_target"), key, mask);
      fmtField(out, "nd_sll", F("nd_sll"), key, mask);
      fmtField(out, "nd_tll", F("nd_tll"), key, mask);
    }
  } else {
    be16("tp_src", tp >>> 16, tpM >>> 16);
    be16("tp_dst", tp & 0xffff, tpM & 0xffff);
  }
  const tcpFm = mask[K.W_TCP_FLAGS]! & 0xfff;
  if (tcpFm) {
    out.push(`tcp_flags=${formatFlags(TCP_FLAG_NAMES, key[K.W_TCP_FLAGS]! & 0xfff, tcpFm, 0xfff)}`);
  }
  return out.join(",");
}

/** The mask OVS's flow_wildcards_init_for_packet gives a packet's flow. */
export function packetMask(flow: Uint32Array): Uint32Array {
  const m = K.newFlowKey();
  const all = (w: number, n = 1) => m.fill(0xffffffff, w, w + n);
  if (flow[K.W_TUN_DST] || flow[K.W_TUN_IPV6_DST]) {
    // tun_id shows only with the key flag (flow_wildcards_init_for_packet).
    if (flow[K.W_TUN_FLAGS]! & K.FLOW_TNL_F_KEY) all(K.W_TUN_ID_HI, 2);
    all(K.W_TUN_SRC, 2);
    all(K.W_TUN_IPV6_SRC, 8);
    m[K.W_TUN_FLAGS] = 0xffff;
    m[K.W_TUN_TOS_TTL] = 0xffff;
  } else if (flow[K.W_TUN_ID_HI] || flow[K.W_TUN_ID_LO]) all(K.W_TUN_ID_HI, 2);
  all(K.W_METADATA_HI, 2);
  all(K.W_REG0, K.FLOW_N_REGS);
  all(K.W_SKB_PRIORITY, 5);
  m[K.W_IN_PORT] = 0xffff;
  for (let i = 0; i < K.FLOW_MAX_VLAN_HEADERS; i++) {
    m[K.W_VLAN0 + i] = 0xffff;
    if (!(flow[K.W_VLAN0 + i]! & K.VLAN_CFI)) break;
  }
  all(K.W_DL_DST_HI, 5);
  const t = flow[K.W_DL_TYPE]! & 0xffff;
  const proto = flow[K.W_NW]! & 0xff;
  if (t === ETH_TYPE_IP || t === ETH_TYPE_IPV6) {
    if (t === ETH_TYPE_IP) all(K.W_NW_SRC, 2);
    else {
      all(K.W_IPV6_SRC, 8);
      m[K.W_IPV6_LABEL] = 0xffffffff;
    }
    m[K.W_NW] = 0x03ffffff;
    if (!(flow[K.W_NW]! & (2 << K.NW_FRAG_SHIFT))) {
      if (proto === 6 || proto === 17 || proto === 132) m[K.W_TP] = 0xffffffff;
      if (proto === 6) m[K.W_TCP_FLAGS] = 0xfff;
      if (proto === 1 || proto === 58) m[K.W_TP] = 0xffffffff;
      if (t === ETH_TYPE_IPV6 && proto === 58) {
        const type = flow[K.W_TP]! >>> 16;
        if (type === 135 || type === 136) {
          all(K.W_ND_TARGET, 4);
          all(K.W_ARP_SHA_HI, 4);
        }
      }
    }
  } else if (t === ETH_TYPE_ARP || t === ETH_TYPE_RARP) {
    all(K.W_NW_SRC, 2);
    m[K.W_NW] = 0xff;
    all(K.W_ARP_SHA_HI, 4);
  }
  return m;
}

/** A flow as lib/flow.c flow_format prints it (zero context fields left out). */
export function formatFlow(flow: Uint32Array, opts: FormatOptions = {}): string {
  return K.formatFlow(flow, opts.portName ? { portName: opts.portName } : {});
}

/** This module's own flow_format(), kept as a cross-check of packet/'s. */
export function formatFlowLocal(flow: Uint32Array, opts: FormatOptions = {}): string {
  const m = packetMask(flow);
  const zeroOut = (w: number, n = 1) => {
    let any = false;
    for (let i = 0; i < n; i++) if (flow[w + i]) any = true;
    if (!any) m.fill(0, w, w + n);
  };
  if (!(flow[K.W_IN_PORT]! & 0xffff)) m[K.W_IN_PORT] = 0;
  zeroOut(K.W_SKB_PRIORITY);
  zeroOut(K.W_PKT_MARK);
  zeroOut(K.W_RECIRC_ID);
  zeroOut(K.W_DP_HASH);
  for (let i = 0; i < K.FLOW_N_REGS; i++) zeroOut(K.W_REG0 + i);
  zeroOut(K.W_METADATA_HI, 2);
  return formatMatch(flow, m, { ...opts, packet: true });
}
