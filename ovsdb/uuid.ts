/**
 * ovsdb/uuid.ts — random (version 4) UUIDs as flat strings, the default source of row
 * uuids, `_version`s and transaction ids.
 *
 * Why not `crypto.randomUUID()`: it builds its result by concatenating 20 pieces, and
 * V8 keeps such a string as a tree of "cons" cells. A database keeps two uuids per row
 * for the row's lifetime, so those trees cost memory and garbage-collector time on
 * every commit. Here the 36 characters are written into a byte buffer and read back
 * with one native call, which yields a flat string.
 *
 * Promises: RFC 4122 version 4 layout (`xxxxxxxx-xxxx-4xxx-[89ab]xxx-xxxxxxxxxxxx`, lower
 * case hex) from node:crypto's CSPRNG, as randomUUID() gives.
 * Does not: parse or validate uuids (types.ts's UUID_RE does).
 */
import { randomFillSync } from "node:crypto";

/** Random bytes drawn in bulk; each uuid takes 16. */
const POOL = Buffer.allocUnsafe(16 * 256);
let poolAt = POOL.length;
const TEXT = Buffer.allocUnsafe(36);
const HEX = Buffer.from("0123456789abcdef", "latin1");
/** Where each of the 16 bytes' two hex digits go in the 36-character text. */
const AT = [0, 2, 4, 6, 9, 11, 14, 16, 19, 21, 24, 26, 28, 30, 32, 34];
TEXT[8] = TEXT[13] = TEXT[18] = TEXT[23] = 0x2d; // "-"

export function randomUuid(): string {
  if (poolAt === POOL.length) {
    randomFillSync(POOL);
    poolAt = 0;
  }
  const p = poolAt;
  poolAt += 16;
  POOL[p + 6] = (POOL[p + 6]! & 0x0f) | 0x40; // version 4
  POOL[p + 8] = (POOL[p + 8]! & 0x3f) | 0x80; // RFC 4122 variant
  for (let i = 0; i < 16; i++) {
    const b = POOL[p + i]!;
    const at = AT[i]!;
    TEXT[at] = HEX[b >> 4]!;
    TEXT[at + 1] = HEX[b & 15]!;
  }
  return TEXT.toString("latin1", 0, 36);
}
