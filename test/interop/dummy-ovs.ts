/**
 * A real Open vSwitch for interop suites: Debian's ovsdb-server and
 * `ovs-vswitchd --enable-dummy --disable-system` (no kernel module) in a temp dir of
 * their own (OVS_RUNDIR, OVS_DBDIR, OVS_LOGDIR, OVS_SYSCONFDIR all point there),
 * stopped by the pids their pidfiles hold, never by name.
 *
 * `dummyOvsMissing()` names what this machine lacks, so a suite can skip and say why.
 * Commands that must work (`run`, `vsctl`, `appctl`) throw with OVS's stderr when they fail;
 * `exec` returns the outcome for commands a test expects to fail.
 */
import { spawnSync } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";

export const OVS_SCHEMA = "/usr/share/openvswitch/vswitch.ovsschema";
const TOOLS = [
  "ovs-vswitchd",
  "ovsdb-server",
  "ovsdb-tool",
  "ovs-vsctl",
  "ovs-ofctl",
  "ovs-appctl",
];

/** The tools and files a DummyOvs needs that this machine lacks; empty when none. */
export function dummyOvsMissing(): string[] {
  const missing = TOOLS.filter((t) => spawnSync("sh", ["-c", `command -v ${t}`]).status !== 0);
  if (spawnSync("test", ["-f", OVS_SCHEMA]).status !== 0) missing.push(OVS_SCHEMA);
  return missing;
}

export interface ExecResult {
  out: string;
  err: string;
  ok: boolean;
}

export class DummyOvs {
  readonly dir: string;
  readonly env: NodeJS.ProcessEnv;
  /** ovs-vswitchd's unixctl socket, once started. */
  ctl = "";
  private readonly pids: number[] = [];

  constructor(prefix = "ovsim-ovs-") {
    this.dir = mkdtempSync(join(tmpdir(), prefix));
    this.env = {
      ...process.env,
      OVS_RUNDIR: this.dir,
      OVS_DBDIR: this.dir,
      OVS_LOGDIR: this.dir,
      OVS_SYSCONFDIR: this.dir,
    };
  }

  exec(cmd: string, args: readonly string[]): ExecResult {
    const r = spawnSync(cmd, args, { env: this.env, encoding: "utf8" });
    return { out: r.stdout ?? "", err: r.stderr ?? "", ok: r.status === 0 };
  }

  /** `exec`, throwing with OVS's own message when the command fails. */
  run(cmd: string, args: readonly string[]): string {
    const r = this.exec(cmd, args);
    if (!r.ok) throw new Error(`${cmd} ${args.join(" ")} failed: ${r.err.trim()}`);
    return r.out;
  }

  /** A fresh database, ovsdb-server on `db.sock`, then ovs-vswitchd on it. */
  start(): this {
    const d = this.dir;
    this.run("ovsdb-tool", ["create", `${d}/conf.db`, OVS_SCHEMA]);
    this.run("ovsdb-server", [
      "--detach",
      "--no-chdir",
      `--pidfile=${d}/db.pid`,
      `--remote=punix:${d}/db.sock`,
      `--log-file=${d}/db.log`,
      `${d}/conf.db`,
    ]);
    this.pids.push(Number(readFileSync(`${d}/db.pid`, "utf8")));
    this.vsctl("--no-wait", "init");
    this.run("ovs-vswitchd", [
      "--enable-dummy",
      "--disable-system",
      "--disable-system-route",
      "--detach",
      "--no-chdir",
      `--pidfile=${d}/vs.pid`,
      `--log-file=${d}/vs.log`,
      `unix:${d}/db.sock`,
    ]);
    const pid = Number(readFileSync(`${d}/vs.pid`, "utf8"));
    this.pids.push(pid);
    this.ctl = `${d}/ovs-vswitchd.${pid}.ctl`;
    return this;
  }

  /** Stops the daemons this instance started (by pid) and removes the temp dir. */
  stop(): void {
    for (const pid of this.pids.splice(0).reverse()) {
      try {
        process.kill(pid, "SIGTERM");
      } catch {
        // Already gone.
      }
    }
    spawnSync("sleep", ["0.2"]);
    rmSync(this.dir, { recursive: true, force: true });
  }

  /** A bridge's OpenFlow management socket, as ovs-ofctl takes it. */
  mgmt(bridge: string): string {
    return `unix:${this.dir}/${bridge}.mgmt`;
  }

  vsctl(...args: string[]): string {
    return this.run("ovs-vsctl", [`--db=unix:${this.dir}/db.sock`, "--timeout=20", ...args]);
  }

  appctl(...args: string[]): string {
    return this.run("ovs-appctl", ["-t", this.ctl, ...args]);
  }
}
