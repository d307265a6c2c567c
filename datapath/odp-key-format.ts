/**
 * Prints a megaflow's key and mask in the datapath flow syntax of `ovs-appctl
 * dpctl/dump-flows` (lib/odp-util.c odp_flow_format, non-verbose):
 *
 *   recirc_id(0),in_port(1),eth(src=..,dst=..),eth_type(0x0800),
 *   ipv4(src=10.0.0.1,dst=10.0.0.0/255.255.255.0,proto=6,frag=no),tcp(dst=80)
 *
 * Rules, as OVS: attributes print in netlink order (skb_priority, tunnel, skb_mark,
 * recirc_id, dp_hash, in_port, eth, [eth_type(tpid),vlan(...),encap(]eth_type,
 * l3, l4, tcp_flags, nd[)]); a wildcarded attribute is left out (eth() stays, as in
 * OVS's dumps of Ethernet flows); inside an attribute a wildcarded field is left out;
 * a partly masked field prints `value/mask`.
 *
 * It does not print OVS's verbose form (`-m`: ufid, `skb_mark(0/0)`, port names).
 */
import {
  FLOW_NW_FRAG_ANY,
  FLOW_NW_FRAG_LATER,
  type FlowKey,
  formatIpv4,
  formatIpv6,
  formatMac,
  VLAN_CFI,
  VLAN_PCP_SHIFT,
  VLAN_VID_MASK,
  W_DL_TYPE,
  W_DP_HASH,
  W_IN_PORT,
  W_NW,
  W_PKT_MARK,
  W_RECIRC_ID,
  W_SKB_PRIORITY,
  W_TCP_FLAGS,
  W_TP,
  W_VLAN0,
} from "../packet/index.js";
import {
  fieldBits,
  fieldIsExact,
  fieldIsWild,
  ODP_STRUCT_ATTRS,
  type OdpField,
  type OdpStructAttr,
  TCP_FLAG_NAMES,
  TUN_FLAG_NAMES,
} from "./odp-key-fields.js";

const ETH_TYPE_IPV4 = 0x0800;
const ETH_TYPE_IPV6 = 0x86dd;
const ETH_TYPE_ARP = 0x0806;
const ETH_TYPE_RARP = 0x8035;
const IPPROTO_TCP = 6;
const IPPROTO_UDP = 17;
const IPPROTO_SCTP = 132;
const IPPROTO_ICMP = 1;
const IPPROTO_ICMPV6 = 58;

/** `%#x` as C prints it: "0" for zero, "0x1f" otherwise. */
export function hexAlt(v: number): string {
  return v === 0 ? "0" : `0x${(v >>> 0).toString(16)}`;
}

function hex64Alt(hi: number, lo: number): string {
  if (hi === 0 && lo === 0) return "0";
  if (hi === 0) return `0x${(lo >>> 0).toString(16)}`;
  return `0x${(hi >>> 0).toString(16)}${(lo >>> 0).toString(16).padStart(8, "0")}`;
}

/** `name=value[/mask]` for one field, or "" when `mask` wildcards it. `mask` null: exact. */
export function formatField(field: OdpField, key: FlowKey, mask: FlowKey | null): string {
  if (mask && fieldIsWild(field, mask)) return "";
  const exact = mask === null || fieldIsExact(field, mask);
  const w = field.word;
  switch (field.kind) {
    case "mac": {
      const v = formatMac(key[w], key[w + 1]);
      return `${field.name}=${exact ? v : `${v}/${formatMac(mask![w], mask![w + 1])}`}`;
    }
    case "ipv4": {
      const v = formatIpv4(key[w]);
      return `${field.name}=${exact ? v : `${v}/${formatIpv4(mask![w])}`}`;
    }
    case "ipv6": {
      const v = formatIpv6(key, w);
      return `${field.name}=${exact ? v : `${v}/${formatIpv6(mask!, w)}`}`;
    }
    case "hex64": {
      const v = hex64Alt(key[w], key[w + 1]);
      return `${field.name}=${exact ? v : `${v}/${hex64Alt(mask![w], mask![w + 1])}`}`;
    }
    case "frag": {
      const bits = fieldBits(field, key);
      const v =
        (bits & FLOW_NW_FRAG_ANY) === 0
          ? "no"
          : (bits & FLOW_NW_FRAG_LATER) !== 0
            ? "later"
            : "first";
      return `frag=${exact ? v : `${v}/${hexAlt(fieldBits(field, mask!))}`}`;
    }
    case "tunflags":
      return mask === null
        ? formatFlags(fieldBits(field, key), TUN_FLAG_NAMES, "flags(", ")", true)
        : formatFlagsMasked(
            fieldBits(field, key),
            fieldBits(field, mask),
            TUN_FLAG_NAMES,
            "flags(",
            ")",
          );
    case "dec":
    case "hex": {
      const v = fieldBits(field, key);
      const text = field.kind === "dec" ? String(v) : hexAlt(v);
      return `${field.name}=${exact ? text : `${text}/${hexAlt(fieldBits(field, mask!))}`}`;
    }
  }
}

/** `attr(f1=..,f2=..)` with wildcarded fields left out; null mask prints non-zero fields. */
export function formatStructAttr(
  attr: OdpStructAttr,
  key: FlowKey,
  mask: FlowKey | null,
  skipZeroValues = false,
): string {
  const parts: string[] = [];
  for (const field of ODP_STRUCT_ATTRS[attr]) {
    if (skipZeroValues && fieldIsWild(field, key)) continue;
    const s = formatField(field, key, mask);
    if (s) parts.push(s);
  }
  return `${attr}(${parts.join(",")})`;
}

function attrIsWild(attr: OdpStructAttr, mask: FlowKey): boolean {
  for (const field of ODP_STRUCT_ATTRS[attr]) if (!fieldIsWild(field, mask)) return false;
  return true;
}

/** OVS format_flags(): `a|b`, or "0" when none. */
function formatFlags(
  bits: number,
  names: readonly string[],
  open: string,
  close: string,
  skipEmpty = false,
): string {
  const out: string[] = [];
  for (let i = 0; i < 16; i++) {
    if (!(bits & (1 << i))) continue;
    out.push(names[i] ?? `[${(1 << i).toString(16)}]`);
  }
  if (out.length === 0 && skipEmpty) return "";
  return `${open}${out.length ? out.join("|") : "0"}${close}`;
}

/** OVS format_flags_masked(): `+a-b` over the bits of the mask. */
function formatFlagsMasked(
  bits: number,
  mask: number,
  names: readonly string[],
  open: string,
  close: string,
): string {
  let s = open;
  for (let i = 0; i < 16; i++) {
    if (!(mask & (1 << i))) continue;
    s += `${bits & (1 << i) ? "+" : "-"}${names[i] ?? `[${(1 << i).toString(16)}]`}`;
  }
  return s + close;
}

function scalar(name: string, v: number, m: number, full: number, dec: boolean): string {
  const vs = dec ? String(v >>> 0) : hexAlt(v);
  return m >>> 0 === full ? `${name}(${vs})` : `${name}(${vs}/${hexAlt(m)})`;
}

function formatVlan(tci: number, mask: number): string {
  const parts: string[] = [];
  const vid = tci & VLAN_VID_MASK;
  const vidMask = mask & VLAN_VID_MASK;
  if (vid || vidMask)
    parts.push(vidMask === VLAN_VID_MASK ? `vid=${vid}` : `vid=${vid}/0x${vidMask.toString(16)}`);
  const pcp = (tci >>> VLAN_PCP_SHIFT) & 7;
  const pcpMask = (mask >>> VLAN_PCP_SHIFT) & 7;
  if (pcp || pcpMask)
    parts.push(pcpMask === 7 ? `pcp=${pcp}` : `pcp=${pcp}/0x${pcpMask.toString(16)}`);
  if (!(tci & VLAN_CFI)) parts.push("cfi=0");
  return parts.join(",");
}

/** The vlan(...) body for push_vlan and keys (OVS format_vlan_tci). */
export function formatVlanTci(tci: number, mask = 0xffff): string {
  return formatVlan(tci, mask);
}

/** The L3/L4 part of a key: eth_type and what follows it. */
function formatL3Up(key: FlowKey, mask: FlowKey, out: string[]): void {
  const dlType = key[W_DL_TYPE] & 0xffff;
  const dlMask = mask[W_DL_TYPE] & 0xffff;
  if (dlMask === 0) return;
  out.push(
    dlMask === 0xffff
      ? `eth_type(0x${dlType.toString(16).padStart(4, "0")})`
      : `eth_type(0x${dlType.toString(16).padStart(4, "0")}/0x${dlMask.toString(16).padStart(4, "0")})`,
  );
  if (dlMask !== 0xffff) return;
  let l3: OdpStructAttr | null = null;
  if (dlType === ETH_TYPE_IPV4) l3 = "ipv4";
  else if (dlType === ETH_TYPE_IPV6) l3 = "ipv6";
  else if (dlType === ETH_TYPE_ARP || dlType === ETH_TYPE_RARP) l3 = "arp";
  if (l3 === null) return;
  if (!attrIsWild(l3, mask)) out.push(formatStructAttr(l3, key, mask));
  if (l3 === "arp") return;
  const proto = key[W_NW] & 0xff;
  if ((mask[W_NW] & 0xff) !== 0xff) return;
  let l4: OdpStructAttr | null = null;
  if (proto === IPPROTO_TCP) l4 = "tcp";
  else if (proto === IPPROTO_UDP) l4 = "udp";
  else if (proto === IPPROTO_SCTP) l4 = "sctp";
  else if (proto === IPPROTO_ICMP && l3 === "ipv4") l4 = "icmp";
  else if (proto === IPPROTO_ICMPV6 && l3 === "ipv6") l4 = "icmpv6";
  if (l4 === null) return;
  if (!attrIsWild(l4, mask)) out.push(formatStructAttr(l4, key, mask));
  if (proto === IPPROTO_TCP && (mask[W_TCP_FLAGS] & 0xfff) !== 0) {
    const bits = key[W_TCP_FLAGS] & 0xfff;
    const m = mask[W_TCP_FLAGS] & 0xfff;
    out.push(
      m === 0xfff
        ? formatFlags(bits, TCP_FLAG_NAMES, "tcp_flags(", ")")
        : formatFlagsMasked(bits, m, TCP_FLAG_NAMES, "tcp_flags(", ")"),
    );
  }
  if (l4 === "icmpv6" && !attrIsWild("nd", mask)) {
    const type = (key[W_TP] >>> 16) & 0xff;
    if (type === 135 || type === 136) out.push(formatStructAttr("nd", key, mask));
  }
}

/**
 * The key/mask of a megaflow as `dpctl/dump-flows` prints it. `packetType`: the
 * megaflow matches packet_type exactly, as every megaflow vswitchd installs does
 * (OVS prints `packet_type(ns=0,id=0)` after in_port then).
 */
export function formatOdpKey(
  key: FlowKey,
  mask: FlowKey,
  options: { packetType?: boolean } = {},
): string {
  const out: string[] = [];
  if (mask[W_SKB_PRIORITY] !== 0)
    out.push(scalar("skb_priority", key[W_SKB_PRIORITY], mask[W_SKB_PRIORITY], 0xffffffff, false));
  if (!attrIsWild("tunnel", mask)) out.push(formatStructAttr("tunnel", key, mask));
  if (mask[W_PKT_MARK] !== 0)
    out.push(scalar("skb_mark", key[W_PKT_MARK], mask[W_PKT_MARK], 0xffffffff, false));
  if (mask[W_RECIRC_ID] !== 0)
    out.push(scalar("recirc_id", key[W_RECIRC_ID], mask[W_RECIRC_ID], 0xffffffff, false));
  if (mask[W_DP_HASH] !== 0)
    out.push(scalar("dp_hash", key[W_DP_HASH], mask[W_DP_HASH], 0xffffffff, false));
  if (mask[W_IN_PORT] !== 0)
    out.push(scalar("in_port", key[W_IN_PORT], mask[W_IN_PORT], 0xffffffff, true));
  if (options.packetType) out.push("packet_type(ns=0,id=0)");
  out.push(formatStructAttr("eth", key, mask));
  const vlanMask = mask[W_VLAN0];
  if (vlanMask !== 0 && (key[W_VLAN0] & VLAN_CFI || key[W_VLAN0] >>> 16 !== 0)) {
    const tpid = key[W_VLAN0] >>> 16;
    out.push(`eth_type(0x${tpid.toString(16).padStart(4, "0")})`);
    out.push(`vlan(${formatVlan(key[W_VLAN0] & 0xffff, vlanMask & 0xffff)})`);
    const inner: string[] = [];
    formatL3Up(key, mask, inner);
    out.push(`encap(${inner.join(",")})`);
  } else {
    formatL3Up(key, mask, out);
  }
  return out.join(",");
}
