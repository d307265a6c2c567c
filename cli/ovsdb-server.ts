/**
 * `ovsim ovsdb-server [--remote punix:PATH] [--remote ptcp:PORT[:ADDR]] [--schema FILE]
 * DBFILE...`: serves database files over OVSDB JSON-RPC, like ovsdb-server(1), so stock
 * ovs-vsctl and ovsdb-client work against them.
 *
 * Each DBFILE is opened; with --schema, a DBFILE that does not exist is first created
 * from that schema (as `ovsdb-tool create`). The `_Server` database is served too.
 * Runs until SIGTERM or SIGINT, then closes every session and listener. A transaction
 * is acknowledged only after its log record is written, so a crash loses nothing a
 * client saw committed.
 *
 * This file owns the real clock: it gives the server its inactivity-probe timer.
 */
import { randomUUID } from "node:crypto";
import { existsSync, readFileSync } from "node:fs";
import {
  attachServerDatabase,
  type BoundRemote,
  type Clock,
  Database,
  OvsdbServer,
  serveDatabase,
} from "../ovsdb/index.js";

export interface OvsdbServerCommandOptions {
  remote: string[];
  schema?: string;
  /** Called once every remote listens (tests and embedders use it). */
  onReady?: (bound: BoundRemote[], server: OvsdbServer) => void;
  /** Resolving it stops the server, as SIGTERM does. */
  stop?: Promise<void>;
  /** Write "listening on ..." lines here (default stderr). */
  log?: (line: string) => void;
}

export async function ovsdbServerCommand(
  dbFiles: string[],
  opts: OvsdbServerCommandOptions,
): Promise<void> {
  if (dbFiles.length === 0) throw new Error("ovsdb-server: at least one DBFILE is required");
  const log = opts.log ?? ((line: string) => process.stderr.write(`${line}\n`));
  const server = new OvsdbServer({
    timers: {
      setInterval: (fn, ms) => setInterval(fn, ms),
      clearInterval: (h) => clearInterval(h as NodeJS.Timeout),
    },
    serverId: randomUUID(),
  });
  // The engine's `wait` timeouts and `_date` need real time; only cli/ may read it.
  const clock: Clock = {
    nowMs: () => Date.now(),
    setTimer: (delayMs, fn) => {
      const t = setTimeout(fn, delayMs);
      return () => clearTimeout(t);
    },
  };
  const opened: Database[] = [];
  try {
    for (const file of dbFiles) {
      let db: Database;
      if (!existsSync(file) && opts.schema) {
        db = await Database.create(file, JSON.parse(readFileSync(opts.schema, "utf8")), { clock });
      } else {
        db = await Database.open(file, { clock });
      }
      opened.push(db);
      server.addDatabase(serveDatabase(db));
    }
    await attachServerDatabase(server);
    const bound: BoundRemote[] = [];
    for (const r of opts.remote) {
      const b = await server.listen(r);
      bound.push(b);
      log(`ovsim ovsdb-server: listening on ${b.address}`);
    }
    opts.onReady?.(bound, server);
    await new Promise<void>((resolve) => {
      const done = () => {
        process.off("SIGTERM", done);
        process.off("SIGINT", done);
        resolve();
      };
      process.on("SIGTERM", done);
      process.on("SIGINT", done);
      opts.stop?.then(done);
    });
  } finally {
    await server.close();
    for (const db of opened) await db.close();
  }
}
