/**
 * Stock ovs-vsctl (Open vSwitch 3.1) against ovsim's OVSDB server on a temp unix
 * socket serving the shipped Open_vSwitch schema. Every change is read back from our
 * own Database, so the test proves both the wire protocol and the stored result.
 */
import { execFile } from "node:child_process";
import { existsSync } from "node:fs";
import { promisify } from "node:util";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type Database, Idl, parseSchema } from "../../ovsdb/index.js";
import { startServer, type TestServer, vswitchSchemaJson } from "../ovsdb/fixtures.js";

const run = promisify(execFile);
const available = existsSync("/usr/bin/ovs-vsctl");
if (!available)
  console.warn(
    "skipping ovs-vsctl interop: /usr/bin/ovs-vsctl is not installed (apt-get install openvswitch-switch)",
  );

function rowsOf(db: Database, table: string): Record<string, unknown>[] {
  return [...db.rows(table)].map((r) => db.rowToJson(table, r));
}

describe.skipIf(!available)("ovs-vsctl against ovsim's ovsdb server", () => {
  let ts: TestServer;
  const vsctl = async (...args: string[]): Promise<string> => {
    const { stdout } = await run("ovs-vsctl", [
      `--db=unix:${ts.sock}`,
      "--no-wait",
      "--timeout=10",
      ...args,
    ]);
    return stdout;
  };

  beforeAll(async () => {
    ts = await startServer();
  });
  afterAll(async () => {
    await ts.close();
  });

  it("init creates the root Open_vSwitch row", async () => {
    await vsctl("init");
    expect(rowsOf(ts.db, "Open_vSwitch")).toHaveLength(1);
  });

  it("add-br creates a bridge with its internal port and interface", async () => {
    await vsctl("add-br", "br0");
    expect(rowsOf(ts.db, "Bridge").map((r) => r.name)).toEqual(["br0"]);
    const iface = rowsOf(ts.db, "Interface").find((r) => r.name === "br0");
    expect(iface?.type).toBe("internal");
    expect(await vsctl("list-br")).toBe("br0\n");
  });

  it("add-port with a vxlan interface stores type and options", async () => {
    await vsctl(
      "add-port",
      "br0",
      "vx1",
      "--",
      "set",
      "Interface",
      "vx1",
      "type=vxlan",
      "options:remote_ip=192.168.1.2",
      "options:key=100",
    );
    const vx = rowsOf(ts.db, "Interface").find((r) => r.name === "vx1");
    expect(vx?.type).toBe("vxlan");
    expect(vx?.options).toEqual([
      "map",
      [
        ["key", "100"],
        ["remote_ip", "192.168.1.2"],
      ],
    ]);
    expect((await vsctl("list-ports", "br0")).trim()).toBe("vx1");
  });

  it("set and get round-trip a column and a map key", async () => {
    await vsctl("set", "Bridge", "br0", "fail_mode=secure", "other_config:foo=bar");
    expect((await vsctl("get", "Bridge", "br0", "fail_mode")).trim()).toBe("secure");
    expect((await vsctl("get", "Bridge", "br0", "other_config:foo")).trim()).toBe("bar");
    const br = rowsOf(ts.db, "Bridge")[0]!;
    expect(br.fail_mode).toBe("secure");
  });

  it("list and find print the rows", async () => {
    const list = await vsctl("list", "Interface", "vx1");
    expect(list).toMatch(/^name\s+: vx1$/m);
    expect(list).toMatch(/^type\s+: vxlan$/m);
    const found = await vsctl("--bare", "--columns=name", "find", "Interface", "type=vxlan");
    expect(found.trim()).toBe("vx1");
  });

  it("show prints the bridge, its ports and the vxlan options", async () => {
    const out = await vsctl("show");
    expect(out).toMatch(/Bridge br0/);
    expect(out).toMatch(/Port vx1/);
    expect(out).toMatch(/type: vxlan/);
    expect(out).toMatch(/options: \{key="100", remote_ip="192\.168\.1\.2"\}/);
  });

  it("--may-exist and --if-exists make repeated add and delete succeed", async () => {
    await vsctl("--may-exist", "add-br", "br0");
    await vsctl("--may-exist", "add-port", "br0", "vx1");
    await expect(vsctl("add-br", "br0")).rejects.toThrow(/already exists/);
    await vsctl("--if-exists", "del-port", "br0", "nope");
    await vsctl("--if-exists", "del-br", "nope");
    expect(rowsOf(ts.db, "Bridge")).toHaveLength(1);
  });

  it("del-port and del-br remove the rows, garbage-collecting ports and interfaces", async () => {
    await vsctl("del-port", "br0", "vx1");
    expect(rowsOf(ts.db, "Interface").some((r) => r.name === "vx1")).toBe(false);
    await vsctl("del-br", "br0");
    expect(rowsOf(ts.db, "Bridge")).toHaveLength(0);
    expect(rowsOf(ts.db, "Port")).toHaveLength(0);
    expect(rowsOf(ts.db, "Interface")).toHaveLength(0);
    expect(await vsctl("list-br")).toBe("");
  });
});

describe.skipIf(!available)("ovs-vsctl waiting for a vswitchd that is an ovsim IDL", () => {
  it("add-br without --no-wait returns once the IDL client copies next_cfg to cur_cfg", async () => {
    const ts = await startServer();
    // A stand-in for ovs-vswitchd: whenever next_cfg moves, acknowledge it in cur_cfg.
    const idl = Idl.inProcess(ts.server, "Open_vSwitch", {
      schema: parseSchema(vswitchSchemaJson()),
      tables: { Open_vSwitch: ["next_cfg", "cur_cfg"] },
      onChange: (i) => {
        const root = i.rows("Open_vSwitch")[0];
        if (!root || root.value("next_cfg") === root.value("cur_cfg")) return;
        void i
          .txn()
          .update("Open_vSwitch", root.uuid, { cur_cfg: root.value("next_cfg") as number })
          .commit();
      },
    });
    try {
      await idl.connect();
      const tcp = await ts.server.listen("ptcp:0");
      const db = `--db=tcp:${tcp.address}`;
      await run("ovs-vsctl", [db, "--no-wait", "init"]);
      const t0 = performance.now();
      await run("ovs-vsctl", [db, "--timeout=10", "add-br", "br9"]);
      expect(performance.now() - t0).toBeLessThan(5000);
      const root = [...ts.db.rows("Open_vSwitch")].map((r) =>
        ts.db.rowToJson("Open_vSwitch", r),
      )[0]!;
      expect(root.cur_cfg).toBe(1);
      expect(root.next_cfg).toBe(1);
      const { stdout } = await run("ovs-vsctl", [db, "list-br"]);
      expect(stdout).toBe("br9\n");
    } finally {
      idl.close();
      await ts.close();
    }
  });
});
