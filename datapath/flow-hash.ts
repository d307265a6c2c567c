/**
 * Hashing of flow-key words for the classifier and the exact-match cache.
 *
 * Promises: deterministic (same words, same basis → same hash on every run and
 * machine), 32-bit unsigned results, no allocation. It is a murmur3-style word mix, as
 * OVS's lib/hash.h `hash_add`/`hash_finish`; it is not the same function, so hashes are
 * not comparable with OVS's.
 */

/** Mixes one word into a running hash (OVS hash_add). */
export function hashAdd(hash: number, word: number): number {
  word = Math.imul(word, 0xcc9e2d51);
  word = (word << 15) | (word >>> 17);
  word = Math.imul(word, 0x1b873593);
  hash ^= word;
  hash = (hash << 13) | (hash >>> 19);
  return (Math.imul(hash, 5) + 0xe6546b64) | 0;
}

/** Final avalanche (OVS hash_finish); `nBytes` is folded in as OVS does. */
export function hashFinish(hash: number, nBytes: number): number {
  hash ^= nBytes;
  hash ^= hash >>> 16;
  hash = Math.imul(hash, 0x85ebca6b);
  hash ^= hash >>> 13;
  hash = Math.imul(hash, 0xc2b2ae35);
  hash ^= hash >>> 16;
  return hash >>> 0;
}

/** Hash of all words of `words` from `start` to `end` (exclusive). */
export function hashWords(words: Uint32Array, start: number, end: number, basis: number): number {
  let h = basis | 0;
  for (let i = start; i < end; i++) h = hashAdd(h, words[i]);
  return hashFinish(h, (end - start) << 2);
}

/**
 * Hash of `words & mask` over the words where `mask` is nonzero, each mixed with its
 * index. A megaflow mask leaves most of the key's words zero, so this costs a compare
 * per word and a mix per examined word; two keys equal under the mask hash alike.
 */
export function hashMasked(words: Uint32Array, mask: Uint32Array, basis: number): number {
  let h = basis | 0;
  let n = 0;
  for (let i = 0; i < mask.length; i++) {
    const m = mask[i];
    if (m === 0) continue;
    h = hashAdd(hashAdd(h, i), words[i] & m);
    n++;
  }
  return hashFinish(h, n << 3);
}

/**
 * The four 32-bit words of a datapath-made ufid (OVS odp_flow_key_hash: a 128-bit hash
 * of the flow's key and mask), into `out[off..off+3]`: two lanes over the masked key,
 * two over the mask, in one pass over the examined words.
 */
export function ufidWords(
  key: Uint32Array,
  mask: Uint32Array,
  out: Uint32Array,
  off: number,
): void {
  let a = 1;
  let b = 2;
  let c = 3;
  let d = 4;
  let n = 0;
  for (let i = 0; i < mask.length; i++) {
    const m = mask[i];
    if (m === 0) continue;
    const k = key[i] & m;
    a = hashAdd(hashAdd(a, i), k);
    b = hashAdd(hashAdd(b, k), i);
    c = hashAdd(hashAdd(c, i), m);
    d = hashAdd(hashAdd(d, m), i);
    n++;
  }
  out[off] = hashFinish(a, n << 3);
  out[off + 1] = hashFinish(b, n << 3);
  out[off + 2] = hashFinish(c, n << 3);
  out[off + 3] = hashFinish(d, n << 3);
}
