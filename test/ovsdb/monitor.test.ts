import { describe, expect, it } from "vitest";
import {
  collapseChanges,
  type JsonRow,
  jsonDatumDiff,
  Monitor,
  type TableMonitor,
} from "../../ovsdb/monitor.js";
import { parseSchema } from "../../ovsdb/schema.js";

const schema = parseSchema({
  name: "T",
  version: "1.0.0",
  tables: {
    Bridge: {
      columns: {
        name: { type: "string" },
        ports: { type: { key: "string", min: 0, max: "unlimited" } },
        fail_mode: { type: { key: "string", min: 0, max: 1 } },
        other_config: { type: { key: "string", value: "string", min: 0, max: "unlimited" } },
        stp_enable: { type: "boolean" },
      },
    },
  },
});

function tableMonitor(columns: string[], matcher: TableMonitor["matcher"] = null): TableMonitor {
  const ts = schema.tables.get("Bridge")!;
  return {
    table: "Bridge",
    columns,
    types: new Map(columns.map((c) => [c, ts.columns.get(c)!.type])),
    select: { initial: true, insert: true, delete: true, modify: true },
    matcher,
    where: null,
  };
}

const ALL = ["name", "ports", "fail_mode", "other_config", "stp_enable"];

function row(over: Partial<JsonRow> = {}): JsonRow {
  return {
    name: "br0",
    ports: ["set", []],
    fail_mode: ["set", []],
    other_config: ["map", []],
    stp_enable: false,
    ...over,
  };
}

describe("Monitor", () => {
  it("v2 initial and insert omit columns at their default, as ovsdb-server does", () => {
    const m = new Monitor(2, ["monid", "T"], "T", new Map([["Bridge", tableMonitor(ALL)]]));
    expect(m.initial(() => [["u1", row()]])).toEqual({
      Bridge: { u1: { initial: { name: "br0" } } },
    });
    expect(
      m.updates([
        { table: "Bridge", uuid: "u2", old: null, new: row({ name: "br1", stp_enable: true }) },
      ]),
    ).toEqual({
      Bridge: { u2: { insert: { name: "br1", stp_enable: true } } },
    });
  });

  it("v1 reports whole rows in new, and only changed columns in old on modify", () => {
    const m = new Monitor(
      1,
      null,
      "T",
      new Map([["Bridge", tableMonitor(["name", "other_config"])]]),
    );
    const before = row();
    const after = row({ other_config: ["map", [["foo", "bar"]]] });
    expect(m.updates([{ table: "Bridge", uuid: "u", old: before, new: after }])).toEqual({
      Bridge: {
        u: {
          new: { name: "br0", other_config: ["map", [["foo", "bar"]]] },
          old: { other_config: ["map", []] },
        },
      },
    });
    expect(m.updates([{ table: "Bridge", uuid: "u", old: after, new: null }])).toEqual({
      Bridge: { u: { old: { name: "br0", other_config: ["map", [["foo", "bar"]]] } } },
    });
  });

  it("v2 modify carries diffs: symmetric difference for sets, changed pairs for maps", () => {
    const m = new Monitor(2, 1, "T", new Map([["Bridge", tableMonitor(ALL)]]));
    const before = row({
      ports: ["set", ["a", "b"]],
      other_config: [
        "map",
        [
          ["k", "1"],
          ["x", "9"],
        ],
      ],
    });
    const after = row({
      ports: ["set", ["b", "c"]],
      other_config: [
        "map",
        [
          ["k", "2"],
          ["n", "3"],
        ],
      ],
    });
    expect(m.updates([{ table: "Bridge", uuid: "u", old: before, new: after }])).toEqual({
      Bridge: {
        u: {
          modify: {
            ports: ["set", ["a", "c"]],
            other_config: [
              "map",
              [
                ["k", "2"],
                ["n", "3"],
                ["x", "9"],
              ],
            ],
          },
        },
      },
    });
  });

  it("reports nothing when only unmonitored columns change", () => {
    const m = new Monitor(3, 1, "T", new Map([["Bridge", tableMonitor(["name"])]]));
    expect(
      m.updates([{ table: "Bridge", uuid: "u", old: row(), new: row({ stp_enable: true }) }]),
    ).toBeNull();
  });

  it("turns a modify that enters or leaves the condition into an insert or a delete", () => {
    const isBr1 = (r: JsonRow) => r.name === "br1";
    const m = new Monitor(2, 1, "T", new Map([["Bridge", tableMonitor(ALL, isBr1)]]));
    expect(
      m.updates([{ table: "Bridge", uuid: "u", old: row(), new: row({ name: "br1" }) }]),
    ).toEqual({
      Bridge: { u: { insert: { name: "br1" } } },
    });
    expect(
      m.updates([{ table: "Bridge", uuid: "u", old: row({ name: "br1" }), new: row() }]),
    ).toEqual({
      Bridge: { u: { delete: null } },
    });
  });

  it("respects select flags", () => {
    const tm = tableMonitor(ALL);
    tm.select.insert = false;
    const m = new Monitor(2, 1, "T", new Map([["Bridge", tm]]));
    expect(m.updates([{ table: "Bridge", uuid: "u", old: null, new: row() }])).toBeNull();
    expect(m.updates([{ table: "Bridge", uuid: "u", old: row(), new: null }])).toEqual({
      Bridge: { u: { delete: null } },
    });
  });
});

describe("jsonDatumDiff", () => {
  it("gives an optional value's new value, not a symmetric difference, as ovsdb-server does", () => {
    const t = schema.tables.get("Bridge")!.columns.get("fail_mode")!.type;
    expect(jsonDatumDiff(t, ["set", []], "secure")).toBe("secure");
    expect(jsonDatumDiff(t, "secure", "standalone")).toBe("standalone");
    expect(jsonDatumDiff(t, "secure", ["set", []])).toEqual(["set", []]);
  });

  it("writes a one-element set difference as the bare atom", () => {
    const t = schema.tables.get("Bridge")!.columns.get("ports")!.type;
    expect(jsonDatumDiff(t, ["set", ["a", "b"]], "a")).toBe("b");
  });
});

describe("collapseChanges", () => {
  it("keeps the first old and the last new of each row and drops rows born and dead in the run", () => {
    const out = collapseChanges([
      [{ table: "Bridge", uuid: "a", old: null, new: row({ name: "1" }) }],
      [
        { table: "Bridge", uuid: "a", old: row({ name: "1" }), new: row({ name: "2" }) },
        { table: "Bridge", uuid: "b", old: null, new: row() },
      ],
      [{ table: "Bridge", uuid: "b", old: row(), new: null }],
    ]);
    expect(out).toEqual([{ table: "Bridge", uuid: "a", old: null, new: row({ name: "2" }) }]);
  });
});
