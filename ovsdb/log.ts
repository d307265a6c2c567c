/**
 * ovsdb/log.ts — OVS's standalone database file: a sequence of records, each
 * `OVSDB JSON <length> <sha1>\n<json>\n`, where <length> and the SHA-1 cover the JSON
 * text and its trailing newline (ovsdb/log.c). Record 0 is the schema; every later
 * record is one committed transaction (file.c) or, after compaction, a snapshot.
 *
 * Promises:
 *  - `LogFile.open` reads every valid record; a torn or corrupt tail (a crash in the
 *    middle of a write) is ignored and truncated away, as ovsdb_log_write() does after
 *    a read error (OVS truncates at the next write, we at open), so the file never
 *    holds garbage in the middle.
 *  - `append` is group commit: records appended while a write is in flight go out
 *    together in the next single write; the returned promise resolves once the record
 *    is in the file, and, if any record in the batch asked to be durable, after
 *    fdatasync().
 *  - `replace` (compaction) writes a new file beside the old one, fsyncs it, renames it
 *    over the old one and fsyncs the directory, so at every instant one complete valid
 *    file exists under the name.
 * Does not: interpret transaction records (database.ts does), or lock the file against
 * other processes (ovsdb-server's lockfile); clustered-database files are not read.
 */
import { createHash } from "node:crypto";
import { type FileHandle, open, rename, stat } from "node:fs/promises";
import { dirname } from "node:path";
import { LogError } from "./errors.js";

const MAGIC = "OVSDB JSON";
const HEADER_RE = /^OVSDB JSON (\d+) ([0-9a-f]{40})$/;
/** OVS refuses headers longer than this; a longer line is corruption. */
const MAX_HEADER = 128;

/** Encodes one record: header line, JSON, newline. */
export function encodeRecord(json: unknown): Uint8Array {
  const body = Buffer.from(`${JSON.stringify(json)}\n`, "utf8");
  const sha1 = createHash("sha1").update(body).digest("hex");
  const header = Buffer.from(`${MAGIC} ${body.length} ${sha1}\n`, "latin1");
  return Buffer.concat([header, body]);
}

export interface ParsedLog {
  readonly records: unknown[];
  /** Byte length of the valid prefix. */
  readonly validBytes: number;
  /** Why reading stopped early, or null if the whole file was valid. */
  readonly tornTail: string | null;
}

/** Parses a whole log image; stops (without throwing) at the first bad record. */
export function parseLog(data: Uint8Array): ParsedLog {
  const buf = Buffer.from(data.buffer, data.byteOffset, data.byteLength);
  const records: unknown[] = [];
  let off = 0;
  while (off < buf.length) {
    const nl = buf.indexOf(0x0a, off);
    if (nl < 0 || nl - off > MAX_HEADER)
      return { records, validBytes: off, tornTail: "incomplete record header" };
    const m = HEADER_RE.exec(buf.toString("latin1", off, nl));
    if (!m) return { records, validBytes: off, tornTail: "bad record header" };
    const len = Number(m[1]);
    const start = nl + 1;
    if (start + len > buf.length)
      return {
        records,
        validBytes: off,
        tornTail: `record is truncated (${buf.length - start} of ${len} bytes)`,
      };
    const body = buf.subarray(start, start + len);
    if (createHash("sha1").update(body).digest("hex") !== m[2])
      return { records, validBytes: off, tornTail: "record has bad SHA-1" };
    let json: unknown;
    try {
      json = JSON.parse(body.toString("utf8"));
    } catch {
      return { records, validBytes: off, tornTail: "record is not valid JSON" };
    }
    records.push(json);
    off = start + len;
  }
  return { records, validBytes: off, tornTail: null };
}

interface Pending {
  bytes: Uint8Array;
  durable: boolean;
  resolve: () => void;
  reject: (e: Error) => void;
}

export class LogFile {
  private pending: Pending[] = [];
  private flushing: Promise<void> | null = null;
  /** Set while compaction swaps files; appends queue up behind it. */
  private gate: Promise<void> | null = null;
  private closed = false;

  private constructor(
    readonly path: string,
    private fh: FileHandle,
    /** Bytes of valid records; the next write goes here. */
    private end: number,
  ) {}

  /** Current size of the valid log in bytes. */
  get size(): number {
    return this.end;
  }

  /**
   * Opens an existing log for appending and returns its records. A torn tail is
   * reported in `tornTail` and overwritten (the file truncated) before the next write.
   * Throws LogError if the file has no valid schema record.
   */
  static async open(
    path: string,
  ): Promise<{ log: LogFile; records: unknown[]; tornTail: string | null }> {
    const fh = await open(path, "r+");
    try {
      const data = await fh.readFile();
      const parsed = parseLog(data);
      if (parsed.records.length === 0)
        throw new LogError(
          path,
          0,
          `not an OVSDB standalone database file (${parsed.tornTail ?? "empty"})`,
        );
      if (parsed.tornTail !== null) await fh.truncate(parsed.validBytes);
      return {
        log: new LogFile(path, fh, parsed.validBytes),
        records: parsed.records,
        tornTail: parsed.tornTail,
      };
    } catch (e) {
      await fh.close();
      throw e;
    }
  }

  /** Creates a new log holding `records` (schema first); fails if `path` exists. */
  static async create(path: string, records: readonly unknown[]): Promise<LogFile> {
    const fh = await open(path, "wx");
    const bytes = Buffer.concat(records.map(encodeRecord));
    await fh.write(bytes, 0, bytes.length, 0);
    await fh.sync();
    await syncDir(path);
    return new LogFile(path, fh, bytes.length);
  }

  /** Appends one record (group commit); resolves when written (and synced if durable). */
  append(json: unknown, durable: boolean): Promise<void> {
    if (this.closed) return Promise.reject(new LogError(this.path, this.end, "log is closed"));
    const bytes = encodeRecord(json);
    const p = new Promise<void>((resolve, reject) =>
      this.pending.push({ bytes, durable, resolve, reject }),
    );
    if (!this.flushing && !this.gate) this.flushing = this.flush();
    return p;
  }

  /** Resolves once everything appended so far is written. */
  async drain(): Promise<void> {
    while (this.flushing || this.gate) await (this.flushing ?? this.gate);
  }

  private async flush(): Promise<void> {
    try {
      while (this.pending.length && !this.gate) {
        const batch = this.pending;
        this.pending = [];
        const bytes = Buffer.concat(batch.map((p) => p.bytes));
        try {
          await this.fh.write(bytes, 0, bytes.length, this.end);
          this.end += bytes.length;
          if (batch.some((p) => p.durable)) await this.fh.datasync();
          for (const p of batch) p.resolve();
        } catch (e) {
          // Keep the file ending at the last complete record.
          await this.fh.truncate(this.end).catch(() => {});
          const err = new LogError(this.path, this.end, `write failed: ${(e as Error).message}`);
          for (const p of batch) p.reject(err);
        }
      }
    } finally {
      this.flushing = null;
    }
  }

  /**
   * Compaction: atomically replaces the file with `records` (schema, then a snapshot).
   * Waits for in-flight appends first; appends made meanwhile go to the new file.
   */
  replace(records: readonly unknown[]): Promise<void> {
    if (this.gate) return this.gate.then(() => this.replace(records));
    // Records appended before this call reach the old file first (the in-flight flush
    // stops after its batch and is awaited); records appended after it wait for the
    // swap and go to the new file, after the snapshot that already includes the former.
    const prior = this.flushing;
    const old = this.pending;
    this.pending = [];
    const swap = async () => {
      if (prior) await prior;
      const bytes0 = Buffer.concat(old.map((p) => p.bytes));
      if (bytes0.length) {
        await this.fh.write(bytes0, 0, bytes0.length, this.end);
        this.end += bytes0.length;
      }
      for (const p of old) p.resolve();
      const tmp = `${this.path}.tmp~`;
      const fh = await open(tmp, "w");
      const bytes = Buffer.concat(records.map(encodeRecord));
      try {
        await fh.write(bytes, 0, bytes.length, 0);
        await fh.sync();
      } catch (e) {
        await fh.close();
        throw new LogError(tmp, 0, `compaction failed: ${(e as Error).message}`);
      }
      await rename(tmp, this.path);
      await syncDir(this.path);
      const previous = this.fh;
      this.fh = fh;
      this.end = bytes.length;
      await previous.close();
    };
    const gate = swap().finally(() => {
      this.gate = null;
      if (this.pending.length && !this.flushing) this.flushing = this.flush();
    });
    this.gate = gate;
    return gate;
  }

  async close(): Promise<void> {
    await this.drain();
    this.closed = true;
    await this.fh.close();
  }
}

async function syncDir(path: string): Promise<void> {
  const dir = await open(dirname(path), "r");
  try {
    await dir.sync();
  } catch {
    // Some filesystems refuse fsync on directories; the rename is still atomic.
  } finally {
    await dir.close();
  }
}

/** Size of a file, or -1 if it does not exist. */
export async function fileSize(path: string): Promise<number> {
  try {
    return (await stat(path)).size;
  } catch {
    return -1;
  }
}
