import { describe, expect, it } from "vitest";
import { Hypervisor } from "../../sim/hypervisor.js";
import { World } from "../../sim/world.js";

async function pair() {
  const world = new World({ seed: 5 });
  const hvs: Hypervisor[] = [];
  for (const i of [1, 2]) {
    const hv = new Hypervisor(world, `hv${i}`);
    await hv.start();
    hv.nic("eth0", { ip: `192.168.0.${i}/24` });
    await hv.addBridge("br-int", { failMode: "standalone" });
    await hv.addPort("br-int", "vx0", {
      type: "vxlan",
      options: { remote_ip: `192.168.0.${3 - i}`, key: "100" },
    });
    hv.vm(`vm${i}`, { ip: `10.0.0.${i}/24` });
    await hv.attach(`vm${i}`, "br-int");
    hvs.push(hv);
  }
  world.link(hvs[0]!.nic("eth0"), hvs[1]!.nic("eth0"), { latency: "50us" });
  return { world, hvs };
}

describe("two hypervisors over VXLAN", () => {
  it("ping VM to VM through the tunnel, learning the remote MAC on the tunnel port", async () => {
    const { world, hvs } = await pair();
    const p = hvs[0]!.vms.get("vm1")!.endpoint.ping("10.0.0.2", { count: 3 });
    world.runUntil(() => p.done);
    expect(p.result.received).toBe(3);
    const flows = hvs[0]!.appctl("dpctl/dump-flows");
    expect(flows).toContain("set(tunnel(tun_id=0x64,dst=192.168.0.2");
    // vm1's MAC is learnt on hv2's tunnel port (ofport 1).
    expect(hvs[1]!.appctl("fdb/show br-int")).toMatch(/ {4}1 {5}0 {2}02:00:00:00:00:02/);
    expect(hvs[1]!.appctl("dpif/show")).toContain(
      "vx0 1/4789: (vxlan: key=100, remote_ip=192.168.0.1)",
    );
  });
});

async function pairWith(type: "vxlan" | "geneve", options: (i: number) => Record<string, string>) {
  const world = new World({ seed: 6 });
  const hvs: Hypervisor[] = [];
  for (const i of [1, 2]) {
    const hv = new Hypervisor(world, `hv${i}`);
    await hv.start();
    hv.nic("eth0", { ip: `192.168.0.${i}/24` });
    await hv.addBridge("br-int", { failMode: "secure" });
    await hv.addPort("br-int", "tun0", { type, options: options(i), ofportRequest: 10 });
    hv.vm(`vm${i}`, { ip: `10.0.0.${i}/24` });
    await hv.attach(`vm${i}`, "br-int", { ofportRequest: 1 });
    hvs.push(hv);
  }
  world.link(hvs[0]!.nic("eth0"), hvs[1]!.nic("eth0"));
  return { world, hvs };
}

describe("flow-based and Geneve tunnel ports", () => {
  it("steer by flows through one remote_ip=flow port per host", async () => {
    const { world, hvs } = await pairWith("vxlan", () => ({ remote_ip: "flow", key: "flow" }));
    for (const [i, hv] of hvs.entries()) {
      const peer = `192.168.0.${2 - i}`;
      hv.ofctl(
        `add-flow br-int in_port=1,actions=set_field:${peer}->tun_dst,set_field:7->tun_id,output:10`,
      );
      hv.ofctl("add-flow br-int in_port=10,tun_id=7,actions=output:1");
    }
    const p = hvs[0]!.vms.get("vm1")!.endpoint.ping("10.0.0.2", { count: 2 });
    world.runUntil(() => p.done);
    expect(p.result.received).toBe(2);
    expect(hvs[1]!.ofctl("dump-flows br-int")).toMatch(
      /n_packets=[1-9]\d*, .*tun_id=0x7,in_port=10/,
    );
  });

  it("carry VM traffic over Geneve with a fixed remote and key", async () => {
    const { world, hvs } = await pairWith("geneve", (i) => ({
      remote_ip: `192.168.0.${3 - i}`,
      key: "9",
    }));
    for (const hv of hvs) {
      hv.ofctl("add-flow br-int in_port=1,actions=output:10");
      hv.ofctl("add-flow br-int in_port=10,actions=output:1");
    }
    const p = hvs[0]!.vms.get("vm1")!.endpoint.ping("10.0.0.2", { count: 2 });
    world.runUntil(() => p.done);
    expect(p.result.received).toBe(2);
    expect(hvs[0]!.appctl("dpctl/dump-flows")).toContain("tp_dst=6081,flags(df|key))),6081");
  });
});

describe("the host's underlay routes", () => {
  it("show in ovs/route/show as cached routes of the NICs", async () => {
    const world = new World({ seed: 1 });
    const hv = new Hypervisor(world, "hv1");
    await hv.start();
    hv.nic("eth0", { ip: "192.168.0.1/24", gateway: "192.168.0.254" });
    expect(hv.appctl("ovs/route/show")).toBe(
      "Route Table:\nCached: 192.168.0.0/24 dev eth0 SRC 192.168.0.1\nCached: 0.0.0.0/0 dev eth0 GW 192.168.0.254 SRC 192.168.0.1\n",
    );
    expect(hv.underlay.route(0x0a000001)?.dev).toBe("eth0");
    expect(hv.underlay.route(0xc0a80005)).toEqual({ dev: "eth0", srcIp: 0xc0a80001, mtu: 1500 });
  });
});
