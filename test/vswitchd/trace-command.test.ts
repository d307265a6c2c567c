import { existsSync, mkdtempSync, readFileSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { PassThrough } from "node:stream";
import { describe, expect, it } from "vitest";
import { traceCommand } from "../../cli/trace.js";

/** A published reference case from ../shared, or from the copy bundled with the tests. */
function referenceCase(name: string): unknown {
  const shared = new URL(
    `../../../shared/reference/ofproto-trace/cases/${name}.json`,
    import.meta.url,
  );
  if (existsSync(shared)) return JSON.parse(readFileSync(shared, "utf8"));
  const bundled = JSON.parse(
    readFileSync(new URL("./cases/reference-copy.json", import.meta.url), "utf8"),
  ) as Array<{ name: string }>;
  const found = bundled.find((c) => c.name === name);
  if (!found)
    throw new Error(`reference case ${name} is in neither ../shared nor the bundled copy`);
  return found;
}

describe("ovsim trace --case", () => {
  it("prints one JSON object with the answer fields for a reference case", async () => {
    const dir = mkdtempSync(join(tmpdir(), "ovsim-trace-"));
    const file = join(dir, "case.json");
    writeFileSync(file, JSON.stringify(referenceCase("tunnel-pub-vxlan-out")));
    const out = new PassThrough();
    let text = "";
    out.on("data", (d: Buffer) => {
      text += d.toString();
    });
    await traceCommand({ case: file }, out);
    expect(text.trim().split("\n")).toHaveLength(1);
    const answer = JSON.parse(text) as Record<string, unknown>;
    expect(Object.keys(answer).sort()).toEqual([
      "datapath_actions",
      "dp_ports",
      "final_flow",
      "megaflow",
    ]);
    expect(answer.megaflow).toBe("recirc_id=0,eth,ip,in_port=2,nw_ecn=0,nw_frag=no");
    expect(String(answer.datapath_actions)).toMatch(
      /^set\(tunnel\(tun_id=0xc8,dst=10\.20\.30\.40,ttl=64,tp_dst=4789,flags\(df\|key\)\)\),\d+$/,
    );
  });
});
