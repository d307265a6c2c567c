/**
 * The client IDL ("interface definition language" layer, lib/ovsdb-idl.c): an
 * in-memory replica of the tables and columns a client cares about, kept current by a
 * monitor, plus transactions built against that replica. This is the part ovs-vswitchd
 * uses; ovsim's vswitchd reads its configuration through it.
 *
 * Glossary
 * - "replica": for each monitored table, uuid → row (every monitored column, defaults
 *   filled in), in RFC 7047 JSON.
 * - "seqno": bumped whenever the replica changes; cheap "did anything change?" test.
 * - "tracked changes": the insert/modify/delete list since `clearTracked()`, with the
 *   columns each modify touched (OVS's change tracking, ovsdb_idl_track_*).
 * - "verify": a guard the transaction sends as a `wait` op (`timeout: 0`, `until:
 *   "=="`) asserting a column still has the value the replica showed, exactly what
 *   ovs-vsctl sends; if another client changed it first, the commit reports
 *   "try again", and the caller re-reads and retries.
 *
 * Session life: `connect()` sends `monitor_cond_since` with the last transaction id
 * it saw (falling back to `monitor_cond`, then `monitor`, on "unknown method", as the
 * C IDL does). After a reconnect the server answers `[true, id, changes]` if it still
 * has the history — the IDL applies only those — or `[false, id, everything]`, and the
 * IDL replaces its replica, tracking the difference as changes.
 *
 * Transports: a socket (`unix:PATH`, `tcp:ADDR:PORT`) or an in-process session on an
 * `OvsdbServer` (no sockets, notifications delivered synchronously at commit).
 *
 * Does not: reconnect by itself (the owner calls `connect()` again, since timers live
 * in sim/ and cli/), support "partial map" updates, or write ephemeral-only columns.
 */
import { connect as netConnect } from "node:net";
import type { Database } from "./database.js";
import { datumApplyDiff, datumFromJson, datumToJson } from "./datum.js";
import { type Json, JsonRpcConnection, JsonRpcRemoteError } from "./jsonrpc.js";
import { defaultDatumJson, type JsonRow } from "./monitor.js";
import type { DatabaseSchema, TableSchema } from "./schema.js";
import { serveDatabase } from "./served-db.js";
import { type OvsdbServer, OvsdbServer as OvsdbServerClass } from "./server.js";
import { IdlTxnError, JsonRpcError } from "./server-errors.js";
import { type Atom, type ColumnType, ZERO_UUID } from "./types.js";

/** What the IDL needs from a connection to the server. */
export interface IdlTransport {
  request(method: string, params: Json[]): Promise<Json>;
  close(): void;
}

/** Opens a transport; `onNotify` gets notifications, `onClose` the end of the session. */
export type IdlConnector = (
  onNotify: (method: string, params: Json[]) => void,
  onClose: () => void,
) => Promise<IdlTransport>;

export interface IdlOptions {
  /** The database's schema (the client's copy, used for column types). */
  readonly schema: DatabaseSchema;
  /** Tables to replicate and their columns; by default every table and column. */
  readonly tables?: Readonly<Record<string, readonly string[] | "all">>;
  /** Called after every change to the replica (a batch of row updates). */
  readonly onChange?: (idl: Idl) => void;
  /**
   * Called when the session ends without `close()` (server gone, connection lost). The
   * owner reconnects by calling `connect()` again, after a backoff of its choosing.
   */
  readonly onDisconnect?: (idl: Idl) => void;
}

export type IdlChangeKind = "insert" | "modify" | "delete";

export interface IdlChange {
  readonly table: string;
  readonly uuid: string;
  readonly kind: IdlChangeKind;
  /** For "modify": the columns that changed. */
  readonly columns: readonly string[];
}

/** A decoded column value: scalar atom, optional atom (undefined when empty), array, Map. */
export type IdlValue = Atom | undefined | Atom[] | Map<Atom, Atom>;

/** One replicated row; reads come from the replica, never from the server. */
export class IdlRow {
  constructor(
    readonly table: string,
    readonly uuid: string,
    private readonly idl: Idl,
    /** Row JSON at the time this handle was made; `json` re-reads the replica. */
    private readonly tableSchema: TableSchema,
  ) {}

  /** Current RFC 7047 JSON of the row (every monitored column). */
  get json(): JsonRow | undefined {
    return this.idl.rowJson(this.table, this.uuid);
  }

  /** The datum JSON of one column. */
  get(column: string): Json | undefined {
    return this.json?.[column];
  }

  /**
   * A column decoded to JS: a scalar column gives its atom; an optional scalar its
   * atom or undefined; a set an array; a map a `Map`. Uuids are their strings.
   */
  value(column: string): IdlValue {
    const c = this.tableSchema.columns.get(column);
    const v = this.get(column);
    if (!c || v === undefined) return undefined;
    const d = datumFromJson(c.type, v);
    if (c.type.value) return new Map(d.keys.map((k, i) => [k, d.values![i]!]));
    if (c.type.max === 1) return d.keys[0];
    return [...d.keys];
  }

  /** A string (or optional string) column; undefined when empty or not a string. */
  string(column: string): string | undefined {
    const v = this.value(column);
    return typeof v === "string" ? v : undefined;
  }

  /** An integer or real (or optional) column. */
  number(column: string): number | undefined {
    const v = this.value(column);
    return typeof v === "number" ? v : undefined;
  }

  boolean(column: string): boolean | undefined {
    const v = this.value(column);
    return typeof v === "boolean" ? v : undefined;
  }

  /** A set column (e.g. a list of uuids) as an array; a scalar as a 0/1-element array. */
  set(column: string): Atom[] {
    const v = this.value(column);
    if (v === undefined) return [];
    if (Array.isArray(v)) return v;
    if (v instanceof Map) return [...v.keys()];
    return [v];
  }

  /** A map column (e.g. `options`, `external_ids`) with string keys and values. */
  stringMap(column: string): Map<string, string> {
    const v = this.value(column);
    const out = new Map<string, string>();
    if (v instanceof Map) for (const [k, x] of v) out.set(String(k), String(x));
    return out;
  }
}

export interface IdlTxnResult {
  readonly status: "success" | "try again" | "error";
  /** The transact reply's result array. */
  readonly result: Json[];
  /** uuid-name → the uuid the server assigned, for rows this transaction inserted. */
  readonly inserted: ReadonlyMap<string, string>;
  /** For "error": the first error object in `result`. */
  readonly error?: Json;
}

/** A transaction being built; `commit()` sends it. */
export class IdlTxn {
  private readonly guards: Json[] = [];
  private readonly ops: Json[] = [];
  private readonly names: string[] = [];
  private readonly opIndexOfName = new Map<string, number>();
  private nextName = 1;

  constructor(private readonly idl: Idl) {}

  /**
   * Inserts a row; returns the uuid-name to reference it (`["named-uuid", name]`) in
   * later operations of this transaction.
   */
  insert(table: string, row: JsonRow, uuidName?: string): string {
    const name = uuidName ?? `row${this.nextName++}`;
    this.opIndexOfName.set(name, this.ops.length);
    this.names.push(name);
    this.ops.push({ op: "insert", table, row, "uuid-name": name });
    return name;
  }

  update(table: string, uuid: string, row: JsonRow): this {
    this.ops.push({ op: "update", table, where: [["_uuid", "==", ["uuid", uuid]]], row });
    return this;
  }

  /** RFC 7047 mutations, e.g. `[["bridges", "insert", ["set", [...]]]]`. */
  mutate(table: string, uuid: string, mutations: Json[]): this {
    this.ops.push({ op: "mutate", table, where: [["_uuid", "==", ["uuid", uuid]]], mutations });
    return this;
  }

  delete(table: string, uuid: string): this {
    this.ops.push({ op: "delete", table, where: [["_uuid", "==", ["uuid", uuid]]] });
    return this;
  }

  /**
   * Guards the commit on `columns` of a row still holding the values the replica shows
   * now (ovsdb_idl_txn_verify), as a `wait` op placed before every change.
   */
  verify(table: string, uuid: string, columns: readonly string[]): this {
    const row = this.idl.rowJson(table, uuid);
    if (!row) throw new IdlTxnError(`Cannot verify ${table} row ${uuid}: not in the replica`, null);
    const values: JsonRow = {};
    for (const c of columns) values[c] = row[c] ?? null;
    this.guards.push({
      op: "wait",
      table,
      timeout: 0,
      where: [["_uuid", "==", ["uuid", uuid]]],
      columns: [...columns],
      until: "==",
      rows: [values],
    });
    return this;
  }

  /** Commits only if this session holds `lock` (RFC 7047 section 5.2.10). */
  assertLock(lock: string): this {
    this.guards.push({ op: "assert", lock });
    return this;
  }

  comment(text: string): this {
    this.ops.push({ op: "comment", comment: text });
    return this;
  }

  async commit(): Promise<IdlTxnResult> {
    const all = [...this.guards, ...this.ops];
    const reply = await this.idl.transport().request("transact", [this.idl.dbName, ...all]);
    if (!Array.isArray(reply)) {
      throw new IdlTxnError(`transact returned ${JSON.stringify(reply)}, not an array`, reply);
    }
    const inserted = new Map<string, string>();
    for (const name of this.names) {
      const slot = reply[this.guards.length + this.opIndexOfName.get(name)!];
      const uuid =
        slot && typeof slot === "object" && !Array.isArray(slot) && Array.isArray(slot.uuid)
          ? (slot.uuid[1] as string)
          : undefined;
      if (uuid) inserted.set(name, uuid);
    }
    const firstError = reply.find(
      (r) => r !== null && typeof r === "object" && !Array.isArray(r) && "error" in r,
    ) as { error: Json } | undefined;
    if (!firstError) return { status: "success", result: reply, inserted };
    const status = firstError.error === "timed out" ? "try again" : "error";
    return { status, result: reply, inserted, error: firstError as unknown as Json };
  }
}

const MONID: Json = ["monid", "ovsim-idl"];

export class Idl {
  private readonly replica = new Map<string, Map<string, JsonRow>>();
  private readonly columns = new Map<string, string[]>();
  private conn: IdlTransport | null = null;
  private tracked: IdlChange[] = [];
  seqno = 0;
  /** The last transaction id seen, sent as monitor_cond_since's last-txn-id. */
  lastTxnId = ZERO_UUID;
  /** How the last `connect()` resumed: true when the server sent only changes. */
  resumed = false;
  /** Which monitor method the server accepted. */
  monitorMethod: "monitor_cond_since" | "monitor_cond" | "monitor" | null = null;

  constructor(
    private readonly connector: IdlConnector,
    readonly dbName: string,
    private readonly options: IdlOptions,
  ) {
    for (const [name, ts] of options.schema.tables) {
      const wanted = options.tables ? options.tables[name] : "all";
      if (wanted === undefined) continue;
      const cols =
        wanted === "all"
          ? ts.columnList
              .filter((c) => c.name !== "_uuid" && c.name !== "_version")
              .map((c) => c.name)
          : [...wanted];
      this.columns.set(name, cols);
      this.replica.set(name, new Map());
    }
  }

  /** An IDL over a socket: `unix:PATH` or `tcp:ADDR:PORT`. */
  static socket(remote: string, dbName: string, options: IdlOptions): Idl {
    return new Idl(socketConnector(remote), dbName, options);
  }

  /** An IDL on an in-process session of `server` (no sockets). */
  static inProcess(server: OvsdbServer, dbName: string, options: IdlOptions): Idl {
    return new Idl(async (onNotify) => server.connectInProcess(onNotify), dbName, options);
  }

  /**
   * An IDL directly on a `Database` in this process: a private server serves just that
   * database, and the IDL talks to it without sockets.
   */
  static forDatabase(db: Database, options: IdlOptions): Idl {
    const server = new OvsdbServerClass();
    server.addDatabase(serveDatabase(db));
    return Idl.inProcess(server, db.name, options);
  }

  get isConnected(): boolean {
    return this.conn !== null;
  }

  /** @internal the live transport (IdlTxn uses it). */
  transport(): IdlTransport {
    if (!this.conn)
      throw new JsonRpcError("OVSDB_JSONRPC_CLOSED", "IDL is not connected; call connect() first");
    return this.conn;
  }

  /** Connects (or reconnects) and brings the replica up to date. */
  async connect(): Promise<void> {
    this.close();
    const conn = await this.connector(
      (method, params) => this.onNotify(method, params),
      () => {
        if (this.conn !== conn) return;
        this.conn = null;
        this.options.onDisconnect?.(this);
      },
    );
    this.conn = conn;
    const requests: { [table: string]: Json } = {};
    for (const [t, cols] of this.columns) requests[t] = [{ columns: cols }];
    try {
      const r = await conn.request("monitor_cond_since", [
        this.dbName,
        MONID,
        requests,
        this.lastTxnId,
      ]);
      this.monitorMethod = "monitor_cond_since";
      const [found, last, updates] = r as [boolean, string, { [t: string]: Json }];
      this.resumed = found;
      if (!found) this.replaceReplica(updates);
      else this.apply(updates);
      this.lastTxnId = last;
    } catch (err) {
      if (!(err instanceof JsonRpcRemoteError) || err.error !== "unknown method") throw err;
      this.resumed = false;
      try {
        const r = await conn.request("monitor_cond", [this.dbName, MONID, requests]);
        this.monitorMethod = "monitor_cond";
        this.replaceReplica(r as { [t: string]: Json });
      } catch (err2) {
        if (!(err2 instanceof JsonRpcRemoteError) || err2.error !== "unknown method") throw err2;
        const r = await conn.request("monitor", [this.dbName, MONID, requests]);
        this.monitorMethod = "monitor";
        this.replaceReplica(r as { [t: string]: Json });
      }
    }
    this.changed();
  }

  close(): void {
    const conn = this.conn;
    this.conn = null;
    conn?.close();
  }

  /** Rows of a replicated table. */
  rows(table: string): IdlRow[] {
    const t = this.replica.get(table);
    const ts = this.options.schema.tables.get(table);
    if (!t || !ts) return [];
    return [...t.keys()].map((uuid) => new IdlRow(table, uuid, this, ts));
  }

  row(table: string, uuid: string): IdlRow | undefined {
    const ts = this.options.schema.tables.get(table);
    return ts && this.replica.get(table)?.has(uuid) ? new IdlRow(table, uuid, this, ts) : undefined;
  }

  /** @internal current JSON of a replicated row. */
  rowJson(table: string, uuid: string): JsonRow | undefined {
    return this.replica.get(table)?.get(uuid);
  }

  /** Changes since the last `clearTracked()`, in arrival order. */
  trackedChanges(): readonly IdlChange[] {
    return this.tracked;
  }

  clearTracked(): void {
    this.tracked = [];
  }

  txn(): IdlTxn {
    return new IdlTxn(this);
  }

  /** Runs `build` and commits, retrying on "try again" up to `attempts` times. */
  async transact(build: (txn: IdlTxn) => void, attempts = 5): Promise<IdlTxnResult> {
    let last: IdlTxnResult | null = null;
    for (let i = 0; i < attempts; i++) {
      const txn = this.txn();
      build(txn);
      last = await txn.commit();
      if (last.status !== "try again") return last;
    }
    return last!;
  }

  private onNotify(method: string, params: Json[]): void {
    if (method === "update3" && params.length === 3) {
      this.apply(params[2] as { [t: string]: Json });
      if (typeof params[1] === "string") this.lastTxnId = params[1];
    } else if ((method === "update2" || method === "update") && params.length === 2) {
      this.apply(params[1] as { [t: string]: Json });
    } else {
      return;
    }
    this.changed();
  }

  private changed(): void {
    this.seqno++;
    this.options.onChange?.(this);
  }

  private fullRow(table: string, partial: JsonRow): JsonRow {
    const ts = this.options.schema.tables.get(table)!;
    const row: JsonRow = {};
    for (const c of this.columns.get(table) ?? []) {
      const v = partial[c];
      row[c] = v !== undefined ? v : defaultDatumJson(ts.columns.get(c)!.type);
    }
    return row;
  }

  /** Applies a table-updates object of any monitor version. */
  private apply(updates: { [table: string]: Json }): void {
    for (const [table, rows] of Object.entries(updates ?? {})) {
      const t = this.replica.get(table);
      if (!t || typeof rows !== "object" || rows === null || Array.isArray(rows)) continue;
      for (const [uuid, u] of Object.entries(rows)) {
        if (typeof u !== "object" || u === null || Array.isArray(u)) continue;
        this.applyRow(table, t, uuid, u);
      }
    }
  }

  private applyRow(
    table: string,
    t: Map<string, JsonRow>,
    uuid: string,
    u: { [k: string]: Json },
  ): void {
    const initial = (u.initial ?? u.insert) as JsonRow | undefined;
    if (initial !== undefined) {
      const existed = t.has(uuid);
      t.set(uuid, this.fullRow(table, initial));
      this.track(table, uuid, existed ? "modify" : "insert", []);
      return;
    }
    if ("delete" in u || (u.old !== undefined && u.new === undefined)) {
      if (t.delete(uuid)) this.track(table, uuid, "delete", []);
      return;
    }
    if (u.modify !== undefined) {
      const cur = t.get(uuid);
      if (!cur) return;
      const ts = this.options.schema.tables.get(table)!;
      const next: JsonRow = { ...cur };
      const cols: string[] = [];
      for (const [c, diff] of Object.entries(u.modify as JsonRow)) {
        const col = ts.columns.get(c);
        if (!col) continue;
        next[c] = applyDiff(col.type, cur[c] ?? defaultDatumJson(col.type), diff);
        cols.push(c);
      }
      t.set(uuid, next);
      this.track(table, uuid, "modify", cols);
      return;
    }
    if (u.new !== undefined) {
      const cur = t.get(uuid);
      const next = this.fullRow(table, u.new as JsonRow);
      t.set(uuid, next);
      const cols = cur
        ? Object.keys(next).filter((c) => JSON.stringify(cur[c]) !== JSON.stringify(next[c]))
        : [];
      this.track(table, uuid, cur ? "modify" : "insert", cols);
    }
  }

  /** A `[false, ...]` resume or a first monitor: the replica becomes exactly `updates`. */
  private replaceReplica(updates: { [table: string]: Json }): void {
    const before = new Map<string, Map<string, JsonRow>>();
    for (const [name, t] of this.replica) {
      before.set(name, new Map(t));
      t.clear();
    }
    const savedTracked = this.tracked;
    this.tracked = [];
    this.apply(updates);
    this.tracked = savedTracked;
    for (const [name, t] of this.replica) {
      const old = before.get(name)!;
      for (const [uuid, row] of t) {
        const prev = old.get(uuid);
        if (!prev) this.track(name, uuid, "insert", []);
        else {
          const cols = Object.keys(row).filter(
            (c) => JSON.stringify(prev[c]) !== JSON.stringify(row[c]),
          );
          if (cols.length > 0) this.track(name, uuid, "modify", cols);
        }
      }
      for (const uuid of old.keys()) if (!t.has(uuid)) this.track(name, uuid, "delete", []);
    }
  }

  private track(table: string, uuid: string, kind: IdlChangeKind, columns: string[]): void {
    this.tracked.push({ table, uuid, kind, columns });
  }
}

/** Applies an update2 "modify" diff to a column value (the inverse of datumDiff). */
function applyDiff(type: ColumnType, current: Json, diff: Json): Json {
  if (!type.value && type.max === 1) return diff;
  const loose: ColumnType = { ...type, min: 0, max: Number.POSITIVE_INFINITY };
  const cur = datumFromJson(loose, current);
  const d = datumFromJson(loose, diff);
  return datumToJson(type, datumApplyDiff(cur, d)) as Json;
}

function socketConnector(remote: string): IdlConnector {
  return (onNotify, onClose) =>
    new Promise<IdlTransport>((resolve, reject) => {
      let m: RegExpMatchArray | null;
      const socket = (m = remote.match(/^unix:(.+)$/))
        ? netConnect(m[1]!)
        : (m = remote.match(/^tcp:(.+):(\d+)$/))
          ? netConnect(Number(m[2]), m[1]!.replace(/^\[(.*)\]$/, "$1"))
          : null;
      if (!socket) {
        reject(
          new JsonRpcError(
            "OVSDB_REMOTE_SYNTAX",
            `Cannot connect to "${remote}": expected unix:PATH or tcp:ADDR:PORT`,
          ),
        );
        return;
      }
      socket.once("error", reject);
      socket.once("connect", () => {
        socket.off("error", reject);
        const conn = new JsonRpcConnection(socket, {
          onRequest: (msg) => onNotify(msg.method, msg.params),
          onClose: () => onClose(),
        });
        resolve(conn);
      });
    });
}
