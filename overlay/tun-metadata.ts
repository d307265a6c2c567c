/**
 * Geneve options ↔ the flow key's tun_metadata words.
 *
 * The key holds TUN_METADATA_WORDS (8) words = 32 bytes of option TLVs, raw, in wire
 * order (class, type, length, data; big-endian words), and W_TUN_METADATA_PRESENT has
 * bit i set for each word in use, always a prefix. So options round-trip byte-exactly
 * and a megaflow can match them word by word. It does not model OVS's tlv-map
 * (`add-tlv-map`, tun_metadata0..63): a received option list longer than 32 bytes is
 * dropped and counted (GENEVE_OPTIONS_TOO_LONG), not truncated.
 */
import {
  type FlowKey,
  TUN_METADATA_WORDS,
  W_TUN_METADATA,
  W_TUN_METADATA_PRESENT,
} from "../packet/index.js";

export const TUN_METADATA_MAX_BYTES = TUN_METADATA_WORDS * 4;

/** Copies `len` (a multiple of 4, ≤ 32) option bytes at `off` into `key`. */
export function optionsToKey(buf: Uint8Array, off: number, len: number, key: FlowKey): void {
  const words = len >>> 2;
  for (let i = 0; i < TUN_METADATA_WORDS; i++) {
    if (i < words) {
      const p = off + i * 4;
      key[W_TUN_METADATA + i] =
        ((buf[p] << 24) | (buf[p + 1] << 16) | (buf[p + 2] << 8) | buf[p + 3]) >>> 0;
    } else key[W_TUN_METADATA + i] = 0;
  }
  key[W_TUN_METADATA_PRESENT] = words === 0 ? 0 : ((1 << words) - 1) >>> 0;
}

/** Length in bytes of the options `key` carries. */
export function keyOptionsLength(key: FlowKey): number {
  const present = key[W_TUN_METADATA_PRESENT];
  let n = 0;
  while (n < TUN_METADATA_WORDS && present & (1 << n)) n++;
  return n * 4;
}

/** Writes the options `key` carries at `off`; returns the offset after them. */
export function keyToOptions(key: FlowKey, buf: Uint8Array, off: number): number {
  const len = keyOptionsLength(key);
  for (let i = 0; i < len; i += 4) {
    const w = key[W_TUN_METADATA + (i >>> 2)];
    buf[off + i] = w >>> 24;
    buf[off + i + 1] = (w >>> 16) & 0xff;
    buf[off + i + 2] = (w >>> 8) & 0xff;
    buf[off + i + 3] = w & 0xff;
  }
  return off + len;
}
