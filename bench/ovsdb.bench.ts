/**
 * OVSDB server benchmarks over a unix socket (issue 5). Each server (ovsim's, and
 * Debian's ovsdb-server when installed) runs as its own child process on a fresh
 * on-disk Open_vSwitch database, so both pay for their log writes and neither shares a
 * CPU with the client more than the other.
 *
 * Workload: TXNS single-insert transactions (`insert` of one Queue row, a root table so
 * the row survives garbage collection), after WARMUP unmeasured ones (see WARMUP).
 * - tx_seq_per_s: one client, one transaction at a time (request, await reply).
 * - tx_pipelined_per_s: one client, PIPELINE transactions in flight.
 * - monitor_updates_per_s: update notifications one monitoring client receives per
 *   second while another client pipelines the transactions.
 * - ratio_seq / ratio_pipelined: ovsim ÷ ovsdb-server on the same workload. The machine
 *   is shared, so the two servers are measured alternately ROUNDS times each and the
 *   medians are compared; every round is also logged to stderr.
 * - ratio_seq_p50: ratio_seq scored by each server's median round trip rather than its
 *   mean, so the two can be told apart: the typical transaction, and the rare slow
 *   ones (for ovsim, V8's garbage collections). Informational.
 * - ratio_seq_one_cpu: ratio_seq with the client and both servers on one CPU (taskset),
 *   alike for both. A sequential round trip is mostly two wake-ups; across CPUs of a
 *   virtual machine each costs an inter-processor interrupt, on one CPU a context
 *   switch, so this figure shows the servers' own work with that cost taken out.
 *   How long a cross-CPU wake-up takes also depends on what the sleeping CPU did last:
 *   ovsdb-server calls accept() on each listener every main-loop pass, and on a 2-vCPU
 *   virtual machine that alone made its wake-ups about 7 µs shorter (measured by
 *   making those calls fail without entering the kernel). Informational: ratio_seq is
 *   the target.
 */
import { type ChildProcess, execFileSync, spawn, spawnSync } from "node:child_process";
import { existsSync, mkdtempSync, rmSync } from "node:fs";
import { connect } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { type Json, JsonRpcConnection } from "../ovsdb/index.js";
import type { Figure } from "./harness.js";

const SCHEMA = fileURLToPath(new URL("../../ovsdb/schemas/vswitch.ovsschema", import.meta.url));
const SCHEMA_SRC = fileURLToPath(new URL("../ovsdb/schemas/vswitch.ovsschema", import.meta.url));
const PIPELINE = 64;
const TXNS = 10_000;
/**
 * Untimed transactions first, on each server alike: V8 compiles the server's hot path
 * over the first few thousand requests, and what is measured is a running server's
 * steady state (a real ovsdb-server has been up for days), not JIT start-up.
 */
const WARMUP = 5_000;
const ROUNDS = 5;

interface RunningServer {
  sock: string;
  stop(): Promise<void>;
}

function schemaPath(): string {
  return existsSync(SCHEMA_SRC) ? SCHEMA_SRC : SCHEMA;
}

/** Whether something accepts connections on the unix socket `path`. */
function accepts(path: string): Promise<boolean> {
  return new Promise((resolve) => {
    const s = connect(path);
    s.once("connect", () => {
      s.destroy();
      resolve(true);
    });
    s.once("error", () => resolve(false));
  });
}

async function waitForSocket(path: string, child: ChildProcess): Promise<void> {
  for (let i = 0; i < 400; i++) {
    // The file appears at bind(), a moment before listen(): connect to be sure.
    if (existsSync(path) && (await accepts(path))) return;
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

let serial = 0;

/** One single-insert transaction; every row differs so each is a real change. */
function txn(): Json[] {
  return [
    "Open_vSwitch",
    {
      op: "insert",
      table: "Queue",
      row: { external_ids: ["map", [["bench", String(++serial)]]] },
    },
  ];
}

/** A client that has already sent WARMUP transactions one at a time. */
async function warmClient(sock: string): Promise<JsonRpcConnection> {
  const c = await client(sock);
  for (let i = 0; i < WARMUP; i++) await c.request("transact", txn());
  return c;
}

async function seqRate(sock: string): Promise<number> {
  const c = await warmClient(sock);
  const t0 = performance.now();
  for (let i = 0; i < TXNS; i++) await c.request("transact", txn());
  const rate = (TXNS * 1000) / (performance.now() - t0);
  c.close();
  return rate;
}

/**
 * `seqRate`'s workload, scored by its median round trip instead of its mean: the rate
 * the typical transaction would give, without the rare slow ones (a garbage collection,
 * a preempted process) that the mean includes.
 */
async function seqMedianRate(sock: string): Promise<number> {
  const c = await warmClient(sock);
  const roundTripsMs = new Float64Array(TXNS);
  for (let i = 0; i < TXNS; i++) {
    const t0 = performance.now();
    await c.request("transact", txn());
    roundTripsMs[i] = performance.now() - t0;
  }
  c.close();
  return 1000 / median(Array.from(roundTripsMs));
}

/** Runs `count` transactions on `c` with PIPELINE in flight; returns txns/s. */
async function pipelined(c: JsonRpcConnection, count: number): Promise<number> {
  let issued = 0;
  const t0 = performance.now();
  const lane = async () => {
    while (issued < count) {
      issued++;
      await c.request("transact", txn());
    }
  };
  await Promise.all(Array.from({ length: PIPELINE }, lane));
  return (count * 1000) / (performance.now() - t0);
}

async function pipelinedRate(sock: string): Promise<number> {
  const c = await client(sock);
  await pipelined(c, WARMUP);
  const rate = await pipelined(c, TXNS);
  c.close();
  return rate;
}

async function monitorRate(sock: string): Promise<number> {
  let updates = 0;
  const watcher = await client(sock, (method) => {
    if (method === "update3" || method === "update2") updates++;
  });
  const writer = await client(sock);
  await watcher.request("monitor_cond", [
    "Open_vSwitch",
    "m",
    { Queue: [{ columns: ["external_ids"], select: { initial: false } }] },
  ]);
  await pipelined(writer, WARMUP);
  await watcher.request("echo", []);
  const t0 = performance.now();
  const before = updates;
  await pipelined(writer, TXNS);
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

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  const m = s.length >> 1;
  return s.length % 2 ? s[m]! : (s[m - 1]! + s[m]!) / 2;
}

/**
 * ovsim ÷ ovsdb-server on one workload: ROUNDS alternating runs of each, medians
 * compared (the machine is shared, so one run of either can be unlucky).
 */
async function ratio(name: string, workload: (sock: string) => Promise<number>): Promise<number> {
  const ours: number[] = [];
  const theirs: number[] = [];
  for (let i = 0; i < ROUNDS; i++) {
    ours.push(await withServer(startOvsim, workload));
    theirs.push(await withServer(startDebian, workload));
  }
  const fmt = (xs: number[]) => xs.map((x) => Math.round(x)).join(" ");
  process.stderr.write(`${name}: ovsim ${fmt(ours)} | ovsdb-server ${fmt(theirs)} txn/s\n`);
  return median(ours) / median(theirs);
}

/** The CPU list a process may run on (`taskset -p -c`), or null without taskset. */
function affinity(pid: number): string | null {
  const r = spawnSync("taskset", ["-p", "-c", String(pid)], { encoding: "utf8" });
  return r.status === 0 ? (/: (.+)$/m.exec(r.stdout)?.[1]?.trim() ?? null) : null;
}

function setAffinity(pid: number, cpus: string): void {
  execFileSync("taskset", ["-a", "-p", "-c", cpus, String(pid)], { stdio: "ignore" });
}

/**
 * `fn` with this process (the client) on its first allowed CPU; servers started inside
 * inherit it. The old CPU list is restored afterwards.
 */
async function onOneCpu<T>(fn: () => Promise<T>): Promise<T> {
  const old = affinity(process.pid);
  if (old === null) throw new Error("taskset is not installed (apt-get install util-linux)");
  setAffinity(process.pid, old.split(/[,-]/)[0]!);
  try {
    return await fn();
  } finally {
    setAffinity(process.pid, old);
  }
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
  {
    name: "ovsdb.ratio_seq",
    unit: "ovsim/ovsdb-server",
    measure: () => ratio("ratio_seq", seqRate),
  },
  {
    name: "ovsdb.ratio_seq_p50",
    unit: "ovsim/ovsdb-server",
    measure: () => ratio("ratio_seq_p50", seqMedianRate),
  },
  {
    name: "ovsdb.ratio_seq_one_cpu",
    unit: "ovsim/ovsdb-server",
    measure: () => onOneCpu(() => ratio("ratio_seq_one_cpu", seqRate)),
  },
  {
    name: "ovsdb.ratio_pipelined",
    unit: "ovsim/ovsdb-server",
    measure: () => ratio("ratio_pipelined", pipelinedRate),
  },
];
