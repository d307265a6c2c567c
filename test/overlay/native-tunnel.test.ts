import { describe, expect, it } from "vitest";
import { Dpif, parseOdpKey } from "../../datapath/index.js";
import { fillUdpChecksumIpv4, internetChecksum, onesSum, parseIpv4 } from "../../packet/index.js";
import {
  decodeGeneve,
  decodeGre,
  decodeVxlan,
  OVERLAY_DROP,
  TNL_UDP_PORT_MAX,
  TNL_UDP_PORT_MIN,
  TunnelStack,
  UNDERLAY_TX,
  type Underlay,
} from "./_overlay.js";

const clock = { nowNs: () => 0 };

function icmpFrame(size = 64, srcLow = 1): Uint8Array {
  const f = new Uint8Array(size);
  f.set([0, 0, 0, 0, 0, 2, 0, 0, 0, 0, 0, srcLow, 0x08, 0x00], 0);
  f.set([0x45, 0, 0, size - 14, 0, 0, 0x40, 0, 64, 1, 0, 0, 10, 0, 0, srcLow, 10, 0, 0, 2], 14);
  const c = internetChecksum(f, 14, 20);
  f[24] = c >>> 8;
  f[25] = c & 0xff;
  f[34] = 8;
  return f;
}

function addFlow(dpif: Dpif, keyText: string, actions: string): void {
  const { key, mask } = parseOdpKey(keyText);
  dpif.flowPut(key, mask, actions);
}

const VXLAN_HDR =
  "header(size=50,type=4,eth(dst=00:00:00:00:00:02,src=00:00:00:00:00:01,dl_type=0x0800),ipv4(src=1.1.1.1,dst=2.2.2.2,proto=17,tos=0,ttl=64,frag=0x4000),udp(src=0,dst=4789,csum=0x0),vxlan(flags=0x8000000,vni=0x64))";
const VXLAN_CSUM_HDR = VXLAN_HDR.replace("csum=0x0", "csum=0xffff");
const GRE_HDR =
  "header(size=46,type=3,eth(dst=00:00:00:00:00:02,src=00:00:00:00:00:01,dl_type=0x0800),ipv4(src=1.1.1.1,dst=2.2.2.2,proto=47,tos=0,ttl=64,frag=0x4000),gre((flags=0xa000,proto=0x6558),csum=0x0,key=0x2a))";

/** A datapath with port 1 (VM) and port 3 (underlay NIC), recording what leaves port 3. */
function host() {
  const dpif = new Dpif({ clock, emcInsertInvProb: 0 });
  const stack = new TunnelStack();
  stack.attach(dpif);
  const out: Uint8Array[] = [];
  const vm: Uint8Array[] = [];
  dpif.addPort({
    name: "vm",
    type: "netdev",
    portNo: 1,
    port: { transmit: (f, o, l) => vm.push(f.slice(o, o + l)) },
  });
  dpif.addPort({
    name: "eth0",
    type: "netdev",
    portNo: 3,
    port: { transmit: (f, o, l) => out.push(f.slice(o, o + l)) },
  });
  return { dpif, stack, out, vm };
}

describe("native tunnelling: tnl_push and tnl_pop", () => {
  it("tnl_push fills IPv4 length and checksum, UDP length and an ephemeral source port", () => {
    const h = host();
    addFlow(h.dpif, "in_port(1),eth()", `tnl_push(tnl_port(4789),${VXLAN_HDR},out_port(3))`);
    const inner = icmpFrame();
    h.dpif.receive(1, inner, 0, inner.length);
    expect(h.out).toHaveLength(1);
    const f = h.out[0];
    expect(f.length).toBe(64 + 50);
    expect((f[16] << 8) | f[17]).toBe(64 + 36);
    expect(onesSum(f, 14, 20)).toBe(0xffff);
    const sport = (f[34] << 8) | f[35];
    expect(sport).toBeGreaterThanOrEqual(TNL_UDP_PORT_MIN);
    expect(sport).toBeLessThan(TNL_UDP_PORT_MAX);
    expect((f[38] << 8) | f[39]).toBe(64 + 16);
    expect(decodeVxlan(f, 42)).toEqual({ vni: 0x64 });
    expect([...f.subarray(50)]).toEqual([...inner]);
  });

  it("gives one inner flow one source port and spreads different flows", () => {
    const h = host();
    addFlow(h.dpif, "in_port(1),eth()", `tnl_push(tnl_port(4789),${VXLAN_HDR},out_port(3))`);
    const ports = new Set<number>();
    for (let i = 1; i <= 40; i++) {
      const fr = icmpFrame(64, i);
      h.dpif.receive(1, fr, 0, fr.length);
      h.dpif.receive(1, fr, 0, fr.length);
      const [a, b] = h.out.splice(0, 2);
      expect((a[34] << 8) | a[35]).toBe((b[34] << 8) | b[35]);
      ports.add((a[34] << 8) | a[35]);
    }
    expect(ports.size).toBeGreaterThan(30);
  });

  it("tnl_push computes a valid UDP checksum when the header asks for one", () => {
    const h = host();
    addFlow(h.dpif, "in_port(1),eth()", `tnl_push(tnl_port(4789),${VXLAN_CSUM_HDR},out_port(3))`);
    const inner = icmpFrame(77);
    h.dpif.receive(1, inner, 0, inner.length);
    const f = h.out[0];
    const copy = f.slice();
    fillUdpChecksumIpv4(copy, 34, f.length - 34, parseIpv4("1.1.1.1")!, parseIpv4("2.2.2.2")!);
    expect((f[40] << 8) | f[41]).not.toBe(0);
    expect([...f.subarray(40, 42)]).toEqual([...copy.subarray(40, 42)]);
  });

  it("tnl_push builds GRE with key and a checksum over header and payload", () => {
    const h = host();
    addFlow(h.dpif, "in_port(1),eth()", `tnl_push(tnl_port(2),${GRE_HDR},out_port(3))`);
    const inner = icmpFrame(64);
    h.dpif.receive(1, inner, 0, inner.length);
    const f = h.out[0];
    expect(f.length).toBe(64 + 46);
    expect(decodeGre(f, 34)).toMatchObject({ key: 0x2a, csum: true });
    expect(onesSum(f, 34, f.length - 34)).toBe(0xffff);
  });

  it("tnl_pop strips what tnl_push built and looks the inner frame up with tun_id, tun_src and tun_dst", () => {
    const a = host();
    addFlow(a.dpif, "in_port(1),eth()", `tnl_push(tnl_port(4789),${VXLAN_HDR},out_port(3))`);
    const inner = icmpFrame();
    a.dpif.receive(1, inner, 0, inner.length);
    const b = host();
    b.dpif.addPort({
      name: "vxlan_sys_4789",
      type: "vxlan",
      portNo: 2,
      options: { remote_ip: "flow", key: "flow" },
    });
    addFlow(b.dpif, "in_port(3),eth()", "tnl_pop(2)");
    addFlow(
      b.dpif,
      "tunnel(tun_id=0x64,src=1.1.1.1,dst=2.2.2.2,ttl=64,tp_dst=4789,flags(+df+key)),in_port(2),eth()",
      "1",
    );
    b.dpif.receive(3, a.out[0], 0, a.out[0].length);
    expect(b.vm).toHaveLength(1);
    expect([...b.vm[0]]).toEqual([...inner]);
  });

  it("tnl_pop drops and counts a corrupted outer header instead of throwing", () => {
    const a = host();
    addFlow(a.dpif, "in_port(1),eth()", `tnl_push(tnl_port(4789),${VXLAN_HDR},out_port(3))`);
    const inner = icmpFrame();
    a.dpif.receive(1, inner, 0, inner.length);
    const b = host();
    b.dpif.addPort({
      name: "vxlan_sys_4789",
      type: "vxlan",
      portNo: 2,
      options: { remote_ip: "flow", key: "flow" },
    });
    addFlow(b.dpif, "in_port(3),eth()", "tnl_pop(2)");
    addFlow(b.dpif, "in_port(2),eth()", "1");
    const bad = a.out[0].slice();
    bad[42] = 0x0c; // VXLAN flags with a reserved bit
    b.dpif.receive(3, bad, 0, bad.length);
    const trunc = a.out[0].slice(0, 40);
    b.dpif.receive(3, trunc, 0, trunc.length);
    expect(b.vm).toHaveLength(0);
    expect(b.stack.dropCounts[OVERLAY_DROP.BAD_VXLAN - 1]).toBe(1);
    expect(b.stack.dropCounts[OVERLAY_DROP.MALFORMED_OUTER - 1]).toBe(1);
  });
});

describe("native tunnelling with Geneve options", () => {
  it("tnl_push writes the option TLVs the header text carries, and tnl_pop accepts them", () => {
    const hdr =
      "header(size=58,type=5,eth(dst=00:00:00:00:00:02,src=00:00:00:00:00:01,dl_type=0x0800),ipv4(src=1.1.1.1,dst=2.2.2.2,proto=17,tos=0,ttl=64,frag=0x4000),udp(src=0,dst=6081,csum=0x0),geneve(crit,vni=0x7,options({class=0x102,type=0x80,len=4,0xdeadbeef})))";
    const a = host();
    addFlow(a.dpif, "in_port(1),eth()", `tnl_push(tnl_port(6081),${hdr},out_port(3))`);
    const inner = icmpFrame();
    a.dpif.receive(1, inner, 0, inner.length);
    const f = a.out[0];
    expect(f.length).toBe(64 + 58);
    const g = decodeGeneve(f, 42);
    expect(g.vni).toBe(7);
    expect(g.critical).toBe(true);
    expect(g.options?.map((o) => [o.optClass, o.type, [...o.data]])).toEqual([
      [0x102, 0x80, [0xde, 0xad, 0xbe, 0xef]],
    ]);
    const b = host();
    b.dpif.addPort({
      name: "gnv",
      type: "geneve",
      portNo: 2,
      options: { remote_ip: "flow", key: "flow" },
    });
    addFlow(b.dpif, "in_port(3),eth()", "tnl_pop(2)");
    addFlow(b.dpif, "tunnel(tun_id=0x7),in_port(2),eth()", "1");
    b.dpif.receive(3, f, 0, f.length);
    expect(b.vm.map((x) => [...x])).toEqual([[...inner]]);
  });

  it("rejects option text whose len does not match its data, naming the rule", () => {
    const h = host();
    const bad =
      "header(size=58,type=5,eth(dst=00:00:00:00:00:02,src=00:00:00:00:00:01,dl_type=0x0800),ipv4(src=1.1.1.1,dst=2.2.2.2,proto=17,tos=0,ttl=64,frag=0x4000),udp(src=0,dst=6081,csum=0x0),geneve(vni=0x7,options({class=0x102,type=0x80,len=4,0xdead})))";
    expect(() =>
      addFlow(h.dpif, "in_port(1),eth()", `tnl_push(tnl_port(6081),${bad},out_port(3))`),
    ).toThrow(/multiple of 4 up to 124/);
  });
});

describe("native tunnelling limits and checksums", () => {
  it("tnl_push drops and counts a packet whose outer datagram exceeds the route's MTU", () => {
    const h = host();
    const mtu = 64 + 36;
    h.stack.setUnderlay({
      route: () => ({ dev: "eth0", srcIp: 0x01010101, mtu }),
      sendIpv4: () => UNDERLAY_TX.SENT,
    });
    addFlow(h.dpif, "in_port(1),eth()", `tnl_push(tnl_port(4789),${VXLAN_HDR},out_port(3))`);
    const fits = icmpFrame(64);
    h.dpif.receive(1, fits, 0, fits.length);
    const big = icmpFrame(65);
    h.dpif.receive(1, big, 0, big.length);
    expect(h.out).toHaveLength(1);
    expect(h.stack.stats().drops.mtu_exceeded).toBe(1);
  });

  it("tnl_pop drops and counts a bad UDP checksum and a bad GRE checksum", () => {
    for (const [hdr, type, at] of [
      [VXLAN_CSUM_HDR, "vxlan", 60],
      [GRE_HDR, "gre", 60],
    ] as const) {
      const a = host();
      addFlow(a.dpif, "in_port(1),eth()", `tnl_push(tnl_port(2),${hdr},out_port(3))`);
      const inner = icmpFrame(80);
      a.dpif.receive(1, inner, 0, inner.length);
      const b = host();
      b.dpif.addPort({ name: "t", type, portNo: 2, options: { remote_ip: "flow", key: "flow" } });
      addFlow(b.dpif, "in_port(3),eth()", "tnl_pop(2)");
      addFlow(b.dpif, "in_port(2),eth()", "1");
      b.dpif.receive(3, a.out[0], 0, a.out[0].length);
      expect(b.vm).toHaveLength(1);
      const bad = a.out[0].slice();
      bad[at] ^= 0x01; // a byte of the inner frame: only the outer L4 checksum can notice
      b.dpif.receive(3, bad, 0, bad.length);
      expect(b.vm).toHaveLength(1);
      expect(b.stack.stats().drops.bad_csum).toBe(1);
    }
  });
});

describe("tunnel vport receive side", () => {
  it("drops and counts random bytes handed to it as IPv4 datagrams, never throwing", () => {
    const h = host();
    h.dpif.addPort({
      name: "vx",
      type: "vxlan",
      portNo: 2,
      options: { remote_ip: "flow", key: "flow" },
    });
    const underlay: Underlay = { route: () => undefined, sendIpv4: () => UNDERLAY_TX.SENT };
    h.stack.setUnderlay(underlay);
    let seed = 12345;
    const buf = new Uint8Array(200);
    for (let n = 0; n < 2000; n++) {
      for (let i = 0; i < buf.length; i++) {
        seed = (Math.imul(seed, 1103515245) + 12345) >>> 0;
        buf[i] = seed >>> 24;
      }
      // Make a fraction of them look like IPv4/UDP to port 4789 so deeper checks run.
      if (n % 2 === 0) {
        buf[0] = 0x45;
        buf[9] = 17;
        buf[22] = 0x12;
        buf[23] = 0xb5;
      }
      expect(() => h.stack.receiveIpv4(buf, 0, 20 + (n % 180))).not.toThrow();
    }
    expect(h.vm).toHaveLength(0);
    const drops = h.stack.stats().drops;
    expect(drops.malformed_outer + drops.bad_csum).toBeGreaterThan(0);
  });
});
