/**
 * Shared test fixtures for the OVSDB server suites: a server on a temp unix socket
 * serving an in-memory (or on-disk) Open_vSwitch database plus `_Server`, and a raw
 * JSON-RPC client that records every message it receives.
 */
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { connect, type Socket } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { Database } from "../../ovsdb/database.js";
import { type Json, JsonStreamParser } from "../../ovsdb/jsonrpc.js";
import { serveDatabase } from "../../ovsdb/served-db.js";
import { OvsdbServer, type OvsdbServerOptions } from "../../ovsdb/server.js";
import { attachServerDatabase } from "../../ovsdb/server-db.js";

export const VSWITCH_SCHEMA_PATH = new URL(
  "../../ovsdb/schemas/vswitch.ovsschema",
  import.meta.url,
);

export function vswitchSchemaJson(): unknown {
  return JSON.parse(readFileSync(VSWITCH_SCHEMA_PATH, "utf8"));
}

export interface TestServer {
  server: OvsdbServer;
  db: Database;
  dir: string;
  sock: string;
  close(): Promise<void>;
}

export async function startServer(
  opts: OvsdbServerOptions & { dbFile?: boolean } = {},
): Promise<TestServer> {
  const dir = mkdtempSync(join(tmpdir(), "ovsim-ovsdb-"));
  const db = opts.dbFile
    ? await Database.create(join(dir, "conf.db"), vswitchSchemaJson())
    : Database.inMemory(vswitchSchemaJson());
  const server = new OvsdbServer(opts);
  server.addDatabase(serveDatabase(db));
  await attachServerDatabase(server);
  const sock = join(dir, "db.sock");
  await server.listen(`punix:${sock}`);
  return {
    server,
    db,
    dir,
    sock,
    close: async () => {
      await server.close();
      await db.close();
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

/** A client that sends raw text and keeps every parsed message it receives. */
export class RawClient {
  readonly messages: Json[] = [];
  closed = false;
  private readonly parser = new JsonStreamParser();
  private waiters: (() => void)[] = [];

  private constructor(readonly socket: Socket) {
    socket.on("data", (chunk: Buffer) => {
      for (const m of this.parser.feed(chunk)) this.messages.push(m);
      this.wake();
    });
    socket.on("close", () => {
      this.closed = true;
      this.wake();
    });
    socket.on("error", () => {});
  }

  /** Connects to a unix socket path, or to `{ port }` on 127.0.0.1. */
  static connect(where: string | { port: number }): Promise<RawClient> {
    return new Promise((resolve, reject) => {
      const s = typeof where === "string" ? connect(where) : connect(where.port, "127.0.0.1");
      s.once("error", reject);
      s.once("connect", () => resolve(new RawClient(s)));
    });
  }

  private wake(): void {
    const w = this.waiters;
    this.waiters = [];
    for (const f of w) f();
  }

  send(value: Json | string): void {
    this.socket.write(typeof value === "string" ? value : JSON.stringify(value));
  }

  /** Waits until a message satisfies `pred` (or the connection closes); returns it. */
  async waitFor(pred: (m: Json) => boolean, timeoutMs = 5000): Promise<Json> {
    const deadline = performance.now() + timeoutMs;
    for (;;) {
      const found = this.messages.find(pred);
      if (found !== undefined) return found;
      if (this.closed) throw new Error("connection closed while waiting");
      if (performance.now() > deadline) throw new Error("timed out waiting for a message");
      await new Promise<void>((resolve) => {
        this.waiters.push(resolve);
        setTimeout(resolve, 50);
      });
    }
  }

  /** Sends a request and waits for its reply (result or error). */
  async call(id: Json, method: string, params: Json[]): Promise<{ [k: string]: Json }> {
    this.send({ id, method, params });
    const key = JSON.stringify(id);
    return (await this.waitFor(
      (m) =>
        typeof m === "object" &&
        m !== null &&
        !Array.isArray(m) &&
        !("method" in m) &&
        JSON.stringify(m.id) === key,
    )) as { [k: string]: Json };
  }

  async waitClosed(timeoutMs = 5000): Promise<boolean> {
    const deadline = performance.now() + timeoutMs;
    while (!this.closed && performance.now() < deadline) {
      await new Promise<void>((resolve) => {
        this.waiters.push(resolve);
        setTimeout(resolve, 50);
      });
    }
    return this.closed;
  }

  close(): void {
    this.socket.destroy();
  }
}
