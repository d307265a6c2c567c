/**
 * A bridge (OVS's ofproto): its ports with their VLAN configuration, its OpenFlow
 * tables, and its MAC learning table; flow-table edits in ovs-ofctl terms (add-flow,
 * mod-flows and del-flows with and without --strict, dump-flows).
 *
 * Promises: a flow added with the same match and priority as an existing one replaces
 * it (keeping no counters), as OpenFlow says; `dump-flows` prints OVS's layout
 * (`cookie=, duration=, table=, n_packets=, n_bytes=, [timeouts,] priority=, match
 * actions=`). A `standalone` bridge starts with OVS's fail-open flow
 * `priority=0,actions=NORMAL`.
 *
 * It does not translate packets (xlate.ts) nor own datapath port numbers (ofproto.ts).
 */
import { formatActions, type OfAction } from "./actions.js";
import { Classifier, type ClsRule } from "./classifier.js";
import { BadFlowModError } from "./errors.js";
import { type FlowMod, OFP_DEFAULT_PRIORITY, parseFlowMod } from "./flow-mod.js";
import { MacLearning } from "./mac-learning.js";
import { formatMatch } from "./match-format.js";
import { OFPP_LOCAL, type PortResolver } from "./match-parse.js";
import { actionContextOf, actionsForVersion, OFP_DEFAULT_VERSIONS } from "./ofp-version.js";

export type PortType = "dummy" | "internal" | "system" | "patch" | "vxlan" | "gre" | "geneve";
export type VlanMode = "access" | "trunk" | "native-tagged" | "native-untagged" | "dot1q-tunnel";

export interface PortSpec {
  readonly name: string;
  readonly ofport: number;
  readonly type: PortType;
  readonly options?: Readonly<Record<string, string>>;
  readonly tag?: number;
  readonly trunks?: readonly number[];
  readonly vlanMode?: VlanMode;
}

export interface Port {
  readonly name: string;
  readonly ofport: number;
  readonly type: PortType;
  readonly options: Readonly<Record<string, string>>;
  /** Port.tag; undefined when unset. */
  readonly tag: number | undefined;
  /** Port.trunks; undefined means every VLAN. */
  readonly trunks: ReadonlySet<number> | undefined;
  readonly vlanMode: VlanMode;
  /** Datapath port number; undefined for patch ports. */
  dpPort: number | undefined;
}

export interface OfRule {
  readonly table: number;
  readonly priority: number;
  readonly cookie: bigint;
  readonly key: Uint32Array;
  readonly mask: Uint32Array;
  actions: readonly OfAction[];
  readonly idleTimeout: number;
  readonly hardTimeout: number;
  readonly importance: number;
  readonly sendFlowRem: boolean;
  readonly createdNs: number;
  nPackets: number;
  nBytes: number;
  usedNs: number;
  cls?: ClsRule<OfRule>;
}

export const N_TABLES = 255;

function defaultVlanMode(spec: PortSpec): VlanMode {
  if (spec.vlanMode) return spec.vlanMode;
  return spec.tag !== undefined ? "access" : "trunk";
}

export class Bridge {
  readonly name: string;
  readonly failMode: "secure" | "standalone";
  readonly hwaddr: bigint;
  readonly ports = new Map<number, Port>();
  readonly tables: Classifier<OfRule>[] = [];
  readonly mac = new MacLearning();
  /** Bridge.protocols as a bitmap of ofp_version (bit v): who may connect. */
  allowedVersions = OFP_DEFAULT_VERSIONS;

  constructor(name: string, failMode: "secure" | "standalone", hwaddr: bigint) {
    this.name = name;
    this.failMode = failMode;
    this.hwaddr = hwaddr;
    for (let i = 0; i < N_TABLES; i++) this.tables.push(new Classifier<OfRule>());
    this.ports.set(OFPP_LOCAL, {
      name,
      ofport: OFPP_LOCAL,
      type: "internal",
      options: {},
      tag: undefined,
      trunks: undefined,
      vlanMode: "trunk",
      dpPort: undefined,
    });
    if (failMode === "standalone") this.addFlow("priority=0,actions=NORMAL", 0);
  }

  addPort(spec: PortSpec): Port {
    if (this.ports.has(spec.ofport))
      throw new BadFlowModError(`ofport ${spec.ofport} already in use on ${this.name}`);
    const mode = defaultVlanMode(spec);
    let trunks = spec.trunks?.length ? new Set(spec.trunks) : undefined;
    if (
      trunks &&
      (mode === "native-tagged" || mode === "native-untagged") &&
      spec.tag !== undefined
    ) {
      trunks = new Set([...trunks, spec.tag]);
    }
    const port: Port = {
      name: spec.name,
      ofport: spec.ofport,
      type: spec.type,
      options: spec.options ?? {},
      tag: spec.tag,
      trunks,
      vlanMode: mode,
      dpPort: undefined,
    };
    this.ports.set(spec.ofport, port);
    return port;
  }

  portByName(name: string): Port | undefined {
    for (const p of this.ports.values()) if (p.name === name) return p;
    return undefined;
  }

  readonly resolvePort: PortResolver = (name) => this.portByName(name)?.ofport;

  addFlow(text: string, nowNs: number, of13 = false): OfRule {
    return this.addFlowMod(parseFlowMod(text, "add", { resolve: this.resolvePort, of13 }), nowNs);
  }

  addFlowMod(fm: FlowMod, nowNs: number): OfRule {
    const table = fm.table ?? 0;
    const cls = this.tables[table]!;
    const old = cls.findExact(fm.match.key, fm.match.mask, fm.priority);
    const rule: OfRule = {
      table,
      priority: fm.priority,
      cookie: fm.cookie,
      key: fm.match.key,
      mask: fm.match.mask,
      actions: fm.actions,
      idleTimeout: fm.idleTimeout,
      hardTimeout: fm.hardTimeout,
      importance: fm.importance,
      sendFlowRem: fm.sendFlowRem,
      createdNs: nowNs,
      nPackets: 0,
      nBytes: 0,
      usedNs: nowNs,
    };
    // Adding an identical match and priority replaces the rule in place.
    rule.cls = old
      ? cls.replace(old, rule)
      : cls.insert(fm.match.key, fm.match.mask, fm.priority, rule);
    if (rule.idleTimeout || rule.hardTimeout) this.timed.add(rule);
    return rule;
  }

  /**
   * Rules with an idle or hard timeout, so expiry and the revalidator's "anything to
   * watch?" cost the timed rules, not the whole table. May hold rules already removed
   * or replaced; `installed()` tells, and expire() prunes them.
   */
  private readonly timed = new Set<OfRule>();

  private installed(r: OfRule): boolean {
    return this.tables[r.table]!.findExact(r.key, r.mask, r.priority)?.data === r;
  }

  /** True while some installed rule has an idle or hard timeout. */
  hasTimedRules(): boolean {
    for (const r of this.timed) {
      if (this.installed(r)) return true;
      this.timed.delete(r);
    }
    return false;
  }

  /** Rules selected by a del/mod-flows pattern (loose: match is a superset; strict: equal). */
  private select(fm: FlowMod, strict: boolean): OfRule[] {
    const out: OfRule[] = [];
    const tables = fm.table === undefined ? this.tables : [this.tables[fm.table]!];
    for (const cls of tables) {
      for (const r of cls.rules()) {
        const rule = r.data;
        if (((rule.cookie ^ fm.cookie) & fm.cookieMask) !== 0n) continue;
        if (
          fm.outPort !== undefined &&
          !rule.actions.some((a) => a.t === "output" && a.port === fm.outPort)
        )
          continue;
        if (strict) {
          if (rule.priority !== fm.priority) continue;
          let same = true;
          for (let i = 0; i < rule.mask.length && same; i++) {
            same =
              rule.mask[i] === fm.match.mask[i] &&
              rule.key[i] === (fm.match.key[i]! & fm.match.mask[i]!) >>> 0;
          }
          if (!same) continue;
        } else {
          // The rule must be at least as specific as the pattern and agree with it.
          let ok = true;
          for (let i = 0; i < rule.mask.length && ok; i++) {
            const pm = fm.match.mask[i]!;
            ok =
              (rule.mask[i]! & pm) >>> 0 === pm && ((rule.key[i]! ^ fm.match.key[i]!) & pm) === 0;
          }
          if (!ok) continue;
        }
        out.push(rule);
      }
    }
    return out;
  }

  /** `del-flows [--strict] [FLOW]`; returns how many rules went. */
  delFlows(text: string, strict = false): number {
    const fm = parseFlowMod(text, "delete", { resolve: this.resolvePort });
    const victims = this.select(
      { ...fm, priority: strict ? fm.priority : OFP_DEFAULT_PRIORITY },
      strict,
    );
    for (const r of victims) this.tables[r.table]!.remove(r.cls!);
    return victims.length;
  }

  /** `mod-flows [--strict] FLOW`: replaces the actions of the selected rules. */
  modFlows(text: string, strict = false, of13 = false): number {
    const fm = parseFlowMod(text, "modify", { resolve: this.resolvePort, of13 });
    const victims = this.select(fm, strict);
    for (const r of victims) r.actions = fm.actions;
    return victims.length;
  }

  /**
   * Removes the flows whose idle or hard timeout has passed at `nowNs` (OpenFlow
   * flow expiry) and returns them, for flow-removed messages.
   */
  expire(nowNs: number): OfRule[] {
    const gone: OfRule[] = [];
    for (const r of this.timed) {
      if (!this.installed(r)) {
        this.timed.delete(r);
        continue;
      }
      const idle = r.idleTimeout && nowNs - r.usedNs >= r.idleTimeout * 1e9;
      const hard = r.hardTimeout && nowNs - r.createdNs >= r.hardTimeout * 1e9;
      if (idle || hard) {
        this.tables[r.table]!.remove(r.cls!);
        this.timed.delete(r);
        gone.push(r);
      }
    }
    return gone.sort((a, b) => a.table - b.table || b.priority - a.priority);
  }

  allRules(): OfRule[] {
    const out: OfRule[] = [];
    for (const cls of this.tables) for (const r of cls.rules()) out.push(r.data);
    return out.sort((a, b) => a.table - b.table || b.priority - a.priority);
  }

  /**
   * dump-flows' rule lines (no reply header) as ovs-ofctl prints them for `version`
   * (0x01 = OpenFlow 1.0): OpenFlow 1.1-1.4 replies carry no idle time, and 1.3+ show
   * the reset_counts flag that OVS sets on rules added through OpenFlow 1.0/NXM (ovsim
   * does not track which version added a rule, so every rule shows it). `layout.stats`
   * false is --no-stats (no counters or ages; cookie and table only when nonzero);
   * `layout.names` is --names: ports by name, and (OVS's quirk) no idle_age.
   */
  dumpFlows(
    nowNs: number,
    filter?: string,
    version = 0x01,
    layout: { stats: boolean; names: boolean } = { stats: true, names: false },
  ): string {
    const lines: string[] = [];
    const portName = layout.names ? (p: number) => this.ports.get(p)?.name : undefined;
    // `dump-flows SWITCH FLOW`: the rules a loose del-flows with FLOW would select.
    const rules = filter?.trim()
      ? this.select(parseFlowMod(filter, "delete", { resolve: this.resolvePort }), false).sort(
          (a, b) => a.table - b.table || b.priority - a.priority,
        )
      : this.allRules();
    for (const r of rules) {
      const dur = ((nowNs - r.createdNs) / 1e9).toFixed(3);
      // ofputil_flow_stats_format(): timeouts, then idle_age always; send_flow_rem
      // and importance are not shown for OpenFlow 1.0 replies.
      let s = " ";
      if (layout.stats)
        s += `cookie=0x${r.cookie.toString(16)}, duration=${dur}s, table=${r.table}, n_packets=${r.nPackets}, n_bytes=${r.nBytes}, `;
      else {
        if (r.cookie) s += `cookie=0x${r.cookie.toString(16)}, `;
        if (r.table) s += `table=${r.table}, `;
      }
      if (r.idleTimeout) s += `idle_timeout=${r.idleTimeout}, `;
      if (r.hardTimeout) s += `hard_timeout=${r.hardTimeout}, `;
      if (version >= 0x04) s += "reset_counts ";
      if (layout.stats && !layout.names && (version === 0x01 || version >= 0x06))
        s += `idle_age=${Math.floor((nowNs - r.usedNs) / 1e9)}, `;
      const m = formatMatch(r.key, r.mask, { priority: r.priority, portName });
      s += m.length ? `${m} ` : "";
      s += `actions=${actionsForVersion(formatActions(r.actions, portName), version, actionContextOf(m))}`;
      lines.push(s.replace(/, $/, " "));
    }
    return lines.length ? `${lines.join("\n")}\n` : "";
  }
}

/**
 * Credits a datapath megaflow's new packets and bytes to every OpenFlow rule its
 * translation went through (XlateResult.rules), as OVS's revalidators push stats.
 */
export function creditRuleStats(
  rules: readonly OfRule[],
  packets: number,
  bytes: number,
  usedNs: number,
): void {
  // A rule may appear more than once (resubmit loops) but counts once. Rule lists are
  // mostly short, and then an indexOf beats building a Set on every upcall.
  const unique =
    rules.length > 16 ? [...new Set(rules)] : rules.filter((r, i) => rules.indexOf(r) === i);
  for (const r of unique) {
    r.nPackets += packets;
    r.nBytes += bytes;
    if (packets > 0) r.usedNs = usedNs;
  }
}
