/**
 * The OVSDB JSON-RPC server (RFC 7047 section 4; ovsdb/jsonrpc-server.c): listens on
 * `punix:PATH` and `ptcp:PORT[:ADDR]` remotes, serves any number of databases to any
 * number of sessions, and keeps each database's recent transaction history so that
 * `monitor_cond_since` can resume a reconnecting client.
 *
 * Methods are the `METHODS` dispatch table below. Replies follow ovsdb-server's shapes:
 * `{"id","result","error":null}`, and errors either as a bare string ("unknown
 * method", "duplicate request ID", "canceled") or as `{"error","details"[,"syntax"]}`.
 * A request with wrong params gets an error reply and the session stays usable;
 * malformed JSON or a message that is not JSON-RPC closes only that session (as
 * ovsdb-server does). ovsdb-server aborts on a `monitor` with fewer than three params;
 * this server answers "invalid parameters".
 *
 * Transaction history: for each database the last `historyLimit` commits are kept as
 * row changes, keyed by transaction id. `monitor_cond_since` with an id found there is
 * answered `[true, lastId, changes-since]`; otherwise `[false, lastId, everything]`.
 *
 * Does not: cluster (every database is "standalone"), relay, or authenticate (remotes
 * are loopback/unix only, like the rest of ovsim).
 */
import { randomUUID } from "node:crypto";
import { existsSync, unlinkSync } from "node:fs";
import { createServer, type Server, type Socket } from "node:net";
import { OvsdbError, syntaxError } from "./errors.js";
import {
  type Json,
  JsonRpcConnection,
  JsonRpcRemoteError,
  type JsonRpcRequest,
  type JsonStreamLimits,
} from "./jsonrpc.js";
import { LOCK_NAME_RE, LockTable } from "./lock.js";
import {
  collapseChanges,
  type JsonRowChange,
  Monitor,
  type MonitorSelect,
  type MonitorVersion,
  type TableMonitor,
} from "./monitor.js";
import type { ServedDb, TransactContext } from "./served-db.js";
import { JsonRpcError, RemoteSyntaxError } from "./server-errors.js";
import { type MethodHandler, Session } from "./session.js";
import { type ColumnType, UUID_RE, ZERO_UUID } from "./types.js";

/** Interval timers, passed in because only sim/ and cli/ may touch the real clock. */
export interface IntervalTimers {
  setInterval(fn: () => void, ms: number): unknown;
  clearInterval(handle: unknown): void;
}

export interface OvsdbServerOptions {
  /** Enables the inactivity probe when given. */
  readonly timers?: IntervalTimers;
  /** ovsdb-server's default is 5000 ms. */
  readonly probeIntervalMs?: number;
  /** Commits kept per database for monitor_cond_since (OVS keeps 100). */
  readonly historyLimit?: number;
  readonly limits?: Partial<JsonStreamLimits>;
  /** This server's id (`get_server_id`); a random uuid by default, as ovsdb-server. */
  readonly serverId?: string;
}

/** A listening remote; `address` is the socket path or "ADDR:PORT" actually bound. */
export interface BoundRemote {
  readonly remote: string;
  readonly address: string;
  readonly port: number | null;
}

/** The client side of `connectInProcess`. */
export interface InProcessClient {
  request(method: string, params: Json[]): Promise<Json>;
  close(): void;
}

interface DbEntry {
  readonly db: ServedDb;
  readonly history: { txnId: string; changes: readonly JsonRowChange[] }[];
  readonly unsubscribe: () => void;
  /** Reject writes (the `_Server` database). */
  readonly readOnly: boolean;
}

/** Thrown by handlers for a bare-string error reply such as "unknown method". */
class BareError extends Error {
  constructor(readonly reply: string) {
    super(reply);
  }
}

/** Operations refused on a reserved database such as `_Server` (ovsdb/execution.c). */
const WRITE_OPS = new Set(["insert", "update", "mutate", "delete"]);

export class OvsdbServer {
  private readonly dbs = new Map<string, DbEntry>();
  readonly locks = new LockTable();
  private readonly sessions = new Set<Session>();
  private readonly listeners: Server[] = [];
  private readonly socketPaths: string[] = [];
  private nextSessionId = 1;
  private probeHandle: unknown = null;
  private readonly historyLimit: number;
  private readonly generatedServerId: string;
  /** Pending transact request ids per session, for "duplicate request ID" and cancel. */
  private readonly pending = new WeakMap<Session, Map<string | number, PendingTransact>>();
  /** Called when a database is added or removed (server-db.ts keeps `_Server` current). */
  onDatabasesChanged: (() => void) | null = null;

  constructor(readonly options: OvsdbServerOptions = {}) {
    this.historyLimit = options.historyLimit ?? 100;
    this.generatedServerId = options.serverId ?? randomUUID();
    if (options.timers) {
      this.probeHandle = options.timers.setInterval(
        () => this.probeAll(),
        options.probeIntervalMs ?? 5000,
      );
    }
  }

  get serverId(): string {
    return this.generatedServerId;
  }

  /** Database names in list_dbs order. */
  databaseNames(): string[] {
    return [...this.dbs.keys()].sort();
  }

  database(name: string): ServedDb | undefined {
    return this.dbs.get(name)?.db;
  }

  addDatabase(db: ServedDb, opts: { readOnly?: boolean } = {}): void {
    if (this.dbs.has(db.name)) {
      throw new OvsdbError("ovsdb error", `${db.name}: database is already being served`);
    }
    const history: DbEntry["history"] = [];
    const unsubscribe = db.onCommit((changes, txnId) => this.committed(db.name, changes, txnId));
    this.dbs.set(db.name, { db, history, unsubscribe, readOnly: opts.readOnly ?? false });
    this.onDatabasesChanged?.();
  }

  /**
   * Stops serving a database. Change-aware sessions get `monitor_canceled` for their
   * monitors on it; other sessions that monitor it are closed, as ovsdb-server does.
   */
  removeDatabase(name: string): void {
    const entry = this.dbs.get(name);
    if (!entry) return;
    entry.unsubscribe();
    this.dbs.delete(name);
    for (const s of this.sessions) {
      for (const [key, m] of s.monitors) {
        if (m.db !== name) continue;
        if (!s.changeAware) {
          s.conn.close();
          break;
        }
        s.monitors.delete(key);
        s.conn.notify("monitor_canceled", [m.monitor.id]);
      }
    }
    this.onDatabasesChanged?.();
  }

  private committed(db: string, changes: readonly JsonRowChange[], txnId: string): void {
    const entry = this.dbs.get(db);
    if (!entry) return;
    entry.history.push({ txnId, changes });
    // Trimmed in bulk (amortised O(1) per commit); `resume` looks at the last
    // `historyLimit` entries only.
    if (entry.history.length >= 2 * this.historyLimit)
      entry.history.splice(0, entry.history.length - this.historyLimit);
    for (const s of this.sessions) s.deliver(db, changes, txnId);
  }

  /**
   * Serves one already-connected stream. `probe`: whether the inactivity probe applies
   * (ovsdb-server probes TCP clients, not unix-socket ones).
   */
  attach(socket: Socket, probe = true): Session {
    let session: Session | null = null;
    const conn = new JsonRpcConnection(
      socket,
      {
        onRequest: (req) => this.handle(session!, req),
        onReadDone: () => this.flushLogs(),
        onClose: () => this.detach(session!),
      },
      this.options.limits,
    );
    conn.probeable = probe;
    session = new Session(conn, this.nextSessionId++);
    this.sessions.add(session);
    this.pending.set(session, new Map());
    return session;
  }

  /**
   * A session for a client in the same process (the IDL's in-process mode): requests
   * are dispatched exactly as socket requests are, replies resolve the returned
   * promises, and notifications call `onNotify` synchronously, inside the commit that
   * caused them, so a simulation sees them in a deterministic order.
   */
  connectInProcess(onNotify: (method: string, params: Json[]) => void): InProcessClient {
    const waiting = new Map<number, { resolve(v: Json): void; reject(e: Error): void }>();
    let nextId = 1;
    let closed = false;
    let session: Session | null = null;
    const peer = {
      received: 0,
      probeable: false,
      reply: (id: Json, result: Json) => {
        const w = waiting.get(id as number);
        waiting.delete(id as number);
        w?.resolve(result);
      },
      replyError: (id: Json, error: Json) => {
        const w = waiting.get(id as number);
        waiting.delete(id as number);
        w?.reject(new JsonRpcRemoteError(`request ${String(id)}`, error));
      },
      notify: (method: string, params: Json[]) => {
        if (!closed) onNotify(method, params);
      },
      sendRaw: () => !closed,
      close: () => {
        if (closed) return;
        closed = true;
        this.detach(session!);
        const gone = new JsonRpcError("OVSDB_JSONRPC_CLOSED", "In-process session closed");
        for (const w of waiting.values()) w.reject(gone);
        waiting.clear();
      },
    };
    session = new Session(peer, this.nextSessionId++);
    this.sessions.add(session);
    this.pending.set(session, new Map());
    return {
      request: (method, params) => {
        if (closed) {
          return Promise.reject(
            new JsonRpcError("OVSDB_JSONRPC_CLOSED", `Cannot send ${method}: session closed`),
          );
        }
        const id = nextId++;
        peer.received++;
        return new Promise<Json>((resolve, reject) => {
          waiting.set(id, { resolve, reject });
          this.handle(session!, { kind: "request", id, method, params });
        });
      },
      close: () => peer.close(),
    };
  }

  /**
   * Group commit at the end of a read: writes the log records of the commits that
   * read's requests made, which lets their replies go out in the same callback.
   */
  private flushLogs(): void {
    for (const entry of this.dbs.values()) entry.db.flushLog?.();
  }

  private detach(s: Session): void {
    if (!this.sessions.delete(s)) return;
    this.locks.releaseAll(s);
    s.monitors.clear();
    // A blocked `wait` of a client that went away must not stay queued forever.
    for (const state of this.pending.get(s)?.values() ?? []) state.cancel();
  }

  get sessionCount(): number {
    return this.sessions.size;
  }

  /** Starts listening on `punix:PATH` or `ptcp:PORT[:ADDR]` (ADDR defaults to 127.0.0.1). */
  async listen(remote: string): Promise<BoundRemote> {
    const probe = remote.startsWith("ptcp:");
    const server = createServer((socket) => this.attach(socket, probe));
    let m: RegExpMatchArray | null;
    if ((m = remote.match(/^punix:(.+)$/))) {
      const path = m[1]!;
      // ovsdb-server unlinks a stale socket left by a previous run.
      if (existsSync(path)) unlinkSync(path);
      await new Promise<void>((resolve, reject) => {
        server.once("error", reject);
        server.listen(path, () => resolve());
      });
      this.socketPaths.push(path);
      this.listeners.push(server);
      return { remote, address: path, port: null };
    }
    if ((m = remote.match(/^ptcp:(\d+)(?::(.+))?$/))) {
      const port = Number(m[1]);
      const addr = (m[2] ?? "127.0.0.1").replace(/^\[(.*)\]$/, "$1");
      if (port > 65535) throw new RemoteSyntaxError(remote);
      await new Promise<void>((resolve, reject) => {
        server.once("error", reject);
        server.listen(port, addr, () => resolve());
      });
      this.listeners.push(server);
      const bound = server.address();
      const boundPort = typeof bound === "object" && bound ? bound.port : port;
      return { remote, address: `${addr}:${boundPort}`, port: boundPort };
    }
    throw new RemoteSyntaxError(remote);
  }

  /** Stops listening, closes every session and the probe timer. */
  async close(): Promise<void> {
    if (this.probeHandle !== null) this.options.timers?.clearInterval(this.probeHandle);
    this.probeHandle = null;
    for (const s of [...this.sessions]) s.conn.close();
    await Promise.all(
      this.listeners.map((l) => new Promise<void>((resolve) => l.close(() => resolve()))),
    );
    this.listeners.length = 0;
    for (const p of this.socketPaths) if (existsSync(p)) unlinkSync(p);
    for (const entry of this.dbs.values()) entry.unsubscribe();
  }

  private probeAll(): void {
    for (const s of this.sessions) if (!s.probeTick()) s.conn.close();
  }

  private handle(session: Session, req: JsonRpcRequest): void {
    if (req.kind === "notify") {
      if (req.method === "cancel") this.cancel(session, req.params);
      return;
    }
    const handler: ServerMethod | undefined = Object.hasOwn(METHODS, req.method)
      ? METHODS[req.method as keyof typeof METHODS]
      : undefined;
    if (!handler) {
      session.conn.replyError(req.id, "unknown method");
      return;
    }
    let result: Json | symbol;
    try {
      result = handler.call(this, session, req);
    } catch (err) {
      this.replyFailure(session, req, err);
      return;
    }
    if (typeof result !== "symbol") session.conn.reply(req.id, result);
  }

  private replyFailure(session: Session, req: JsonRpcRequest, err: unknown): void {
    if (err instanceof BareError) session.conn.replyError(req.id, err.reply);
    else if (err instanceof OvsdbError)
      session.conn.replyError(req.id, err.toJson() as unknown as Json);
    else
      session.conn.replyError(req.id, {
        error: "ovsdb error",
        details: err instanceof Error ? err.message : String(err),
      });
  }

  private lookupDb(req: JsonRpcRequest): DbEntry {
    const name = req.params[0];
    if (typeof name !== "string") {
      throw syntaxError(req.params, null, `${req.method} request params must begin with <db-name>`);
    }
    const entry = this.dbs.get(name);
    if (!entry) {
      throw syntaxError(
        req.params,
        "unknown database",
        `${req.method} request specifies unknown database ${name}`,
      );
    }
    return entry;
  }

  // ---- methods (bound to the server through METHODS) -------------------------------

  listDbs(): Json {
    return this.databaseNames();
  }

  getSchema(_s: Session, req: JsonRpcRequest): Json {
    return this.lookupDb(req).db.schemaJson();
  }

  getServerId(): Json {
    return this.serverId;
  }

  setDbChangeAware(s: Session, req: JsonRpcRequest): Json {
    const v = req.params[0];
    if (req.params.length !== 1 || typeof v !== "boolean") {
      throw syntaxError(req.params, null, "set_db_change_aware: true or false parameter expected");
    }
    s.changeAware = v;
    return {};
  }

  /** Replies by itself once the commit is in the log (see `handle`). */
  transact(s: Session, req: JsonRpcRequest): Json | typeof DEFERRED {
    const entry = this.lookupDb(req);
    const pending = this.pending.get(s)!;
    const key = requestKey(req.id);
    if (pending.has(key)) throw new BareError("duplicate request ID");
    let ops = req.params.slice(1);
    // A write to a reserved database fails at that operation, as in ovsdb-server: the
    // operations before it run, its slot holds "not allowed", later slots are null.
    let refused: Json[] | null = null;
    if (entry.readOnly) {
      const at = ops.findIndex((op) => {
        const name = typeof op === "object" && op !== null && !Array.isArray(op) ? op.op : null;
        return typeof name === "string" && WRITE_OPS.has(name);
      });
      if (at >= 0) {
        const name = (ops[at] as { op: string }).op;
        refused = [
          {
            error: "not allowed",
            details: `${name} operation not allowed on table in reserved database ${entry.db.name}`,
          },
          ...ops.slice(at + 1).map(() => null),
        ];
        ops = ops.slice(0, at);
        if (ops.length === 0) return refused;
      }
    }
    const state = new PendingTransact(this.locks, s);
    pending.set(key, state);
    entry.db.transact(ops, state, (err, result) => {
      pending.delete(key);
      if (state.canceled) this.replyFailure(s, req, new CanceledError());
      else if (err) this.replyFailure(s, req, err);
      else if (refused) {
        const failed = result!.some((r) => r !== null && typeof r === "object" && "error" in r);
        s.conn.reply(req.id, failed ? result! : [...result!, ...refused]);
      } else s.conn.reply(req.id, result!);
    });
    return DEFERRED;
  }

  private cancel(s: Session, params: Json[]): void {
    if (params.length !== 1) return;
    const state = this.pending.get(s)?.get(requestKey(params[0]!));
    if (!state || state.canceled) return;
    state.cancel();
  }

  monitor(s: Session, req: JsonRpcRequest): Json {
    return this.createMonitor(s, req, 1);
  }

  monitorCond(s: Session, req: JsonRpcRequest): Json {
    return this.createMonitor(s, req, 2);
  }

  monitorCondSince(s: Session, req: JsonRpcRequest): Json {
    return this.createMonitor(s, req, 3);
  }

  private createMonitor(s: Session, req: JsonRpcRequest, version: MonitorVersion): Json {
    const entry = this.lookupDb(req);
    const want = version === 3 ? 4 : 3;
    if (req.params.length !== want && !(version === 3 && req.params.length === 3)) {
      throw syntaxError(req.params, null, "invalid parameters");
    }
    const [, monitorId, requests] = req.params;
    const key = JSON.stringify(monitorId);
    if (s.monitors.has(key)) throw syntaxError(monitorId ?? null, null, "duplicate monitor ID");
    const tables = parseMonitorRequests(entry.db, requests ?? null, version);
    const monitor = new Monitor(version, monitorId ?? null, entry.db.name, tables);
    const rows = (t: string) => entry.db.rows(t);
    let result: Json;
    if (version === 3) {
      const since = req.params[3];
      if (since !== undefined && (typeof since !== "string" || !UUID_RE.test(since))) {
        throw syntaxError(since, null, "last-txn-id must be UUID format.");
      }
      result = this.resume(entry, monitor, since ?? ZERO_UUID);
    } else {
      result = monitor.initial(rows);
    }
    s.monitors.set(key, { monitor, db: entry.db.name });
    return result;
  }

  /** monitor_cond_since's reply: `[found, lastTxnId, updates]`. */
  private resume(entry: DbEntry, monitor: Monitor, since: string): Json {
    const last = entry.db.lastTxnId;
    if (since !== ZERO_UUID) {
      if (since === last) return [true, last, {}];
      let at = -1;
      const oldest = Math.max(0, entry.history.length - this.historyLimit);
      for (let i = entry.history.length - 1; i >= oldest && at < 0; i--)
        if (entry.history[i]!.txnId === since) at = i;
      if (at >= 0) {
        const changes = collapseChanges(entry.history.slice(at + 1).map((h) => h.changes));
        return [true, last, monitor.updates(changes) ?? {}];
      }
    }
    return [false, last, monitor.initial((t) => entry.db.rows(t))];
  }

  monitorCondChange(s: Session, req: JsonRpcRequest): Json {
    if (req.params.length !== 3) throw syntaxError(req.params, null, "invalid parameters");
    const [oldId, newId, requests] = req.params;
    const oldKey = JSON.stringify(oldId);
    const found = s.monitors.get(oldKey);
    if (!found) throw syntaxError(oldId ?? null, null, "unknown monitor session");
    const newKey = JSON.stringify(newId);
    if (newKey !== oldKey && s.monitors.has(newKey)) {
      throw syntaxError(newId ?? null, null, "duplicate monitor ID");
    }
    if (found.monitor.version === 1) {
      throw syntaxError(req.params, null, "monitor_cond_change is not supported for monitor v1");
    }
    if (typeof requests !== "object" || requests === null || Array.isArray(requests)) {
      throw syntaxError(requests ?? null, null, "monitor-requests must be object");
    }
    const db = this.dbs.get(found.db)!.db;
    const updates: { [table: string]: Json } = {};
    const compiled: [TableMonitor, ReturnType<ServedDb["compileCondition"]> | null, Json][] = [];
    for (const [table, value] of Object.entries(requests)) {
      const tm = found.monitor.tables.get(table);
      if (!tm) throw syntaxError(requests, null, `no table named ${table} in monitor session`);
      const list = Array.isArray(value) ? value : [value];
      for (const r of list) {
        if (typeof r !== "object" || r === null || Array.isArray(r)) continue;
        if (r.columns !== undefined) {
          throw syntaxError(r, null, "changing columns is not supported by monitor_cond_change");
        }
        if (r.where !== undefined) {
          compiled.push([tm, db.compileCondition(table, r.where), r.where]);
        }
      }
    }
    for (const [tm, matcher, where] of compiled) {
      const before = tm.matcher;
      tm.matcher = isTrueCondition(where) ? null : matcher;
      tm.where = where;
      const delta = found.monitor.conditionChange(tm, before, db.rows(tm.table));
      if (Object.keys(delta).length > 0) updates[tm.table] = delta;
    }
    if (newKey !== oldKey) {
      s.monitors.delete(oldKey);
      const renamed = new Monitor(
        found.monitor.version,
        newId ?? null,
        found.monitor.dbName,
        found.monitor.tables,
      );
      s.monitors.set(newKey, { monitor: renamed, db: found.db });
    }
    if (Object.keys(updates).length > 0) {
      const m = s.monitors.get(newKey)!.monitor;
      s.conn.notify(
        m.notifyMethod,
        m.version === 3 ? [m.id, db.lastTxnId, updates] : [m.id, updates],
      );
    }
    return {};
  }

  monitorCancel(s: Session, req: JsonRpcRequest): Json {
    if (req.params.length !== 1) throw syntaxError(req.params, null, "invalid parameters");
    const key = JSON.stringify(req.params[0]);
    if (!s.monitors.delete(key)) throw new BareError("unknown monitor");
    return {};
  }

  private lockName(req: JsonRpcRequest): string {
    const name = req.params[0];
    if (req.params.length !== 1 || typeof name !== "string" || !LOCK_NAME_RE.test(name)) {
      throw syntaxError(req.params, null, `${req.method} request params must be <id>`);
    }
    return name;
  }

  lock(s: Session, req: JsonRpcRequest): Json {
    return this.acquire(s, req, "lock");
  }

  steal(s: Session, req: JsonRpcRequest): Json {
    return this.acquire(s, req, "steal");
  }

  private acquire(s: Session, req: JsonRpcRequest, mode: "lock" | "steal"): Json {
    const name = this.lockName(req);
    if (this.locks.isWaiting(name, s)) {
      throw syntaxError(req.params, null, `must issue "unlock" before new "${req.method}"`);
    }
    const locked = this.locks.acquire(name, s, mode);
    s.locks.add(name);
    return { locked };
  }

  unlock(s: Session, req: JsonRpcRequest): Json {
    const name = this.lockName(req);
    if (!this.locks.isWaiting(name, s)) {
      throw syntaxError(req.params, null, 'unlock: "unlock" without "lock" or "steal"');
    }
    this.locks.release(name, s);
    s.locks.delete(name);
    return {};
  }
}

/** A handler's return value meaning "I reply myself, later". */
const DEFERRED: unique symbol = Symbol("deferred reply");

/** Key of a request id in a session's pending map: numbers as is, anything else as JSON. */
function requestKey(id: Json): string | number {
  return typeof id === "number" ? id : JSON.stringify(id);
}

/**
 * A `transact` in progress: the context it runs with (lock ownership for `assert`, a
 * cancel signal made only if the request blocks in `wait` and so can be canceled).
 */
class PendingTransact implements TransactContext {
  canceled = false;
  private abort: AbortController | null = null;
  constructor(
    private readonly locks: LockTable,
    private readonly session: Session,
  ) {}
  isLockOwner(name: string): boolean {
    return this.locks.isOwner(name, this.session);
  }
  get signal(): AbortSignal {
    this.abort ??= new AbortController();
    return this.abort.signal;
  }
  cancel(): void {
    this.canceled = true;
    this.abort?.abort();
  }
}

class CanceledError extends BareError {
  constructor() {
    super("canceled");
  }
}

function isTrueCondition(where: Json): boolean {
  return Array.isArray(where) && (where.length === 0 || (where.length === 1 && where[0] === true));
}

function parseSelect(json: Json | undefined, table: string): MonitorSelect {
  const select = { initial: true, insert: true, delete: true, modify: true };
  if (json === undefined) return select;
  if (typeof json !== "object" || json === null || Array.isArray(json)) {
    throw syntaxError(
      json,
      null,
      `Parsing table ${table} failed: Type mismatch for member 'select'.`,
    );
  }
  for (const [k, v] of Object.entries(json)) {
    if (!(k in select)) {
      throw syntaxError(
        json,
        null,
        `Parsing table ${table} select failed: Member '${k}' is present but not allowed here.`,
      );
    }
    if (typeof v !== "boolean")
      throw syntaxError(
        json,
        null,
        `Parsing table ${table} select failed: Type mismatch for member '${k}'.`,
      );
    select[k as keyof MonitorSelect] = v;
  }
  return select;
}

/**
 * Parses `<monitor-requests>` (RFC 7047 section 4.1.5 and the monitor_cond extension)
 * into per-table monitors; errors as ovsdb_jsonrpc_parse_monitor_request() words them.
 */
function parseMonitorRequests(
  db: ServedDb,
  requests: Json,
  version: MonitorVersion,
): Map<string, TableMonitor> {
  if (typeof requests !== "object" || requests === null || Array.isArray(requests)) {
    throw syntaxError(requests, null, "monitor-requests must be object");
  }
  const out = new Map<string, TableMonitor>();
  for (const [table, value] of Object.entries(requests)) {
    const ts = db.schema.tables.get(table);
    // ovsdb-server attaches no "syntax" to this one.
    if (!ts) throw new OvsdbError("syntax error", `no table named ${table}`);
    const list = Array.isArray(value) ? value : [value];
    const columns: string[] = [];
    const types = new Map<string, ColumnType>();
    const select: MonitorSelect = { initial: false, insert: false, delete: false, modify: false };
    let where: Json | null = null;
    for (const r of list) {
      if (typeof r !== "object" || r === null || Array.isArray(r)) {
        throw syntaxError(r, null, `table ${table}: monitor request is not an object`);
      }
      for (const k of Object.keys(r)) {
        if (k !== "columns" && k !== "select" && !(k === "where" && version > 1)) {
          throw syntaxError(
            r,
            null,
            `Parsing table ${table} failed: Member '${k}' is present but not allowed here.`,
          );
        }
      }
      const sel = parseSelect(r.select, table);
      for (const k of Object.keys(select) as (keyof MonitorSelect)[]) select[k] ||= sel[k];
      if (r.where !== undefined) where = r.where;
      let names: string[];
      if (r.columns === undefined) {
        names = ts.columnList.filter((c) => c.name !== "_uuid").map((c) => c.name);
      } else {
        if (!Array.isArray(r.columns) || r.columns.some((c) => typeof c !== "string")) {
          throw syntaxError(r.columns ?? null, null, "array of column names expected");
        }
        names = r.columns as string[];
      }
      const mentioned = new Set<string>();
      for (const name of names) {
        const col = ts.columns.get(name);
        if (!col) throw syntaxError(r.columns ?? null, null, `${name} is not a valid column name`);
        if (mentioned.has(name)) {
          throw syntaxError(r.columns ?? null, null, `column ${name} mentioned more than once`);
        }
        mentioned.add(name);
        if (types.has(name)) continue;
        columns.push(name);
        types.set(name, col.type);
      }
    }
    const matcher =
      where === null || isTrueCondition(where) ? null : db.compileCondition(table, where);
    out.set(table, { table, columns, types, select, matcher, where });
  }
  return out;
}

type ServerMethod = (
  this: OvsdbServer,
  ...args: Parameters<MethodHandler>
) => ReturnType<MethodHandler>;

/** The dispatch table: every method ovsdb-server 3.1 answers, except `echo` (jsonrpc.ts). */
export const METHODS = {
  list_dbs: OvsdbServer.prototype.listDbs,
  get_schema: OvsdbServer.prototype.getSchema,
  get_server_id: OvsdbServer.prototype.getServerId,
  set_db_change_aware: OvsdbServer.prototype.setDbChangeAware,
  transact: OvsdbServer.prototype.transact,
  monitor: OvsdbServer.prototype.monitor,
  monitor_cond: OvsdbServer.prototype.monitorCond,
  monitor_cond_since: OvsdbServer.prototype.monitorCondSince,
  monitor_cond_change: OvsdbServer.prototype.monitorCondChange,
  monitor_cancel: OvsdbServer.prototype.monitorCancel,
  lock: OvsdbServer.prototype.lock,
  steal: OvsdbServer.prototype.steal,
  unlock: OvsdbServer.prototype.unlock,
} as const satisfies Record<string, ServerMethod>;
