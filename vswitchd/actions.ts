/**
 * OpenFlow actions in ovs-ofctl syntax (lib/ofp-actions.c): their parsed form, the
 * parser, and the printer used by dump-flows and trace.
 *
 * Promises: every action listed in OfAction parses and prints back the way ovs-ofctl
 * prints it; an action ovsim does not implement (`learn`, `bundle`, `multipath`,
 * `group`, `ct`...) is refused with UnsupportedActionError, never ignored.
 *
 * It does not execute actions; xlate.ts does.
 */
import { BadActionError, UnsupportedActionError } from "./errors.js";
import { fieldMaxMask, findField, type MatchField } from "./fields.js";
import { formatIpv4, formatIpv6, formatMac, formatPort } from "./match-format.js";
import {
  OFPP_CONTROLLER,
  OFPP_IN_PORT,
  type PortResolver,
  parseFieldValue,
  parsePort,
  splitTopLevel,
} from "./match-parse.js";

/** A field with a bit range, as in `NXM_NX_REG0[0..3]` (ofs from the LSB). */
export interface SubField {
  readonly field: MatchField;
  readonly ofs: number;
  readonly nbits: number;
  /** How it was written, for printing back. */
  readonly text: string;
}

export type OfAction =
  | { readonly t: "output"; readonly port: number; readonly maxLen: number }
  | { readonly t: "output_reg"; readonly src: SubField }
  | {
      readonly t: "controller";
      readonly maxLen: number;
      readonly reason: number;
      readonly id: number;
    }
  | {
      readonly t: "set_field";
      readonly field: MatchField;
      readonly value: bigint;
      readonly mask: bigint;
      /** How it was written (mod_dl_src, set_field, load, set_tunnel...): its checks differ. */
      readonly text: string;
      /** How OVS prints it back, when that differs from `text` (OpenFlow 1.0 encodings). */
      readonly display?: string;
    }
  | { readonly t: "move"; readonly src: SubField; readonly dst: SubField }
  | { readonly t: "push_vlan"; readonly tpid: number }
  | { readonly t: "pop_vlan"; readonly text: string }
  | { readonly t: "mod_vlan_vid"; readonly vid: number; readonly push: boolean }
  | { readonly t: "mod_vlan_pcp"; readonly pcp: number; readonly push: boolean }
  | { readonly t: "dec_ttl"; readonly ids: readonly number[] }
  | { readonly t: "exit" }
  | {
      readonly t: "resubmit";
      readonly port: number | undefined;
      readonly table: number | undefined;
      readonly text: string;
    }
  | { readonly t: "goto_table"; readonly table: number }
  | {
      readonly t: "write_metadata";
      readonly value: bigint;
      readonly mask: bigint;
      readonly text: string;
    }
  | { readonly t: "clone"; readonly actions: readonly OfAction[] }
  | { readonly t: "note"; readonly text: string }
  | ({ readonly t: "learn" } & LearnSpec)
  | { readonly t: "drop" };

const UNSUPPORTED = new Set([
  "bundle",
  "bundle_load",
  "multipath",
  "group",
  "ct",
  "ct_clear",
  "enqueue",
  "set_queue",
  "pop_queue",
  "meter",
  "sample",
  "push_mpls",
  "pop_mpls",
  "set_mpls_label",
  "set_mpls_tc",
  "set_mpls_ttl",
  "dec_mpls_ttl",
  "fin_timeout",
  "conjunction",
  "write_actions",
  "clear_actions",
  "check_pkt_larger",
  "encap",
  "decap",
  "nat",
  "stack_push",
  "stack_pop",
  "mod_nw_ttl_ignored",
]);

function num(text: string, what: string): number {
  if (!/^(0x[0-9a-f]+|\d+)$/i.test(text.trim()))
    throw new BadActionError(`${text}: invalid ${what}`);
  return Number(text.trim());
}

/** Parses `NXM_NX_REG0[]`, `reg0[0..3]`, `NXM_OF_ETH_SRC[8]`. */
export function parseSubField(text: string): SubField {
  const m = /^([A-Za-z0-9_]+)\[(?:(\d+)(?:\.\.(\d+))?)?\]$/.exec(text.trim());
  if (!m) throw new BadActionError(`${text}: invalid field syntax (expected NAME[] or NAME[a..b])`);
  const field = findField(m[1]!);
  if (!field) throw new BadActionError(`${m[1]}: unknown field`);
  let ofs = 0;
  let nbits = field.bits;
  if (m[2] !== undefined) {
    ofs = Number(m[2]);
    const end = m[3] !== undefined ? Number(m[3]) : ofs;
    nbits = end - ofs + 1;
    if (end < ofs || end >= field.bits)
      throw new BadActionError(`${text}: bit range out of field ${field.name}`);
  }
  return { field, ofs, nbits, text: text.trim() };
}

/** One field spec of learn(): a match on `dst`, a load into `dst`, or an output. */
export interface LearnFieldSpec {
  readonly kind: "match" | "load" | "output";
  /** Source: a field of the packet being translated, or an immediate value. */
  readonly src: SubField | bigint;
  readonly dst: SubField | undefined;
}

/** learn(...) (lib/learn.c): the flow it adds, built from the packet at hand. */
export interface LearnSpec {
  readonly table: number;
  readonly priority: number;
  readonly idleTimeout: number;
  readonly hardTimeout: number;
  readonly cookie: bigint;
  readonly specs: readonly LearnFieldSpec[];
  readonly text: string;
}

/** A learn() source or destination: `NAME[a..b]` or a plain field name (whole field). */
function learnSubField(text: string): SubField {
  const t = text.trim();
  if (t.includes("[")) return parseSubField(t);
  const f = findField(t);
  if (!f) throw new BadActionError(`${t}: unknown field in learn`);
  return { field: f, ofs: 0, nbits: f.bits, text: `${t}` };
}

function learnImmediate(dst: SubField, text: string): bigint {
  // Immediates take the destination field's syntax when whole (a MAC, an IP).
  if (dst.ofs === 0 && dst.nbits === dst.field.bits && !/^(0x[0-9a-f]+|\d+)$/i.test(text)) {
    return parseFieldValue(dst.field, text)[0];
  }
  return BigInt(num(text, "learn value"));
}

function parseLearn(arg: string, tok: string): OfAction {
  let table = 1;
  let priority = 32768;
  let idleTimeout = 0;
  let hardTimeout = 0;
  let cookie = 0n;
  const specs: LearnFieldSpec[] = [];
  for (const part of splitTopLevel(arg)) {
    const eq = part.indexOf("=");
    const key = eq < 0 ? part : part.slice(0, eq);
    const val = eq < 0 ? "" : part.slice(eq + 1);
    if (key === "table") table = num(val, "table");
    else if (key === "priority") priority = num(val, "priority");
    else if (key === "idle_timeout") idleTimeout = num(val, "idle_timeout");
    else if (key === "hard_timeout") hardTimeout = num(val, "hard_timeout");
    else if (key === "cookie") cookie = BigInt(num(val, "cookie"));
    else if (key === "fin_idle_timeout" || key === "fin_hard_timeout" || key === "send_flow_rem")
      continue;
    else if (key === "delete_learned" || key === "limit" || key === "result_dst") {
      throw new UnsupportedActionError(`learn(${key})`);
    } else if (part.startsWith("load:")) {
      const m = /^load:(.*)->(.*)$/.exec(part);
      if (!m) throw new BadActionError(`${part}: learn load syntax is load:SRC->DST[]`);
      const dst = parseSubField(m[2]!);
      const src = m[1]!.includes("[")
        ? parseSubField(m[1]!)
        : BigInt(num(m[1]!, "learn load value"));
      specs.push({ kind: "load", src, dst });
    } else if (part.startsWith("output:")) {
      specs.push({ kind: "output", src: parseSubField(part.slice(7)), dst: undefined });
    } else if (eq >= 0) {
      const dst = learnSubField(key);
      // A source is a field (`NAME[..]` or a bare field name) or an immediate value.
      const src =
        val.includes("[") || findField(val.trim()) ? learnSubField(val) : learnImmediate(dst, val);
      if (typeof src !== "bigint" && src.nbits !== dst.nbits) {
        throw new BadActionError(`${part}: learn source and destination widths differ`);
      }
      specs.push({ kind: "match", src, dst });
    } else {
      const f = learnSubField(part);
      specs.push({ kind: "match", src: f, dst: f });
    }
  }
  return { t: "learn", table, priority, idleTimeout, hardTimeout, cookie, specs, text: tok };
}

export type SetFieldAction = Extract<OfAction, { t: "set_field" }>;

function setField(field: MatchField, value: bigint, mask: bigint, text: string): SetFieldAction {
  return { t: "set_field", field, value: value & mask, mask, text };
}

function fieldByName(name: string): MatchField {
  const f = findField(name);
  if (!f) throw new BadActionError(`${name}: unknown field`);
  return f;
}

/** Parses an action list (`output:1,mod_dl_src:...`); `drop` alone gives []. */
export function parseActions(text: string, resolve?: PortResolver, of13 = false): OfAction[] {
  const out: OfAction[] = [];
  for (const tok of splitTopLevel(text)) out.push(parseAction(tok, resolve, of13));
  if (out.length === 1 && out[0]!.t === "drop") return [];
  if (out.some((a) => a.t === "drop")) throw new BadActionError("drop must be the only action");
  return out;
}

function parseAction(tok: string, resolve: PortResolver | undefined, of13: boolean): OfAction {
  const paren = /^([a-z_0-9]+)\((.*)\)$/is.exec(tok);
  const sep = tok.search(/[:=]/);
  const name = (paren ? paren[1]! : sep < 0 ? tok : tok.slice(0, sep)).trim();
  const arg = paren ? paren[2]! : sep < 0 ? "" : tok.slice(sep + 1).trim();
  const lname = name.toLowerCase();
  const upper = name.toUpperCase();
  if (
    !paren &&
    sep < 0 &&
    upper in { IN_PORT: 1, NORMAL: 1, FLOOD: 1, ALL: 1, LOCAL: 1, TABLE: 1 }
  ) {
    return { t: "output", port: parsePort(upper), maxLen: 0 };
  }
  if (!paren && sep < 0 && /^\d+$/.test(name))
    return { t: "output", port: Number(name), maxLen: 0 };
  if (UNSUPPORTED.has(lname)) throw new UnsupportedActionError(lname);
  switch (lname) {
    case "drop":
      return { t: "drop" };
    case "output":
      if (arg.includes("[")) return { t: "output_reg", src: parseSubField(arg) };
      if (arg.toUpperCase() === "CONTROLLER")
        return { t: "controller", maxLen: 65535, reason: 1, id: 0 };
      return { t: "output", port: parsePort(arg, resolve), maxLen: 0 };
    case "controller": {
      if (arg === "") return { t: "controller", maxLen: 65535, reason: 1, id: 0 };
      if (/^\d+$/.test(arg)) return { t: "controller", maxLen: Number(arg), reason: 1, id: 0 };
      let maxLen = 65535;
      let reason = 1;
      let id = 0;
      for (const kv of splitTopLevel(arg)) {
        const [k, v] = kv.split("=").map((s) => s.trim());
        if (k === "max_len") maxLen = num(v ?? "", "max_len");
        else if (k === "reason")
          reason =
            ({ no_match: 0, action: 1, invalid_ttl: 2 } as Record<string, number>)[v ?? ""] ?? 1;
        else if (k === "id") id = num(v ?? "", "controller id");
        else if (k === "userdata" || k === "pause" || k === "meter_id") {
          throw new UnsupportedActionError(`controller(${k})`);
        } else throw new BadActionError(`${kv}: unknown controller argument`);
      }
      return { t: "controller", maxLen, reason, id };
    }
    case "enqueue":
      throw new UnsupportedActionError("enqueue");
    // mod_vlan_vid/pcp push a tag when there is none, whatever the protocol: ovs-ofctl
    // keeps OVS's own action (push_vlan_if_needed) even under OpenFlow 1.3.
    case "mod_vlan_vid":
      return { t: "mod_vlan_vid", vid: num(arg, "VLAN VID") & 0xfff, push: true };
    case "mod_vlan_pcp":
      return { t: "mod_vlan_pcp", pcp: num(arg, "VLAN PCP") & 7, push: true };
    case "strip_vlan":
    case "pop_vlan":
      return { t: "pop_vlan", text: lname };
    case "push_vlan":
      return { t: "push_vlan", tpid: num(arg, "ethertype") };
    case "mod_dl_src":
    case "mod_dl_dst": {
      const f = fieldByName(lname === "mod_dl_src" ? "dl_src" : "dl_dst");
      return setField(f, parseFieldValue(f, arg)[0], fieldMaxMask(f), lname);
    }
    case "mod_nw_src":
    case "mod_nw_dst": {
      const f = fieldByName(lname === "mod_nw_src" ? "nw_src" : "nw_dst");
      return setField(f, parseFieldValue(f, arg)[0], fieldMaxMask(f), lname);
    }
    case "mod_nw_tos": {
      const v = num(arg, "TOS");
      if (v & 3) throw new BadActionError(`invalid IP_DSCP ${v} specified`);
      return setField(fieldByName("nw_tos"), BigInt(v >> 2), 0x3fn, lname);
    }
    // NX encodes these as register loads, and prints them so.
    case "mod_nw_ecn": {
      const v = BigInt(num(arg, "ECN") & 3);
      return {
        ...setField(fieldByName("nw_ecn"), v, 3n, lname),
        display: `load:0x${v.toString(16)}->NXM_NX_IP_ECN[]`,
      };
    }
    case "mod_nw_ttl": {
      const v = BigInt(num(arg, "TTL") & 0xff);
      return {
        ...setField(fieldByName("nw_ttl"), v, 0xffn, lname),
        display: `load:0x${v.toString(16)}->NXM_NX_IP_TTL[]`,
      };
    }
    case "mod_tp_src":
    case "mod_tp_dst": {
      const f = fieldByName(lname === "mod_tp_src" ? "tp_src" : "tp_dst");
      return setField(f, BigInt(num(arg, "port")), 0xffffn, lname);
    }
    case "dec_ttl": {
      // dec_ttl(ID,...) punts to those controllers; plain dec_ttl to controller 0.
      const ids = arg.trim() ? arg.split(",").map((x) => num(x, "controller id")) : [0];
      return { t: "dec_ttl", ids };
    }
    case "exit":
      return { t: "exit" };
    case "set_tunnel":
    case "set_tunnel64":
      return setField(
        fieldByName("tun_id"),
        BigInt(num(arg, "tunnel id")),
        0xffffffffffffffffn,
        lname,
      );
    case "set_field": {
      const m = /^(.*)->\s*([A-Za-z0-9_]+)$/.exec(arg);
      if (!m) throw new BadActionError(`${tok}: set_field syntax is VALUE->FIELD`);
      if (m[2] === "vlan_vid") {
        return { t: "mod_vlan_vid", vid: num(m[1]!, "vlan_vid") & 0xfff, push: false };
      }
      if (m[2] === "vlan_pcp")
        return { t: "mod_vlan_pcp", pcp: num(m[1]!, "vlan_pcp") & 7, push: false };
      const f = fieldByName(m[2]!);
      const [v, mk] = parseFieldValue(f, m[1]!.trim(), resolve);
      const action = setField(f, v, mk, `set_field:${m[1]!.trim()}->${m[2]}`);
      const of10 = of13 || mk !== fieldMaxMask(f) ? undefined : OF10_SET_NAMES[f.name];
      return of10
        ? {
            ...action,
            display: `${of10}:${f.format === "mac" || f.format === "ipv4" ? fmtValue(f, action.value) : String(action.value)}`,
          }
        : action;
    }
    case "load": {
      const m = /^(.*)->(.*)$/.exec(arg);
      if (!m) throw new BadActionError(`${tok}: load syntax is VALUE->FIELD[a..b]`);
      const dst = parseSubField(m[2]!);
      const v = BigInt(num(m[1]!, "value"));
      if (v >> BigInt(dst.nbits))
        throw new BadActionError(`${m[1]}: value does not fit in ${dst.nbits} bits`);
      const mask = ((1n << BigInt(dst.nbits)) - 1n) << BigInt(dst.ofs);
      return setField(dst.field, v << BigInt(dst.ofs), mask, `load:${m[1]}->${dst.text}`);
    }
    case "move": {
      const m = /^(.*)->(.*)$/.exec(arg);
      if (!m) throw new BadActionError(`${tok}: move syntax is SRC[..]->DST[..]`);
      const src = parseSubField(m[1]!);
      const dst = parseSubField(m[2]!);
      if (src.nbits !== dst.nbits)
        throw new BadActionError(`${tok}: source and destination widths differ`);
      return { t: "move", src, dst };
    }
    case "resubmit": {
      let port: number | undefined;
      let table: number | undefined;
      if (paren) {
        const parts = arg.split(",").map((s) => s.trim());
        if (parts[0]) port = parsePort(parts[0], resolve);
        if (parts[1]) table = num(parts[1], "table");
        if (parts[2]) throw new UnsupportedActionError("resubmit(...,ct)");
      } else port = parsePort(arg, resolve);
      return { t: "resubmit", port, table, text: tok };
    }
    case "goto_table": {
      // Under OpenFlow 1.0 ovs-ofctl sends goto_table as resubmit(,N).
      const table = num(arg, "table");
      if (!of13) return { t: "resubmit", port: undefined, table, text: `resubmit(,${table})` };
      return { t: "goto_table", table };
    }
    case "write_metadata": {
      const [v, mk] = arg.split("/");
      const value = BigInt(num(v!, "metadata"));
      const mask = mk === undefined ? 0xffffffffffffffffn : BigInt(num(mk, "mask"));
      return { t: "write_metadata", value: value & mask, mask, text: tok };
    }
    case "clone":
      return { t: "clone", actions: parseActions(arg, resolve, of13) };
    case "note": {
      // NXAST_NOTE: hex bytes, zero-padded so the action fills 8-byte units.
      const bytes = arg.split(/[.:]/).filter((x) => x.length > 0);
      if (bytes.some((b) => !/^[0-9a-f]{1,2}$/i.test(b)))
        throw new BadActionError(`${arg}: invalid note (hex bytes)`);
      const padded = Math.ceil((10 + bytes.length) / 8) * 8 - 10;
      while (bytes.length < padded) bytes.push("00");
      return { t: "note", text: bytes.map((b) => b.padStart(2, "0").toLowerCase()).join(".") };
    }
    case "learn":
      return parseLearn(arg, tok);
    default:
      throw new BadActionError(`unknown action ${name}`);
  }
}

/** set_field on these fields goes out under OpenFlow 1.0 as the old mod_* action. */
const OF10_SET_NAMES: Readonly<Record<string, string>> = {
  dl_src: "mod_dl_src",
  dl_dst: "mod_dl_dst",
  nw_src: "mod_nw_src",
  nw_dst: "mod_nw_dst",
  tp_src: "mod_tp_src",
  tp_dst: "mod_tp_dst",
  tcp_src: "mod_tp_src",
  tcp_dst: "mod_tp_dst",
  udp_src: "mod_tp_src",
  udp_dst: "mod_tp_dst",
};

function fmtValue(f: MatchField, v: bigint): string {
  switch (f.format) {
    case "mac":
      return formatMac(v);
    case "ipv4":
      return formatIpv4(v);
    case "ipv6":
      return formatIpv6(v);
    default:
      return v === 0n ? "0" : `0x${v.toString(16)}`;
  }
}

/** Prints one action as ovs-ofctl dump-flows does. */
export function formatAction(a: OfAction, portName?: (p: number) => string | undefined): string {
  switch (a.t) {
    case "output":
      if (a.port === OFPP_IN_PORT) return "IN_PORT";
      if (a.port >= 0xfff8) return formatPort(a.port);
      return `output:${portName?.(a.port) ?? a.port}`;
    case "output_reg":
      return `output:${a.src.text}`;
    case "controller":
      return a.maxLen === 65535 ? "CONTROLLER:65535" : `CONTROLLER:${a.maxLen}`;
    case "set_field":
      if (a.display) return a.display;
      if (a.text.startsWith("mod_") || a.text.startsWith("set_tunnel")) {
        const v = a.field.name === "nw_tos" ? a.value << 2n : a.value;
        const s =
          a.field.format === "mac" || a.field.format === "ipv4" ? fmtValue(a.field, v) : String(v);
        return a.text === "set_tunnel" || a.text === "set_tunnel64"
          ? `${a.text}:0x${v.toString(16)}`
          : `${a.text}:${s}`;
      }
      if (a.text.startsWith("load:")) return a.text;
      // ovs-ofctl shows a whole-register set_field as the NXM load it encodes to.
      if (/^x?reg\d+$/.test(a.field.name) && a.mask === fieldMaxMask(a.field)) {
        return `load:0x${a.value.toString(16)}->NXM_NX_${a.field.name.toUpperCase()}[]`;
      }
      return `set_field:${fmtValue(a.field, a.value)}${a.mask === fieldMaxMask(a.field) ? "" : `/${fmtValue(a.field, a.mask)}`}->${a.field.name}`;
    case "move":
      return `move:${a.src.text}->${a.dst.text}`;
    case "push_vlan":
      return `push_vlan:0x${a.tpid.toString(16)}`;
    case "pop_vlan":
      return a.text;
    case "mod_vlan_vid":
      return `mod_vlan_vid:${a.vid}`;
    case "mod_vlan_pcp":
      return `mod_vlan_pcp:${a.pcp}`;
    case "dec_ttl":
      return a.ids.length === 1 && a.ids[0] === 0 ? "dec_ttl" : `dec_ttl(${a.ids.join(",")})`;
    case "exit":
      return "exit";
    case "resubmit":
      return a.port === undefined || a.table !== undefined
        ? `resubmit(${a.port === undefined ? "" : formatPort(a.port, portName)},${a.table ?? ""})`
        : `resubmit:${formatPort(a.port, portName)}`;
    case "goto_table":
      return `goto_table:${a.table}`;
    case "write_metadata":
      return a.text;
    case "clone":
      return `clone(${formatActions(a.actions, portName)})`;
    case "learn":
      return a.text;
    case "note":
      return `note:${a.text}`;
    case "drop":
      return "drop";
  }
}

export function formatActions(
  actions: readonly OfAction[],
  portName?: (p: number) => string | undefined,
): string {
  return actions.length === 0 ? "drop" : actions.map((a) => formatAction(a, portName)).join(",");
}

export { OFPP_CONTROLLER };
