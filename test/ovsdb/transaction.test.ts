import { describe, expect, it } from "vitest";
import { type CommittedTxn, Database } from "../../ovsdb/index.js";
import { ManualClock, seqUuids, testDb, testSchema, vswitchSchema } from "./helpers.js";

/** JSON text with object members sorted, as ovsdb-server prints "syntax". */
function ovsJson(x: unknown): string {
  const sort = (v: unknown): unknown =>
    Array.isArray(v)
      ? v.map(sort)
      : v && typeof v === "object"
        ? Object.fromEntries(
            Object.keys(v)
              .sort()
              .map((k) => [k, sort((v as Record<string, unknown>)[k])]),
          )
        : v;
  return JSON.stringify(sort(x));
}

const U = (n: number) => `00000000-0000-4000-8000-${n.toString(16).padStart(12, "0")}`;

describe("RFC 7047 §5.2.1 insert", () => {
  it("returns the new row's uuid and stores the row with defaults for omitted columns", async () => {
    const db = testDb();
    const [r] = await db.transact([{ op: "insert", table: "Root", row: { name: "a", n: 3 } }]);
    expect(r).toEqual({ uuid: ["uuid", U(1)] });
    const row = db.row("Root", U(1))!;
    expect(db.rowToJson("Root", row, ["name", "n", "tags", "color", "r"])).toEqual({
      name: "a",
      n: 3,
      tags: ["set", []],
      color: ["set", []],
      r: 0,
    });
  });

  it("resolves uuid-name in later and earlier operations (forward references)", async () => {
    const db = testDb();
    const res = await db.transact([
      { op: "insert", table: "Root", row: { name: "a", kids: ["named-uuid", "k"] } },
      {
        op: "insert",
        table: "Kid",
        "uuid-name": "k",
        row: { name: "kid", pal: ["named-uuid", "k"] },
      },
      {
        op: "select",
        table: "Kid",
        where: [["_uuid", "==", ["named-uuid", "k"]]],
        columns: ["name"],
      },
    ]);
    expect(res[2]).toEqual({ rows: [{ name: "kid" }] });
    const kid = (res[1] as { uuid: [string, string] }).uuid[1];
    expect(
      db.row("Root", (res[0] as { uuid: [string, string] }).uuid[1])!.get("kids").keys,
    ).toEqual([kid]);
  });

  it('honours an explicit "uuid" and refuses one already in the table', async () => {
    const db = testDb();
    const id = "8290af82-e3c6-4f84-947a-e7921a231b96";
    expect(
      await db.transact([{ op: "insert", table: "Root", uuid: id, row: { name: "a" } }]),
    ).toEqual([{ uuid: ["uuid", id] }]);
    expect(
      await db.transact([{ op: "insert", table: "Root", uuid: id, row: { name: "b" } }]),
    ).toEqual([
      {
        error: "duplicate uuid",
        details:
          "This UUID would duplicate a UUID already present within the table or deleted within the same transaction.",
        syntax: JSON.stringify(id),
      },
    ]);
  });

  it("refuses a uuid-name used by two inserts", async () => {
    const db = testDb();
    const res = await db.transact([
      { op: "insert", table: "Root", "uuid-name": "b", row: { name: "a" } },
      { op: "insert", table: "Root", "uuid-name": "b", row: { name: "b" } },
    ]);
    expect(res[1]).toEqual({
      error: "duplicate uuid-name",
      details: 'This "uuid-name" appeared on an earlier "insert" operation.',
      syntax: '"b"',
    });
    expect([...db.rows("Root")]).toHaveLength(0);
  });
});

describe("RFC 7047 §5.2.2-5.2.5 select, update, mutate, delete", () => {
  async function seeded(): Promise<Database> {
    const db = testDb();
    await db.transact([
      { op: "insert", table: "Root", row: { name: "a", n: 1 } },
      { op: "insert", table: "Root", row: { name: "b", n: 2 } },
    ]);
    return db;
  }

  it("select answers rows distinct in the requested columns, as ovsdb-server does", async () => {
    const db = await seeded();
    // Both rows have tags = []: ovsdb_query_distinct() collapses them into one answer.
    expect(
      await db.transact([{ op: "select", table: "Root", where: [], columns: ["tags"] }]),
    ).toEqual([{ rows: [{ tags: ["set", []] }] }]);
    const all = (await db.transact([{ op: "select", table: "Root", where: [] }])) as Array<{
      rows: unknown[];
    }>;
    expect(all[0]!.rows).toHaveLength(2);
  });

  it("select returns matching rows restricted to the requested columns", async () => {
    const db = await seeded();
    expect(
      await db.transact([
        { op: "select", table: "Root", where: [["n", ">", 1]], columns: ["name"] },
      ]),
    ).toEqual([{ rows: [{ name: "b" }] }]);
    const [all] = (await db.transact([{ op: "select", table: "Root", where: [] }])) as [
      { rows: Record<string, unknown>[] },
    ];
    expect(Object.keys(all.rows[0])).toContain("_version");
    expect(Object.keys(all.rows[0])).toContain("_uuid");
  });

  it("update and mutate return the count of matched rows", async () => {
    const db = await seeded();
    expect(
      await db.transact([
        { op: "update", table: "Root", where: [], row: { color: "red" } },
        { op: "mutate", table: "Root", where: [["name", "==", "a"]], mutations: [["n", "+=", 10]] },
        { op: "select", table: "Root", where: [["n", "==", 11]], columns: ["name", "color"] },
      ]),
    ).toEqual([{ count: 2 }, { count: 1 }, { rows: [{ name: "a", color: "red" }] }]);
  });

  it("update refuses immutable columns with the operation as syntax", async () => {
    const db = await seeded();
    const op = { op: "update", table: "Root", where: [], row: { name: "q" } };
    expect(await db.transact([op])).toEqual([
      {
        error: "constraint violation",
        details: "Cannot update immutable column name in table Root.",
        syntax: ovsJson(op),
      },
    ]);
  });

  it("delete removes matching rows and returns their count", async () => {
    const db = await seeded();
    expect(await db.transact([{ op: "delete", table: "Root", where: [["n", "<", 2]] }])).toEqual([
      { count: 1 },
    ]);
    expect([...db.rows("Root")].map((r) => r.get("name").atom)).toEqual(["b"]);
  });

  it("gives a modified row a new _version and keeps it for an update that changes nothing", async () => {
    const db = await seeded();
    const v0 = db.row("Root", U(1))!.version;
    await db.transact([
      { op: "update", table: "Root", where: [["name", "==", "a"]], row: { n: 1 } },
    ]);
    expect(db.row("Root", U(1))!.version).toBe(v0);
    await db.transact([
      { op: "update", table: "Root", where: [["name", "==", "a"]], row: { n: 5 } },
    ]);
    expect(db.row("Root", U(1))!.version).not.toBe(v0);
  });

  it("leaves a committed row that a reader holds untouched when a later commit modifies it", async () => {
    const db = await seeded();
    const before = db.row("Root", U(1))!;
    const v0 = before.version;
    const n0 = before.get("n").atom;
    await db.transact([
      { op: "update", table: "Root", where: [["name", "==", "a"]], row: { n: 7 } },
    ]);
    expect(before.version).toBe(v0);
    expect(before.get("n").atom).toBe(n0);
    expect(db.row("Root", U(1))).not.toBe(before);
    expect(db.row("Root", U(1))!.get("n").atom).toBe(7);
  });
});

describe("RFC 7047 §5.2.6 wait", () => {
  const waitOp = (n: number, timeout?: number) => ({
    op: "wait",
    table: "Root",
    where: [["name", "==", "a"]],
    columns: ["n"],
    until: "==",
    rows: [{ n }],
    ...(timeout === undefined ? {} : { timeout }),
  });

  it("passes at once when the rows already match", async () => {
    const db = testDb();
    await db.transact([{ op: "insert", table: "Root", row: { name: "a", n: 1 } }]);
    expect(await db.transact([waitOp(1, 0)])).toEqual([{}]);
    expect(await db.transact([{ ...waitOp(2, 0), until: "!=" }])).toEqual([{}]);
  });

  it('fails a timeout-0 wait with ovsdb-server\'s "where" clause message', async () => {
    const db = testDb();
    await db.transact([{ op: "insert", table: "Root", row: { name: "a", n: 1 } }]);
    expect(await db.transact([waitOp(2, 0), { op: "comment", comment: "x" }])).toEqual([
      { error: "timed out", details: '"where" clause test failed' },
      null,
    ]);
  });

  it("blocks until a later commit makes the test pass, then commits its own operations", async () => {
    const clock = new ManualClock();
    const db = testDb({ clock });
    await db.transact([{ op: "insert", table: "Root", row: { name: "a", n: 1 } }]);
    let done: unknown = null;
    const p = db
      .transact([waitOp(2, 1000), { op: "insert", table: "Root", row: { name: "w" } }])
      .then((r) => {
        done = r;
      });
    await Promise.resolve();
    expect(done).toBeNull();
    await db.transact([
      { op: "update", table: "Root", where: [["name", "==", "a"]], row: { n: 2 } },
    ]);
    await p;
    expect((done as unknown[])[0]).toEqual({});
    expect([...db.rows("Root")]).toHaveLength(2);
  });

  it("times out after its timeout with the elapsed milliseconds in the details", async () => {
    const clock = new ManualClock();
    const db = testDb({ clock });
    await db.transact([{ op: "insert", table: "Root", row: { name: "a", n: 1 } }]);
    const p = db.transact([waitOp(2, 300)]);
    clock.advance(300);
    expect(await p).toEqual([{ error: "timed out", details: '"wait" timed out after 300 ms' }]);
  });

  it("can be canceled through an AbortSignal", async () => {
    const db = testDb({ clock: new ManualClock() });
    await db.transact([{ op: "insert", table: "Root", row: { name: "a", n: 1 } }]);
    const ac = new AbortController();
    const p = db.transact([waitOp(2)], { signal: ac.signal });
    ac.abort();
    await expect(p).rejects.toThrow("canceled");
  });
});

describe("RFC 7047 §5.2.7-5.2.10 commit, abort, comment, assert", () => {
  it("abort fails the transaction and undoes earlier operations", async () => {
    const db = testDb();
    expect(
      await db.transact([
        { op: "insert", table: "Root", row: { name: "a" } },
        { op: "abort" },
        { op: "comment", comment: "c" },
      ]),
    ).toEqual([
      { uuid: ["uuid", U(1)] },
      { error: "aborted", details: "aborted by request" },
      null,
    ]);
    expect([...db.rows("Root")]).toHaveLength(0);
  });

  it("commit and comment return empty objects and the comment reaches commit listeners", async () => {
    const db = testDb();
    const seen: CommittedTxn[] = [];
    db.onCommit((t) => seen.push(t));
    expect(
      await db.transact([
        { op: "insert", table: "Root", row: { name: "a" } },
        { op: "commit", durable: true },
        { op: "comment", comment: "one" },
        { op: "comment", comment: "two" },
      ]),
    ).toEqual([{ uuid: ["uuid", U(1)] }, {}, {}, {}]);
    expect(seen).toHaveLength(1);
    expect(seen[0].comment).toBe("one\ntwo");
    expect(seen[0].changes[0]).toMatchObject({ table: "Root", uuid: U(1), old: null });
    expect(seen[0].changes[0].new).toMatchObject({ name: "a", _uuid: ["uuid", U(1)] });
    expect(db.lastTxnId).toBe(seen[0].id);
  });

  it('assert fails with "not owner" unless the session holds the lock', async () => {
    const db = testDb();
    expect(await db.transact([{ op: "assert", lock: "foo" }])).toEqual([
      { error: "not owner", details: "Asserted lock foo not held." },
    ]);
    expect(
      await db.transact([{ op: "assert", lock: "foo" }], { holdsLock: (n) => n === "foo" }),
    ).toEqual([{}]);
  });
});

describe("RFC 7047 §4.1.3 transaction errors", () => {
  it("names an unknown table or operation the way ovsdb-server does", async () => {
    const db = testDb();
    const bad = { op: "insert", table: "Nope", row: {} };
    expect(await db.transact([bad])).toEqual([
      {
        error: "syntax error",
        details: "Parsing ovsdb operation 1 of 1 failed: No table named Nope.",
        syntax: ovsJson(bad),
      },
    ]);
    const frob = { op: "frob", table: "Root" };
    expect(await db.transact([frob])).toEqual([
      {
        error: "syntax error",
        details: 'Parsing ovsdb operation 1 of 1 failed: No operation "frob"',
        syntax: ovsJson(frob),
      },
    ]);
  });

  it("puts the error in the failing slot, null in later slots, and commits nothing", async () => {
    const db = testDb();
    const res = await db.transact([
      { op: "insert", table: "Root", row: { name: "a" } },
      { op: "select", table: "Root", where: [["nam", "==", "x"]] },
      { op: "insert", table: "Root", row: { name: "b" } },
    ]);
    expect(res[1]).toMatchObject({ error: "unknown column" });
    expect(res[2]).toBeNull();
    expect([...db.rows("Root")]).toHaveLength(0);
  });

  it("answers the ovs-vsctl add-br transaction like ovsdb-server (transcript 02)", async () => {
    const db = Database.inMemory(vswitchSchema, { newUuid: seqUuids() });
    const [init] = (await db.transact([{ op: "insert", table: "Open_vSwitch", row: {} }])) as [
      { uuid: [string, string] },
    ];
    const w = [["_uuid", "==", init.uuid]];
    const res = await db.transact([
      {
        rows: [{ bridges: ["set", []] }],
        until: "==",
        where: w,
        columns: ["bridges"],
        timeout: 0,
        op: "wait",
        table: "Open_vSwitch",
      },
      {
        "uuid-name": "rb",
        row: { name: "br0", ports: ["named-uuid", "rp"] },
        op: "insert",
        table: "Bridge",
      },
      {
        "uuid-name": "rp",
        row: { name: "br0", interfaces: ["named-uuid", "ri"] },
        op: "insert",
        table: "Port",
      },
      { where: w, row: { bridges: ["named-uuid", "rb"] }, op: "update", table: "Open_vSwitch" },
      {
        "uuid-name": "ri",
        row: { name: "br0", type: "internal" },
        op: "insert",
        table: "Interface",
      },
      { comment: "ovs-vsctl --no-wait add-br br0", op: "comment" },
    ]);
    expect(res.map((r) => Object.keys(r as object))).toEqual([
      [],
      ["uuid"],
      ["uuid"],
      ["count"],
      ["uuid"],
      [],
    ]);
    expect([...db.rows("Bridge")].map((r) => r.get("name").atom)).toEqual(["br0"]);
    expect([...db.rows("Interface")].map((r) => r.get("type").atom)).toEqual(["internal"]);
  });
});

describe("schema fixtures", () => {
  it("the test schema parses", () => {
    expect(() => Database.inMemory(testSchema)).not.toThrow();
  });
});

describe("RFC 7047 §5.2 operation members (ovsdb_parser)", () => {
  it.each([
    [{ op: "select", table: "Root" }, "Required 'where' member is missing."],
    [{ op: "insert" }, "Required 'table' member is missing."],
    [
      { op: "select", table: "Root", where: [], extra: 1 },
      "Member 'extra' is present but not allowed here.",
    ],
    [{ table: "Root" }, "Required 'op' member is missing."],
    [{ op: "commit" }, "Required 'durable' member is missing."],
    [{ op: "comment", comment: 5 }, "Type mismatch for member 'comment'."],
  ])("reports %j as ovsdb-server does", async (op, why) => {
    const db = testDb();
    expect(await db.transact([op])).toEqual([
      {
        error: "syntax error",
        details: `Parsing ovsdb operation 1 of 1 failed: ${why}`,
        syntax: ovsJson(op),
      },
    ]);
  });

  it('reports a bad "columns" entry and a bad "until" with ovsdb-server\'s words', async () => {
    const db = testDb();
    expect(
      await db.transact([{ op: "select", table: "Root", where: [], columns: ["nam"] }]),
    ).toEqual([
      { error: "syntax error", details: "nam is not a valid column name", syntax: '["nam"]' },
    ]);
    expect(
      await db.transact([
        { op: "wait", table: "Root", where: [], columns: ["name"], until: "<", rows: [] },
      ]),
    ).toEqual([{ error: "syntax error", details: '"until" must be "==" or "!="', syntax: '"<"' }]);
  });
});
