import { describe, expect, it } from "vitest";
import { creditRuleStats, Ofproto } from "../../vswitchd/index.js";

function bridge() {
  const of = new Ofproto();
  const b = of.addBridge("br0");
  of.addPort("br0", { name: "p1", ofport: 1, type: "dummy" });
  of.addPort("br0", { name: "p2", ofport: 2, type: "dummy" });
  return { of, b };
}

describe("a bridge's flow table", () => {
  it("dumps flows in ovs-ofctl's layout", () => {
    const { b } = bridge();
    b.addFlow("priority=10,ip,nw_dst=10.0.0.0/24,actions=output:2", 0);
    b.addFlow("table=1,cookie=0x5,idle_timeout=30,in_port=1,actions=drop", 0);
    expect(b.dumpFlows(2_500_000_000)).toBe(
      " cookie=0x0, duration=2.500s, table=0, n_packets=0, n_bytes=0, idle_age=2, priority=10,ip,nw_dst=10.0.0.0/24 actions=output:2\n" +
        " cookie=0x5, duration=2.500s, table=1, n_packets=0, n_bytes=0, idle_timeout=30, idle_age=2, in_port=1 actions=drop\n",
    );
  });

  it("replaces a flow with the same match and priority", () => {
    const { b } = bridge();
    b.addFlow("ip,actions=output:1", 0);
    b.addFlow("ip,actions=output:2", 0);
    expect(b.allRules()).toHaveLength(1);
    expect(b.dumpFlows(0)).toContain("actions=output:2");
  });

  it("deletes loosely by a wider pattern and strictly by exact match and priority", () => {
    const { b } = bridge();
    b.addFlow("priority=5,tcp,tp_dst=80,actions=drop", 0);
    b.addFlow("priority=6,tcp,actions=drop", 0);
    b.addFlow("priority=7,udp,actions=drop", 0);
    expect(b.delFlows("tcp,tp_dst=80", true)).toBe(0);
    expect(b.delFlows("priority=5,tcp,tp_dst=80", true)).toBe(1);
    expect(b.delFlows("tcp")).toBe(1);
    expect(b.allRules().map((r) => r.priority)).toEqual([7]);
    expect(b.delFlows("")).toBe(1);
  });

  it("modifies the actions of the selected flows", () => {
    const { b } = bridge();
    b.addFlow("priority=5,tcp,actions=drop", 0);
    b.addFlow("priority=5,udp,actions=drop", 0);
    expect(b.modFlows("tcp,actions=output:1")).toBe(1);
    expect(b.dumpFlows(0)).toContain("priority=5,tcp actions=output:1");
  });

  it("credits megaflow stats to the rules a translation used, and expires idle flows", () => {
    const { of, b } = bridge();
    b.addFlow("idle_timeout=10,in_port=1,actions=resubmit(,1)", 0);
    b.addFlow("table=1,actions=output:2", 0);
    const r = of.xlateText("br0", "in_port=1,ip");
    expect(r.rules).toHaveLength(2);
    creditRuleStats(r.rules, 3, 300, 5e9);
    expect(b.dumpFlows(5e9)).toContain("n_packets=3, n_bytes=300, idle_timeout=10, idle_age=0");
    expect(b.expire(14e9)).toHaveLength(0);
    expect(b.expire(15e9).map((x) => x.table)).toEqual([0]);
    expect(b.allRules()).toHaveLength(1);
  });

  it("starts a standalone bridge with the fail-open NORMAL flow", () => {
    const of = new Ofproto();
    const b = of.addBridge("br1", "standalone");
    expect(b.dumpFlows(0)).toContain("priority=0 actions=NORMAL");
  });
});

describe("ofproto/trace", () => {
  it("prints OVS's sections for a simple pipeline", () => {
    const { of, b } = bridge();
    b.addFlow("in_port=2,actions=resubmit(,5)", 0);
    b.addFlow("table=5,udp,actions=output:1", 0);
    const text = of.trace(
      "br0",
      "in_port=2,udp,nw_src=10.0.0.1,nw_dst=10.0.0.2,nw_ttl=64,tp_src=1,tp_dst=53",
    );
    expect(text).toBe(
      [
        "Flow: udp,in_port=2,vlan_tci=0x0000,dl_src=00:00:00:00:00:00,dl_dst=00:00:00:00:00:00,nw_src=10.0.0.1,nw_dst=10.0.0.2,nw_tos=0,nw_ecn=0,nw_ttl=64,nw_frag=no,tp_src=1,tp_dst=53",
        "",
        'bridge("br0")',
        "-------------",
        " 0. in_port=2, priority 32768",
        "    resubmit(,5)",
        " 5. udp, priority 32768",
        "    output:1",
        "",
        "Final flow: unchanged",
        "Megaflow: recirc_id=0,eth,udp,in_port=2,nw_frag=no",
        "Datapath actions: 2",
        "",
      ].join("\n"),
    );
  });

  it("learns MACs only with -generate, and then forwards to the learned port", () => {
    const { of, b } = bridge();
    b.addFlow("actions=NORMAL", 0);
    const learn = "in_port=2,dl_src=50:54:00:00:00:02,dl_dst=ff:ff:ff:ff:ff:ff";
    const reply = "in_port=1,dl_src=50:54:00:00:00:01,dl_dst=50:54:00:00:00:02";
    of.trace("br0", learn);
    const flood = [0xfffe, 2].map((p) => b.ports.get(p)!.dpPort).join(",");
    expect(of.xlateText("br0", reply).actions).toBe(flood);
    of.appctl(["ofproto/trace", "br0", learn, "-generate"]);
    expect(of.xlateText("br0", reply).actions).toBe(String(b.ports.get(2)!.dpPort));
    of.appctl(["fdb/flush", "br0"]);
    expect(of.xlateText("br0", reply).actions).not.toBe(String(b.ports.get(2)!.dpPort));
  });
});

describe("ports seen from the datapath", () => {
  it("map datapath numbers back to bridge ports and tunnel packets to their tunnel port", () => {
    const of = new Ofproto();
    of.addBridge("br0");
    const p1 = of.addPort("br0", { name: "p1", ofport: 1, type: "dummy" });
    const exact = of.addPort("br0", {
      name: "vx-a",
      ofport: 10,
      type: "vxlan",
      options: { remote_ip: "10.0.0.2", key: "100" },
    });
    const any = of.addPort("br0", {
      name: "vx-flow",
      ofport: 11,
      type: "vxlan",
      options: { remote_ip: "flow", key: "flow" },
    });
    expect(of.portByDp(p1.dpPort!)?.port.name).toBe("p1");
    expect(exact.dpPort).toBe(any.dpPort);
    expect(of.dpPorts.get(exact.dpPort!)).toBe("vxlan_sys_4789");
    const ip = (t: string) => t.split(".").reduce((v, x) => v * 256 + Number(x), 0);
    expect(
      of.tunnelReceivePort(exact.dpPort!, 100n, ip("10.0.0.2"), ip("10.0.0.1"))?.port.name,
    ).toBe("vx-a");
    expect(of.tunnelReceivePort(exact.dpPort!, 7n, ip("10.0.0.9"), ip("10.0.0.1"))?.port.name).toBe(
      "vx-flow",
    );
  });
});

describe("MAC learning", () => {
  it("ages entries after 300 s but keeps static fdb/add entries", () => {
    const of = new Ofproto();
    const b = of.addBridge("br0");
    b.mac.learn(0x505400000001, 0, 1, 0);
    b.mac.addStatic(0x505400000002, 0, 2);
    expect(b.mac.lookup(0x505400000001, 0, 299e9)?.port).toBe(1);
    expect(b.mac.lookup(0x505400000001, 0, 300e9)).toBeUndefined();
    expect(b.mac.lookup(0x505400000002, 0, 1e15)?.port).toBe(2);
    expect(b.mac.learn(0x010000000001, 0, 1, 0)).toBe(false);
  });
});
