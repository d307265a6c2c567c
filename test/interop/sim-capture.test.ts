/**
 * A capture of a simulated port, read by tshark: ARP, ND, ICMP/ICMPv6 echo and errors,
 * UDP over IPv4 and IPv6 — every frame must decode with the
 * expected protocol stack, no malformed-packet expert item and no bad checksum.
 */
import { spawnSync } from "node:child_process";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { PortCapture } from "../../sim/capture.js";
import { World } from "../../sim/world.js";

const available = spawnSync("tshark", ["--version"], { encoding: "utf8" }).status === 0;
if (!available)
  console.warn("sim-capture interop: tshark is not installed; skipping (apt-get install tshark)");

const dir = mkdtempSync(join(tmpdir(), "ovsim-sim-capture-"));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

function tshark(file: string, fields: string[]): string[][] {
  const args = [
    "-r",
    file,
    "-o",
    "ip.check_checksum:TRUE",
    "-o",
    "udp.check_checksum:TRUE",
    "-T",
    "fields",
  ];
  for (const f of fields) args.push("-e", f);
  const out = spawnSync("tshark", args, { encoding: "utf8" });
  expect(out.status).toBe(0);
  return out.stdout
    .trim()
    .split("\n")
    .map((l) => l.split("\t"));
}

describe.skipIf(!available)("tshark reads a capture of a simulated port", () => {
  it("decodes every frame cleanly with good checksums", async () => {
    const world = new World();
    const h1 = world.endpoint("h1", { vnics: [{ ipv4: "10.0.0.1/24", ipv6: "fd00::1/64" }] });
    const h2 = world.endpoint("h2", { vnics: [{ ipv4: "10.0.0.2/24", ipv6: "fd00::2/64" }] });
    const link = world.link(h1.vnics[0], h2.vnics[0], { latency: "1ms", bandwidth: "1Gbps" });
    const file = join(dir, "h1.pcap");
    const cap = await world.capture(h1.vnics[0], file);
    expect(link.a).toBe(h1.vnics[0]);
    world.run({ untilNs: 10e6 });
    h1.ping("10.0.0.2", { count: 2, intervalMs: 10 });
    h1.ping("fd00::2", { count: 2, intervalMs: 10, size: 200 });
    const s = h1.udpSocket();
    s.sendTo(new Uint8Array(100).fill(7), "10.0.0.2", 9999);
    s.sendTo(new Uint8Array(3).fill(7), "fd00::2", 9999);
    world.runUntilIdle();
    await cap.stop();
    expect(cap.packets).toBe(20);

    const rows = tshark(file, [
      "frame.protocols",
      "_ws.malformed",
      "ip.checksum.status",
      "udp.checksum.status",
      "icmp.checksum.status",
      "icmpv6.checksum.status",
      "frame.time_epoch",
    ]);
    expect(rows.length).toBe(20);
    const stacks = rows.map((r) => r[0]).sort();
    expect(new Set(stacks)).toEqual(
      new Set([
        "eth:ethertype:arp",
        "eth:ethertype:ip:icmp:data",
        "eth:ethertype:ip:icmp:ip:udp:data",
        "eth:ethertype:ip:udp:data",
        "eth:ethertype:ipv6:icmpv6",
        "eth:ethertype:ipv6:icmpv6:data",
        "eth:ethertype:ipv6:icmpv6:ipv6:udp:data",
        "eth:ethertype:ipv6:udp:data",
      ]),
    );
    for (const r of rows) {
      expect(r[1]).toBe("");
      // Status 1 is "Good" (0 would be "Bad"); quoted headers add a second value.
      for (const status of r.slice(2, 6).join(",").split(","))
        if (status !== "") expect(status).toBe("1");
    }
    // Virtual time: the first frame at 0, the last echo reply 22 ms (and a few ns) later.
    expect(Number(rows[0][6])).toBe(0);
    expect(Number(rows[19][6])).toBeCloseTo(0.022, 5);
  });

  it("decodes a traceroute through a router: Time Exceeded and Port Unreachable quoting UDP", async () => {
    const world = new World();
    const h1 = world.endpoint("h1", { vnics: [{ ipv4: "10.0.1.10/24", gateway4: "10.0.1.1" }] });
    const r1 = world.endpoint("r1", {
      ipForward: true,
      vnics: [{ ipv4: "10.0.1.1/24" }, { ipv4: "10.0.2.1/24" }],
    });
    const h2 = world.endpoint("h2", { vnics: [{ ipv4: "10.0.2.10/24", gateway4: "10.0.2.1" }] });
    const l1 = world.link(h1.vnics[0], r1.vnics[0], { latency: "1ms" });
    world.link(r1.vnics[1], h2.vnics[0], { latency: "1ms" });
    const file = join(dir, "trace.pcap");
    const cap = await PortCapture.start(l1, h1.vnics[0], file, {
      epochNs: 1_700_000_000_000_000_000n,
    });
    const t = h1.traceroute("10.0.2.10", { probes: 1 });
    world.runUntilIdle();
    await cap.stop();
    expect(t.result.reached).toBe(true);
    const rows = tshark(file, [
      "frame.protocols",
      "_ws.malformed",
      "icmp.type",
      "icmp.code",
      "icmp.checksum.status",
      "frame.time_epoch",
    ]);
    const icmp = rows.filter((r) => r[0].includes(":icmp:"));
    expect(icmp.map((r) => `${r[0]} ${r[2]}/${r[3]} ${r[4]}`)).toEqual([
      "eth:ethertype:ip:icmp:ip:udp:data 11/0 1",
      "eth:ethertype:ip:icmp:ip:udp:data 3/3 1",
    ]);
    for (const r of rows) expect(r[1]).toBe("");
    expect(Number(rows[0][5])).toBeCloseTo(1_700_000_000, 3);
  });
});
