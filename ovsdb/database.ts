/**
 * ovsdb/database.ts — one OVSDB database: its tables and rows, the commit pipeline,
 * the on-disk log, and change notification.
 *
 * CONTRACT (for server.ts, monitors, the IDL and vswitchd):
 *  - `Database.inMemory(schema)`, `await Database.create(path, schemaJson)` (like
 *    `ovsdb-tool create`), `await Database.open(path)` (replays a standalone log made by
 *    us or by ovsdb-tool/ovsdb-server).
 *  - `transact(ops, opts)`: `ops` is the RFC 7047 §4.1.3 params array after the database
 *    name. Resolves to the result array (JSON values: op results, error objects, nulls,
 *    and an extra element for a commit-time error). It resolves after the commit is
 *    in the log (and fsynced if an op asked for `commit` with `durable: true`). A
 *    request with a blocking `wait` resolves later: it is re-run after every commit
 *    until it passes or its timeout expires (timers come from `opts.clock`). It never
 *    rejects for a bad request; it rejects only on I/O failure, `close()`, or
 *    `opts.signal` abort (an `Error` named "AbortError").
 *  - `execute(ops, opts, done)`: the same with a callback (the server's per-request
 *    path); "in the log" means write(2) has returned: records of one tick go out in one
 *    synchronous write (log.ts), so a SIGKILL after the reply loses nothing.
 *  - `onCommit(listener)`: called synchronously, in commit order, inside the commit and
 *    before the committing `transact` resolves, with a `CommittedTxn`: the txn id, and
 *    per changed row the full old and new row as RFC 7047 JSON (all columns, `_uuid` and
 *    `_version` included). Returns an unsubscribe function.
 *  - `rows(table)`, `row(table, uuid)`: committed `Row`s; `rowToJson` renders them.
 *    The raw maps behind them (`tables`, `refCounts`, `indexes`) may lag a logged
 *    commit until just after its reply is sent (see `commit`): read rows through these.
 *  - `compileCondition(table, where)`: a matcher over JSON rows for monitor_cond.
 *  - `lastTxnId`: id of the last commit, or the all-zero uuid.
 *
 * Why commits apply in memory before the log write finishes: like ovsdb-server, later
 * transactions see earlier ones at once, and a client is only told "done" once the
 * record is written, so an acknowledged transaction survives a crash of this process.
 * Does not: speak JSON-RPC, hold locks (the session's `holdsLock` answers `assert`).
 */
import { readFile } from "node:fs/promises";
import { parseWhere } from "./condition.js";
import {
  Datum,
  datumApplyDiff,
  datumDiff,
  datumEquals,
  datumFromJson,
  datumJsonText,
  datumToJson,
  defaultDatum,
} from "./datum.js";
import { LogError, OvsdbError } from "./errors.js";
import { LogFile } from "./log.js";
import { queueReaction } from "./microtask.js";
import { Row, type RowJson, rowToJson } from "./row.js";
import { type DatabaseSchema, parseSchema, schemaToJson, type TableSchema } from "./schema.js";
import {
  type DbState,
  executeTransaction,
  forEachRefChange,
  hasRefColumns,
  indexKey,
  type RowDelta,
  type TxnChanges,
  type TxnContext,
} from "./transaction.js";
import { ZERO_UUID } from "./types.js";
import { randomUuid } from "./uuid.js";

/** Time source and timers; the server/cli passes a real one, tests a virtual one. */
export interface Clock {
  nowMs(): number;
  /** Calls `fn` once after `delayMs`; returns a cancel function. */
  setTimer(delayMs: number, fn: () => void): () => void;
}

/** A clock with no time: `_date` is 0 and timers never fire, so a blocked `wait` ends only
 * when a commit satisfies it or the caller aborts. */
export const NO_CLOCK: Clock = {
  nowMs: () => 0,
  setTimer: () => () => {},
};

export interface DatabaseOptions {
  clock?: Clock;
  /** Source of random uuids (default uuid.ts randomUuid, flat version 4 strings). */
  newUuid?: () => string;
  /**
   * Compact the log when it exceeds both this many bytes and 4× the size of the live
   * data at the last compaction (OVS's rule of thumb). Default 10 MiB; 0 disables.
   */
  compactMinBytes?: number;
}

export interface TransactOptions {
  signal?: AbortSignal;
  /** RFC 7047 §5.2.10 "assert": whether the session owns lock `name`. */
  holdsLock?: (name: string) => boolean;
}

/** One committed row change; `old` null for an insert, `new` null for a delete. */
export interface RowChange {
  readonly table: string;
  readonly uuid: string;
  readonly old: RowJson | null;
  readonly new: RowJson | null;
  readonly oldRow: Row | null;
  readonly newRow: Row | null;
}

export interface CommittedTxn {
  /** Transaction id (uuid), as used by monitor_cond_since. */
  readonly id: string;
  readonly comment: string | null;
  readonly dateMs: number;
  readonly changes: readonly RowChange[];
}

export type CommitListener = (txn: CommittedTxn) => void;

interface Trigger {
  attempt(): void;
}

/** How `Database.execute` reports: an error, or the transaction's result array. */
export type TransactDone = (err: Error | null, results?: unknown[]) => void;

function abortError(): Error {
  const err = new Error("transaction canceled");
  err.name = "AbortError";
  return err;
}

export class Database implements DbState {
  readonly name: string;
  readonly tables = new Map<string, Map<string, Row>>();
  readonly refCounts = new Map<string, number>();
  readonly indexes = new Map<string, Map<string, string>[]>();
  private readonly listeners = new Set<CommitListener>();
  private readonly triggers = new Set<Trigger>();
  private readonly clock: Clock;
  private readonly newUuid: () => string;
  private readonly compactMinBytes: number;
  private snapshotBytes = 0;
  private compacting: Promise<void> | null = null;
  private closed = false;
  lastTxnId = ZERO_UUID;
  /**
   * Committed change sets whose rows are not in `tables`/`refCounts`/`indexes` yet, in
   * commit order (the first one apart: usually there is only one). See `commit`.
   */
  private unapplied: TxnChanges | null = null;
  private readonly unappliedMore: TxnChanges[] = [];
  private settleQueued = false;

  private constructor(
    readonly schema: DatabaseSchema,
    private readonly log: LogFile | null,
    opts: DatabaseOptions,
  ) {
    this.name = schema.name;
    this.clock = opts.clock ?? NO_CLOCK;
    this.newUuid = opts.newUuid ?? randomUuid;
    this.compactMinBytes = opts.compactMinBytes ?? 10 * 1024 * 1024;
    for (const [name, t] of schema.tables) {
      this.tables.set(name, new Map());
      this.indexes.set(
        name,
        t.indexes.map(() => new Map()),
      );
    }
  }

  /** A database with no file. `schema` may be parsed or raw JSON. */
  static inMemory(schema: DatabaseSchema | unknown, opts: DatabaseOptions = {}): Database {
    return new Database(asSchema(schema), null, opts);
  }

  /** Creates a new database file holding just the schema, like `ovsdb-tool create`. */
  static async create(
    path: string,
    schemaJson: unknown,
    opts: DatabaseOptions = {},
  ): Promise<Database> {
    const schema = asSchema(schemaJson);
    const log = await LogFile.create(path, [schemaToJson(schema)]);
    const db = new Database(schema, log, opts);
    db.snapshotBytes = log.size;
    return db;
  }

  /** Opens a standalone database file and replays its transactions. */
  static async open(path: string, opts: DatabaseOptions = {}): Promise<Database> {
    const { log, records } = await LogFile.open(path);
    let schema: DatabaseSchema;
    try {
      schema = parseSchema(records[0]);
    } catch (e) {
      await log.close();
      throw new LogError(path, 0, `first record is not a valid schema: ${(e as Error).message}`);
    }
    const db = new Database(schema, log, opts);
    for (let i = 1; i < records.length; i++) db.replay(records[i], path);
    db.recountRefs();
    db.snapshotBytes = log.size;
    return db;
  }

  /** Reads a schema file (e.g. schemas/vswitch.ovsschema) and parses it. */
  static async readSchema(path: string): Promise<{ schema: DatabaseSchema; json: unknown }> {
    const json = JSON.parse(await readFile(path, "utf8")) as unknown;
    return { schema: parseSchema(json), json };
  }

  /** The `get_schema` reply. */
  schemaJson(): Record<string, unknown> {
    return schemaToJson(this.schema);
  }

  rows(table: string): Iterable<Row> {
    this.settle();
    return this.tableRows(table).values();
  }

  row(table: string, uuid: string): Row | undefined {
    this.settle();
    return this.tableRows(table).get(uuid);
  }

  rowToJson(_table: string, row: Row, columns?: readonly string[]): RowJson {
    return rowToJson(row, columns);
  }

  /** A matcher over JSON rows for monitor_cond "where" (throws OvsdbError on bad syntax). */
  compileCondition(table: string, where: unknown): (row: RowJson) => boolean {
    const t = this.tableSchema(table);
    const cond = parseWhere(t, where, null);
    return (json) => cond.matches(rowFromJson(t, json));
  }

  /**
   * Writes the log records of the commits made so far now, rather than in the tick's
   * group-commit microtask (the server calls it when a read's requests are done).
   * Their `transact` callbacks may run from here, as from that microtask.
   */
  flushLog(): void {
    this.log?.flushQueued();
  }

  onCommit(listener: CommitListener): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  transact(ops: readonly unknown[], opts: TransactOptions = {}): Promise<unknown[]> {
    if (opts.signal?.aborted) return Promise.reject(abortError());
    return new Promise<unknown[]>((resolve, reject) =>
      this.execute(ops, opts, (err, results) => (err ? reject(err) : resolve(results!))),
    );
  }

  /**
   * `transact` with a callback instead of a promise (the server's path: no promise and
   * no closure chain per request). `done` is called exactly once, with the results or
   * with the error `transact` would reject with; for a committing transaction, from the
   * log's group-commit flush once the record is written. `opts.signal` is read only
   * if the request blocks in a `wait` (a request that can finish at once does), so a
   * caller may create it on demand.
   */
  execute(ops: readonly unknown[], opts: TransactOptions, done: TransactDone): void {
    if (this.closed) {
      done(new OvsdbError("I/O error", "database is closed"));
      return;
    }
    this.attempt(ops, opts, this.clock.nowMs(), done);
  }

  private attempt(
    ops: readonly unknown[],
    opts: TransactOptions,
    start: number,
    done: TransactDone,
  ): void {
    this.settle();
    let outcome: ReturnType<typeof executeTransaction>;
    try {
      outcome = executeTransaction(
        this,
        ops,
        new AttemptContext(this.newUuid, this.clock.nowMs() - start, opts),
      );
    } catch (e) {
      done(e as Error);
      return;
    }
    if (outcome.kind === "blocked") {
      this.block(ops, opts, start, outcome.retryInMs, done);
      return;
    }
    const { results, changes } = outcome;
    if (!changes || changes.rows.length === 0) done(null, results);
    else this.commit(changes, results, done);
  }

  /** Parks a request whose `wait` failed: re-run after each commit or at its deadline. */
  private block(
    ops: readonly unknown[],
    opts: TransactOptions,
    start: number,
    retryInMs: number,
    done: TransactDone,
  ): void {
    const signal = opts.signal;
    if (signal?.aborted) {
      done(abortError());
      return;
    }
    const trigger: Trigger = {
      attempt: () => {
        this.triggers.delete(trigger);
        cancelTimer();
        signal?.removeEventListener("abort", onAbort);
        if (this.closed) {
          done(new OvsdbError("I/O error", "database closed while the transaction waited"));
          return;
        }
        this.attempt(ops, opts, start, done);
      },
    };
    const onAbort = () => {
      this.triggers.delete(trigger);
      cancelTimer();
      done(abortError());
    };
    this.triggers.add(trigger);
    const cancelTimer = this.clock.setTimer(retryInMs, trigger.attempt);
    signal?.addEventListener("abort", onAbort, { once: true });
  }

  /**
   * Commits a precommitted change set: logs it, notifies, retries blocked waits, and
   * applies it to `tables`.
   *
   * Why the apply may come later: in a logged database the reply waits for the log
   * write, and everything done before the write delays it, while work done after the
   * reply is sent overlaps with the client's turnaround. So a logged commit's rows go
   * into `tables` (and reference counts, indexes) in `settle()`, queued to run right
   * after the reply is written, or sooner: every reader of those maps here (`execute`,
   * `rows`, `row`, compaction) settles first, so no caller can see the difference.
   */
  private commit(changes: TxnChanges, results: unknown[], done: TransactDone): void {
    const id = this.newUuid();
    const dateMs = this.clock.nowMs();
    if (this.unapplied === null) this.unapplied = changes;
    else this.unappliedMore.push(changes);
    this.lastTxnId = id;
    const record = this.log ? logRecordText(changes, dateMs) : null;
    // Appended before the listeners run, so the record joins this tick's group-commit
    // write; the reply (`done`) waits for that write. The settle is queued after `done`
    // has sent or queued the reply (jsonrpc.ts), so it runs once the reply is out.
    if (this.log && record)
      this.log.appendText(record, changes.durable, (err) => {
        if (err) done(err);
        else done(null, results);
        this.queueSettle();
      });
    else this.settle();
    const txn: CommittedTxn = {
      id,
      comment: changes.comment,
      dateMs,
      changes: changes.rows.map((d) => new LazyRowChange(d)),
    };
    for (const l of this.listeners) l(txn);
    if (this.triggers.size)
      for (const t of [...this.triggers]) if (this.triggers.has(t)) t.attempt();
    if (!(this.log && record)) done(null, results);
  }

  private queueSettle(): void {
    if (this.settleQueued) return;
    this.settleQueued = true;
    queueReaction(this.settleSoon);
  }

  private readonly settleSoon = (): void => {
    this.settleQueued = false;
    this.settle();
  };

  /** Applies every committed change set not applied yet (see `commit`), in order. */
  private settle(): void {
    const first = this.unapplied;
    if (first === null) return;
    this.unapplied = null;
    for (const d of first.rows) this.apply(d);
    if (this.unappliedMore.length) {
      const more = this.unappliedMore.splice(0);
      for (const c of more) for (const d of c.rows) this.apply(d);
    }
    this.maybeCompact();
  }

  private apply(d: RowDelta): void {
    const rows = this.tables.get(d.table.name)!;
    if (hasRefColumns(d.table))
      forEachRefChange(d.table, d.old, d.new, true, (_t, u, _c, delta) => this.bumpRef(u, delta));
    const indexed = d.table.indexes.length > 0;
    if (d.old && indexed) this.indexRow(d.old, false);
    if (d.new) {
      rows.set(d.uuid, d.new);
      if (indexed) this.indexRow(d.new, true);
    } else rows.delete(d.uuid);
  }

  private indexRow(row: Row, add: boolean): void {
    const t = row.table;
    const maps = this.indexes.get(t.name)!;
    t.indexes.forEach((ix, i) => {
      const k = indexKey(
        t,
        ix.map((c) => t.columns.get(c)!.index),
        row,
      );
      if (add) maps[i].set(k, row.uuid);
      else if (maps[i].get(k) === row.uuid) maps[i].delete(k);
    });
  }

  private countRefs(row: Row, by: number): void {
    for (const c of row.table.columnList) {
      const d = row.values[c.index];
      if (c.type.key.refTable && c.type.key.refType === "strong")
        for (const u of d.keys) this.bumpRef(u as string, by);
      if (c.type.value?.refTable && c.type.value.refType === "strong" && d.values)
        for (const u of d.values) this.bumpRef(u as string, by);
    }
  }

  private bumpRef(uuid: string, by: number): void {
    const n = (this.refCounts.get(uuid) ?? 0) + by;
    if (n) this.refCounts.set(uuid, n);
    else this.refCounts.delete(uuid);
  }

  /** Rebuilds reference counts and index maps from the rows (after replaying a log). */
  private recountRefs(): void {
    this.refCounts.clear();
    for (const maps of this.indexes.values()) for (const m of maps) m.clear();
    for (const rows of this.tables.values())
      for (const r of rows.values()) {
        this.countRefs(r, 1);
        this.indexRow(r, true);
      }
  }

  /** Applies one transaction record read from a log (file.c's ovsdb_file_txn_from_json). */
  private replay(record: unknown, path: string): void {
    if (record === null) return;
    if (typeof record !== "object" || Array.isArray(record))
      throw new LogError(path, 0, "transaction record is not a JSON object");
    const rec = record as Record<string, unknown>;
    const isDiff = rec._is_diff === true;
    for (const [tname, trows] of Object.entries(rec)) {
      if (tname.startsWith("_")) continue;
      const t = this.schema.tables.get(tname);
      if (!t) throw new LogError(path, 0, `log record names unknown table ${tname}`);
      const rows = this.tables.get(tname)!;
      if (typeof trows !== "object" || trows === null)
        throw new LogError(path, 0, `log record for table ${tname} is not an object`);
      for (const [uuid, rj] of Object.entries(trows as Record<string, unknown>)) {
        if (rj === null) {
          rows.delete(uuid);
          continue;
        }
        const old = rows.get(uuid);
        const changes = new Map<number, Datum>();
        for (const [cname, vj] of Object.entries(rj as Record<string, unknown>)) {
          const c = t.columns.get(cname);
          if (!c || c.name.startsWith("_")) continue;
          // OVS logs a diff only for columns that can hold several elements.
          const scalar = !c.type.value && c.type.max === 1;
          const relaxed = { ...c.type, min: 0, max: Number.POSITIVE_INFINITY };
          const v = datumFromJson(isDiff && !scalar ? relaxed : c.type, vj, null);
          changes.set(
            c.index,
            old && isDiff && !scalar ? datumApplyDiff(old.values[c.index], v) : v,
          );
        }
        const base = old ?? Row.create(t, uuid, uuid);
        changes.set(1, Datum.scalar(this.newUuid()));
        rows.set(uuid, base.with(changes));
      }
    }
  }

  private tableSchema(name: string): TableSchema {
    const t = this.schema.tables.get(name);
    if (!t) throw new OvsdbError("unknown table", `No table named ${name}.`);
    return t;
  }

  private tableRows(name: string): Map<string, Row> {
    const rows = this.tables.get(name);
    if (!rows) throw new OvsdbError("unknown table", `No table named ${name}.`);
    return rows;
  }

  /** Bytes a snapshot of the live data would take (schema record + one row record). */
  private snapshotRecords(comment: string): unknown[] {
    this.settle();
    const snap: Record<string, unknown> = { _date: this.clock.nowMs() };
    for (const [name, rows] of this.tables) {
      if (!rows.size) continue;
      const out: Record<string, unknown> = {};
      for (const r of rows.values()) out[r.uuid] = persistentColumns(r, null);
      snap[name] = out;
    }
    snap._comment = comment;
    return [schemaToJson(this.schema), snap];
  }

  /** Rewrites the log as schema + one snapshot record (ovsdb-server's online compaction). */
  async compact(): Promise<void> {
    if (!this.log) return;
    if (this.compacting) return this.compacting;
    this.compacting = this.log
      .replace(this.snapshotRecords("compacting database online"))
      .then(() => {
        this.snapshotBytes = this.log!.size;
      })
      .finally(() => {
        this.compacting = null;
      });
    return this.compacting;
  }

  private maybeCompact(): void {
    if (!this.log || !this.compactMinBytes || this.compacting) return;
    const size = this.log.size;
    if (size >= this.compactMinBytes && size >= 4 * this.snapshotBytes)
      void this.compact().catch(() => {});
  }

  /** Size of the log in bytes (0 in memory). */
  get logBytes(): number {
    return this.log?.size ?? 0;
  }

  async close(): Promise<void> {
    this.closed = true;
    for (const t of [...this.triggers]) t.attempt();
    if (this.compacting) await this.compacting.catch(() => {});
    await this.log?.close();
  }
}

/**
 * The engine's view of one attempt of a request. `holdsLock` asks `opts` as a method
 * call, so a caller may implement it as a method rather than a bound closure.
 */
class AttemptContext implements TxnContext {
  constructor(
    readonly newUuid: () => string,
    readonly elapsedMs: number,
    private readonly opts: TransactOptions,
  ) {}
  holdsLock(name: string): boolean {
    return this.opts.holdsLock?.(name) ?? false;
  }
}

/** A RowChange that renders its JSON rows on first use (many commits have no monitor). */
class LazyRowChange implements RowChange {
  private oldJson: RowJson | null | undefined;
  private newJson: RowJson | null | undefined;
  constructor(private readonly d: RowDelta) {}
  get table(): string {
    return this.d.table.name;
  }
  get uuid(): string {
    return this.d.uuid;
  }
  get oldRow(): Row | null {
    return this.d.old;
  }
  get newRow(): Row | null {
    return this.d.new;
  }
  get old(): RowJson | null {
    if (this.oldJson === undefined) this.oldJson = this.d.old ? rowToJson(this.d.old) : null;
    return this.oldJson;
  }
  get new(): RowJson | null {
    if (this.newJson === undefined) this.newJson = this.d.new ? rowToJson(this.d.new) : null;
    return this.newJson;
  }
  toJSON(): unknown {
    return { table: this.table, uuid: this.uuid, old: this.old, new: this.new };
  }
}

function asSchema(s: unknown): DatabaseSchema {
  if (s && typeof s === "object" && (s as DatabaseSchema).tables instanceof Map)
    return s as DatabaseSchema;
  return parseSchema(s);
}

/** JSON row → Row (for matching monitor conditions against JSON). */
export function rowFromJson(t: TableSchema, json: RowJson): Row {
  const values = t.columnList.map((c) => {
    const v = json[c.name];
    return v === undefined
      ? defaultDatum(c.type)
      : datumFromJson({ ...c.type, min: 0, max: Number.POSITIVE_INFINITY }, v, null);
  });
  if (values[0].size === 0) values[0] = Datum.scalar(ZERO_UUID);
  if (values[1].size === 0) values[1] = Datum.scalar(ZERO_UUID);
  return new Row(t, values);
}

/**
 * The non-ephemeral columns of `row` for a log record: for an insert (old null), those
 * that differ from the default; for a modify, those that changed, sets and maps as the
 * diff (the record then says `"_is_diff": true`), as file.c writes them.
 */
function persistentColumns(row: Row, old: Row | null): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const c of row.table.columnList) {
    if (c.index < 2 || c.ephemeral) continue;
    const v = row.values[c.index];
    if (old) {
      const o = old.values[c.index];
      if (datumEquals(o, v)) continue;
      // OVS logs a diff only for columns that can hold several elements.
      const scalar = !c.type.value && c.type.max === 1;
      const d = scalar ? v : datumDiff(o, v);
      out[c.name] = datumToJson({ ...c.type, min: 0, max: Number.POSITIVE_INFINITY }, d);
    } else {
      if (datumEquals(v, defaultDatum(c.type))) continue;
      out[c.name] = datumToJson(c.type, v);
    }
  }
  return out;
}

/**
 * A transaction's log record as JSON text, written directly rather than built as an
 * object and stringified (this runs once per commit, on the reply's critical path).
 * Same text `JSON.stringify` gives for `{_date, <table>: {<uuid>: row|null}...,
 * _comment?, _is_diff: true}`; null when only ephemeral columns changed. Table and
 * column names are schema identifiers and uuids are hex, so they need no escaping.
 */
function logRecordText(changes: TxnChanges, dateMs: number): string | null {
  // Tables in order of first appearance, each with its rows' `"uuid":value` members.
  // Usually one table: it needs no collection (precommit lists rows table by table).
  let first: string | null = null;
  let firstMembers = "";
  let others: Map<string, string> | null = null;
  for (const d of changes.rows) {
    let value: string;
    if (!d.new) value = "null";
    else {
      value = persistentColumnsText(d.new, d.old);
      if (d.old && value === "{}") continue; // only ephemeral changes
    }
    const name = d.table.name;
    const member = `"${d.uuid}":${value}`;
    if (first === null) {
      first = name;
      firstMembers = member;
    } else if (name === first) firstMembers += `,${member}`;
    else {
      others ??= new Map();
      const members = others.get(name);
      others.set(name, members === undefined ? member : `${members},${member}`);
    }
  }
  if (first === null) return null;
  let text = `{"_date":${JSON.stringify(dateMs)},"${first}":{${firstMembers}}`;
  if (others) for (const [name, members] of others) text += `,"${name}":{${members}}`;
  if (changes.comment) text += `,"_comment":${JSON.stringify(changes.comment)}`;
  return `${text},"_is_diff":true}`;
}

/** `persistentColumns(row, old)` as JSON text. */
function persistentColumnsText(row: Row, old: Row | null): string {
  let text = "";
  const columns = row.table.columnList;
  for (let i = 2; i < columns.length; i++) {
    const c = columns[i];
    if (c.ephemeral) continue;
    const v = row.values[i];
    let json: string;
    if (old) {
      const o = old.values[i];
      if (o === v || datumEquals(o, v)) continue;
      const scalar = !c.type.value && c.type.max === 1;
      // A diff may hold any number of elements; the printed form does not depend on it.
      json = datumJsonText(c.type, scalar ? v : datumDiff(o, v));
    } else {
      // Defaults are shared objects, and a `min` 0 default is empty.
      const dflt = defaultDatum(c.type);
      if (v === dflt || (c.type.min === 0 ? v.size === 0 : datumEquals(v, dflt))) continue;
      json = datumJsonText(c.type, v);
    }
    text += `${text ? "," : ""}"${c.name}":${json}`;
  }
  return `{${text}}`;
}
