/**
 * ovsdb/transaction.ts — executing one RFC 7047 §5.2 "transact" request against a
 * database snapshot, and the commit-time checks of ovsdb/transaction.c.
 *
 * Phases (mirroring ovsdb_execute() then ovsdb_txn_precommit()):
 *  1. Operations run in order against a copy-on-write overlay of the committed tables:
 *     insert (with "uuid-name" and "uuid"), select, update, mutate, delete, wait,
 *     commit, abort, comment, assert. The first failing operation stops the transaction;
 *     its result slot holds the error and every later slot holds null.
 *  2. A `wait` whose test fails with a nonzero (or absent) timeout does not fail: the
 *     outcome is "blocked" and database.ts re-runs the whole request after each commit
 *     until it passes or the deadline expires.
 *  3. Precommit, in OVS's order: strong reference counts are recomputed for the rows the
 *     transaction touched; a reference to a missing row, or a deleted row that is still
 *     referenced, is a "referential integrity violation"; unreferenced rows of non-root
 *     tables are garbage-collected (cascading); weak references to rows that are gone
 *     are removed, and a column left below its minimum is a "constraint violation";
 *     then `maxRows` and index uniqueness. A failure here is appended as one extra
 *     result element and nothing is committed.
 *  4. Rows whose values did not change are dropped from the change set; modified and
 *     inserted rows get a fresh `_version`.
 *
 * Promises: `executeTransaction` never mutates the committed state it is given; it
 * returns results plus a `TxnChanges` that database.ts applies atomically.
 * Does not: write the log, notify monitors, or keep time (the caller passes elapsed ms).
 */
import { type Condition, parseWhere } from "./condition.js";
import { compareDatums, Datum, datumSubtract, datumToJson } from "./datum.js";
import { OvsdbError, syntaxError } from "./errors.js";
import { applyMutations, parseMutations } from "./mutation.js";
import { parseRowJson, Row, type RowJson, rowToJson } from "./row.js";
import type { ColumnSchema, DatabaseSchema, TableSchema } from "./schema.js";
import { atomToText, compareAtoms, type SymbolTable, UUID_RE } from "./types.js";

/** Committed contents: table name → (uuid → row), plus strong reference counts. */
export interface DbState {
  readonly schema: DatabaseSchema;
  readonly tables: ReadonlyMap<string, ReadonlyMap<string, Row>>;
  /** uuid → number of strong references to it from committed rows. */
  readonly refCounts: ReadonlyMap<string, number>;
  /** table → per schema index (same order as TableSchema.indexes): indexKey → uuid. */
  readonly indexes: ReadonlyMap<string, readonly ReadonlyMap<string, string>[]>;
}

/** One row's change: old null = inserted, new null = deleted. */
export interface RowDelta {
  readonly table: TableSchema;
  readonly uuid: string;
  readonly old: Row | null;
  readonly new: Row | null;
}

export interface TxnChanges {
  readonly rows: readonly RowDelta[];
  readonly comment: string | null;
  readonly durable: boolean;
}

export interface TxnContext {
  /** Fresh random uuids (row uuids and versions). */
  newUuid(): string;
  /** Milliseconds since the request first ran (for `wait`). */
  elapsedMs: number;
  /** Whether this session holds lock `name` (for `assert`); absent = no locks held. */
  holdsLock?: (name: string) => boolean;
}

export type TxnOutcome =
  | { kind: "done"; results: unknown[]; changes: TxnChanges | null }
  | { kind: "blocked"; retryInMs: number };

type OpResult = Record<string, unknown>;

class Blocked {
  constructor(readonly retryInMs: number) {}
}

class Symbols implements SymbolTable {
  readonly map = new Map<string, { uuid: string; created: boolean }>();
  constructor(private readonly ctx: TxnContext) {}
  resolve(name: string): string {
    let s = this.map.get(name);
    if (!s) {
      s = { uuid: this.ctx.newUuid(), created: false };
      this.map.set(name, s);
    }
    return s.uuid;
  }
}

/** The transaction's view: committed rows overlaid with its own inserts/updates/deletes. */
class Overlay {
  /** table → uuid → the row now (null = deleted by this transaction). */
  private readonly delta = new Map<string, Map<string, Row | null>>();
  /** table → uuid → committed row (null if inserted by this txn). */
  readonly touched = new Map<string, Map<string, Row | null>>();

  constructor(readonly state: DbState) {}

  private base(table: string): ReadonlyMap<string, Row> {
    return this.state.tables.get(table) ?? EMPTY_ROWS;
  }

  /** Current rows of `table`: committed order, then rows inserted by this transaction. */
  *rows(table: string): Generator<Row> {
    const d = this.delta.get(table);
    const base = this.base(table);
    for (const [u, r] of base) {
      if (!d?.has(u)) yield r;
      else {
        const x = d.get(u);
        if (x) yield x;
      }
    }
    if (d) for (const [u, r] of d) if (r && !base.has(u)) yield r;
  }

  size(table: string): number {
    const base = this.base(table);
    let n = base.size;
    const d = this.delta.get(table);
    if (d)
      for (const [u, r] of d) {
        const inBase = base.has(u);
        if (inBase && !r) n--;
        else if (!inBase && r) n++;
      }
    return n;
  }

  private set(table: string, uuid: string, row: Row | null): void {
    let t = this.touched.get(table);
    if (!t) this.touched.set(table, (t = new Map()));
    if (!t.has(uuid)) t.set(uuid, this.base(table).get(uuid) ?? null);
    let d = this.delta.get(table);
    if (!d) this.delta.set(table, (d = new Map()));
    d.set(uuid, row);
  }

  put(row: Row): void {
    this.set(row.table.name, row.uuid, row);
  }

  remove(table: string, uuid: string): void {
    this.set(table, uuid, null);
  }

  get(table: string, uuid: string): Row | undefined {
    const d = this.delta.get(table);
    if (d?.has(uuid)) return d.get(uuid) ?? undefined;
    return this.base(table).get(uuid);
  }

  wasTouched(table: string, uuid: string): boolean {
    return this.touched.get(table)?.has(uuid) ?? false;
  }
}

const EMPTY_ROWS: ReadonlyMap<string, Row> = new Map();

class Executor {
  readonly symbols: Symbols;
  readonly overlay: Overlay;
  readonly comments: string[] = [];
  durable = false;

  constructor(
    readonly state: DbState,
    readonly ctx: TxnContext,
  ) {
    this.symbols = new Symbols(ctx);
    this.overlay = new Overlay(state);
  }

  /** The op's table; `checkMembers` has already vetted presence and type. */
  tableOf(op: Record<string, unknown>): TableSchema {
    const name = op.table;
    if (typeof name !== "string") throw mismatch("table");
    const t = this.state.schema.tables.get(name);
    if (!t) throw new OvsdbError("syntax error", `No table named ${name}.`);
    return t;
  }

  where(t: TableSchema, op: Record<string, unknown>): Condition {
    if (op.where === undefined) throw missing("where");
    return parseWhere(t, op.where, this.symbols);
  }

  /** Rows of `t` matching `cond`, in table order. */
  select(t: TableSchema, cond: Condition): Row[] {
    const uuid = cond.uuid;
    if (uuid !== null) {
      const r = this.overlay.get(t.name, uuid);
      return r && cond.matches(r) ? [r] : [];
    }
    const out: Row[] = [];
    for (const r of this.overlay.rows(t.name)) if (cond.matches(r)) out.push(r);
    return out;
  }

  columnsOf(t: TableSchema, op: Record<string, unknown>): string[] | undefined {
    if (op.columns === undefined) return undefined;
    if (!Array.isArray(op.columns)) throw mismatch("columns");
    for (const c of op.columns) {
      if (typeof c !== "string") throw mismatch("columns");
      if (!t.columns.has(c)) throw syntaxError(op.columns, null, `${c} is not a valid column name`);
    }
    return op.columns as string[];
  }
}

function missing(member: string): OvsdbError {
  return new OvsdbError("syntax error", `Required '${member}' member is missing.`);
}

function mismatch(member: string): OvsdbError {
  return new OvsdbError("syntax error", `Type mismatch for member '${member}'.`);
}

type OpFn = (x: Executor, op: Record<string, unknown>) => OpResult;

/** RFC 7047 §5.2 operations. */
const OPERATIONS = {
  insert(x, op) {
    const t = x.tableOf(op);
    let uuid: string;
    if (op.uuid !== undefined) {
      if (typeof op.uuid !== "string" || !UUID_RE.test(op.uuid)) throw mismatch("uuid");
      uuid = op.uuid.toLowerCase();
      if (x.overlay.get(t.name, uuid) || x.overlay.wasTouched(t.name, uuid))
        throw syntaxError(
          op.uuid,
          "duplicate uuid",
          "This UUID would duplicate a UUID already present within the table or deleted within the same transaction.",
        );
    } else uuid = x.ctx.newUuid();
    if (op["uuid-name"] !== undefined) {
      const name = op["uuid-name"];
      if (typeof name !== "string") throw mismatch("uuid-name");
      const s = x.symbols.map.get(name);
      if (s?.created)
        throw syntaxError(
          name,
          "duplicate uuid-name",
          'This "uuid-name" appeared on an earlier "insert" operation.',
        );
      if (s) {
        // A forward reference already picked this name's uuid.
        if (op.uuid !== undefined) s.uuid = uuid;
        else uuid = s.uuid;
        s.created = true;
      } else x.symbols.map.set(name, { uuid, created: true });
    }
    const values = op.row === undefined ? new Map() : parseRowJson(t, op.row, x.symbols);
    // ovsdb-server ignores _uuid and _version in an inserted row.
    values.delete(0);
    values.delete(1);
    const row = Row.create(t, uuid, uuid);
    const vals = row.values as Datum[];
    for (const [i, d] of values) vals[i] = d;
    x.overlay.put(row);
    return { uuid: ["uuid", uuid] };
  },

  select(x, op) {
    const t = x.tableOf(op);
    const cond = x.where(t, op);
    const columns = x.columnsOf(t, op);
    // ovsdb-server answers with rows distinct in the selected columns
    // (ovsdb/query.c ovsdb_query_distinct), so a narrow projection collapses duplicates.
    const seen = new Set<string>();
    const rows: Record<string, unknown>[] = [];
    for (const r of x.select(t, cond)) {
      const json = rowToJson(r, columns);
      const key = JSON.stringify(json);
      if (seen.has(key)) continue;
      seen.add(key);
      rows.push(json);
    }
    return { rows };
  },

  update(x, op) {
    const t = x.tableOf(op);
    const cond = x.where(t, op);
    if (op.row === undefined) throw missing("row");
    const values = parseRowJson(t, op.row, x.symbols);
    for (const i of values.keys()) {
      const c = t.columnList[i];
      if (!c.mutable || c.name === "_uuid" || c.name === "_version")
        throw syntaxError(
          op,
          "constraint violation",
          `Cannot update immutable column ${c.name} in table ${t.name}.`,
        );
    }
    const rows = x.select(t, cond);
    for (const r of rows) x.overlay.put(r.with(values));
    return { count: rows.length };
  },

  mutate(x, op) {
    const t = x.tableOf(op);
    const cond = x.where(t, op);
    if (op.mutations === undefined) throw missing("mutations");
    const mutations = parseMutations(t, op.mutations, x.symbols);
    const rows = x.select(t, cond);
    for (const r of rows) x.overlay.put(r.with(applyMutations(r, mutations)));
    return { count: rows.length };
  },

  delete(x, op) {
    const t = x.tableOf(op);
    const cond = x.where(t, op);
    const rows = x.select(t, cond);
    for (const r of rows) x.overlay.remove(t.name, r.uuid);
    return { count: rows.length };
  },

  wait(x, op) {
    const t = x.tableOf(op);
    const cond = x.where(t, op);
    const columns = x.columnsOf(t, op);
    if (op.until === undefined) throw missing("until");
    if (op.until !== "==" && op.until !== "!=")
      throw syntaxError(op.until, null, '"until" must be "==" or "!="');
    if (op.rows === undefined) throw missing("rows");
    if (!Array.isArray(op.rows)) throw mismatch("rows");
    let timeout = Number.POSITIVE_INFINITY;
    if (op.timeout !== undefined) {
      if (typeof op.timeout !== "number" || !Number.isInteger(op.timeout) || op.timeout < 0)
        throw mismatch("timeout");
      timeout = op.timeout;
    }
    const cols = columns ?? t.columnList.map((c) => c.name);
    const idx = cols.map((c) => t.columns.get(c)!.index);
    const key = (vals: readonly Datum[]) =>
      JSON.stringify(idx.map((i) => datumToJson(t.columnList[i].type, vals[i])));
    const expected = new Set<string>();
    for (const rj of op.rows) {
      const parsed = parseRowJson(t, rj, x.symbols);
      const vals: Datum[] = [];
      for (const i of idx) vals[i] = parsed.get(i) ?? Row.create(t, "", "").values[i];
      expected.add(key(vals));
    }
    const actual = new Set(x.select(t, cond).map((r) => key(r.values)));
    const equal = actual.size === expected.size && [...actual].every((k) => expected.has(k));
    if (equal === (op.until === "==")) return {};
    if (x.ctx.elapsedMs >= timeout) {
      if (x.ctx.elapsedMs > 0)
        throw new OvsdbError("timed out", `"wait" timed out after ${x.ctx.elapsedMs} ms`);
      throw new OvsdbError("timed out", '"where" clause test failed');
    }
    throw new Blocked(timeout - x.ctx.elapsedMs);
  },

  commit(x, op) {
    if (op.durable === undefined) throw missing("durable");
    if (typeof op.durable !== "boolean") throw mismatch("durable");
    if (op.durable) x.durable = true;
    return {};
  },

  abort() {
    throw new OvsdbError("aborted", "aborted by request");
  },

  comment(x, op) {
    if (op.comment === undefined) throw missing("comment");
    if (typeof op.comment !== "string") throw mismatch("comment");
    x.comments.push(op.comment);
    return {};
  },

  assert(x, op) {
    if (op.lock === undefined) throw missing("lock");
    if (typeof op.lock !== "string") throw mismatch("lock");
    if (!x.ctx.holdsLock?.(op.lock))
      throw new OvsdbError("not owner", `Asserted lock ${op.lock} not held.`);
    return {};
  },
} as const satisfies Record<string, OpFn>;

type OpName = keyof typeof OPERATIONS;

type MemberType = "string" | "array" | "object" | "boolean" | "integer" | "any";
/** Members each operation takes (execution.c's ovsdb_parser calls): [type, required]. */
const OP_MEMBERS = {
  insert: {
    table: ["string", true],
    row: ["object", false],
    "uuid-name": ["string", false],
    uuid: ["string", false],
  },
  select: { table: ["string", true], where: ["array", true], columns: ["array", false] },
  update: { table: ["string", true], where: ["array", true], row: ["object", true] },
  mutate: { table: ["string", true], where: ["array", true], mutations: ["array", true] },
  delete: { table: ["string", true], where: ["array", true] },
  wait: {
    table: ["string", true],
    where: ["array", true],
    columns: ["array", false],
    until: ["string", true],
    rows: ["array", true],
    timeout: ["integer", false],
  },
  commit: { durable: ["boolean", true] },
  abort: {},
  comment: { comment: ["string", true] },
  assert: { lock: ["string", true] },
} as const satisfies Record<OpName, Record<string, readonly [MemberType, boolean]>>;

function hasType(v: unknown, t: MemberType): boolean {
  switch (t) {
    case "array":
      return Array.isArray(v);
    case "object":
      return typeof v === "object" && v !== null && !Array.isArray(v);
    case "integer":
      return typeof v === "number" && Number.isInteger(v);
    case "any":
      return true;
    default:
      return typeof v === t;
  }
}

const SPEC_ENTRIES = new WeakMap<object, [string, readonly [MemberType, boolean]][]>();

function specEntries(
  spec: Record<string, readonly [MemberType, boolean]>,
): [string, readonly [MemberType, boolean]][] {
  let e = SPEC_ENTRIES.get(spec);
  if (!e) SPEC_ENTRIES.set(spec, (e = Object.entries(spec)));
  return e;
}

/** ovsdb_parser's checks: required members present, types right, nothing extra. */
function checkMembers(
  op: Record<string, unknown>,
  spec: Record<string, readonly [MemberType, boolean]>,
): string | null {
  for (const [member, [type, required]] of specEntries(spec)) {
    const v = op[member];
    if (v === undefined) {
      if (required) return `Required '${member}' member is missing.`;
    } else if (!hasType(v, type)) return `Type mismatch for member '${member}'.`;
  }
  for (const member of Object.keys(op))
    if (member !== "op" && !Object.hasOwn(spec, member))
      return `Member '${member}' is present but not allowed here.`;
  return null;
}

/**
 * Runs `ops` (the params after the database name) against `state`. Operation errors
 * land in `results`; exceptions other than OvsdbError are bugs and propagate.
 */
export function executeTransaction(
  state: DbState,
  ops: readonly unknown[],
  ctx: TxnContext,
): TxnOutcome {
  const x = new Executor(state, ctx);
  const results: unknown[] = [];
  for (let i = 0; i < ops.length; i++) {
    const op = ops[i];
    try {
      if (typeof op !== "object" || op === null || Array.isArray(op))
        throw syntaxError(
          op,
          null,
          `Parsing ovsdb operation ${i + 1} of ${ops.length} failed: Type mismatch for member 'op'.`,
        );
      const rec = op as Record<string, unknown>;
      const name = rec.op;
      const fail = (why: string) =>
        syntaxError(op, null, `Parsing ovsdb operation ${i + 1} of ${ops.length} failed: ${why}`);
      if (name === undefined) throw fail("Required 'op' member is missing.");
      if (typeof name !== "string") throw fail("Type mismatch for member 'op'.");
      if (!Object.hasOwn(OPERATIONS, name)) throw fail(`No operation ${JSON.stringify(name)}`);
      const why = checkMembers(rec, OP_MEMBERS[name as OpName]);
      if (why) throw fail(why);
      if (typeof rec.table === "string" && !state.schema.tables.has(rec.table))
        throw fail(`No table named ${rec.table}.`);
      results.push(OPERATIONS[name as OpName](x, rec));
    } catch (e) {
      if (e instanceof Blocked) return { kind: "blocked", retryInMs: e.retryInMs };
      if (!(e instanceof OvsdbError)) throw e;
      results.push(e.toJson());
      while (results.length < ops.length) results.push(null);
      return { kind: "done", results, changes: null };
    }
  }
  try {
    const rows = precommit(x);
    return {
      kind: "done",
      results,
      changes: {
        rows,
        comment: x.comments.length ? x.comments.join("\n") : null,
        durable: x.durable,
      },
    };
  } catch (e) {
    if (!(e instanceof OvsdbError)) throw e;
    results.push(e.toJson());
    return { kind: "done", results, changes: null };
  }
}

/**
 * Per-table facts precommit asks for on every transaction, computed once per schema
 * table: the columns that hold references at all, and the columns with weak ones.
 */
interface TableRefs {
  readonly refCols: readonly ColumnSchema[];
  readonly weakCols: readonly ColumnSchema[];
  /** Tables the weak columns point into. */
  readonly weakTargets: readonly string[];
}

const TABLE_REFS = new WeakMap<TableSchema, TableRefs>();

function refsOf(t: TableSchema): TableRefs {
  let r = TABLE_REFS.get(t);
  if (!r) {
    const refCols = t.columnList.filter((c) => c.type.key.refTable || c.type.value?.refTable);
    const weakCols = refCols.filter(
      (c) =>
        (c.type.key.refTable && c.type.key.refType === "weak") ||
        (c.type.value?.refTable && c.type.value.refType === "weak"),
    );
    const weakTargets = new Set<string>();
    for (const c of weakCols) {
      if (c.type.key.refType === "weak" && c.type.key.refTable)
        weakTargets.add(c.type.key.refTable);
      if (c.type.value?.refType === "weak" && c.type.value.refTable)
        weakTargets.add(c.type.value.refTable);
    }
    r = { refCols, weakCols, weakTargets: [...weakTargets] };
    TABLE_REFS.set(t, r);
  }
  return r;
}

/** Tables of a schema that have weak-reference columns (usually few or none). */
const WEAK_TABLES = new WeakMap<DatabaseSchema, readonly TableSchema[]>();

function weakTablesOf(schema: DatabaseSchema): readonly TableSchema[] {
  let w = WEAK_TABLES.get(schema);
  if (!w) {
    w = [...schema.tables.values()].filter((t) => refsOf(t).weakCols.length > 0);
    WEAK_TABLES.set(schema, w);
  }
  return w;
}

/** Strong references made by `row`: target table → uuids (with multiplicity). */
function forEachRef(
  row: Row,
  strong: boolean,
  fn: (table: string, uuid: string, col: string) => void,
  /** Skip columns whose datum is the same object in this row (unchanged by the txn). */
  unchangedIn?: Row | null,
): void {
  for (const c of refsOf(row.table).refCols) {
    const d = row.values[c.index];
    if (unchangedIn && unchangedIn.values[c.index] === d) continue;
    const k = c.type.key;
    if (k.refTable && (k.refType === "strong") === strong)
      for (const u of d.keys) fn(k.refTable, u as string, c.name);
    const v = c.type.value;
    if (v?.refTable && (v.refType === "strong") === strong && d.values)
      for (const u of d.values) fn(v.refTable, u as string, c.name);
  }
}

/**
 * Calls `fn(table, uuid, column, delta)` for each reference (strong or weak as asked)
 * that a change from `old` to `neu` removes (delta -1) or adds (+1). Either row may be
 * null (insert, delete). Reference keys are compared by a sorted merge, so a one-element
 * change to a large set costs O(set) comparisons but only one callback.
 */
export function forEachRefChange(
  table: TableSchema,
  old: Row | null,
  neu: Row | null,
  strong: boolean,
  fn: (table: string, uuid: string, col: string, delta: number) => void,
): void {
  for (const c of refsOf(table).refCols) {
    const a = old?.values[c.index];
    const b = neu?.values[c.index];
    if (a === b) continue;
    const k = c.type.key;
    if (k.refTable && (k.refType === "strong") === strong) {
      const ak = a?.keys ?? [];
      const bk = b?.keys ?? [];
      let i = 0;
      let j = 0;
      while (i < ak.length || j < bk.length) {
        const cmp = i >= ak.length ? 1 : j >= bk.length ? -1 : compareAtoms(ak[i], bk[j]);
        if (cmp < 0) fn(k.refTable, ak[i++] as string, c.name, -1);
        else if (cmp > 0) fn(k.refTable, bk[j++] as string, c.name, 1);
        else {
          i++;
          j++;
        }
      }
    }
    const v = c.type.value;
    if (v?.refTable && (v.refType === "strong") === strong) {
      // Map values may repeat, so count them all.
      for (const u of a?.values ?? []) fn(v.refTable, u as string, c.name, -1);
      for (const u of b?.values ?? []) fn(v.refTable, u as string, c.name, 1);
    }
  }
}

/** The key of `row` in an index over columns `cols` (column indexes). */
export function indexKey(t: TableSchema, cols: readonly number[], row: Row): string {
  return JSON.stringify(cols.map((i) => datumToJson(t.columnList[i].type, row.values[i])));
}

/** "a", "a and b", "a, b, and c", as OVS's english_list_*() print lists. */
function englishList(items: readonly string[]): string {
  if (items.length <= 2) return items.join(" and ");
  return `${items.slice(0, -1).join(", ")}, and ${items[items.length - 1]}`;
}

function datumText(t: TableSchema, col: number, d: Datum): string {
  const type = t.columnList[col].type;
  const a = (x: unknown, bt = type.key) => atomToText(bt.type, x as string);
  if (type.value)
    return `{${d.keys.map((k, i) => `${a(k)}=${a(d.values![i], type.value!)}`).join(", ")}}`;
  if (type.min === 1 && type.max === 1) return a(d.keys[0]);
  return `[${d.keys.map((k) => a(k)).join(", ")}]`;
}

function precommit(x: Executor): RowDelta[] {
  const { overlay, state } = x;
  const schema = state.schema;

  // Reference-count deltas of the touched rows (update_ref_counts()).
  // Made on the first change: most transactions touch no references at all.
  let counts: Map<string, number> | null = null;
  const countOf = (u: string) => counts?.get(u) ?? state.refCounts.get(u) ?? 0;
  const bump = (u: string, by: number) => {
    const n = countOf(u) + by;
    (counts ??= new Map()).set(u, n);
  };
  // Rows that lost a reference: only they (and touched rows) can become garbage.
  const dropped: [string, string][] = [];
  for (const [table, rows] of overlay.touched) {
    if (!refsOf(schema.tables.get(table)!).refCols.length) continue;
    for (const [uuid, old] of rows) {
      // Like OVS, only references the transaction changed adjust reference counts.
      const neu = overlay.get(table, uuid) ?? null;
      forEachRefChange(schema.tables.get(table)!, old, neu, true, (rt, u, _col, delta) => {
        bump(u, delta);
        if (delta < 0) dropped.push([rt, u]);
      });
    }
  }
  for (const [table, rows] of overlay.touched) {
    if (!refsOf(schema.tables.get(table)!).refCols.length) continue;
    for (const [uuid, old] of rows) {
      const neu = overlay.get(table, uuid);
      if (!neu) continue;
      // Like update_row_ref_count(), only references this transaction added are
      // checked here; a kept reference to a deleted row is caught just below.
      forEachRefChange(schema.tables.get(table)!, old, neu, true, (rt, u, col, delta) => {
        if (delta > 0 && !overlay.get(rt, u))
          throw new OvsdbError(
            "referential integrity violation",
            `Table ${table} column ${col} row ${uuid} references nonexistent row ${u} in table ${rt}.`,
          );
      });
    }
  }
  for (const [table, rows] of overlay.touched) {
    for (const [uuid, old] of rows) {
      if (old && countOf(uuid) > 0 && !overlay.get(table, uuid))
        throw new OvsdbError(
          "referential integrity violation",
          `cannot delete ${table} row ${uuid} because of ${countOf(uuid)} remaining reference(s)`,
        );
    }
  }

  // Garbage collection of unreferenced non-root rows (collect_garbage()), cascading.
  const candidates: [string, string][] = [];
  for (const [table, rows] of overlay.touched) {
    if (schema.tables.get(table)!.isRoot) continue;
    for (const uuid of rows.keys()) candidates.push([table, uuid]);
  }
  for (const d of dropped) candidates.push(d);
  while (candidates.length) {
    const [table, uuid] = candidates.pop()!;
    const t = schema.tables.get(table)!;
    if (t.isRoot) continue;
    const row = overlay.get(table, uuid);
    if (!row || countOf(uuid) > 0) continue;
    overlay.remove(table, uuid);
    forEachRef(row, true, (rt, u) => {
      bump(u, -1);
      candidates.push([rt, u]);
    });
  }

  // Weak references to rows that no longer exist are dropped (assess_weak_refs()).
  for (const t of weakTablesOf(schema)) {
    const { weakCols, weakTargets } = refsOf(t);
    const targetsChanged = weakTargets.some((target) => overlay.touched.has(target));
    if (!targetsChanged && !overlay.touched.has(t.name)) continue;
    const rows = targetsChanged
      ? [...overlay.rows(t.name)]
      : [...(overlay.touched.get(t.name)?.keys() ?? [])]
          .map((u) => overlay.get(t.name, u))
          .filter((r): r is Row => !!r);
    for (const row of rows) {
      const fixes = new Map<number, Datum>();
      for (const c of weakCols) {
        const d = row.values[c.index];
        const kt = c.type.key.refType === "weak" ? c.type.key.refTable : null;
        const vt = c.type.value?.refType === "weak" ? c.type.value.refTable : null;
        const dropKeys = d.keys.filter(
          (k, i) =>
            (kt !== null && !overlay.get(kt, k as string)) ||
            (vt !== null && !overlay.get(vt, d.values![i] as string)),
        );
        if (!dropKeys.length) continue;
        const fixed = datumSubtract(d, new Datum(dropKeys, null));
        if (fixed.size < c.type.min)
          throw new OvsdbError(
            "constraint violation",
            `Deletion of ${dropKeys.length} weak reference(s) to deleted (or never-existing) rows from column "${c.name}" in "${t.name}" row ${row.uuid} caused this column to become empty, but constraints on this column disallow an empty column.`,
          );
        fixes.set(c.index, fixed);
      }
      if (fixes.size) overlay.put(row.with(fixes));
    }
  }

  // maxRows (check_max_rows()).
  for (const table of overlay.touched.keys()) {
    const t = schema.tables.get(table)!;
    if (t.maxRows === Number.POSITIVE_INFINITY) continue;
    const n = overlay.size(table);
    if (n > t.maxRows)
      throw new OvsdbError(
        "constraint violation",
        `transaction causes "${table}" table to contain ${n} rows, greater than the schema-defined limit of ${t.maxRows} row(s)`,
      );
  }

  // Index uniqueness (ovsdb_txn_check_index()). The committed rows were unique, so a
  // duplicate involves a row this transaction wrote: compare each written row with the
  // other written rows and with the committed row (if any) holding the same key.
  for (const [table, touched] of overlay.touched) {
    const t = schema.tables.get(table)!;
    if (!t.indexes.length) continue;
    t.indexes.forEach((ix, ixNo) => {
      const cols = ix.map((c) => t.columns.get(c)!.index);
      const seen = new Map<string, Row>();
      for (const uuid of touched.keys()) {
        const cur = overlay.get(table, uuid);
        if (!cur) continue;
        const k = indexKey(t, cols, cur);
        let prev = seen.get(k);
        let row = cur;
        if (!prev) {
          const holder = state.indexes.get(table)?.[ixNo]?.get(k);
          if (holder !== undefined && holder !== uuid && !touched.has(holder))
            prev = overlay.get(table, holder);
        }
        if (!prev) {
          seen.set(k, cur);
          continue;
        }
        // ovsdb-server describes each row by its history in this transaction.
        const how = (r: Row) => {
          if (!overlay.wasTouched(table, r.uuid))
            return "existed in the database before this transaction and was not modified by the transaction.";
          const before = touched.get(r.uuid);
          if (!before) return "was inserted by this transaction.";
          if (indexKey(t, cols, before) === indexKey(t, cols, r))
            return "existed in the database before this transaction, which modified some of the row's columns but not any columns in this index.";
          return `had the following index values before the transaction: ${englishList(cols.map((i) => datumText(t, i, before.values[i])))}.`;
        };
        // The row that was in the database comes first, as in ovsdb-server's report.
        if (touched.get(prev.uuid) === null && touched.get(row.uuid)) [prev, row] = [row, prev];
        const values = englishList(cols.map((i) => datumText(t, i, row.values[i])));
        const colText = `column${ix.length > 1 ? "s" : ""} ${englishList(ix.map((c) => `"${c}"`))}`;
        throw new OvsdbError(
          "constraint violation",
          `Transaction causes multiple rows in "${table}" table to have identical values (${values}) for index on ${colText}.  First row, with UUID ${prev.uuid}, ${how(prev)}  Second row, with UUID ${row.uuid}, ${how(row)}`,
        );
      }
    });
  }

  // The change set: drop no-op changes, give changed rows a new _version.
  const out: RowDelta[] = [];
  for (const [table, rows] of overlay.touched) {
    const t = schema.tables.get(table)!;
    for (const [uuid, old] of rows) {
      let neu = overlay.get(table, uuid) ?? null;
      if (!old && !neu) continue;
      if (old && neu) {
        let changed = false;
        for (let i = 2; i < t.columnList.length && !changed; i++)
          if (compareDatums(old.values[i], neu.values[i]) !== 0) changed = true;
        if (!changed) continue;
      }
      if (neu) {
        const values = neu.values.slice();
        values[1] = Datum.scalar(x.ctx.newUuid());
        neu = new Row(t, values);
      }
      out.push({ table: t, uuid, old, new: neu });
    }
  }
  return out;
}

export type { RowJson };
