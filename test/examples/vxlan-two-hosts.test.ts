import { describe, expect, it } from "vitest";
import { build } from "../../examples/vxlan-two-hosts.js";

describe("example: two hypervisors over VXLAN", () => {
  it("pings vm1 to vm2 across the tunnel", async () => {
    const net = await build().start();
    const r = await net.ping("vm1", "vm2", { count: 3 });
    expect(r.received).toBe(3);
    await net.stop();
  });

  it("installs a megaflow that sets the tunnel on hv1 and one that matches it on hv2", async () => {
    const net = await build().start();
    await net.ping("vm1", "vm2", { count: 3 });
    const hv1 = net.host("hv1").dpctlDumpFlows();
    const hv2 = net.host("hv2").dpctlDumpFlows();
    expect(hv1).toMatch(
      /eth_type\(0x0800\).*actions:set\(tunnel\(tun_id=0x64,src=192\.168\.0\.1,dst=192\.168\.0\.2/,
    );
    expect(hv2).toMatch(
      /tunnel\(tun_id=0x64,src=192\.168\.0\.1,dst=192\.168\.0\.2.*eth_type\(0x0800\)/,
    );
    await net.stop();
  });

  it("learns the remote VM's MAC on the VXLAN port", async () => {
    const net = await build().start();
    await net.ping("vm1", "vm2", { count: 1 });
    const mac = [...net.host("hv2").vms.get("vm2")!.vnic.mac]
      .map((b) => b.toString(16).padStart(2, "0"))
      .join(":");
    const ofport = /\s(\d+)\(vx100-hv2\)/.exec(net.host("hv1").ofctl("show br-int"))![1];
    expect(net.host("hv1").appctl("fdb/show br-int")).toMatch(
      new RegExp(`^\\s+${ofport}\\s+0\\s+${mac}`, "m"),
    );
    await net.stop();
  });

  it("follows one packet through both datapaths and the underlay in a journey", async () => {
    const net = await build().start();
    await net.ping("vm1", "vm2", { count: 1 });
    const j = net.journey("vm1", "vm2");
    expect(j.delivered).toBe(true);
    expect(j.text).toContain("VXLAN vni 100 [");
    expect(j.hops.filter((h) => h.kind === "datapath").map((h) => h.where)).toEqual(
      expect.arrayContaining(["hv1", "hv2"]),
    );
    await net.stop();
  });

  it("loses pings while hv2's underlay link is down and recovers after", async () => {
    const net = await build().start();
    expect((await net.ping("vm1", "vm2", { count: 1 })).received).toBe(1);
    net.linkDown("hv2");
    expect((await net.ping("vm1", "vm2", { count: 2 })).received).toBe(0);
    net.linkUp("hv2");
    expect((await net.ping("vm1", "vm2", { count: 3 })).received).toBeGreaterThanOrEqual(2);
    await net.stop();
  });
});

describe("example: two hypervisors over VXLAN, node failure", () => {
  it("loses pings while hv2 is down and recovers when it comes back", async () => {
    const net = await build().start();
    expect((await net.ping("vm1", "vm2", { count: 1 })).received).toBe(1);
    net.hostDown("hv2");
    expect((await net.ping("vm1", "vm2", { count: 2 })).received).toBe(0);
    net.hostUp("hv2");
    expect((await net.ping("vm1", "vm2", { count: 3 })).received).toBeGreaterThanOrEqual(2);
    await net.stop();
  });
});

describe("example: two hypervisors over VXLAN, run twice", () => {
  it("gives the same journey and datapath flows for the same seed", async () => {
    const runs: string[] = [];
    for (let i = 0; i < 2; i++) {
      const net = await build(5).start();
      await net.ping("vm1", "vm2", { count: 2 });
      runs.push(net.journey("vm1", "vm2").text + net.host("hv2").dpctlDumpFlows());
      await net.stop();
    }
    expect(runs[0]).toContain("VXLAN vni 100");
    expect(runs[1]).toBe(runs[0]);
  });
});
