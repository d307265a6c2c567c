import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { ARP_OP_REQUEST } from "../../packet/arp.js";
import { ETH_TYPE_VLAN_8021AD } from "../../packet/ethertype.js";
import {
  buildFrame,
  encodeFrame,
  encodingLengthFrame,
  type FrameSpec,
} from "../../packet/frame-builder.js";
import { ICMP_ECHO_REQUEST } from "../../packet/icmp.js";
import {
  ICMPV6_ECHO_REQUEST,
  ND_NEIGHBOR_ADVERT,
  ND_NEIGHBOR_SOLICIT,
  ND_OPT_SOURCE_LINKADDR,
  ND_OPT_TARGET_LINKADDR,
  ndLinkAddrOption,
} from "../../packet/icmpv6.js";
import { IPPROTO_FRAGMENT, IPPROTO_HOPOPTS } from "../../packet/ipproto.js";
import { encodeIpv6Options } from "../../packet/ipv6.js";
import { SCTP_CHUNK_INIT } from "../../packet/sctp.js";
import {
  encodeTcpOptions,
  TCP_OPT_NOP,
  TCP_SYN,
  tcpOptMss,
  tcpOptSackPermitted,
  tcpOptTimestamp,
  tcpOptWindowScale,
} from "../../packet/tcp.js";
import { hex, ip4, ip6, mac } from "./codec-helpers.js";

const A = mac("02:00:00:00:00:01");
const B = mac("02:00:00:00:00:02");
const eth = { dst: B, src: A };
const v4 = { src: ip4("10.0.0.1"), dst: ip4("10.0.0.2") };

// Expected bytes were produced by scapy 2.5 (/usr/bin/python3) from the equivalent
// layer stacks, e.g. Ether()/IP(id=1,flags=0)/UDP(sport=1234,dport=9999)/"hello world".
const vectors: { name: string; spec: FrameSpec; hex: string }[] = [
  {
    name: "UDP over IPv4",
    spec: {
      eth,
      ipv4: { ...v4, id: 1 },
      udp: { srcPort: 1234, dstPort: 9999 },
      payload: new TextEncoder().encode("hello world"),
    },
    hex: "02000000000202000000000108004500002700010000401166c30a0000010a00000204d2270f00132e1668656c6c6f20776f726c64",
  },
  {
    name: "TCP SYN with options",
    spec: {
      eth,
      ipv4: { ...v4, df: true },
      tcp: {
        srcPort: 40000,
        dstPort: 80,
        seq: 1000,
        flags: TCP_SYN,
        options: encodeTcpOptions([
          tcpOptMss(1460),
          tcpOptSackPermitted(),
          tcpOptTimestamp(1, 0),
          { kind: TCP_OPT_NOP },
          tcpOptWindowScale(7),
        ]),
      },
    },
    hex: "02000000000202000000000108004500003c00004000400626ba0a0000010a0000029c400050000003e800000000a002ffff93840000020405b40402080a000000010000000001030307",
  },
  {
    name: "ARP in an 802.1Q tag",
    spec: {
      eth,
      vlans: [{ vid: 10, pcp: 5 }],
      arp: {
        op: ARP_OP_REQUEST,
        sha: A,
        spa: Uint8Array.of(10, 0, 0, 1),
        tha: new Uint8Array(6),
        tpa: Uint8Array.of(10, 0, 0, 2),
      },
    },
    hex: "0200000000020200000000018100a00a080600010800060400010200000000010a0000010000000000000a000002",
  },
  {
    name: "ICMPv6 neighbor solicitation",
    spec: {
      eth: { dst: mac("33:33:ff:00:00:02"), src: A },
      ipv6: { src: ip6("fe80::1"), dst: ip6("ff02::1:ff00:2"), hopLimit: 255 },
      icmpv6: {
        type: ND_NEIGHBOR_SOLICIT,
        target: ip6("fe80::2"),
        options: [ndLinkAddrOption(ND_OPT_SOURCE_LINKADDR, A)],
      },
    },
    hex: "3333ff00000202000000000186dd6000000000203afffe800000000000000000000000000001ff0200000000000000000001ff00000287007a9700000000fe8000000000000000000000000000020101020000000001",
  },
  {
    name: "ICMPv6 neighbor advertisement",
    spec: {
      eth,
      ipv6: { src: ip6("fe80::2"), dst: ip6("fe80::1"), hopLimit: 255 },
      icmpv6: {
        type: ND_NEIGHBOR_ADVERT,
        solicited: true,
        override: true,
        target: ip6("fe80::2"),
        options: [ndLinkAddrOption(ND_OPT_TARGET_LINKADDR, B)],
      },
    },
    hex: "02000000000202000000000186dd6000000000203afffe800000000000000000000000000002fe8000000000000000000000000000018800181a60000000fe8000000000000000000000000000020201020000000002",
  },
  {
    name: "ICMP echo request",
    spec: {
      eth,
      ipv4: v4,
      icmp: { type: ICMP_ECHO_REQUEST, id: 0x1234, seq: 1 },
      payload: Uint8Array.of(0, 1, 2, 3, 4, 5, 6, 7),
    },
    hex: "02000000000202000000000108004500002400000000400166d70a0000010a0000020800d9ba123400010001020304050607",
  },
  {
    name: "ICMPv6 echo request",
    spec: {
      eth,
      ipv6: { src: ip6("fe80::1"), dst: ip6("fe80::2") },
      icmpv6: { type: ICMPV6_ECHO_REQUEST, id: 7, seq: 9 },
      payload: new TextEncoder().encode("abc"),
    },
    hex: "02000000000202000000000186dd60000000000b3a40fe800000000000000000000000000001fe8000000000000000000000000000028000be4200070009616263",
  },
  {
    name: "SCTP INIT (CRC32c byte order)",
    spec: {
      eth,
      ipv4: v4,
      sctp: {
        srcPort: 5000,
        dstPort: 5001,
        chunks: [
          {
            type: SCTP_CHUNK_INIT,
            data: Uint8Array.of(0, 0, 0, 1, 0, 1, 0, 0, 0, 10, 0, 10, 0, 0, 0, 1),
          },
        ],
      },
    },
    hex: "02000000000202000000000108004500003400000000408466440a0000010a0000021388138900000000b1c292e5010000140000000100010000000a000a00000001",
  },
  {
    name: "MPLS stack over IPv4",
    spec: {
      eth,
      mpls: [
        { label: 100, tc: 3, ttl: 64 },
        { label: 200, ttl: 63 },
      ],
      ipv4: v4,
      udp: { srcPort: 1, dstPort: 2 },
    },
    hex: "020000000002020000000001884700064640000c813f4500001c00000000401166cf0a0000010a000002000100020008ebd8",
  },
  {
    name: "IPv6 hop-by-hop router alert and fragment headers",
    spec: {
      eth,
      ipv6: {
        src: ip6("fe80::1"),
        dst: ip6("fe80::2"),
        extHeaders: [
          {
            type: IPPROTO_HOPOPTS,
            options: encodeIpv6Options([{ type: 5, data: Uint8Array.of(0, 0) }]),
          },
          { type: IPPROTO_FRAGMENT, fragOffset: 0, m: false, id: 0xabcdef },
        ],
      },
      udp: { srcPort: 1000, dstPort: 2000 },
      payload: new TextEncoder().encode("x"),
    },
    hex: "02000000000202000000000186dd6000000000190040fe800000000000000000000000000001fe8000000000000000000000000000022c000502000001001100000000abcdef03e807d000097f1f78",
  },
  {
    name: "QinQ with TOS and TTL",
    spec: {
      eth,
      vlans: [{ vid: 100, tpid: ETH_TYPE_VLAN_8021AD }, { vid: 20 }],
      ipv4: { ...v4, tos: 0xb8, ttl: 7 },
      udp: { srcPort: 1, dstPort: 2 },
    },
    hex: "02000000000202000000000188a8006481000014080045b8001c0000000007119f170a0000010a000002000100020008ebd8",
  },
  {
    name: "IPv4 router alert option",
    spec: {
      eth,
      ipv4: { ...v4, options: Uint8Array.of(0x94, 4, 0, 0) },
      udp: { srcPort: 1, dstPort: 2 },
    },
    hex: "020000000002020000000001080046000020000000004011d1c60a0000010a00000294040000000100020008ebd8",
  },
];

describe("buildFrame", () => {
  it.each(vectors.map((v) => [v.name, v] as const))(
    "builds %s byte for byte as scapy does",
    (_n, v) => {
      expect(hex(buildFrame(v.spec))).toBe(v.hex);
    },
  );

  it("accepts addresses as text and gives the same bytes", () => {
    const text = buildFrame({
      eth: { dst: "33:33:ff:00:00:02", src: "02:00:00:00:00:01" },
      ipv6: { src: "fe80::1", dst: "ff02::1:ff00:2", hopLimit: 255 },
      icmpv6: { type: ND_NEIGHBOR_SOLICIT, target: "fe80::2", sll: "02:00:00:00:00:01" },
    });
    expect(hex(text)).toBe(vectors.find((v) => v.name === "ICMPv6 neighbor solicitation")?.hex);
    const arp = buildFrame({
      eth: { dst: "02:00:00:00:00:02", src: "02:00:00:00:00:01" },
      vlans: [{ vid: 10, pcp: 5 }],
      arp: { op: ARP_OP_REQUEST, sha: "02:00:00:00:00:01", spa: "10.0.0.1", tpa: 0x0a000002 },
    });
    expect(hex(arp)).toBe(vectors.find((v) => v.name === "ARP in an 802.1Q tag")?.hex);
  });

  it("names a bad address in its error", () => {
    expect(() => buildFrame({ eth: { dst: "02:00:00:00:00", src: A }, ipv4: v4 })).toThrow(
      '"02:00:00:00:00" is not a MAC address',
    );
    expect(() => buildFrame({ eth, ipv4: { src: "10.0.0.256", dst: 1 } })).toThrow(
      '"10.0.0.256" is not an IPv4 address',
    );
  });

  it("pads to the 60-byte Ethernet minimum only when asked", () => {
    const spec: FrameSpec = { eth, ipv4: v4, udp: { srcPort: 1, dstPort: 2 } };
    expect(buildFrame(spec).length).toBe(42);
    const padded = buildFrame({ ...spec, padToMin: true });
    expect(padded.length).toBe(60);
    expect(padded.subarray(42).every((b) => b === 0)).toBe(true);
    expect(hex(padded.subarray(0, 42))).toBe(hex(buildFrame(spec)));
  });

  it("writes at an offset into a caller's buffer and returns the end offset", () => {
    const spec: FrameSpec = {
      eth,
      ipv4: v4,
      udp: { srcPort: 1, dstPort: 2 },
      payload: Uint8Array.of(9),
    };
    const buf = new Uint8Array(100).fill(0xee);
    const end = encodeFrame(spec, buf, 10);
    expect(end).toBe(10 + encodingLengthFrame(spec));
    expect(hex(buf.subarray(10, end))).toBe(hex(buildFrame(spec)));
    expect(buf[9]).toBe(0xee);
    expect(buf[end]).toBe(0xee);
  });

  it("sets the 802.3 length of an LLC frame to the bytes after the type field", () => {
    const f = buildFrame({
      eth,
      llc: { dsap: 0x42, ssap: 0x42, control: 3 },
      payload: new Uint8Array(35),
    });
    expect((f[12] << 8) | f[13]).toBe(38);
  });

  it("marks RARP with EtherType 0x8035", () => {
    const f = buildFrame({
      eth,
      arp: { op: 3, sha: A, spa: new Uint8Array(4), tha: A, tpa: new Uint8Array(4) },
    });
    expect((f[12] << 8) | f[13]).toBe(0x8035);
  });

  it("refuses a frame with nothing that names its EtherType", () => {
    expect(() => buildFrame({ eth, payload: Uint8Array.of(1) })).toThrow(/no EtherType/);
  });

  it("refuses ICMPv6 without the IPv6 header its checksum needs", () => {
    expect(() => buildFrame({ eth, ipv4: v4, icmpv6: { type: ICMPV6_ECHO_REQUEST } })).toThrow(
      /icmpv6 needs an ipv6 header/,
    );
  });

  it("keeps an explicit UDP checksum of zero as 'no checksum'", () => {
    const f = buildFrame({ eth, ipv4: v4, udp: { srcPort: 1, dstPort: 2, checksum: 0 } });
    expect((f[40] << 8) | f[41]).toBe(0);
  });

  it("always produces a frame of exactly encodingLengthFrame bytes", () => {
    fc.assert(
      fc.property(
        fc.uint8Array({ maxLength: 100 }),
        fc.integer({ min: 0, max: 2 }),
        (payload, vl) => {
          const spec: FrameSpec = {
            eth,
            vlans: Array.from({ length: vl }, (_, i) => ({ vid: i + 1 })),
            ipv4: v4,
            tcp: { srcPort: 1, dstPort: 2 },
            payload,
          };
          expect(buildFrame(spec).length).toBe(14 + 4 * vl + 20 + 20 + payload.length);
        },
      ),
    );
  });
});
