import { mkdtempSync, readFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { Topology } from "../../sim/topology.js";

/** One hypervisor, a secure bridge with two rules, two VMs. */
async function oneHost() {
  const topo = new Topology({ seed: 3 });
  const hv1 = topo.host("hv1", { underlay: "192.168.0.1/24" });
  hv1
    .bridge("br0", { failMode: "secure" })
    .flows("priority=10,ip,actions=NORMAL", "priority=5,arp,actions=NORMAL");
  const a = hv1.vm("a", { ip: "10.0.0.1/24" }).attach("br0");
  const b = hv1.vm("b", { ip: "10.0.0.2/24" }).attach("br0");
  const net = await topo.start();
  return { net, a, b };
}

describe("Topology on one hypervisor", () => {
  it("pings between two VMs on one bridge", async () => {
    const { net, a, b } = await oneHost();
    const r = await net.ping(a, b, { count: 3 });
    expect(r.received).toBe(3);
    await net.stop();
  });

  it("credits datapath stats back to the OpenFlow rules that made the megaflows", async () => {
    const { net, a, b } = await oneHost();
    await net.ping(a, b, { count: 3 });
    net.run("2s");
    const flows = net.host("hv1").ofctl("dump-flows br0");
    expect(flows).toMatch(/n_packets=6, n_bytes=588, .*priority=10,ip actions=NORMAL/);
    expect(flows).toMatch(/n_packets=[1-9]\d*, .*priority=5,arp actions=NORMAL/);
    await net.stop();
  });

  it("loses pings while a VM's link is down and recovers when it comes back", async () => {
    const { net, a, b } = await oneHost();
    expect((await net.ping(a, b, { count: 1 })).received).toBe(1);
    net.linkDown("b");
    expect((await net.ping(a, b, { count: 2 })).received).toBe(0);
    net.linkUp("b");
    expect((await net.ping(a, b, { count: 2 })).received).toBe(2);
    await net.stop();
  });

  it("shows a miss and an installed megaflow in the first journey and a hit in the next", async () => {
    const { net, a, b } = await oneHost();
    await net.ping(a, b, { count: 1 });
    net.host("hv1").appctl("dpctl/del-flows");
    const first = net.journey(a, b);
    expect(first.delivered).toBe(true);
    const dp = first.hops.filter((h) => h.kind === "datapath").map((h) => h.detail);
    expect(dp.some((d) => d.includes("miss → upcall"))).toBe(true);
    expect(dp.some((d) => d.includes("installed: recirc_id(0)"))).toBe(true);
    const second = net.journey(a, b);
    const dp2 = second.hops.filter((h) => h.kind === "datapath").map((h) => h.detail);
    expect(dp2.every((d) => !d.includes("miss"))).toBe(true);
    expect(dp2.some((d) => /EMC hit|megaflow hit/.test(d))).toBe(true);
    expect(second.text).toContain("10.0.0.1 > 10.0.0.2 ICMP echo request");
    await net.stop();
  });

  it("captures a VM's vNIC into a pcap file", async () => {
    const { net, a, b } = await oneHost();
    const file = join(mkdtempSync(join(tmpdir(), "ovsim-topo-")), "a.pcap");
    const cap = await net.capture("a", file);
    await net.ping(a, b, { count: 2 });
    await cap.stop();
    const bytes = readFileSync(file);
    expect([0xa1b2c3d4, 0xa1b23c4d]).toContain(bytes.readUInt32LE(0));
    expect(bytes.length).toBeGreaterThan(24 + 4 * (16 + 98));
    await net.stop();
  });

  it("traces a packet through one bridge with ofproto/trace", async () => {
    const { net } = await oneHost();
    const t = net.trace("hv1", "br0", "in_port=tap-a,icmp,nw_src=10.0.0.1,nw_dst=10.0.0.2");
    expect(t).toContain('bridge("br0")');
    expect(t).toContain("priority 10");
    expect(t).toMatch(/Datapath actions: /);
    await net.stop();
  });

  it("reports UDP traffic throughput and loss", async () => {
    const { net, a, b } = await oneHost();
    const [r] = await net.traffic([{ from: a, to: b, rate: "10Mbit", duration: "1s" }]);
    expect(r!.loss).toBe(0);
    expect(r!.throughputBps).toBeGreaterThan(9e6);
    await net.stop();
  });

  it("gives the same datapath flows for the same seed", async () => {
    const dumps: string[] = [];
    for (let i = 0; i < 2; i++) {
      const { net, a, b } = await oneHost();
      await net.pingAll();
      await net.ping(a, b, { count: 2 });
      dumps.push(net.host("hv1").dpctlDumpFlows());
      await net.stop();
    }
    expect(dumps[0]).not.toBe("");
    expect(dumps[1]).toBe(dumps[0]);
  });

  it("refuses to start an invalid topology before building anything", async () => {
    const topo = new Topology();
    const hv = topo.host("hv1", { underlay: "192.168.0.1/24" });
    hv.vm("a", { ip: "10.0.0.1/24" }).attach("br0");
    hv.vm("b", { ip: "10.0.0.1/24" }).attach("br0");
    await expect(topo.start()).rejects.toThrow(/already used by vm "a"/);
  });
});

describe("Topology underlay helpers", () => {
  it("numbers hosts into the underlay prefix and joins them to a switch", () => {
    const topo = new Topology();
    const hs = topo.hosts(["hv1", "hv2", "hv3"], { underlay: "192.168.0.0/24" });
    topo.underlaySwitch("tor", hs, { latency: "50us" });
    expect(topo.spec.hosts.map((h) => h.underlayIp)).toEqual([
      "192.168.0.1/24",
      "192.168.0.2/24",
      "192.168.0.3/24",
    ]);
    expect(topo.spec.links.map((l) => `${l.a}=${l.b}`)).toEqual([
      "hv1:eth0=tor:p1",
      "hv2:eth0=tor:p2",
      "hv3:eth0=tor:p3",
    ]);
  });

  it("builds a leaf-spine whose hosts reach each other across leaves", async () => {
    const topo = new Topology();
    topo.leafSpine({ leaves: 2, spines: 2, hostsPerLeaf: 2, link: { latency: "10us" } });
    expect(topo.spec.hosts.length).toBe(4);
    expect(topo.spec.routers.map((r) => r.name)).toEqual(["spine1", "spine2"]);
    expect(topo.check()).toEqual([]);
    const net = await topo.start();
    const hv1 = net.host("hv1").stack;
    const s = hv1.ping("172.16.1.2", { count: 2 });
    net.world.runUntil(() => s.done);
    expect(s.result.received).toBe(2);
    await net.stop();
  });
});

describe("Topology overlays", () => {
  it("carries pings over a Geneve mesh", async () => {
    const topo = new Topology({ seed: 2 });
    const hs = topo.hosts(["hv1", "hv2"], { underlay: "192.168.7.0/24" });
    topo.underlaySwitch("tor", hs);
    for (const h of hs) h.bridge("br-int").geneveMesh({ vni: 7 });
    hs[0]!.vm("a", { ip: "10.7.0.1/24" }).attach();
    hs[1]!.vm("b", { ip: "10.7.0.2/24" }).attach();
    const net = await topo.start();
    expect((await net.ping("a", "b", { count: 2 })).received).toBe(2);
    expect(net.host("hv1").ofctl("show br-int")).toContain("(gnv7-hv2)");
    expect(net.journey("a", "b").text).toContain("Geneve vni 7 [");
    await net.stop();
  });

  it("refuses to put one bridge in two meshes under one overlay name", () => {
    const topo = new Topology();
    const hv = topo.host("hv1", { underlay: "192.168.0.1/24" });
    hv.bridge("br-int").vxlanMesh({ vni: 1, name: "x" });
    expect(() => hv.bridge("br-int").greMesh({ vni: 2, name: "x" })).toThrow(
      /give it another name/,
    );
  });
});
