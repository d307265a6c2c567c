/**
 * ovsim's translation against real Open vSwitch: random-but-realistic bridges and
 * flow tables are built in both, the same packet is traced, and the datapath actions,
 * megaflow and final flow are compared the way the reference cases are.
 *
 * Needs Debian's openvswitch-switch (ovs-vswitchd with --enable-dummy); each daemon
 * runs in its own temp dir and is stopped by its pid.
 */
import { writeFileSync } from "node:fs";
import { describe, expect, it } from "vitest";
import { runCase, type TraceCase } from "../../vswitchd/index.js";
import { canonicalActions, packetVlan, tokenSet } from "../vswitchd/trace-compare.js";
import { DummyOvs, dummyOvsMissing } from "./dummy-ovs.js";

const missing = dummyOvsMissing();
const available = missing.length === 0;
if (!available) console.warn(`ofproto-trace interop skipped: ${missing.join(", ")} not installed`);

interface Answer {
  datapath_actions: string;
  megaflow: string;
  final_flow: string;
  dp_ports: Record<string, string>;
}

/** Runs `c` through real OVS 3.1 and returns its answer. */
function realOvs(c: TraceCase): Answer {
  const ovs = new DummyOvs("ovsim-interop-");
  try {
    ovs.start();
    for (const b of c.bridges) {
      const args = [
        "add-br",
        b.name,
        "--",
        "set",
        "bridge",
        b.name,
        "datapath_type=dummy",
        `fail_mode=${b.fail_mode ?? "secure"}`,
      ];
      if (b.hwaddr) args.push(`other_config:hwaddr=${b.hwaddr}`);
      ovs.vsctl(...args);
      for (const p of b.ports) {
        const a = [
          "add-port",
          b.name,
          p.name,
          "--",
          "set",
          "interface",
          p.name,
          `type=${p.type}`,
          `ofport_request=${p.ofport}`,
        ];
        for (const [k, v] of Object.entries(p.options ?? {})) a.push(`options:${k}=${v}`);
        const extra: string[] = [];
        if (p.tag !== undefined) extra.push(`tag=${p.tag}`);
        if (p.trunks) extra.push(`trunks=${p.trunks.join(",")}`);
        if (p.vlan_mode) extra.push(`vlan_mode=${p.vlan_mode}`);
        if (extra.length) a.push("--", "set", "port", p.name, ...extra);
        ovs.vsctl(...a);
      }
    }
    if (!c.datapath?.tnl_push_pop)
      ovs.appctl("dpif/set-dp-features", c.bridges[0]!.name, "tnl_push_pop", "false");
    for (const [br, flows] of Object.entries(c.flows ?? {})) {
      writeFileSync(`${ovs.dir}/flows`, `${flows.join("\n")}\n`);
      const proto = c.ofctl_protocol ? ["-O", c.ofctl_protocol] : [];
      ovs.run("ovs-ofctl", [...proto, "add-flows", ovs.mgmt(br), `${ovs.dir}/flows`]);
    }
    for (const s of c.setup ?? []) {
      if (s.op === "trace")
        ovs.appctl("ofproto/trace", s.bridge, s.flow, ...(s.generate ? ["-generate"] : []));
      else ovs.appctl(...s.args);
    }
    const out = ovs.appctl("ofproto/trace", c.packet.bridge, c.packet.flow);
    const show = ovs.appctl("dpif/show");
    const dp: Record<string, string> = { "0": "ovs-dummy" };
    for (const m of show.matchAll(/^\s+(\S+) \S+\/(\d+): \((\w+)/gm)) {
      const n = m[2]!;
      dp[n] =
        (
          { vxlan: `vxlan_sys_${n}`, gre: "gre_sys", geneve: `genev_sys_${n}` } as Record<
            string,
            string
          >
        )[m[3]!] ?? m[1]!;
    }
    const line = (p: string) =>
      out
        .split("\n")
        .find((l) => l.startsWith(p))
        ?.slice(p.length) ?? "";
    return {
      datapath_actions: line("Datapath actions: "),
      megaflow: line("Megaflow: "),
      final_flow: line("Final flow: "),
      dp_ports: dp,
    };
  } finally {
    ovs.stop();
  }
}

/** A small deterministic generator (no Math.random outside sim/ and cli/). */
function lcg(seed: number): (n: number) => number {
  let s = seed >>> 0;
  return (n) => {
    s = (Math.imul(s, 1664525) + 1013904223) >>> 0;
    return s % n;
  };
}

function makeCase(seed: number): TraceCase {
  const r = lcg(seed);
  const pick = <T>(xs: readonly T[]): T => xs[r(xs.length)]!;
  const ports = [1, 2, 3, 4].map((i) => ({
    name: `p${i}`,
    ofport: i,
    type: "dummy" as const,
    options: {},
    ...(r(5) === 0 ? { tag: pick([10, 20]) } : {}),
  }));
  const matches = [
    "ip",
    "tcp",
    "udp",
    "arp",
    "",
    "ip,nw_dst=10.0.1.0/24",
    "ip,nw_src=10.1.0.0/16",
    "tcp,tp_dst=80",
    "udp,tp_dst=53",
    "in_port=2",
  ];
  const actions = [
    "output:1",
    "output:3",
    "NORMAL",
    "drop",
    "mod_dl_src:02:00:00:00:00:01,output:2",
    "dec_ttl,output:4",
    "mod_nw_dst:10.9.9.9,output:1",
    "resubmit(,1)",
    "mod_vlan_vid:30,output:3",
    "CONTROLLER",
  ];
  const flows: string[] = [];
  for (let i = 0; i < 3 + r(4); i++) {
    const m = pick(matches);
    flows.push(
      `table=${r(3) === 0 ? 1 : 0},priority=${r(100)}${m ? `,${m}` : ""},actions=${pick(actions)}`,
    );
  }
  const proto = pick(["tcp", "udp", "arp"]);
  const l3 =
    proto === "arp"
      ? `arp_op=1,arp_spa=10.0.0.${1 + r(9)},arp_tpa=10.0.1.${1 + r(9)}`
      : `nw_src=10.${r(3)}.0.${1 + r(9)},nw_dst=10.0.${r(3)}.${1 + r(9)},nw_ttl=${pick([64, 1])},${proto}_src=4000,${proto}_dst=${pick([53, 80, 514])}`;
  const flow = `in_port=${1 + r(4)},${proto},dl_src=50:54:00:00:00:0${1 + r(4)},dl_dst=${pick(["ff:ff:ff:ff:ff:ff", "50:54:00:00:00:02"])},${l3}`;
  return {
    name: `interop-${seed}`,
    bridges: [{ name: "br0", fail_mode: "secure", ports }],
    flows: { br0: flows },
    packet: { bridge: "br0", flow },
  };
}

describe.skipIf(!available)("ofproto/trace against real OVS 3.1", () => {
  for (const seed of [11, 22, 33, 44, 55, 66]) {
    it(`random pipeline ${seed} gives the same actions, megaflow and final flow as OVS`, () => {
      const c = makeCase(seed);
      const want = realOvs(c);
      expect(want.megaflow).not.toBe("");
      const got = runCase(c);
      const vlan = packetVlan(c.packet.flow);
      expect(canonicalActions(got.datapath_actions, got.dp_ports, vlan)).toBe(
        canonicalActions(want.datapath_actions, want.dp_ports, vlan),
      );
      expect(tokenSet(got.megaflow)).toEqual(tokenSet(want.megaflow));
      expect(tokenSet(got.final_flow)).toEqual(tokenSet(want.final_flow));
    });
  }
});
