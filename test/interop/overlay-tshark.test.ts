/**
 * A capture of the simulated underlay between two hypervisors, read by tshark: VXLAN,
 * GRE and Geneve (with and without outer checksums) must decode down to the inner ARP
 * and ICMP, with no malformed packet and no bad checksum.
 */
import { spawnSync } from "node:child_process";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { isTunnelPort } from "../../datapath/index.js";
import {
  FLOW_WORDS,
  W_TUN_FLAGS,
  W_TUN_ID_LO,
  W_TUN_METADATA,
  W_TUN_METADATA_PRESENT,
} from "../../packet/index.js";
import { ping, setup } from "../overlay/_two-hosts.js";

const available = spawnSync("tshark", ["--version"], { encoding: "utf8" }).status === 0;
if (!available)
  console.warn(
    "overlay-tshark interop: tshark is not installed; skipping (apt-get install tshark)",
  );

const dir = mkdtempSync(join(tmpdir(), "ovsim-overlay-tshark-"));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

function tshark(file: string, fields: string[]): string[][] {
  const args = ["-r", file, "-o", "ip.check_checksum:TRUE", "-o", "udp.check_checksum:TRUE"];
  args.push("-T", "fields");
  for (const f of fields) args.push("-e", f);
  const out = spawnSync("tshark", args, { encoding: "utf8" });
  expect(out.stderr).not.toMatch(/error|unknown/i);
  expect(out.status).toBe(0);
  return out.stdout
    .trim()
    .split("\n")
    .map((l) => l.split("\t"));
}

const CASES = [
  { type: "vxlan", key: "100", extra: {}, proto: "udp:vxlan" },
  { type: "vxlan", key: "100", extra: { csum: "true" }, proto: "udp:vxlan" },
  { type: "gre", key: "42", extra: {}, proto: "gre" },
  { type: "gre", key: "42", extra: { csum: "true" }, proto: "gre" },
  { type: "gre", key: undefined, extra: {}, proto: "gre" },
  { type: "geneve", key: "7", extra: { csum: "true" }, proto: "udp:geneve" },
  { type: "geneve", key: "7", extra: {}, proto: "udp:geneve" },
] as const;

describe.skipIf(!available)("tshark reads a capture of the overlay underlay", () => {
  for (const c of CASES) {
    it(`decodes ${c.type} ${JSON.stringify(c.extra)} with inner ARP and ICMP intact and good checksums`, async () => {
      const { world, a } = setup(c.type, c.key, c.key, 1500, c.extra);
      const file = join(dir, `${c.type}-${Object.keys(c.extra).join("")}-${c.key ?? "nokey"}.pcap`);
      const cap = await world.capture(a.underlay.nic, file);
      expect(ping(world, a, "10.0.0.2", 300).received).toBe(3);
      await cap.stop();
      const rows = tshark(file, [
        "frame.protocols",
        "_ws.malformed",
        "ip.checksum.status",
        "udp.checksum.status",
        "gre.checksum.status",
        "icmp.checksum.status",
        "vxlan.vni",
        "geneve.vni",
        "gre.key",
      ]);
      // ARP exchanges + 3 echo requests and 3 replies, each encapsulated.
      expect(rows.length).toBeGreaterThanOrEqual(8);
      expect(rows.filter((r) => r[0].endsWith(":icmp:data")).length).toBe(6);
      const stacks = new Set(rows.map((r) => r[0]));
      expect(stacks).toEqual(
        new Set([
          `eth:ethertype:ip:${c.proto}:eth:ethertype:arp`,
          `eth:ethertype:ip:${c.proto}:eth:ethertype:ip:icmp:data`,
        ]),
      );
      for (const r of rows) {
        expect(r[1]).toBe("");
        // 1 = Good; 2 = not present/unverified (a zero UDP checksum); 0 = Bad.
        for (const status of r.slice(2, 6).join(",").split(",")) expect(status).not.toBe("0");
        if (c.type === "vxlan") expect(r[6]).toBe("100");
        if (c.type === "geneve") expect(Number(r[7])).toBe(7);
        if (c.type === "gre" && c.key !== undefined) expect(Number(r[8])).toBe(42);
      }
      if ("csum" in c.extra) for (const r of rows) expect(r[c.type === "gre" ? 4 : 3]).toBe("1");
    });
  }
});

describe.skipIf(!available)("tshark reads Geneve options carried from tun_metadata", () => {
  it("decodes the option class, type and length the flow key carried", async () => {
    const { world, a } = setup("geneve", "flow", "flow");
    const file = join(dir, "geneve-options.pcap");
    const cap = await world.capture(a.underlay.nic, file);
    const key = new Uint32Array(FLOW_WORDS);
    key[W_TUN_ID_LO] = 9;
    key[W_TUN_FLAGS] = 4;
    // One option: class 0x0102, type 0x80, length 1 word, data 0xdeadbeef.
    key[W_TUN_METADATA] = 0x01028001;
    key[W_TUN_METADATA + 1] = 0xdeadbeef;
    key[W_TUN_METADATA_PRESENT] = 0b11;
    const inner = new Uint8Array(60);
    inner.set([0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 2, 0, 0, 0, 0, 1, 0x88, 0xb5]);
    const port = a.dpif.getPort(2)!;
    expect(isTunnelPort(port.impl)).toBe(true);
    if (isTunnelPort(port.impl)) port.impl.transmitTunnel(inner, 0, inner.length, key);
    world.runUntilIdle();
    await cap.stop();
    const rows = tshark(file, [
      "frame.protocols",
      "_ws.malformed",
      "geneve.vni",
      "geneve.option.class",
      "geneve.option.type",
      "geneve.option.length",
    ]);
    // The VMs' own ARP rides along; the crafted frame is the one with an option.
    const withOption = rows.filter((r) => r[3] !== "");
    expect(withOption).toHaveLength(1);
    const [r] = withOption;
    expect(r[0]).toBe("eth:ethertype:ip:udp:geneve:eth:ethertype:data");
    for (const row of rows) expect(row[1]).toBe("");
    expect(Number(r[2])).toBe(9);
    expect(Number(r[3])).toBe(0x0102);
    expect(Number(r[4])).toBe(0x80);
    // tshark reports the option's length in bytes, its 4-byte header included.
    expect(Number(r[5].split(",")[0])).toBe(8);
  });
});
