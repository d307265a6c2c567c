/**
 * Error catalogue of the OVSDB server side: JSON-RPC framing, sessions, monitors, locks,
 * the IDL and the `ovsdb-server` command. (The engine's own errors live in errors.ts.)
 *
 * Every error has a stable `code`; messages say what was wrong and what to do. Errors
 * in a client's request are not here: they are the engine's `OvsdbError` (errors.ts),
 * whose `toJson()` is exactly the reply object ovsdb-server sends.
 */

export type ServerErrorCode =
  | "OVSDB_JSON_SYNTAX"
  | "OVSDB_JSON_TOO_DEEP"
  | "OVSDB_JSON_TOO_LARGE"
  | "OVSDB_JSONRPC_INVALID"
  | "OVSDB_JSONRPC_CLOSED"
  | "OVSDB_JSONRPC_REMOTE_ERROR"
  | "OVSDB_JSONRPC_BACKLOG"
  | "OVSDB_REMOTE_SYNTAX"
  | "OVSDB_IDL_TXN";

/** A framing or session failure: the connection it happened on is closed. */
export class JsonRpcError extends Error {
  constructor(
    readonly code: ServerErrorCode,
    message: string,
  ) {
    super(message);
    this.name = "JsonRpcError";
  }
}

/** The peer answered a request with an error reply; `error` is its JSON as sent. */
export class JsonRpcRemoteError extends Error {
  readonly code: ServerErrorCode = "OVSDB_JSONRPC_REMOTE_ERROR";
  constructor(
    readonly method: string,
    readonly error: unknown,
  ) {
    super(`${method} failed: ${JSON.stringify(error)}`);
    this.name = "JsonRpcRemoteError";
  }
}

/** A `--remote` that is neither `punix:PATH` nor `ptcp:PORT[:ADDR]`. */
export class RemoteSyntaxError extends Error {
  readonly code: ServerErrorCode = "OVSDB_REMOTE_SYNTAX";
  constructor(remote: string) {
    super(
      `Cannot listen on "${remote}": expected punix:PATH or ptcp:PORT[:ADDR] (e.g. ptcp:6640:127.0.0.1)`,
    );
    this.name = "RemoteSyntaxError";
  }
}

/** An IDL transaction that the server rejected or that could not be sent. */
export class IdlTxnError extends Error {
  readonly code: ServerErrorCode = "OVSDB_IDL_TXN";
  constructor(
    message: string,
    readonly result: unknown,
  ) {
    super(message);
    this.name = "IdlTxnError";
  }
}
