/**
 * `ovsim trace --case FILE`: runs one reference-format trace case (see
 * vswitchd/trace-case.ts) and prints one JSON object
 * `{"datapath_actions", "megaflow", "final_flow", "dp_ports"}`.
 */
import { readFile } from "node:fs/promises";
import { runCase, type TraceCase } from "../vswitchd/index.js";

export async function traceCommand(
  opts: { case: string },
  out: NodeJS.WritableStream,
): Promise<void> {
  const c = JSON.parse(await readFile(opts.case, "utf8")) as TraceCase;
  out.write(`${JSON.stringify(runCase(c))}\n`);
}
