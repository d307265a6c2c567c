import { describe, expect, it } from "vitest";
import { parseSchema, SchemaError, schemaCksum, schemaToJson } from "../../ovsdb/index.js";
import { testSchema, vswitchSchema, vswitchSchemaText } from "./helpers.js";

describe("RFC 7047 §3.2 database schema", () => {
  it("parses the Open_vSwitch 8.3.1 schema with its tables, indexes and limits", () => {
    const s = parseSchema(vswitchSchema);
    expect(s.name).toBe("Open_vSwitch");
    expect(s.version).toBe("8.3.1");
    expect(s.cksum).toBe("3012963480 26720");
    const ovs = s.tables.get("Open_vSwitch")!;
    expect(ovs.maxRows).toBe(1);
    expect(ovs.isRoot).toBe(true);
    expect(s.tables.get("Bridge")!.isRoot).toBe(false);
    expect(s.tables.get("Bridge")!.indexes).toEqual([["name"]]);
    const name = s.tables.get("Bridge")!.columns.get("name")!;
    expect(name.mutable).toBe(false);
    const ports = s.tables.get("Bridge")!.columns.get("ports")!.type;
    expect(ports.key.refTable).toBe("Port");
    expect(ports.max).toBe(Number.POSITIVE_INFINITY);
    const mirror = s.tables.get("Mirror")!.columns.get("select_src_port")!.type;
    expect(mirror.key.refType).toBe("weak");
    expect(s.tables.get("Interface")!.columns.get("statistics")!.ephemeral).toBe(true);
  });

  it("adds the implicit _uuid and _version columns to every table", () => {
    const s = parseSchema(testSchema);
    for (const t of s.tables.values()) {
      expect(t.columnList[0].name).toBe("_uuid");
      expect(t.columnList[1].name).toBe("_version");
    }
  });

  it("parses base-type constraints: enum, minInteger/maxInteger, minLength/maxLength", () => {
    const s = parseSchema(testSchema);
    const root = s.tables.get("Root")!;
    expect(root.columns.get("color")!.type.key.enum).toEqual(["green", "red"]);
    expect(root.columns.get("n")!.type.key.minInteger).toBe(-10);
    expect(root.columns.get("n")!.type.key.maxInteger).toBe(1000);
    const label = s.tables.get("Toy")!.columns.get("label")!.type.key;
    expect([label.minLength, label.maxLength]).toEqual([1, 8]);
  });

  it("treats every table as a root table when no table says isRoot, as OVS does", () => {
    const s = parseSchema({
      name: "D",
      version: "1.0.0",
      tables: { A: { columns: {} }, B: { columns: {} } },
    });
    expect([...s.tables.values()].every((t) => t.isRoot)).toBe(true);
  });

  it.each([
    [{ name: "D", version: "1.0", tables: {} }, "version"],
    [{ name: "D", version: "1.0.0" }, "tables"],
    [
      { name: "D", version: "1.0.0", tables: { A: { columns: { _x: { type: "string" } } } } },
      "reserved",
    ],
    [
      { name: "D", version: "1.0.0", tables: { A: { columns: { x: { type: "str" } } } } },
      "atomic type",
    ],
    [
      {
        name: "D",
        version: "1.0.0",
        tables: { A: { columns: { x: { type: { key: "string", min: 2 } } } } },
      },
      "min",
    ],
    [
      {
        name: "D",
        version: "1.0.0",
        tables: { A: { columns: { x: { type: { key: { type: "uuid", refTable: "Z" } } } } } },
      },
      "refTable",
    ],
    [
      {
        name: "D",
        version: "1.0.0",
        tables: { A: { columns: { x: { type: { key: { type: "string", minInteger: 1 } } } } } },
      },
      "minInteger",
    ],
    [
      {
        name: "D",
        version: "1.0.0",
        tables: { A: { columns: { x: { type: "string" } }, indexes: [["y"]] } },
      },
      "not a column",
    ],
    [
      {
        name: "D",
        version: "1.0.0",
        tables: { A: { columns: { x: { type: "string", ephemeral: true } }, indexes: [["x"]] } },
      },
      "ephemeral",
    ],
    [{ name: "D", version: "1.0.0", tables: { A: { columns: {}, maxRows: 0 } } }, "maxRows"],
    [{ name: "D", version: "1.0.0", tables: { A: { columns: {}, bogus: 1 } } }, "bogus"],
  ])("rejects an invalid schema (%#) with a SchemaError naming the problem", (json, word) => {
    expect(() => parseSchema(json)).toThrow(SchemaError);
    expect(() => parseSchema(json)).toThrow(word);
  });

  it("prints a schema that parses back to the same schema (get_schema round trip)", () => {
    const once = schemaToJson(parseSchema(vswitchSchema));
    const twice = schemaToJson(parseSchema(once));
    expect(twice).toEqual(once);
    const bridge = (once.tables as Record<string, { columns: Record<string, unknown> }>).Bridge;
    expect(bridge.columns.flood_vlans).toEqual({
      type: { key: { type: "integer", minInteger: 0, maxInteger: 4095 }, min: 0, max: 4096 },
    });
  });

  it("computes the schema cksum exactly as ovsdb-tool schema-cksum reports it", () => {
    expect(schemaCksum(vswitchSchemaText)).toBe("3012963480 26720");
  });
});
