import { describe, expect, it } from "vitest";
import { Hypervisor } from "../../sim/hypervisor.js";
import { World } from "../../sim/world.js";
import {
  COMMANDS,
  runOfctl,
  splitCommandLine,
  UnknownCommandError,
  VersionNegotiationError,
} from "../../vswitchd/index.js";

async function host() {
  const world = new World({ seed: 2 });
  const hv = new Hypervisor(world, "hv1");
  await hv.start();
  await hv.addBridge("br0", { failMode: "secure" });
  hv.vm("vm1", { ip: "10.0.0.1/24" });
  hv.vm("vm2", { ip: "10.0.0.2/24" });
  await hv.attach("vm1", "br0");
  await hv.attach("vm2", "br0");
  return { world, hv };
}

describe("the command table", () => {
  it("names every verb the issue lists, each once, under its tool", () => {
    const names = Object.keys(COMMANDS);
    for (const v of [
      "add-flow",
      "add-flows",
      "del-flows",
      "mod-flows",
      "dump-flows",
      "dump-ports",
      "show",
    ])
      expect(names).toContain(`ofctl ${v}`);
    for (const v of [
      "ofproto/trace",
      "dpctl/dump-flows",
      "dpif/show",
      "fdb/show",
      "fdb/flush",
      "upcall/show",
      "ovs/route/show",
      "tnl/neigh/show",
    ])
      expect(names).toContain(`appctl ${v}`);
    for (const [k, c] of Object.entries(COMMANDS)) expect(k.startsWith(`${c.tool} `)).toBe(true);
  });

  it("splits command lines like a shell, keeping quoted spaces", () => {
    expect(splitCommandLine(`add-flow br0 "priority=1, actions=drop"`)).toEqual([
      "add-flow",
      "br0",
      "priority=1, actions=drop",
    ]);
    expect(splitCommandLine(" dump-flows  br0 ")).toEqual(["dump-flows", "br0"]);
  });

  it("refuses an unknown command with a stable code", async () => {
    const { hv } = await host();
    expect(() => hv.ofctl("frobnicate br0")).toThrow(UnknownCommandError);
    try {
      hv.appctl("no/such");
    } catch (e) {
      expect((e as UnknownCommandError).code).toBe("COMMAND_UNKNOWN");
    }
    expect(() => hv.ofctl("add-flow br0")).toThrow(/usage: add-flow SWITCH FLOW/);
  });
});

describe("ovs-ofctl verbs on a running bridge", () => {
  it("add-flows from stdin adds nothing when one line is bad", async () => {
    const { hv } = await host();
    expect(() =>
      runOfctl(
        hv.vswitchd,
        "add-flows br0 -",
        "priority=5,actions=drop\npriority=6,actions=bogus\n",
      ),
    ).toThrow();
    expect(hv.ofctl("dump-flows br0")).toBe("NXST_FLOW reply (xid=0x4):\n");
    runOfctl(
      hv.vswitchd,
      "add-flows br0 -",
      "# comment\npriority=5,actions=drop\n\npriority=6,ip,actions=drop\n",
    );
    expect(hv.ofctl("--no-stats dump-flows br0")).toBe(
      " priority=6,ip actions=drop\n priority=5 actions=drop\n",
    );
  });

  it("del-flows --strict removes only the rule with that exact match and priority", async () => {
    const { hv } = await host();
    hv.ofctl("add-flow br0 priority=5,ip,actions=drop");
    hv.ofctl("add-flow br0 priority=6,ip,nw_dst=10.0.0.2,actions=drop");
    hv.ofctl("del-flows --strict br0 priority=5,ip");
    const d = hv.ofctl("dump-flows br0");
    expect(d).toContain("priority=6,ip,nw_dst=10.0.0.2");
    expect(d).not.toContain("priority=5");
    hv.ofctl("del-flows br0 ip");
    expect(hv.ofctl("dump-flows br0")).toBe("NXST_FLOW reply (xid=0x4):\n");
  });

  it("dump-flows with a match shows only the rules that match it", async () => {
    const { hv } = await host();
    hv.ofctl("add-flow br0 priority=5,ip,actions=drop");
    hv.ofctl("add-flow br0 priority=6,in_port=tap-vm1,actions=drop");
    hv.ofctl("add-flow br0 table=1,priority=7,arp,actions=drop");
    expect(hv.ofctl("dump-flows br0 in_port=tap-vm1")).toMatch(
      /^NXST_FLOW reply \(xid=0x8\):\n[^\n]*priority=6,in_port=1 actions=drop\n$/,
    );
    expect(hv.ofctl("--no-stats dump-flows br0 table=1")).toBe(
      " table=1, priority=7,arp actions=drop\n",
    );
    expect(hv.ofctl("--no-names dump-flows br0 table=1")).toMatch(
      /^NXST_FLOW reply \(xid=0x4\):\n/,
    );
    expect(hv.ofctl("-O OpenFlow13 dump-flows br0 table=1")).toMatch(
      /^OFPST_FLOW reply \(OF1\.3\) \(xid=0x6\):\n/,
    );
    expect(hv.ofctl("--names dump-flows br0").split("\n").filter(Boolean)).toHaveLength(3);
    expect(hv.ofctl("--names dump-flows br0")).not.toContain("idle_age");
  });

  it("dump-ports counts what each port received and sent", async () => {
    const { world, hv } = await host();
    hv.ofctl("add-flow br0 actions=NORMAL");
    const p = hv.vms.get("vm1")!.endpoint.ping("10.0.0.2", { count: 2 });
    world.runUntil(() => p.done);
    const out = hv.ofctl("dump-ports br0");
    expect(out).toMatch(/^OFPST_PORT reply \(xid=0x2\): 3 ports\n {2}port LOCAL: rx pkts=0,/);
    const m = /port {2}1: rx pkts=(\d+), bytes=(\d+)/.exec(out)!;
    expect(Number(m[1])).toBeGreaterThanOrEqual(3);
    expect(hv.ofctl("dump-ports br0 2")).toMatch(/1 ports\n {2}port {2}2: /);
  });

  it("show lists the ports with their ofports and the datapath id", async () => {
    const { hv } = await host();
    const s = hv.ofctl("show br0");
    expect(s).toMatch(/^OFPT_FEATURES_REPLY \(xid=0x2\): dpid:[0-9a-f]{16}\n/);
    expect(s).toContain(" 1(tap-vm1): addr:");
    expect(s).toContain(" LOCAL(br0): addr:");
    expect(s).not.toContain("LINK_DOWN");
    hv.vms.get("vm2")!.link.setUp(false);
    expect(hv.ofctl("show br0")).toMatch(
      / 2\(tap-vm2\): addr:[0-9a-f:]{17}\n {5}config: {5}0\n {5}state: {6}LINK_DOWN\n/,
    );
  });
});

describe("ovs-appctl commands on a running switch", () => {
  it("ofproto/trace through appctl gives the trace the bridge computes", async () => {
    const { hv } = await host();
    hv.ofctl("add-flow br0 in_port=tap-vm1,actions=output:tap-vm2");
    const t = hv.appctl("ofproto/trace br0 in_port=tap-vm1,icmp");
    expect(t).toContain("Datapath actions: 3");
    expect(t).toMatch(/^Flow: icmp,in_port=1,/);
  });

  it("dpctl/dump-flows, dpif/show and upcall/show agree on the megaflows installed", async () => {
    const { world, hv } = await host();
    hv.ofctl("add-flow br0 actions=NORMAL");
    const p = hv.vms.get("vm1")!.endpoint.ping("10.0.0.2", { count: 2 });
    world.runUntil(() => p.done);
    const [head, ...flows] = hv.appctl("dpctl/dump-flows").split("\n").filter(Boolean);
    expect(head).toBe("flow-dump from the main thread:");
    expect(flows.length).toBe(hv.dpif.stats().flows);
    expect(hv.appctl("upcall/show")).toContain(`(current ${flows.length})`);
    expect(hv.appctl("dpif/show")).toContain("    tap-vm1 1/2: (system)");
    hv.appctl("dpctl/del-flows");
    expect(hv.appctl("dpctl/dump-flows")).toBe("");
    expect(hv.appctl("upcall/show")).toContain("(current 0)");
  });
});

describe("OpenFlow versions and Bridge options", () => {
  it("-O OpenFlow13 show answers in OpenFlow 1.3's layout, ports in a port-desc reply", async () => {
    const { hv } = await host();
    const s = hv.ofctl("-O OpenFlow13 show br0");
    expect(s).toMatch(/^OFPT_FEATURES_REPLY \(OF1\.3\) \(xid=0x2\): dpid:/);
    expect(s).toContain("\nOFPST_PORT_DESC reply (OF1.3) (xid=0x3):\n 1(tap-vm1): ");
    expect(s).toContain("     state:      LIVE\n");
    expect(s).not.toContain("actions:");
    expect(s).toMatch(
      /OFPT_GET_CONFIG_REPLY \(OF1\.3\) \(xid=0x5\): frags=normal miss_send_len=0\n$/,
    );
  });

  it("dump-flows over OpenFlow 1.3 shows reset_counts and set_field actions, no idle_age", async () => {
    const { hv } = await host();
    hv.ofctl("add-flow br0 priority=5,ip,actions=mod_dl_src:50:54:00:00:00:09,strip_vlan,output:2");
    const d = hv.ofctl("-O OpenFlow13 dump-flows br0");
    expect(d).toContain(
      "n_bytes=0, reset_counts priority=5,ip actions=set_field:50:54:00:00:00:09->eth_src,pop_vlan,output:2",
    );
    expect(d).not.toContain("idle_age");
    expect(hv.ofctl("dump-flows br0")).toContain("actions=mod_dl_src:50:54:00:00:00:09,strip_vlan");
  });

  it("Bridge protocols refuses an ovs-ofctl whose versions it does not allow", async () => {
    const { hv } = await host();
    await hv.vsctl("set Bridge br0 protocols=OpenFlow13");
    expect(() => hv.ofctl("show br0")).toThrow(VersionNegotiationError);
    try {
      hv.ofctl("dump-flows br0");
    } catch (e) {
      expect((e as VersionNegotiationError).code).toBe("OFP_VERSION_NEGOTIATION");
      expect((e as VersionNegotiationError).detail).toBe(
        "version negotiation failed (we support version 0x01, peer supports version 0x04)",
      );
    }
    expect(hv.ofctl("-O OpenFlow10,OpenFlow13 show br0")).toMatch(
      /^OFPT_FEATURES_REPLY \(OF1\.3\)/,
    );
    await hv.vsctl("clear Bridge br0 protocols");
    expect(hv.ofctl("show br0")).toMatch(/^OFPT_FEATURES_REPLY \(xid=0x2\)/);
  });

  it("Bridge flood_vlans keeps NORMAL from learning on those VLANs", async () => {
    const { world, hv } = await host();
    hv.ofctl("add-flow br0 actions=NORMAL");
    await hv.vsctl("set Bridge br0 flood_vlans=0");
    const p = hv.vms.get("vm1")!.endpoint.ping("10.0.0.2", { count: 1 });
    world.runUntil(() => p.done);
    expect(hv.appctl("fdb/show br0")).toBe(" port  VLAN  MAC                Age\n");
    await hv.vsctl("clear Bridge br0 flood_vlans");
    // Megaflow hits learn only at the next revalidator pass (as in OVS); upcalls at once.
    hv.appctl("dpctl/del-flows");
    const q = hv.vms.get("vm1")!.endpoint.ping("10.0.0.2", { count: 1 });
    world.runUntil(() => q.done);
    expect(hv.appctl("fdb/show br0")).toMatch(/^ {4}1 {5}0 {2}[0-9a-f:]{17} {4}0$/m);
  });

  it("upcall/show has OVS 3.1's lines in OVS's order", async () => {
    const { hv } = await host();
    const lines = hv.appctl("upcall/show").split("\n");
    expect(lines[1]).toMatch(/^ {2}flows {9}: \(current 0\) \(avg 0\) \(max 0\) \(limit 10000\)$/);
    expect(lines[2]).toBe("  dump duration : 1ms");
    expect(lines[3]).toBe("  ufid enabled : true");
    expect(lines.at(-2)).toBe("  1: (keys 0)");
  });

  it("dump-ports lists ports in the order OVS's port hash table iterates them", async () => {
    const world = new World({ seed: 3 });
    const hv = new Hypervisor(world, "hv1");
    await hv.start();
    await hv.addBridge("br0", { failMode: "secure" });
    for (const i of [1, 2, 3, 4, 5]) {
      hv.netdev(`p${i}`);
      await hv.addPort("br0", `p${i}`, { ofportRequest: i });
    }
    // What OVS 3.1 prints for LOCAL then ports 1..5 added in turn.
    const order = [...hv.ofctl("dump-ports br0").matchAll(/port +(\w+):/g)].map((m) => m[1]);
    expect(order).toEqual(["4", "LOCAL", "1", "5", "2", "3"]);
  });

  it("dump-ports by port name shows the extra port-desc round trip in its xid", async () => {
    const { hv } = await host();
    expect(hv.ofctl("dump-ports br0 tap-vm1")).toMatch(/^OFPST_PORT reply \(xid=0x4\): 1 ports\n/);
    expect(hv.ofctl("dump-ports br0 1")).toMatch(/^OFPST_PORT reply \(xid=0x2\): 1 ports\n/);
  });
});
