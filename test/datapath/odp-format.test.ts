import fc from "fast-check";
import { describe, expect, it } from "vitest";
import {
  DATAPATH_ERROR_CODES,
  formatOdpActions,
  formatOdpKey,
  parseOdpActions,
  parseOdpKey,
} from "../../datapath/index.js";

/** Flow keys exactly as OVS 3.1's `dpctl/dump-flows` printed them (dummy datapath). */
const OVS_KEYS = [
  "recirc_id(0),in_port(1),eth(src=00:00:00:00:00:01,dst=00:00:00:00:00:02),eth_type(0x0800),ipv4(src=10.0.0.1,dst=10.0.0.0/255.255.255.0,proto=6,tos=0,ttl=64,frag=no),tcp(src=80,dst=256/0xff00)",
  "recirc_id(0),in_port(2),eth(),eth_type(0x0806),arp(op=1)",
  "recirc_id(0),in_port(2),eth(),eth_type(0x86dd),ipv6(src=::1,dst=fe80::/ffff::,proto=17,frag=no),udp(dst=53)",
  "recirc_id(0x5),in_port(1),eth(),eth_type(0x0800),ipv4(frag=no)",
  "recirc_id(0),in_port(1),eth(),eth_type(0x0800),ipv4(proto=1,frag=no),icmp(type=8,code=0)",
  "recirc_id(0),in_port(1),eth(),eth_type(0x0800),ipv4(proto=6,frag=no),tcp_flags(syn|ack)",
  "recirc_id(0),in_port(1),eth(),eth_type(0x0800),ipv4(proto=6,frag=no),tcp_flags(+syn-ack)",
  "recirc_id(0),in_port(1),eth(),eth_type(0x8100),vlan(vid=10,pcp=0),encap(eth_type(0x0800),ipv4(frag=no))",
  "recirc_id(0),in_port(1),eth(),eth_type(0x0806),arp(sip=1.1.1.1,tip=2.2.2.0/255.255.255.0,op=1,sha=00:00:00:00:00:01,tha=00:00:00:00:00:00)",
  "recirc_id(0),in_port(1),eth(),eth_type(0x0800),ipv4(proto=1,frag=no),icmp(type=8)",
];

/** Action lists as OVS printed them. */
const OVS_ACTIONS = [
  "set(ipv4(src=10.0.0.1,ttl=63)),push_vlan(vid=10,pcp=0),2",
  "pop_vlan",
  "set(eth(src=00:00:00:00:00:05))",
  "trunc(100),2",
  "clone(set(ipv4(ttl=1)),2)",
  "sample(sample=50.0%,actions(2))",
  "push_vlan(vid=10,pcp=3),set(tcp(dst=80)),set(ipv4(src=1.2.3.4,dst=5.6.7.8,proto=6,tos=0,ttl=3,frag=no))",
  "push_vlan(tpid=0x88a8,vid=10,pcp=3)",
  "drop",
  "set(ipv4(src=1.2.3.4/255.255.0.0))",
  "set(eth(src=00:00:00:00:00:05,dst=00:00:00:00:00:06/ff:ff:ff:00:00:00))",
  "set(ipv6(src=::2,hlimit=3))",
  "1,2,3",
  "set(skb_mark(0x5))",
  "tnl_pop(100)",
  "set(udp(src=1)),userspace(pid=0,slow_path(action))",
  "userspace(pid=3,controller(reason=1,dont_send=0,continuation=0,recirc_id=1,rule_cookie=0,controller_id=0,max_len=65535))",
  "set(tunnel(tun_id=0x64,dst=192.168.1.2,ttl=64,tp_dst=4789,flags(df|key))),100",
  "tnl_push(tnl_port(4789),header(size=50,type=4,eth(dst=00:00:00:00:00:02,src=00:00:00:00:00:01,dl_type=0x0800),ipv4(src=1.1.1.1,dst=2.2.2.2,proto=17,tos=0,ttl=64,frag=0x4000),udp(src=0,dst=4789,csum=0x0),vxlan(flags=0x8000000,vni=0x64)),out_port(100))",
];

describe("datapath flow key text (dpctl syntax)", () => {
  it.each(OVS_KEYS)("prints %s back exactly as OVS does after parsing it", (text) => {
    const { key, mask } = parseOdpKey(text);
    expect(formatOdpKey(key, mask)).toBe(text);
  });

  it("normalises input the way OVS does (hex ports, implicit recirc_id(0))", () => {
    const { key, mask } = parseOdpKey(
      "in_port(1),eth(src=00:00:00:00:00:01,dst=00:00:00:00:00:02),eth_type(0x0800),ipv4(src=10.0.0.1,dst=10.0.0.0/255.255.255.0,proto=6,tos=0,ttl=64,frag=no),tcp(src=80,dst=0x100/0xff00)",
    );
    expect(formatOdpKey(key, mask)).toBe(OVS_KEYS[0]);
    const cidr = parseOdpKey(
      "in_port(1),eth(),eth_type(0x0800),ipv4(dst=10.0.0.0/24,frag=no),tcp()",
    );
    expect(formatOdpKey(cidr.key, cidr.mask)).toBe(
      "recirc_id(0),in_port(1),eth(),eth_type(0x0800),ipv4(dst=10.0.0.0/255.255.255.0,frag=no)",
    );
  });

  it("prints a tunnel match with masked flags", () => {
    const t =
      "tunnel(tun_id=0x64,src=1.1.1.1,dst=2.2.2.2,ttl=64,tp_dst=4789,flags(-df+key)),recirc_id(0),in_port(3),eth(),eth_type(0x0800)";
    const { key, mask } = parseOdpKey(t);
    expect(formatOdpKey(key, mask)).toBe(t);
  });

  it.each([
    ["in_port(1),eth(),bogus(1)", /unknown key attribute "bogus"/],
    ["in_port(1),eth(src=zz)", /MAC address/],
    ["in_port(1),eth(),eth_type(0x0800),ipv4(ttl=999)", /ttl needs a number/],
    ["in_port(1", /expected "\)"/],
    ["in_port(1),ct_state(0x21)", /does not support the "ct_state"/],
  ])("rejects %s with a message", (text, message) => {
    expect(() => parseOdpKey(text)).toThrow(message);
    expect(() => parseOdpKey(text)).toThrow(
      expect.objectContaining({ code: DATAPATH_ERROR_CODES.BAD_KEY }),
    );
  });

  it("round-trips random IPv4/TCP megaflows through text", () => {
    const octet = fc.integer({ min: 0, max: 255 });
    const ip = fc.tuple(octet, octet, octet, octet).map((o) => o.join("."));
    const mask = fc.constantFrom("", "/255.255.255.0", "/255.0.255.0");
    fc.assert(
      fc.property(
        fc.record({
          inPort: fc.integer({ min: 0, max: 65535 }),
          src: fc.option(fc.tuple(ip, mask), { nil: undefined }),
          dst: fc.option(fc.tuple(ip, mask), { nil: undefined }),
          ttl: fc.option(octet, { nil: undefined }),
          tos: fc.option(octet, { nil: undefined }),
          sport: fc.option(fc.integer({ min: 0, max: 65535 }), { nil: undefined }),
          dport: fc.option(fc.integer({ min: 0, max: 65535 }), { nil: undefined }),
        }),
        (r) => {
          const ipf: string[] = [];
          if (r.src) ipf.push(`src=${r.src[0]}${r.src[1]}`);
          if (r.dst) ipf.push(`dst=${r.dst[0]}${r.dst[1]}`);
          ipf.push("proto=6");
          if (r.tos !== undefined) ipf.push(`tos=${r.tos ? `0x${r.tos.toString(16)}` : "0"}`);
          if (r.ttl !== undefined) ipf.push(`ttl=${r.ttl}`);
          ipf.push("frag=no");
          const tcpf: string[] = [];
          if (r.sport !== undefined) tcpf.push(`src=${r.sport}`);
          if (r.dport !== undefined) tcpf.push(`dst=${r.dport}`);
          const text = `recirc_id(0),in_port(${r.inPort}),eth(),eth_type(0x0800),ipv4(${ipf.join(",")})${tcpf.length ? `,tcp(${tcpf.join(",")})` : ""}`;
          const a = parseOdpKey(text);
          const printed = formatOdpKey(a.key, a.mask);
          const b = parseOdpKey(printed);
          expect(Array.from(b.key)).toEqual(Array.from(a.key));
          expect(Array.from(b.mask)).toEqual(Array.from(a.mask));
          expect(printed).toBe(text);
        },
      ),
      { numRuns: 300 },
    );
  });
});

describe("datapath action text", () => {
  it.each(OVS_ACTIONS)("prints %s back exactly as OVS does after parsing it", (text) => {
    expect(formatOdpActions(parseOdpActions(text))).toBe(text);
  });

  it("normalises as OVS: recirc ids print in hex, userdata pads to 8 bytes", () => {
    expect(formatOdpActions(parseOdpActions("recirc(5)"))).toBe("recirc(0x5)");
    expect(formatOdpActions(parseOdpActions("userspace(pid=3,userdata(01020304))"))).toBe(
      "userspace(pid=3,userdata(0102030400000000))",
    );
  });

  it("tells a plain set from a masked one as OVS's parser does", () => {
    const plain = parseOdpActions("set(ipv4(src=1.2.3.4,dst=5.6.7.8,proto=6,tos=0,ttl=3,frag=no))")
      .list[0];
    const masked = parseOdpActions("set(ipv4(src=10.0.0.1,ttl=63))").list[0];
    expect(plain).toMatchObject({ type: "set", masked: false });
    expect(masked).toMatchObject({ type: "set", masked: true });
  });

  it("builds the exact outer header bytes of a VXLAN tnl_push", () => {
    const a = parseOdpActions(OVS_ACTIONS.find((t) => t.startsWith("tnl_push"))!).list[0];
    expect(a.type).toBe("tnl_push");
    const hex = Buffer.from((a as { header: Uint8Array }).header).toString("hex");
    expect(hex).toBe(
      "000000000002000000000001" +
        "0800" +
        "4500000000004000401100000101010102020202" +
        "000012b500000000" +
        "0800000000006400",
    );
  });

  it.each([
    ["recirc(0x5)", /decimal/],
    ["2,drop", /drop must be the only action/],
    ["foo(1)", /unknown action "foo"/],
    ["hash(l4(0))", /does not support the "hash" action/],
    ["set(ipv4(ttl=1)", /expected "\)"/],
    ["set(arp(op=1))", /not supported/],
    ["push_vlan(vid=4096)", /bad push_vlan field/],
    ["sample(sample=150%,actions(2))", /percentage/],
    ["trunc(10)", /at least 60/],
  ])("rejects %s with a message", (text, message) => {
    expect(() => parseOdpActions(text)).toThrow(message);
    expect(() => parseOdpActions(text)).toThrow(
      expect.objectContaining({ code: DATAPATH_ERROR_CODES.BAD_ACTION }),
    );
  });
});
