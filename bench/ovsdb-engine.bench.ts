/**
 * OVSDB engine benchmarks (no sockets; bench/ovsdb.bench.ts measures the server).
 * - transact_inmem_per_s: `mutate Open_vSwitch next_cfg += 1` + `comment` on an
 *   in-memory Open_vSwitch database with 200 bridges (each with a port and interface).
 * - add_br_inmem_per_s: ovs-vsctl's add-br transaction followed by del-br (GC), pairs/s.
 * - log_commit_seq_per_s / log_commit_pipelined_per_s: the next_cfg transaction on a
 *   file-backed database, one at a time vs 64 in flight (group commit), not durable.
 * - open_10k_records_ms: replaying a log of 10 000 transaction records.
 */
import { existsSync, mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { Database } from "../ovsdb/index.js";
import type { Figure } from "./harness.js";

// Sources live in bench/, the compiled file in dist/bench/; the schema is not compiled.
const schemaPath = ["../ovsdb/schemas/vswitch.ovsschema", "../../ovsdb/schemas/vswitch.ovsschema"]
  .map((p) => fileURLToPath(new URL(p, import.meta.url)))
  .find((p) => existsSync(p))!;
const schemaJson = JSON.parse(readFileSync(schemaPath, "utf8")) as unknown;

let counter = 0;
const uuid = () => {
  const n = (++counter).toString(16).padStart(12, "0");
  return `00000000-0000-4000-8000-${n}`;
};

async function populated(db: Database, bridges: number): Promise<void> {
  await db.transact([{ op: "insert", table: "Open_vSwitch", row: {} }]);
  for (let i = 0; i < bridges; i++) await db.transact(addBr(`br${i}`));
}

function addBr(name: string): unknown[] {
  return [
    { op: "insert", table: "Bridge", "uuid-name": "b", row: { name, ports: ["named-uuid", "p"] } },
    {
      op: "insert",
      table: "Port",
      "uuid-name": "p",
      row: { name, interfaces: ["named-uuid", "i"] },
    },
    { op: "insert", table: "Interface", "uuid-name": "i", row: { name, type: "internal" } },
    {
      op: "mutate",
      table: "Open_vSwitch",
      where: [],
      mutations: [["bridges", "insert", ["named-uuid", "b"]]],
    },
    { op: "comment", comment: `add-br ${name}` },
  ];
}

const NEXT_CFG = [
  { op: "mutate", table: "Open_vSwitch", where: [], mutations: [["next_cfg", "+=", 1]] },
  { op: "comment", comment: "bench" },
];

async function timed(ms: number, step: () => Promise<number>): Promise<number> {
  const t0 = performance.now();
  let n = 0;
  while (performance.now() - t0 < ms) n += await step();
  return (n * 1000) / (performance.now() - t0);
}

export const benchmarks: Figure[] = [
  {
    name: "ovsdb.engine_transact_inmem_per_s",
    unit: "txn/s",
    async measure() {
      const db = Database.inMemory(schemaJson, { newUuid: uuid });
      await populated(db, 200);
      return timed(1000, async () => {
        await db.transact(NEXT_CFG);
        return 1;
      });
    },
  },
  {
    name: "ovsdb.engine_add_br_inmem_per_s",
    unit: "add+del/s",
    async measure() {
      const db = Database.inMemory(schemaJson, { newUuid: uuid });
      await populated(db, 200);
      let i = 0;
      return timed(1000, async () => {
        const name = `x${i++}`;
        const [r] = (await db.transact(addBr(name))) as [{ uuid: unknown }];
        await db.transact([
          {
            op: "mutate",
            table: "Open_vSwitch",
            where: [],
            mutations: [["bridges", "delete", r.uuid]],
          },
        ]);
        return 1;
      });
    },
  },
  {
    name: "ovsdb.engine_log_commit_seq_per_s",
    unit: "txn/s",
    async measure() {
      const dir = mkdtempSync(join(tmpdir(), "ovsim-bench-"));
      try {
        const db = await Database.create(join(dir, "db"), schemaJson, { newUuid: uuid });
        await populated(db, 20);
        const v = await timed(1000, async () => {
          await db.transact(NEXT_CFG);
          return 1;
        });
        await db.close();
        return v;
      } finally {
        rmSync(dir, { recursive: true, force: true });
      }
    },
  },
  {
    name: "ovsdb.engine_log_commit_pipelined_per_s",
    unit: "txn/s",
    async measure() {
      const dir = mkdtempSync(join(tmpdir(), "ovsim-bench-"));
      try {
        const db = await Database.create(join(dir, "db"), schemaJson, { newUuid: uuid });
        await populated(db, 20);
        const v = await timed(1000, async () => {
          await Promise.all(Array.from({ length: 64 }, () => db.transact(NEXT_CFG)));
          return 64;
        });
        await db.close();
        return v;
      } finally {
        rmSync(dir, { recursive: true, force: true });
      }
    },
  },
  {
    name: "ovsdb.engine_open_10k_records_ms",
    unit: "ms",
    async measure() {
      const dir = mkdtempSync(join(tmpdir(), "ovsim-bench-"));
      try {
        const path = join(dir, "db");
        const db = await Database.create(path, schemaJson, { newUuid: uuid, compactMinBytes: 0 });
        await populated(db, 20);
        await Promise.all(Array.from({ length: 10_000 }, () => db.transact(NEXT_CFG)));
        await db.close();
        const t0 = performance.now();
        const again = await Database.open(path);
        const ms = performance.now() - t0;
        await again.close();
        return ms;
      } finally {
        rmSync(dir, { recursive: true, force: true });
      }
    },
  },
];
