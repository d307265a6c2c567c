/**
 * Stock ovsdb-client (Open vSwitch 3.1) against ovsim's OVSDB server, hostile input
 * over the socket, and durability of acknowledged transactions across a SIGKILL of a
 * server process started the way a user starts it (`ovsdbServerCommand`).
 */
import { type ChildProcess, execFile, spawn } from "node:child_process";
import { existsSync, mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { promisify } from "node:util";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { Database, type Json } from "../../ovsdb/index.js";
import { RawClient, startServer, type TestServer, VSWITCH_SCHEMA_PATH } from "../ovsdb/fixtures.js";

const run = promisify(execFile);
const available = existsSync("/usr/bin/ovsdb-client");
if (!available)
  console.warn(
    "skipping ovsdb-client interop: /usr/bin/ovsdb-client is not installed (apt-get install openvswitch-switch)",
  );

describe.skipIf(!available)("ovsdb-client against ovsim's ovsdb server", () => {
  let ts: TestServer;
  const client = async (...args: string[]): Promise<string> => {
    const { stdout } = await run("ovsdb-client", ["--timeout=10", ...args]);
    return stdout;
  };
  beforeAll(async () => {
    ts = await startServer();
    await run("ovs-vsctl", [`--db=unix:${ts.sock}`, "--no-wait", "init"]);
  });
  afterAll(async () => {
    await ts.close();
  });

  it("list-dbs lists Open_vSwitch and _Server", async () => {
    expect(await client("list-dbs", `unix:${ts.sock}`)).toBe("Open_vSwitch\n_Server\n");
  });

  it("get-schema returns the schema we serve", async () => {
    const schema = JSON.parse(await client("get-schema", `unix:${ts.sock}`, "Open_vSwitch")) as {
      name: string;
      version: string;
      tables: Record<string, unknown>;
    };
    expect(schema.name).toBe("Open_vSwitch");
    expect(schema.version).toBe("8.3.1");
    expect(Object.keys(schema.tables)).toContain("Interface");
  });

  it("transact inserts rows and reads them back", async () => {
    const out = await client(
      "transact",
      `unix:${ts.sock}`,
      JSON.stringify([
        "Open_vSwitch",
        { op: "insert", table: "Bridge", row: { name: "brT" }, "uuid-name": "b" },
        {
          op: "mutate",
          table: "Open_vSwitch",
          where: [],
          mutations: [["bridges", "insert", ["set", [["named-uuid", "b"]]]]],
        },
        { op: "select", table: "Bridge", where: [["name", "==", "brT"]], columns: ["name"] },
      ]),
    );
    const result = JSON.parse(out) as Json[];
    expect(result[1]).toEqual({ count: 1 });
    expect(result[2]).toEqual({ rows: [{ name: "brT" }] });
  });

  it("dump prints every table, with our rows in it", async () => {
    const out = await client("dump", `unix:${ts.sock}`, "Open_vSwitch", "Bridge", "name");
    expect(out).toMatch(/Bridge table/);
    expect(out).toMatch(/brT/);
  });

  it("monitor prints an update when another client changes a row", async () => {
    const child: ChildProcess = spawn(
      "ovsdb-client",
      ["monitor", `unix:${ts.sock}`, "Open_vSwitch", "Bridge", "name,fail_mode"],
      {
        stdio: ["ignore", "pipe", "pipe"],
      },
    );
    let out = "";
    child.stdout!.on("data", (d: Buffer) => {
      out += d.toString();
    });
    try {
      const until = async (re: RegExp) => {
        for (let i = 0; i < 200 && !re.test(out); i++) await new Promise((r) => setTimeout(r, 25));
        return out;
      };
      expect(await until(/initial\s+brT/)).toMatch(/initial\s+brT/);
      await run("ovs-vsctl", [
        `--db=unix:${ts.sock}`,
        "--no-wait",
        "set",
        "Bridge",
        "brT",
        "fail_mode=secure",
      ]);
      expect(await until(/new\s+secure\s+brT|new\s+brT|secure/)).toMatch(/secure/);
    } finally {
      child.kill("SIGTERM");
    }
  });
});

describe.skipIf(!available)("ovsdb-client lock, steal, wait, backup and monitor-cond-since", () => {
  let ts: TestServer;
  beforeAll(async () => {
    ts = await startServer();
    await run("ovs-vsctl", [`--db=unix:${ts.sock}`, "--no-wait", "init"]);
  });
  afterAll(async () => {
    await ts.close();
  });

  function watch(args: string[]): {
    child: ChildProcess;
    out: () => string;
    until(re: RegExp): Promise<string>;
  } {
    const child = spawn("ovsdb-client", args, { stdio: ["ignore", "pipe", "ignore"] });
    let out = "";
    child.stdout!.on("data", (d: Buffer) => {
      out += d.toString();
    });
    return {
      child,
      out: () => out,
      until: async (re) => {
        for (let i = 0; i < 200 && !re.test(out); i++) await new Promise((r) => setTimeout(r, 25));
        return out;
      },
    };
  }

  it("queues a second locker, and gives the lock back to a victim when the thief leaves", async () => {
    const a = watch(["lock", `unix:${ts.sock}`, "mylock"]);
    let b: ReturnType<typeof watch> | null = null;
    try {
      // b starts once a holds the lock: two processes started together race to connect.
      expect(await a.until(/"locked":true/)).toMatch(/\{"locked":true\}/);
      b = watch(["lock", `unix:${ts.sock}`, "mylock"]);
      expect(await b.until(/"locked":false/)).toMatch(/\{"locked":false\}/);
      const thief = await RawClient.connect(ts.sock);
      expect((await thief.call(1, "steal", ["mylock"])).result).toEqual({ locked: true });
      expect(await a.until(/stolen/)).toMatch(/stolen\n\["mylock"\]/);
      thief.close();
      expect(await a.until(/locked\n\["mylock"\]/)).toMatch(
        /stolen\n\["mylock"\]\nlocked\n\["mylock"\]/,
      );
      expect(b.out()).not.toMatch(/^locked/m);
    } finally {
      a.child.kill("SIGTERM");
      b?.child.kill("SIGTERM");
    }
  });

  it("wait returns once the database is connected", async () => {
    await expect(
      run("ovsdb-client", ["--timeout=5", "wait", `unix:${ts.sock}`, "Open_vSwitch", "connected"]),
    ).resolves.toBeDefined();
  });

  it("backup writes a database file that ovsdb-tool can read", async () => {
    const { stdout } = await run("ovsdb-client", [
      "--timeout=5",
      "backup",
      `unix:${ts.sock}`,
      "Open_vSwitch",
    ]);
    expect(stdout).toMatch(/^OVSDB JSON \d+ [0-9a-f]{40}\n\{"cksum":"3012963480 26720"/);
  });

  it("monitor-cond-since reports found false and then update3 changes", async () => {
    const m = watch([
      "monitor-cond-since",
      `unix:${ts.sock}`,
      "Open_vSwitch",
      "[]",
      "Open_vSwitch",
      "next_cfg",
    ]);
    try {
      expect(await m.until(/found: false/)).toMatch(/found: false, last_id: [0-9a-f-]{36}/);
      await ts.db.transact([
        { op: "mutate", table: "Open_vSwitch", where: [], mutations: [["next_cfg", "+=", 7]] },
      ]);
      expect(await m.until(/\b7\b/)).toMatch(/\b7\b/);
    } finally {
      m.child.kill("SIGTERM");
    }
  });
});

const serverAvailable = existsSync("/usr/sbin/ovsdb-server") && existsSync("/usr/bin/ovsdb-tool");
if (!serverAvailable)
  console.warn(
    "skipping ovsdb-server differential test: /usr/sbin/ovsdb-server or ovsdb-tool is not installed",
  );

/** Sorts object keys so that replies compare regardless of member order. */
function canonical(v: unknown): unknown {
  if (Array.isArray(v)) return v.map(canonical);
  if (v && typeof v === "object") {
    const out: Record<string, unknown> = {};
    for (const k of Object.keys(v).sort()) out[k] = canonical((v as Record<string, unknown>)[k]);
    return out;
  }
  return v;
}

describe.skipIf(!serverAvailable)(
  "replies to bad and edge-case requests, against Debian's ovsdb-server",
  () => {
    const REQUESTS: [string, Json[]][] = [
      ["frobnicate", []],
      ["transact", ["_Server", { op: "delete", table: "Database", where: [] }]],
      ["monitor_cancel", ["nope"]],
      ["monitor_cond_change", ["nope", "nope", {}]],
      ["lock", ["bad name"]],
      ["lock", ["ok_name"]],
      ["lock", ["ok_name"]],
      ["unlock", ["other"]],
      ["get_schema", []],
      ["get_schema", ["Nope"]],
      ["set_db_change_aware", ["yes"]],
      ["set_db_change_aware", [true]],
      ["transact", [42]],
      ["transact", ["Open_vSwitch", { op: "frob" }]],
      ["transact", ["Open_vSwitch", { op: "assert", lock: "x" }]],
      ["transact", ["Open_vSwitch", { op: "assert", lock: "ok_name" }]],
      ["monitor", ["Open_vSwitch", "m", { Bridge: { columns: ["nope"] } }]],
      ["monitor", ["Open_vSwitch", "m1", { Bridge: { columns: ["name", "name"] } }]],
      ["monitor", ["Open_vSwitch", "m2", { Nope: {} }]],
      ["monitor", ["Open_vSwitch", "m3", { Bridge: { where: [] } }]],
      ["monitor", ["Open_vSwitch", "m4", { Bridge: { select: { initial: 1 } } }]],
      ["monitor", ["Open_vSwitch", "m5", { Bridge: { columns: ["name"] } }]],
      ["monitor", ["Open_vSwitch", "m5", { Bridge: { columns: ["name"] } }]],
      ["monitor_cond", ["Open_vSwitch", "m6", { Bridge: { where: [["nope", "==", 1]] } }]],
      ["monitor_cond_since", ["Open_vSwitch", "m7", {}, "xx"]],
      ["monitor_cancel", ["m5"]],
      ["echo", [1, "two", { three: 3 }]],
    ];

    async function answers(sock: string): Promise<unknown[]> {
      const c = await RawClient.connect(sock);
      const out: unknown[] = [];
      let id = 0;
      for (const [method, params] of REQUESTS)
        out.push(canonical(await c.call(id++, method, params)));
      c.close();
      return out;
    }

    it("gives the same reply, error string and details for every request", async () => {
      const ref = await startReference();
      const ours = await startServer();
      try {
        const expected = await answers(ref.sock);
        const actual = await answers(ours.sock);
        const label = (i: number) => `${i} ${REQUESTS[i]![0]} ${JSON.stringify(REQUESTS[i]![1])}`;
        expect(Object.fromEntries(actual.map((a, i) => [label(i), a]))).toEqual(
          Object.fromEntries(expected.map((e, i) => [label(i), e])),
        );
      } finally {
        await ref.stop();
        await ours.close();
      }
    });

    it("sends the same update, update2 and update3 notifications for the same transactions", async () => {
      const ref = await startReference();
      const ours = await startServer();
      try {
        const expected = await monitorScenario(ref.sock);
        const actual = await monitorScenario(ours.sock);
        expect(actual.length).toBeGreaterThan(20);
        expect(actual).toEqual(expected);
      } finally {
        await ref.stop();
        await ours.close();
      }
    });
  },
);

/** Debian's ovsdb-server on a fresh Open_vSwitch database in a temp dir. */
async function startReference(): Promise<{ sock: string; stop(): Promise<void> }> {
  const dir = mkdtempSync(join(tmpdir(), "ovsim-ref-"));
  const db = join(dir, "conf.db");
  const sock = join(dir, "db.sock");
  await run("ovsdb-tool", ["create", db, VSWITCH_SCHEMA_PATH.pathname]);
  const ref = spawn(
    "/usr/sbin/ovsdb-server",
    [
      db,
      `--remote=punix:${sock}`,
      "--no-chdir",
      `--pidfile=${join(dir, "pid")}`,
      `--unixctl=${join(dir, "ctl")}`,
      "-vconsole:off",
    ],
    { env: { ...process.env, OVS_RUNDIR: dir, OVS_DBDIR: dir, OVS_LOGDIR: dir }, stdio: "ignore" },
  );
  for (let i = 0; i < 200 && !existsSync(sock); i++) await new Promise((r) => setTimeout(r, 25));
  return {
    sock,
    stop: () =>
      new Promise<void>((resolve) => {
        const done = () => {
          rmSync(dir, { recursive: true, force: true });
          resolve();
        };
        if (ref.exitCode !== null) return done();
        ref.once("exit", done);
        ref.kill("SIGTERM");
      }),
  };
}

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;

/** Uuids become a placeholder; uuid-keyed objects become sorted lists of their values. */
function normalizeUuids(v: unknown): unknown {
  if (typeof v === "string") return UUID.test(v) ? "<uuid>" : v;
  if (Array.isArray(v)) return v.map(normalizeUuids);
  if (v && typeof v === "object") {
    const keys = Object.keys(v);
    if (keys.length > 0 && keys.every((k) => UUID.test(k))) {
      return keys
        .map((k) => JSON.stringify(normalizeUuids((v as Record<string, unknown>)[k])))
        .sort();
    }
    const out: Record<string, unknown> = {};
    for (const k of keys.sort()) out[k] = normalizeUuids((v as Record<string, unknown>)[k]);
    return out;
  }
  return v;
}

/**
 * Four monitors (v1, v2, v3, and v2 with a condition) watch Bridge and Open_vSwitch
 * while one client runs a series of transactions that exercise scalars, optional
 * scalars, sets and maps; returns every message the client received, normalized.
 */
async function monitorScenario(sock: string): Promise<unknown[]> {
  const c = await RawClient.connect(sock);
  const mon = { Bridge: {}, Open_vSwitch: { columns: ["bridges", "next_cfg"] } };
  await c.call("m1", "monitor", ["Open_vSwitch", "v1", mon]);
  await c.call("m2", "monitor_cond", ["Open_vSwitch", "v2", mon]);
  await c.call("m3", "monitor_cond_since", [
    "Open_vSwitch",
    "v3",
    mon,
    "00000000-0000-0000-0000-000000000000",
  ]);
  await c.call("m4", "monitor_cond", [
    "Open_vSwitch",
    "v2c",
    { Bridge: { columns: ["name", "fail_mode"], where: [["name", "==", "br1"]] } },
  ]);
  const br = (name: string) => [["name", "==", name]];
  const txns: Json[][] = [
    [{ op: "insert", table: "Open_vSwitch", row: {} }],
    [
      { op: "insert", table: "Bridge", row: { name: "br0" }, "uuid-name": "b" },
      {
        op: "mutate",
        table: "Open_vSwitch",
        where: [],
        mutations: [["bridges", "insert", ["set", [["named-uuid", "b"]]]]],
      },
    ],
    [
      {
        op: "update",
        table: "Bridge",
        where: br("br0"),
        row: {
          fail_mode: "secure",
          other_config: [
            "map",
            [
              ["a", "1"],
              ["b", "2"],
            ],
          ],
          flood_vlans: ["set", [1, 2, 3]],
        },
      },
    ],
    [
      {
        op: "mutate",
        table: "Bridge",
        where: br("br0"),
        mutations: [
          ["other_config", "delete", ["set", ["a"]]],
          ["other_config", "insert", ["map", [["c", "3"]]]],
          ["flood_vlans", "delete", 2],
          ["flood_vlans", "insert", 4],
        ],
      },
    ],
    [
      {
        op: "update",
        table: "Bridge",
        where: br("br0"),
        row: { fail_mode: "standalone", external_ids: ["map", [["x", "y"]]] },
      },
    ],
    [
      {
        op: "update",
        table: "Bridge",
        where: br("br0"),
        row: {
          other_config: [
            "map",
            [
              ["b", "9"],
              ["c", "3"],
            ],
          ],
        },
      },
    ],
    [{ op: "update", table: "Bridge", where: br("br0"), row: { stp_enable: false } }],
    [
      {
        op: "insert",
        table: "Bridge",
        row: { name: "br1", datapath_type: "netdev" },
        "uuid-name": "b1",
      },
      {
        op: "mutate",
        table: "Open_vSwitch",
        where: [],
        mutations: [["bridges", "insert", ["set", [["named-uuid", "b1"]]]]],
      },
    ],
    [{ op: "update", table: "Bridge", where: br("br1"), row: { fail_mode: "secure" } }],
    [{ op: "mutate", table: "Open_vSwitch", where: [], mutations: [["next_cfg", "+=", 5]] }],
    [{ op: "update", table: "Open_vSwitch", where: [], row: { bridges: ["set", []] } }],
  ];
  await c.call("m5", "monitor", [
    "Open_vSwitch",
    "sel",
    {
      Bridge: {
        columns: ["name"],
        select: { initial: false, insert: true, delete: true, modify: false },
      },
    },
  ]);
  let id = 0;
  for (const ops of txns) {
    await c.call(`t${id++}`, "transact", ["Open_vSwitch", ...ops]);
    if (id === 9) {
      await c.call("cc", "monitor_cond_change", [
        "v2c",
        "v2c",
        { Bridge: [{ where: [["name", "==", "br0"]] }] },
      ]);
      await c.call("cc2", "monitor_cond_change", [
        "v2c",
        "v2c-renamed",
        { Bridge: [{ where: [true] }] },
      ]);
      await c.call("mc", "monitor_cancel", ["v1"]);
    }
  }
  await c.call("end", "echo", []);
  c.close();
  // Notifications for one commit go to the monitors in hash order in ovsdb-server, so
  // each run of notifications between two replies is compared as a sorted list.
  const out: unknown[] = [];
  let run: string[] = [];
  for (const m of c.messages.map(normalizeUuids)) {
    if ((m as { method?: string }).method) {
      run.push(JSON.stringify(m));
      continue;
    }
    out.push(run.sort(), m);
    run = [];
  }
  return out;
}

describe.skipIf(!available)("hostile input over the socket", () => {
  let ts: TestServer;
  beforeAll(async () => {
    ts = await startServer();
  });
  afterAll(async () => {
    await ts.close();
  });

  it("drops only the offending connections and keeps serving ovsdb-client", async () => {
    const bad = await Promise.all([1, 2, 3, 4, 5].map(() => RawClient.connect(ts.sock)));
    bad[0]!.send("this is not json");
    bad[1]!.send('"a string, not an object"');
    bad[2]!.send(`[${"[".repeat(5000)}`);
    bad[3]!.send({ id: 1, method: "transact", params: "not-an-array" } as unknown as Json);
    bad[4]!.send('{"id":1,"method":"list_d');
    bad[4]!.close();
    for (const c of bad.slice(0, 4)) expect(await c.waitClosed()).toBe(true);
    const good = await RawClient.connect(ts.sock);
    expect((await good.call(1, "monitor", ["Open_vSwitch", null])).error).toMatchObject({
      details: "invalid parameters",
    });
    expect((await good.call(2, "transact", ["Open_vSwitch", { op: 3 }])).result).toMatchObject([
      { error: "syntax error" },
    ]);
    good.close();
    const { stdout } = await run("ovsdb-client", ["list-dbs", `unix:${ts.sock}`]);
    expect(stdout).toBe("Open_vSwitch\n_Server\n");
  });
});

describe.skipIf(!available)("durability across SIGKILL of `ovsim ovsdb-server`", () => {
  it("keeps every acknowledged transaction", async () => {
    const dir = mkdtempSync(join(tmpdir(), "ovsim-durable-"));
    const dbFile = join(dir, "conf.db");
    const sock = join(dir, "db.sock");
    const schema = VSWITCH_SCHEMA_PATH.pathname;
    const start = () => {
      const code = `import("./cli/ovsdb-server.ts").then((m) => m.ovsdbServerCommand(${JSON.stringify([dbFile])}, { remote: [${JSON.stringify(`punix:${sock}`)}], schema: ${JSON.stringify(schema)} }))`;
      // node itself (not npx) so that SIGKILL hits the server process, not a wrapper.
      return spawn(process.execPath, ["--import", "tsx", "--input-type=module", "-e", code], {
        cwd: process.cwd(),
        stdio: ["ignore", "ignore", "pipe"],
      });
    };
    const waitReady = async (child: ChildProcess) => {
      let err = "";
      child.stderr!.on("data", (d: Buffer) => {
        err += d.toString();
      });
      for (let i = 0; i < 400 && !/listening on/.test(err); i++)
        await new Promise((r) => setTimeout(r, 25));
      expect(err).toMatch(/listening on/);
    };
    let child = start();
    try {
      await waitReady(child);
      const c = await RawClient.connect(sock);
      await c.call("init", "transact", [
        "Open_vSwitch",
        { op: "insert", table: "Open_vSwitch", row: {} },
      ]);
      // Pipeline many transactions; kill the server while they stream in.
      const total = 2000;
      for (let i = 0; i < total; i++) {
        c.send({
          id: i,
          method: "transact",
          params: [
            "Open_vSwitch",
            {
              op: "mutate",
              table: "Open_vSwitch",
              where: [],
              mutations: [["external_ids", "insert", ["map", [[`k${i}`, `v${i}`]]]]],
            },
          ],
        });
      }
      await c.waitFor(() => c.messages.length > 21);
      child.kill("SIGKILL");
      await c.waitClosed();
      await new Promise<void>((r) =>
        child.exitCode !== null || child.signalCode ? r() : child.once("exit", () => r()),
      );
      const acked = c.messages
        .filter(
          (m) =>
            typeof (m as { id?: Json }).id === "number" &&
            Array.isArray((m as { result?: Json }).result),
        )
        .map((m) => (m as { id: number }).id);
      expect(acked.length).toBeGreaterThanOrEqual(20);
      await new Promise((r) => setTimeout(r, 100));
      child = start();
      await waitReady(child);
      const c2 = await RawClient.connect(sock);
      const sel = await c2.call(1, "transact", [
        "Open_vSwitch",
        { op: "select", table: "Open_vSwitch", where: [], columns: ["external_ids"] },
      ]);
      const ids = (sel.result as { rows: { external_ids: [string, [string, string][]] }[] }[])[0]!
        .rows[0]!.external_ids[1];
      const keys = new Set(ids.map(([k]) => k));
      for (const i of acked) expect(keys.has(`k${i}`), `acknowledged txn ${i}`).toBe(true);
      c2.close();
      // The file is a valid OVS database for the engine too.
      child.kill("SIGTERM");
      await new Promise<void>((r) => child.once("exit", () => r()));
      const db = await Database.open(dbFile);
      expect([...db.rows("Open_vSwitch")]).toHaveLength(1);
      await db.close();
    } finally {
      child.kill("SIGKILL");
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
