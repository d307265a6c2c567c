/**
 * Interop: real `ovsdb-tool` (Open vSwitch 3.1) reads the database files ovsim writes,
 * and ovsim opens the files ovsdb-tool writes.
 */
import { execFileSync, spawnSync } from "node:child_process";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import fc from "fast-check";
import { afterAll, describe, expect, it } from "vitest";
import { Database } from "../../ovsdb/index.js";
import { VSWITCH_SCHEMA_PATH, vswitchSchema } from "../ovsdb/helpers.js";

const available = spawnSync("ovsdb-tool", ["--version"]).status === 0;
if (!available)
  console.warn(
    "skipping ovsdb-tool interop: ovsdb-tool is not installed (apt-get install openvswitch-switch)",
  );

const dir = mkdtempSync(join(tmpdir(), "ovsim-tool-"));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const tool = (...args: string[]) => execFileSync("ovsdb-tool", args, { encoding: "utf8" });

describe.skipIf(!available)("ovsdb-tool interop", () => {
  it("ovsdb-tool show-log and db-cksum read a file ovsim wrote", async () => {
    const path = join(dir, "ours.db");
    const db = await Database.create(path, vswitchSchema);
    await db.transact([
      {
        op: "insert",
        table: "Open_vSwitch",
        "uuid-name": "o",
        row: { bridges: ["named-uuid", "b"] },
      },
      {
        op: "insert",
        table: "Bridge",
        "uuid-name": "b",
        row: { name: "br0", ports: ["named-uuid", "p"] },
      },
      {
        op: "insert",
        table: "Port",
        "uuid-name": "p",
        row: { name: "br0", interfaces: ["named-uuid", "i"] },
      },
      {
        op: "insert",
        table: "Interface",
        "uuid-name": "i",
        row: { name: "br0", type: "internal" },
      },
      { op: "comment", comment: "ovsim add-br br0" },
    ]);
    await db.transact([
      {
        op: "update",
        table: "Bridge",
        where: [],
        row: { fail_mode: "secure", external_ids: ["map", [["k", "v"]]] },
      },
    ]);
    await db.close();
    const log = tool("-mm", "show-log", path);
    expect(log).toContain(
      'record 0: "Open_vSwitch" schema, version="8.3.1", cksum="3012963480 26720"',
    );
    expect(log).toContain('"ovsim add-br br0"');
    expect(log).toContain('table Bridge insert row "br0"');
    expect(log).toMatch(/record 2: [^\n]*\n {2}table Bridge row "br0" \([0-9a-f]{8}\) diff:\n/);
    expect(log).toContain("fail_mode=secure");
    expect(log).toContain("external_ids={k=v}");
    expect(tool("db-cksum", path).trim()).toBe("3012963480 26720");
  });

  it("ovsdb-tool query sees the rows and values ovsim committed", async () => {
    const path = join(dir, "ours2.db");
    const db = await Database.create(path, vswitchSchema);
    await db.transact([
      { op: "insert", table: "Open_vSwitch", row: { bridges: ["named-uuid", "b"] } },
      {
        op: "insert",
        table: "Bridge",
        "uuid-name": "b",
        row: { name: "br0", flood_vlans: ["set", [1, 2]] },
      },
    ]);
    await db.transact([
      {
        op: "mutate",
        table: "Bridge",
        where: [],
        mutations: [
          ["flood_vlans", "delete", 1],
          ["flood_vlans", "insert", 3],
        ],
      },
    ]);
    await db.close();
    const out = JSON.parse(
      tool(
        "query",
        path,
        JSON.stringify([
          "Open_vSwitch",
          { op: "select", table: "Bridge", where: [], columns: ["name", "flood_vlans"] },
        ]),
      ),
    );
    expect(out).toEqual([{ rows: [{ name: "br0", flood_vlans: ["set", [2, 3]] }] }]);
  });

  it("opens a file made by ovsdb-tool create and by ovsdb-tool transact", async () => {
    const path = join(dir, "theirs.db");
    tool("create", path, VSWITCH_SCHEMA_PATH);
    const r = JSON.parse(
      tool(
        "transact",
        path,
        JSON.stringify([
          "Open_vSwitch",
          {
            op: "insert",
            table: "Open_vSwitch",
            row: { bridges: ["named-uuid", "b"], external_ids: ["map", [["a", "1"]]] },
          },
          {
            op: "insert",
            table: "Bridge",
            "uuid-name": "b",
            row: { name: "brT", flood_vlans: ["set", [5, 6]] },
          },
        ]),
      ),
    );
    tool(
      "transact",
      path,
      JSON.stringify([
        "Open_vSwitch",
        { op: "mutate", table: "Bridge", where: [], mutations: [["flood_vlans", "insert", 7]] },
      ]),
    );
    const db = await Database.open(path);
    const [ovs] = [...db.rows("Open_vSwitch")];
    expect(ovs.uuid).toBe(r[0].uuid[1]);
    expect(db.rowToJson("Open_vSwitch", ovs, ["external_ids"])).toEqual({
      external_ids: ["map", [["a", "1"]]],
    });
    const [br] = [...db.rows("Bridge")];
    expect(db.rowToJson("Bridge", br, ["name", "flood_vlans"])).toEqual({
      name: "brT",
      flood_vlans: ["set", [5, 6, 7]],
    });
    // And we can keep writing to it, and ovsdb-tool still reads it.
    await db.transact([{ op: "update", table: "Bridge", where: [], row: { fail_mode: "secure" } }]);
    await db.transact([
      { op: "update", table: "Bridge", where: [], row: { fail_mode: "standalone" } },
    ]);
    await db.close();
    const out = JSON.parse(
      tool(
        "query",
        path,
        JSON.stringify([
          "Open_vSwitch",
          { op: "select", table: "Bridge", where: [], columns: ["fail_mode"] },
        ]),
      ),
    );
    expect(out).toEqual([{ rows: [{ fail_mode: "standalone" }] }]);
  });

  it("ovsdb-tool compact accepts a file ovsim compacted", async () => {
    const path = join(dir, "compact.db");
    const db = await Database.create(path, vswitchSchema);
    await db.transact([{ op: "insert", table: "Open_vSwitch", row: { next_cfg: 1 } }]);
    for (let i = 2; i < 10; i++)
      await db.transact([{ op: "update", table: "Open_vSwitch", where: [], row: { next_cfg: i } }]);
    await db.compact();
    await db.close();
    tool("compact", path);
    const out = JSON.parse(
      tool(
        "query",
        path,
        JSON.stringify([
          "Open_vSwitch",
          { op: "select", table: "Open_vSwitch", where: [], columns: ["next_cfg"] },
        ]),
      ),
    );
    expect(out).toEqual([{ rows: [{ next_cfg: 9 }] }]);
  });

  it("gives the same results and log as ovsdb-tool transact for random transaction sequences", async () => {
    const schemaPath = VSWITCH_SCHEMA_PATH;
    let run = 0;
    await fc.assert(
      fc.asyncProperty(fc.array(txnArb, { minLength: 1, maxLength: 5 }), async (txns) => {
        const path = join(dir, `diff-${run++}.db`);
        tool("create", path, schemaPath);
        const init = [{ op: "insert", table: "Open_vSwitch", row: {} }];
        tool("transact", path, JSON.stringify(["Open_vSwitch", ...init]));
        const ours = join(dir, `diff-ours-${run}.db`);
        const db = await Database.create(ours, vswitchSchema);
        await db.transact(init);
        let final: unknown = null;
        for (const ops of [...txns, FINAL_SELECTS]) {
          final = JSON.parse(tool("transact", path, JSON.stringify(["Open_vSwitch", ...ops])));
          expect(normalize(await db.transact(ops))).toEqual(normalize(final));
        }
        await db.close();
        // And ovsdb-tool, replaying the log we wrote, sees the same database.
        const replayed = JSON.parse(
          tool("query", ours, JSON.stringify(["Open_vSwitch", ...FINAL_SELECTS])),
        );
        expect(normalize(replayed)).toEqual(normalize(final));
      }),
      { numRuns: 25 },
    );
  });
});

// Random ovs-vsctl-like transactions over a few names, so that index collisions,
// dangling and kept references, garbage collection, weak references (Mirror), enum
// and range violations and failing waits all occur.
const nameArb = fc.constantFrom("a", "b", "c");
const opsArb: fc.Arbitrary<unknown[]> = fc
  .oneof(
    fc.record({ n: nameArb, ref: fc.boolean(), ports: fc.boolean() }).map(({ n, ref, ports }) => [
      {
        op: "insert",
        table: "Bridge",
        "uuid-name": "nb",
        row: { name: n, ...(ports ? { ports: ["named-uuid", "np"] } : {}) },
      },
      ...(ref
        ? [
            {
              op: "mutate",
              table: "Open_vSwitch",
              where: [],
              mutations: [["bridges", "insert", ["named-uuid", "nb"]]],
            },
          ]
        : []),
    ]),
    nameArb.map((n) => [
      {
        op: "insert",
        table: "Port",
        "uuid-name": "np",
        row: { name: `p${n}`, interfaces: ["named-uuid", "ni"] },
      },
      { op: "insert", table: "Interface", "uuid-name": "ni", row: { name: `i${n}` } },
    ]),
    nameArb.map((n) => [{ op: "delete", table: "Bridge", where: [["name", "==", n]] }]),
    fc.constant([
      { op: "update", table: "Open_vSwitch", where: [], row: { bridges: ["set", []] } },
    ]),
    fc
      .tuple(nameArb, fc.constantFrom("secure", "standalone", "bogus"))
      .map(([n, m]) => [
        { op: "update", table: "Bridge", where: [["name", "==", n]], row: { fail_mode: m } },
      ]),
    fc
      .tuple(
        nameArb,
        fc.integer({ min: -1, max: 4100 }),
        fc.constantFrom("insert", "delete", "+=", "*=", "/="),
      )
      .map(([n, v, m]) => [
        {
          op: "mutate",
          table: "Bridge",
          where: [["name", "==", n]],
          mutations: [["flood_vlans", m, m === "/=" ? v % 3 : v]],
        },
      ]),
    fc
      .tuple(
        nameArb,
        fc.constantFrom("k1", "k2"),
        fc.constantFrom("v1", "v2"),
        fc.constantFrom("insert", "delete"),
      )
      .map(([n, k, v, m]) => [
        {
          op: "mutate",
          table: "Bridge",
          where: [["name", "==", n]],
          mutations: [["external_ids", m, ["map", [[k, v]]]]],
        },
      ]),
    fc.tuple(nameArb, fc.integer({ min: 0, max: 2 })).map(([n, c]) => [
      {
        op: "wait",
        table: "Bridge",
        where: [["name", "==", n]],
        columns: ["name"],
        until: "==",
        rows: Array.from({ length: c }, () => ({ name: n })),
        timeout: 0,
      },
    ]),
    fc.constant([
      { op: "mutate", table: "Open_vSwitch", where: [], mutations: [["next_cfg", "+=", 1]] },
    ]),
    nameArb.map((n) => [{ op: "delete", table: "Port", where: [["name", "==", `p${n}`]] }]),
    fc.constant([{ op: "insert", table: "Open_vSwitch", row: {} }]),
    fc.constant([{ op: "abort" }]),
    fc.constantFrom(
      [{ op: "select", table: "Bridge", where: [["nam", "==", "a"]] }],
      [{ op: "select", table: "Bridge", where: [], columns: ["nam"] }],
      [{ op: "select", table: "Bridge", where: [["name", "<", "a"]] }],
      [{ op: "assert", lock: "l" }],
      [{ op: "comment", comment: "c" }],
      [{ op: "commit", durable: false }],
      [{ op: "delete", table: "Interface", where: [] }],
    ),
    fc
      .tuple(
        nameArb,
        fc.integer({ min: 0, max: 3 }),
        fc.constantFrom("includes", "excludes", "==", "!="),
      )
      .map(([n, v, f]) => [
        {
          op: "select",
          table: "Bridge",
          where: [
            ["flood_vlans", f, v],
            ["name", "!=", n],
          ],
          columns: ["name"],
        },
      ]),
    nameArb.map((n) => [
      { op: "update", table: "Bridge", where: [["name", "==", n]], row: { name: "z" } },
    ]),
    fc.tuple(nameArb, fc.constantFrom("k1", "k2")).map(([n, k]) => [
      {
        op: "mutate",
        table: "Bridge",
        where: [["name", "==", n]],
        mutations: [["external_ids", "delete", ["set", [k]]]],
      },
    ]),
    nameArb.map((n) => [
      { op: "update", table: "Bridge", where: [["name", "==", n]], row: { ports: ["set", []] } },
    ]),
    fc.tuple(nameArb, fc.boolean()).map(([n, out]) => [
      {
        op: "insert",
        table: "Bridge",
        "uuid-name": "mb",
        row: {
          name: `m${n}`,
          ports: [
            "set",
            [
              ["named-uuid", "mp"],
              ["named-uuid", "mq"],
            ],
          ],
          mirrors: ["named-uuid", "mm"],
        },
      },
      {
        op: "insert",
        table: "Port",
        "uuid-name": "mp",
        row: { name: `mp${n}`, interfaces: ["named-uuid", "mi"] },
      },
      {
        op: "insert",
        table: "Port",
        "uuid-name": "mq",
        row: { name: `mq${n}`, interfaces: ["named-uuid", "mj"] },
      },
      { op: "insert", table: "Interface", "uuid-name": "mi", row: { name: `mi${n}` } },
      { op: "insert", table: "Interface", "uuid-name": "mj", row: { name: `mj${n}` } },
      {
        op: "insert",
        table: "Mirror",
        "uuid-name": "mm",
        row: {
          name: `mir${n}`,
          select_src_port: [
            "set",
            [
              ["named-uuid", "mp"],
              ["named-uuid", "mq"],
            ],
          ],
          ...(out ? { output_port: ["named-uuid", "mq"] } : {}),
        },
      },
      {
        op: "mutate",
        table: "Open_vSwitch",
        where: [],
        mutations: [["bridges", "insert", ["named-uuid", "mb"]]],
      },
    ]),
    fc
      .tuple(nameArb, fc.constantFrom("mp", "mq"))
      .map(([n, p]) => [{ op: "delete", table: "Port", where: [["name", "==", `${p}${n}`]] }]),
    nameArb.map((n) => [
      {
        op: "update",
        table: "Bridge",
        where: [["name", "==", `m${n}`]],
        row: { ports: ["set", []] },
      },
    ]),
  )
  .map((ops) => ops as unknown[]);
const txnArb = fc.array(opsArb, { minLength: 1, maxLength: 4 }).map((xs) => xs.flat());
const FINAL_SELECTS = [
  {
    op: "select",
    table: "Bridge",
    where: [],
    columns: ["name", "fail_mode", "flood_vlans", "external_ids"],
  },
  { op: "select", table: "Port", where: [], columns: ["name"] },
  { op: "select", table: "Interface", where: [], columns: ["name"] },
  { op: "select", table: "Mirror", where: [], columns: ["name", "select_src_port", "output_port"] },
  { op: "select", table: "Open_vSwitch", where: [], columns: ["next_cfg"] },
];

const UUID_RE = /[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}/g;

/**
 * Results with uuids masked, rows sorted, and the two rows of an index conflict
 * compared as a set: ovsdb-server orders rows and names the "First row" by hash order.
 */
function normalize(results: unknown): unknown {
  const masked = JSON.parse(JSON.stringify(results).replace(UUID_RE, "U"), (k, v) =>
    k === "details" && typeof v === "string"
      ? v.replace(
          / {2}First row, with UUID U, (.*?) {2}Second row, with UUID U, (.*)$/,
          (_m, a, b) => `  rows: ${[a, b].sort().join(" | ")}`,
        )
      : v,
  ) as unknown[];
  return masked.map((r) =>
    r && typeof r === "object" && "rows" in r
      ? { rows: (r.rows as unknown[]).map((x) => JSON.stringify(sortKeys(x))).sort() }
      : sortKeys(r),
  );
}

function sortKeys(x: unknown): unknown {
  if (Array.isArray(x)) return x.map(sortKeys);
  if (x && typeof x === "object")
    return Object.fromEntries(
      Object.keys(x)
        .sort()
        .map((k) => [k, sortKeys((x as Record<string, unknown>)[k])]),
    );
  return x;
}
