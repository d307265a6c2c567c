/**
 * ovsdb/schema.ts — database schemas (RFC 7047 §3.2): parsing, validation, printing,
 * and the schema checksum.
 *
 * Promises: `parseSchema` accepts what ovsdb-server accepts — tables with `columns`,
 * `maxRows`, `isRoot`, `indexes`; columns with `type`, `ephemeral`, `mutable`; types with
 * `key`/`value`/`min`/`max` and base types with `enum`, `minInteger`..`maxLength`,
 * `refTable`, `refType` — and rejects the rest with a `SchemaError` naming the member.
 * Every table gets the implicit `_uuid` and `_version` columns. As in OVS, if no table
 * says `isRoot`, every table is a root table. `schemaToJson` prints a schema as
 * ovsdb_schema_to_json() does (for `get_schema`). `schemaCksum` is what
 * `ovsdb-tool schema-cksum` reports for a schema file whose `cksum` is stale: the POSIX
 * `cksum` of the file text with every line containing "cksum" removed.
 * Does not: read files (callers pass text or JSON) or upgrade/convert schemas.
 */
import { type Datum, datumFromJson } from "./datum.js";
import { SchemaError } from "./errors.js";
import {
  ATOMIC_TYPES,
  type AtomicType,
  type BaseType,
  baseType,
  type ColumnType,
  INT64_MAX,
  INT64_MIN,
  type RefType,
  scalarType,
} from "./types.js";

export interface ColumnSchema {
  readonly name: string;
  readonly type: ColumnType;
  /** Not written to the log (RFC 7047 §3.2 "ephemeral"). */
  readonly ephemeral: boolean;
  /** False: set at insert, never changed by update/mutate. */
  readonly mutable: boolean;
  /** Position in `TableSchema.columnList`; `_uuid` is 0 and `_version` 1. */
  readonly index: number;
}

export interface TableSchema {
  readonly name: string;
  /** All columns including `_uuid` and `_version`, by name. */
  readonly columns: ReadonlyMap<string, ColumnSchema>;
  /** Same columns in order: `_uuid`, `_version`, then the schema's order. */
  readonly columnList: readonly ColumnSchema[];
  /** Infinity if unlimited. */
  readonly maxRows: number;
  readonly isRoot: boolean;
  /** Each index is a list of user column names whose combined values are unique. */
  readonly indexes: readonly (readonly string[])[];
}

export interface DatabaseSchema {
  readonly name: string;
  readonly version: string;
  readonly cksum: string | null;
  readonly tables: ReadonlyMap<string, TableSchema>;
}

const ID_RE = /^[A-Za-z_][A-Za-z0-9_]*$/;
const VERSION_RE = /^\d+\.\d+\.\d+$/;
const TABLE_MEMBERS = new Set(["columns", "maxRows", "isRoot", "indexes"]);
const COLUMN_MEMBERS = new Set(["type", "ephemeral", "mutable"]);
const SCHEMA_MEMBERS = new Set(["name", "version", "cksum", "tables"]);
const BASE_MEMBERS = new Set([
  "type",
  "enum",
  "minInteger",
  "maxInteger",
  "minReal",
  "maxReal",
  "minLength",
  "maxLength",
  "refTable",
  "refType",
]);

function isObject(x: unknown): x is Record<string, unknown> {
  return typeof x === "object" && x !== null && !Array.isArray(x);
}

function checkMembers(obj: Record<string, unknown>, allowed: Set<string>, path: string): void {
  for (const k of Object.keys(obj))
    if (!allowed.has(k)) throw new SchemaError(path, `unknown member "${k}"`);
}

function intMember(obj: Record<string, unknown>, key: string, path: string): number | undefined {
  const v = obj[key];
  if (v === undefined) return undefined;
  if (typeof v !== "number" || !Number.isInteger(v))
    throw new SchemaError(`${path}.${key}`, "must be an integer");
  return v;
}

function realMember(obj: Record<string, unknown>, key: string, path: string): number | undefined {
  const v = obj[key];
  if (v === undefined) return undefined;
  if (typeof v !== "number") throw new SchemaError(`${path}.${key}`, "must be a number");
  return v;
}

function boolMember(obj: Record<string, unknown>, key: string, path: string): boolean | undefined {
  const v = obj[key];
  if (v === undefined) return undefined;
  if (typeof v !== "boolean") throw new SchemaError(`${path}.${key}`, "must be true or false");
  return v;
}

function atomicType(json: unknown, path: string): AtomicType {
  if (typeof json === "string" && (ATOMIC_TYPES as readonly string[]).includes(json))
    return json as AtomicType;
  throw new SchemaError(path, `${JSON.stringify(json)} is not an atomic type`);
}

/** RFC 7047 §3.2 <base-type>. */
export function parseBaseType(json: unknown, path: string): BaseType {
  if (typeof json === "string") return baseType(atomicType(json, path));
  if (!isObject(json)) throw new SchemaError(path, "base type must be a string or an object");
  checkMembers(json, BASE_MEMBERS, path);
  const type = atomicType(json.type, `${path}.type`);
  const o: { -readonly [K in keyof BaseType]?: BaseType[K] } = {};
  const only = (key: string, t: AtomicType[]) => {
    if (json[key] !== undefined && !t.includes(type))
      throw new SchemaError(`${path}.${key}`, `not allowed for type ${type}`);
  };
  only("minInteger", ["integer"]);
  only("maxInteger", ["integer"]);
  only("minReal", ["real"]);
  only("maxReal", ["real"]);
  only("minLength", ["string"]);
  only("maxLength", ["string"]);
  only("refTable", ["uuid"]);
  o.minInteger = intMember(json, "minInteger", path);
  o.maxInteger = intMember(json, "maxInteger", path);
  o.minReal = realMember(json, "minReal", path);
  o.maxReal = realMember(json, "maxReal", path);
  o.minLength = intMember(json, "minLength", path);
  o.maxLength = intMember(json, "maxLength", path);
  for (const k of Object.keys(o) as (keyof typeof o)[]) if (o[k] === undefined) delete o[k];
  const b0 = baseType(type, o);
  if (b0.minInteger > b0.maxInteger) throw new SchemaError(path, "minInteger exceeds maxInteger");
  if (b0.minReal > b0.maxReal) throw new SchemaError(path, "minReal exceeds maxReal");
  if (b0.minLength > b0.maxLength) throw new SchemaError(path, "minLength exceeds maxLength");
  if (b0.minLength < 0) throw new SchemaError(path, "minLength must be nonnegative");
  let refTable: string | null = null;
  let refType: RefType = "strong";
  if (json.refTable !== undefined) {
    if (typeof json.refTable !== "string" || !ID_RE.test(json.refTable))
      throw new SchemaError(`${path}.refTable`, "must be a table name");
    refTable = json.refTable;
    if (json.refType !== undefined) {
      if (json.refType !== "strong" && json.refType !== "weak")
        throw new SchemaError(`${path}.refType`, 'must be "strong" or "weak"');
      refType = json.refType;
    }
  } else if (json.refType !== undefined) {
    throw new SchemaError(`${path}.refType`, "refType requires refTable");
  }
  let enumAtoms: Datum | null = null;
  if (json.enum !== undefined) {
    const enumType: ColumnType = {
      key: baseType(type),
      value: null,
      min: 1,
      max: Number.POSITIVE_INFINITY,
    };
    try {
      enumAtoms = datumFromJson(enumType, json.enum);
    } catch (e) {
      throw new SchemaError(`${path}.enum`, (e as Error).message);
    }
  }
  return { ...b0, refTable, refType, enum: enumAtoms ? enumAtoms.keys : null };
}

/** RFC 7047 §3.2 <type>. */
export function parseColumnType(json: unknown, path: string): ColumnType {
  if (typeof json === "string") return scalarType(atomicType(json, path));
  if (!isObject(json)) throw new SchemaError(path, "type must be a string or an object");
  checkMembers(json, new Set(["key", "value", "min", "max"]), path);
  if (json.key === undefined) throw new SchemaError(path, 'missing required member "key"');
  const key = parseBaseType(json.key, `${path}.key`);
  const value = json.value === undefined ? null : parseBaseType(json.value, `${path}.value`);
  const min = intMember(json, "min", path) ?? 1;
  let max = 1;
  if (json.max === "unlimited") max = Number.POSITIVE_INFINITY;
  else if (json.max !== undefined) {
    if (typeof json.max !== "number" || !Number.isInteger(json.max))
      throw new SchemaError(`${path}.max`, 'must be a positive integer or "unlimited"');
    max = json.max;
  }
  if (min !== 0 && min !== 1) throw new SchemaError(`${path}.min`, "must be 0 or 1");
  if (max < 1) throw new SchemaError(`${path}.max`, "must be at least 1");
  if (max < min) throw new SchemaError(path, "max is less than min");
  return { key, value, min, max };
}

const UUID_COLUMN = (index: number): ColumnSchema => ({
  name: "_uuid",
  type: scalarType("uuid"),
  ephemeral: false,
  mutable: false,
  index,
});
const VERSION_COLUMN = (index: number): ColumnSchema => ({
  name: "_version",
  type: scalarType("uuid"),
  ephemeral: true,
  mutable: false,
  index,
});

function parseTable(
  name: string,
  json: unknown,
  path: string,
): TableSchema & { rootGiven: boolean } {
  if (!isObject(json)) throw new SchemaError(path, "table must be an object");
  checkMembers(json, TABLE_MEMBERS, path);
  if (!isObject(json.columns)) throw new SchemaError(path, 'missing required member "columns"');
  const columnList: ColumnSchema[] = [UUID_COLUMN(0), VERSION_COLUMN(1)];
  for (const [cname, cjson] of Object.entries(json.columns)) {
    const cpath = `${path}.columns.${cname}`;
    if (!ID_RE.test(cname)) throw new SchemaError(cpath, "column name is not a valid identifier");
    if (cname.startsWith("_"))
      throw new SchemaError(cpath, 'names beginning with "_" are reserved');
    if (!isObject(cjson)) throw new SchemaError(cpath, "column must be an object");
    checkMembers(cjson, COLUMN_MEMBERS, cpath);
    if (cjson.type === undefined) throw new SchemaError(cpath, 'missing required member "type"');
    columnList.push({
      name: cname,
      type: parseColumnType(cjson.type, `${cpath}.type`),
      ephemeral: boolMember(cjson, "ephemeral", cpath) ?? false,
      mutable: boolMember(cjson, "mutable", cpath) ?? true,
      index: columnList.length,
    });
  }
  const columns = new Map(columnList.map((c) => [c.name, c]));
  let maxRows = Number.POSITIVE_INFINITY;
  if (json.maxRows !== undefined) {
    const m = intMember(json, "maxRows", path)!;
    if (m < 1) throw new SchemaError(`${path}.maxRows`, "must be at least 1");
    maxRows = m;
  }
  const isRoot = boolMember(json, "isRoot", path);
  const indexes: string[][] = [];
  if (json.indexes !== undefined) {
    if (!Array.isArray(json.indexes)) throw new SchemaError(`${path}.indexes`, "must be an array");
    json.indexes.forEach((ix, i) => {
      const ipath = `${path}.indexes[${i}]`;
      if (!Array.isArray(ix) || ix.length === 0)
        throw new SchemaError(ipath, "index must be a nonempty array of column names");
      const names: string[] = [];
      for (const c of ix) {
        const col = typeof c === "string" ? columns.get(c) : undefined;
        if (!col) throw new SchemaError(ipath, `${JSON.stringify(c)} is not a column`);
        if (col.ephemeral)
          throw new SchemaError(ipath, `ephemeral columns (such as ${c}) may not be indexed`);
        if (names.includes(c as string))
          throw new SchemaError(ipath, `column ${c} appears twice in an index`);
        names.push(c as string);
      }
      indexes.push(names);
    });
  }
  return {
    name,
    columns,
    columnList,
    maxRows,
    isRoot: isRoot ?? false,
    rootGiven: isRoot === true,
    indexes,
  };
}

/** Parses and validates a schema (RFC 7047 §3.2). Throws SchemaError. */
export function parseSchema(json: unknown): DatabaseSchema {
  if (!isObject(json)) throw new SchemaError("schema", "must be a JSON object");
  checkMembers(json, SCHEMA_MEMBERS, "schema");
  if (typeof json.name !== "string" || !ID_RE.test(json.name))
    throw new SchemaError("schema.name", "must be an identifier");
  if (typeof json.version !== "string" || !VERSION_RE.test(json.version))
    throw new SchemaError("schema.version", 'must be a version string "<x>.<y>.<z>"');
  if (json.cksum !== undefined && typeof json.cksum !== "string")
    throw new SchemaError("schema.cksum", "must be a string");
  if (!isObject(json.tables)) throw new SchemaError("schema", 'missing required member "tables"');
  const parsed: (TableSchema & { rootGiven: boolean })[] = [];
  for (const [tname, tjson] of Object.entries(json.tables)) {
    if (!ID_RE.test(tname))
      throw new SchemaError(`tables.${tname}`, "table name is not a valid identifier");
    if (tname.startsWith("_"))
      throw new SchemaError(`tables.${tname}`, 'names beginning with "_" are reserved');
    parsed.push(parseTable(tname, tjson, `tables.${tname}`));
  }
  const names = new Set(parsed.map((t) => t.name));
  for (const t of parsed)
    for (const c of t.columnList)
      for (const b of [c.type.key, c.type.value])
        if (b?.refTable && !names.has(b.refTable))
          throw new SchemaError(
            `tables.${t.name}.columns.${c.name}`,
            `refTable "${b.refTable}" is not a table in the schema`,
          );
  // OVS: schemas from before isRoot existed have no root table; then every table is root.
  const anyRoot = parsed.some((t) => t.rootGiven);
  const tables = new Map<string, TableSchema>();
  for (const { rootGiven: _, ...t } of parsed)
    tables.set(t.name, { ...t, isRoot: anyRoot ? t.isRoot : true });
  return {
    name: json.name,
    version: json.version,
    cksum: (json.cksum as string | undefined) ?? null,
    tables,
  };
}

function baseTypeToJson(b: BaseType): unknown {
  const o: Record<string, unknown> = { type: b.type };
  if (b.enum)
    o.enum =
      b.enum.length === 1 ? atomJson(b, b.enum[0]) : ["set", b.enum.map((a) => atomJson(b, a))];
  if (b.minInteger !== INT64_MIN) o.minInteger = b.minInteger;
  if (b.maxInteger !== INT64_MAX) o.maxInteger = b.maxInteger;
  if (b.minReal !== -Number.MAX_VALUE) o.minReal = b.minReal;
  if (b.maxReal !== Number.MAX_VALUE) o.maxReal = b.maxReal;
  if (b.minLength !== 0) o.minLength = b.minLength;
  if (b.maxLength !== 2 ** 32 - 1) o.maxLength = b.maxLength;
  if (b.refTable) {
    o.refTable = b.refTable;
    if (b.refType !== "strong") o.refType = b.refType;
  }
  return Object.keys(o).length === 1 ? b.type : o;
}

function atomJson(b: BaseType, a: unknown): unknown {
  return b.type === "uuid" ? ["uuid", a] : a;
}

export function columnTypeToJson(t: ColumnType): unknown {
  const key = baseTypeToJson(t.key);
  if (!t.value && t.min === 1 && t.max === 1 && typeof key === "string") return key;
  const o: Record<string, unknown> = { key };
  if (t.value) o.value = baseTypeToJson(t.value);
  if (t.min !== 1) o.min = t.min;
  if (t.max !== 1) o.max = t.max === Number.POSITIVE_INFINITY ? "unlimited" : t.max;
  return o;
}

/** Schema → JSON as ovsdb_schema_to_json() prints it (the `get_schema` reply). */
export function schemaToJson(schema: DatabaseSchema): Record<string, unknown> {
  const allRoot = [...schema.tables.values()].every((t) => t.isRoot);
  const tables: Record<string, unknown> = {};
  for (const t of schema.tables.values()) {
    const columns: Record<string, unknown> = {};
    for (const c of t.columnList) {
      if (c.name.startsWith("_")) continue;
      const cj: Record<string, unknown> = { type: columnTypeToJson(c.type) };
      if (c.ephemeral) cj.ephemeral = true;
      if (!c.mutable) cj.mutable = false;
      columns[c.name] = cj;
    }
    const tj: Record<string, unknown> = { columns };
    if (t.maxRows !== Number.POSITIVE_INFINITY) tj.maxRows = t.maxRows;
    if (t.isRoot && !allRoot) tj.isRoot = true;
    if (t.indexes.length) tj.indexes = t.indexes.map((ix) => [...ix]);
    tables[t.name] = tj;
  }
  const out: Record<string, unknown> = { name: schema.name, version: schema.version };
  if (schema.cksum !== null) out.cksum = schema.cksum;
  out.tables = tables;
  return out;
}

let crcTable: Uint32Array | null = null;

/** POSIX `cksum` (CRC-32/CKSUM over the bytes, then the length) → "crc length". */
export function posixCksum(bytes: Uint8Array): string {
  if (!crcTable) {
    crcTable = new Uint32Array(256);
    for (let i = 0; i < 256; i++) {
      let c = i << 24;
      for (let k = 0; k < 8; k++) c = c & 0x80000000 ? (c << 1) ^ 0x04c11db7 : c << 1;
      crcTable[i] = c >>> 0;
    }
  }
  const t = crcTable;
  let crc = 0;
  const step = (b: number) => {
    crc = ((crc << 8) ^ t[((crc >>> 24) ^ b) & 0xff]) >>> 0;
  };
  for (let i = 0; i < bytes.length; i++) step(bytes[i]);
  for (let n = bytes.length; n > 0; n = Math.floor(n / 256)) step(n & 0xff);
  return `${~crc >>> 0} ${bytes.length}`;
}

/**
 * The schema checksum, as build-aux/cksum-schema-check and `ovsdb-tool schema-cksum`
 * define it: `cksum` of the schema file with every line that contains "cksum" deleted.
 */
export function schemaCksum(schemaText: string): string {
  const kept = schemaText
    .split("\n")
    .filter((line) => !line.includes("cksum"))
    .join("\n");
  return posixCksum(new TextEncoder().encode(kept));
}

/** A table's schema, or a SchemaError naming the table. */
export function tableSchema(schema: DatabaseSchema, name: string): TableSchema {
  const t = schema.tables.get(name);
  if (!t) throw new SchemaError(`tables.${name}`, "no such table");
  return t;
}
