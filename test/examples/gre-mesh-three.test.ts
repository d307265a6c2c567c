import { describe, expect, it } from "vitest";
import { build } from "../../examples/gre-mesh-three.js";
import { Topology } from "../../sim/topology.js";

describe("example: GRE mesh of three hosts", () => {
  it("reaches every VM from every VM", async () => {
    const net = await build().start();
    const all = await net.pingAll();
    expect(all.mismatches).toEqual([]);
    expect(all.pairs.length).toBe(30);
    expect(all.pairs.every((p) => p.actual)).toBe(true);
    await net.stop();
  });

  it("gives every host one flow-based GRE port keyed 42, through OVSDB", async () => {
    const net = await build().start();
    for (const h of ["hv1", "hv2", "hv3"]) {
      expect(net.host(h).ofctl("show br-int")).toContain("(gre42)");
      const options = await net.host(h).vsctl("get Interface gre42 options");
      expect(options).toContain('key="42"');
      expect(options).toContain("remote_ip=flow");
    }
    await net.stop();
  });

  it("sends each GRE packet to the VTEP of the destination VM's host", async () => {
    const net = await build().start();
    await net.ping("vm1", "vm6", { count: 1 });
    await net.ping("vm1", "vm4", { count: 1 });
    const flows = net.host("hv1").dpctlDumpFlows();
    expect(flows).toMatch(/set\(tunnel\(tun_id=0x2a,src=192\.168\.0\.1,dst=192\.168\.0\.3/);
    expect(flows).toMatch(/set\(tunnel\(tun_id=0x2a,src=192\.168\.0\.1,dst=192\.168\.0\.2/);
    const j = net.journey("vm1", "vm6");
    expect(j.delivered).toBe(true);
    expect(j.text).toContain("GRE key 42 [");
    await net.stop();
  });

  it("refuses a NORMAL-switched mesh of three hosts, which would loop", () => {
    const topo = new Topology();
    const hs = topo.hosts(["a", "b", "c"], { underlay: "192.168.0.0/24" });
    for (const h of hs) h.bridge("br-int").greMesh({ vni: 1 });
    expect(topo.check().map((e) => e.code)).toEqual(["ERR_TOPO_LOOP"]);
    for (const h of hs) h.bridge("br-int").flows("priority=10,actions=NORMAL");
    expect(topo.check()).toEqual([]);
  });
});
