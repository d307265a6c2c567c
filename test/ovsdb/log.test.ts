import { spawn } from "node:child_process";
import { createHash } from "node:crypto";
import {
  appendFileSync,
  mkdtempSync,
  readFileSync,
  rmSync,
  statSync,
  writeFileSync,
} from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { afterEach, describe, expect, it } from "vitest";
import { Database, encodeRecord, LogFile, parseLog, randomUuid } from "../../ovsdb/index.js";
import { ManualClock, seqUuids, testSchema } from "./helpers.js";

const here = dirname(fileURLToPath(import.meta.url));
const dirs: string[] = [];
function tmp(): string {
  const d = mkdtempSync(join(tmpdir(), "ovsim-log-"));
  dirs.push(d);
  return join(d, "test.db");
}
afterEach(() => {
  for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true });
});

function records(path: string): Record<string, unknown>[] {
  return parseLog(readFileSync(path)).records as Record<string, unknown>[];
}

describe("OVSDB log record format (ovsdb/log.c)", () => {
  it('writes "OVSDB JSON <length> <sha1>" where both cover the JSON and its newline', () => {
    const bytes = Buffer.from(encodeRecord({ a: 1 }));
    const text = bytes.toString();
    const [header, body] = [text.slice(0, text.indexOf("\n")), text.slice(text.indexOf("\n") + 1)];
    expect(body).toBe('{"a":1}\n');
    const sha1 = createHash("sha1").update(body).digest("hex");
    expect(header).toBe(`OVSDB JSON 8 ${sha1}`);
  });

  it("reads back every record of a well-formed log", () => {
    const img = Buffer.concat([encodeRecord({ a: 1 }), encodeRecord([2]), encodeRecord("x")]);
    expect(parseLog(img)).toEqual({
      records: [{ a: 1 }, [2], "x"],
      validBytes: img.length,
      tornTail: null,
    });
  });
});

describe("standalone database files (ovsdb/file.c)", () => {
  it("creates a file whose first record is the schema, like ovsdb-tool create", async () => {
    const path = tmp();
    const db = await Database.create(path, testSchema);
    await db.close();
    const [schema] = records(path);
    expect(schema).toMatchObject({ name: "Test", version: "1.2.3" });
  });

  it("writes one record per transaction with _date, _comment, _is_diff and per-row diffs", async () => {
    const path = tmp();
    const clock = new ManualClock();
    clock.now = 1795663359264;
    const db = await Database.create(path, testSchema, { clock, newUuid: seqUuids() });
    const [ins] = (await db.transact([
      {
        op: "insert",
        table: "Root",
        row: {
          name: "a",
          tags: ["set", ["x", "y"]],
          kv: [
            "map",
            [
              ["a", "1"],
              ["b", "2"],
            ],
          ],
          scratch: 7,
        },
      },
      { op: "comment", comment: "hello" },
      { op: "comment", comment: "world" },
    ])) as [{ uuid: [string, string] }];
    const id = ins.uuid[1];
    await db.transact([
      {
        op: "update",
        table: "Root",
        where: [],
        row: {
          tags: ["set", ["y", "z"]],
          kv: [
            "map",
            [
              ["a", "1"],
              ["b", "3"],
              ["c", "4"],
            ],
          ],
          n: 5,
        },
      },
    ]);
    await db.transact([{ op: "update", table: "Root", where: [], row: { scratch: 9 } }]); // ephemeral only
    await db.transact([{ op: "comment", comment: "nothing changes" }]);
    await db.transact([{ op: "delete", table: "Root", where: [] }]);
    await db.close();
    const recs = records(path);
    expect(recs).toHaveLength(4);
    expect(recs[1]).toEqual({
      _date: 1795663359264,
      _comment: "hello\nworld",
      _is_diff: true,
      Root: {
        [id]: {
          name: "a",
          tags: ["set", ["x", "y"]],
          kv: [
            "map",
            [
              ["a", "1"],
              ["b", "2"],
            ],
          ],
        },
      },
    });
    expect(recs[2].Root).toEqual({
      [id]: {
        n: 5,
        tags: ["set", ["x", "z"]],
        kv: [
          "map",
          [
            ["b", "3"],
            ["c", "4"],
          ],
        ],
      },
    });
    expect(recs[3].Root).toEqual({ [id]: null });
  });

  it("replays its log on open to the same rows", async () => {
    const path = tmp();
    const db = await Database.create(path, testSchema);
    await db.transact([
      {
        op: "insert",
        table: "Root",
        row: { name: "a", kids: ["named-uuid", "k"], kv: ["map", [["a", "1"]]] },
      },
      {
        op: "insert",
        table: "Kid",
        "uuid-name": "k",
        row: { name: "k", pal: ["named-uuid", "k"] },
      },
    ]);
    await db.transact([
      {
        op: "mutate",
        table: "Root",
        where: [],
        mutations: [
          ["kv", "insert", ["map", [["b", "2"]]]],
          ["n", "+=", 4],
        ],
      },
    ]);
    const before = [...db.rows("Root")].map((r) =>
      db.rowToJson("Root", r, ["_uuid", "name", "kids", "kv", "n"]),
    );
    await db.close();
    const again = await Database.open(path);
    expect(
      [...again.rows("Root")].map((r) =>
        again.rowToJson("Root", r, ["_uuid", "name", "kids", "kv", "n"]),
      ),
    ).toEqual(before);
    // Reference counts are rebuilt: the Kid is collected when its last referrer goes.
    await again.transact([{ op: "update", table: "Root", where: [], row: { kids: ["set", []] } }]);
    expect([...again.rows("Kid")]).toHaveLength(0);
    await again.close();
  });

  it("ignores a torn last record and truncates it before the next write, as OVS does", async () => {
    const path = tmp();
    const db = await Database.create(path, testSchema);
    await db.transact([{ op: "insert", table: "Pair", row: { a: 1 } }]);
    await db.close();
    const good = statSync(path).size;
    const torn = Buffer.from(encodeRecord({ Pair: {} })).subarray(0, 30);
    appendFileSync(path, torn);
    const again = await Database.open(path);
    expect(statSync(path).size).toBe(good);
    expect([...again.rows("Pair")]).toHaveLength(1);
    await again.transact([{ op: "insert", table: "Pair", row: { a: 2 } }]);
    await again.close();
    expect(parseLog(readFileSync(path)).tornTail).toBeNull();
    expect(records(path)).toHaveLength(3);
  });

  it("ignores a last record whose SHA-1 does not match", async () => {
    const path = tmp();
    const db = await Database.create(path, testSchema);
    await db.close();
    const bad = Buffer.from(
      encodeRecord({ Pair: { "00000000-0000-4000-8000-000000000001": { a: 1 } } }),
    );
    bad[bad.length - 3] ^= 1;
    appendFileSync(path, bad);
    const again = await Database.open(path);
    expect([...again.rows("Pair")]).toHaveLength(0);
    await again.close();
  });

  it("refuses a file that is not an OVSDB log", async () => {
    const path = tmp();
    writeFileSync(path, "hello\n");
    await expect(Database.open(path)).rejects.toThrow("not an OVSDB standalone database file");
  });
});

describe("group commit and durability", () => {
  it("acknowledges concurrent transactions in order, each one in the file", async () => {
    const path = tmp();
    const db = await Database.create(path, testSchema);
    const acks: number[] = [];
    await Promise.all(
      Array.from({ length: 50 }, (_, i) =>
        db
          .transact([
            { op: "insert", table: "Pair", row: { a: i } },
            ...(i % 7 ? [] : [{ op: "commit", durable: true }]),
          ])
          .then(() => acks.push(i)),
      ),
    );
    expect(acks).toEqual(Array.from({ length: 50 }, (_, i) => i));
    await db.close();
    expect(records(path)).toHaveLength(51);
  });

  it("finds every acknowledged transaction after the committing process is SIGKILLed", async () => {
    const path = tmp();
    const db = await Database.create(path, testSchema);
    await db.close();
    const child = spawn(
      process.execPath,
      ["--import", "tsx", join(here, "log-child.ts"), path, "durable"],
      {
        stdio: ["ignore", "pipe", "inherit"],
        // Never outlive the test, even if it fails before its own kill.
        signal: AbortSignal.timeout(30_000),
        killSignal: "SIGKILL",
      },
    );
    const acked: number[] = [];
    await new Promise<void>((resolve, reject) => {
      let buf = "";
      child.on("error", (e) => (e.name === "AbortError" ? resolve() : reject(e)));
      child.on("exit", () => resolve());
      child.stdout!.on("data", (chunk: Buffer) => {
        buf += chunk.toString();
        let nl = buf.indexOf("\n");
        while (nl >= 0) {
          acked.push(Number(buf.slice(4, nl)));
          buf = buf.slice(nl + 1);
          nl = buf.indexOf("\n");
        }
        if (acked.length >= 200 && !child.killed) child.kill("SIGKILL");
      });
    });
    expect(acked.length).toBeGreaterThanOrEqual(200);
    const again = await Database.open(path);
    const present = new Set([...again.rows("Pair")].map((r) => r.get("a").atom));
    for (const n of acked) expect(present.has(n)).toBe(true);
    await again.close();
  });
});

describe("LogFile group commit", () => {
  it("writes the records appended in one tick together, after the tick, before any acknowledgement", async () => {
    const path = tmp();
    const log = await LogFile.create(path, [{ schema: 1 }]);
    const before = statSync(path).size;
    const seen: { n: number; size: number; records: number }[] = [];
    for (let n = 0; n < 5; n++)
      log.appendText(JSON.stringify({ n }), false, (err) => {
        expect(err).toBeNull();
        seen.push({ n, size: statSync(path).size, records: records(path).length });
      });
    // Nothing is written while the appending code still runs.
    expect(statSync(path).size).toBe(before);
    await log.drain();
    const after = statSync(path).size;
    expect(after).toBeGreaterThan(before);
    // Every acknowledgement saw all five records already in the file: one write.
    expect(seen).toEqual([0, 1, 2, 3, 4].map((n) => ({ n, size: after, records: 6 })));
    await log.close();
  });

  it("acknowledges a later plain batch only after an earlier durable batch has synced", async () => {
    const path = tmp();
    const log = await LogFile.create(path, [{ schema: 1 }]);
    const order: string[] = [];
    log.appendText('{"a":1}', true, () => order.push("durable"));
    await Promise.resolve();
    log.appendText('{"a":2}', false, () => order.push("plain"));
    await log.drain();
    expect(order).toEqual(["durable", "plain"]);
    expect(records(path)).toHaveLength(3);
    await log.close();
  });

  it("refuses appends after close with a LogError", async () => {
    const log = await LogFile.create(tmp(), [{ schema: 1 }]);
    await log.close();
    const errors: unknown[] = [];
    log.appendText("{}", false, (err) => errors.push(err));
    expect(errors).toHaveLength(1);
    expect(String(errors[0])).toMatch(/log is closed/);
  });
});

describe("randomUuid", () => {
  it("gives distinct lower-case version 4 uuids", () => {
    const seen = new Set<string>();
    for (let i = 0; i < 2000; i++) {
      const u = randomUuid();
      expect(u).toMatch(/^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/);
      seen.add(u);
    }
    expect(seen.size).toBe(2000);
  });
});

describe("compaction", () => {
  it("rewrites the log as schema plus one snapshot with the same rows", async () => {
    const path = tmp();
    const db = await Database.create(path, testSchema, { compactMinBytes: 0 });
    for (let i = 0; i < 30; i++)
      await db.transact([{ op: "insert", table: "Pair", row: { a: i } }]);
    await db.transact([{ op: "delete", table: "Pair", where: [["a", ">=", 5]] }]);
    const before = statSync(path).size;
    await db.compact();
    expect(statSync(path).size).toBeLessThan(before);
    const recs = records(path);
    expect(recs).toHaveLength(2);
    expect(recs[1]._comment).toBe("compacting database online");
    await db.transact([{ op: "insert", table: "Pair", row: { a: 100 } }]);
    await db.close();
    const again = await Database.open(path);
    expect(
      [...again.rows("Pair")].map((r) => r.get("a").atom).sort((x, y) => Number(x) - Number(y)),
    ).toEqual([0, 1, 2, 3, 4, 100]);
    await again.close();
  });

  it("compacts by itself once the log outgrows its threshold and 4x the live data", async () => {
    const path = tmp();
    const db = await Database.create(path, testSchema, { compactMinBytes: 20_000 });
    await db.transact([{ op: "insert", table: "Pair", row: { a: 0, b: "x" } }]);
    for (let i = 0; i < 200; i++)
      await db.transact([{ op: "update", table: "Pair", where: [], row: { b: `v${i}` } }]);
    await db.close();
    expect(statSync(path).size).toBeLessThan(20_000);
    const again = await Database.open(path);
    expect([...again.rows("Pair")].map((r) => r.get("b").atom)).toEqual(["v199"]);
    await again.close();
  });
});
