/**
 * The ratio_seq_floor yardstick must do the work it claims to (bench/ovsdb-seq-floor.ts):
 * a reply per transact with a fresh uuid, and a log record in OVS's framing written for
 * each before its reply, or the figure would understate the floor.
 */
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { connect, type Server } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { serveSeqFloor } from "../../bench/ovsdb-seq-floor.js";
import { parseLog } from "../../ovsdb/index.js";

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/;

describe("bench yardstick: ovsdb-seq-floor", () => {
  let dir: string;
  let server: Server;
  beforeEach(async () => {
    dir = mkdtempSync(join(tmpdir(), "ovsim-floor-"));
    server = serveSeqFloor(join(dir, "s.sock"), join(dir, "floor.log"));
    await new Promise((r) => server.once("listening", r));
  });
  afterEach(async () => {
    await new Promise((r) => server.close(r));
    rmSync(dir, { recursive: true, force: true });
  });

  it("replies to each transact, one at a time, after logging it (split requests too)", async () => {
    const sock = connect(join(dir, "s.sock"));
    await new Promise((r) => sock.once("connect", r));
    sock.setEncoding("utf8");
    const replies: { id: number; result: [{ uuid: [string, string] }]; error: null }[] = [];
    const next = () =>
      new Promise<void>((resolve) =>
        sock.once("data", (d: string) => {
          replies.push(JSON.parse(d));
          resolve();
        }),
      );
    for (let id = 1; id <= 3; id++) {
      const text = JSON.stringify({
        id,
        method: "transact",
        params: ["Open_vSwitch", { op: "insert", table: "Queue", row: { dscp: id } }],
      });
      const got = next();
      // The second request arrives in two reads: the yardstick must wait for the rest.
      if (id === 2) {
        sock.write(text.slice(0, 20));
        await new Promise((r) => setTimeout(r, 20));
        sock.write(text.slice(20));
      } else sock.write(text);
      await got;
    }
    sock.destroy();

    expect(replies.map((r) => r.id)).toEqual([1, 2, 3]);
    const uuids = replies.map((r) => r.result[0].uuid[1]);
    for (const u of uuids) expect(u).toMatch(UUID);
    expect(new Set(uuids).size).toBe(3);

    const log = parseLog(readFileSync(join(dir, "floor.log")));
    expect(log.tornTail).toBeNull();
    expect(log.records).toHaveLength(3);
    log.records.forEach((rec, i) => {
      expect(rec).toMatchObject({ Queue: { [uuids[i]!]: { dscp: i + 1 } } });
    });
  });
});
