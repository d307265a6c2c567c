import { describe, expect, it } from "vitest";
import { testDb } from "./helpers.js";

const U = (n: number) => `00000000-0000-4000-8000-${n.toString(16).padStart(12, "0")}`;

describe("RFC 7047 §3.2 column constraints at insert", () => {
  it("refuses an enum value outside the set and a string longer than maxLength", async () => {
    const db = testDb();
    expect(
      await db.transact([{ op: "insert", table: "Root", row: { name: "a", color: "blue" } }]),
    ).toEqual([
      {
        error: "constraint violation",
        details: "blue is not one of the allowed values ([green, red])",
      },
    ]);
    const r = await db.transact([{ op: "insert", table: "Toy", row: { label: "much-too-long" } }]);
    expect(r[0]).toMatchObject({ error: "constraint violation" });
  });
});

describe("RFC 7047 §3.2 maxRows", () => {
  it("refuses a transaction that would exceed a table's maxRows, with ovsdb-server's wording", async () => {
    const db = testDb();
    const ins = (name: string) => ({ op: "insert", table: "Root", row: { name } });
    await db.transact([ins("a"), ins("b"), ins("c")]);
    expect(await db.transact([ins("d")])).toMatchObject([
      { uuid: ["uuid", expect.any(String)] },
      {
        error: "constraint violation",
        details:
          'transaction causes "Root" table to contain 4 rows, greater than the schema-defined limit of 3 row(s)',
      },
    ]);
    expect([...db.rows("Root")]).toHaveLength(3);
  });
});

describe("RFC 7047 §3.2 indexes", () => {
  it("refuses two rows with the same indexed value inserted by one transaction", async () => {
    const db = testDb();
    const res = await db.transact([
      { op: "insert", table: "Root", row: { name: "a" } },
      { op: "insert", table: "Root", row: { name: "a" } },
    ]);
    expect(res[2]).toEqual({
      error: "constraint violation",
      details: `Transaction causes multiple rows in "Root" table to have identical values (a) for index on column "name".  First row, with UUID ${U(1)}, was inserted by this transaction.  Second row, with UUID ${U(2)}, was inserted by this transaction.`,
    });
  });

  it("refuses a row that collides with an existing one, naming which was there before", async () => {
    const db = testDb();
    await db.transact([{ op: "insert", table: "Root", row: { name: "a" } }]);
    const [, err] = (await db.transact([{ op: "insert", table: "Root", row: { name: "a" } }])) as [
      unknown,
      { details: string },
    ];
    expect(err.details).toContain(
      "existed in the database before this transaction and was not modified by the transaction.",
    );
  });

  it("checks multi-column indexes on the combination of values", async () => {
    const db = testDb();
    const ins = (a: number, b: string) => ({ op: "insert", table: "Pair", row: { a, b } });
    expect(await db.transact([ins(1, "x"), ins(1, "y"), ins(2, "x")])).toHaveLength(3);
    const res = await db.transact([ins(1, "x")]);
    expect(res[1]).toMatchObject({ error: "constraint violation" });
    expect((res[1] as { details: string }).details).toContain(
      '(1 and x) for index on columns "a" and "b"',
    );
  });

  it("allows swapping indexed values between rows in one transaction", async () => {
    const db = testDb();
    const ins = (a: number, b: string) => ({ op: "insert", table: "Pair", row: { a, b } });
    await db.transact([ins(1, "x"), ins(2, "x")]);
    const res = await db.transact([
      { op: "update", table: "Pair", where: [["a", "==", 1]], row: { a: 3 } },
      { op: "update", table: "Pair", where: [["a", "==", 2]], row: { a: 1 } },
    ]);
    expect(res).toEqual([{ count: 1 }, { count: 1 }]);
  });
});

describe("RFC 7047 §3.2 referential integrity (strong references)", () => {
  it("refuses a reference to a row that does not exist", async () => {
    const db = testDb();
    const ghost = "8290af82-e3c6-4f84-947a-e7921a231b90";
    const res = await db.transact([
      { op: "insert", table: "Root", row: { name: "a", kids: ["uuid", ghost] } },
    ]);
    expect(res[1]).toEqual({
      error: "referential integrity violation",
      details: `Table Root column kids row ${U(1)} references nonexistent row ${ghost} in table Kid.`,
    });
  });

  it("treats a named-uuid that no insert defined as a reference to a nonexistent row", async () => {
    const db = testDb();
    const res = await db.transact([
      { op: "insert", table: "Root", row: { name: "a", kids: ["named-uuid", "zz"] } },
    ]);
    expect(res[1]).toMatchObject({ error: "referential integrity violation" });
  });

  it("refuses to delete a row that is still strongly referenced", async () => {
    const db = testDb();
    await db.transact([
      { op: "insert", table: "Root", row: { name: "a", kids: ["named-uuid", "k"] } },
      {
        op: "insert",
        table: "Kid",
        "uuid-name": "k",
        row: { name: "k", pal: ["named-uuid", "k"] },
      },
    ]);
    const res = await db.transact([{ op: "delete", table: "Kid", where: [] }]);
    expect(res[1]).toEqual({
      error: "referential integrity violation",
      details: `cannot delete Kid row ${U(2)} because of 1 remaining reference(s)`,
    });
    expect([...db.rows("Kid")]).toHaveLength(1);
  });
});

describe("RFC 7047 §3.2 weak references", () => {
  it("removes a weak reference when its target row is deleted", async () => {
    const db = testDb();
    await db.transact([
      {
        op: "insert",
        table: "Root",
        row: { name: "a", kids: ["named-uuid", "k"], fav: ["named-uuid", "k"] },
      },
      {
        op: "insert",
        table: "Kid",
        "uuid-name": "k",
        row: { name: "k", pal: ["named-uuid", "k"] },
      },
    ]);
    expect(db.row("Root", U(1))!.get("fav").size).toBe(1);
    await db.transact([{ op: "update", table: "Root", where: [], row: { kids: ["set", []] } }]);
    expect([...db.rows("Kid")]).toHaveLength(0);
    expect(db.row("Root", U(1))!.get("fav").size).toBe(0);
  });

  it("refuses a deletion that would leave a min-1 weak column empty", async () => {
    const db = testDb();
    const res = (await db.transact([
      {
        op: "insert",
        table: "Root",
        row: {
          name: "a",
          kids: [
            "set",
            [
              ["named-uuid", "k1"],
              ["named-uuid", "k2"],
            ],
          ],
        },
      },
      {
        op: "insert",
        table: "Kid",
        "uuid-name": "k1",
        row: { name: "k1", pal: ["named-uuid", "k2"] },
      },
      {
        op: "insert",
        table: "Kid",
        "uuid-name": "k2",
        row: { name: "k2", pal: ["named-uuid", "k2"] },
      },
    ])) as { uuid: [string, string] }[];
    const k2 = res[2].uuid;
    const del = await db.transact([
      { op: "mutate", table: "Root", where: [], mutations: [["kids", "delete", k2]] },
    ]);
    expect(del[1]).toMatchObject({ error: "constraint violation" });
    expect((del[1] as { details: string }).details).toContain(
      'weak reference(s) to deleted (or never-existing) rows from column "pal" in "Kid"',
    );
    expect([...db.rows("Kid")]).toHaveLength(2);
  });
});
