import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { Idl } from "../../ovsdb/idl.js";
import { type Json, JsonRpcRemoteError } from "../../ovsdb/jsonrpc.js";
import { parseSchema } from "../../ovsdb/schema.js";
import { RawClient, startServer, type TestServer, vswitchSchemaJson } from "./fixtures.js";

const schema = parseSchema(vswitchSchemaJson());
const tables = {
  Open_vSwitch: ["bridges", "next_cfg", "cur_cfg"],
  Bridge: ["name", "ports", "fail_mode", "other_config"],
  Port: ["name", "interfaces"],
  Interface: ["name", "type", "options"],
} as const;

async function addBridge(idl: Idl, name: string) {
  const root = idl.rows("Open_vSwitch")[0]!;
  return idl.transact((txn) => {
    txn.verify("Open_vSwitch", root.uuid, ["bridges"]);
    const b = txn.insert("Bridge", { name });
    txn.mutate("Open_vSwitch", root.uuid, [["bridges", "insert", ["set", [["named-uuid", b]]]]]);
  });
}

describe("Idl in process", () => {
  let ts: TestServer;
  beforeEach(async () => {
    ts = await startServer();
    await ts.db.transact([{ op: "insert", table: "Open_vSwitch", row: {} }]);
  });
  afterEach(async () => {
    await ts.close();
  });

  it("replicates the monitored tables and decodes typed values", async () => {
    const idl = Idl.inProcess(ts.server, "Open_vSwitch", { schema, tables });
    await idl.connect();
    expect(idl.monitorMethod).toBe("monitor_cond_since");
    const root = idl.rows("Open_vSwitch");
    expect(root).toHaveLength(1);
    expect(root[0]!.value("next_cfg")).toBe(0);
    expect(root[0]!.value("bridges")).toEqual([]);
    idl.close();
  });

  it("commits a transaction, sees its own change in the replica, and tracks it", async () => {
    const idl = Idl.inProcess(ts.server, "Open_vSwitch", { schema, tables });
    await idl.connect();
    idl.clearTracked();
    const seqno = idl.seqno;
    const r = await addBridge(idl, "br0");
    expect(r.status).toBe("success");
    const uuid = r.inserted.get("row1")!;
    expect(idl.row("Bridge", uuid)?.value("name")).toBe("br0");
    expect(idl.seqno).toBeGreaterThan(seqno);
    expect(idl.trackedChanges()).toEqual(
      expect.arrayContaining([
        { table: "Bridge", uuid, kind: "insert", columns: [] },
        expect.objectContaining({ table: "Open_vSwitch", kind: "modify", columns: ["bridges"] }),
      ]),
    );
    idl.close();
  });

  it("applies map and set diffs from other clients", async () => {
    const idl = Idl.inProcess(ts.server, "Open_vSwitch", { schema, tables });
    await idl.connect();
    const uuid = (await addBridge(idl, "br0")).inserted.get("row1")!;
    await ts.db.transact([
      {
        op: "update",
        table: "Bridge",
        where: [],
        row: {
          fail_mode: "secure",
          other_config: [
            "map",
            [
              ["a", "1"],
              ["b", "2"],
            ],
          ],
        },
      },
    ]);
    await ts.db.transact([
      {
        op: "mutate",
        table: "Bridge",
        where: [],
        mutations: [
          ["other_config", "delete", ["set", ["a"]]],
          ["other_config", "insert", ["map", [["c", "3"]]]],
        ],
      },
    ]);
    await ts.db.transact([
      { op: "update", table: "Bridge", where: [], row: { fail_mode: "standalone" } },
    ]);
    const br = idl.row("Bridge", uuid)!;
    expect(br.value("fail_mode")).toBe("standalone");
    expect(br.value("other_config")).toEqual(
      new Map([
        ["b", "2"],
        ["c", "3"],
      ]),
    );
    idl.close();
  });

  it("reports try again when a verified column changed underneath, then succeeds on retry", async () => {
    const idl = Idl.inProcess(ts.server, "Open_vSwitch", { schema, tables });
    await idl.connect();
    const root = idl.rows("Open_vSwitch")[0]!;
    const txn = idl.txn();
    txn.verify("Open_vSwitch", root.uuid, ["next_cfg"]);
    txn.mutate("Open_vSwitch", root.uuid, [["next_cfg", "+=", 1]]);
    await ts.db.transact([
      { op: "mutate", table: "Open_vSwitch", where: [], mutations: [["next_cfg", "+=", 10]] },
    ]);
    expect((await txn.commit()).status).toBe("try again");
    const r = await idl.transact((t) => {
      t.verify("Open_vSwitch", root.uuid, ["next_cfg"]);
      t.mutate("Open_vSwitch", root.uuid, [["next_cfg", "+=", 1]]);
    });
    expect(r.status).toBe("success");
    expect(idl.rows("Open_vSwitch")[0]!.value("next_cfg")).toBe(11);
    idl.close();
  });

  it("fails an assert on a lock it does not hold", async () => {
    const idl = Idl.inProcess(ts.server, "Open_vSwitch", { schema, tables });
    await idl.connect();
    const r = await idl.txn().assertLock("ovs_vswitchd").comment("x").commit();
    expect(r.status).toBe("error");
    expect(r.error).toMatchObject({ error: "not owner" });
    idl.close();
  });
});

describe("Idl against servers that lack newer methods", () => {
  it("falls back from monitor_cond_since to monitor_cond to monitor on unknown method", async () => {
    const ts = await startServer();
    try {
      await ts.db.transact([{ op: "insert", table: "Open_vSwitch", row: { next_cfg: 5 } }]);
      for (const missing of [["monitor_cond_since"], ["monitor_cond_since", "monitor_cond"]]) {
        const idl = new Idl(
          async (onNotify) => {
            const inner = ts.server.connectInProcess(onNotify);
            return {
              request: (method: string, params: Json[]) =>
                missing.includes(method)
                  ? Promise.reject(new JsonRpcRemoteError(method, "unknown method"))
                  : inner.request(method, params),
              close: () => inner.close(),
            };
          },
          "Open_vSwitch",
          { schema, tables },
        );
        await idl.connect();
        expect(idl.monitorMethod).toBe(missing.length === 1 ? "monitor_cond" : "monitor");
        expect(idl.rows("Open_vSwitch")[0]!.number("next_cfg")).toBe(5);
        await ts.db.transact([
          { op: "mutate", table: "Open_vSwitch", where: [], mutations: [["next_cfg", "+=", 1]] },
        ]);
        expect(idl.rows("Open_vSwitch")[0]!.number("next_cfg")).toBe(6);
        await ts.db.transact([
          { op: "mutate", table: "Open_vSwitch", where: [], mutations: [["next_cfg", "-=", 1]] },
        ]);
        idl.close();
      }
    } finally {
      await ts.close();
    }
  });
});

describe("Idl on a Database with no server", () => {
  it("replicates and writes through a private in-process server", async () => {
    const { Database } = await import("../../ovsdb/database.js");
    const db = Database.inMemory(vswitchSchemaJson());
    await db.transact([{ op: "insert", table: "Open_vSwitch", row: {} }]);
    const idl = Idl.forDatabase(db, { schema, tables });
    await idl.connect();
    const r = await addBridge(idl, "br7");
    expect(r.status).toBe("success");
    await db.transact([
      {
        op: "update",
        table: "Bridge",
        where: [],
        row: { other_config: ["map", [["k", "v"]]], fail_mode: "secure" },
      },
    ]);
    const br = idl.rows("Bridge")[0]!;
    expect(br.string("name")).toBe("br7");
    expect(br.string("fail_mode")).toBe("secure");
    expect(br.stringMap("other_config")).toEqual(new Map([["k", "v"]]));
    expect(idl.rows("Open_vSwitch")[0]!.set("bridges")).toEqual([br.uuid]);
    expect(idl.rows("Open_vSwitch")[0]!.number("next_cfg")).toBe(0);
    idl.close();
    await db.close();
  });
});

describe("Idl over a unix socket", () => {
  it("resumes with only the missed changes after a reconnect (monitor_cond_since)", async () => {
    const ts = await startServer();
    try {
      await ts.db.transact([{ op: "insert", table: "Open_vSwitch", row: {} }]);
      const idl = Idl.socket(`unix:${ts.sock}`, "Open_vSwitch", { schema, tables });
      await idl.connect();
      expect(idl.resumed).toBe(false);
      await addBridge(idl, "br0");
      idl.close();
      // Another client changes things while the IDL is away.
      const other = await RawClient.connect(ts.sock);
      await other.call(1, "transact", [
        "Open_vSwitch",
        { op: "update", table: "Bridge", where: [], row: { fail_mode: "secure" } },
      ]);
      other.close();
      idl.clearTracked();
      await idl.connect();
      expect(idl.resumed).toBe(true);
      expect(idl.lastTxnId).toBe(ts.db.lastTxnId);
      expect(idl.trackedChanges()).toEqual([
        expect.objectContaining({ table: "Bridge", kind: "modify", columns: ["fail_mode"] }),
      ]);
      expect(idl.rows("Bridge")[0]!.value("fail_mode")).toBe("secure");
      idl.close();
    } finally {
      await ts.close();
    }
  });

  it("tells its owner when the server goes away, and resumes on a new server with a full replica", async () => {
    const ts = await startServer({ dbFile: true });
    let disconnects = 0;
    const idl = Idl.socket(`unix:${ts.sock}`, "Open_vSwitch", {
      schema,
      tables,
      onDisconnect: () => disconnects++,
    });
    try {
      await ts.db.transact([{ op: "insert", table: "Open_vSwitch", row: {} }]);
      await idl.connect();
      await addBridge(idl, "br0");
      await ts.server.close();
      for (let i = 0; i < 100 && disconnects === 0; i++)
        await new Promise((r) => setTimeout(r, 10));
      expect(disconnects).toBe(1);
      expect(idl.isConnected).toBe(false);
      // A commit while the IDL is away, then a restarted server with no history: the
      // IDL gets everything, and tracks only what really changed.
      await ts.db.transact([
        { op: "update", table: "Bridge", where: [], row: { fail_mode: "secure" } },
      ]);
      const { OvsdbServer } = await import("../../ovsdb/server.js");
      const { serveDatabase } = await import("../../ovsdb/served-db.js");
      const again = new OvsdbServer();
      again.addDatabase(serveDatabase(ts.db));
      await again.listen(`punix:${ts.sock}`);
      idl.clearTracked();
      await idl.connect();
      expect(idl.resumed).toBe(false);
      expect(idl.rows("Bridge").map((r) => r.string("name"))).toEqual(["br0"]);
      expect(idl.trackedChanges()).toEqual([
        expect.objectContaining({ table: "Bridge", kind: "modify", columns: ["fail_mode"] }),
      ]);
      idl.close();
      expect(disconnects).toBe(1);
      await again.close();
    } finally {
      await ts.close();
    }
  });

  it("replaces the replica when the server no longer has the history", async () => {
    const ts = await startServer({ historyLimit: 1 });
    try {
      await ts.db.transact([{ op: "insert", table: "Open_vSwitch", row: {} }]);
      const idl = Idl.socket(`unix:${ts.sock}`, "Open_vSwitch", { schema, tables });
      await idl.connect();
      await addBridge(idl, "br0");
      idl.close();
      await ts.db.transact([
        { op: "mutate", table: "Open_vSwitch", where: [], mutations: [["next_cfg", "+=", 1]] },
      ]);
      await ts.db.transact([
        { op: "mutate", table: "Open_vSwitch", where: [], mutations: [["next_cfg", "+=", 1]] },
      ]);
      await idl.connect();
      expect(idl.resumed).toBe(false);
      expect(idl.rows("Open_vSwitch")[0]!.value("next_cfg")).toBe(2);
      expect(idl.rows("Bridge")).toHaveLength(1);
      idl.close();
    } finally {
      await ts.close();
    }
  });
});
