/**
 * Parses datapath actions in OVS's text syntax (lib/odp-util.c odp_actions_from_string)
 * into the executor's form, rejecting anything malformed or unsupported with an
 * OdpParseError, so bad actions fail at flowPut and never at packet time.
 *
 * Accepted: port numbers (output), `drop` (alone), push_vlan, pop_vlan, set(...) of
 * eth/ipv4/ipv6/tcp/udp/skb_mark/skb_priority/tunnel (masked or not), userspace,
 * clone, recirc, trunc, sample, tnl_pop, tnl_push. `set(attr(...))` is a plain set
 * when every field of the attribute is given exactly, otherwise a masked set — the
 * same choice OVS's parser makes, so printing gives back the same text.
 */
import {
  FLOW_WORDS,
  VLAN_CFI,
  VLAN_PCP_SHIFT,
  VLAN_VID_MASK,
  W_PKT_MARK,
  W_SKB_PRIORITY,
} from "../packet/index.js";
import {
  type DpAction,
  type DpActions,
  makeActions,
  SAMPLE_ALWAYS,
  type SetAttr,
} from "./actions.js";
import { DATAPATH_ERROR_CODES } from "./errors.js";
import { fieldIsExact, ODP_STRUCT_ATTRS } from "./odp-key-fields.js";
import { parseStructAttr } from "./odp-key-parse.js";
import { OdpCursor, parseUint } from "./odp-lexer.js";
import { buildTnlPushHeader } from "./tnl-push-header.js";

const SETTABLE: readonly SetAttr[] = ["eth", "ipv4", "ipv6", "tcp", "udp", "tunnel"];

const UNSUPPORTED = new Set([
  "ct",
  "ct_clear",
  "meter",
  "hash",
  "push_mpls",
  "pop_mpls",
  "push_eth",
  "pop_eth",
  "push_nsh",
  "pop_nsh",
  "check_pkt_len",
  "lb_output",
  "add_mpls",
  "dec_ttl",
]);

/** Parses a whole action list, e.g. `set(ipv4(ttl=63)),push_vlan(vid=10,pcp=0),2`. */
export function parseOdpActions(text: string): DpActions {
  const c = new OdpCursor(text, DATAPATH_ERROR_CODES.BAD_ACTION);
  if (c.eat("drop")) {
    if (!c.atEnd()) c.fail("drop must be the only action");
    return makeActions([]);
  }
  const list = parseList(c, true);
  if (!c.atEnd()) c.fail("unexpected text after the actions");
  return makeActions(list);
}

function parseList(c: OdpCursor, topLevel: boolean): DpAction[] {
  const list: DpAction[] = [];
  if (c.atEnd()) c.fail("empty action list (write drop)");
  while (!c.atEnd() && c.peek() !== ")") {
    list.push(parseAction(c));
    if (!c.eat(",")) break;
    if (!topLevel && c.peek() === ")") c.fail("trailing comma");
  }
  return list;
}

function parseAction(c: OdpCursor): DpAction {
  const ch = c.peek();
  if (ch >= "0" && ch <= "9") {
    const port = parseUint(c.value(false));
    if (port === null) c.fail("bad output port number");
    return { type: "output", port };
  }
  const name = c.name();
  if (name === "pop_vlan") return { type: "pop_vlan" };
  if (name === "drop") c.fail("drop must be the only action");
  if (UNSUPPORTED.has(name)) c.fail(`ovsim's datapath does not support the "${name}" action`);
  c.expect("(");
  let action: DpAction;
  switch (name) {
    case "push_vlan":
      action = parsePushVlan(c);
      break;
    case "set":
      action = parseSet(c);
      break;
    case "userspace":
      action = parseUserspace(c);
      break;
    case "clone":
      action = { type: "clone", actions: c.peek() === ")" ? [] : parseList(c, false) };
      break;
    case "recirc": {
      // OVS scans the id with SCNu32: decimal only, although it prints hex.
      const text = c.value();
      const id = /^[0-9]+$/.test(text) ? parseUint(text) : null;
      if (id === null) c.fail("recirc needs a decimal 32-bit id");
      action = { type: "recirc", id };
      break;
    }
    case "trunc": {
      const maxLen = parseUint(c.value());
      if (maxLen === null || maxLen < 60) c.fail("trunc needs a length of at least 60 bytes");
      action = { type: "trunc", maxLen };
      break;
    }
    case "sample":
      action = parseSample(c);
      break;
    case "tnl_pop": {
      const port = parseUint(c.value());
      if (port === null) c.fail("tnl_pop needs a port number");
      action = { type: "tnl_pop", port };
      break;
    }
    case "tnl_push":
      action = parseTnlPush(c);
      break;
    default:
      c.fail(`unknown action "${name}"`);
  }
  c.expect(")");
  return action;
}

function parsePushVlan(c: OdpCursor): DpAction {
  let tpid = 0x8100;
  let vid = 0;
  let pcp = 0;
  let cfi = 1;
  while (c.peek() !== ")") {
    const f = c.name();
    c.expect("=");
    const v = parseUint(c.value(false), 0xffff);
    if (v === null) c.fail(`push_vlan ${f} needs a number`);
    if (f === "tpid") tpid = v;
    else if (f === "vid" && v <= VLAN_VID_MASK) vid = v;
    else if (f === "pcp" && v <= 7) pcp = v;
    else if (f === "cfi" && v <= 1) cfi = v;
    else c.fail(`bad push_vlan field ${f}=${v}`);
    if (!c.eat(",")) break;
  }
  return { type: "push_vlan", tpid, tci: (pcp << VLAN_PCP_SHIFT) | (cfi ? VLAN_CFI : 0) | vid };
}

function parseSet(c: OdpCursor): DpAction {
  const attr = c.name();
  const key = new Uint32Array(FLOW_WORDS);
  const mask = new Uint32Array(FLOW_WORDS);
  c.expect("(");
  if (attr === "skb_mark" || attr === "skb_priority") {
    const word = attr === "skb_mark" ? W_PKT_MARK : W_SKB_PRIORITY;
    const v = parseUint(c.value());
    if (v === null) c.fail(`${attr} needs a 32-bit number`);
    let m = 0xffffffff;
    if (c.eat("/")) {
      const mm = parseUint(c.value());
      if (mm === null) c.fail(`${attr} mask needs a 32-bit number`);
      m = mm;
    }
    key[word] = v;
    mask[word] = m;
    c.expect(")");
    return { type: "set", masked: m !== 0xffffffff, attr, key, mask };
  }
  if (!(SETTABLE as readonly string[]).includes(attr))
    c.fail(
      `set(${attr}(...)) is not supported: use eth, ipv4, ipv6, tcp, udp, tunnel, skb_mark or skb_priority`,
    );
  const a = attr as Exclude<SetAttr, "skb_mark" | "skb_priority">;
  parseStructAttr(c, a, key, mask);
  c.expect(")");
  if (a === "tunnel") return { type: "set", masked: false, attr: a, key, mask };
  let all = true;
  for (const f of ODP_STRUCT_ATTRS[a]) if (!fieldIsExact(f, mask)) all = false;
  return { type: "set", masked: !all, attr: a, key, mask };
}

function parseUserspace(c: OdpCursor): DpAction {
  c.expect("pid");
  c.expect("=");
  const pid = parseUint(c.value());
  if (pid === null) c.fail("userspace needs pid=<number>");
  let cookie = "";
  let userdata: Uint8Array | null = null;
  if (c.eat(",")) {
    const start = c.pos;
    c.skipSpace();
    const body = c.balanced();
    cookie = body.trim();
    const m = /^userdata\(([0-9a-fA-F]*)\)(.*)$/.exec(cookie);
    if (m) {
      if (m[1].length % 2) {
        c.pos = start;
        c.fail("userdata needs an even number of hex digits");
      }
      // OVS pads userdata to at least 8 bytes (odp_put_userspace_action).
      const n = Math.max(8, m[1].length / 2);
      userdata = new Uint8Array(n);
      for (let i = 0; i < m[1].length / 2; i++)
        userdata[i] = Number.parseInt(m[1].slice(2 * i, 2 * i + 2), 16);
      cookie = `userdata(${Array.from(userdata, (b) => b.toString(16).padStart(2, "0")).join("")})${m[2]}`;
    } else if (
      !/^(slow_path|controller|sFlow|flow_sample|ipfix|actions|tunnel_out_port)/.test(cookie)
    ) {
      c.pos = start;
      c.fail(`unknown userspace cookie "${cookie}"`);
    }
  }
  return { type: "userspace", pid, userdata, cookie };
}

function parseSample(c: OdpCursor): DpAction {
  c.expect("sample");
  c.expect("=");
  const pct = c.value();
  const m = /^([0-9]+(?:\.[0-9]*)?)%$/.exec(pct);
  if (!m || Number(m[1]) > 100) c.fail(`sample needs a percentage like 50.0%, got "${pct}"`);
  c.expect(",");
  c.expect("actions");
  c.expect("(");
  const list = c.peek() === ")" ? [] : parseList(c, false);
  c.expect(")");
  const probability = Math.round((Number(m[1]) / 100) * SAMPLE_ALWAYS);
  return { type: "sample", probability: Math.min(probability, SAMPLE_ALWAYS), actions: list };
}

function parseTnlPush(c: OdpCursor): DpAction {
  c.expect("tnl_port");
  c.expect("(");
  const tnlPort = parseUint(c.value());
  if (tnlPort === null) c.fail("tnl_port needs a number");
  c.expect(")");
  c.expect(",");
  c.expect("header");
  c.expect("(");
  c.expect("size");
  c.expect("=");
  const headerSize = parseUint(c.value());
  c.expect(",");
  c.expect("type");
  c.expect("=");
  const headerType = parseUint(c.value());
  if (headerSize === null || headerType === null) c.fail("header needs size=<n>,type=<n>");
  c.expect(",");
  const headerText = c.balanced().trim();
  if (!/^eth\(/.test(headerText)) c.fail("tnl_push header must start with eth(...)");
  c.expect(")");
  c.expect(",");
  c.expect("out_port");
  c.expect("(");
  const outPort = parseUint(c.value());
  if (outPort === null) c.fail("out_port needs a number");
  c.expect(")");
  const header = buildTnlPushHeader(headerText, headerSize, headerType);
  return { type: "tnl_push", tnlPort, headerSize, headerType, headerText, header, outPort };
}
