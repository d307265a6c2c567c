/**
 * OVSDB server benchmarks over a unix socket. Each server (ovsim's, and Debian's
 * ovsdb-server when installed) runs as its own child process on a fresh on-disk
 * Open_vSwitch database, so both pay for their log writes and neither shares a CPU
 * with the client more than the other.
 *
 * Workload: `mutate Open_vSwitch next_cfg += 1` on the root row (what ovs-vsctl does
 * without --no-wait), plus a `comment`.
 * - tx_seq_per_s: one client, one transaction at a time (request, await reply).
 * - tx_pipelined_per_s: one client, PIPELINE transactions in flight.
 * - monitor_updates_per_s: update notifications a monitoring client receives per
 *   second while another client pipelines transactions.
 * - ratio_seq / ratio_pipelined: ovsim ÷ ovsdb-server on the same workload (best of
 *   ROUNDS alternating runs each, since the machine is shared).
 */
import { type ChildProcess, execFileSync, spawn } from "node:child_process";
import { existsSync, mkdtempSync, rmSync } from "node:fs";
import { connect } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { type Json, JsonRpcConnection } from "../ovsdb/jsonrpc.js";
import type { Figure } from "./harness.js";

const SCHEMA = fileURLToPath(new URL("../../ovsdb/schemas/vswitch.ovsschema", import.meta.url));
const SCHEMA_SRC = fileURLToPath(new URL("../ovsdb/schemas/vswitch.ovsschema", import.meta.url));
const PIPELINE = 64;
const MEASURE_MS = 1500;
const ROUNDS = 2;

interface RunningServer {
  sock: string;
  stop(): Promise<void>;
}

function schemaPath(): string {
  return existsSync(SCHEMA_SRC) ? SCHEMA_SRC : SCHEMA;
}

async function waitForSocket(path: string, child: ChildProcess): Promise<void> {
  for (let i = 0; i < 400; i++) {
    if (existsSync(path)) return;
    if (child.exitCode !== null) throw new Error(`server exited with ${child.exitCode}`);
    await new Promise((r) => setTimeout(r, 25));
  }
  throw new Error(`server did not create ${path}`);
}

function stopChild(child: ChildProcess, dir: string): Promise<void> {
  return new Promise((resolve) => {
    const done = () => {
      rmSync(dir, { recursive: true, force: true });
      resolve();
    };
    if (child.exitCode !== null || child.signalCode !== null) return done();
    child.once("exit", done);
    child.kill("SIGTERM");
  });
}

/** ovsim's server in a child process, from dist (compiled) or the sources (tsx). */
async function startOvsim(): Promise<RunningServer> {
  const dir = mkdtempSync(join(tmpdir(), "ovsim-bench-"));
  const sock = join(dir, "db.sock");
  const compiled = import.meta.url.endsWith(".js");
  const mod = new URL(`../cli/ovsdb-server.${compiled ? "js" : "ts"}`, import.meta.url).href;
  const code = `const m = await import(${JSON.stringify(mod)}); await m.ovsdbServerCommand([${JSON.stringify(join(dir, "conf.db"))}], { remote: [${JSON.stringify(`punix:${sock}`)}], schema: ${JSON.stringify(schemaPath())}, log: () => {} });`;
  const args = compiled
    ? ["--input-type=module", "-e", code]
    : ["--import", "tsx", "--input-type=module", "-e", code];
  const child = spawn(process.execPath, args, { stdio: ["ignore", "ignore", "inherit"] });
  await waitForSocket(sock, child);
  return { sock, stop: () => stopChild(child, dir) };
}

/** Debian's ovsdb-server in a child process, or null when it is not installed. */
async function startDebian(): Promise<RunningServer | null> {
  if (!existsSync("/usr/sbin/ovsdb-server") || !existsSync("/usr/bin/ovsdb-tool")) return null;
  const dir = mkdtempSync(join(tmpdir(), "ovsim-bench-ovs-"));
  const sock = join(dir, "db.sock");
  const db = join(dir, "conf.db");
  execFileSync("ovsdb-tool", ["create", db, schemaPath()]);
  const env = {
    ...process.env,
    OVS_RUNDIR: dir,
    OVS_DBDIR: dir,
    OVS_LOGDIR: dir,
    OVS_SYSCONFDIR: dir,
  };
  const child = spawn(
    "/usr/sbin/ovsdb-server",
    [
      db,
      `--remote=punix:${sock}`,
      "--no-chdir",
      `--pidfile=${join(dir, "pid")}`,
      `--unixctl=${join(dir, "ctl")}`,
      "-vconsole:off",
    ],
    { env, stdio: "ignore" },
  );
  await waitForSocket(sock, child);
  return { sock, stop: () => stopChild(child, dir) };
}

function client(
  sock: string,
  onNotify?: (method: string, params: Json[]) => void,
): Promise<JsonRpcConnection> {
  return new Promise((resolve, reject) => {
    const s = connect(sock);
    s.once("error", reject);
    s.once("connect", () =>
      resolve(new JsonRpcConnection(s, { onRequest: (m) => onNotify?.(m.method, m.params) })),
    );
  });
}

const TXN: Json[] = [
  "Open_vSwitch",
  { op: "mutate", table: "Open_vSwitch", where: [], mutations: [["next_cfg", "+=", 1]] },
  { op: "comment", comment: "bench" },
];

async function init(c: JsonRpcConnection): Promise<void> {
  await c.request("transact", ["Open_vSwitch", { op: "insert", table: "Open_vSwitch", row: {} }]);
}

async function seqRate(sock: string): Promise<number> {
  const c = await client(sock);
  await init(c);
  for (let i = 0; i < 200; i++) await c.request("transact", TXN);
  let n = 0;
  const t0 = performance.now();
  while (performance.now() - t0 < MEASURE_MS) {
    await c.request("transact", TXN);
    n++;
  }
  const rate = (n * 1000) / (performance.now() - t0);
  c.close();
  return rate;
}

/** Keeps `PIPELINE` transactions in flight on `c` for MEASURE_MS; returns txns/s. */
async function pipelined(c: JsonRpcConnection): Promise<number> {
  let done = 0;
  let stop = false;
  const t0 = performance.now();
  const lane = async () => {
    while (!stop) {
      await c.request("transact", TXN);
      done++;
      if (performance.now() - t0 >= MEASURE_MS) stop = true;
    }
  };
  await Promise.all(Array.from({ length: PIPELINE }, lane));
  return (done * 1000) / (performance.now() - t0);
}

async function pipelinedRate(sock: string): Promise<number> {
  const c = await client(sock);
  await init(c);
  const rate = await pipelined(c);
  c.close();
  return rate;
}

async function monitorRate(sock: string): Promise<number> {
  let updates = 0;
  const watcher = await client(sock, (method) => {
    if (method === "update3" || method === "update2") updates++;
  });
  const writer = await client(sock);
  await init(writer);
  await watcher.request("monitor_cond", [
    "Open_vSwitch",
    "m",
    { Open_vSwitch: [{ columns: ["next_cfg"] }] },
  ]);
  const t0 = performance.now();
  const before = updates;
  await pipelined(writer);
  await watcher.request("echo", []);
  const rate = ((updates - before) * 1000) / (performance.now() - t0);
  watcher.close();
  writer.close();
  return rate;
}

async function withServer<T>(
  start: () => Promise<RunningServer | null>,
  fn: (sock: string) => Promise<T>,
): Promise<T> {
  const s = await start();
  if (!s) throw new Error("ovsdb-server is not installed (apt-get install openvswitch-switch)");
  try {
    return await fn(s.sock);
  } finally {
    await s.stop();
  }
}

/**
 * ovsim ÷ ovsdb-server on one workload. The machine is shared, so the two servers are
 * measured alternately, ROUNDS times each, and the best run of each is compared.
 */
async function ratio(workload: (sock: string) => Promise<number>): Promise<number> {
  let ours = 0;
  let theirs = 0;
  for (let i = 0; i < ROUNDS; i++) {
    ours = Math.max(ours, await withServer(startOvsim, workload));
    theirs = Math.max(theirs, await withServer(startDebian, workload));
  }
  return ours / theirs;
}

export const benchmarks: Figure[] = [
  { name: "ovsdb.tx_seq_per_s", unit: "txn/s", measure: () => withServer(startOvsim, seqRate) },
  {
    name: "ovsdb.tx_pipelined_per_s",
    unit: "txn/s",
    measure: () => withServer(startOvsim, pipelinedRate),
  },
  {
    name: "ovsdb.monitor_updates_per_s",
    unit: "updates/s",
    measure: () => withServer(startOvsim, monitorRate),
  },
  { name: "ovsdb.ratio_seq", unit: "ovsim/ovsdb-server", measure: () => ratio(seqRate) },
  {
    name: "ovsdb.ratio_pipelined",
    unit: "ovsim/ovsdb-server",
    measure: () => ratio(pipelinedRate),
  },
];
