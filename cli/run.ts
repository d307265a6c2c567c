/**
 * `ovsim run FILE`: runs a topology file and prints what it asks for.
 *
 * - FILE.ts / .mts / .js: imported (TypeScript through tsx's ESM API, so no build
 *   step). If its default export is a function, it is called with `out` and awaited;
 *   if it is a Topology, it is started and summarised as a YAML file is. A file with
 *   no default export has done its work on import (a plain script).
 * - FILE.yaml / .yml / .json: loaded and validated (errors name the line), started,
 *   and summarised: the pingAll reachability matrix, each host's `dpctl/dump-flows`
 *   (the first 8 hosts), and the journey of a ping between the first two VMs.
 *
 * Promises: a topology that fails validation prints every problem and starts
 * nothing; exit codes are the caller's (a thrown error is a failure).
 */
import { extname, resolve } from "node:path";
import { pathToFileURL } from "node:url";
import { loadTopologyFile, Topology } from "../sim/index.js";

export interface Output {
  write(text: string): unknown;
}

const SCRIPT_EXT = new Set([".ts", ".mts", ".js", ".mjs"]);
const DATA_EXT = new Set([".yaml", ".yml", ".json"]);

/** Starts `topo`, prints its reachability, datapath flows and one journey, stops it. */
export async function summarise(topo: Topology, out: Output): Promise<void> {
  const net = await topo.start();
  try {
    const all = await net.pingAll();
    out.write(`${all.text}\n`);
    const hosts = [...net.hosts.keys()];
    for (const h of hosts.slice(0, 8))
      out.write(`\n${h}: ovs-appctl dpctl/dump-flows\n${net.host(h).dpctlDumpFlows()}`);
    if (hosts.length > 8) out.write(`\n(${hosts.length - 8} more hosts not shown)\n`);
    const vms = net.vmNames();
    if (vms.length >= 2) out.write(`\n${net.journey(vms[0]!, vms[1]!).text}\n`);
  } finally {
    await net.stop();
  }
}

function isTopology(x: unknown): x is Topology {
  return (
    typeof x === "object" &&
    x !== null &&
    typeof (x as Topology).start === "function" &&
    typeof (x as Topology).spec === "object"
  );
}

export async function runCommand(file: string, out: Output): Promise<void> {
  const path = resolve(file);
  const ext = extname(path).toLowerCase();
  if (DATA_EXT.has(ext)) {
    await summarise(Topology.fromSpec(await loadTopologyFile(path)), out);
    return;
  }
  if (!SCRIPT_EXT.has(ext))
    throw new Error(
      `ovsim run: cannot run ${file}: expected a .ts, .js, .yaml, .yml or .json topology file`,
    );
  const url = pathToFileURL(path).href;
  const mod: { default?: unknown } =
    ext === ".ts" || ext === ".mts"
      ? await (await import("tsx/esm/api")).tsImport(url, import.meta.url)
      : await import(url);
  const main = mod.default;
  if (typeof main === "function") await (main as (o: Output) => unknown)(out);
  // Duck-typed: the file's Topology comes from its own (tsx-loaded) copy of sim/.
  else if (isTopology(main)) await summarise(main, out);
}
