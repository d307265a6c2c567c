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
 *  - `append`/`appendRecord` is group commit: records appended in the same tick go
 *    out together in one write(2), made synchronously in a microtask right after the
 *    appending callback returns (or earlier, from `flushQueued`, when the caller knows
 *    the batch is complete); the caller hears "done" once write(2) has returned
 *    (so a SIGKILL of this process cannot lose the record) and, if any record of the
 *    batch asked to be durable, after fdatasync(). Acknowledgements keep append order.
 *
 * Why a synchronous write: a write(2) of a few hundred bytes into the page cache
 * takes microseconds, while an asynchronous one travels to libuv's thread pool and
 * back, which costs more than the write and, on a busy machine, waits for a thread.
 * fdatasync() can take milliseconds, so it stays asynchronous: the event loop keeps
 * serving (and writing) other requests while a durable batch syncs.
 *  - `replace` (compaction) writes a new file beside the old one, fsyncs it, renames it
 *    over the old one and fsyncs the directory, so at every instant one complete valid
 *    file exists under the name.
 * Does not: interpret transaction records (database.ts does), or lock the file against
 * other processes (ovsdb-server's lockfile); clustered-database files are not read.
 */
import { hash } from "node:crypto";
import { fdatasync, ftruncateSync, writeSync } from "node:fs";
import { type FileHandle, open, rename, stat } from "node:fs/promises";
import { dirname } from "node:path";
import { LogError } from "./errors.js";
import { queueReaction } from "./microtask.js";

const MAGIC = "OVSDB JSON";
const HEADER_RE = /^OVSDB JSON (\d+) ([0-9a-f]{40})$/;
/** OVS refuses headers longer than this; a longer line is corruption. */
const MAX_HEADER = 128;

/** Encodes one record: header line, JSON, newline. */
export function encodeRecord(json: unknown): Uint8Array {
  return Buffer.from(recordText(JSON.stringify(json)), "utf8");
}

/** One record as text (header line, JSON, newline); the header counts UTF-8 bytes. */
function recordText(json: string): string {
  const body = `${json}\n`;
  return `${recordHeader(body, Buffer.byteLength(body, "utf8"))}${body}`;
}

/** A record's header line for `body` (the JSON and its newline), `bodyBytes` long. */
function recordHeader(body: string, bodyBytes: number): string {
  return `${MAGIC} ${bodyBytes} ${hash("sha1", body, "hex")}\n`;
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
    if (hash("sha1", body, "hex") !== m[2])
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

/** Called once a record is in the file (and synced if asked), or with the failure. */
export type AppendDone = (err: LogError | null) => void;

/** Records written by one write(2), waiting (if durable) for their fdatasync. */
interface Batch {
  readonly done: AppendDone[];
  /** Written and, if it had to be, synced: its acknowledgements may go out. */
  ready: boolean;
  error: LogError | null;
}

export class LogFile {
  /** Records appended in the current tick, not yet written, as one text... */
  private text = "";
  /** ...of this many UTF-8 bytes (counted once per record, not again per write). */
  private textBytes = 0;
  /** Their acknowledgements; null when nothing is queued (no array per idle tick). */
  private dones: AppendDone[] | null = null;
  private durable = false;
  /** A flush is queued as a microtask (group commit: one write per tick). */
  private scheduled = false;
  /**
   * Written batches whose acknowledgements wait: acknowledgements go out in append
   * order, so a batch written after a durable one waits for that one's fdatasync.
   */
  private unacked: Batch[] = [];
  private idleWaiters: (() => void)[] = [];
  /** Set while compaction swaps files; appends queue up behind it. */
  private gate: Promise<void> | null = null;
  private closed = false;
  /** The queued group-commit flush (see microtask.ts for why a reaction). */
  private readonly flushSoon = (): void => this.flush();

  private constructor(
    readonly path: string,
    private fh: FileHandle,
    /** Bytes of valid records; the next write goes here. */
    private end: number,
  ) {}

  /** Current size of the valid log in bytes (records written so far). */
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
    return new Promise<void>((resolve, reject) =>
      this.appendRecord(json, durable, (err) => (err ? reject(err) : resolve())),
    );
  }

  /**
   * Appends one record and calls `done` once it is in the file (write(2) returned) and,
   * if `durable`, fdatasync()ed; `done` calls happen in append order. Records appended
   * in the same tick share one write: the flush runs as a microtask, i.e. right after
   * the caller's current callback (say, one socket read's worth of requests) returns.
   */
  appendRecord(json: unknown, durable: boolean, done: AppendDone): void {
    this.appendText(JSON.stringify(json), durable, done);
  }

  /** `appendRecord` of a record already serialised as JSON text (one line, no newline). */
  appendText(json: string, durable: boolean, done: AppendDone): void {
    if (this.closed) {
      done(new LogError(this.path, this.end, "log is closed"));
      return;
    }
    const body = `${json}\n`;
    const bodyBytes = Buffer.byteLength(body, "utf8");
    const header = recordHeader(body, bodyBytes);
    this.text += header + body;
    this.textBytes += header.length + bodyBytes; // the header is ASCII
    if (this.dones) this.dones.push(done);
    else this.dones = [done];
    if (durable) this.durable = true;
    if (!this.scheduled && !this.gate) {
      this.scheduled = true;
      queueReaction(this.flushSoon);
    }
  }

  /**
   * Runs the queued group-commit flush now instead of in its microtask (which then
   * finds nothing to do): for a caller that knows no more records are coming this tick.
   */
  flushQueued(): void {
    if (this.scheduled) this.flush();
  }

  /** Resolves once everything appended so far is written (and synced where asked). */
  async drain(): Promise<void> {
    for (;;) {
      if (this.gate) {
        await this.gate.catch(() => {});
        continue;
      }
      if (this.dones) this.flush();
      if (!this.unacked.length) return;
      await new Promise<void>((resolve) => this.idleWaiters.push(resolve));
    }
  }

  /** Writes the queued records with one write(2) (synchronously: see the header). */
  private flush(): void {
    this.scheduled = false;
    if (this.gate || !this.dones) return;
    const text = this.text;
    const length = this.textBytes;
    const batch: Batch = { done: this.dones, ready: false, error: null };
    const durable = this.durable;
    this.text = "";
    this.textBytes = 0;
    this.dones = null;
    this.durable = false;
    try {
      // The string goes to the kernel without a JS Buffer in between; a short write (a
      // full disk) is finished from an encoded copy.
      let off = writeSync(this.fh.fd, text, this.end, "utf8");
      if (off < length) {
        const bytes = Buffer.from(text, "utf8");
        while (off < length) off += writeSync(this.fh.fd, bytes, off, length - off, this.end + off);
      }
      this.end += length;
    } catch (e) {
      // Keep the file ending at the last complete record.
      try {
        ftruncateSync(this.fh.fd, this.end);
      } catch {
        // The next write overwrites the partial record anyway (it starts at `end`).
      }
      batch.error = new LogError(this.path, this.end, `write failed: ${(e as Error).message}`);
      batch.ready = true;
    }
    this.unacked.push(batch);
    if (durable && !batch.error) {
      fdatasync(this.fh.fd, (err) => {
        if (err)
          batch.error = new LogError(this.path, this.end, `fdatasync failed: ${err.message}`);
        batch.ready = true;
        this.acknowledge();
      });
    } else {
      batch.ready = true;
    }
    this.acknowledge();
  }

  /** Calls the `done`s of every ready batch at the head of the queue, in order. */
  private acknowledge(): void {
    while (this.unacked.length && this.unacked[0]!.ready) {
      const batch = this.unacked.shift()!;
      for (const d of batch.done) d(batch.error);
    }
    if (!this.unacked.length && this.idleWaiters.length) {
      const waiters = this.idleWaiters;
      this.idleWaiters = [];
      for (const w of waiters) w();
    }
  }

  /**
   * Compaction: atomically replaces the file with `records` (schema, then a snapshot).
   * Records appended before this call reach the old file first; appends made meanwhile
   * wait for the swap and go to the new file, after the snapshot.
   */
  replace(records: readonly unknown[]): Promise<void> {
    if (this.gate) return this.gate.then(() => this.replace(records));
    this.flush();
    const swap = async () => {
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
      // An fdatasync still running on the old descriptor must finish before it closes.
      while (this.unacked.length)
        await new Promise<void>((resolve) => this.idleWaiters.push(resolve));
      await previous.close();
    };
    const gate = swap().finally(() => {
      this.gate = null;
      if (this.dones && !this.scheduled) {
        this.scheduled = true;
        queueReaction(this.flushSoon);
      }
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
