/**
 * ovs-ofctl flow syntax for whole flows (lib/ofp-flow.c `parse_ofp_str`): the match,
 * the flow-mod keywords (`table=`, `priority=`, `cookie=`, timeouts, `importance=`,
 * `send_flow_rem`...) and `actions=`.
 *
 * Promises: `add-flow` refuses a cookie mask, as ovs-ofctl does; `del-flows` and
 * `mod-flows` accept one; statistics fields that dump-flows prints (`duration=`,
 * `n_packets=`, `n_bytes=`) are accepted and ignored, so dump output parses back.
 */

import * as K from "../packet/index.js";
import { type OfAction, parseActions } from "./actions.js";
import { BadActionError, BadFlowModError, FlowRejectedError } from "./errors.js";
import { type MatchField, prereqOk } from "./fields.js";
import { type Match, type PortResolver, parseMatchTokens, splitTopLevel } from "./match-parse.js";

export type FlowModCommand = "add" | "modify" | "delete";

export interface FlowMod {
  readonly match: Match;
  readonly table: number | undefined;
  readonly priority: number;
  readonly cookie: bigint;
  readonly cookieMask: bigint;
  readonly idleTimeout: number;
  readonly hardTimeout: number;
  readonly importance: number;
  readonly sendFlowRem: boolean;
  readonly outPort: number | undefined;
  readonly actions: readonly OfAction[];
}

export const OFP_DEFAULT_PRIORITY = 32768;

function int(name: string, v: string | undefined, max: number): number {
  if (v === undefined || !/^(0x[0-9a-f]+|\d+)$/i.test(v))
    throw new BadFlowModError(`${name}=${v ?? ""}: invalid number`);
  const n = Number(v);
  if (n > max) throw new BadFlowModError(`${name}=${v}: value out of range (maximum ${max})`);
  return n;
}

/**
 * Parses one flow in ovs-ofctl syntax for `command`. `of13` selects OpenFlow 1.1+
 * action meanings (mod_vlan_vid does not push a tag).
 */
export function parseFlowMod(
  text: string,
  command: FlowModCommand,
  opts: { resolve?: PortResolver; of13?: boolean } = {},
): FlowMod {
  let matchText = text.trim();
  let actionsText: string | undefined;
  const ai = matchText.search(/(^|[\s,])(actions|apply_actions)\s*[=:]/);
  if (ai >= 0) {
    const after = matchText.slice(ai).replace(/^[\s,]*/, "");
    actionsText = after.slice(after.search(/[=:]/) + 1).trim();
    matchText = matchText.slice(0, ai);
  }
  if (command !== "delete" && actionsText === undefined) {
    throw new BadFlowModError(`must specify an action`);
  }
  if (command === "delete" && actionsText !== undefined) {
    throw new BadFlowModError(`unknown keyword actions`);
  }
  const tokens = splitTopLevel(matchText.replace(/\s+/g, ","));
  const { match, rest } = parseMatchTokens(tokens, opts.resolve, true);
  let table: number | undefined;
  let priority = OFP_DEFAULT_PRIORITY;
  let cookie = 0n;
  let cookieMask = 0n;
  let idleTimeout = 0;
  let hardTimeout = 0;
  let importance = 0;
  let sendFlowRem = false;
  let outPort: number | undefined;
  for (const [k, v] of rest) {
    switch (k) {
      case "table":
        table = int(k, v, 254);
        break;
      case "priority":
        priority = int(k, v, 65535);
        break;
      case "cookie": {
        const [c, m] = (v ?? "").split("/");
        cookie = BigInt(int(k, c, Number.MAX_SAFE_INTEGER) === 0 ? 0 : c!);
        if (m !== undefined) {
          if (command === "add")
            throw new BadFlowModError("flow additions cannot use a cookie mask");
          cookieMask = BigInt(m);
        } else if (command !== "add") cookieMask = 0xffffffffffffffffn;
        break;
      }
      case "idle_timeout":
        idleTimeout = int(k, v, 65535);
        break;
      case "hard_timeout":
        hardTimeout = int(k, v, 65535);
        break;
      case "importance":
        importance = int(k, v, 65535);
        break;
      case "send_flow_rem":
        sendFlowRem = true;
        break;
      case "out_port":
        outPort =
          v === undefined
            ? undefined
            : Number.isNaN(Number(v))
              ? (opts.resolve?.(v) ?? 0xffff)
              : Number(v);
        break;
      case "check_overlap":
      case "reset_counts":
      case "no_packet_counts":
      case "no_byte_counts":
      case "duration":
      case "n_packets":
      case "n_bytes":
      case "idle_age":
      case "hard_age":
      case "eth":
        break;
      default:
        throw new BadFlowModError(
          `${v === undefined ? k : `${k}=${v}`}: unknown field or keyword ${k}`,
        );
    }
  }
  if (command === "add" && cookieMask === 0n) cookieMask = 0n;
  const actions =
    actionsText === undefined ? [] : parseActions(actionsText, opts.resolve, opts.of13 ?? false);
  checkActions(match, actions, opts.of13 ?? false);
  return {
    match,
    table,
    priority,
    cookie,
    cookieMask,
    idleTimeout,
    hardTimeout,
    importance,
    sendFlowRem,
    outPort,
    actions,
  };
}

/** Parses an `add-flows` file: one flow per line, `#` comments and blank lines skipped. */
export function parseFlowFile(
  text: string,
  opts: { resolve?: PortResolver; of13?: boolean } = {},
): FlowMod[] {
  return text
    .split("\n")
    .map((l) => l.trim())
    .filter((l) => l && !l.startsWith("#"))
    .map((l) => parseFlowMod(l, "add", opts));
}

/** OF1.0 actions that OVS sends as their own action, checked at translation instead. */
const OF10_NATIVE = new Set([
  "mod_dl_src",
  "mod_dl_dst",
  "mod_nw_src",
  "mod_nw_dst",
  "mod_nw_tos",
  "mod_tp_src",
  "mod_tp_dst",
  "set_tunnel",
  "set_tunnel64",
]);

const DEC_TTL_FIELD: MatchField = {
  name: "nw_ttl",
  aliases: [],
  parts: [],
  bits: 8,
  format: "dec",
  prereq: "ip_any",
  maskable: false,
};

function matchMeets(match: Match, f: MatchField): boolean {
  // mf_are_prereqs_ok() on the rule's match: only exact dl_type/nw_proto count.
  const key = match.key.slice();
  if ((match.mask[K.W_DL_TYPE]! & 0xffff) !== 0xffff) key[K.W_DL_TYPE] = 0;
  if ((match.mask[K.W_NW]! & 0xff) !== 0xff) key[K.W_NW] = key[K.W_NW]! & ~0xff;
  const prereq = f.name === "nw_src" || f.name === "nw_dst" ? "ip" : f.prereq;
  return prereqOk(prereq, key);
}

/**
 * ofpacts_check(): a set-field style action (set_field, load, move, mod_nw_ecn,
 * mod_nw_ttl, and every mod_* under OpenFlow 1.1+) whose field's prerequisites the
 * match does not guarantee makes ovs-ofctl refuse the flow.
 */
function checkActions(match: Match, actions: readonly OfAction[], of13: boolean): void {
  // ovs-ofctl's own refusals win over the switch's: check the whole list first.
  let rejected: FlowRejectedError | undefined;
  checkActionList(match, actions, of13, (e) => {
    rejected ??= e;
  });
  if (rejected) throw rejected;
}

function checkActionList(
  match: Match,
  actions: readonly OfAction[],
  of13: boolean,
  onReject: (e: FlowRejectedError) => void,
): void {
  // OpenFlow 1.1+ cannot pop or rewrite a VLAN the match does not guarantee
  // (ofpacts_check's inconsistent_match leaves only OpenFlow 1.0, which -O excludes).
  const cfi = K.VLAN_CFI;
  let hasVlan = (match.mask[K.W_VLAN0]! & cfi) !== 0 && (match.key[K.W_VLAN0]! & cfi) !== 0;
  for (const a of actions) {
    if (
      a.t === "push_vlan" ||
      (a.t === "mod_vlan_vid" && a.push) ||
      (a.t === "mod_vlan_pcp" && a.push)
    ) {
      hasVlan = true;
    } else if (a.t === "pop_vlan" || a.t === "mod_vlan_vid" || a.t === "mod_vlan_pcp") {
      if (of13 && !hasVlan)
        throw new BadActionError(`${a.t}: the match has no VLAN, so no usable protocol`);
      if (a.t === "pop_vlan") hasVlan = false;
    }
    if (a.t === "clone") checkActionList(match, a.actions, of13, onReject);
    // Under OpenFlow 1.1+ an OF1.0-only action on a match that does not guarantee its
    // header leaves no usable protocol: ovs-ofctl refuses the file.
    if (of13 && (a.t === "dec_ttl" || (a.t === "set_field" && OF10_NATIVE.has(a.text)))) {
      const f = a.t === "dec_ttl" ? undefined : a.field;
      const ok = f ? f.prereq === "none" || matchMeets(match, f) : matchMeets(match, DEC_TTL_FIELD);
      if (!ok)
        throw new BadActionError(`${a.t === "dec_ttl" ? "dec_ttl" : a.text}: no usable protocol`);
    }
    let fields: MatchField[] = [];
    if (a.t === "set_field" && (of13 || !OF10_NATIVE.has(a.text))) fields = [a.field];
    if (a.t === "move") fields = [a.src.field, a.dst.field];
    if (a.t === "output_reg") fields = [a.src.field];
    // learn_check(): every field the learned flow copies must exist in matching packets.
    if (a.t === "learn") {
      for (const sp of a.specs) {
        if (typeof sp.src !== "bigint" && !matchMeets(match, sp.src.field)) {
          throw new BadActionError(`learn: ${sp.src.field.name} lacks correct prerequisites`);
        }
      }
    }
    for (const f of fields) {
      if (!matchMeets(match, f)) {
        const msg = `set_field ${f.name} lacks correct prerequisites (OFPBAC_MATCH_INCONSISTENT)`;
        // Explicit set_field/load/move are checked by ovs-ofctl itself; the NX
        // encodings of mod_* actions only by the switch.
        const local =
          a.t !== "set_field" || a.text.startsWith("set_field") || a.text.startsWith("load");
        if (local) throw new BadActionError(msg);
        onReject(new FlowRejectedError(msg));
      }
    }
    if (a.t === "push_vlan" && !of13) {
      throw new BadActionError(
        "push_vlan needs OpenFlow 1.1 or later: no usable protocol (use -O OpenFlow13)",
      );
    }
  }
}
