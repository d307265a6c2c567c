import { EventEmitter } from "node:events";
import { mkdtempSync, readFileSync, rmSync, statSync } from "node:fs";
import type { Socket } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { Database } from "../../ovsdb/database.js";
import type { Json } from "../../ovsdb/jsonrpc.js";
import { serveDatabase } from "../../ovsdb/served-db.js";
import { OvsdbServer } from "../../ovsdb/server.js";
import { SERVER_SCHEMA_JSON } from "../../ovsdb/server-db.js";
import { RemoteSyntaxError } from "../../ovsdb/server-errors.js";
import { UUID_RE, ZERO_UUID } from "../../ovsdb/types.js";
import { RawClient, startServer, type TestServer, VSWITCH_SCHEMA_PATH } from "./fixtures.js";

const TRANSCRIPTS = "/work/shared/reference/ovsdb/transcripts";

interface TranscriptMessage {
  conn: number;
  dir?: string;
  event?: string;
  json?: Json;
}

function loadTranscript(name: string): TranscriptMessage[] {
  return (
    JSON.parse(readFileSync(`${TRANSCRIPTS}/${name}.json`, "utf8")) as {
      messages: TranscriptMessage[];
    }
  ).messages;
}

const isUuid = (s: unknown): boolean => typeof s === "string" && UUID_RE.test(s);

/** Replaces uuids by a placeholder and uuid-keyed objects by sorted value lists. */
function norm(v: Json): unknown {
  if (typeof v === "string") {
    if (isUuid(v)) return "<uuid>";
    if (v.startsWith("{")) {
      try {
        return { "<json>": norm(JSON.parse(v) as Json) };
      } catch {
        return v;
      }
    }
    return v;
  }
  if (Array.isArray(v)) return v.map(norm);
  if (v && typeof v === "object") {
    const keys = Object.keys(v);
    if (keys.length > 0 && keys.every(isUuid)) {
      return { "<rows>": keys.map((k) => JSON.stringify(norm(v[k]!))).sort() };
    }
    const out: Record<string, unknown> = {};
    for (const k of keys.sort()) out[k] = norm(v[k]!);
    return out;
  }
  return v;
}

/** Learns transcript-uuid → our-uuid from two structurally equal values. */
function learn(exp: Json, act: Json, map: Map<string, string>): void {
  if (isUuid(exp) && isUuid(act)) {
    if (exp !== ZERO_UUID && !map.has(exp as string)) map.set(exp as string, act as string);
    return;
  }
  if (Array.isArray(exp) && Array.isArray(act)) {
    for (let i = 0; i < exp.length; i++) learn(exp[i]!, act[i]!, map);
    return;
  }
  if (
    exp &&
    act &&
    typeof exp === "object" &&
    typeof act === "object" &&
    !Array.isArray(exp) &&
    !Array.isArray(act)
  ) {
    const keys = Object.keys(exp);
    if (keys.length > 0 && keys.every(isUuid)) {
      const used = new Set(map.values());
      for (const ek of keys) {
        let ak = map.get(ek);
        if (!ak) {
          const want = JSON.stringify(norm(exp[ek]!));
          ak = Object.keys(act).find((k) => !used.has(k) && JSON.stringify(norm(act[k]!)) === want);
          if (!ak) continue;
          map.set(ek, ak);
          used.add(ak);
        }
        if (act[ak] !== undefined) learn(exp[ek]!, act[ak]!, map);
      }
      return;
    }
    for (const k of keys) if (act[k] !== undefined) learn(exp[k]!, act[k]!, map);
  }
}

function substitute(v: Json, map: Map<string, string>): Json {
  if (typeof v === "string") return map.get(v) ?? v;
  if (Array.isArray(v)) return v.map((e) => substitute(e, map));
  if (v && typeof v === "object") {
    const out: { [k: string]: Json } = {};
    for (const [k, e] of Object.entries(v)) out[k] = substitute(e, map);
    return out;
  }
  return v;
}

/** Plays a transcript's client messages and checks each server message structurally. */
async function replay(ts: TestServer, name: string, map: Map<string, string>): Promise<number> {
  const clients = new Map<number, { c: RawClient; next: number }>();
  let compared = 0;
  for (const m of loadTranscript(name)) {
    if (m.event === "connect") {
      clients.set(m.conn, { c: await RawClient.connect(ts.sock), next: 0 });
      continue;
    }
    const entry = clients.get(m.conn)!;
    if (m.event === "disconnect") {
      await new Promise((r) => setTimeout(r, 20));
      expect(entry.c.messages.length, `${name}: no unexpected extra messages`).toBe(entry.next);
      entry.c.close();
      continue;
    }
    if (m.dir === "client->server") {
      entry.c.send(substitute(m.json!, map));
    } else if (m.dir === "server->client") {
      const idx = entry.next++;
      await entry.c.waitFor(() => entry.c.messages.length > idx);
      const actual = entry.c.messages[idx]!;
      expect(norm(actual), `${name}: server message ${idx}`).toEqual(norm(m.json!));
      learn(m.json!, actual, map);
      compared++;
    }
  }
  for (const { c } of clients.values()) c.close();
  return compared;
}

describe("OvsdbServer replaying the stock clients' transcripts", () => {
  it("answers ovs-vsctl init, add-br, add-port, set, list, del-br, show and add-br without --no-wait as ovsdb-server did", async () => {
    const ts = await startServer();
    try {
      const map = new Map<string, string>();
      let total = 0;
      for (const name of [
        "01-vsctl-init",
        "02-vsctl-add-br",
        "03-vsctl-add-port-vxlan",
        "04-vsctl-set-fail-mode",
        "05-vsctl-list-interface",
        "06-vsctl-del-br",
        "07-vsctl-show",
        "08-vsctl-add-br-without-no-wait",
        "14-client-dump",
      ]) {
        total += await replay(ts, name, map);
      }
      expect(total).toBeGreaterThan(30);
    } finally {
      await ts.close();
    }
  });

  it("answers ovsdb-client list-dbs, get-schema, transact and dump as ovsdb-server did", async () => {
    const ts = await startServer();
    try {
      const map = new Map<string, string>();
      await replay(ts, "01-vsctl-init", map);
      for (const name of [
        "10-client-list-dbs",
        "11-client-get-schema",
        "12-client-transact-insert-select",
        "12b-client-transact-insert-rooted",
      ]) {
        expect(await replay(ts, name, map)).toBeGreaterThan(0);
      }
    } finally {
      await ts.close();
    }
  });
});

describe("OvsdbServer monitor v1 as ovsdb-client monitor sees it", () => {
  it("sends whole-row new, changed-column old and whole-row old updates like transcript 13", async () => {
    const ts = await startServer();
    try {
      const map = new Map<string, string>();
      await replay(ts, "01-vsctl-init", map);
      const msgs = loadTranscript("13-client-monitor");
      const c = await RawClient.connect(ts.sock);
      const expected = msgs.filter((m) => m.dir === "server->client").map((m) => m.json!);
      for (const m of msgs) if (m.dir === "client->server") c.send(substitute(m.json!, map));
      await c.waitFor(() => c.messages.length >= 4);
      // What transcript 13's other client did: add-br br1, set other_config, del-br br1.
      const root = [...ts.db.rows("Open_vSwitch")][0]!.uuid;
      const where = [["_uuid", "==", ["uuid", root]]];
      await ts.db.transact([
        {
          op: "insert",
          table: "Interface",
          row: { name: "br1", type: "internal" },
          "uuid-name": "i",
        },
        {
          op: "insert",
          table: "Port",
          row: { name: "br1", interfaces: ["named-uuid", "i"] },
          "uuid-name": "p",
        },
        {
          op: "insert",
          table: "Bridge",
          row: { name: "br1", ports: ["named-uuid", "p"] },
          "uuid-name": "b",
        },
        { op: "update", table: "Open_vSwitch", where, row: { bridges: ["named-uuid", "b"] } },
      ]);
      await ts.db.transact([
        {
          op: "mutate",
          table: "Bridge",
          where: [],
          mutations: [["other_config", "insert", ["map", [["foo", "bar"]]]]],
        },
      ]);
      await ts.db.transact([
        { op: "update", table: "Open_vSwitch", where, row: { bridges: ["set", []] } },
      ]);
      await c.waitFor(() => c.messages.length >= expected.length);
      expect(c.messages.map((m) => norm(m))).toEqual(expected.map((m) => norm(m)));
      c.close();
    } finally {
      await ts.close();
    }
  });
});

describe("OvsdbServer methods and errors", () => {
  let ts: TestServer;
  let c: RawClient;
  beforeEach(async () => {
    ts = await startServer();
    c = await RawClient.connect(ts.sock);
  });
  afterEach(async () => {
    c.close();
    await ts.close();
  });

  it("replies unknown method and keeps the session usable", async () => {
    expect(await c.call(1, "frobnicate", [])).toEqual({ id: 1, error: "unknown method" });
    expect(await c.call(2, "list_dbs", [])).toEqual({
      id: 2,
      result: ["Open_vSwitch", "_Server"],
      error: null,
    });
  });

  it("answers the client's echo with its params", async () => {
    expect(await c.call("e", "echo", [1, "x"])).toEqual({ id: "e", result: [1, "x"], error: null });
  });

  it("reports unknown databases and wrong params as OVS error objects", async () => {
    const r = await c.call(1, "get_schema", ["Nope"]);
    expect((r.error as { error: string }).error).toBe("unknown database");
    const r2 = await c.call(2, "transact", [42]);
    expect((r2.error as { error: string }).error).toBe("syntax error");
    const r3 = await c.call(3, "monitor", ["Open_vSwitch"]);
    expect((r3.error as { details: string }).details).toBe("invalid parameters");
    const r4 = await c.call(4, "lock", [7]);
    expect((r4.error as { details: string }).details).toBe("lock request params must be <id>");
    expect((await c.call(5, "list_dbs", [])).result).toEqual(["Open_vSwitch", "_Server"]);
  });

  it("rejects a duplicate monitor id and an unknown table", async () => {
    const params = ["Open_vSwitch", "m", { Bridge: { columns: ["name"] } }];
    expect((await c.call(1, "monitor", params)).result).toEqual({});
    expect((await c.call(2, "monitor", params)).error).toMatchObject({
      details: "duplicate monitor ID",
    });
    expect((await c.call(3, "monitor", ["Open_vSwitch", "n", { Nope: {} }])).error).toMatchObject({
      details: "no table named Nope",
    });
  });

  it("closes only the session that sends malformed JSON", async () => {
    const other = await RawClient.connect(ts.sock);
    c.send('{"id":1,"method":"list_dbs","params":[]}{"id":2,,}');
    expect(await c.waitClosed()).toBe(true);
    expect(c.messages).toHaveLength(1);
    expect((await other.call(1, "list_dbs", [])).result).toEqual(["Open_vSwitch", "_Server"]);
    other.close();
  });

  it("closes a session that sends JSON that is not JSON-RPC", async () => {
    c.send({ hello: "world" });
    expect(await c.waitClosed()).toBe(true);
  });

  it("closes a session that nests deeper than the limit", async () => {
    c.send(`{"id":1,"method":"echo","params":${"[".repeat(2000)}`);
    expect(await c.waitClosed()).toBe(true);
  });

  it("accepts a 10 MB string value and stores it", async () => {
    await c.call(0, "transact", ["Open_vSwitch", { op: "insert", table: "Open_vSwitch", row: {} }]);
    const big = "z".repeat(10 * 1024 * 1024);
    const r = await c.call(1, "transact", [
      "Open_vSwitch",
      {
        op: "mutate",
        table: "Open_vSwitch",
        where: [],
        mutations: [["external_ids", "insert", ["map", [["big", big]]]]],
      },
    ]);
    expect(r.result).toEqual([{ count: 1 }]);
    const sel = await c.call(2, "transact", [
      "Open_vSwitch",
      { op: "select", table: "Open_vSwitch", where: [], columns: ["external_ids"] },
    ]);
    const rows = (sel.result as { rows: { external_ids: [string, [string, string][]] }[] }[])[0]!
      .rows;
    expect(rows[0]!.external_ids[1][0]![1].length).toBe(big.length);
  });

  it("survives a client that disconnects in the middle of a message", async () => {
    c.send('{"id":1,"method":"transact","params":["Open_vSwitch",{"op":"ins');
    c.close();
    const other = await RawClient.connect(ts.sock);
    expect((await other.call(1, "list_dbs", [])).result).toEqual(["Open_vSwitch", "_Server"]);
    other.close();
  });

  it("sends a monitor's update before the transact reply to the committing client", async () => {
    await c.call(1, "monitor_cond", [
      "Open_vSwitch",
      "m",
      { Open_vSwitch: [{ columns: ["next_cfg"] }] },
    ]);
    c.send({
      id: 2,
      method: "transact",
      params: ["Open_vSwitch", { op: "insert", table: "Open_vSwitch", row: { next_cfg: 3 } }],
    });
    await c.waitFor((m) => (m as { id?: Json }).id === 2);
    const kinds = c.messages.slice(1).map((m) => (m as { method?: string }).method ?? "reply");
    expect(kinds).toEqual(["update2", "reply"]);
    const upd = c.messages[1] as { params: [Json, { Open_vSwitch: { [u: string]: Json } }] };
    expect(Object.values(upd.params[1].Open_vSwitch)[0]).toEqual({ insert: { next_cfg: 3 } });
  });

  it("resumes monitor_cond_since with only the changes after the client's last txn id", async () => {
    const mon = { Bridge: [{ columns: ["name", "fail_mode"] }] };
    const first = await c.call(1, "monitor_cond_since", ["Open_vSwitch", "m", mon, ZERO_UUID]);
    expect((first.result as Json[])[0]).toBe(false);
    const r = await c.call(2, "transact", [
      "Open_vSwitch",
      { op: "insert", table: "Bridge", row: { name: "a" }, "uuid-name": "x" },
      { op: "insert", table: "Open_vSwitch", row: { bridges: ["named-uuid", "x"] } },
    ]);
    expect(r.result).toHaveLength(2);
    const seen = ts.db.lastTxnId;
    await c.call(3, "transact", [
      "Open_vSwitch",
      { op: "update", table: "Bridge", where: [], row: { fail_mode: "secure" } },
    ]);
    const other = await RawClient.connect(ts.sock);
    const resumed = await other.call(1, "monitor_cond_since", ["Open_vSwitch", "m", mon, seen]);
    const [found, last, updates] = resumed.result as [
      boolean,
      string,
      { Bridge: { [u: string]: Json } },
    ];
    expect(found).toBe(true);
    expect(last).toBe(ts.db.lastTxnId);
    expect(Object.values(updates.Bridge)).toEqual([{ modify: { fail_mode: "secure" } }]);
    const stale = await other.call(2, "monitor_cond_since", [
      "Open_vSwitch",
      "m2",
      mon,
      "11111111-1111-1111-1111-111111111111",
    ]);
    expect((stale.result as Json[])[0]).toBe(false);
    other.close();
  });

  it("cancels a monitor and stops its updates", async () => {
    await c.call(1, "monitor_cond", ["Open_vSwitch", "m", { Open_vSwitch: [{}] }]);
    expect((await c.call(2, "monitor_cancel", ["m"])).result).toEqual({});
    expect((await c.call(3, "monitor_cancel", ["m"])).error).toBe("unknown monitor");
    await c.call(4, "transact", ["Open_vSwitch", { op: "insert", table: "Open_vSwitch", row: {} }]);
    expect(c.messages.some((m) => (m as { method?: string }).method === "update2")).toBe(false);
  });

  it("moves rows in and out of a monitor when monitor_cond_change changes the condition", async () => {
    // Bridges are garbage-collected unless referenced, so the root row references both.
    await c.call(0, "transact", [
      "Open_vSwitch",
      { op: "insert", table: "Bridge", row: { name: "a" }, "uuid-name": "a" },
      { op: "insert", table: "Bridge", row: { name: "b" }, "uuid-name": "b" },
      {
        op: "insert",
        table: "Open_vSwitch",
        row: {
          bridges: [
            "set",
            [
              ["named-uuid", "a"],
              ["named-uuid", "b"],
            ],
          ],
        },
      },
    ]);
    const all = await c.call(1, "monitor_cond", [
      "Open_vSwitch",
      "m",
      { Bridge: [{ columns: ["name"], where: [["name", "==", "a"]] }] },
    ]);
    const initial = all.result as { Bridge?: { [u: string]: Json } };
    const names = Object.values(initial.Bridge ?? {}).map(
      (r) => (r as { initial: { name: string } }).initial.name,
    );
    expect(names).toEqual(["a"]);
    const r = await c.call(2, "monitor_cond_change", [
      "m",
      "m",
      { Bridge: [{ where: [["name", "==", "b"]] }] },
    ]);
    expect(r.result).toEqual({});
    const upd = (await c.waitFor((m) => (m as { method?: string }).method === "update2")) as {
      params: [Json, { Bridge: { [u: string]: Json } }];
    };
    const kinds = Object.values(upd.params[1].Bridge)
      .map((v) => JSON.stringify(v))
      .sort();
    expect(kinds).toEqual(['{"delete":null}', '{"insert":{"name":"b"}}']);
  });

  it("grants, queues, steals and returns locks with locked and stolen notifications", async () => {
    const b = await RawClient.connect(ts.sock);
    expect((await c.call(1, "lock", ["ovs_vswitchd"])).result).toEqual({ locked: true });
    expect((await b.call(1, "lock", ["ovs_vswitchd"])).result).toEqual({ locked: false });
    expect((await c.call(2, "lock", ["ovs_vswitchd"])).error).toMatchObject({
      error: "syntax error",
    });
    expect((await b.call(2, "unlock", ["ovs_vswitchd"])).result).toEqual({});
    expect((await b.call(3, "steal", ["ovs_vswitchd"])).result).toEqual({ locked: true });
    await c.waitFor((m) => (m as { method?: string }).method === "stolen");
    expect(
      (await c.call(3, "transact", ["Open_vSwitch", { op: "assert", lock: "ovs_vswitchd" }]))
        .result,
    ).toMatchObject([{ error: "not owner" }]);
    expect(
      (await b.call(4, "transact", ["Open_vSwitch", { op: "assert", lock: "ovs_vswitchd" }]))
        .result,
    ).toEqual([{}]);
    b.close();
    // c's stolen waiter was dropped by its own unlock? No: c never unlocked, so when b
    // goes away c owns the lock again and hears "locked".
    await c.waitFor((m) => (m as { method?: string }).method === "locked");
    expect((await c.call(4, "unlock", ["ovs_vswitchd"])).result).toEqual({});
    expect((await c.call(5, "unlock", ["ovs_vswitchd"])).error).toMatchObject({
      details: 'unlock: "unlock" without "lock" or "steal"',
    });
  });

  it("answers a blocked wait's cancel with canceled and drops waits of clients that leave", async () => {
    await c.call(0, "transact", ["Open_vSwitch", { op: "insert", table: "Open_vSwitch", row: {} }]);
    const blocked = {
      op: "wait",
      table: "Open_vSwitch",
      where: [],
      columns: ["next_cfg"],
      until: "==",
      rows: [{ next_cfg: 99 }],
    };
    c.send({ id: "w", method: "transact", params: ["Open_vSwitch", blocked] });
    await new Promise((r) => setTimeout(r, 20));
    expect(c.messages.some((m) => (m as { id?: Json }).id === "w")).toBe(false);
    c.send({ id: null, method: "cancel", params: ["w"] });
    expect(await c.waitFor((m) => (m as { id?: Json }).id === "w")).toEqual({
      id: "w",
      error: "canceled",
    });
    const other = await RawClient.connect(ts.sock);
    other.send({ id: 1, method: "transact", params: ["Open_vSwitch", blocked] });
    await new Promise((r) => setTimeout(r, 20));
    other.close();
    await new Promise((r) => setTimeout(r, 20));
    // The engine no longer holds the abandoned trigger: a commit that would satisfy it
    // changes nothing else, and the server keeps answering.
    await c.call(1, "transact", [
      "Open_vSwitch",
      { op: "update", table: "Open_vSwitch", where: [], row: { next_cfg: 99 } },
    ]);
    expect(ts.server.sessionCount).toBe(1);
  });

  it("answers get_server_id and set_db_change_aware", async () => {
    expect(typeof (await c.call(1, "get_server_id", [])).result).toBe("string");
    expect((await c.call(2, "set_db_change_aware", [true])).result).toEqual({});
    expect((await c.call(3, "set_db_change_aware", ["yes"])).error).toMatchObject({
      error: "syntax error",
    });
  });

  it("keeps _Server current as databases come and go, telling its monitors", async () => {
    await c.call(1, "monitor_cond", [
      "_Server",
      "s",
      { Database: [{ columns: ["name", "model", "connected", "leader"] }] },
    ]);
    const extra = Database.inMemory({
      name: "Extra",
      version: "1.0.0",
      tables: { T: { columns: { x: { type: "integer" } } } },
    });
    ts.server.addDatabase(serveDatabase(extra));
    const ins = (await c.waitFor((m) => (m as { method?: string }).method === "update2")) as {
      params: [Json, { Database: { [u: string]: Json } }];
    };
    expect(Object.values(ins.params[1].Database)).toEqual([
      { insert: { name: "Extra", model: "standalone", connected: true, leader: true } },
    ]);
    expect((await c.call(2, "list_dbs", [])).result).toEqual(["Extra", "Open_vSwitch", "_Server"]);
    ts.server.removeDatabase("Extra");
    await c.waitFor((m) => JSON.stringify(m).includes('"delete":null'));
    expect((await c.call(3, "list_dbs", [])).result).toEqual(["Open_vSwitch", "_Server"]);
  });

  it("refuses writes to _Server", async () => {
    const r = await c.call(1, "transact", [
      "_Server",
      { op: "delete", table: "Database", where: [] },
    ]);
    expect(r.result).toEqual([
      {
        error: "not allowed",
        details: "delete operation not allowed on table in reserved database _Server",
      },
    ]);
    const sel = await c.call(2, "transact", [
      "_Server",
      { op: "select", table: "Database", where: [], columns: ["name"] },
    ]);
    expect((sel.result as { rows: Json[] }[])[0]!.rows).toHaveLength(2);
  });
});

describe("OvsdbServer under many concurrent clients", () => {
  it("commits every client's pipelined transactions and a monitor sees each commit once, in order", async () => {
    const ts = await startServer();
    try {
      const watcher = await RawClient.connect(ts.sock);
      await watcher.call(0, "transact", [
        "Open_vSwitch",
        { op: "insert", table: "Open_vSwitch", row: {} },
      ]);
      await watcher.call(1, "monitor_cond", [
        "Open_vSwitch",
        "m",
        { Open_vSwitch: [{ columns: ["next_cfg"] }] },
      ]);
      const clients = await Promise.all(
        Array.from({ length: 30 }, () => RawClient.connect(ts.sock)),
      );
      const perClient = 20;
      clients.forEach((c) => {
        for (let i = 0; i < perClient; i++) {
          c.send({
            id: i,
            method: "transact",
            params: [
              "Open_vSwitch",
              {
                op: "mutate",
                table: "Open_vSwitch",
                where: [],
                mutations: [["next_cfg", "+=", 1]],
              },
            ],
          });
        }
      });
      for (const c of clients) await c.waitFor(() => c.messages.length >= perClient, 20_000);
      const total = clients.length * perClient;
      for (const c of clients) {
        expect(
          c.messages.every(
            (m) => JSON.stringify((m as { result?: Json }).result) === '[{"count":1}]',
          ),
        ).toBe(true);
      }
      await watcher.waitFor(() => watcher.messages.length >= 2 + total, 20_000);
      const seen = watcher.messages.slice(2).map(
        (m) =>
          Object.values(
            (
              m as {
                params: [Json, { Open_vSwitch: { [u: string]: { modify: { next_cfg: number } } } }];
              }
            ).params[1].Open_vSwitch,
          )[0]!.modify.next_cfg,
      );
      expect(seen).toEqual(Array.from({ length: total }, (_, i) => i + 1));
      for (const c of clients) c.close();
      watcher.close();
    } finally {
      await ts.close();
    }
  });
});

describe("OvsdbServer backlog limit", () => {
  it("drops a monitoring client that stops reading once its backlog passes the limit", async () => {
    const ts = await startServer({ limits: { maxBacklogBytes: 64 * 1024 } });
    try {
      const stuck = await RawClient.connect(ts.sock);
      await stuck.call(1, "monitor", [
        "Open_vSwitch",
        null,
        { Open_vSwitch: [{ columns: ["external_ids"] }] },
      ]);
      stuck.socket.pause();
      await ts.db.transact([{ op: "insert", table: "Open_vSwitch", row: {} }]);
      const big = "x".repeat(64 * 1024);
      for (let i = 0; i < 64 && ts.server.sessionCount > 0; i++) {
        await ts.db.transact([
          {
            op: "update",
            table: "Open_vSwitch",
            where: [],
            row: { external_ids: ["map", [["k", `${i}${big}`]]] },
          },
        ]);
      }
      expect(ts.server.sessionCount).toBe(0);
      const fresh = await RawClient.connect(ts.sock);
      expect((await fresh.call(1, "list_dbs", [])).result).toEqual(["Open_vSwitch", "_Server"]);
      fresh.close();
      stuck.close();
    } finally {
      await ts.close();
    }
  });
});

describe("OvsdbServer inactivity probe", () => {
  it("sends echo to an idle TCP client and closes it when the probe goes unanswered", async () => {
    const ticks: (() => void)[] = [];
    const ts = await startServer({
      timers: { setInterval: (fn) => ticks.push(fn), clearInterval: () => {} },
    });
    try {
      const tcp = await ts.server.listen("ptcp:0");
      const c = await RawClient.connect({ port: tcp.port! });
      const local = await RawClient.connect(ts.sock);
      await c.call(1, "list_dbs", []);
      const tick = () => {
        for (const t of ticks) t();
      };
      tick(); // activity seen since last tick: no probe
      tick(); // idle for a whole interval: probe
      const probe = await c.waitFor((m) => (m as { method?: string }).method === "echo");
      expect(probe).toEqual({ id: "echo", method: "echo", params: [] });
      c.send({ id: "echo", result: [], error: null });
      await new Promise((r) => setTimeout(r, 30));
      tick(); // the reply counts as activity
      tick(); // probe again
      tick(); // unanswered: close
      expect(await c.waitClosed()).toBe(true);
      // Unix-socket clients are never probed (OVS probes only TCP and SSL peers).
      expect(local.messages).toEqual([]);
      expect(local.closed).toBe(false);
      local.close();
    } finally {
      await ts.close();
    }
  });
});

describe("_Server schema", () => {
  it("is the shipped schema file and what ovsdb-server 3.1 returns for get_schema", () => {
    const file = JSON.parse(
      readFileSync(new URL("../../ovsdb/schemas/_Server.ovsschema", import.meta.url), "utf8"),
    );
    const wire = JSON.parse(readFileSync(`${TRANSCRIPTS}/../schemas/_Server.ovsschema`, "utf8"));
    expect(SERVER_SCHEMA_JSON).toEqual(file);
    expect(SERVER_SCHEMA_JSON).toEqual(wire);
  });
});

describe("OvsdbServer remotes", () => {
  it("listens on ptcp with the loopback default address and rejects unknown remote syntax", async () => {
    const server = new OvsdbServer();
    server.addDatabase(
      serveDatabase(
        Database.inMemory({
          name: "D",
          version: "1.0.0",
          tables: { T: { columns: { x: { type: "integer" } } } },
        }),
      ),
    );
    try {
      const bound = await server.listen("ptcp:0");
      expect(bound.address).toMatch(/^127\.0\.0\.1:\d+$/);
      const { connect } = await import("node:net");
      const sock = connect(bound.port!, "127.0.0.1");
      const reply = await new Promise<string>((resolve) => {
        sock.on("data", (d: Buffer) => resolve(d.toString()));
        sock.write('{"id":7,"method":"list_dbs","params":[]}');
      });
      expect(JSON.parse(reply)).toEqual({ id: 7, result: ["D"], error: null });
      sock.destroy();
      await expect(server.listen("tcp:1.2.3.4:5")).rejects.toBeInstanceOf(RemoteSyntaxError);
    } finally {
      await server.close();
    }
  });
});

describe("OvsdbServer reply timing", () => {
  it("writes a read's transact reply before that read's callback returns, after its log record", async () => {
    const dir = mkdtempSync(join(tmpdir(), "ovsim-ovsdb-"));
    const path = join(dir, "conf.db");
    const db = await Database.create(path, JSON.parse(readFileSync(VSWITCH_SCHEMA_PATH, "utf8")));
    const server = new OvsdbServer();
    server.addDatabase(serveDatabase(db));
    // A stand-in socket: records each write with the log's size at that moment.
    const writes: { text: string; logBytes: number }[] = [];
    const sock = Object.assign(new EventEmitter(), {
      writableLength: 0,
      destroyed: false,
      write: (text: string) => writes.push({ text, logBytes: statSync(path).size }),
      end() {},
      destroy() {},
    });
    server.attach(sock as unknown as Socket, false);
    const before = statSync(path).size;
    const req = {
      id: 1,
      method: "transact",
      params: ["Open_vSwitch", { op: "insert", table: "Queue", row: {} }],
    };
    sock.emit("data", Buffer.from(JSON.stringify(req)));
    expect(writes).toHaveLength(1);
    expect(JSON.parse(writes[0]!.text)).toMatchObject({ id: 1, error: null });
    expect(writes[0]!.logBytes).toBeGreaterThan(before);
    // The committed row is visible to the next request (applied after the reply).
    expect([...db.rows("Queue")]).toHaveLength(1);
    await server.close();
    await db.close();
    rmSync(dir, { recursive: true, force: true });
  });
});
