import { describe, expect, it } from "vitest";
import { build } from "../../examples/leaf-spine.js";

describe("example: leaf-spine underlay, 8 hypervisors, 64 VMs", () => {
  it("builds 8 hosts, 4 leaves, 2 spines and 64 VMs", () => {
    const t = build();
    expect(t.spec.hosts.length).toBe(8);
    expect(t.spec.switches.length).toBe(4);
    expect(t.spec.routers.length).toBe(2);
    expect(t.spec.vms.length).toBe(64);
    expect(t.check()).toEqual([]);
  });

  it("pings across racks through a spine and survives a host link flap", async () => {
    const net = await build().start();
    expect((await net.ping("vm1", "vm64", { count: 3 })).received).toBe(3);
    net.linkDown("hv8");
    expect((await net.ping("vm1", "vm64", { count: 2 })).received).toBe(0);
    net.linkUp("hv8");
    expect((await net.ping("vm1", "vm64", { count: 3 })).received).toBeGreaterThanOrEqual(2);
    await net.stop();
  });

  it("steers by flows on one flow-based tunnel port per host", async () => {
    const net = await build().start();
    await net.ping("vm1", "vm64", { count: 1 });
    expect(net.host("hv1").ofctl("show br-int")).toMatch(/\(vx5000\)/);
    expect(net.host("hv1").dpctlDumpFlows()).toMatch(
      /set\(tunnel\(tun_id=0x1388,src=172\.16\.0\.1,dst=172\.16\.3\.2/,
    );
    await net.stop();
  });
});
