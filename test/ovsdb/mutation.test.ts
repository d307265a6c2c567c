import { describe, expect, it } from "vitest";
import {
  applyMutations,
  Datum,
  type OvsdbError,
  parseMutations,
  parseSchema,
  Row,
} from "../../ovsdb/index.js";
import { testSchema } from "./helpers.js";

const schema = parseSchema(testSchema);
const root = schema.tables.get("Root")!;
const base = Row.create(
  root,
  "00000000-0000-4000-8000-000000000001",
  "00000000-0000-4000-8000-000000000002",
);

function mutate(r: Row, mutations: unknown[]): Row {
  return r.with(applyMutations(r, parseMutations(root, mutations, null)));
}
function errorOf(r: Row, mutations: unknown[]): ReturnType<OvsdbError["toJson"]> {
  try {
    mutate(r, mutations);
  } catch (e) {
    return (e as OvsdbError).toJson();
  }
  throw new Error("expected an error");
}
const withN = (n: number) => base.with(new Map([[root.columns.get("n")!.index, Datum.scalar(n)]]));

describe("RFC 7047 §5.1 <mutation> mutators", () => {
  it("+=, -=, *=, /=, %= do integer arithmetic truncating toward zero", () => {
    expect(mutate(withN(7), [["n", "+=", 3]]).get("n").atom).toBe(10);
    expect(mutate(withN(7), [["n", "-=", 3]]).get("n").atom).toBe(4);
    expect(mutate(withN(7), [["n", "*=", 3]]).get("n").atom).toBe(21);
    expect(mutate(withN(-7), [["n", "/=", 2]]).get("n").atom).toBe(-3);
    expect(mutate(withN(-7), [["n", "%=", 2]]).get("n").atom).toBe(-1);
  });

  it("applies mutations in order", () => {
    expect(
      mutate(withN(1), [
        ["n", "+=", 1],
        ["n", "*=", 10],
      ]).get("n").atom,
    ).toBe(20);
  });

  it("does real arithmetic and refuses %= on reals", () => {
    const r = base.with(new Map([[root.columns.get("r")!.index, Datum.scalar(1.5)]]));
    expect(mutate(r, [["r", "*=", 2]]).get("r").atom).toBe(3);
    expect(errorOf(r, [["r", "%=", 2]]).error).toBe("syntax error");
  });

  it("reports division by zero as a domain error", () => {
    expect(errorOf(withN(1), [["n", "/=", 0]])).toEqual({
      error: "domain error",
      details: "Division by zero.",
    });
    expect(errorOf(withN(1), [["n", "%=", 0]]).error).toBe("domain error");
  });

  it("re-checks the column's range after arithmetic", () => {
    expect(errorOf(withN(999), [["n", "+=", 5]])).toEqual({
      error: "constraint violation",
      details: "1004 is not in the valid range -10 to 1000 (inclusive)",
    });
  });

  it("reports 64-bit overflow as a range error", () => {
    const big = Datum.scalar(2 ** 62);
    const t = {
      ...testSchema,
      tables: { ...testSchema.tables, W: { isRoot: true, columns: { v: { type: "integer" } } } },
    };
    const w = parseSchema(t).tables.get("W")!;
    const r = Row.create(w, base.uuid, base.version).with(new Map([[2, big]]));
    try {
      r.with(applyMutations(r, parseMutations(w, [["v", "*=", 4]], null)));
      throw new Error("no error");
    } catch (e) {
      expect((e as OvsdbError).toJson()).toEqual({
        error: "range error",
        details: 'Result of "*=" operation is out of range.',
      });
    }
  });

  it("insert adds set elements and map pairs but never replaces an existing key's value", () => {
    const r1 = mutate(base, [
      ["tags", "insert", ["set", ["b", "a"]]],
      ["kv", "insert", ["map", [["k", "1"]]]],
    ]);
    expect(r1.get("tags").keys).toEqual(["a", "b"]);
    const r2 = mutate(r1, [
      [
        "kv",
        "insert",
        [
          "map",
          [
            ["k", "2"],
            ["j", "3"],
          ],
        ],
      ],
    ]);
    expect([r2.get("kv").keys, r2.get("kv").values]).toEqual([
      ["j", "k"],
      ["3", "1"],
    ]);
  });

  it("delete removes set elements, map pairs that match exactly, or map keys", () => {
    const r1 = mutate(base, [
      ["tags", "insert", ["set", ["a", "b"]]],
      [
        "kv",
        "insert",
        [
          "map",
          [
            ["k", "1"],
            ["j", "2"],
          ],
        ],
      ],
    ]);
    expect(mutate(r1, [["tags", "delete", "a"]]).get("tags").keys).toEqual(["b"]);
    expect(mutate(r1, [["kv", "delete", ["map", [["k", "9"]]]]]).get("kv").keys).toEqual([
      "j",
      "k",
    ]);
    expect(mutate(r1, [["kv", "delete", ["map", [["k", "1"]]]]]).get("kv").keys).toEqual(["j"]);
    expect(mutate(r1, [["kv", "delete", ["set", ["k", "j"]]]]).get("kv").keys).toEqual([]);
  });

  it("refuses a result with more elements than the column allows", () => {
    const one = mutate(base, [["small", "insert", 1]]);
    expect(errorOf(one, [["small", "insert", ["set", [2, 3]]]])).toEqual({
      error: "constraint violation",
      details: "Attempted to store 3 elements in set of up to 2 integers.",
    });
  });

  it("refuses immutable columns and mismatched types with ovsdb-server's messages", () => {
    expect(errorOf(base, [["_uuid", "insert", 1]])).toEqual({
      error: "constraint violation",
      details: "Cannot mutate immutable column _uuid in table Root.",
      syntax: '["_uuid","insert",1]',
    });
    expect(errorOf(base, [["name", "insert", "x"]]).details).toBe(
      "Cannot mutate immutable column name in table Root.",
    );
    expect(errorOf(base, [["kids", "+=", 1]])).toEqual({
      error: "syntax error",
      details:
        'Type mismatch: "+=" operator may not be applied to column kids of type set of uuids.',
      syntax: '["kids","+=",1]',
    });
    expect(errorOf(base, [["n", "insert", 1]]).error).toBe("syntax error");
    expect(errorOf(base, [["n", "^=", 1]]).details).toBe("No mutator named ^=.");
  });
});
