/**
 * The fields of each datapath flow-key attribute (`ipv4(src=..,dst=..)` ...), where
 * each lives in the flow-key layout, and how OVS prints it (lib/odp-util.c
 * format_odp_key_attr and its format_u8u/format_u8x/format_be16/... helpers).
 *
 * This table is shared by the printer (odp-key-format.ts), the parser
 * (odp-key-parse.ts) and `set(...)` actions, so the three cannot disagree.
 */
import {
  W_ARP_SHA_HI,
  W_ARP_THA_HI,
  W_DL_DST_HI,
  W_DL_SRC_HI,
  W_IPV6_DST,
  W_IPV6_LABEL,
  W_IPV6_SRC,
  W_ND_TARGET,
  W_NW,
  W_NW_DST,
  W_NW_SRC,
  W_TP,
  W_TUN_DST,
  W_TUN_FLAGS,
  W_TUN_ID_HI,
  W_TUN_IPV6_DST,
  W_TUN_IPV6_SRC,
  W_TUN_SRC,
  W_TUN_TOS_TTL,
  W_TUN_TP,
} from "../packet/index.js";

/**
 * How a field prints: `dec` is OVS format_u8u/format_be16 (`ttl=64`, mask `/0xf`),
 * `hex` is format_u8x/format_be32 (`%#x`: `tos=0`, `tos=0x4`), `frag` prints
 * no/first/later, `tunflags` prints `flags(...)`; the rest are addresses.
 */
export type OdpFieldKind = "dec" | "hex" | "hex64" | "mac" | "ipv4" | "ipv6" | "frag" | "tunflags";

export interface OdpField {
  readonly name: string;
  readonly kind: OdpFieldKind;
  /** First flow-key word (a MAC is hi word then lo word, IPv6 four words, hex64 two). */
  readonly word: number;
  /** For dec/hex/frag/tunflags: bit position and width inside `word`. */
  readonly shift: number;
  readonly bits: number;
}

function f(name: string, kind: OdpFieldKind, word: number, shift = 0, bits = 32): OdpField {
  return { name, kind, word, shift, bits };
}

const L4_PORTS = [f("src", "dec", W_TP, 16, 16), f("dst", "dec", W_TP, 0, 16)];
const ICMP = [f("type", "dec", W_TP, 16, 8), f("code", "dec", W_TP, 0, 8)];

/** Structured key attributes, fields in OVS's print order. */
export const ODP_STRUCT_ATTRS = {
  eth: [f("src", "mac", W_DL_SRC_HI), f("dst", "mac", W_DL_DST_HI)],
  ipv4: [
    f("src", "ipv4", W_NW_SRC),
    f("dst", "ipv4", W_NW_DST),
    f("proto", "dec", W_NW, 0, 8),
    f("tos", "hex", W_NW, 16, 8),
    f("ttl", "dec", W_NW, 8, 8),
    f("frag", "frag", W_NW, 24, 8),
  ],
  ipv6: [
    f("src", "ipv6", W_IPV6_SRC),
    f("dst", "ipv6", W_IPV6_DST),
    f("label", "hex", W_IPV6_LABEL, 0, 20),
    f("proto", "dec", W_NW, 0, 8),
    f("tclass", "hex", W_NW, 16, 8),
    f("hlimit", "dec", W_NW, 8, 8),
    f("frag", "frag", W_NW, 24, 8),
  ],
  tcp: L4_PORTS,
  udp: L4_PORTS,
  sctp: L4_PORTS,
  icmp: ICMP,
  icmpv6: ICMP,
  arp: [
    f("sip", "ipv4", W_NW_SRC),
    f("tip", "ipv4", W_NW_DST),
    f("op", "dec", W_NW, 0, 8),
    f("sha", "mac", W_ARP_SHA_HI),
    f("tha", "mac", W_ARP_THA_HI),
  ],
  nd: [
    f("target", "ipv6", W_ND_TARGET),
    f("sll", "mac", W_ARP_SHA_HI),
    f("tll", "mac", W_ARP_THA_HI),
  ],
  tunnel: [
    f("tun_id", "hex64", W_TUN_ID_HI),
    f("src", "ipv4", W_TUN_SRC),
    f("dst", "ipv4", W_TUN_DST),
    f("ipv6_src", "ipv6", W_TUN_IPV6_SRC),
    f("ipv6_dst", "ipv6", W_TUN_IPV6_DST),
    f("tos", "hex", W_TUN_TOS_TTL, 8, 8),
    f("ttl", "dec", W_TUN_TOS_TTL, 0, 8),
    f("tp_src", "dec", W_TUN_TP, 16, 16),
    f("tp_dst", "dec", W_TUN_TP, 0, 16),
    f("flags", "tunflags", W_TUN_FLAGS, 0, 16),
  ],
} as const satisfies Record<string, readonly OdpField[]>;

export type OdpStructAttr = keyof typeof ODP_STRUCT_ATTRS;

/** Tunnel flag names by bit (lib/flow.c flow_tun_flag_to_string). */
export const TUN_FLAG_NAMES = ["df", "csum", "key", "oam"] as const;
/** TCP flag names by bit (lib/packets.c packet_tcp_flag_to_string). */
export const TCP_FLAG_NAMES = [
  "fin",
  "syn",
  "rst",
  "psh",
  "ack",
  "urg",
  "ece",
  "cwr",
  "ns",
] as const;

/** Bits of the field's value/mask in `words`. */
export function fieldBits(field: OdpField, words: Uint32Array): number {
  const v = words[field.word] >>> field.shift;
  return field.bits === 32 ? v >>> 0 : v & ((1 << field.bits) - 1);
}

/** Writes the field's bits into `words`, leaving other bits of the word alone. */
export function setFieldBits(field: OdpField, words: Uint32Array, value: number): void {
  if (field.bits === 32) {
    words[field.word] = value >>> 0;
    return;
  }
  const m = ((1 << field.bits) - 1) << field.shift;
  words[field.word] = ((words[field.word] & ~m) | ((value << field.shift) & m)) >>> 0;
}

/** Number of flow-key words a field spans. */
export function fieldWords(field: OdpField): number {
  switch (field.kind) {
    case "mac":
    case "hex64":
      return 2;
    case "ipv6":
      return 4;
    default:
      return 1;
  }
}

/** True if the field's mask is all zeros (the field is wildcarded). */
export function fieldIsWild(field: OdpField, mask: Uint32Array): boolean {
  if (field.kind === "mac" || field.kind === "hex64" || field.kind === "ipv6") {
    for (let i = 0; i < fieldWords(field); i++) if (mask[field.word + i] !== 0) return false;
    return true;
  }
  return fieldBits(field, mask) === 0;
}

/** Sets the field's mask to all ones. */
export function setFieldExact(field: OdpField, mask: Uint32Array): void {
  if (field.kind === "mac") {
    mask[field.word] = 0xffff;
    mask[field.word + 1] = 0xffffffff;
  } else if (field.kind === "hex64" || field.kind === "ipv6") {
    for (let i = 0; i < fieldWords(field); i++) mask[field.word + i] = 0xffffffff;
  } else if (field.kind === "frag") {
    setFieldBits(field, mask, 3);
  } else {
    setFieldBits(field, mask, field.bits === 32 ? 0xffffffff : (1 << field.bits) - 1);
  }
}

/** True if the field's mask is all ones. */
export function fieldIsExact(field: OdpField, mask: Uint32Array): boolean {
  const probe = new Uint32Array(mask.length);
  setFieldExact(field, probe);
  for (let i = 0; i < fieldWords(field); i++) {
    const w = field.word + i;
    if ((mask[w] & probe[w]) >>> 0 !== probe[w]) return false;
  }
  return true;
}
