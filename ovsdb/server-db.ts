/**
 * The `_Server` database (ovsdb-server(5), ovsdb/_server.ovsschema): one `Database` row
 * per database the server serves, `_Server` itself included, which clients monitor to
 * learn each database's schema, model and leadership. ovs-vsctl reads the
 * `Open_vSwitch` schema from the `schema` column instead of calling `get_schema`.
 *
 * Promises: the rows are kept current as databases are added to or removed from the
 * `OvsdbServer` (through ordinary transactions, so monitors of `_Server` see inserts
 * and deletes); every database is a connected standalone leader; `schema` holds the
 * schema as ovsdb-server prints it there (JSON text with sorted object keys); `cid`,
 * `sid` and `index` are empty, as for any standalone database. The database is
 * read-only to clients.
 * Does not: report clustered or relay databases (ovsim has none).
 */
import { Database } from "./database.js";
import type { Json } from "./jsonrpc.js";
import { parseSchema, schemaToJson } from "./schema.js";
import { serveDatabase } from "./served-db.js";
import type { OvsdbServer } from "./server.js";

export const SERVER_DB_NAME = "_Server";

/**
 * The `_Server` schema exactly as ovsdb-server 3.1 reports it (ovsdb/schemas/
 * _Server.ovsschema). Kept inline so that compiled builds, which do not copy schema
 * files, still have it.
 */
export const SERVER_SCHEMA_JSON = {
  cksum: "3009684573 744",
  name: "_Server",
  version: "1.2.0",
  tables: {
    Database: {
      columns: {
        name: {
          type: "string",
        },
        model: {
          type: {
            key: {
              type: "string",
              enum: ["set", ["clustered", "relay", "standalone"]],
            },
          },
        },
        connected: {
          type: "boolean",
        },
        leader: {
          type: "boolean",
        },
        schema: {
          type: {
            min: 0,
            key: "string",
          },
        },
        sid: {
          type: {
            min: 0,
            key: "uuid",
          },
        },
        cid: {
          type: {
            min: 0,
            key: "uuid",
          },
        },
        index: {
          type: {
            min: 0,
            key: "integer",
          },
        },
      },
    },
  },
} as const;

/** The `_Server` schema as JSON (a fresh copy). */
export function serverSchemaJson(): Json {
  return JSON.parse(JSON.stringify(SERVER_SCHEMA_JSON)) as Json;
}

/** JSON text with object keys sorted at every level, as OVS's json_to_string(SORT). */
export function sortedJsonText(value: unknown): string {
  return JSON.stringify(value, (_k, v: unknown) => {
    if (v === null || typeof v !== "object" || Array.isArray(v)) return v;
    const out: Record<string, unknown> = {};
    for (const key of Object.keys(v).sort()) out[key] = (v as Record<string, unknown>)[key];
    return out;
  });
}

/**
 * Creates the `_Server` database, adds it to `server` (read-only) and keeps its rows in
 * step with `server`'s databases from now on. Resolves once the first rows are in.
 */
export async function attachServerDatabase(server: OvsdbServer): Promise<Database> {
  const db = Database.inMemory(parseSchema(serverSchemaJson()));
  const rowOf = new Map<string, string>();
  let queue = Promise.resolve();
  const sync = (): Promise<void> => {
    queue = queue.then(async () => {
      const names = server.databaseNames();
      const ops: Json[] = [];
      for (const [name, uuid] of rowOf) {
        if (!names.includes(name)) {
          ops.push({ op: "delete", table: "Database", where: [["_uuid", "==", ["uuid", uuid]]] });
          rowOf.delete(name);
        }
      }
      const added: string[] = [];
      for (const name of names) {
        if (rowOf.has(name)) continue;
        const served = server.database(name)!;
        added.push(name);
        ops.push({
          op: "insert",
          table: "Database",
          row: {
            name,
            model: "standalone",
            connected: true,
            leader: true,
            schema: sortedJsonText(schemaToJson(served.schema)),
          },
        });
      }
      if (ops.length === 0) return;
      const results = (await db.transact(ops)) as { uuid?: [string, string] }[];
      const firstInsert = ops.length - added.length;
      added.forEach((name, i) => {
        const uuid = results[firstInsert + i]?.uuid?.[1];
        if (uuid) rowOf.set(name, uuid);
      });
    });
    return queue;
  };
  server.addDatabase(serveDatabase(db), { readOnly: true });
  server.onDatabasesChanged = () => {
    void sync();
  };
  await sync();
  return db;
}
