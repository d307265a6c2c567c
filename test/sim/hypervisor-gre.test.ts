import { describe, expect, it } from "vitest";
import type { TunnelStack } from "../../overlay/index.js";
import { Hypervisor } from "../../sim/hypervisor.js";
import { UnderlaySwitch } from "../../sim/underlay-switch.js";
import { World } from "../../sim/world.js";

interface Outer {
  proto: number;
  tos: number;
  ttl: number;
  sport: number;
  dport: number;
  greKey: number;
}

/** Records the outer IPv4 header of every IPv4 frame crossing the underlay link. */
function watch(world: World, hv: Hypervisor): Outer[] {
  const seen: Outer[] = [];
  world.linkOf(hv.nic("eth0"))!.tap((kind, _from, f, o) => {
    if (kind !== "tx" || f[o + 12] !== 0x08 || f[o + 13] !== 0x00) return;
    const ip = o + 14;
    const l4 = ip + (f[ip]! & 15) * 4;
    const proto = f[ip + 9]!;
    seen.push({
      proto,
      tos: f[ip + 1]!,
      ttl: f[ip + 8]!,
      sport: proto === 17 ? (f[l4]! << 8) | f[l4 + 1]! : 0,
      dport: proto === 17 ? (f[l4 + 2]! << 8) | f[l4 + 3]! : 0,
      // GRE with the K bit: the key follows the 4-byte base header.
      greKey:
        proto === 47 && f[l4]! & 0x20
          ? ((f[l4 + 4]! << 24) | (f[l4 + 5]! << 16) | (f[l4 + 6]! << 8) | f[l4 + 7]!) >>> 0
          : -1,
    });
  });
  return seen;
}

/** Two hosts, one tunnel port each (ofport 10) and a VM (ofport 1), linked back to back. */
async function pair(
  type: "gre" | "vxlan",
  options: (i: number) => Record<string, string>,
  failMode: "standalone" | "secure" = "standalone",
) {
  const world = new World({ seed: 8 });
  const hvs: Hypervisor[] = [];
  for (const i of [1, 2]) {
    const hv = new Hypervisor(world, `hv${i}`);
    await hv.start();
    hv.nic("eth0", { ip: `192.168.0.${i}/24` });
    await hv.addBridge("br-int", { failMode });
    await hv.addPort("br-int", "tun0", { type, options: options(i), ofportRequest: 10 });
    hv.vm(`vm${i}`, { ip: `10.0.0.${i}/24` });
    await hv.attach(`vm${i}`, "br-int", { ofportRequest: 1 });
    hvs.push(hv);
  }
  world.link(hvs[0]!.nic("eth0"), hvs[1]!.nic("eth0"), { latency: "20us" });
  return { world, hvs };
}

function ping(world: World, hv: Hypervisor, vm: string, target: string, count = 3) {
  const p = hv.vms.get(vm)!.endpoint.ping(target, { count, intervalMs: 100, timeoutMs: 500 });
  world.runUntil(() => p.done);
  return p.result;
}

describe("two hypervisors over GRE", () => {
  it("ping VM to VM through GRE (IP protocol 47) carrying key 42", async () => {
    const { world, hvs } = await pair("gre", (i) => ({
      remote_ip: `192.168.0.${3 - i}`,
      key: "42",
    }));
    const outer = watch(world, hvs[0]!);
    expect(ping(world, hvs[0]!, "vm1", "10.0.0.2").received).toBe(3);
    const gre = outer.filter((o) => o.proto === 47);
    expect(gre.length).toBeGreaterThanOrEqual(4);
    expect(gre.every((o) => o.greKey === 42 && o.ttl === 64)).toBe(true);
    expect(hvs[0]!.appctl("dpctl/dump-flows")).toContain("set(tunnel(tun_id=0x2a,dst=192.168.0.2");
    expect(hvs[1]!.appctl("dpctl/dump-flows")).toContain(
      "tunnel(tun_id=0x2a,src=192.168.0.1,dst=192.168.0.2",
    );
    expect(hvs[1]!.appctl("dpif/show")).toContain("tun0 10/");
    expect(hvs[1]!.stack.counters.IpInUnknownProtos).toBe(0);
  });

  it("isolate hosts whose GRE keys differ: the packets arrive but reach no VM", async () => {
    const { world, hvs } = await pair("gre", (i) => ({
      remote_ip: `192.168.0.${3 - i}`,
      key: String(i),
    }));
    expect(ping(world, hvs[0]!, "vm1", "10.0.0.2", 2).received).toBe(0);
    // The datapath's gre_sys vport takes any key (as the kernel's does); vswitchd finds
    // no OpenFlow port for tun_id=1 and drops, so vm2 never sees vm1's ARP.
    expect((hvs[1]!.tunnels as TunnelStack).stats().rxPackets).toBeGreaterThan(0);
    expect(hvs[1]!.vms.get("vm2")!.endpoint.counters.ArpInRequests).toBe(0);
    expect(hvs[1]!.stack.counters.IpInUnknownProtos).toBe(0);
  });

  it("carry the outer TTL and TOS into tun_ttl / tun_tos of the received flow", async () => {
    const { world, hvs } = await pair(
      "gre",
      (i) => ({ remote_ip: `192.168.0.${3 - i}`, key: "7", ttl: "33", tos: "0x20" }),
      "secure",
    );
    const outer = watch(world, hvs[0]!);
    for (const hv of hvs) {
      hv.ofctl("add-flow br-int in_port=1,actions=output:10");
      hv.ofctl("add-flow br-int in_port=10,tun_ttl=33,tun_tos=32,actions=output:1");
    }
    expect(ping(world, hvs[0]!, "vm1", "10.0.0.2", 2).received).toBe(2);
    expect(outer.filter((o) => o.proto === 47).every((o) => o.ttl === 33 && o.tos === 0x20)).toBe(
      true,
    );
    expect(hvs[1]!.ofctl("dump-flows br-int")).toMatch(/n_packets=[1-9]\d*, .*tun_ttl=33/);
    expect(hvs[1]!.appctl("dpctl/dump-flows")).toMatch(/tunnel\([^)]*tos=0x20[^)]*ttl=33/);
  });

  it("drop what does not match the received TTL, proving the key is the outer one", async () => {
    const { world, hvs } = await pair(
      "gre",
      (i) => ({ remote_ip: `192.168.0.${3 - i}`, key: "7", ttl: "33" }),
      "secure",
    );
    for (const hv of hvs) {
      hv.ofctl("add-flow br-int in_port=1,actions=output:10");
      hv.ofctl("add-flow br-int in_port=10,tun_ttl=64,actions=output:1");
    }
    expect(ping(world, hvs[0]!, "vm1", "10.0.0.2", 2).received).toBe(0);
  });
});

describe("three hypervisors in a GRE mesh", () => {
  it("reach each other pairwise, each VM's traffic on the GRE port to its host", async () => {
    const world = new World({ seed: 9 });
    const tor = new UnderlaySwitch("tor");
    const hvs: Hypervisor[] = [];
    for (const i of [1, 2, 3]) {
      const hv = new Hypervisor(world, `hv${i}`);
      await hv.start();
      world.link(hv.nic("eth0", { ip: `192.168.0.${i}/24` }), tor.port(`p${i}`));
      await hv.addBridge("br-int", { failMode: "secure" });
      hv.vm(`vm${i}`, { ip: `10.0.0.${i}/24` });
      await hv.attach(`vm${i}`, "br-int", { ofportRequest: 1 });
      for (const j of [1, 2, 3]) {
        if (j === i) continue;
        await hv.addPort("br-int", `gre-hv${j}`, {
          type: "gre",
          options: { remote_ip: `192.168.0.${j}`, key: "42" },
          ofportRequest: 10 + j,
        });
        // Split horizon by construction: a tunnel only ever outputs to the VM.
        hv.ofctl(`add-flow br-int in_port=${10 + j},actions=output:1`);
        hv.ofctl(`add-flow br-int in_port=1,ip,nw_dst=10.0.0.${j},actions=output:${10 + j}`);
        hv.ofctl(`add-flow br-int in_port=1,arp,arp_tpa=10.0.0.${j},actions=output:${10 + j}`);
      }
      hvs.push(hv);
    }
    for (const [a, b] of [
      [1, 2],
      [2, 3],
      [3, 1],
    ] as const)
      expect(ping(world, hvs[a - 1]!, `vm${a}`, `10.0.0.${b}`, 2).received).toBe(2);
    const dump = hvs[0]!.ofctl("dump-flows br-int");
    expect(dump).toMatch(/n_packets=[1-9]\d*, .*in_port=12 /);
    expect(dump).toMatch(/n_packets=[1-9]\d*, .*in_port=13 /);
  });
});

describe("VXLAN between hypervisors on the raw underlay path", () => {
  it("uses a hashed outer UDP source port in 32768-60999 that differs across inner flows", async () => {
    const { world, hvs } = await pair("vxlan", (i) => ({
      remote_ip: `192.168.0.${3 - i}`,
      key: "100",
    }));
    const outer = watch(world, hvs[0]!);
    const vm1 = hvs[0]!.vms.get("vm1")!.endpoint;
    const vm2 = hvs[1]!.vms.get("vm2")!.endpoint;
    const sink = vm2.udpSocket().bind(9000);
    let got = 0;
    sink.onMessage = () => got++;
    for (let k = 0; k < 8; k++) {
      const s = vm1.udpSocket().bind(20000 + k);
      s.sendTo(new Uint8Array(32), "10.0.0.2", 9000);
      world.runUntilIdle();
    }
    expect(got).toBeGreaterThanOrEqual(7);
    const vx = outer.filter((o) => o.proto === 17 && o.dport === 4789);
    expect(vx.length).toBeGreaterThanOrEqual(8);
    expect(vx.every((o) => o.sport >= 32768 && o.sport <= 60999)).toBe(true);
    expect(new Set(vx.map((o) => o.sport)).size).toBeGreaterThan(3);
    expect((hvs[1]!.tunnels as TunnelStack).stats().rxPackets).toBeGreaterThanOrEqual(8);
    expect(hvs[1]!.stack.counters.UdpNoPorts).toBe(0);
  });
});
