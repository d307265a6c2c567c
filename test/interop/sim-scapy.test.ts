/**
 * The endpoint stack against an independent implementation: scapy builds ARP, ICMP
 * echo, IPv6 Neighbor Solicitation, ICMPv6 echo and UDP frames, the simulated endpoint
 * answers them, and scapy parses the answers and recomputes every checksum.
 */
import { spawnSync } from "node:child_process";
import { describe, expect, it } from "vitest";
import { FramePort } from "../../sim/frame-port.js";
import { World } from "../../sim/world.js";

const PYTHON = "/usr/bin/python3";
const available = spawnSync(PYTHON, ["-c", "import scapy.all"], { encoding: "utf8" }).status === 0;
if (!available)
  console.warn("sim-scapy interop: scapy is not importable from /usr/bin/python3; skipping");

const BUILD = `
import json
from scapy.all import Ether, ARP, IP, ICMP, IPv6, ICMPv6EchoRequest, ICMPv6ND_NS, ICMPv6NDOptSrcLLAddr, UDP, Raw, raw
h1 = "02:00:00:00:00:aa"
h2 = "02:00:00:00:00:01"
frames = [
  Ether(src=h1, dst="ff:ff:ff:ff:ff:ff")/ARP(op=1, hwsrc=h1, psrc="10.0.0.1", pdst="10.0.0.2"),
  Ether(src=h1, dst=h2)/IP(src="10.0.0.1", dst="10.0.0.2", id=7)/ICMP(type=8, id=0x1234, seq=5)/Raw(b"abcdefgh"*4),
  Ether(src=h1, dst="33:33:ff:00:00:02")/IPv6(src="fd00::1", dst="ff02::1:ff00:2", hlim=255)/ICMPv6ND_NS(tgt="fd00::2")/ICMPv6NDOptSrcLLAddr(lladdr=h1),
  Ether(src=h1, dst=h2)/IPv6(src="fd00::1", dst="fd00::2")/ICMPv6EchoRequest(id=0x4321, seq=9, data=b"xyz"*10),
  Ether(src=h1, dst=h2)/IP(src="10.0.0.1", dst="10.0.0.2")/UDP(sport=1111, dport=2222)/Raw(b"hi"),
  Ether(src=h1, dst=h2)/IP(src="10.0.0.1", dst="10.0.0.2")/UDP(sport=1111, dport=5000)/Raw(b"to-socket"),
]
print(json.dumps([raw(f).hex() for f in frames]))
`;

const PARSE = `
import json, sys
from scapy.all import Ether, ARP, IP, ICMP, UDP, IPv6, ICMPv6ND_NA, ICMPv6NDOptDstLLAddr, ICMPv6EchoReply, raw
out = []
for h in json.load(sys.stdin):
    p = Ether(bytes.fromhex(h))
    d = {"summary": p.summary(), "checksums": []}
    names = lambda cls: [f.name for f in cls.fields_desc]
    layers = [l for l in p.layers() if "chksum" in names(l) or "cksum" in names(l)]
    for cls in layers:
        # Quoted headers inside ICMP errors (IPerror, UDPerror) are not recomputed.
        if cls.__name__.endswith("error"):
            continue
        field = "chksum" if "chksum" in names(cls) else "cksum"
        q = Ether(raw(p))
        orig = getattr(q[cls], field)
        setattr(q[cls], field, None)
        d["checksums"].append([cls.__name__, getattr(Ether(raw(q))[cls], field) == orig])
    if ARP in p:
        d["arp"] = [p[ARP].op, p[ARP].hwsrc, p[ARP].psrc, p[ARP].hwdst, p[ARP].pdst]
    if ICMP in p:
        d["icmp"] = [p[ICMP].type, p[ICMP].code, p[ICMP].id, p[ICMP].seq]
    if IPv6 in p:
        d["ipv6"] = [p[IPv6].src, p[IPv6].dst, p[IPv6].hlim]
    if ICMPv6ND_NA in p:
        na = p[ICMPv6ND_NA]
        d["na"] = [na.tgt, na.R, na.S, na.O, p[ICMPv6NDOptDstLLAddr].lladdr]
    if ICMPv6EchoReply in p:
        d["echo6"] = [p[ICMPv6EchoReply].id, p[ICMPv6EchoReply].seq, p[ICMPv6EchoReply].data.decode()]
    out.append(d)
print(json.dumps(out))
`;

function python(script: string, input = ""): unknown {
  const r = spawnSync(PYTHON, ["-c", script], { input, encoding: "utf8" });
  expect(r.stderr.replace(/.*WARNING.*\n?/g, "")).toBe("");
  expect(r.status).toBe(0);
  return JSON.parse(r.stdout);
}

interface Parsed {
  summary: string;
  checksums: [string, boolean][];
  arp?: [number, string, string, string, string];
  icmp?: [number, number, number, number];
  ipv6?: [string, string, number];
  na?: [string, number, number, number, string];
  echo6?: [number, number, string];
}

describe.skipIf(!available)("the endpoint answers frames built by scapy", () => {
  it("replies to ARP, echo, NS and UDP as a Linux host would, with good checksums", () => {
    const frames = (python(BUILD) as string[]).map((h) => Uint8Array.from(Buffer.from(h, "hex")));
    const world = new World();
    const h2 = world.endpoint("h2", {
      vnics: [{ ipv4: "10.0.0.2/24", ipv6: "fd00::2/64" }],
      gratuitousArp: false,
    });
    const got: string[] = [];
    const socket = h2.udpSocket().bind(5000);
    socket.onMessage = (d, o, l) => got.push(Buffer.from(d.subarray(o, o + l)).toString());
    const replies: string[] = [];
    const wire = new FramePort("h1-eth0", (f, o, l) =>
      replies.push(Buffer.from(f.subarray(o, o + l)).toString("hex")),
    );
    world.link(wire, h2.vnics[0], { latency: "10us" });
    frames.forEach((f, i) => {
      world.scheduler.schedule(i * 1e6, () => wire.transmit(f, 0, f.length));
    });
    world.runUntilIdle();

    expect(got).toEqual(["to-socket"]);
    const parsed = python(PARSE, JSON.stringify(replies)) as Parsed[];
    expect(parsed.length).toBe(5);
    const [arp, echo, na, echo6, unreach] = parsed;
    expect(arp.arp).toEqual([2, "02:00:00:00:00:01", "10.0.0.2", "02:00:00:00:00:aa", "10.0.0.1"]);
    expect(echo.icmp).toEqual([0, 0, 0x1234, 5]);
    // RFC 4861 §7.2.4: solicited and override set, router clear, our MAC as target option.
    expect(na.na).toEqual(["fd00::2", 0, 1, 1, "02:00:00:00:00:01"]);
    expect(na.ipv6).toEqual(["fd00::2", "fd00::1", 255]);
    expect(echo6.echo6).toEqual([0x4321, 9, "xyz".repeat(10)]);
    expect(unreach.icmp?.slice(0, 2)).toEqual([3, 3]);
    for (const p of parsed)
      for (const [layer, ok] of p.checksums) expect(`${layer} ${ok}`).toBe(`${layer} true`);
    expect(parsed.flatMap((p) => p.checksums.map((c) => c[0]))).toEqual(
      expect.arrayContaining(["IP", "ICMP", "ICMPv6ND_NA", "ICMPv6EchoReply"]),
    );
  });
});
