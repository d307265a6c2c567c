/**
 * Parses datapath flow text, the syntax `dpctl/add-flow` takes and `dpctl/dump-flows`
 * prints, into a flow key and mask (lib/odp-util.c odp_flow_from_string).
 *
 * `field=value` means an exact match on that field, `field=value/mask` a masked one
 * (the value is kept as written, as OVS keeps and prints it),
 * an absent field or attribute is wildcarded, with two exceptions OVS makes: an absent
 * `recirc_id` means `recirc_id(0)`, and `eth_type(...)` without `vlan(...)` means
 * "untagged". `packet_type(ns=0,id=0)` (Ethernet) is recorded in `packetType`; other
 * packet types are rejected
 * (every ovsim flow is Ethernet). Anything else OVS knows but ovsim does not model
 * (ct_*, mpls, nsh, geneve options) is rejected with a message naming it.
 */
import {
  FLOW_NW_FRAG_ANY,
  FLOW_NW_FRAG_LATER,
  FLOW_NW_FRAG_MASK,
  FLOW_WORDS,
  type FlowKey,
  parseIpv4,
  parseIpv6,
  parseMac,
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
  W_VLAN0,
} from "../packet/index.js";
import { DATAPATH_ERROR_CODES, OdpParseError } from "./errors.js";
import {
  ODP_STRUCT_ATTRS,
  type OdpField,
  type OdpStructAttr,
  setFieldBits,
  setFieldExact,
  TCP_FLAG_NAMES,
  TUN_FLAG_NAMES,
} from "./odp-key-fields.js";
import { OdpCursor, parseUint } from "./odp-lexer.js";

export interface OdpFlowMatch {
  readonly key: FlowKey;
  readonly mask: FlowKey;
  /** Names of the attributes the text contained (inside encap(...) too). */
  readonly present: ReadonlySet<string>;
  /** The text matched `packet_type(ns=0,id=0)` exactly. */
  readonly packetType: boolean;
}

const SCALARS: Readonly<Record<string, number>> = {
  recirc_id: W_RECIRC_ID,
  dp_hash: W_DP_HASH,
  skb_priority: W_SKB_PRIORITY,
  skb_mark: W_PKT_MARK,
  in_port: W_IN_PORT,
};

const UNSUPPORTED = new Set([
  "ct_state",
  "ct_zone",
  "ct_mark",
  "ct_label",
  "ct_tuple4",
  "ct_tuple6",
  "mpls",
  "nsh",
  "geneve",
]);

/** Parses `recirc_id(0),in_port(1),eth(...),...` into a key and mask. */
export function parseOdpKey(text: string): OdpFlowMatch {
  const key = new Uint32Array(FLOW_WORDS);
  const mask = new Uint32Array(FLOW_WORDS);
  const c = new OdpCursor(text, DATAPATH_ERROR_CODES.BAD_KEY);
  const present = new Set<string>();
  const packetType = { exact: false };
  parseAttrList(c, key, mask, false, present, packetType);
  if (!c.atEnd()) c.fail("unexpected text after the flow key");
  if (mask[W_RECIRC_ID] === 0 && key[W_RECIRC_ID] === 0) mask[W_RECIRC_ID] = 0xffffffff;
  // An Ethernet type without vlan(...) means "no VLAN header", so tagged frames must
  // not match (OVS odp_flow_key_to_mask makes the TCI mask exact in that case).
  if (mask[W_DL_TYPE] !== 0 && mask[W_VLAN0] === 0) mask[W_VLAN0] = 0xffff;
  return { key, mask, present, packetType: packetType.exact };
}

function parseAttrList(
  c: OdpCursor,
  key: FlowKey,
  mask: FlowKey,
  inEncap: boolean,
  present: Set<string>,
  packetType: { exact: boolean },
): void {
  let pendingEthType = -1;
  let pendingEthMask = 0;
  while (!c.atEnd() && c.peek() !== ")") {
    const name = c.name();
    c.expect("(");
    present.add(name);
    if (name in SCALARS) {
      parseScalar(c, name, SCALARS[name], key, mask);
    } else if (name === "eth_type") {
      const v = parseUint(c.value(), 0xffff);
      if (v === null) c.fail("eth_type needs a 16-bit number");
      let m = 0xffff;
      if (c.eat("/")) {
        const mm = parseUint(c.value(), 0xffff);
        if (mm === null) c.fail("eth_type mask needs a 16-bit number");
        m = mm;
      }
      if (inEncap) {
        key[W_DL_TYPE] = v;
        mask[W_DL_TYPE] = m;
      } else {
        pendingEthType = v;
        pendingEthMask = m;
        key[W_DL_TYPE] = v;
        mask[W_DL_TYPE] = m;
      }
    } else if (name === "vlan") {
      if (inEncap || pendingEthType < 0) c.fail("vlan(...) must follow eth_type(0x8100)");
      key[W_DL_TYPE] = 0;
      mask[W_DL_TYPE] = 0;
      parseVlan(c, pendingEthType, pendingEthMask, key, mask);
    } else if (name === "encap") {
      parseAttrList(c, key, mask, true, present, packetType);
    } else if (name === "tcp_flags") {
      parseTcpFlags(c, key, mask);
    } else if (name === "packet_type") {
      const body = c.balanced().replace(/\s+/g, "");
      if (body === "ns=0,id=0") packetType.exact = true;
      else if (body !== "ns=0/0,id=0/0")
        c.fail(`only Ethernet flows are supported, not packet_type(${body})`);
    } else if (name in ODP_STRUCT_ATTRS) {
      parseStructAttr(c, name as OdpStructAttr, key, mask);
    } else if (UNSUPPORTED.has(name)) {
      c.fail(`ovsim's datapath does not support the "${name}" key attribute`);
    } else {
      c.fail(`unknown key attribute "${name}"`);
    }
    c.expect(")");
    if (!c.eat(",")) break;
  }
}

function parseScalar(c: OdpCursor, name: string, word: number, key: FlowKey, mask: FlowKey): void {
  const v = parseUint(c.value());
  if (v === null) c.fail(`${name} needs a 32-bit number`);
  let m = 0xffffffff;
  if (c.eat("/")) {
    const mm = parseUint(c.value());
    if (mm === null) c.fail(`${name} mask needs a 32-bit number`);
    m = mm;
  }
  key[word] = v;
  mask[word] = m;
}

function parseVlan(
  c: OdpCursor,
  tpid: number,
  tpidMask: number,
  key: FlowKey,
  mask: FlowKey,
): void {
  let tci = VLAN_CFI;
  let tciMask = VLAN_CFI;
  while (c.peek() !== ")") {
    const field = c.name();
    c.expect("=");
    const v = parseUint(c.value(), 0xfff);
    if (v === null) c.fail(`vlan ${field} needs a number`);
    let m = -1;
    if (c.eat("/")) {
      const mm = parseUint(c.value(), 0xfff);
      if (mm === null) c.fail(`vlan ${field} mask needs a number`);
      m = mm;
    }
    if (field === "vid") {
      tci = (tci & ~VLAN_VID_MASK) | (v & VLAN_VID_MASK);
      tciMask |= m < 0 ? VLAN_VID_MASK : m & VLAN_VID_MASK;
    } else if (field === "pcp") {
      tci = (tci & ~(7 << VLAN_PCP_SHIFT)) | ((v & 7) << VLAN_PCP_SHIFT);
      tciMask |= (m < 0 ? 7 : m & 7) << VLAN_PCP_SHIFT;
    } else if (field === "cfi") {
      if (v === 0) tci &= ~VLAN_CFI;
    } else {
      c.fail(`unknown vlan field "${field}"`);
    }
    if (!c.eat(",")) break;
  }
  key[W_VLAN0] = ((tpid << 16) | tci) >>> 0;
  mask[W_VLAN0] = ((tpidMask << 16) | tciMask) >>> 0;
}

function parseFlagNames(
  c: OdpCursor,
  body: string,
  names: readonly string[],
): { bits: number; mask: number; masked: boolean } {
  const t = body.trim();
  if (t === "0") return { bits: 0, mask: 0, masked: false };
  if (t.startsWith("+") || t.startsWith("-")) {
    let bits = 0;
    let mask = 0;
    const re = /([+-])([a-z0-9_]+)/g;
    let consumed = 0;
    for (let m = re.exec(t); m; m = re.exec(t)) {
      const bit = names.indexOf(m[2]);
      if (bit < 0) c.fail(`unknown flag "${m[2]}"`);
      mask |= 1 << bit;
      if (m[1] === "+") bits |= 1 << bit;
      consumed += m[0].length;
    }
    if (consumed !== t.length) c.fail(`bad flags "${t}"`);
    return { bits, mask, masked: true };
  }
  let bits = 0;
  for (const part of t.split("|")) {
    const bit = names.indexOf(part.trim());
    if (bit < 0) c.fail(`unknown flag "${part}"`);
    bits |= 1 << bit;
  }
  return { bits, mask: 0, masked: false };
}

function parseTcpFlags(c: OdpCursor, key: FlowKey, mask: FlowKey): void {
  const body = c.value();
  const num = parseUint(body, 0xffff);
  if (num !== null) {
    let m = 0xfff;
    if (c.eat("/")) {
      const mm = parseUint(c.value(), 0xffff);
      if (mm === null) c.fail("tcp_flags mask needs a number");
      m = mm & 0xfff;
    }
    key[W_TCP_FLAGS] = num;
    mask[W_TCP_FLAGS] = m;
    return;
  }
  const f = parseFlagNames(c, body, TCP_FLAG_NAMES);
  key[W_TCP_FLAGS] = f.bits;
  mask[W_TCP_FLAGS] = f.masked ? f.mask : 0xfff;
}

/**
 * Parses the fields of a structured attribute; the cursor is just past `name(`. Values
 * are kept as written, bits outside the mask included: OVS prints them back that way
 * (`src=00:00:00:00:00:01/ff:ff:ff:00:00:00`), and matching masks them anyway.
 */
export function parseStructAttr(
  c: OdpCursor,
  attr: OdpStructAttr,
  key: FlowKey,
  mask: FlowKey,
): void {
  const fields: readonly OdpField[] = ODP_STRUCT_ATTRS[attr];
  while (c.peek() !== ")") {
    const name = c.name();
    const field = fields.find((fd) => fd.name === name);
    if (!field) c.fail(`unknown field "${name}" in ${attr}(...)`);
    if (field.kind === "tunflags") {
      c.expect("(");
      const f = parseFlagNames(c, c.balanced(), TUN_FLAG_NAMES);
      c.expect(")");
      setFieldBits(field, key, f.bits);
      setFieldBits(field, mask, f.masked ? f.mask : 0xffff);
    } else {
      c.expect("=");
      parseFieldValue(c, field, c.value(), key);
      if (c.eat("/")) parseFieldMask(c, field, c.value(), mask);
      else setFieldExact(field, mask);
    }
    if (!c.eat(",")) break;
  }
}

function parseFieldValue(c: OdpCursor, field: OdpField, text: string, out: FlowKey): void {
  switch (field.kind) {
    case "mac": {
      const mac = parseMac(text);
      if (!mac) c.fail(`${field.name} needs a MAC address, got "${text}"`);
      out[field.word] = mac[0];
      out[field.word + 1] = mac[1];
      return;
    }
    case "ipv4": {
      const a = parseIpv4(text);
      if (a === undefined) c.fail(`${field.name} needs an IPv4 address, got "${text}"`);
      out[field.word] = a;
      return;
    }
    case "ipv6":
      if (!parseIpv6(text, out, field.word))
        c.fail(`${field.name} needs an IPv6 address, got "${text}"`);
      return;
    case "hex64": {
      if (!/^(0[xX][0-9a-fA-F]{1,16}|[0-9]+)$/.test(text))
        c.fail(`${field.name} needs a 64-bit number`);
      const v = BigInt(text);
      if (v > 0xffffffffffffffffn) c.fail(`${field.name} does not fit in 64 bits`);
      out[field.word] = Number(v >> 32n);
      out[field.word + 1] = Number(v & 0xffffffffn);
      return;
    }
    case "frag": {
      const v =
        text === "no"
          ? 0
          : text === "first"
            ? FLOW_NW_FRAG_ANY
            : text === "later"
              ? FLOW_NW_FRAG_ANY | FLOW_NW_FRAG_LATER
              : -1;
      if (v < 0) c.fail(`frag must be no, first or later, got "${text}"`);
      setFieldBits(field, out, v);
      return;
    }
    case "dec":
    case "hex": {
      const max = field.bits === 32 ? 0xffffffff : (1 << field.bits) - 1;
      const v = parseUint(text, max);
      if (v === null) c.fail(`${field.name} needs a number up to ${max}, got "${text}"`);
      setFieldBits(field, out, v);
      return;
    }
    case "tunflags":
      return;
  }
}

function parseFieldMask(c: OdpCursor, field: OdpField, text: string, mask: FlowKey): void {
  if (field.kind === "ipv4" && /^\d+$/.test(text)) {
    const len = Number(text);
    if (len > 32) c.fail(`prefix length ${len} is longer than 32`);
    mask[field.word] = len === 0 ? 0 : (0xffffffff << (32 - len)) >>> 0;
    return;
  }
  if (field.kind === "ipv6" && /^\d+$/.test(text)) {
    let len = Number(text);
    if (len > 128) c.fail(`prefix length ${len} is longer than 128`);
    for (let i = 0; i < 4; i++) {
      const l = Math.max(0, Math.min(32, len));
      mask[field.word + i] = l === 0 ? 0 : (0xffffffff << (32 - l)) >>> 0;
      len -= l;
    }
    return;
  }
  if (field.kind === "frag") {
    const v = parseUint(text, 0xff);
    if (v === null) c.fail("frag mask needs a number");
    setFieldBits(field, mask, v === 0xff ? FLOW_NW_FRAG_MASK : v & FLOW_NW_FRAG_MASK);
    return;
  }
  parseFieldValue(c, field, text, mask);
}

const L3_ATTR: Readonly<Record<number, string>> = {
  2048: "ipv4",
  34525: "ipv6",
  2054: "arp",
  32821: "arp",
};
const L4_ATTR: Readonly<Record<number, string>> = {
  6: "tcp",
  17: "udp",
  132: "sctp",
  1: "icmp",
  58: "icmpv6",
};

/**
 * What dpif-netdev demands of a flow it is asked to install (lib/odp-util.c
 * odp_flow_key_to_flow returning ODP_FIT_TOO_LITTLE): an Ethernet flow names its
 * eth_type, an IP or ARP eth_type comes with its L3 attribute, and an exact IP
 * protocol with its L4 attribute. Throws an OdpParseError naming what is missing.
 */
export function checkOdpKeyFit(match: OdpFlowMatch, text: string): void {
  const missing = (what: string) => {
    throw new OdpParseError(
      DATAPATH_ERROR_CODES.BAD_KEY,
      `flow key is incomplete: add ${what} (dpif-netdev rejects it otherwise)`,
      text,
      text.length,
    );
  };
  const { key, mask, present } = match;
  if (!present.has("eth_type")) missing("eth_type(...)");
  if ((mask[W_DL_TYPE] & 0xffff) !== 0xffff) return;
  const l3 = L3_ATTR[key[W_DL_TYPE] & 0xffff];
  if (l3 === undefined) return;
  if (!present.has(l3)) missing(`${l3}(...)`);
  if (l3 === "arp" || (mask[W_NW] & 0xff) !== 0xff) return;
  const l4 = L4_ATTR[key[W_NW] & 0xff];
  if (
    l4 !== undefined &&
    !(l4 === "icmp" && l3 !== "ipv4") &&
    !(l4 === "icmpv6" && l3 !== "ipv6") &&
    !present.has(l4)
  )
    missing(`${l4}(...)`);
}
