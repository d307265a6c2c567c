import { describe, expect, it } from "vitest";
import {
  Database,
  Datum,
  type OvsdbError,
  parseSchema,
  parseWhere,
  Row,
} from "../../ovsdb/index.js";
import { testSchema } from "./helpers.js";

const schema = parseSchema(testSchema);
const root = schema.tables.get("Root")!;

function row(values: Record<string, Datum>): Row {
  const r = Row.create(
    root,
    "00000000-0000-4000-8000-000000000001",
    "00000000-0000-4000-8000-000000000002",
  );
  return r.with(new Map(Object.entries(values).map(([k, v]) => [root.columns.get(k)!.index, v])));
}
const set = (...xs: (string | number)[]) => Datum.fromUnsorted(xs, null);
const map = (...kv: [string, string][]) =>
  Datum.fromUnsorted(
    kv.map((p) => p[0]),
    kv.map((p) => p[1]),
  );

function matches(where: unknown[], r: Row): boolean {
  return parseWhere(root, where).matches(r);
}

function errorOf(where: unknown[]): ReturnType<OvsdbError["toJson"]> {
  try {
    parseWhere(root, where);
  } catch (e) {
    return (e as OvsdbError).toJson();
  }
  throw new Error("expected an error");
}

describe("RFC 7047 §5.1 <condition> functions", () => {
  const r = row({
    name: set("a"),
    n: set(5),
    r: set(1.5),
    tags: set("x", "y"),
    kv: map(["k", "v"]),
  });

  it("== and != compare whole values", () => {
    expect(matches([["name", "==", "a"]], r)).toBe(true);
    expect(matches([["name", "!=", "a"]], r)).toBe(false);
    expect(matches([["tags", "==", ["set", ["y", "x"]]]], r)).toBe(true);
    expect(matches([["tags", "==", "x"]], r)).toBe(false);
    expect(matches([["kv", "==", ["map", [["k", "v"]]]]], r)).toBe(true);
  });

  it("<, <=, >, >= order integers and reals", () => {
    expect(matches([["n", "<", 6]], r)).toBe(true);
    expect(matches([["n", "<", 5]], r)).toBe(false);
    expect(matches([["n", "<=", 5]], r)).toBe(true);
    expect(matches([["n", ">", 4]], r)).toBe(true);
    expect(matches([["n", ">=", 6]], r)).toBe(false);
    expect(matches([["r", ">", 1.25]], r)).toBe(true);
  });

  it("includes is subset and excludes is disjointness, pairwise for maps", () => {
    expect(matches([["tags", "includes", "x"]], r)).toBe(true);
    expect(matches([["tags", "includes", ["set", ["x", "z"]]]], r)).toBe(false);
    expect(matches([["tags", "excludes", ["set", ["z"]]]], r)).toBe(true);
    expect(matches([["tags", "excludes", ["set", ["y", "z"]]]], r)).toBe(false);
    expect(matches([["kv", "includes", ["map", [["k", "v"]]]]], r)).toBe(true);
    expect(matches([["kv", "includes", ["map", [["k", "w"]]]]], r)).toBe(false);
    expect(matches([["kv", "excludes", ["map", [["k", "w"]]]]], r)).toBe(true);
    expect(matches([["tags", "includes", ["set", []]]], r)).toBe(true);
  });

  it("applies ordering functions to optional scalars, which never match when empty", () => {
    const empty = row({});
    const t = {
      ...testSchema.tables.Root.columns,
      opt: { type: { key: "integer", min: 0, max: 1 } },
    };
    const s2 = parseSchema({
      ...testSchema,
      tables: { ...testSchema.tables, Root: { ...testSchema.tables.Root, columns: t } },
    });
    const cond = parseWhere(s2.tables.get("Root")!, [["opt", "<", 5]]);
    expect(cond.matches(Row.create(s2.tables.get("Root")!, empty.uuid, empty.version))).toBe(false);
  });

  it("checks == arguments against the column's size but relaxes the minimum for includes", () => {
    const s2 = parseSchema(testSchema);
    const kid = s2.tables.get("Kid")!;
    expect(() => parseWhere(kid, [["pal", "==", ["set", []]]])).toThrow(
      "set must have 1 to 1 members but 0 are present",
    );
    expect(() => parseWhere(kid, [["pal", "includes", ["set", []]]])).not.toThrow();
  });

  it("is a conjunction of its clauses and an empty where matches every row", () => {
    expect(matches([], r)).toBe(true);
    expect(
      matches(
        [
          ["n", "==", 5],
          ["name", "==", "b"],
        ],
        r,
      ),
    ).toBe(false);
    expect(matches([true, ["n", "==", 5]], r)).toBe(true);
    expect(matches([false], r)).toBe(false);
  });

  it("exposes a pinned _uuid so lookups skip the table scan", () => {
    const c = parseWhere(root, [["_uuid", "==", ["uuid", "00000000-0000-4000-8000-000000000001"]]]);
    expect(c.uuid).toBe("00000000-0000-4000-8000-000000000001");
    expect(c.matches(r)).toBe(true);
  });

  it("reports ovsdb-server's errors for unknown columns, functions and type mismatches", () => {
    expect(errorOf([["nam", "==", "x"]])).toEqual({
      error: "unknown column",
      details: "No column nam in table Root.",
      syntax: '["nam","==","x"]',
    });
    expect(errorOf([["name", "~=", "x"]])).toEqual({
      error: "unknown function",
      details: "No function named ~=.",
    });
    expect(errorOf([["name", "<", "x"]])).toEqual({
      error: "syntax error",
      details: 'Type mismatch: "<" operator may not be applied to column name of type string.',
      syntax: '["name","<","x"]',
    });
    expect(errorOf([["tags", "<", 1]]).error).toBe("syntax error");
    expect(errorOf(["name"]).details).toBe("Parse error in condition.");
  });
});

describe("monitor_cond conditions over JSON rows (Database.compileCondition)", () => {
  it("matches RFC 7047 JSON rows, treating absent columns as defaults", () => {
    const db = Database.inMemory(testSchema);
    const m = db.compileCondition("Root", [
      ["tags", "includes", "x"],
      ["n", ">", 1],
    ]);
    expect(m({ name: "a", n: 2, tags: ["set", ["x", "y"]] })).toBe(true);
    expect(m({ name: "a", n: 2, tags: "y" })).toBe(false);
    expect(m({ name: "a", tags: "x" })).toBe(false);
    expect(db.compileCondition("Root", [true])({})).toBe(true);
    expect(() => db.compileCondition("Root", [["zz", "==", 1]])).toThrow(
      "No column zz in table Root.",
    );
  });
});
