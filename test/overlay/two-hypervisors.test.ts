import { describe, expect, it } from "vitest";
import { OVERLAY_DROP } from "./_overlay.js";
import { dpctlAddFlow, ping, setup } from "./_two-hosts.js";

describe("two simulated hypervisors joined by an overlay", () => {
  it("VMs on the same VXLAN VNI ping each other", () => {
    const { world, a, b } = setup("vxlan", "100", "100");
    expect(ping(world, a, "10.0.0.2").received).toBe(3);
    expect(a.stack.txPackets).toBeGreaterThan(0);
    expect(b.stack.rxPackets).toBeGreaterThan(0);
    expect(a.stack.stats().drops.no_port).toBe(0);
  });

  it("VMs on different VXLAN VNIs do not reach each other, and the receiver counts no matching port", () => {
    const { world, a, b } = setup("vxlan", "100", "200");
    expect(ping(world, a, "10.0.0.2").received).toBe(0);
    expect(b.stack.dropCounts[OVERLAY_DROP.NO_PORT - 1]).toBeGreaterThan(0);
  });

  it("VMs on the same Geneve VNI ping each other", () => {
    const { world, a } = setup("geneve", "7", "7");
    expect(ping(world, a, "10.0.0.2").received).toBe(3);
  });

  it("GRE with equal keys pings, with different keys does not", () => {
    const same = setup("gre", "42", "42");
    expect(ping(same.world, same.a, "10.0.0.2").received).toBe(3);
    const diff = setup("gre", "42", "43");
    expect(ping(diff.world, diff.a, "10.0.0.2").received).toBe(0);
    expect(diff.b.stack.stats().drops.no_port).toBeGreaterThan(0);
  });

  it("GRE without keys pings, and a keyless port refuses keyed packets", () => {
    const plain = setup("gre", undefined, undefined);
    expect(ping(plain.world, plain.a, "10.0.0.2").received).toBe(3);
    const mixed = setup("gre", "5", undefined);
    expect(ping(mixed.world, mixed.a, "10.0.0.2").received).toBe(0);
  });

  it("drops VXLAN packets one byte over the underlay MTU and counts them; 50 bytes of overhead", () => {
    // Inner IP packet = size + 28; the outer IPv4 datagram adds 14 + 8 + 8 + 20 = 50 - 14.
    const ok = setup("vxlan", "1", "1", 9000);
    expect(ping(ok.world, ok.a, "10.0.0.2", 1500 - 50 - 28).received).toBe(3);
    expect(ok.a.stack.stats().drops.mtu_exceeded).toBe(0);
    const big = setup("vxlan", "1", "1", 9000);
    expect(ping(big.world, big.a, "10.0.0.2", 1500 - 50 - 28 + 1).received).toBe(0);
    expect(big.a.stack.stats().drops.mtu_exceeded).toBe(3);
    expect(big.a.stack.show()).toMatch(
      /overhead 50 bytes .*underlay MTU 1500 → inner IP packets up to 1450 bytes/,
    );
  });

  it("set(tunnel(...)) in the flow chooses the VNI and the receiver sees it in tun_id", () => {
    const { world, a, b } = setup("vxlan", "flow", "flow");
    a.dpif.flowFlush();
    dpctlAddFlow(
      a.dpif,
      "in_port(1),eth()",
      "set(tunnel(tun_id=0x2a,dst=192.168.1.2,ttl=9,flags(df|key))),2",
    );
    b.dpif.flowFlush();
    dpctlAddFlow(
      b.dpif,
      "tunnel(tun_id=0x2a,src=192.168.1.1,dst=192.168.1.2,ttl=9,flags(+df+key)),in_port(2),eth()",
      "1",
    );
    dpctlAddFlow(
      b.dpif,
      "in_port(1),eth()",
      "set(tunnel(tun_id=0x2a,dst=192.168.1.1,ttl=64,flags(df|key))),2",
    );
    dpctlAddFlow(
      a.dpif,
      "tunnel(tun_id=0x2a,src=192.168.1.2,dst=192.168.1.1,ttl=64,flags(+df+key)),in_port(2),eth()",
      "1",
    );
    expect(ping(world, a, "10.0.0.2").received).toBe(3);
  });
});
