/**
 * One client's session with the OVSDB server (ovsdb/jsonrpc-server.c's
 * ovsdb_jsonrpc_session): its JSON-RPC connection, its monitors, its lock waiters and
 * the inactivity probe.
 *
 * Ordering promise, as ovsdb_jsonrpc_session_send(): a commit's update notifications
 * are written to every monitoring session synchronously from the commit listener, so a
 * client always sees the `update*` of a transaction before that transaction's reply.
 *
 * Inactivity probe (lib/jsonrpc.c + lib/reconnect.c): when a TCP session has received
 * nothing for a probe interval the server sends `{"id":"echo","method":"echo",
 * "params":[]}`; if another interval passes in silence it closes the session. Unix
 * socket sessions are not probed, as in OVS.
 *
 * Does not: parse JSON (jsonrpc.ts), know method semantics (server.ts's dispatch table).
 */
import type { Json, JsonRpcRequest } from "./jsonrpc.js";
import type { LockNotifier } from "./lock.js";
import type { JsonRowChange, Monitor } from "./monitor.js";

/**
 * The client end as the session sees it: a `JsonRpcConnection` over a socket, or an
 * in-process peer (server.ts `connectInProcess`) that calls back directly.
 */
export interface SessionPeer {
  reply(id: Json, result: Json): void;
  replyError(id: Json, error: Json): void;
  notify(method: string, params: Json[]): void;
  sendRaw(text: string): boolean;
  close(): void;
  /** Messages received so far; the inactivity probe watches it change. */
  readonly received: number;
  /** False for in-process peers, which cannot go silent. */
  readonly probeable: boolean;
}

export interface SessionMonitor {
  readonly monitor: Monitor;
  /** Key of the database's entry in the server (its name). */
  readonly db: string;
}

export class Session implements LockNotifier {
  /** Monitors by `JSON.stringify(monitorId)`. */
  readonly monitors = new Map<string, SessionMonitor>();
  /** Lock names this session has a waiter for. */
  readonly locks = new Set<string>();
  /** set_db_change_aware: the client wants to hear about databases going away. */
  changeAware = false;
  private lastReceived = -1;
  private probeOutstanding = false;

  constructor(
    readonly conn: SessionPeer,
    readonly id: number,
  ) {}

  /** Sends the notifications a commit to database `db` causes for this session. */
  deliver(db: string, changes: readonly JsonRowChange[], txnId: string): void {
    for (const { monitor, db: name } of this.monitors.values()) {
      if (name !== db) continue;
      const updates = monitor.updates(changes);
      if (!updates) continue;
      const params: Json[] =
        monitor.version === 3 ? [monitor.id, txnId, updates] : [monitor.id, updates];
      this.conn.notify(monitor.notifyMethod, params);
    }
  }

  locked(name: string): void {
    this.conn.notify("locked", [name]);
  }

  stolen(name: string): void {
    this.conn.notify("stolen", [name]);
  }

  /**
   * One tick of the inactivity probe; call every probe interval. Returns false when
   * the session should be closed for silence.
   */
  probeTick(): boolean {
    if (!this.conn.probeable) return true;
    if (this.conn.received !== this.lastReceived) {
      this.lastReceived = this.conn.received;
      this.probeOutstanding = false;
      return true;
    }
    if (this.probeOutstanding) return false;
    this.probeOutstanding = true;
    this.conn.sendRaw('{"id":"echo","method":"echo","params":[]}');
    return true;
  }
}

/**
 * A request handler in the server's dispatch table: returns the result, or a symbol
 * (server.ts's DEFERRED) when it replies by itself later.
 */
export type MethodHandler = (session: Session, req: JsonRpcRequest) => Json | symbol;
