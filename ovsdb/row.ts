/**
 * ovsdb/row.ts — one row of one table: its uuid, version and one datum per column.
 *
 * Promises: a `Row` is immutable once it is in a database; a transaction that changes
 * a row builds a new `Row` (copy-on-write), so readers holding a committed row never
 * see a half-applied transaction. `values[c.index]` is column c's datum; index 0 is
 * `_uuid` and 1 is `_version`. `rowToJson`/`rowFromJson` speak RFC 7047 §5.1 <row>.
 * Does not: check constraints or references (transaction.ts does).
 */

import { Datum, datumFromJson, datumToJson, defaultDatum } from "./datum.js";
import { OvsdbError, syntaxError } from "./errors.js";
import type { TableSchema } from "./schema.js";
import type { SymbolTable } from "./types.js";

/** A row in RFC 7047 notation: column name → value JSON. */
export type RowJson = Record<string, unknown>;

export class Row {
  constructor(
    readonly table: TableSchema,
    readonly values: readonly Datum[],
  ) {}

  get uuid(): string {
    return this.values[0].keys[0] as string;
  }

  get version(): string {
    return this.values[1].keys[0] as string;
  }

  /** The datum of column `name`; throws if the table has no such column. */
  get(name: string): Datum {
    const c = this.table.columns.get(name);
    if (!c)
      throw new OvsdbError("unknown column", `No column ${name} in table ${this.table.name}.`);
    return this.values[c.index];
  }

  /** A copy with some columns replaced (by column index). */
  with(changes: ReadonlyMap<number, Datum>): Row {
    const values = this.values.slice();
    for (const [i, d] of changes) values[i] = d;
    return new Row(this.table, values);
  }

  /** A new row with every column at its default. */
  static create(table: TableSchema, uuid: string, version: string): Row {
    const values = defaultValues(table).slice();
    values[0] = Datum.scalar(uuid);
    // One datum serves both when they are equal (an insert's provisional version).
    values[1] = version === uuid ? values[0] : Datum.scalar(version);
    return new Row(table, values);
  }
}

/** Per table, every column's default datum (shared, immutable), for `Row.create`. */
const DEFAULT_VALUES = new WeakMap<TableSchema, readonly Datum[]>();

function defaultValues(table: TableSchema): readonly Datum[] {
  let values = DEFAULT_VALUES.get(table);
  if (!values) {
    values = table.columnList.map((c) => defaultDatum(c.type));
    DEFAULT_VALUES.set(table, values);
  }
  return values;
}

/**
 * Row → RFC 7047 <row> JSON. `columns` restricts and orders the output; by default
 * every column, `_uuid` and `_version` included.
 */
export function rowToJson(row: Row, columns?: readonly string[]): RowJson {
  const out: RowJson = {};
  if (columns) {
    for (const name of columns) {
      const c = row.table.columns.get(name);
      if (c) out[name] = datumToJson(c.type, row.values[c.index]);
    }
  } else {
    for (const c of row.table.columnList) out[c.name] = datumToJson(c.type, row.values[c.index]);
  }
  return out;
}

/**
 * RFC 7047 <row> JSON → column index → datum, for insert/update. Unknown columns are
 * "unknown column" errors with the row as syntax, as ovsdb-server reports them.
 */
export function parseRowJson(
  table: TableSchema,
  json: unknown,
  symtab: SymbolTable | null,
): Map<number, Datum> {
  if (typeof json !== "object" || json === null || Array.isArray(json))
    throw syntaxError(json, null, "Type mismatch for member 'row'.");
  const out = new Map<number, Datum>();
  const row = json as Record<string, unknown>;
  for (const name in row) {
    if (!Object.hasOwn(row, name)) continue;
    const c = table.columns.get(name);
    if (!c) throw syntaxError(json, "unknown column", `No column ${name} in table ${table.name}.`);
    out.set(c.index, datumFromJson(c.type, row[name], symtab));
  }
  return out;
}

/**
 * `parseRowJson` straight into a row's value array (`values[c.index]` per member, in
 * member order, same errors), for insert: no map in between. `json` must be an object.
 */
export function parseRowInto(
  table: TableSchema,
  json: object,
  symtab: SymbolTable | null,
  values: Datum[],
): void {
  const row = json as Record<string, unknown>;
  for (const name in row) {
    if (!Object.hasOwn(row, name)) continue;
    const c = table.columns.get(name);
    if (!c) throw syntaxError(json, "unknown column", `No column ${name} in table ${table.name}.`);
    values[c.index] = datumFromJson(c.type, row[name], symtab);
  }
}
