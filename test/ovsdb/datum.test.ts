import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { datumJsonText } from "../../ovsdb/datum.js";
import {
  type Atom,
  type ColumnType,
  compareAtoms,
  Datum,
  datumApplyDiff,
  datumDiff,
  datumFromJson,
  datumToJson,
  type OvsdbError,
} from "../../ovsdb/index.js";
import { baseType } from "../../ovsdb/types.js";

const setOf = (
  key: "integer" | "string" | "uuid",
  min = 0,
  max = Number.POSITIVE_INFINITY,
): ColumnType => ({
  key: baseType(key),
  value: null,
  min,
  max,
});
const mapOf = (): ColumnType => ({
  key: baseType("string"),
  value: baseType("integer"),
  min: 0,
  max: Number.POSITIVE_INFINITY,
});

function catchError(fn: () => unknown): OvsdbError {
  try {
    fn();
  } catch (e) {
    return e as OvsdbError;
  }
  throw new Error("expected an error");
}

describe("RFC 7047 §5.1 <value> notation", () => {
  it("reads a bare atom as a one-element set and prints it back bare", () => {
    const d = datumFromJson(setOf("string"), "x");
    expect(d.keys).toEqual(["x"]);
    expect(datumToJson(setOf("string"), d)).toBe("x");
  });

  it('prints an empty set as ["set",[]] and a map always as ["map",...]', () => {
    expect(datumToJson(setOf("string"), Datum.EMPTY_SET)).toEqual(["set", []]);
    const m = datumFromJson(mapOf(), ["map", [["a", 1]]]);
    expect(datumToJson(mapOf(), m)).toEqual(["map", [["a", 1]]]);
  });

  it("sorts set elements and map keys in OVS order", () => {
    const d = datumFromJson(setOf("integer"), ["set", [3, -1, 2]]);
    expect(d.keys).toEqual([-1, 2, 3]);
    const m = datumFromJson(mapOf(), [
      "map",
      [
        ["b", 1],
        ["a", 2],
      ],
    ]);
    expect(m.keys).toEqual(["a", "b"]);
    expect(m.values).toEqual([2, 1]);
  });

  it('reads uuids as ["uuid", text] and lowercases them', () => {
    const d = datumFromJson(setOf("uuid"), ["uuid", "8290AF82-E3C6-4F84-947A-E7921A231B96"]);
    expect(d.keys).toEqual(["8290af82-e3c6-4f84-947a-e7921a231b96"]);
  });

  it('rejects duplicates with ovsdb-server\'s "ovsdb error" strings', () => {
    const e1 = catchError(() => datumFromJson(setOf("integer"), ["set", [1, 1]]));
    expect(e1.toJson()).toEqual({ error: "ovsdb error", details: "set contains duplicate" });
    const e2 = catchError(() =>
      datumFromJson(mapOf(), [
        "map",
        [
          ["a", 1],
          ["a", 2],
        ],
      ]),
    );
    expect(e2.toJson()).toEqual({ error: "ovsdb error", details: "map contains duplicate key" });
  });

  it("rejects a wrong atom type as a syntax error quoting the JSON", () => {
    const e = catchError(() => datumFromJson(setOf("string", 1, 1), 1));
    expect(e.toJson()).toEqual({ error: "syntax error", details: "expected string", syntax: "1" });
  });

  it("rejects too many elements with the set size in the message", () => {
    const e = catchError(() => datumFromJson(setOf("integer", 0, 2), ["set", [1, 2, 3]]));
    expect(e.details).toBe("set must have 0 to 2 members but 3 are present");
  });

  it("checks atom constraints as ovsdb-server does (range, enum)", () => {
    const vlan: ColumnType = {
      ...setOf("integer", 0, 4096),
      key: baseType("integer", { minInteger: 0, maxInteger: 4095 }),
    };
    expect(catchError(() => datumFromJson(vlan, ["set", [5000]])).toJson()).toEqual({
      error: "constraint violation",
      details: "5000 is not in the valid range 0 to 4095 (inclusive)",
    });
    const mode: ColumnType = {
      ...setOf("string", 0, 1),
      key: baseType("string", { enum: ["secure", "standalone"] }),
    };
    expect(catchError(() => datumFromJson(mode, "foo")).details).toBe(
      "foo is not one of the allowed values ([secure, standalone])",
    );
  });

  it("words one-sided range violations as ovsdb-server does", () => {
    const backoff: ColumnType = {
      ...setOf("integer", 0, 1),
      key: baseType("integer", { minInteger: 1000 }),
    };
    expect(catchError(() => datumFromJson(backoff, 5)).details).toBe(
      "5 is less than minimum allowed value 1000",
    );
    const small: ColumnType = {
      ...setOf("integer", 0, 1),
      key: baseType("integer", { maxInteger: 3 }),
    };
    expect(catchError(() => datumFromJson(small, 4)).details).toBe(
      "4 is greater than maximum allowed value 3",
    );
  });

  it("round-trips any set of integers and any string→integer map (property)", () => {
    fc.assert(
      fc.property(fc.uniqueArray(fc.integer()), (xs) => {
        const d = datumFromJson(setOf("integer"), ["set", xs]);
        const back = datumFromJson(setOf("integer"), datumToJson(setOf("integer"), d));
        expect(back.keys).toEqual(d.keys);
      }),
    );
    fc.assert(
      fc.property(fc.dictionary(fc.string(), fc.integer()), (obj) => {
        const json = ["map", Object.entries(obj)];
        const d = datumFromJson(mapOf(), json);
        expect(datumFromJson(mapOf(), datumToJson(mapOf(), d))).toEqual(d);
      }),
    );
  });

  it("writes the same JSON text directly as JSON.stringify of datumToJson (property)", () => {
    const uuidMap: ColumnType = { ...mapOf(), key: baseType("uuid"), value: baseType("real") };
    const same = (type: ColumnType, json: unknown) => {
      const d = datumFromJson(type, json);
      expect(datumJsonText(type, d)).toBe(JSON.stringify(datumToJson(type, d)));
    };
    fc.assert(
      fc.property(fc.uniqueArray(fc.string({ unit: "grapheme" })), (xs) => {
        same(setOf("string"), ["set", xs]);
        if (xs.length === 1) same(setOf("string"), xs[0]);
      }),
    );
    fc.assert(
      fc.property(fc.dictionary(fc.string(), fc.integer()), (obj) =>
        same(mapOf(), ["map", Object.entries(obj)]),
      ),
    );
    fc.assert(
      fc.property(
        fc.uniqueArray(fc.uuid()),
        fc.double({ noNaN: true, noDefaultInfinity: true }),
        (us, r) => same(uuidMap, ["map", us.map((u) => [["uuid", u], r])]),
      ),
    );
  });

  it("orders strings by code point, as strcmp over UTF-8 does (property)", () => {
    fc.assert(
      fc.property(fc.string({ unit: "grapheme" }), fc.string({ unit: "grapheme" }), (a, b) => {
        const bytes = Buffer.compare(Buffer.from(a), Buffer.from(b));
        expect(Math.sign(compareAtoms(a, b))).toBe(bytes);
      }),
    );
  });
});

describe('datum diffs (update2 "modify" and _is_diff log records)', () => {
  it("gives the symmetric difference for sets and changed/removed pairs for maps", () => {
    const s = (xs: Atom[]) => new Datum(xs, null);
    expect(datumDiff(s([1, 2]), s([2, 3])).keys).toEqual([1, 3]);
    const m = (kv: [string, string][]) =>
      new Datum(
        kv.map((p) => p[0]),
        kv.map((p) => p[1]),
      );
    const d = datumDiff(
      m([
        ["a", "1"],
        ["b", "2"],
      ]),
      m([
        ["a", "1"],
        ["b", "3"],
        ["c", "4"],
      ]),
    );
    expect([d.keys, d.values]).toEqual([
      ["b", "c"],
      ["3", "4"],
    ]);
  });

  it("applying the diff of old→new to old gives new (property)", () => {
    const pairs = fc.dictionary(fc.string({ maxLength: 3 }), fc.string({ maxLength: 2 }));
    fc.assert(
      fc.property(pairs, pairs, (a, b) => {
        const mk = (o: Record<string, string>) =>
          datumFromJson({ ...mapOf(), value: baseType("string") }, ["map", Object.entries(o)]);
        const [da, db] = [mk(a), mk(b)];
        expect(datumApplyDiff(da, datumDiff(da, db))).toEqual(db);
      }),
    );
    fc.assert(
      fc.property(
        fc.uniqueArray(fc.integer({ min: 0, max: 20 })),
        fc.uniqueArray(fc.integer({ min: 0, max: 20 })),
        (a, b) => {
          const [da, db] = [Datum.fromUnsorted(a, null), Datum.fromUnsorted(b, null)];
          expect(datumApplyDiff(da, datumDiff(da, db))).toEqual(db);
        },
      ),
    );
  });
});
