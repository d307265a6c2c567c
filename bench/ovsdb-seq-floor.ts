/**
 * bench/ovsdb-seq-floor.ts — a yardstick for `ovsdb.ratio_seq`: the least a JSON-RPC
 * database server running on Node can do per sequential `transact`
 * (`ovsdb.ratio_seq_floor` measures it against ovsdb-server on the same workload).
 *
 * Per request it does what every faithful server must do before it may reply: parse
 * the JSON, make the new row's uuid, write one log record in OVS's framing (header
 * with the body's SHA-1, via ovsdb's `encodeRecord`) to the file, then send the reply.
 * Node's event loop and stream layer carry the bytes, as they do for ovsim's server.
 *
 * Does not: check a schema, run a transaction, answer anything but `transact`, or
 * accept more than one request in flight (a read must end on a whole message). It is a
 * measuring instrument for the sequential benchmark, not a server.
 */
import { closeSync, openSync, writeSync } from "node:fs";
import { createServer, type Server } from "node:net";
import { encodeRecord, randomUuid } from "../ovsdb/index.js";

interface Transact {
  id: unknown;
  params: [string, { table: string; row: unknown }];
}

/** Serves on the unix socket `sock`, appending one record per request to `logPath`. */
export function serveSeqFloor(sock: string, logPath: string): Server {
  const fd = openSync(logPath, "w");
  let offset = 0;
  const server = createServer((conn) => {
    let pending = "";
    conn.setEncoding("utf8");
    conn.on("data", (chunk: string) => {
      pending += chunk;
      let req: Transact;
      try {
        req = JSON.parse(pending) as Transact;
      } catch {
        return; // the rest of the message is still on its way
      }
      pending = "";
      const uuid = randomUuid();
      const op = req.params[1];
      const record = encodeRecord({ [op.table]: { [uuid]: op.row }, _date: Date.now() });
      offset += writeSync(fd, record, 0, record.length, offset);
      conn.write(JSON.stringify({ id: req.id, result: [{ uuid: ["uuid", uuid] }], error: null }));
    });
  });
  server.on("close", () => closeSync(fd));
  return server.listen(sock);
}
