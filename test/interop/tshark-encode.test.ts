/**
 * Frames built by packet/'s encoders, read back by tshark: every protocol stack must
 * decode as expected, with no malformed-packet or warning/error expert items and no
 * bad checksum (IPv4 header, UDP, TCP, ICMP, ICMPv6, SCTP CRC32c all verified).
 */
import { execFileSync, spawnSync } from "node:child_process";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import fc from "fast-check";
import { afterAll, describe, expect, it } from "vitest";
import { ARP_OP_RARP_REQUEST, ARP_OP_REQUEST } from "../../packet/arp.js";
import { ETH_TYPE_VLAN_8021AD } from "../../packet/ethertype.js";
import { buildFrame, type FrameSpec } from "../../packet/frame-builder.js";
import { ICMP_ECHO_REQUEST, ICMP_TIME_EXCEEDED } from "../../packet/icmp.js";
import {
  ICMPV6_ECHO_REQUEST,
  ND_NEIGHBOR_ADVERT,
  ND_NEIGHBOR_SOLICIT,
  ND_OPT_SOURCE_LINKADDR,
  ND_OPT_TARGET_LINKADDR,
  ndLinkAddrOption,
} from "../../packet/icmpv6.js";
import {
  IPPROTO_DSTOPTS,
  IPPROTO_FRAGMENT,
  IPPROTO_HOPOPTS,
  IPPROTO_ROUTING,
} from "../../packet/ipproto.js";
import { encodeIpv4Options } from "../../packet/ipv4.js";
import { encodeIpv6Options, type Ipv6ExtHeader } from "../../packet/ipv6.js";
import { NSH_M_TYPE1, NSH_M_TYPE2 } from "../../packet/nsh.js";
import { PcapWriter } from "../../packet/pcap.js";
import { SCTP_CHUNK_DATA, SCTP_CHUNK_INIT } from "../../packet/sctp.js";
import {
  encodeTcpOptions,
  TCP_ACK,
  TCP_OPT_NOP,
  TCP_PSH,
  TCP_SYN,
  tcpOptMss,
  tcpOptSackPermitted,
  tcpOptTimestamp,
  tcpOptWindowScale,
} from "../../packet/tcp.js";

const available = spawnSync("tshark", ["--version"], { stdio: "ignore" }).status === 0;
if (!available)
  console.warn("tshark-encode: skipped because `tshark` is not on PATH (Debian package tshark)");

const mac = (s: string) => Uint8Array.from(s.split(":").map((h) => Number.parseInt(h, 16)));
const ip4 = (s: string) => s.split(".").reduce((a, b) => a * 256 + Number(b), 0);
function ip6(s: string): Uint8Array {
  const [head, tail] = s.split("::");
  const h = head ? head.split(":") : [];
  const t = tail !== undefined && tail !== "" ? tail.split(":") : [];
  const words = [...h, ...Array(8 - h.length - t.length).fill("0"), ...t];
  const out = new Uint8Array(16);
  words.forEach((w, i) => {
    const v = Number.parseInt(w, 16);
    out[2 * i] = v >>> 8;
    out[2 * i + 1] = v & 0xff;
  });
  return out;
}
const bytes = (n: number, seed = 1) =>
  Uint8Array.from({ length: n }, (_, i) => (i * 7 + seed) & 0xff);

const A = mac("02:00:00:00:00:01");
const B = mac("02:00:00:00:00:02");
const eth = { dst: B, src: A };
const v4 = { src: ip4("10.0.0.1"), dst: ip4("10.0.0.2") };
const v6 = { src: ip6("fe80::1"), dst: ip6("fe80::2") };
const solicited = ip6("ff02::1:ff00:2");
/** RFC 6275 §6.4: a type 2 routing header holds 4 reserved bytes and the home address. */
const homeAddress = ip6("2001:db8::99");
const homeAddressData = new Uint8Array(20);
homeAddressData.set(homeAddress, 4);

/** Each case: a frame spec and the frame.protocols tshark must report. */
const cases: { name: string; spec: FrameSpec; protocols: string }[] = [
  {
    name: "UDP over IPv4",
    spec: {
      eth,
      ipv4: { ...v4, id: 1 },
      udp: { srcPort: 1234, dstPort: 9999 },
      payload: bytes(11),
    },
    protocols: "eth:ethertype:ip:udp:data",
  },
  {
    name: "TCP SYN with MSS, SACK-permitted, timestamps and window scale",
    spec: {
      eth,
      ipv4: { ...v4, df: true },
      tcp: {
        srcPort: 40000,
        dstPort: 9999,
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
    protocols: "eth:ethertype:ip:tcp",
  },
  {
    name: "TCP data over IPv6",
    spec: {
      eth,
      ipv6: v6,
      tcp: { srcPort: 40000, dstPort: 9999, seq: 5, ack: 7, flags: TCP_ACK | TCP_PSH },
      payload: bytes(33),
    },
    protocols: "eth:ethertype:ipv6:tcp:data",
  },
  {
    name: "ICMP echo request over IPv4 with options (record route, NOP)",
    spec: {
      eth,
      ipv4: {
        ...v4,
        options: encodeIpv4Options([
          { type: 1 },
          { type: 7, data: Uint8Array.of(4, 0, 0, 0, 0, 0, 0, 0, 0) },
        ]),
      },
      icmp: { type: ICMP_ECHO_REQUEST, id: 0x1234, seq: 1 },
      payload: bytes(32),
    },
    protocols: "eth:ethertype:ip:icmp:data",
  },
  {
    name: "ICMP time exceeded quoting a UDP datagram",
    spec: {
      eth,
      ipv4: v4,
      icmp: { type: ICMP_TIME_EXCEEDED, code: 0 },
      payload: buildFrame({ eth, ipv4: v4, udp: { srcPort: 1, dstPort: 2 } }).subarray(14),
    },
    protocols: "eth:ethertype:ip:icmp:ip:udp",
  },
  {
    name: "first IPv4 fragment",
    spec: {
      eth,
      ipv4: { ...v4, id: 77, mf: true },
      udp: { srcPort: 5, dstPort: 6, length: 8 + 40, checksum: 0 },
      payload: bytes(24),
    },
    protocols: "eth:ethertype:ip:data",
  },
  {
    name: "later IPv4 fragment",
    spec: { eth, ipv4: { ...v4, id: 78, fragOffset: 4, protocol: 17 }, payload: bytes(16) },
    protocols: "eth:ethertype:ip:data",
  },
  {
    name: "802.1Q VLAN",
    spec: {
      eth,
      vlans: [{ vid: 10, pcp: 5 }],
      ipv4: v4,
      udp: { srcPort: 1, dstPort: 2 },
      payload: bytes(4),
    },
    protocols: "eth:ethertype:vlan:ethertype:ip:udp:data",
  },
  {
    name: "QinQ (802.1ad over 802.1Q)",
    spec: {
      eth,
      vlans: [
        { vid: 100, tpid: ETH_TYPE_VLAN_8021AD },
        { vid: 20, dei: 1 },
      ],
      ipv4: v4,
      udp: { srcPort: 1, dstPort: 2 },
    },
    protocols: "eth:ethertype:ieee8021ad:ethertype:vlan:ethertype:ip:udp",
  },
  {
    name: "MPLS two-label stack over IPv4",
    spec: {
      eth,
      mpls: [
        { label: 100, ttl: 64, tc: 3 },
        { label: 200, ttl: 63 },
      ],
      ipv4: v4,
      udp: { srcPort: 1, dstPort: 2 },
    },
    protocols: "eth:ethertype:mpls:ip:udp",
  },
  {
    name: "ARP request",
    spec: {
      eth: { dst: mac("ff:ff:ff:ff:ff:ff"), src: A },
      arp: {
        op: ARP_OP_REQUEST,
        sha: A,
        spa: Uint8Array.of(10, 0, 0, 1),
        tha: new Uint8Array(6),
        tpa: Uint8Array.of(10, 0, 0, 2),
      },
      padToMin: true,
    },
    protocols: "eth:ethertype:arp",
  },
  {
    name: "RARP request",
    spec: {
      eth: { dst: mac("ff:ff:ff:ff:ff:ff"), src: A },
      arp: {
        op: ARP_OP_RARP_REQUEST,
        sha: A,
        spa: new Uint8Array(4),
        tha: A,
        tpa: new Uint8Array(4),
      },
    },
    protocols: "eth:ethertype:arp",
  },
  {
    name: "ICMPv6 echo request",
    spec: {
      eth,
      ipv6: v6,
      icmpv6: { type: ICMPV6_ECHO_REQUEST, id: 7, seq: 9 },
      payload: bytes(20),
    },
    protocols: "eth:ethertype:ipv6:icmpv6:data",
  },
  {
    name: "ICMPv6 neighbor solicitation with source link-layer address",
    spec: {
      eth: { dst: mac("33:33:ff:00:00:02"), src: A },
      ipv6: { src: v6.src, dst: solicited, hopLimit: 255 },
      icmpv6: {
        type: ND_NEIGHBOR_SOLICIT,
        target: v6.dst,
        options: [ndLinkAddrOption(ND_OPT_SOURCE_LINKADDR, A)],
      },
    },
    protocols: "eth:ethertype:ipv6:icmpv6",
  },
  {
    name: "ICMPv6 neighbor advertisement with target link-layer address",
    spec: {
      eth,
      ipv6: { src: v6.dst, dst: v6.src, hopLimit: 255 },
      icmpv6: {
        type: ND_NEIGHBOR_ADVERT,
        solicited: true,
        override: true,
        target: v6.dst,
        options: [ndLinkAddrOption(ND_OPT_TARGET_LINKADDR, B)],
      },
    },
    protocols: "eth:ethertype:ipv6:icmpv6",
  },
  {
    name: "IPv6 with hop-by-hop (router alert), destination options, routing and fragment headers",
    spec: {
      eth,
      ipv6: {
        ...v6,
        extHeaders: [
          {
            type: IPPROTO_HOPOPTS,
            options: encodeIpv6Options([{ type: 5, data: Uint8Array.of(0, 0) }]),
          },
          { type: IPPROTO_DSTOPTS, options: new Uint8Array(0) },
          { type: IPPROTO_ROUTING, routingType: 2, segmentsLeft: 1, data: homeAddressData },
          { type: IPPROTO_FRAGMENT, fragOffset: 0, m: false, id: 0xabcdef },
        ],
        finalDst: homeAddress,
      },
      udp: { srcPort: 1000, dstPort: 2000 },
      payload: bytes(9),
    },
    protocols: "eth:ethertype:ipv6:ipv6.hopopts:ipv6.dstopts:ipv6.routing:ipv6.fraghdr:udp:data",
  },
  {
    name: "SCTP INIT and DATA chunks with CRC32c",
    spec: {
      eth,
      ipv4: v4,
      sctp: {
        srcPort: 5000,
        dstPort: 5001,
        vtag: 0,
        chunks: [
          {
            type: SCTP_CHUNK_INIT,
            data: Uint8Array.of(0, 0, 0, 1, 0, 1, 0, 0, 0, 10, 0, 10, 0, 0, 0, 1),
          },
        ],
      },
    },
    protocols: "eth:ethertype:ip:sctp",
  },
  {
    name: "SCTP DATA chunk over IPv6",
    spec: {
      eth,
      ipv6: v6,
      sctp: {
        srcPort: 5000,
        dstPort: 5001,
        vtag: 0xdeadbeef,
        chunks: [
          {
            type: SCTP_CHUNK_DATA,
            flags: 3,
            data: Uint8Array.of(0, 0, 0, 1, 0, 0, 0, 0, 0, 0, 0, 0, 1, 2, 3),
          },
        ],
      },
    },
    protocols: "eth:ethertype:ipv6:sctp:data",
  },
  {
    name: "802.3 LLC/SNAP carrying IPv4",
    spec: {
      eth,
      llc: { dsap: 0xaa, ssap: 0xaa, control: 3, snap: { oui: 0, type: 0x0800 } },
      ipv4: v4,
      udp: { srcPort: 1, dstPort: 2 },
    },
    protocols: "eth:llc:ip:udp",
  },
  {
    name: "802.3 LLC (STP SAPs)",
    spec: {
      eth: { dst: mac("01:80:c2:00:00:00"), src: A },
      llc: { dsap: 0x42, ssap: 0x42, control: 3 },
      payload: new Uint8Array(35),
    },
    protocols: "eth:llc:stp",
  },
  {
    name: "NSH MD type 1 over Ethernet carrying IPv4",
    spec: {
      eth,
      nsh: { mdType: NSH_M_TYPE1, spi: 0x123456, si: 255, context: bytes(16) },
      ipv4: v4,
      udp: { srcPort: 1, dstPort: 2 },
    },
    protocols: "eth:ethertype:nsh:ip:udp",
  },
  {
    name: "NSH MD type 2 with a TLV carrying IPv6",
    spec: {
      eth,
      nsh: {
        mdType: NSH_M_TYPE2,
        spi: 1,
        si: 3,
        tlvs: [{ class: 0x0100, type: 1, data: bytes(5) }],
      },
      ipv6: v6,
      icmpv6: { type: ICMPV6_ECHO_REQUEST, id: 1, seq: 1 },
    },
    protocols: "eth:ethertype:nsh:ipv6:icmpv6",
  },
];

const CHECKSUMMED = new Set(["ip", "udp", "tcp", "icmp", "icmpv6", "sctp"]);

const FIELDS = [
  "frame.number",
  "frame.protocols",
  "_ws.malformed",
  "_ws.expert.severity",
  "_ws.expert.message",
  "ip.checksum.status",
  "udp.checksum.status",
  "tcp.checksum.status",
  "icmp.checksum.status",
  "icmpv6.checksum.status",
  "sctp.checksum.status",
];

/** Writes `frames` to a pcap in `dir` and returns tshark's FIELDS for each, in order. */
async function tsharkRows(dir: string, name: string, frames: Uint8Array[]): Promise<string[][]> {
  const file = join(dir, `${name}.pcap`);
  const w = await PcapWriter.create(file, { linkType: 1 });
  for (const [i, f] of frames.entries()) w.write(f, BigInt(i) * 1_000_000n);
  await w.close();
  const out = execFileSync(
    "tshark",
    [
      ...["-r", file, "-o", "ip.check_checksum:TRUE", "-o", "tcp.check_checksum:TRUE"],
      ...["-o", "udp.check_checksum:TRUE", "-o", "sctp.checksum:CRC-32C"],
      ...["-T", "fields", "-E", "separator=/t", "-E", "occurrence=a", "-E", "aggregator=|"],
      ...FIELDS.flatMap((f) => ["-e", f]),
    ],
    { encoding: "utf8", stdio: ["ignore", "pipe", "pipe"], maxBuffer: 1 << 26 },
  );
  return out
    .trimEnd()
    .split("\n")
    .map((l) => l.split("\t"));
}

/** Expert items at warning (0x00600000) or error severity; chat and note are informational. */
function badExperts(row: string[]): number[] {
  return (row[3] ? row[3].split("|").map(Number) : []).filter((s) => s >= 0x00600000);
}

/** Checksum statuses tshark reported for a row: 0 bad, 1 good, 2 unverified. */
function checksumStatuses(row: string[]): string[] {
  return row.slice(5).flatMap((f) => (f ? f.split("|") : []));
}

describe.skipIf(!available)("tshark reads packet/'s encoders as intended", () => {
  const dir = mkdtempSync(join(tmpdir(), "ovsim-tshark-"));
  afterAll(() => rmSync(dir, { recursive: true, force: true }));
  let rows: Promise<string[][]> | undefined;
  const dissect = () => {
    rows ??= tsharkRows(
      dir,
      "cases",
      cases.map((c) => buildFrame(c.spec)),
    );
    return rows;
  };

  it.each(cases.map((c, i) => [c.name, i] as const))(
    "decodes %s with the expected protocol stack",
    async (_name, i) => {
      const row = (await dissect())[i];
      expect(row[1]).toBe(cases[i].protocols);
    },
  );

  it.each(cases.map((c, i) => [c.name, i] as const))(
    "finds nothing malformed and no warning in %s",
    async (_name, i) => {
      const row = (await dissect())[i];
      expect(row[2]).toBe("");
      expect({ bad: badExperts(row), messages: row[4] }).toEqual({
        bad: [],
        messages: expect.any(String),
      });
    },
  );

  it.each(cases.map((c, i) => [c.name, i] as const))(
    "verifies every checksum in %s",
    async (_name, i) => {
      const statuses = checksumStatuses((await dissect())[i]);
      expect(statuses.filter((s) => s !== "1" && s !== "2")).toEqual([]);
      // Every checksummed layer tshark saw (ip, udp, tcp, icmp, icmpv6, sctp) verified good.
      const checked = cases[i].protocols.split(":").filter((p) => CHECKSUMMED.has(p)).length;
      expect(statuses.filter((s) => s === "1").length).toBeGreaterThanOrEqual(checked);
    },
  );
});

/**
 * Random stacks (seeded, so every run builds the same frames): VLAN tags, IPv4 with
 * options or IPv6 with extension headers, each L4 protocol, payloads of any length.
 * Lengths and checksums must come out right in every combination.
 */
const randomSpec: fc.Arbitrary<FrameSpec> = fc
  .record({
    vids: fc.array(fc.integer({ min: 1, max: 4094 }), { maxLength: 2 }),
    v6: fc.boolean(),
    ttl: fc.integer({ min: 1, max: 255 }),
    addrSeed: fc.nat(0xffffff),
    ipOptWords: fc.nat(9),
    dstOpts: fc.boolean(),
    hopByHop: fc.boolean(),
    l4: fc.constantFrom("udp", "tcp", "icmp", "sctp"),
    port: fc.integer({ min: 20000, max: 30000 }),
    payloadLen: fc.nat(300),
  })
  .map((r): FrameSpec => {
    const payload = new Uint8Array(r.payloadLen);
    const spec: FrameSpec = { eth, vlans: r.vids.map((vid) => ({ vid })), payload };
    if (r.v6) {
      const extHeaders: Ipv6ExtHeader[] = [];
      if (r.hopByHop) extHeaders.push({ type: IPPROTO_HOPOPTS, options: new Uint8Array(0) });
      if (r.dstOpts) extHeaders.push({ type: IPPROTO_DSTOPTS, options: new Uint8Array(4) });
      const src = new Uint8Array(16);
      src.set([
        0x20,
        0x01,
        0x0d,
        0xb8,
        r.addrSeed >>> 16,
        (r.addrSeed >>> 8) & 0xff,
        r.addrSeed & 0xff,
        1,
      ]);
      spec.ipv6 = { src, dst: "2001:db8::2", hopLimit: r.ttl, extHeaders };
    } else {
      // A Record Route option (RFC 791 §3.1) filling all but the last option byte, which
      // ends the list: legal options of any length.
      const options = new Uint8Array(4 * r.ipOptWords);
      if (options.length) options.set([7, options.length - 1, 4]);
      spec.ipv4 = { src: 0x0a000000 + r.addrSeed, dst: "10.255.0.1", ttl: r.ttl, options };
    }
    if (r.l4 === "udp") spec.udp = { srcPort: r.port, dstPort: r.port + 1 };
    else if (r.l4 === "tcp")
      spec.tcp = { srcPort: r.port, dstPort: r.port + 1, seq: 1, ack: 1, flags: TCP_ACK };
    else if (r.l4 === "sctp") {
      // SCTP carries its data in chunks (RFC 9260 §3.3.1: TSN, stream, sequence, PPID, data).
      spec.payload = undefined;
      spec.sctp = {
        srcPort: r.port,
        dstPort: r.port + 1,
        vtag: 1,
        chunks: [{ type: SCTP_CHUNK_DATA, flags: 3, data: new Uint8Array(13 + r.payloadLen) }],
      };
    } else if (r.v6) spec.icmpv6 = { type: ICMPV6_ECHO_REQUEST, id: r.port, seq: 1 };
    else spec.icmp = { type: ICMP_ECHO_REQUEST, id: r.port, seq: 1 };
    return spec;
  });

describe.skipIf(!available)("tshark reads random frames from buildFrame cleanly", () => {
  const dir = mkdtempSync(join(tmpdir(), "ovsim-tshark-random-"));
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it("finds nothing malformed, no warning and no bad checksum in 200 seeded random frames", async () => {
    const specs = fc.sample(randomSpec, { seed: 20261126, numRuns: 200 });
    const rows = await tsharkRows(
      dir,
      "random",
      specs.map((s) => buildFrame(s)),
    );
    expect(rows.length).toBe(200);
    const problems = rows.flatMap((row, i) => {
      const bad = checksumStatuses(row).filter((s) => s !== "1" && s !== "2");
      return row[2] || badExperts(row).length || bad.length
        ? [{ frame: i + 1, protocols: row[1], experts: row[4], checksums: bad }]
        : [];
    });
    expect(problems).toEqual([]);
    // Every frame had at least its L3 (IPv4) or L4 checksum verified good.
    expect(rows.every((row) => checksumStatuses(row).includes("1"))).toBe(true);
  });
});
