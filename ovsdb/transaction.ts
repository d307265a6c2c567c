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
import { parseRowInto, parseRowJson, Row, type RowJson, rowToJson } from "./row.js";
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
  /** Made on first use: most transactions name no uuids. */
  private names: Map<string, { uuid: string; created: boolean }> | null = null;
  constructor(private readonly ctx: TxnContext) {}
  get map(): Map<string, { uuid: string; created: boolean }> {
    this.names ??= new Map();
    return this.names;
  }
  resolve(name: string): string {
    let s = this.map.get(name);
    if (!s) {
      s = { uuid: this.ctx.newUuid(), created: false };
      this.map.set(name, s);
    }
    return s.uuid;
  }
}

/** A row the transaction touched: the committed row (null if inserted) and the row now. */
interface Touched {
  readonly uuid: string;
  readonly old: Row | null;
  /** Null once deleted by this transaction. */
  cur: Row | null;
}

/** One table's touched rows: in first-touch order (the change set's order) and by uuid. */
interface TouchedTable {
  readonly name: string;
  readonly list: Touched[];
  readonly byUuid: Map<string, Touched>;
}

/**
 * The transaction's view: committed rows overlaid with its own inserts/updates/deletes.
 * The touched tables are a short array (a transaction touches a few of a schema's
 * tables), so the per-transaction passes walk arrays, with no iterator objects.
 */
class Overlay {
  /** Tables in first-touch order. */
  readonly tables: TouchedTable[] = [];
  /** Whether `remove` was ever called (deletions need the reference check). */
  removed = false;

  constructor(readonly state: DbState) {}

  private base(table: string): ReadonlyMap<string, Row> {
    return this.state.tables.get(table) ?? EMPTY_ROWS;
  }

  /** The touched rows of `table`, if any. */
  touched(table: string): TouchedTable | undefined {
    const tables = this.tables;
    for (let i = 0; i < tables.length; i++) if (tables[i].name === table) return tables[i];
    return undefined;
  }

  /** Current rows of `table`: committed order, then rows inserted by this transaction. */
  *rows(table: string): Generator<Row> {
    const d = this.touched(table);
    const base = this.base(table);
    for (const [u, r] of base) {
      const e = d?.byUuid.get(u);
      if (!e) yield r;
      else if (e.cur) yield e.cur;
    }
    if (d) for (const e of d.list) if (e.cur && !e.old) yield e.cur;
  }

  size(table: string): number {
    let n = this.base(table).size;
    const d = this.touched(table);
    if (d)
      for (const e of d.list) {
        if (e.old && !e.cur) n--;
        else if (!e.old && e.cur) n++;
      }
    return n;
  }

  private set(table: string, uuid: string, row: Row | null): void {
    const e = this.touched(table)?.byUuid.get(uuid);
    if (e) e.cur = row;
    else this.add(table, { uuid, old: this.base(table).get(uuid) ?? null, cur: row });
  }

  private add(table: string, e: Touched): void {
    const t = this.touched(table);
    if (t) {
      t.list.push(e);
      t.byUuid.set(e.uuid, e);
    } else {
      // A literal, not [] + push: sized for the common single row.
      const byUuid = new Map<string, Touched>();
      byUuid.set(e.uuid, e);
      this.tables.push({ name: table, list: [e], byUuid });
    }
  }

  put(row: Row): void {
    this.set(row.table.name, row.uuid, row);
  }

  /**
   * Records a row inserted under a uuid that no committed row can have: one this
   * transaction generated (random, 122 bits), or a requested one already checked. Skips
   * the committed-table lookup, which for a large table is a cache miss.
   */
  insertNew(row: Row): void {
    this.add(row.table.name, { uuid: row.uuid, old: null, cur: row });
  }

  remove(table: string, uuid: string): void {
    this.removed = true;
    this.set(table, uuid, null);
  }

  get(table: string, uuid: string): Row | undefined {
    const e = this.touched(table)?.byUuid.get(uuid);
    if (e) return e.cur ?? undefined;
    return this.base(table).get(uuid);
  }

  wasTouched(table: string, uuid: string): boolean {
    return this.touched(table)?.byUuid.has(uuid) ?? false;
  }
}

const EMPTY_ROWS: ReadonlyMap<string, Row> = new Map();

class Executor {
  readonly symbols: Symbols;
  readonly overlay: Overlay;
  /** `comment` operations' text, made on the first one. */
  comments: string[] | null = null;
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
    // The row is new and still private to this transaction, so it is filled in place.
    const row = Row.create(t, uuid, uuid);
    if (op.row !== undefined) {
      if (typeof op.row !== "object" || op.row === null || Array.isArray(op.row))
        throw syntaxError(op.row, null, "Type mismatch for member 'row'.");
      const vals = row.values as Datum[];
      const id = vals[0];
      parseRowInto(t, op.row, x.symbols, vals);
      // ovsdb-server ignores _uuid and _version in an inserted row.
      vals[0] = id;
      vals[1] = id;
    }
    x.overlay.insertNew(row);
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
    (x.comments ??= []).push(op.comment);
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
  for (const member in op)
    if (member !== "op" && Object.hasOwn(op, member) && !Object.hasOwn(spec, member))
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
  // One slot per operation, sized up front (push would over-allocate).
  const results: unknown[] = new Array(ops.length);
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
      let why: string | null = null;
      if (name === undefined) why = "Required 'op' member is missing.";
      else if (typeof name !== "string") why = "Type mismatch for member 'op'.";
      else if (!Object.hasOwn(OPERATIONS, name)) why = `No operation ${JSON.stringify(name)}`;
      else why = checkMembers(rec, OP_MEMBERS[name as OpName]);
      if (!why && typeof rec.table === "string" && !state.schema.tables.has(rec.table))
        why = `No table named ${rec.table}.`;
      if (why)
        throw syntaxError(
          op,
          null,
          `Parsing ovsdb operation ${i + 1} of ${ops.length} failed: ${why}`,
        );
      results[i] = OPERATIONS[name as OpName](x, rec);
    } catch (e) {
      if (e instanceof Blocked) return { kind: "blocked", retryInMs: e.retryInMs };
      if (!(e instanceof OvsdbError)) throw e;
      results[i] = e.toJson();
      results.fill(null, i + 1);
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
        comment: x.comments ? x.comments.join("\n") : null,
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

/** Whether rows of `t` can hold references at all (else reference upkeep is skipped). */
export function hasRefColumns(t: TableSchema): boolean {
  return refsOf(t).refCols.length > 0;
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

/**
 * Reference counts during precommit: the committed counts plus this transaction's
 * deltas, the delta map made on the first change (most transactions touch no
 * references at all).
 */
class RefCounts {
  private deltas: Map<string, number> | null = null;
  constructor(private readonly committed: ReadonlyMap<string, number>) {}
  of(uuid: string): number {
    return this.deltas?.get(uuid) ?? this.committed.get(uuid) ?? 0;
  }
  bump(uuid: string, by: number): void {
    const n = this.of(uuid) + by;
    (this.deltas ??= new Map()).set(uuid, n);
  }
}

function precommit(x: Executor): RowDelta[] {
  const { overlay, state } = x;
  const schema = state.schema;
  const counts = new RefCounts(state.refCounts);
  // Which passes can apply, from the touched tables' schemas: a transaction that only
  // writes root tables without reference columns skips straight to the change set.
  let refs = false;
  let garbage = false;
  for (const tt of overlay.tables) {
    const t = schema.tables.get(tt.name)!;
    if (hasRefColumns(t)) refs = true;
    if (!t.isRoot) garbage = true;
  }

  // Reference-count deltas of the touched rows (update_ref_counts()).
  // Rows that lost a reference: only they (and touched rows) can become garbage.
  const dropped: [string, string][] = [];
  if (refs) {
    for (const tt of overlay.tables) {
      const t = schema.tables.get(tt.name)!;
      if (!hasRefColumns(t)) continue;
      for (const e of tt.list) {
        // Like OVS, only references the transaction changed adjust reference counts.
        forEachRefChange(t, e.old, e.cur, true, (rt, u, _col, delta) => {
          counts.bump(u, delta);
          if (delta < 0) dropped.push([rt, u]);
        });
      }
    }
    for (const tt of overlay.tables) {
      const table = tt.name;
      const t = schema.tables.get(table)!;
      if (!hasRefColumns(t)) continue;
      for (const e of tt.list) {
        const uuid = e.uuid;
        if (!e.cur) continue;
        // Like update_row_ref_count(), only references this transaction added are
        // checked here; a kept reference to a deleted row is caught just below.
        forEachRefChange(t, e.old, e.cur, true, (rt, u, col, delta) => {
          if (delta > 0 && !overlay.get(rt, u))
            throw new OvsdbError(
              "referential integrity violation",
              `Table ${table} column ${col} row ${uuid} references nonexistent row ${u} in table ${rt}.`,
            );
        });
      }
    }
  }
  // A deleted row may be referenced from any table, so this looks at deletions alone.
  if (overlay.removed) {
    for (const tt of overlay.tables) {
      for (const e of tt.list) {
        if (e.old && !e.cur && counts.of(e.uuid) > 0)
          throw new OvsdbError(
            "referential integrity violation",
            `cannot delete ${tt.name} row ${e.uuid} because of ${counts.of(e.uuid)} remaining reference(s)`,
          );
      }
    }
  }

  // Garbage collection of unreferenced non-root rows (collect_garbage()), cascading.
  if (garbage || dropped.length) collectGarbage(overlay, schema, counts, dropped);

  // Weak references to rows that no longer exist are dropped (assess_weak_refs()).
  if (touchesWeakRefs(schema, overlay.tables)) fixWeakRefs(overlay, schema);

  // maxRows (check_max_rows()).
  for (const tt of overlay.tables) {
    const table = tt.name;
    const t = schema.tables.get(table)!;
    if (t.maxRows === Number.POSITIVE_INFINITY) continue;
    const n = overlay.size(table);
    if (n > t.maxRows)
      throw new OvsdbError(
        "constraint violation",
        `transaction causes "${table}" table to contain ${n} rows, greater than the schema-defined limit of ${t.maxRows} row(s)`,
      );
  }

  // Index uniqueness (ovsdb_txn_check_index()).
  for (const tt of overlay.tables) {
    const t = schema.tables.get(tt.name)!;
    if (t.indexes.length) checkIndexes(overlay, state, t, tt);
  }

  // The change set: drop no-op changes, give changed rows a new _version.
  // Sized up front (at most one delta per touched row), trimmed at the end.
  let touchedRows = 0;
  for (const tt of overlay.tables) touchedRows += tt.list.length;
  const out: RowDelta[] = new Array(touchedRows);
  let n = 0;
  for (const tt of overlay.tables) {
    const t = schema.tables.get(tt.name)!;
    for (const e of tt.list) {
      const { uuid, old } = e;
      const neu = e.cur;
      if (!neu) {
        if (old) out[n++] = { table: t, uuid, old, new: null };
        continue;
      }
      if (old) {
        let changed = false;
        for (let i = 2; i < t.columnList.length && !changed; i++)
          if (compareDatums(old.values[i], neu.values[i]) !== 0) changed = true;
        if (!changed) continue;
      }
      // `neu` differs from every committed row, so this transaction built it and no
      // one else holds it: it gets its version in place rather than as a copy.
      (neu.values as Datum[])[1] = Datum.scalar(x.ctx.newUuid());
      out[n++] = { table: t, uuid, old, new: neu };
    }
  }
  out.length = n;
  return out;
}

/** collect_garbage(): unreferenced rows of non-root tables are deleted, cascading. */
function collectGarbage(
  overlay: Overlay,
  schema: DatabaseSchema,
  counts: RefCounts,
  dropped: readonly [string, string][],
): void {
  const candidates: [string, string][] = [];
  for (const tt of overlay.tables) {
    if (schema.tables.get(tt.name)!.isRoot) continue;
    for (const e of tt.list) candidates.push([tt.name, e.uuid]);
  }
  for (const d of dropped) candidates.push(d);
  while (candidates.length) {
    const [table, uuid] = candidates.pop()!;
    const t = schema.tables.get(table)!;
    if (t.isRoot) continue;
    const row = overlay.get(table, uuid);
    if (!row || counts.of(uuid) > 0) continue;
    overlay.remove(table, uuid);
    forEachRef(row, true, (rt, u) => {
      counts.bump(u, -1);
      candidates.push([rt, u]);
    });
  }
}

/**
 * Per schema, the tables whose change can make a weak reference dangle or need
 * checking: tables with weak-reference columns and the tables those point into.
 */
const WEAK_WATCH = new WeakMap<DatabaseSchema, ReadonlySet<string>>();

function touchesWeakRefs(schema: DatabaseSchema, touched: readonly TouchedTable[]): boolean {
  let watch = WEAK_WATCH.get(schema);
  if (!watch) {
    const names = new Set<string>();
    for (const t of weakTablesOf(schema)) {
      names.add(t.name);
      for (const target of refsOf(t).weakTargets) names.add(target);
    }
    WEAK_WATCH.set(schema, (watch = names));
  }
  if (!watch.size) return false;
  for (const tt of touched) if (watch.has(tt.name)) return true;
  return false;
}

function fixWeakRefs(overlay: Overlay, schema: DatabaseSchema): void {
  for (const t of weakTablesOf(schema)) {
    const { weakCols, weakTargets } = refsOf(t);
    const targetsChanged = weakTargets.some((target) => overlay.touched(target) !== undefined);
    if (!targetsChanged && !overlay.touched(t.name)) continue;
    const rows = targetsChanged
      ? [...overlay.rows(t.name)]
      : (overlay.touched(t.name)?.list ?? []).map((e) => e.cur).filter((r): r is Row => !!r);
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
}

/**
 * ovsdb_txn_check_index() for one table. The committed rows were unique, so a
 * duplicate involves a row this transaction wrote: compare each written row with the
 * other written rows and with the committed row (if any) holding the same key.
 */
function checkIndexes(overlay: Overlay, state: DbState, t: TableSchema, tt: TouchedTable): void {
  const touched = tt.byUuid;
  const table = t.name;
  t.indexes.forEach((ix, ixNo) => {
    const cols = ix.map((c) => t.columns.get(c)!.index);
    const seen = new Map<string, Row>();
    for (const e of tt.list) {
      const uuid = e.uuid;
      const cur = e.cur;
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
        const before = touched.get(r.uuid)?.old;
        if (!before) return "was inserted by this transaction.";
        if (indexKey(t, cols, before) === indexKey(t, cols, r))
          return "existed in the database before this transaction, which modified some of the row's columns but not any columns in this index.";
        return `had the following index values before the transaction: ${englishList(cols.map((i) => datumText(t, i, before.values[i])))}.`;
      };
      // The row that was in the database comes first, as in ovsdb-server's report.
      if (touched.get(prev.uuid)?.old === null && touched.get(row.uuid)?.old)
        [prev, row] = [row, prev];
      const values = englishList(cols.map((i) => datumText(t, i, row.values[i])));
      const colText = `column${ix.length > 1 ? "s" : ""} ${englishList(ix.map((c) => `"${c}"`))}`;
      throw new OvsdbError(
        "constraint violation",
        `Transaction causes multiple rows in "${table}" table to have identical values (${values}) for index on ${colText}.  First row, with UUID ${prev.uuid}, ${how(prev)}  Second row, with UUID ${row.uuid}, ${how(row)}`,
      );
    }
  });
}

export type { RowJson };
