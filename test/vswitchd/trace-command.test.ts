import { mkdtempSync, readFileSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { PassThrough } from "node:stream";
import { describe, expect, it } from "vitest";
import { traceCommand } from "../../cli/trace.js";

describe("ovsim trace --case", () => {
  it("prints one JSON object with the answer fields for a reference case", async () => {
    const src = new URL(
      "../../../shared/reference/ofproto-trace/cases/tunnel-pub-vxlan-out.json",
      import.meta.url,
    );
    const dir = mkdtempSync(join(tmpdir(), "ovsim-trace-"));
    const file = join(dir, "case.json");
    writeFileSync(file, readFileSync(src));
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
