/**
 * `ovsim parse-pcap` against `ovs-ofctl parse-pcap` (Open vSwitch 3.1): the same
 * captures must print the same flows, line for line. The captures come from
 * gen_pcaps.py (scapy): every protocol ovsim extracts, malformed headers, every
 * frame truncated at every length, 20 000 fuzzed frames, all 4096 TCP flag sets, and
 * the container variants (big-endian, nanosecond, Linux cooked capture, pcapng).
 */
import { execFileSync, spawnSync } from "node:child_process";
import { existsSync, mkdtempSync, rmSync, statSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";

const ROOT = resolve(import.meta.dirname, "../..");
const PYTHON = "/usr/bin/python3";

function toolAvailable(): string | undefined {
  if (spawnSync("ovs-ofctl", ["--version"]).status !== 0) return "ovs-ofctl is not installed";
  if (spawnSync(PYTHON, ["-c", "import scapy"]).status !== 0) {
    return `scapy is not importable from ${PYTHON}`;
  }
  return undefined;
}

const missing = toolAvailable();
if (missing) console.warn(`skipping parse-pcap interop tests: ${missing}`);

interface Run {
  status: number;
  stdout: string;
  stderr: string;
}

/** The compiled CLI when it is up to date with the sources, else the sources via tsx. */
function ovsimCommand(dir: string): { cmd: string; args: string[] } {
  const dist = join(ROOT, "dist/cli/main.js");
  const distImpl = join(ROOT, "dist/cli/parse-pcap.js");
  const sources = ["cli/parse-pcap.ts", "packet/flow-extract.ts", "packet/flow-format.ts"];
  if (existsSync(dist) && existsSync(distImpl)) {
    const built = statSync(distImpl).mtimeMs;
    if (sources.every((s) => statSync(join(ROOT, s)).mtimeMs <= built)) {
      return { cmd: process.execPath, args: [dist, "parse-pcap"] };
    }
  }
  const runner = join(dir, "run-parse-pcap.mts");
  writeFileSync(
    runner,
    `const m = await import(${JSON.stringify(join(ROOT, "cli/parse-pcap.ts"))});\n` +
      "await m.parsePcapCommand(process.argv.slice(2), process.stdout);\n",
  );
  return { cmd: join(ROOT, "node_modules/.bin/tsx"), args: [runner] };
}

function run(cmd: string, args: string[]): Run {
  const r = spawnSync(cmd, args, { encoding: "utf8", maxBuffer: 256 * 1024 * 1024 });
  return { status: r.status ?? -1, stdout: r.stdout, stderr: r.stderr };
}

/** Asserts equal output, reporting the first differing packet rather than a huge diff. */
function expectSameLines(ours: string, theirs: string, what: string): void {
  const a = ours.split("\n");
  const b = theirs.split("\n");
  const n = Math.max(a.length, b.length);
  for (let i = 0; i < n; i++) {
    if (a[i] !== b[i]) {
      expect({ what, packet: i + 1, ovsim: a[i] }).toEqual({ what, packet: i + 1, ovsim: b[i] });
    }
  }
  expect(a.length).toBe(b.length);
}

describe.skipIf(missing !== undefined)("ovsim parse-pcap matches ovs-ofctl parse-pcap", () => {
  let dir = "";
  let ovsim: { cmd: string; args: string[] };

  beforeAll(() => {
    dir = mkdtempSync(join(tmpdir(), "ovsim-parse-pcap-"));
    execFileSync(PYTHON, [join(ROOT, "test/interop/gen_pcaps.py"), dir], { stdio: "ignore" });
    ovsim = ovsimCommand(dir);
  });

  afterAll(() => {
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  const identical: [string, string][] = [
    ["every protocol and header variant", "protocols.pcap"],
    ["malformed headers", "malformed.pcap"],
    ["every frame truncated at every length", "truncated.pcap"],
    ["twenty thousand fuzzed frames", "fuzzed.pcap"],
    ["every combination of TCP flags over IPv4 and IPv6", "tcp-flags.pcap"],
    ["a big-endian capture", "big-endian.pcap"],
    ["a nanosecond capture", "nanosecond.pcap"],
    ["a big-endian nanosecond capture", "nanosecond-big-endian.pcap"],
    ["a Linux cooked (SLL) capture", "sll.pcap"],
    ["an empty capture", "empty.pcap"],
  ];
  for (const [what, file] of identical) {
    it(`prints the same flows as ovs-ofctl for ${what}`, () => {
      const theirs = run("ovs-ofctl", ["parse-pcap", join(dir, file)]);
      const ours = run(ovsim.cmd, [...ovsim.args, join(dir, file)]);
      expect(theirs.status).toBe(0);
      expect(ours.stderr).toBe("");
      expect(ours.status).toBe(0);
      expectSameLines(ours.stdout, theirs.stdout, file);
    });
  }

  it("prints the flows of several files one after another, as ovs-ofctl does", () => {
    const files = ["malformed.pcap", "sll.pcap"].map((f) => join(dir, f));
    const theirs = run("ovs-ofctl", ["parse-pcap", ...files]);
    const ours = run(ovsim.cmd, [...ovsim.args, ...files]);
    expect(ours.status).toBe(0);
    expectSameLines(ours.stdout, theirs.stdout, "two files");
  });

  it("reads a pcapng capture that ovs-ofctl refuses, printing what ovs-ofctl prints for the pcap", () => {
    const refused = run("ovs-ofctl", ["parse-pcap", join(dir, "protocols.pcapng")]);
    expect(refused.status).not.toBe(0);
    const theirs = run("ovs-ofctl", ["parse-pcap", join(dir, "protocols.pcap")]);
    const ours = run(ovsim.cmd, [...ovsim.args, join(dir, "protocols.pcapng")]);
    expect(ours.status).toBe(0);
    expectSameLines(ours.stdout, theirs.stdout, "protocols.pcapng");
  });

  it("fails like ovs-ofctl on a file that is not a capture, with an ovsim: message", () => {
    const bogus = join(dir, "not-a-capture.pcap");
    writeFileSync(bogus, "this is not a capture file at all\n");
    const theirs = run("ovs-ofctl", ["parse-pcap", bogus]);
    const ours = run(ovsim.cmd, [...ovsim.args, bogus]);
    expect(theirs.status).not.toBe(0);
    expect(ours.status).not.toBe(0);
    expect(ours.stdout).toBe("");
    expect(ours.stderr).toMatch(/^ovsim: .*not-a-capture\.pcap/);
  });

  it("fails like ovs-ofctl on a missing file and still prints the files after it", () => {
    const files = [join(dir, "does-not-exist.pcap"), join(dir, "protocols.pcap")];
    const theirs = run("ovs-ofctl", ["parse-pcap", ...files]);
    const ours = run(ovsim.cmd, [...ovsim.args, ...files]);
    expect(theirs.status).not.toBe(0);
    expect(ours.status).not.toBe(0);
    expect(ours.stderr).toMatch(/^ovsim: .*does-not-exist\.pcap/);
    expectSameLines(ours.stdout, theirs.stdout, "missing then present");
  });

  it("prints the README's sample capture exactly as ovs-ofctl does", () => {
    const sample = join(ROOT, "examples/captures/sample.pcap");
    const theirs = run("ovs-ofctl", ["parse-pcap", sample]);
    const ours = run(ovsim.cmd, [...ovsim.args, sample]);
    expect(ours.stdout.split("\n").length).toBeGreaterThan(10);
    expectSameLines(ours.stdout, theirs.stdout, "sample.pcap");
  });
});
