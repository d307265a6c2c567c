import { readdirSync, readFileSync } from "node:fs";
import { describe, expect, it } from "vitest";
import { runCase, type TraceCase } from "../../vswitchd/index.js";
import { canonicalActions, packetVlan, tokenSet } from "./trace-compare.js";

interface Expected {
  datapath_actions: string;
  megaflow: string;
  final_flow: string;
  dp_ports: Record<string, string>;
}

const REFERENCE = new URL("../../../shared/reference/ofproto-trace/cases/", import.meta.url);
const RECORDED = new URL("./cases/", import.meta.url);

function load(dir: URL): Array<[string, TraceCase & { expected: Expected }]> {
  let files: string[] = [];
  try {
    files = readdirSync(dir).filter((f) => f.endsWith(".json"));
  } catch {
    return [];
  }
  const out: Array<[string, TraceCase & { expected: Expected }]> = [];
  for (const f of files.sort()) {
    // A file holds one case, or an array of recorded cases.
    const data = JSON.parse(readFileSync(new URL(f, dir), "utf8")) as
      | (TraceCase & { expected: Expected })
      | Array<TraceCase & { expected: Expected }>;
    for (const c of Array.isArray(data) ? data : [data])
      out.push([Array.isArray(data) ? `${f}:${c.name}` : f, c]);
  }
  return out;
}

function check(c: TraceCase & { expected: Expected }): void {
  const got = runCase(c);
  const vlan = packetVlan(c.packet.flow);
  expect(canonicalActions(got.datapath_actions, got.dp_ports, vlan)).toBe(
    canonicalActions(c.expected.datapath_actions, c.expected.dp_ports, vlan),
  );
  expect(tokenSet(got.megaflow)).toEqual(tokenSet(c.expected.megaflow));
  expect(tokenSet(got.final_flow)).toEqual(tokenSet(c.expected.final_flow));
}

// The shared reference set, or the copy bundled here when the tree stands alone.
const shared = load(REFERENCE);
const reference = shared.length
  ? shared
  : load(RECORDED).filter(([name]) => name.startsWith("reference-copy.json"));
const recorded = load(RECORDED).filter(([name]) => !name.startsWith("reference-copy.json"));

describe("the published reference cases recorded from OVS 3.1", () => {
  it("are present, so this suite proves something", () => {
    expect(reference.length).toBeGreaterThanOrEqual(23);
  });
  for (const [name, c] of reference) {
    it(`${name} gives OVS's datapath actions, megaflow and final flow`, () => check(c));
  }
});

describe("cases generated at random and recorded from real OVS 3.1 as the oracle", () => {
  it("are present", () => {
    expect(recorded.length).toBeGreaterThan(900);
  });
  for (const [name, c] of recorded) {
    it(`${name} gives OVS's datapath actions, megaflow and final flow`, () => check(c));
  }
});
