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
