/**
 * The reference trace-case format (shared/reference/ofproto-trace/README.md): builds
 * the case's bridges and ports, installs its flows, runs its setup steps, traces its
 * packet, and answers `{datapath_actions, megaflow, final_flow, dp_ports}`.
 */
import type { PortSpec, PortType, VlanMode } from "./bridge.js";
import { CaseInvalidError, FlowRejectedError, VswitchdError } from "./errors.js";
import { type FlowMod, parseFlowMod } from "./flow-mod.js";
import { formatFlow } from "./match-format.js";
import { Ofproto } from "./ofproto.js";

export interface TraceCase {
  readonly name?: string;
  readonly bridges: ReadonlyArray<{
    readonly name: string;
    readonly fail_mode?: "secure" | "standalone";
    readonly hwaddr?: string;
    readonly ports: ReadonlyArray<{
      readonly name: string;
      readonly ofport: number;
      readonly type: PortType;
      readonly options?: Record<string, string>;
      readonly tag?: number;
      readonly trunks?: number[];
      readonly vlan_mode?: VlanMode;
    }>;
  }>;
  readonly flows?: Readonly<Record<string, readonly string[]>>;
  readonly ofctl_protocol?: string;
  readonly datapath?: { readonly tnl_push_pop?: boolean };
  readonly setup?: ReadonlyArray<
    | {
        readonly op: "trace";
        readonly bridge: string;
        readonly flow: string;
        readonly generate?: boolean;
      }
    | { readonly op: "appctl"; readonly args: readonly string[] }
  >;
  readonly packet: { readonly bridge: string; readonly flow: string };
}

export interface TraceAnswer {
  datapath_actions: string;
  megaflow: string;
  final_flow: string;
  dp_ports: Record<string, string>;
}

/** Builds the switch a case describes, with its flows and setup applied. */
export function buildCase(c: TraceCase): Ofproto {
  if (!c || !Array.isArray(c.bridges) || !c.packet)
    throw new CaseInvalidError("needs bridges and packet");
  const of = new Ofproto({ tnlPushPop: c.datapath?.tnl_push_pop === true });
  const of13 = /^OpenFlow1[1-5]/.test(c.ofctl_protocol ?? "");
  for (const b of c.bridges) {
    of.addBridge(b.name, b.fail_mode ?? "secure", b.hwaddr);
    for (const p of b.ports) {
      const spec: PortSpec = {
        name: p.name,
        ofport: p.ofport,
        type: p.type,
        options: p.options ?? {},
        tag: p.tag,
        trunks: p.trunks,
        vlanMode: p.vlan_mode,
      };
      of.addPort(b.name, spec);
    }
  }
  for (const [br, flows] of Object.entries(c.flows ?? {})) {
    const b = of.mustBridge(br);
    // ovs-ofctl add-flows parses the whole file first (one bad flow adds none), then
    // sends the flows in order and stops at the first one the switch refuses.
    const mods: Array<FlowMod | undefined> = [];
    let fatal = false;
    for (const f of flows) {
      try {
        mods.push(parseFlowMod(f, "add", { resolve: b.resolvePort, of13 }));
      } catch (err) {
        if (err instanceof FlowRejectedError) mods.push(undefined);
        else if (err instanceof VswitchdError) fatal = true;
        else throw err;
      }
    }
    // OpenFlow 1.3 add-flows is one bundle: a refused flow refuses them all.
    if (fatal || (of13 && mods.includes(undefined))) continue;
    for (const fm of mods) {
      if (!fm) break;
      b.addFlowMod(fm, 0);
    }
  }
  for (const s of c.setup ?? []) {
    if (s.op === "trace") of.xlateText(s.bridge, s.flow, s.generate ?? false);
    else of.appctl(s.args);
  }
  return of;
}

export function runCase(c: TraceCase): TraceAnswer {
  const of = buildCase(c);
  const r = of.xlateText(c.packet.bridge, c.packet.flow, false);
  const final = r.finalFlow.every((w, i) => w === r.flow[i])
    ? "unchanged"
    : formatFlow(r.finalFlow);
  const dp: Record<string, string> = {};
  for (const [n, name] of of.dpPorts) dp[String(n)] = name;
  return { datapath_actions: r.actions, megaflow: r.megaflow, final_flow: final, dp_ports: dp };
}
