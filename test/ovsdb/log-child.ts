/**
 * Child process for the durability test in log.test.ts: commits numbered inserts into
 * the database file given as argv[2] as fast as it can, printing "ack <n>" to stdout as
 * each transaction is acknowledged, until it is killed.
 */
import { Database } from "../../ovsdb/index.js";

const db = await Database.open(process.argv[2]);
const durable = process.argv[3] === "durable";
let n = 0;
for (;;) {
  const batch: Promise<void>[] = [];
  for (let i = 0; i < 4; i++) {
    const mine = ++n;
    const ops: unknown[] = [{ op: "insert", table: "Pair", row: { a: mine, b: "x" } }];
    if (durable) ops.push({ op: "commit", durable: true });
    batch.push(
      db.transact(ops).then(() => {
        process.stdout.write(`ack ${mine}\n`);
      }),
    );
  }
  await Promise.all(batch);
}
