/**
 * JSON-RPC 1.0 as Open vSwitch speaks it (lib/jsonrpc.c, RFC 7047 section 4): a byte
 * stream of concatenated JSON values with no delimiters, each value one message.
 *
 * Promises:
 * - `JsonStreamParser` is incremental: feed it chunks of any size, split anywhere (even
 *   inside a multi-byte UTF-8 character), and it returns each complete top-level value
 *   once. It only scans bytes (strings, escapes, bracket depth) to find where a value
 *   ends, then hands that one slice to `JSON.parse`, so a large message costs one pass.
 * - Limits: a top-level value must be an object or an array (as OVS's parser demands),
 *   nesting deeper than `maxDepth` and a message longer than `maxMessageBytes` are
 *   errors. Messages before the error are still delivered; after it the parser is
 *   poisoned and the caller closes that connection, which is what ovsdb-server does;
 *   other connections are unaffected.
 * - `classifyMessage` turns a parsed value into a typed request / notification / reply /
 *   error, or explains why it is not JSON-RPC.
 * - `JsonRpcConnection` wraps a socket: sends messages, parses incoming ones, tracks
 *   outstanding requests by id, and answers the peer's `echo` requests itself.
 *   What a read's messages cause to be sent leaves before that read's callback
 *   returns (see `onReadDone`); anything sent later leaves at the end of the tick.
 *
 * Does not: retry, reconnect (the IDL does), or interpret any method.
 */
import type { Socket } from "node:net";
import { queueReaction } from "./microtask.js";
import { JsonRpcError, JsonRpcRemoteError } from "./server-errors.js";

export { JsonRpcRemoteError };

/** A JSON value as it travels on the wire. */
export type Json = null | boolean | number | string | Json[] | { [key: string]: Json };

/** `{"id": X, "method": M, "params": [...]}`; a notification when `id` is null. */
export interface JsonRpcRequest {
  readonly kind: "request" | "notify";
  readonly id: Json;
  readonly method: string;
  readonly params: Json[];
}

/** `{"id": X, "result": R, "error": null}`. */
export interface JsonRpcReply {
  readonly kind: "reply";
  readonly id: Json;
  readonly result: Json;
}

/** `{"id": X, "error": E}` (OVS leaves `result` out of error replies). */
export interface JsonRpcErrorReply {
  readonly kind: "error";
  readonly id: Json;
  readonly error: Json;
}

export type JsonRpcMessage = JsonRpcRequest | JsonRpcReply | JsonRpcErrorReply;

export interface JsonStreamLimits {
  /** Deepest bracket nesting accepted; OVS's own parser stops at 1000. */
  readonly maxDepth: number;
  /** Longest single message in bytes. */
  readonly maxMessageBytes: number;
  /**
   * Most bytes queued for a peer that is not reading (beyond what the kernel holds)
   * before the connection is dropped, so one stuck client cannot exhaust memory.
   */
  readonly maxBacklogBytes: number;
}

export const DEFAULT_JSON_LIMITS: JsonStreamLimits = {
  maxDepth: 1000,
  maxMessageBytes: 64 * 1024 * 1024,
  maxBacklogBytes: 256 * 1024 * 1024,
};

/** Where one message ends and the next begins, with nothing in between. */
const BACK_TO_BACK = Buffer.from("}{", "latin1");

const CH_QUOTE = 0x22;
const CH_BACKSLASH = 0x5c;
const CH_LBRACE = 0x7b;
const CH_RBRACE = 0x7d;
const CH_LBRACKET = 0x5b;
const CH_RBRACKET = 0x5d;

function isJsonSpace(c: number): boolean {
  return c === 0x20 || c === 0x0a || c === 0x0d || c === 0x09;
}

/**
 * Splits a byte stream into top-level JSON values. Owns no socket; `feed` returns the
 * values completed by this chunk, or throws `JsonRpcError` (then every later `feed`
 * throws the same error).
 */
export class JsonStreamParser {
  private readonly limits: JsonStreamLimits;
  /** Bytes of the message in progress, from earlier chunks. */
  private pending: Buffer[] = [];
  private pendingBytes = 0;
  private depth = 0;
  private inString = false;
  private escaped = false;
  private failure: JsonRpcError | null = null;

  constructor(limits: Partial<JsonStreamLimits> = {}) {
    this.limits = { ...DEFAULT_JSON_LIMITS, ...limits };
  }

  /** True when no partial message is buffered (a clean point to close). */
  get idle(): boolean {
    return this.pendingBytes === 0 && this.depth === 0;
  }

  /** The error that stopped this parser, if any; the connection must then close. */
  get error(): JsonRpcError | null {
    return this.failure;
  }

  /**
   * Returns the values this chunk completes. Never throws: on bad input it returns the
   * values that came before the error and sets `error`; later calls return nothing.
   */
  feed(chunk: Uint8Array): Json[] {
    const out: Json[] = [];
    if (this.failure) return out;
    const buf = Buffer.isBuffer(chunk)
      ? chunk
      : Buffer.from(chunk.buffer, chunk.byteOffset, chunk.byteLength);
    if (this.mayBeOneMessage(buf)) {
      try {
        out.push(JSON.parse(buf.toString("utf8")) as Json);
        return out;
      } catch {
        // Not exactly one message after all: the scanner finds out what it is.
      }
    }
    try {
      this.scan(buf, out);
    } catch (err) {
      this.failure =
        err instanceof JsonRpcError
          ? err
          : new JsonRpcError(
              "OVSDB_JSON_SYNTAX",
              `Cannot parse JSON-RPC input: ${(err as Error).message}`,
            );
      this.pending = [];
      this.pendingBytes = 0;
    }
    return out;
  }

  /**
   * Whether `buf` may be exactly one whole message, the usual read of a client that
   * waits for each reply; `feed` then hands it to JSON.parse whole, skipping the byte
   * scan, and scans only if that fails. Only when the outcome cannot differ: nothing
   * is pending, it is an object from first byte to last, it holds no "}{" (messages
   * back to back, as a pipelining client sends them), and it is too short to nest
   * deeper than `maxDepth` (each level takes two bytes) or to exceed the size limit.
   */
  private mayBeOneMessage(buf: Buffer): boolean {
    const n = buf.length;
    return (
      this.depth === 0 &&
      this.pendingBytes === 0 &&
      n >= 2 &&
      n <= 2 * this.limits.maxDepth &&
      n <= this.limits.maxMessageBytes &&
      buf[0] === CH_LBRACE &&
      buf[n - 1] === CH_RBRACE &&
      buf.indexOf(BACK_TO_BACK) < 0
    );
  }

  private scan(buf: Buffer, out: Json[]): void {
    let start = this.depth > 0 ? 0 : -1;
    const n = buf.length;
    for (let i = 0; i < n; i++) {
      const c = buf[i]!;
      if (this.depth === 0) {
        if (isJsonSpace(c)) continue;
        if (c !== CH_LBRACE && c !== CH_LBRACKET) {
          throw new JsonRpcError(
            "OVSDB_JSON_SYNTAX",
            `Cannot parse JSON-RPC input: a message must start with '{' or '[', got byte 0x${c.toString(16)}`,
          );
        }
        start = i;
        this.depth = 1;
        continue;
      }
      if (this.inString) {
        if (this.escaped) this.escaped = false;
        else if (c === CH_BACKSLASH) this.escaped = true;
        else if (c === CH_QUOTE) this.inString = false;
        continue;
      }
      if (c === CH_QUOTE) this.inString = true;
      else if (c === CH_LBRACE || c === CH_LBRACKET) {
        if (++this.depth > this.limits.maxDepth) {
          throw new JsonRpcError(
            "OVSDB_JSON_TOO_DEEP",
            `Cannot parse JSON-RPC input: nesting deeper than ${this.limits.maxDepth} levels`,
          );
        }
      } else if (c === CH_RBRACE || c === CH_RBRACKET) {
        if (--this.depth === 0) {
          out.push(this.complete(buf, start, i + 1));
          start = -1;
        }
      }
    }
    if (this.depth > 0 && start >= 0) {
      const tail = buf.subarray(start);
      this.pendingBytes += tail.length;
      if (this.pendingBytes > this.limits.maxMessageBytes) this.tooLarge();
      // Copy: the socket may reuse its chunk buffer after we return.
      this.pending.push(Buffer.from(tail));
    }
  }

  /** Parses the message that ends with `buf[start, end)` (and began in `pending`). */
  private complete(buf: Buffer, start: number, end: number): Json {
    const length = end - start;
    if (this.pending.length > 0) {
      if (this.pendingBytes + length > this.limits.maxMessageBytes) this.tooLarge();
      const bytes = Buffer.concat(
        [...this.pending, buf.subarray(start, end)],
        this.pendingBytes + length,
      );
      this.pending = [];
      this.pendingBytes = 0;
      return JSON.parse(bytes.toString("utf8")) as Json;
    }
    if (length > this.limits.maxMessageBytes) this.tooLarge();
    // Decoded in place: no Buffer view is made for a message within one chunk.
    return JSON.parse(buf.toString("utf8", start, end)) as Json;
  }

  private tooLarge(): never {
    throw new JsonRpcError(
      "OVSDB_JSON_TOO_LARGE",
      `Cannot parse JSON-RPC input: message longer than ${this.limits.maxMessageBytes} bytes`,
    );
  }
}

function isObject(v: Json): v is { [key: string]: Json } {
  return typeof v === "object" && v !== null && !Array.isArray(v);
}

/**
 * Classifies one parsed value as lib/jsonrpc.c's jsonrpc_msg_from_json() does. Throws
 * `JsonRpcError` (code OVSDB_JSONRPC_INVALID) with the reason when it is not JSON-RPC.
 */
export function classifyMessage(value: Json): JsonRpcMessage {
  if (!isObject(value)) {
    throw new JsonRpcError("OVSDB_JSONRPC_INVALID", "Invalid JSON-RPC message: not a JSON object");
  }
  const id = value.id === undefined ? null : value.id;
  if ("method" in value) {
    const { method, params } = value;
    if (typeof method !== "string") {
      throw new JsonRpcError(
        "OVSDB_JSONRPC_INVALID",
        "Invalid JSON-RPC message: method is not a string",
      );
    }
    if (!Array.isArray(params)) {
      throw new JsonRpcError(
        "OVSDB_JSONRPC_INVALID",
        `Invalid JSON-RPC message: "${method}" params is not an array`,
      );
    }
    return { kind: id === null ? "notify" : "request", id, method, params };
  }
  if ("error" in value && value.error !== null) {
    return { kind: "error", id, error: value.error };
  }
  if ("result" in value) {
    return { kind: "reply", id, result: value.result };
  }
  throw new JsonRpcError(
    "OVSDB_JSONRPC_INVALID",
    "Invalid JSON-RPC message: neither a request (method) nor a reply (result/error)",
  );
}

export function encodeRequest(id: Json, method: string, params: Json[]): string {
  return JSON.stringify({ id, method, params });
}

/** `JSON.stringify({ id, result, error: null })`, without the wrapper object. */
export function encodeReply(id: Json, result: Json): string {
  // An undefined result (a handler bug) must still yield valid JSON: let stringify drop it.
  if (result === undefined) return JSON.stringify({ id, result, error: null });
  return `{"id":${JSON.stringify(id)},"result":${JSON.stringify(result)},"error":null}`;
}

export function encodeError(id: Json, error: Json): string {
  return JSON.stringify({ id, error });
}

/** The error object OVS puts in a reply: `{"error": E, "details": D}`. */
export function ovsError(error: string, details?: string): Json {
  return details === undefined ? { error } : { error, details };
}

/** What a `JsonRpcConnection` tells its owner. */
export interface JsonRpcHandlers {
  /** A request (`kind: "request"`) or notification from the peer. */
  onRequest(msg: JsonRpcRequest): void;
  /**
   * Every message of one read has been dispatched. The owner may finish work those
   * messages queued (the server writes their commits' log records, which sends their
   * replies); whatever is then queued to send leaves at once, in this same callback.
   */
  onReadDone?(): void;
  /** The connection closed; `error` says why if it was not a clean close. */
  onClose?(error: JsonRpcError | null): void;
}

/**
 * One JSON-RPC session over a stream socket, either side. Outgoing requests get
 * integer ids; `request` resolves with the result or rejects with `JsonRpcRemoteError`.
 * Incoming `echo` requests are answered here, as every OVS jsonrpc session does.
 */
export class JsonRpcConnection {
  private readonly parser: JsonStreamParser;
  private readonly waiting = new Map<
    number | string,
    { method: string; resolve(v: Json): void; reject(e: Error): void }
  >();
  private nextId = 1;
  private closed = false;
  /**
   * Messages queued this tick (see `sendRaw`), concatenated: written as one string
   * anyway, and no array per reply. Its `length` (UTF-16 units) bounds the backlog.
   */
  private outbox = "";
  /** A flush of `outbox` is queued. */
  private outboxQueued = false;
  private readonly maxBacklogBytes: number;
  /** Messages received and sent, for probes and statistics. */
  received = 0;
  sent = 0;
  /**
   * Whether the inactivity probe applies: OVS probes TCP peers but not unix-socket
   * peers (stream_or_pstream_needs_probes()); the server sets it per remote.
   */
  probeable = true;

  constructor(
    readonly socket: Socket,
    private readonly handlers: JsonRpcHandlers,
    limits: Partial<JsonStreamLimits> = {},
  ) {
    this.parser = new JsonStreamParser(limits);
    this.maxBacklogBytes = limits.maxBacklogBytes ?? DEFAULT_JSON_LIMITS.maxBacklogBytes;
    socket.on("data", (chunk: Buffer) => this.onData(chunk));
    socket.on("error", () => this.finish(null));
    socket.on("close", () => this.finish(null));
  }

  get isClosed(): boolean {
    return this.closed;
  }

  private onData(chunk: Buffer): void {
    if (this.closed) return;
    const values = this.parser.feed(chunk);
    for (const value of values) {
      if (this.closed) return;
      let msg: JsonRpcMessage;
      try {
        msg = classifyMessage(value);
      } catch (err) {
        this.abort(err as JsonRpcError);
        return;
      }
      this.received++;
      this.dispatch(msg);
    }
    if (this.parser.error) {
      this.abort(this.parser.error);
      return;
    }
    if (this.closed) return;
    // The replies of this read leave now rather than in a microtask: ahead of the
    // stream's own next-tick bookkeeping, as early as the log allows.
    this.handlers.onReadDone?.();
    this.flushOutbox();
  }

  private dispatch(msg: JsonRpcMessage): void {
    if (msg.kind === "request" || msg.kind === "notify") {
      if (msg.method === "echo" && msg.kind === "request") {
        this.reply(msg.id, msg.params);
        return;
      }
      this.handlers.onRequest(msg);
      return;
    }
    const key = typeof msg.id === "number" || typeof msg.id === "string" ? msg.id : null;
    const waiter = key === null ? undefined : this.waiting.get(key);
    if (!waiter) return; // A reply to our echo probe, or to nothing: ignored as OVS does.
    this.waiting.delete(key!);
    if (msg.kind === "reply") waiter.resolve(msg.result);
    else
      waiter.reject(
        new JsonRpcRemoteError(waiter.method, (msg as JsonRpcErrorReply).error as unknown),
      );
  }

  /** Sends a raw, already-encoded message. Returns false once closed. */
  sendRaw(text: string): boolean {
    if (this.closed) return false;
    if (this.socket.writableLength + this.outbox.length > this.maxBacklogBytes) {
      this.abort(
        new JsonRpcError(
          "OVSDB_JSONRPC_BACKLOG",
          `Dropping connection: peer is not reading and ${this.socket.writableLength + this.outbox.length} bytes are queued (limit ${this.maxBacklogBytes})`,
        ),
      );
      return false;
    }
    this.sent++;
    // Messages sent in one go (the replies of one group commit, a commit's updates)
    // leave together in one write() instead of one each. A microtask, not nextTick:
    // the log's group-commit flush (log.ts) is a microtask queued earlier in the same
    // commit, so a commit's record is written before its updates and replies leave.
    if (!this.outboxQueued) {
      this.outboxQueued = true;
      queueReaction(this.flushOutbox);
    }
    this.outbox += text;
    return true;
  }

  /** Writes what this tick's `sendRaw`s queued, as one string. */
  private readonly flushOutbox = (): void => {
    this.outboxQueued = false;
    const text = this.outbox;
    if (text === "") return;
    this.outbox = "";
    if (!this.socket.destroyed) this.socket.write(text);
  };

  reply(id: Json, result: Json): void {
    this.sendRaw(encodeReply(id, result));
  }

  replyError(id: Json, error: Json): void {
    this.sendRaw(encodeError(id, error));
  }

  notify(method: string, params: Json[]): void {
    this.sendRaw(encodeRequest(null, method, params));
  }

  request(method: string, params: Json[]): Promise<Json> {
    if (this.closed) {
      return Promise.reject(
        new JsonRpcError("OVSDB_JSONRPC_CLOSED", `Cannot send ${method}: connection closed`),
      );
    }
    const id = this.nextId++;
    return new Promise<Json>((resolve, reject) => {
      this.waiting.set(id, { method, resolve, reject });
      this.sendRaw(encodeRequest(id, method, params));
    });
  }

  /** Closes after flushing what was written. */
  close(): void {
    if (this.closed) return;
    this.flushOutbox();
    this.socket.end();
    this.finish(null);
  }

  /** Closes at once because the peer misbehaved. */
  abort(error: JsonRpcError): void {
    if (this.closed) return;
    // Replies already sent go out first, as they would have without corking.
    this.flushOutbox();
    this.socket.destroy();
    this.finish(error);
  }

  private finish(error: JsonRpcError | null): void {
    if (this.closed) return;
    this.closed = true;
    const gone = new JsonRpcError(
      "OVSDB_JSONRPC_CLOSED",
      "Connection closed before the reply arrived",
    );
    for (const w of this.waiting.values()) w.reject(gone);
    this.waiting.clear();
    this.handlers.onClose?.(error);
  }
}
