/**
 * Shared fixtures for the ovsdb engine tests: the real Open_vSwitch schema, a small
 * test schema exercising every RFC 7047 §3.2 feature, and deterministic uuids.
 */
import { readFileSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { Database, type DatabaseOptions } from "../../ovsdb/index.js";

const here = dirname(fileURLToPath(import.meta.url));
export const VSWITCH_SCHEMA_PATH = join(here, "../../ovsdb/schemas/vswitch.ovsschema");
export const vswitchSchemaText = readFileSync(VSWITCH_SCHEMA_PATH, "utf8");
export const vswitchSchema = JSON.parse(vswitchSchemaText) as Record<string, unknown>;

/** Counting uuids: 00000000-0000-4000-8000-000000000001, ...2, ... */
export function seqUuids(): () => string {
  let n = 0;
  return () => `00000000-0000-4000-8000-${(++n).toString(16).padStart(12, "0")}`;
}

/** A schema with a root table, a non-root table, strong and weak refs, indexes, limits. */
export const testSchema = {
  name: "Test",
  version: "1.2.3",
  tables: {
    Root: {
      isRoot: true,
      maxRows: 3,
      columns: {
        name: { type: "string", mutable: false },
        n: { type: { key: { type: "integer", minInteger: -10, maxInteger: 1000 } } },
        r: { type: "real" },
        tags: { type: { key: "string", min: 0, max: "unlimited" } },
        kv: { type: { key: "string", value: "string", min: 0, max: "unlimited" } },
        kids: { type: { key: { type: "uuid", refTable: "Kid" }, min: 0, max: "unlimited" } },
        fav: { type: { key: { type: "uuid", refTable: "Kid", refType: "weak" }, min: 0, max: 1 } },
        color: {
          type: { key: { type: "string", enum: ["set", ["red", "green"]] }, min: 0, max: 1 },
        },
        scratch: { type: "integer", ephemeral: true },
        small: { type: { key: "integer", min: 0, max: 2 } },
      },
      indexes: [["name"]],
    },
    Kid: {
      columns: {
        name: { type: "string" },
        toy: { type: { key: { type: "uuid", refTable: "Toy" }, min: 0, max: 1 } },
        pal: { type: { key: { type: "uuid", refTable: "Kid", refType: "weak" }, min: 1, max: 1 } },
      },
    },
    Toy: { columns: { label: { type: { key: { type: "string", minLength: 1, maxLength: 8 } } } } },
    Pair: {
      isRoot: true,
      columns: { a: { type: "integer" }, b: { type: "string" } },
      indexes: [["a", "b"]],
    },
  },
};

export function testDb(opts: DatabaseOptions = {}): Database {
  return Database.inMemory(testSchema, { newUuid: seqUuids(), ...opts });
}

/** A virtual clock whose timers fire when the test advances it. */
export class ManualClock {
  now = 0;
  private timers: { at: number; fn: () => void; live: boolean }[] = [];
  nowMs(): number {
    return this.now;
  }
  setTimer(delayMs: number, fn: () => void): () => void {
    const t = { at: this.now + delayMs, fn, live: true };
    this.timers.push(t);
    return () => {
      t.live = false;
    };
  }
  advance(ms: number): void {
    this.now += ms;
    const due = this.timers.filter((t) => t.live && t.at <= this.now);
    this.timers = this.timers.filter((t) => t.live && t.at > this.now);
    for (const t of due) t.fn();
  }
}
