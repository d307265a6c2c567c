/**
 * OVSDB monitors (RFC 7047 section 4.1.5-4.1.7; ovsdb/monitor.c; the `monitor_cond`,
 * `monitor_cond_since` and `update2`/`update3` extensions of ovsdb-server(7)).
 *
 * A monitor is one client's standing query: for each table, the columns it wants, which
 * kinds of change it wants ("select": initial, insert, delete, modify) and, for
 * monitor_cond*, a condition rows must satisfy. The server feeds every committed
 * transaction's row changes through each monitor, which turns them into the
 * "table-updates" object of its protocol version:
 *
 * - v1 (`monitor` → `update`): `{"new": whole row}` / `{"old": whole row}` /
 *   modify as `{"new": whole row, "old": changed columns only}`.
 * - v2/v3 (`monitor_cond` → `update2`, `monitor_cond_since` → `update3`): `initial`
 *   and `insert` carry the columns that differ from their default, `"delete": null`,
 *   and `modify` carries only changed columns, each as a diff: the new value for a
 *   scalar or optional value, the symmetric difference for a set, changed/added/removed
 *   pairs for a map.
 *
 * A row that starts or stops satisfying the condition is reported as an insert or a
 * delete, so the client's replica always equals "rows matching the condition".
 *
 * Promises: pure functions of (monitor, row changes); rows travel in RFC 7047 JSON
 * (one value per column, as the engine prints it), so comparing two values is comparing
 * their text. Does not: talk to sockets, keep history (server.ts keeps the bounded
 * transaction history for monitor_cond_since), or evaluate conditions itself (the
 * caller supplies a compiled matcher).
 */

import { datumDiff, datumFromJson, datumToJson, defaultDatum } from "./datum.js";
import type { Json } from "./jsonrpc.js";
import type { ColumnType } from "./types.js";

/** One row as `{column: RFC 7047 datum JSON}`. */
export type JsonRow = { [column: string]: Json };

/** A committed change of one row; null `old` for an insert, null `new` for a delete. */
export interface JsonRowChange {
  readonly table: string;
  readonly uuid: string;
  readonly old: JsonRow | null;
  readonly new: JsonRow | null;
}

export type MonitorVersion = 1 | 2 | 3;

export interface MonitorSelect {
  initial: boolean;
  insert: boolean;
  delete: boolean;
  modify: boolean;
}

/** Decides whether a row satisfies a table's monitor condition. */
export type RowMatcher = (row: JsonRow) => boolean;

export interface TableMonitor {
  readonly table: string;
  /** Monitored column names in request order (first mention wins). */
  readonly columns: string[];
  /** Type of each monitored column, for defaults and diffs. */
  readonly types: ReadonlyMap<string, ColumnType>;
  readonly select: MonitorSelect;
  /** null: every row. */
  matcher: RowMatcher | null;
  /** The condition JSON as the client sent it (kept for monitor_cond_change). */
  where: Json | null;
}

export class Monitor {
  constructor(
    readonly version: MonitorVersion,
    /** The client's monitor id ("json-value"); v1 with a null id is allowed. */
    readonly id: Json,
    readonly dbName: string,
    readonly tables: Map<string, TableMonitor>,
  ) {}

  get notifyMethod(): "update" | "update2" | "update3" {
    return this.version === 1 ? "update" : this.version === 2 ? "update2" : "update3";
  }

  /**
   * The reply's table-updates for the current contents. `rows(table)` yields every row
   * of a table in full JSON.
   */
  initial(rows: (table: string) => Iterable<[string, JsonRow]>): { [table: string]: Json } {
    const out: { [table: string]: { [uuid: string]: Json } } = {};
    for (const tm of this.tables.values()) {
      if (!tm.select.initial) continue;
      for (const [uuid, row] of rows(tm.table)) {
        if (tm.matcher && !tm.matcher(row)) continue;
        const update: Json =
          this.version === 1 ? { new: project(tm, row) } : { initial: nonDefault(tm, row) };
        (out[tm.table] ??= {})[uuid] = update;
      }
    }
    return out;
  }

  /** The table-updates for a batch of changes, or null when nothing monitored changed. */
  updates(changes: Iterable<JsonRowChange>): { [table: string]: Json } | null {
    let out: { [table: string]: { [uuid: string]: Json } } | null = null;
    for (const ch of changes) {
      const tm = this.tables.get(ch.table);
      if (!tm) continue;
      const u = this.rowUpdate(tm, ch.old, ch.new);
      if (u === null) continue;
      out ??= {};
      (out[ch.table] ??= {})[ch.uuid] = u;
    }
    return out;
  }

  /** Rows entering or leaving a table's condition when it changes (monitor_cond_change). */
  conditionChange(
    tm: TableMonitor,
    oldMatcher: RowMatcher | null,
    rows: Iterable<[string, JsonRow]>,
  ): { [uuid: string]: Json } {
    const out: { [uuid: string]: Json } = {};
    for (const [uuid, row] of rows) {
      const was = oldMatcher ? oldMatcher(row) : true;
      const is = tm.matcher ? tm.matcher(row) : true;
      if (was === is) continue;
      out[uuid] = is ? { insert: nonDefault(tm, row) } : { delete: null };
    }
    return out;
  }

  private rowUpdate(tm: TableMonitor, old: JsonRow | null, neu: JsonRow | null): Json | null {
    const oldIn = old !== null && (!tm.matcher || tm.matcher(old));
    const newIn = neu !== null && (!tm.matcher || tm.matcher(neu));
    if (oldIn && newIn) {
      if (!tm.select.modify) return null;
      return this.version === 1 ? modifyV1(tm, old!, neu!) : modifyV2(tm, old!, neu!);
    }
    if (newIn) {
      if (!tm.select.insert) return null;
      return this.version === 1 ? { new: project(tm, neu!) } : { insert: nonDefault(tm, neu!) };
    }
    if (oldIn) {
      if (!tm.select.delete) return null;
      return this.version === 1 ? { old: project(tm, old!) } : { delete: null };
    }
    return null;
  }
}

function project(tm: TableMonitor, row: JsonRow): JsonRow {
  const out: JsonRow = {};
  for (const c of tm.columns) {
    const v = row[c];
    if (v !== undefined) out[c] = v;
  }
  return out;
}

function nonDefault(tm: TableMonitor, row: JsonRow): JsonRow {
  const out: JsonRow = {};
  for (const c of tm.columns) {
    const v = row[c];
    if (v === undefined) continue;
    const t = tm.types.get(c);
    if (t && JSON.stringify(v) === defaultDatumText(t)) continue;
    out[c] = v;
  }
  return out;
}

function modifyV1(tm: TableMonitor, old: JsonRow, neu: JsonRow): Json | null {
  const changed: JsonRow = {};
  let any = false;
  for (const c of tm.columns) {
    const a = old[c];
    const b = neu[c];
    if (a === undefined || b === undefined) continue;
    if (JSON.stringify(a) !== JSON.stringify(b)) {
      changed[c] = a;
      any = true;
    }
  }
  return any ? { new: project(tm, neu), old: changed } : null;
}

function modifyV2(tm: TableMonitor, old: JsonRow, neu: JsonRow): Json | null {
  const diff: JsonRow = {};
  let any = false;
  for (const c of tm.columns) {
    const a = old[c];
    const b = neu[c];
    if (a === undefined || b === undefined) continue;
    if (JSON.stringify(a) === JSON.stringify(b)) continue;
    const t = tm.types.get(c);
    diff[c] = t ? jsonDatumDiff(t, a, b) : b;
    any = true;
  }
  return any ? { modify: diff } : null;
}

const defaultTextCache = new WeakMap<ColumnType, string>();

/** The JSON text of a column's default datum (ovsdb_datum_init_default). */
export function defaultDatumText(t: ColumnType): string {
  let s = defaultTextCache.get(t);
  if (s === undefined) {
    s = JSON.stringify(defaultDatumJson(t));
    defaultTextCache.set(t, s);
  }
  return s;
}

/** A column's default value in JSON (ovsdb_datum_init_default). */
export function defaultDatumJson(t: ColumnType): Json {
  return datumToJson(t, defaultDatum(t)) as Json;
}

/**
 * The update2 "modify" value of a column (ovsdb_datum_diff): the new value of a column
 * holding at most one element, the symmetric difference of a set, and for a map the
 * pairs that are new or whose value changed (with the new value) plus the removed
 * pairs (with the old one). Checked against ovsdb-server 3.1 in test/interop.
 */
export function jsonDatumDiff(t: ColumnType, a: Json, b: Json): Json {
  if (!t.value && t.max === 1) return b;
  // A diff may hold more or fewer elements than the column allows.
  const loose: ColumnType = { ...t, min: 0, max: Number.POSITIVE_INFINITY };
  return datumToJson(t, datumDiff(datumFromJson(loose, a), datumFromJson(loose, b))) as Json;
}

/**
 * Collapses a run of transactions into one change per row (first `old`, last `new`),
 * dropping rows that were created and deleted within the run. Used to answer
 * monitor_cond_since from history.
 */
export function collapseChanges(runs: Iterable<readonly JsonRowChange[]>): JsonRowChange[] {
  const byRow = new Map<string, JsonRowChange>();
  for (const run of runs) {
    for (const ch of run) {
      const key = `${ch.table}\u0000${ch.uuid}`;
      const prev = byRow.get(key);
      byRow.set(key, prev ? { table: ch.table, uuid: ch.uuid, old: prev.old, new: ch.new } : ch);
    }
  }
  const out: JsonRowChange[] = [];
  for (const ch of byRow.values()) if (ch.old !== null || ch.new !== null) out.push(ch);
  return out;
}
