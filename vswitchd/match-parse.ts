/**
 * The ovs-ofctl match parser: turns `tcp,nw_dst=10.0.0.0/24,tp_dst=0x50/0xfff0` into a
 * (value, mask) pair of flow keys, as lib/ofp-parse.c and lib/meta-flow.c do.
 *
 * Promises: every field of fields.ts with its masks and value syntaxes (decimal, hex,
 * MAC, IPv4 with prefix or dotted mask, IPv6, nw_frag words); the protocol shorthands;
 * `dl_vlan`/`dl_vlan_pcp`; in_port by number, `LOCAL` or port name. Like ovs-ofctl
 * (OpenFlow 1.0 normalisation), a field whose prerequisites the match does not meet is
 * dropped from the match, not kept.
 *
 * It does not parse flow-mod keywords or actions (flow-mod.ts, actions.ts).
 */
import * as K from "../packet/index.js";
import { BadMatchError } from "./errors.js";
import {
  fieldMaxMask,
  findField,
  type MatchField,
  type Prereq,
  prereqOk,
  setField,
} from "./fields.js";

export interface Match {
  readonly key: Uint32Array;
  readonly mask: Uint32Array;
}

export function newMatch(): Match {
  return { key: K.newFlowKey(), mask: K.newFlowKey() };
}

export const OFPP_MAX = 0xff00;
export const OFPP_IN_PORT = 0xfff8;
export const OFPP_TABLE = 0xfff9;
export const OFPP_NORMAL = 0xfffa;
export const OFPP_FLOOD = 0xfffb;
export const OFPP_ALL = 0xfffc;
export const OFPP_CONTROLLER = 0xfffd;
export const OFPP_LOCAL = 0xfffe;
export const OFPP_NONE = 0xffff;

export const SPECIAL_PORTS: Readonly<Record<string, number>> = {
  IN_PORT: OFPP_IN_PORT,
  TABLE: OFPP_TABLE,
  NORMAL: OFPP_NORMAL,
  FLOOD: OFPP_FLOOD,
  ALL: OFPP_ALL,
  CONTROLLER: OFPP_CONTROLLER,
  LOCAL: OFPP_LOCAL,
  NONE: OFPP_NONE,
  ANY: OFPP_NONE,
};

/** Resolves a port name to its OpenFlow number; undefined if unknown. */
export type PortResolver = (name: string) => number | undefined;

/** Parses a port: number, special name (LOCAL, IN_PORT...) or a named port. */
export function parsePort(text: string, resolve?: PortResolver): number {
  const up = text.toUpperCase();
  if (up in SPECIAL_PORTS) return SPECIAL_PORTS[up]!;
  if (/^(0x[0-9a-f]+|\d+)$/i.test(text)) {
    const n = Number(text);
    if (n > 0xffff) throw new BadMatchError(`${text}: port is out of range`);
    return n;
  }
  const byName = resolve?.(text);
  if (byName === undefined) throw new BadMatchError(`${text}: invalid or unknown port`);
  return byName;
}

const PROTOCOLS: Readonly<Record<string, readonly [number, number | undefined]>> = {
  ip: [0x0800, undefined],
  ipv4: [0x0800, undefined],
  ipv6: [0x86dd, undefined],
  arp: [0x0806, undefined],
  rarp: [0x8035, undefined],
  icmp: [0x0800, 1],
  icmp6: [0x86dd, 58],
  tcp: [0x0800, 6],
  tcp6: [0x86dd, 6],
  udp: [0x0800, 17],
  udp6: [0x86dd, 17],
  sctp: [0x0800, 132],
  sctp6: [0x86dd, 132],
  igmp: [0x0800, 2],
};

/** Splits on commas outside parentheses and brackets. */
export function splitTopLevel(text: string, sep = ","): string[] {
  const out: string[] = [];
  let depth = 0;
  let start = 0;
  for (let i = 0; i < text.length; i++) {
    const c = text[i];
    if (c === "(" || c === "[") depth++;
    else if (c === ")" || c === "]") depth--;
    else if (c === sep && depth === 0) {
      out.push(text.slice(start, i));
      start = i + 1;
    }
  }
  out.push(text.slice(start));
  return out.map((s) => s.trim()).filter((s) => s.length > 0);
}

function parseNumber(text: string, what: string): bigint {
  if (!/^(0x[0-9a-f]+|\d+)$/i.test(text)) throw new BadMatchError(`${text}: invalid ${what}`);
  return BigInt(text);
}

export function parseMac(text: string): bigint {
  const m =
    /^([0-9a-f]{1,2}):([0-9a-f]{1,2}):([0-9a-f]{1,2}):([0-9a-f]{1,2}):([0-9a-f]{1,2}):([0-9a-f]{1,2})$/i.exec(
      text,
    );
  if (!m) throw new BadMatchError(`${text}: invalid Ethernet address`);
  let v = 0n;
  for (let i = 1; i <= 6; i++) v = (v << 8n) | BigInt(Number.parseInt(m[i]!, 16));
  return v;
}

export function parseIpv4(text: string): bigint {
  const parts = text.split(".");
  if (parts.length !== 4 || parts.some((x) => !/^\d{1,3}$/.test(x) || Number(x) > 255)) {
    throw new BadMatchError(`${text}: invalid IP address`);
  }
  return parts.reduce((v, x) => (v << 8n) | BigInt(Number(x)), 0n);
}

export function parseIpv6(text: string): bigint {
  let head = text;
  let tail4: bigint | undefined;
  const lastColon = text.lastIndexOf(":");
  if (text.includes(".")) {
    tail4 = parseIpv4(text.slice(lastColon + 1));
    head = `${text.slice(0, lastColon + 1)}0:0`;
  }
  const halves = head.split("::");
  if (halves.length > 2) throw new BadMatchError(`${text}: invalid IPv6 address`);
  const left = halves[0] ? halves[0].split(":") : [];
  const right = halves.length === 2 && halves[1] ? halves[1].split(":") : [];
  const fill = halves.length === 2 ? 8 - left.length - right.length : 0;
  const groups = [...left, ...Array<string>(Math.max(fill, 0)).fill("0"), ...right];
  if (groups.length !== 8 || groups.some((g) => !/^[0-9a-f]{1,4}$/i.test(g))) {
    throw new BadMatchError(`${text}: invalid IPv6 address`);
  }
  let v = groups.reduce((acc, g) => (acc << 16n) | BigInt(Number.parseInt(g, 16)), 0n);
  if (tail4 !== undefined) v = (v & ~0xffffffffn) | tail4;
  return v;
}

function prefixMask(bits: number, len: number, text: string): bigint {
  if (!Number.isInteger(len) || len < 0 || len > bits) {
    throw new BadMatchError(`${text}: invalid prefix length`);
  }
  return len === 0 ? 0n : ((1n << BigInt(len)) - 1n) << BigInt(bits - len);
}

const TCP_FLAG_BITS: Readonly<Record<string, number>> = {
  fin: 0x001,
  syn: 0x002,
  rst: 0x004,
  psh: 0x008,
  ack: 0x010,
  urg: 0x020,
  ece: 0x040,
  cwr: 0x080,
  ns: 0x100,
};

const TUN_FLAG_BITS: Readonly<Record<string, number>> = { df: 1, csum: 2, key: 4, oam: 8 };

function parseFrag(text: string): [bigint, bigint] {
  switch (text) {
    case "no":
      return [0n, 3n];
    case "yes":
      return [1n, 1n];
    case "first":
      return [1n, 3n];
    case "later":
      return [3n, 3n];
    case "not_later":
      return [0n, 2n];
    default:
      throw new BadMatchError(
        `${text}: unknown fragment type (valid types are "no", "yes", "first", "later", "not_later"`,
      );
  }
}

/** Parses one field value (with optional /mask) as ovs-ofctl does. Returns [value, mask]. */
export function parseFieldValue(
  f: MatchField,
  text: string,
  resolve?: PortResolver,
): [bigint, bigint] {
  const full = fieldMaxMask(f);
  if (f.format === "frag") return parseFrag(text);
  if (f.format === "port") return [BigInt(parsePort(text, resolve)), full];
  if (f.name === "tcp_flags" && /^[+-a-z]/i.test(text) && !/^0x/i.test(text)) {
    // "+syn-ack" (masked) or "syn|ack" (exact).
    if (/^[+-]/.test(text)) {
      let v = 0n;
      let m = 0n;
      for (const tok of text.match(/[+-][a-z]+/g) ?? []) {
        const bit = TCP_FLAG_BITS[tok.slice(1)];
        if (bit === undefined) throw new BadMatchError(`${text}: unknown TCP flag(s)`);
        m |= BigInt(bit);
        if (tok[0] === "+") v |= BigInt(bit);
      }
      return [v, m];
    }
    let v = 0n;
    for (const name of text.split("|")) {
      const bit = TCP_FLAG_BITS[name];
      if (bit === undefined) throw new BadMatchError(`${text}: unknown TCP flag(s)`);
      v |= BigInt(bit);
    }
    return [v, full];
  }
  if (f.format === "tunflags" && /^[+-]/.test(text)) {
    let v = 0n;
    let m = 0n;
    for (const tok of text.match(/[+-][a-z]+/g) ?? []) {
      const bit = TUN_FLAG_BITS[tok.slice(1)];
      if (bit === undefined) throw new BadMatchError(`${text}: unknown tunnel flag(s)`);
      m |= BigInt(bit);
      if (tok[0] === "+") v |= BigInt(bit);
    }
    return [v, m];
  }
  const slash = text.indexOf("/");
  const vText = slash < 0 ? text : text.slice(0, slash);
  const mText = slash < 0 ? undefined : text.slice(slash + 1);
  let value: bigint;
  let mask = full;
  switch (f.format) {
    case "mac":
      value = parseMac(vText);
      if (mText !== undefined) mask = parseMac(mText);
      break;
    case "ipv4":
      value = parseIpv4(vText);
      if (mText !== undefined) {
        mask = mText.includes(".") ? parseIpv4(mText) : prefixMask(32, Number(mText), text);
      }
      break;
    case "ipv6":
      value = parseIpv6(vText);
      if (mText !== undefined) {
        mask = mText.includes(":") ? parseIpv6(mText) : prefixMask(128, Number(mText), text);
      }
      break;
    case "tos":
      value = parseNumber(vText, f.name) >> 2n;
      if (mText !== undefined) mask = parseNumber(mText, "mask") >> 2n;
      break;
    default:
      value = parseNumber(vText, f.name);
      if (mText !== undefined) mask = parseNumber(mText, "mask");
  }
  if (mText !== undefined && !f.maskable) {
    throw new BadMatchError(`${f.name}: this field cannot be masked`);
  }
  if (value > full) throw new BadMatchError(`${text}: value too large for ${f.name}`);
  return [value & mask & full, mask & full];
}

function setVlan(m: Match, vidOrPcp: "vid" | "pcp", text: string): void {
  const n = Number(text);
  if (!Number.isInteger(n)) throw new BadMatchError(`${text}: invalid VLAN`);
  const tci = m.key[K.W_VLAN0]! & 0xffff;
  const tm = m.mask[K.W_VLAN0]! & 0xffff;
  let nt: number;
  let nm: number;
  if (vidOrPcp === "vid") {
    if (n === 0xffff) {
      nt = 0;
      nm = 0xffff;
    } else {
      nt = (tci & ~0x1fff) | K.VLAN_CFI | (n & K.VLAN_VID_MASK);
      nm = tm | K.VLAN_CFI | K.VLAN_VID_MASK;
    }
  } else {
    nt = (tci & ~0xe000) | K.VLAN_CFI | ((n & 7) << K.VLAN_PCP_SHIFT);
    nm = tm | K.VLAN_CFI | 0xe000;
  }
  m.key[K.W_VLAN0] = ((m.key[K.W_VLAN0]! & 0xffff0000) | nt) >>> 0;
  m.mask[K.W_VLAN0] = ((m.mask[K.W_VLAN0]! & 0xffff0000) | nm) >>> 0;
}

/** A field the match sets, remembered so prerequisites are checked once all are known. */
interface Pending {
  readonly f: MatchField;
  readonly value: bigint;
  readonly mask: bigint;
}

/**
 * Applies one `name` or `name=value` match token to `m`. Returns false if the token is
 * not a match field (the caller may then treat it as a flow-mod keyword).
 */
function applyToken(
  m: Match,
  pending: Pending[],
  name: string,
  value: string | undefined,
  resolve?: PortResolver,
): boolean {
  const proto = PROTOCOLS[name];
  if (proto && value === undefined) {
    setField(m.key, findField("dl_type")!, BigInt(proto[0]));
    setField(m.mask, findField("dl_type")!, 0xffffn);
    if (proto[1] !== undefined) {
      setField(m.key, findField("nw_proto")!, BigInt(proto[1]));
      setField(m.mask, findField("nw_proto")!, 0xffn);
    }
    return true;
  }
  if (value === undefined) return false;
  if (name === "dl_vlan" || name === "dl_vlan_pcp") {
    setVlan(m, name === "dl_vlan" ? "vid" : "pcp", value);
    return true;
  }
  if (name === "vlan_vid") {
    // OXM's vlan_vid: OFPVID_PRESENT (0x1000) is the CFI bit.
    const [v, mk] = value.includes("/")
      ? value.split("/").map((x) => Number(x))
      : [Number(value), 0x1fff];
    m.key[K.W_VLAN0] = ((m.key[K.W_VLAN0]! & ~0x1fff) | (v! & mk!)) >>> 0;
    m.mask[K.W_VLAN0] = (m.mask[K.W_VLAN0]! | mk!) >>> 0;
    return true;
  }
  const f = findField(name);
  if (!f) return false;
  const [v, mk] = parseFieldValue(f, value, resolve);
  setField(m.key, f, v, mk);
  setField(m.mask, f, mk);
  // match_set_ipv6_label() masks all 32 bits of an exact label.
  if (f.name === "ipv6_label" && mk === 0xfffffn) m.mask[K.W_IPV6_LABEL] = 0xffffffff;
  pending.push({ f, value: v, mask: mk });
  return true;
}

function prereqFieldsSet(m: Match, prereq: Prereq): boolean {
  // Prerequisites are checked against the match's own exact values (OVS's
  // mf_are_prereqs_ok on the match), so dl_type/nw_proto must be fully masked.
  const t = m.mask[K.W_DL_TYPE]! & 0xffff;
  const p = (m.mask[K.W_NW]! >>> K.NW_PROTO_SHIFT) & 0xff;
  const key = m.key.slice();
  if (t !== 0xffff) key[K.W_DL_TYPE] = 0;
  if (p !== 0xff) key[K.W_NW] = key[K.W_NW]! & ~(0xff << K.NW_PROTO_SHIFT);
  return prereqOk(prereq, key);
}

export interface ParsedTokens {
  readonly match: Match;
  /** Tokens that were not match fields, in order, as [name, value?]. */
  readonly rest: Array<[string, string | undefined]>;
}

/**
 * Parses a comma-separated match (no actions) into a Match. Unknown tokens are
 * returned in `rest` when `allowRest`, otherwise they are errors.
 */
export function parseMatchTokens(
  tokens: readonly string[],
  resolve?: PortResolver,
  allowRest = false,
): ParsedTokens {
  const m = newMatch();
  const pending: Pending[] = [];
  const rest: Array<[string, string | undefined]> = [];
  for (const tok of tokens) {
    const eq = tok.search(/[=:]/);
    const name = eq < 0 ? tok : tok.slice(0, eq).trim();
    const value = eq < 0 ? undefined : tok.slice(eq + 1).trim();
    if (!applyToken(m, pending, name, value, resolve)) {
      if (!allowRest) throw new BadMatchError(`${tok}: unknown field ${name}`);
      rest.push([name, value]);
    }
  }
  for (const pd of pending) {
    if (!prereqFieldsSet(m, pd.f.prereq)) {
      // OVS normalises such a match (ofpbuf "normalization changed ofp_match"):
      // the field is dropped rather than the flow refused.
      setField(m.key, pd.f, 0n);
      setField(m.mask, pd.f, 0n);
    }
  }
  return { match: m, rest };
}

export function parseMatch(text: string, resolve?: PortResolver): Match {
  return parseMatchTokens(splitTopLevel(text), resolve).match;
}
