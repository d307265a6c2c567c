import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { parseOdpKey } from "../../datapath/index.js";
import {
  buildFrame,
  type FlowKey,
  internetChecksum,
  pseudoSumIpv4,
  pseudoSumIpv6,
  W_TUN_DST,
  W_TUN_FLAGS,
  W_TUN_ID_LO,
  W_TUN_TOS_TTL,
} from "../../packet/index.js";
import { ip4, MAC_A, MAC_B, mac, makeDpif, tcp6Frame, tcpFrame, udpFrame } from "./helpers.js";

const rd16 = (b: Uint8Array, o: number) => (b[o] << 8) | b[o + 1];
const rd32 = (b: Uint8Array, o: number) =>
  ((b[o] << 24) | (b[o + 1] << 16) | (b[o + 2] << 8) | b[o + 3]) >>> 0;

/** True when the IPv4 header at `l3` and its TCP/UDP checksum verify from scratch. */
function ipv4ChecksumsOk(f: Uint8Array, l3 = 14): boolean {
  const ihl = (f[l3] & 0xf) * 4;
  if (internetChecksum(f, l3, ihl) !== 0) return false;
  const proto = f[l3 + 9];
  const l4 = l3 + ihl;
  const l4Len = rd16(f, l3 + 2) - ihl;
  if (proto === 17 && rd16(f, l4 + 6) === 0) return true;
  return (
    internetChecksum(
      f,
      l4,
      l4Len,
      pseudoSumIpv4(rd32(f, l3 + 12), rd32(f, l3 + 16), proto, l4Len),
    ) === 0
  );
}

function ipv6ChecksumsOk(f: Uint8Array, l3 = 14): boolean {
  const l4Len = rd16(f, l3 + 4);
  return (
    internetChecksum(f, l3 + 40, l4Len, pseudoSumIpv6(f, l3 + 8, l3 + 24, f[l3 + 6], l4Len)) === 0
  );
}

/** Runs `actions` on `frame` through a real megaflow hit and returns what each port got. */
function run(frame: Uint8Array, actions: string, keyText = "in_port(1),eth()") {
  const env = makeDpif(3);
  const { key, mask } = parseOdpKey(keyText);
  env.dp.flowPut(key, mask, actions);
  const before = Uint8Array.from(frame);
  env.dp.receive(1, frame, 0, frame.length);
  expect(Array.from(frame), "the caller's frame is never modified").toEqual(Array.from(before));
  return env.ports.map((p) => p.frames);
}

describe("incremental checksums", () => {
  it("stay valid for any addresses, ports, tos and ttl a set() writes (TCP, UDP, TCP over IPv6)", () => {
    const octet = fc.integer({ min: 0, max: 255 });
    const ip = fc.tuple(octet, octet, octet, octet).map((o) => o.join("."));
    const port = fc.integer({ min: 0, max: 65535 });
    fc.assert(
      fc.property(
        fc.record({
          src: ip,
          dst: ip,
          tos: octet,
          ttl: octet,
          sport: port,
          dport: port,
          osport: port,
          payload: fc.nat(40),
        }),
        (r) => {
          const tcp = run(
            tcpFrame({ sport: r.osport, payload: r.payload }),
            `set(ipv4(src=${r.src},dst=${r.dst},tos=${r.tos},ttl=${r.ttl})),set(tcp(src=${r.sport},dst=${r.dport})),2`,
            "in_port(1),eth(),eth_type(0x0800),ipv4(frag=no)",
          )[2][0];
          expect(ipv4ChecksumsOk(tcp)).toBe(true);
          const withSum = buildFrame({
            eth: { src: mac(MAC_A), dst: mac(MAC_B) },
            ipv4: { src: ip4("10.0.0.1"), dst: ip4("10.0.0.2") },
            udp: { srcPort: r.osport, dstPort: 53 },
            payload: new Uint8Array(r.payload).fill(r.tos),
          });
          const udp = run(
            withSum,
            `set(ipv4(src=${r.src},dst=${r.dst},ttl=${r.ttl})),set(udp(src=${r.sport},dst=${r.dport})),2`,
            "in_port(1),eth(),eth_type(0x0800),ipv4(frag=no)",
          )[2][0];
          expect(ipv4ChecksumsOk(udp)).toBe(true);
          expect(rd16(udp, 40)).not.toBe(0);
          const v6 = run(
            tcp6Frame({ sport: r.osport }),
            `set(ipv6(src=2001:db8::${r.sport.toString(16)},dst=fe80::${r.dport.toString(16)})),set(tcp(dst=${r.dport})),2`,
            "in_port(1),eth(),eth_type(0x86dd),ipv6(frag=no)",
          )[2][0];
          expect(ipv6ChecksumsOk(v6)).toBe(true);
        },
      ),
      { numRuns: 300 },
    );
  });
});

describe("datapath actions on real packets", () => {
  it("output sends the frame unchanged to each listed port, and unknown ports drop", () => {
    const f = udpFrame();
    const out = run(f, "2,3,99");
    expect(Array.from(out[2][0])).toEqual(Array.from(f));
    expect(Array.from(out[3][0])).toEqual(Array.from(f));
  });

  it("set(ipv4(...)) rewrites addresses, tos and ttl and keeps IPv4 and TCP checksums valid", () => {
    const f = tcpFrame({ ttl: 64 });
    expect(ipv4ChecksumsOk(f)).toBe(true);
    const g = run(f, "set(ipv4(src=192.168.7.9,dst=172.16.0.1,tos=0x28,ttl=63)),2")[2][0];
    expect(rd32(g, 26)).toBe(ip4("192.168.7.9"));
    expect(rd32(g, 30)).toBe(ip4("172.16.0.1"));
    expect(g[15]).toBe(0x28);
    expect(g[22]).toBe(63);
    expect(ipv4ChecksumsOk(g)).toBe(true);
  });

  it("masked set(ipv4(src=a/m)) changes only the masked bits", () => {
    const g = run(tcpFrame({ src: "10.1.2.3" }), "set(ipv4(src=192.168.0.0/255.255.0.0)),2")[2][0];
    expect(rd32(g, 26)).toBe(ip4("192.168.2.3"));
    expect(ipv4ChecksumsOk(g)).toBe(true);
  });

  it("set(udp(...)) fixes a present UDP checksum and leaves a zero one zero", () => {
    const withSum = buildFrame({
      eth: { src: mac(MAC_A), dst: mac(MAC_B) },
      ipv4: { src: ip4("10.0.0.1"), dst: ip4("10.0.0.2") },
      udp: { srcPort: 5000, dstPort: 53 },
      payload: new Uint8Array(9).fill(7),
    });
    expect(rd16(withSum, 40)).not.toBe(0);
    const g = run(withSum, "set(udp(src=1,dst=4789)),2")[2][0];
    expect(rd16(g, 34)).toBe(1);
    expect(rd16(g, 36)).toBe(4789);
    expect(ipv4ChecksumsOk(g)).toBe(true);
    const h = run(udpFrame({ checksum: 0 }), "set(udp(dst=99)),set(ipv4(dst=1.2.3.4)),2")[2][0];
    expect(rd16(h, 40)).toBe(0);
    expect(rd16(h, 36)).toBe(99);
    expect(ipv4ChecksumsOk(h)).toBe(true);
  });

  it("set(tcp(...)) rewrites ports with a valid checksum, and is skipped on a UDP packet", () => {
    const g = run(tcpFrame(), "set(tcp(src=443,dst=8080)),2")[2][0];
    expect(rd16(g, 34)).toBe(443);
    expect(rd16(g, 36)).toBe(8080);
    expect(ipv4ChecksumsOk(g)).toBe(true);
    const u = udpFrame();
    expect(Array.from(run(u, "set(tcp(dst=1)),2")[2][0])).toEqual(Array.from(u));
  });

  it("set(ipv6(...)) rewrites addresses, tclass, label and hop limit with a valid TCP checksum", () => {
    const f = tcp6Frame();
    expect(ipv6ChecksumsOk(f)).toBe(true);
    const g = run(
      f,
      "set(ipv6(src=2001:db8::5,dst=2001:db8::6,label=0x12345,tclass=0x20,hlimit=9)),2",
    )[2][0];
    expect(rd16(g, 22)).toBe(0x2001);
    expect(g[37]).toBe(5);
    expect(g[53]).toBe(6);
    expect(rd32(g, 14)).toBe(((6 << 28) | (0x20 << 20) | 0x12345) >>> 0);
    expect(g[21]).toBe(9);
    expect(ipv6ChecksumsOk(g)).toBe(true);
  });

  it("set(eth(...)) rewrites MACs, masked bits only where a mask is given", () => {
    const g = run(
      udpFrame(),
      "set(eth(src=aa:bb:cc:dd:ee:ff,dst=12:34:56:00:00:00/ff:ff:ff:00:00:00)),2",
    )[2][0];
    expect(Array.from(g.subarray(6, 12))).toEqual([0xaa, 0xbb, 0xcc, 0xdd, 0xee, 0xff]);
    expect(Array.from(g.subarray(0, 6))).toEqual([0x12, 0x34, 0x56, 0, 0, 2]);
  });

  it("push_vlan inserts an 802.1Q tag and pop_vlan removes it again", () => {
    const f = tcpFrame();
    const out = run(
      f,
      "push_vlan(vid=10,pcp=3),2,push_vlan(tpid=0x88a8,vid=20,pcp=0),3,pop_vlan,pop_vlan,1",
    );
    const g = out[2][0];
    expect(g.length).toBe(f.length + 4);
    expect(rd16(g, 12)).toBe(0x8100);
    expect(rd16(g, 14)).toBe((3 << 13) | 0x1000 | 10);
    expect(Array.from(g.subarray(16))).toEqual(Array.from(f.subarray(12)));
    const q = out[3][0];
    expect(rd16(q, 12)).toBe(0x88a8);
    expect(rd16(q, 16)).toBe(0x8100);
    expect(Array.from(out[1][0])).toEqual(Array.from(f));
  });

  it("set(ipv4(...)) after push_vlan still finds the IPv4 header", () => {
    const g = run(
      tcpFrame(),
      "push_vlan(vid=10,pcp=0),set(ipv4(ttl=5)),2",
      "in_port(1),eth(),eth_type(0x0800),ipv4(frag=no)",
    )[2][0];
    expect(g[18 + 8]).toBe(5);
    expect(ipv4ChecksumsOk(g, 18)).toBe(true);
  });

  it("clone(...) works on a copy, leaving the frame the later actions see untouched", () => {
    const out = run(
      tcpFrame({ ttl: 64 }),
      "clone(set(ipv4(ttl=1)),2),3",
      "in_port(1),eth(),eth_type(0x0800),ipv4(frag=no)",
    );
    expect(out[2][0][22]).toBe(1);
    expect(out[3][0][22]).toBe(64);
    expect(ipv4ChecksumsOk(out[2][0])).toBe(true);
  });

  it("trunc(n) shortens only the next output", () => {
    const f = tcpFrame({ payload: 200 });
    const out = run(f, "trunc(100),2,3");
    expect(out[2][0].length).toBe(100);
    expect(out[3][0].length).toBe(f.length);
  });

  it("sample(...) at 0% never runs its actions and at 100% always does", () => {
    const f = udpFrame();
    const out = run(f, "sample(sample=0.0%,actions(2)),sample(sample=100.0%,actions(3))");
    expect(out[2]).toHaveLength(0);
    expect(out[3]).toHaveLength(1);
  });

  it("set(tunnel(...)) hands the tunnel metadata to a tunnel vport", () => {
    const env = makeDpif(2);
    const seen: { tunId: number; dst: number; ttl: number; flags: number }[] = [];
    env.dp.registerVportType("vxlan", () => ({
      transmitTunnel(_f: Uint8Array, _o: number, _l: number, t: FlowKey) {
        seen.push({
          tunId: t[W_TUN_ID_LO],
          dst: t[W_TUN_DST],
          ttl: t[W_TUN_TOS_TTL] & 0xff,
          flags: t[W_TUN_FLAGS],
        });
      },
    }));
    env.dp.addPort({ name: "vxlan_sys_4789", type: "vxlan", portNo: 100 });
    const { key, mask } = parseOdpKey("in_port(1),eth()");
    env.dp.flowPut(
      key,
      mask,
      "set(tunnel(tun_id=0x64,dst=192.168.1.2,ttl=64,tp_dst=4789,flags(df|key))),100",
    );
    const f = udpFrame();
    env.dp.receive(1, f, 0, f.length);
    expect(seen).toEqual([{ tunId: 0x64, dst: ip4("192.168.1.2"), ttl: 64, flags: 5 }]);
  });

  it("tnl_push and tnl_pop call the overlay's hooks and continue with their result", () => {
    const env = makeDpif(3);
    env.dp.setTunnelHooks({
      tnlPush(_a, frame, off, len, out) {
        frame.fill(0xee, off - 8, off);
        out[0] = off - 8;
        out[1] = len + 8;
        return true;
      },
      tnlPop(_port, _frame, off, len, key, out) {
        key[W_TUN_ID_LO] = 0x64;
        out[0] = off + 8;
        out[1] = len - 8;
        return true;
      },
    });
    const hdr =
      "header(size=50,type=4,eth(dst=00:00:00:00:00:02,src=00:00:00:00:00:01,dl_type=0x0800),ipv4(src=1.1.1.1,dst=2.2.2.2,proto=17,tos=0,ttl=64,frag=0x4000),udp(src=0,dst=4789,csum=0x0),vxlan(flags=0x8000000,vni=0x64))";
    const k1 = parseOdpKey("in_port(1),eth()");
    env.dp.flowPut(k1.key, k1.mask, `tnl_push(tnl_port(4789),${hdr},out_port(2))`);
    const k2 = parseOdpKey("in_port(2),eth()");
    env.dp.flowPut(k2.key, k2.mask, "tnl_pop(3)");
    const k3 = parseOdpKey("tunnel(tun_id=0x64),in_port(3),eth()");
    env.dp.flowPut(k3.key, k3.mask, "1");
    const f = udpFrame();
    env.dp.receive(1, f, 0, f.length);
    const pushed = env.ports[2].frames[0];
    expect(pushed.length).toBe(f.length + 8);
    expect(pushed[0]).toBe(0xee);
    env.dp.receive(2, pushed, 0, pushed.length);
    expect(Array.from(env.ports[1].frames[0])).toEqual(Array.from(f));
  });
});
