/**
 * A "subtable": one hash table of megaflows that all share the same mask, the unit of
 * tuple-space search (OVS dpcls_subtable in lib/dpif-netdev-private-dpcls.h).
 *
 * Storage is struct-of-arrays: a megaflow occupies one "slot" whose masked key words
 * (only the words the mask touches, in `wordIndex` order) live in `keys`. Buckets are
 * chains threaded through `slotNext`. A lookup hashes the packet key's masked words and
 * walks one chain; it allocates nothing.
 *
 * It does not know about actions or stats (megaflow.ts) nor about other masks
 * (classifier.ts).
 */
import { FLOW_WORDS, type FlowKey } from "../packet/index.js";
import { hashFinish } from "./flow-hash.js";

const INITIAL_SLOTS = 8;

export class Subtable {
  /** The shared mask, FLOW_WORDS long. Never mutated. */
  readonly mask: FlowKey;
  /** Hash of the whole mask, to find this subtable from a mask on flowPut. */
  readonly maskHash: number;
  /** Indices of the mask's non-zero words, ascending. */
  readonly wordIndex: Int32Array;
  /** The mask's value at each of `wordIndex`. */
  readonly maskWords: Uint32Array;
  /** Number of non-zero mask words (the "miniflow" width). */
  readonly width: number;
  /** Megaflow hits since the last re-ranking; the classifier sorts by it. */
  hits = 0;
  /** Number of megaflows stored. */
  count = 0;

  keys: Int32Array;
  /**
   * The key words as given to flowPut, before masking: `dpctl/dump-flows` prints them
   * (`eth(src=00:00:00:00:00:01/ff:ff:ff:00:00:00)`), as OVS does.
   */
  givenKeys: Int32Array;
  slotFlow: Int32Array;
  slotHash: Uint32Array;
  /** Next slot in the same bucket, or in the free list; -1 ends a chain. */
  slotNext: Int32Array;
  buckets: Int32Array;
  private bucketMask: number;
  private capacity: number;
  private highWater = 0;
  private freeHead = -1;

  constructor(mask: FlowKey, maskHash: number) {
    this.mask = Uint32Array.from(mask);
    this.maskHash = maskHash;
    let width = 0;
    for (let w = 0; w < FLOW_WORDS; w++) if (mask[w] !== 0) width++;
    this.width = width;
    this.wordIndex = new Int32Array(width);
    this.maskWords = new Uint32Array(width);
    for (let w = 0, i = 0; w < FLOW_WORDS; w++) {
      if (mask[w] === 0) continue;
      this.wordIndex[i] = w;
      this.maskWords[i++] = mask[w];
    }
    this.capacity = INITIAL_SLOTS;
    this.keys = new Int32Array(INITIAL_SLOTS * width);
    this.givenKeys = new Int32Array(INITIAL_SLOTS * width);
    this.slotFlow = new Int32Array(INITIAL_SLOTS);
    this.slotHash = new Uint32Array(INITIAL_SLOTS);
    this.slotNext = new Int32Array(INITIAL_SLOTS);
    this.buckets = new Int32Array(INITIAL_SLOTS).fill(-1);
    this.bucketMask = INITIAL_SLOTS - 1;
  }

  /**
   * Hash of `key` under this subtable's mask: one multiply-rotate per word and a
   * final avalanche (only the bucket index and an equality filter depend on it).
   */
  hash(key: FlowKey): number {
    const idx = this.wordIndex;
    const mw = this.maskWords;
    const width = this.width;
    let h = width;
    for (let i = 0; i < width; i++) {
      h = Math.imul(h ^ (key[idx[i]] & mw[i]), 0x9e3779b1);
      h = (h << 15) | (h >>> 17);
    }
    return hashFinish(h, 0);
  }

  /** The slot whose masked key equals `key & mask`, or -1. `h` is `hash(key)`. */
  find(key: FlowKey, h: number): number {
    const idx = this.wordIndex;
    const mw = this.maskWords;
    const keys = this.keys;
    const width = this.width;
    let slot = this.buckets[h & this.bucketMask];
    while (slot >= 0) {
      if (this.slotHash[slot] === h) {
        const base = slot * width;
        let i = 0;
        while (i < width && (key[idx[i]] & mw[i]) === keys[base + i]) i++;
        if (i === width) return slot;
      }
      slot = this.slotNext[slot];
    }
    return -1;
  }

  /** True if `key` matches the megaflow in `slot` under this mask. */
  matchesSlot(key: FlowKey, slot: number): boolean {
    const idx = this.wordIndex;
    const mw = this.maskWords;
    const keys = this.keys;
    const width = this.width;
    const base = slot * width;
    for (let i = 0; i < width; i++) if ((key[idx[i]] & mw[i]) !== keys[base + i]) return false;
    return true;
  }

  /** Stores `key & mask` for megaflow `flowId`; the caller checked it is absent. */
  insert(key: FlowKey, h: number, flowId: number): number {
    let slot = this.freeHead;
    if (slot >= 0) {
      this.freeHead = this.slotNext[slot];
    } else {
      if (this.highWater === this.capacity) this.grow();
      slot = this.highWater++;
    }
    const base = slot * this.width;
    for (let i = 0; i < this.width; i++) {
      this.keys[base + i] = key[this.wordIndex[i]] & this.maskWords[i];
      this.givenKeys[base + i] = key[this.wordIndex[i]];
    }
    this.slotFlow[slot] = flowId;
    this.slotHash[slot] = h;
    const b = h & this.bucketMask;
    this.slotNext[slot] = this.buckets[b];
    this.buckets[b] = slot;
    this.count++;
    return slot;
  }

  remove(slot: number): void {
    const b = this.slotHash[slot] & this.bucketMask;
    let prev = -1;
    let cur = this.buckets[b];
    while (cur !== slot) {
      prev = cur;
      cur = this.slotNext[cur];
    }
    if (prev < 0) this.buckets[b] = this.slotNext[slot];
    else this.slotNext[prev] = this.slotNext[slot];
    this.slotFlow[slot] = -1;
    this.slotNext[slot] = this.freeHead;
    this.freeHead = slot;
    this.count--;
  }

  /**
   * Writes the key of `slot` as given to insert() into `out`, for the words this mask
   * touches (all other words zero).
   */
  readKey(slot: number, out: FlowKey): void {
    out.fill(0);
    const base = slot * this.width;
    for (let i = 0; i < this.width; i++) out[this.wordIndex[i]] = this.givenKeys[base + i];
  }

  /** Calls `fn` with every stored megaflow id. Slow path. */
  forEachFlow(fn: (flowId: number, slot: number) => void): void {
    for (let s = 0; s < this.highWater; s++) if (this.slotFlow[s] >= 0) fn(this.slotFlow[s], s);
  }

  /** Bytes of typed-array storage, for memory accounting. */
  get byteLength(): number {
    return (
      this.keys.byteLength +
      this.givenKeys.byteLength +
      this.slotFlow.byteLength +
      this.slotHash.byteLength +
      this.slotNext.byteLength +
      this.buckets.byteLength
    );
  }

  private grow(): void {
    const cap = this.capacity * 2;
    const keys = new Int32Array(cap * this.width);
    keys.set(this.keys);
    this.keys = keys;
    const given = new Int32Array(cap * this.width);
    given.set(this.givenKeys);
    this.givenKeys = given;
    const flow = new Int32Array(cap);
    flow.set(this.slotFlow);
    this.slotFlow = flow;
    const hashes = new Uint32Array(cap);
    hashes.set(this.slotHash);
    this.slotHash = hashes;
    this.slotNext = new Int32Array(cap);
    this.buckets = new Int32Array(cap).fill(-1);
    this.bucketMask = cap - 1;
    this.capacity = cap;
    // Rehash live slots; the free list is empty when we grow (we only grow when full).
    for (let s = 0; s < this.highWater; s++) {
      const b = this.slotHash[s] & this.bucketMask;
      this.slotNext[s] = this.buckets[b];
      this.buckets[b] = s;
    }
  }
}
