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
 *   Informational: ratio_seq is the target.
 * - ratio_seq_floor: ratio_seq with ovsim's server replaced by ovsdb-seq-floor.ts, the
 *   least a Node server can do per transaction (parse, log record, reply; no engine).
 *   It bounds what ratio_seq can reach on this machine. Informational.
 *
 * Why ovsdb-server wakes faster across CPUs on a virtual machine: each pass of its main
 * loop calls accept() on its listeners, and a failing accept() still allocates and
 * frees a socket inode. Freeing one inode per loop pass the same way (pipe(), close(),
 * added by LD_PRELOAD) takes a C echo server's round trip from 52 to 42 µs on a 2-vCPU
 * Firecracker VM, and ovsim's from 70 to 58 µs; a 6 µs spin or 40 other syscalls do
 * not. The likely path: freed inodes leave RCU callbacks pending, a CPU with pending
 * callbacks keeps its scheduler tick while idle (local timer interrupts rose from about
 * 255 to 420 per second), and a wake-up that need not restart the tick skips a timer
 * reprogram, a VM exit. Freeing inodes is nothing a server needs; ovsim does not.
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

/**
 * A Node child process that runs `code` (an ES module body given `dir` and `sock`),
 * compiled from dist or run from the sources (tsx), serving on `sock`.
 */
async function startNode(code: (dir: string, sock: string) => string): Promise<RunningServer> {
  const dir = mkdtempSync(join(tmpdir(), "ovsim-bench-"));
  const sock = join(dir, "db.sock");
  const compiled = import.meta.url.endsWith(".js");
  const args = compiled
    ? ["--input-type=module", "-e", code(dir, sock)]
    : ["--import", "tsx", "--input-type=module", "-e", code(dir, sock)];
  const child = spawn(process.execPath, args, { stdio: ["ignore", "ignore", "inherit"] });
  await waitForSocket(sock, child);
  return { sock, stop: () => stopChild(child, dir) };
}

/** The URL of the module at `path` (relative to this file, no extension), as JSON text. */
function moduleUrl(path: string): string {
  const ext = import.meta.url.endsWith(".js") ? "js" : "ts";
  return JSON.stringify(new URL(`${path}.${ext}`, import.meta.url).href);
}

/** ovsim's server in a child process. */
function startOvsim(): Promise<RunningServer> {
  return startNode(
    (dir, sock) =>
      `const m = await import(${moduleUrl("../cli/ovsdb-server")}); await m.ovsdbServerCommand([${JSON.stringify(join(dir, "conf.db"))}], { remote: [${JSON.stringify(`punix:${sock}`)}], schema: ${JSON.stringify(schemaPath())}, log: () => {} });`,
  );
}

/** The yardstick of ovsdb-seq-floor.ts in a child process. */
function startSeqFloor(): Promise<RunningServer> {
  return startNode(
    (dir, sock) =>
      `const m = await import(${moduleUrl("./ovsdb-seq-floor")}); m.serveSeqFloor(${JSON.stringify(sock)}, ${JSON.stringify(join(dir, "floor.log"))});`,
  );
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
 * `ours` (ovsim's server unless given) ÷ ovsdb-server on one workload: ROUNDS
 * alternating runs of each, medians compared (the machine is shared, so one run of
 * either can be unlucky).
 */
async function ratio(
  name: string,
  workload: (sock: string) => Promise<number>,
  ours = { label: "ovsim", start: startOvsim },
): Promise<number> {
  const mine: number[] = [];
  const theirs: number[] = [];
  for (let i = 0; i < ROUNDS; i++) {
    mine.push(await withServer(ours.start, workload));
    theirs.push(await withServer(startDebian, workload));
  }
  const fmt = (xs: number[]) => xs.map((x) => Math.round(x)).join(" ");
  process.stderr.write(`${name}: ${ours.label} ${fmt(mine)} | ovsdb-server ${fmt(theirs)} txn/s\n`);
  return median(mine) / median(theirs);
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
    name: "ovsdb.ratio_seq_floor",
    unit: "floor/ovsdb-server",
    measure: () => ratio("ratio_seq_floor", seqRate, { label: "floor", start: startSeqFloor }),
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
