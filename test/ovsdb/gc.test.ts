import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { Database } from "../../ovsdb/index.js";
import { seqUuids, testDb, vswitchSchema } from "./helpers.js";

describe("RFC 7047 §3.2 isRoot: garbage collection of unreferenced non-root rows", () => {
  it("collects a non-root row inserted without a reference, after the operations still see it", async () => {
    const db = testDb();
    const res = await db.transact([
      {
        op: "insert",
        table: "Kid",
        "uuid-name": "k",
        row: { name: "orphan", pal: ["named-uuid", "k"] },
      },
      {
        op: "select",
        table: "Kid",
        where: [["_uuid", "==", ["named-uuid", "k"]]],
        columns: ["name"],
      },
    ]);
    expect(res[1]).toEqual({ rows: [{ name: "orphan" }] });
    expect([...db.rows("Kid")]).toHaveLength(0);
  });

  it("cascades: dropping the last reference collects the row and everything only it referenced", async () => {
    const db = testDb();
    await db.transact([
      { op: "insert", table: "Root", row: { name: "a", kids: ["named-uuid", "k"] } },
      {
        op: "insert",
        table: "Kid",
        "uuid-name": "k",
        row: { name: "k", pal: ["named-uuid", "k"], toy: ["named-uuid", "t"] },
      },
      { op: "insert", table: "Toy", "uuid-name": "t", row: { label: "ball" } },
    ]);
    expect([...db.rows("Toy")]).toHaveLength(1);
    await db.transact([{ op: "update", table: "Root", where: [], row: { kids: ["set", []] } }]);
    expect([...db.rows("Kid")]).toHaveLength(0);
    expect([...db.rows("Toy")]).toHaveLength(0);
  });

  it("keeps a row while another referrer remains", async () => {
    const db = testDb();
    await db.transact([
      { op: "insert", table: "Root", row: { name: "a", kids: ["named-uuid", "k"] } },
      { op: "insert", table: "Root", row: { name: "b", kids: ["named-uuid", "k"] } },
      {
        op: "insert",
        table: "Kid",
        "uuid-name": "k",
        row: { name: "k", pal: ["named-uuid", "k"] },
      },
    ]);
    await db.transact([{ op: "delete", table: "Root", where: [["name", "==", "a"]] }]);
    expect([...db.rows("Kid")]).toHaveLength(1);
    await db.transact([{ op: "delete", table: "Root", where: [["name", "==", "b"]] }]);
    expect([...db.rows("Kid")]).toHaveLength(0);
  });

  it("reports collected rows to commit listeners as deletions", async () => {
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
    const deleted: string[] = [];
    db.onCommit((t) => {
      for (const c of t.changes) if (!c.new) deleted.push(c.table);
    });
    await db.transact([{ op: "update", table: "Root", where: [], row: { kids: ["set", []] } }]);
    expect(deleted).toEqual(["Kid"]);
  });

  it("ovs-vsctl del-br: emptying Open_vSwitch.bridges removes the bridge, its ports and interfaces (transcript 06)", async () => {
    const db = Database.inMemory(vswitchSchema, { newUuid: seqUuids() });
    await db.transact([
      { op: "insert", table: "Open_vSwitch", row: { bridges: ["named-uuid", "b"] } },
      {
        op: "insert",
        table: "Bridge",
        "uuid-name": "b",
        row: {
          name: "br0",
          ports: [
            "set",
            [
              ["named-uuid", "p0"],
              ["named-uuid", "p1"],
            ],
          ],
        },
      },
      {
        op: "insert",
        table: "Port",
        "uuid-name": "p0",
        row: { name: "br0", interfaces: ["named-uuid", "i0"] },
      },
      {
        op: "insert",
        table: "Port",
        "uuid-name": "p1",
        row: { name: "vx1", interfaces: ["named-uuid", "i1"] },
      },
      {
        op: "insert",
        table: "Interface",
        "uuid-name": "i0",
        row: { name: "br0", type: "internal" },
      },
      { op: "insert", table: "Interface", "uuid-name": "i1", row: { name: "vx1", type: "vxlan" } },
    ]);
    expect([...db.rows("Interface")]).toHaveLength(2);
    const res = await db.transact([
      { op: "update", table: "Open_vSwitch", where: [], row: { bridges: ["set", []] } },
    ]);
    expect(res).toEqual([{ count: 1 }]);
    for (const t of ["Bridge", "Port", "Interface"]) expect([...db.rows(t)]).toHaveLength(0);
  });
});

describe("commit invariants under random transactions (brute-force check)", () => {
  type Op = Record<string, unknown>;
  const kidName = fc.constantFrom("k1", "k2", "k3");
  const opArb: fc.Arbitrary<Op[]> = fc.array(
    fc.oneof(
      fc
        .record({
          op: fc.constant("insert"),
          table: fc.constant("Kid"),
          "uuid-name": kidName,
          row: fc.constant({ name: "k" }),
        })
        .map((o) => ({
          ...o,
          row: { name: o["uuid-name"], pal: ["named-uuid", o["uuid-name"]] },
        })),
      fc
        .tuple(fc.string({ maxLength: 2 }), fc.subarray(["k1", "k2", "k3"]))
        .map(([name, kids]) => ({
          op: "insert",
          table: "Root",
          row: { name, kids: ["set", kids.map((k) => ["named-uuid", k])] },
        })),
      fc
        .integer({ min: 0, max: 2 })
        .map((n) => ({ op: "delete", table: "Root", where: [["n", "==", n]] })),
      fc.constant({ op: "update", table: "Root", where: [], row: { kids: ["set", []] } }),
      fc.constant({ op: "delete", table: "Kid", where: [] }),
      fc.constant({ op: "mutate", table: "Root", where: [], mutations: [["n", "+=", 1]] }),
    ),
    { maxLength: 5 },
  );

  it("every strong reference resolves, every non-root row is referenced, failed transactions change nothing", async () => {
    await fc.assert(
      fc.asyncProperty(fc.array(opArb, { minLength: 1, maxLength: 6 }), async (txns) => {
        const db = testDb();
        for (const ops of txns) {
          const before = snapshot(db);
          const res = await db.transact(ops);
          const failed = res.some((r) => r !== null && typeof r === "object" && "error" in r);
          if (failed) expect(snapshot(db)).toEqual(before);
          const kids = new Set([...db.rows("Kid")].map((r) => r.uuid));
          const referenced = new Set<string>();
          for (const r of db.rows("Root"))
            for (const k of r.get("kids").keys) {
              expect(kids.has(k as string)).toBe(true);
              referenced.add(k as string);
            }
          for (const k of kids) expect(referenced.has(k)).toBe(true);
          for (const r of db.rows("Kid")) expect(r.get("pal").size).toBe(1);
          expect([...db.rows("Root")].length).toBeLessThanOrEqual(3);
        }
      }),
      { numRuns: 150 },
    );
  });
});

function snapshot(db: Database): unknown {
  return ["Root", "Kid", "Toy"].map((t) => [...db.rows(t)].map((r) => db.rowToJson(t, r)));
}
