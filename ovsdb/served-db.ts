/**
 * The narrow view of a database that the JSON-RPC server, monitors and the in-process
 * IDL need — schema, current rows in RFC 7047 JSON, transactions, condition matching,
 * and commit notifications as per-row JSON changes — plus `serveDatabase`, the adapter
 * from the engine's `Database` (database.ts) to that view.
 *
 * Why a view: the server speaks JSON on the wire, so it wants rows in JSON; the engine
 * keeps `Datum`s. Converting at this one boundary keeps monitor.ts a pure JSON
 * transformer and lets tests drive the server with a fake database.
 *
 * Promises: `onCommit` listeners run synchronously inside the commit, before the
 * committing `transact` calls back, with every changed row's full old/new JSON.
 */
import type { Database } from "./database.js";
import type { Json } from "./jsonrpc.js";
import type { JsonRow, JsonRowChange, RowMatcher } from "./monitor.js";
import type { DatabaseSchema } from "./schema.js";

/** What a transaction may ask of the session that sent it. */
export interface TransactContext {
  /** RFC 7047 section 5.2.10 "assert": does this session own the lock? */
  isLockOwner(name: string): boolean;
  /** Aborted when the client sends `cancel` for this request. */
  signal?: AbortSignal;
}

export type TransactCallback = (err: Error | null, results?: Json[]) => void;

export type CommitListener = (changes: readonly JsonRowChange[], txnId: string) => void;

export interface ServedDb {
  readonly name: string;
  readonly schema: DatabaseSchema;
  /** `get_schema`'s reply. */
  schemaJson(): Json;
  /** Every row of a table as `[uuid, full row JSON]`, all columns incl. `_version`. */
  rows(table: string): Iterable<[string, JsonRow]>;
  /**
   * RFC 7047 `transact`: `ops` are the operations after the database name. `done` is
   * called once, with the result array or the failure (a callback, not a promise: this
   * is the server's per-request path).
   */
  transact(ops: Json[], ctx: TransactContext, done: TransactCallback): void;
  /** Compiles a monitor_cond "where" array; throws the engine's `OvsdbError` on bad syntax. */
  compileCondition(table: string, where: Json): RowMatcher;
  onCommit(listener: CommitListener): () => void;
  /**
   * Writes the log records of the commits made so far now instead of at the end of the
   * tick (group commit); `transact` callbacks waiting for them may run from here.
   */
  flushLog?(): void;
  /** Id of the last committed transaction, or the all-zero uuid. */
  readonly lastTxnId: string;
}

/** Serves an engine `Database` (database.ts) through the `ServedDb` view. */
export function serveDatabase(db: Database): ServedDb {
  return {
    name: db.name,
    schema: db.schema,
    schemaJson: () => db.schemaJson() as Json,
    *rows(table: string): Iterable<[string, JsonRow]> {
      for (const row of db.rows(table)) yield [row.uuid, db.rowToJson(table, row) as JsonRow];
    },
    // `ctx` has the shape of the engine's TransactOptions' needs; adapt it lazily so
    // that a context whose `signal` is made on demand is not asked for it up front.
    transact: (ops, ctx, done) =>
      db.execute(ops, new EngineOptions(ctx), done as (err: Error | null, r?: unknown[]) => void),
    compileCondition: (table, where) => {
      const match = db.compileCondition(table, where);
      return (row) => match(row);
    },
    flushLog: () => db.flushLog(),
    onCommit: (listener) =>
      db.onCommit((txn) => listener(txn.changes as readonly JsonRowChange[], txn.id)),
    get lastTxnId() {
      return db.lastTxnId;
    },
  };
}

/** The engine's TransactOptions over a server TransactContext, read on demand. */
class EngineOptions {
  constructor(private readonly ctx: TransactContext) {}
  get signal(): AbortSignal | undefined {
    return this.ctx.signal;
  }
  /** A method, not a bound closure per request: the engine calls it on this object. */
  holdsLock(name: string): boolean {
    return this.ctx.isLockOwner(name);
  }
}
