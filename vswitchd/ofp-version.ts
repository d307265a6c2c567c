/**
 * OpenFlow versions as ovs-ofctl meets them: the version bitmaps of Bridge.protocols and
 * of `-O`, the hello negotiation between them, the " (OF1.3)" tag of reply headers, and
 * how a rule's actions read back when dumped over a later version (ovs-ofctl decodes
 * what the switch encoded: OpenFlow 1.1 has no strip_vlan, 1.2+ express
 * every header rewrite as an OXM set_field).
 *
 * Promises: the texts are those of OVS 3.1's ovs-ofctl for the actions ovsim parses
 * (checked against it by test/interop/vswitchd-commands.test.ts).
 *
 * It does not: rewrite actions nested inside clone(...) or other containers (they are
 * printed as OpenFlow 1.0 wrote them), turn OpenFlow 1.5's other NXM loads into
 * set_field (only nw_ecn and nw_ttl), or record which version added a rule.
 */

/** OpenFlow wire versions (ofp_version): 0x01 = OpenFlow 1.0 ... 0x06 = OpenFlow 1.5. */
export const OFP_VERSION_NAMES: Readonly<Record<string, number>> = {
  OpenFlow10: 0x01,
  OpenFlow11: 0x02,
  OpenFlow12: 0x03,
  OpenFlow13: 0x04,
  OpenFlow14: 0x05,
  OpenFlow15: 0x06,
};

/** Every version OVS allows when Bridge.protocols is empty (bit v set = version v). */
export const OFP_DEFAULT_VERSIONS = 0b1111110;

/** Bridge.protocols names as a version bitmap; empty means OVS's default set. */
export function ofpVersionsFromNames(names: readonly string[]): number {
  let bits = 0;
  for (const n of names) {
    const v = OFP_VERSION_NAMES[n];
    if (v !== undefined) bits |= 1 << v;
  }
  return bits || OFP_DEFAULT_VERSIONS;
}

/** `-O` / `--protocols` names (OpenFlow13, OXM-OpenFlow13, NXM...) as a version bitmap. */
export function ofpVersionsFromProtocols(list: string): number {
  let bits = 0;
  for (const item of list.split(",")) {
    const n = item.trim();
    const m = /OpenFlow1(\d)/i.exec(n);
    if (m) bits |= 1 << (Number(m[1]) + 1);
    else if (/^NXM|^OpenFlow10/i.test(n)) bits |= 1 << 0x01;
  }
  return bits;
}

/** vconn.c's version_bitmap_to_string(). */
export function ofpVersionsText(bits: number): string {
  const vs: number[] = [];
  for (let v = 1; v < 8; v++) if (bits & (1 << v)) vs.push(v);
  const hex = (v: number) => `0x${v.toString(16).padStart(2, "0")}`;
  if (vs.length === 0) return "no versions";
  if (vs.length === 1) return `version ${hex(vs[0]!)}`;
  // Every version from 1 up to the highest: "and earlier".
  if (vs[0] === 1 && vs.length === vs[vs.length - 1])
    return `version ${hex(vs[vs.length - 1]!)} and earlier`;
  return `versions ${vs.map(hex).join(", ")}`;
}

/** " (OF1.3)" in reply headers; nothing for OpenFlow 1.0. */
export function ofpVersionTag(version: number): string {
  return version === 0x01 ? "" : ` (OF1.${version - 1})`;
}

/** Splits an action list at its top-level commas. */
function topLevel(text: string): string[] {
  const out: string[] = [];
  let depth = 0;
  let cur = "";
  for (const ch of text) {
    if (ch === "(") depth++;
    else if (ch === ")") depth--;
    if (ch === "," && depth === 0) {
      out.push(cur);
      cur = "";
    } else cur += ch;
  }
  out.push(cur);
  return out;
}

/** What a rule's match says that its actions' encoding depends on. */
export interface ActionContext {
  /** The match requires an 802.1Q header (OVS's flow_has_vlan at parse time). */
  readonly hasVlan: boolean;
  /** nw_proto the match fixes (6, 17, 132), for mod_tp_src/dst's OXM field. */
  readonly nwProto: number | undefined;
}

/** The rule's match text, read for ActionContext. */
export function actionContextOf(matchText: string): ActionContext {
  const t = `,${matchText},`;
  const proto = /,(tcp6?|udp6?|sctp6?),/.exec(t)?.[1] ?? /,nw_proto=(\d+),/.exec(t)?.[1];
  const byName: Record<string, number> = { tcp: 6, udp: 17, sctp: 132 };
  return {
    hasVlan: /,dl_vlan=\d|,vlan_tci=0x[0-9a-f]*[1-9a-f][0-9a-f]{3}(\/|,)/.test(t),
    nwProto: proto === undefined ? undefined : (byName[proto.replace("6", "")] ?? Number(proto)),
  };
}

const SET_FIELD: Readonly<Record<string, string>> = {
  mod_dl_src: "eth_src",
  mod_dl_dst: "eth_dst",
  mod_nw_src: "ip_src",
  mod_nw_dst: "ip_dst",
};

/**
 * OpenFlow 1.0 action text (formatActions) as ovs-ofctl prints the same actions read
 * back over `version`.
 */
export function actionsForVersion(text: string, version: number, ctx: ActionContext): string {
  if (version === 0x01) return text;
  const oxm = version >= 0x03;
  let vlan = ctx.hasVlan;
  const out: string[] = [];
  for (const a of topLevel(text)) {
    const [name, arg] = a.includes(":")
      ? [a.slice(0, a.indexOf(":")), a.slice(a.indexOf(":") + 1)]
      : [a, ""];
    if (a === "strip_vlan") {
      out.push("pop_vlan");
      vlan = false;
    } else if (name === "push_vlan") {
      out.push(a);
      vlan = true;
    } else if (name === "mod_vlan_vid" || name === "mod_vlan_pcp") {
      // OpenFlow 1.0's set-VLAN pushes a header when there is none.
      if (!vlan) out.push("push_vlan:0x8100");
      vlan = true;
      const vid = name === "mod_vlan_vid";
      if (!oxm) out.push(`${vid ? "set_vlan_vid" : "set_vlan_pcp"}:${arg}`);
      else
        out.push(vid ? `set_field:${4096 | Number(arg)}->vlan_vid` : `set_field:${arg}->vlan_pcp`);
    } else if (oxm && SET_FIELD[name] !== undefined) {
      out.push(`set_field:${arg}->${SET_FIELD[name]}`);
    } else if (oxm && name === "mod_nw_tos") {
      out.push(`set_field:${Number(arg) >> 2}->ip_dscp`);
    } else if (version >= 0x06 && /^load:0x[0-9a-f]+->NXM_NX_IP_(ECN|TTL)\[\]$/.test(a)) {
      // OpenFlow 1.5 carries these loads as (masked) OXM set_field.
      const v = Number.parseInt(a.slice(5), 16);
      out.push(a.includes("ECN") ? `set_field:${v}/0x3->nw_ecn` : `set_field:${v}->nw_ttl`);
    } else if (oxm && (name === "mod_tp_src" || name === "mod_tp_dst")) {
      const l4 = ctx.nwProto === 17 ? "udp" : ctx.nwProto === 132 ? "sctp" : "tcp";
      out.push(`set_field:${arg}->${l4}_${name.slice(-3)}`);
    } else out.push(a);
  }
  return out.join(",");
}
