/**
 * The megaflow table: everything the datapath knows about an installed megaflow
 * except its key (which lives in its subtable): actions, ufid, and the statistics
 * `dpctl/dump-flows` prints (packets, bytes, used, TCP flags). OVS: struct
 * dp_netdev_flow.
 *
 * A megaflow is named by a small integer id. Ids are reused after deletion, so every
 * id carries a generation (`gen`) that deletion bumps; caches (the EMC) remember the
 * generation and so never revive a dead flow. Storage is struct-of-arrays and grows by
 * doubling; per-packet updates touch only typed arrays.
 */
import type { DpActions } from "./actions.js";
import type { Subtable } from "./subtable.js";

/** usedNs value of a megaflow that never saw a packet ("used:never"). */
export const USED_NEVER = -1;

export class MegaflowTable {
  capacity = 0;
  count = 0;
  subtable: (Subtable | null)[] = [];
  slot = new Int32Array(0);
  gen = new Uint32Array(0);
  packets = new Float64Array(0);
  bytes = new Float64Array(0);
  usedNs = new Float64Array(0);
  tcpFlags = new Uint16Array(0);
  /** 1: the megaflow matches packet_type(ns=0,id=0) exactly (printing only). */
  packetType = new Uint8Array(0);
  /** 4 words per flow: the 128-bit ufid, most significant word first. */
  ufid = new Uint32Array(0);
  actions: (DpActions | null)[] = [];
  /**
   * ufid index: a hash table of `capacity` chains (heads indexed by the ufid's first
   * word), threaded through ufidNext; rebuilt when the table grows.
   */
  private ufidHeads = new Int32Array(0);
  private ufidNext = new Int32Array(0);
  private nextFree = new Int32Array(0);
  private freeHead = -1;
  private highWater = 0;

  alloc(): number {
    let id = this.freeHead;
    if (id >= 0) {
      this.freeHead = this.nextFree[id];
    } else {
      if (this.highWater === this.capacity) this.grow();
      id = this.highWater++;
    }
    this.packets[id] = 0;
    this.bytes[id] = 0;
    this.usedNs[id] = USED_NEVER;
    this.tcpFlags[id] = 0;
    this.count++;
    return id;
  }

  /** Adds flow `id` (whose ufid words are already stored) to the ufid index. */
  indexUfid(id: number): void {
    const b = this.ufidBucket(this.ufid[id * 4]);
    this.ufidNext[id] = this.ufidHeads[b];
    this.ufidHeads[b] = id;
  }

  /** The live flow with ufid `u`, or -1. */
  findUfid(u: Uint32Array): number {
    if (this.capacity === 0) return -1;
    let id = this.ufidHeads[this.ufidBucket(u[0])];
    const all = this.ufid;
    while (id >= 0) {
      const b = id * 4;
      if (all[b] === u[0] && all[b + 1] === u[1] && all[b + 2] === u[2] && all[b + 3] === u[3])
        return id;
      id = this.ufidNext[id];
    }
    return -1;
  }

  private ufidBucket(word0: number): number {
    return (Math.imul(word0, 0x9e3779b1) >>> 0) & (this.capacity - 1);
  }

  private unindexUfid(id: number): void {
    const b = this.ufidBucket(this.ufid[id * 4]);
    let cur = this.ufidHeads[b];
    let prev = -1;
    while (cur >= 0 && cur !== id) {
      prev = cur;
      cur = this.ufidNext[cur];
    }
    if (cur < 0) return;
    if (prev >= 0) this.ufidNext[prev] = this.ufidNext[id];
    else this.ufidHeads[b] = this.ufidNext[id];
  }

  free(id: number): void {
    this.unindexUfid(id);
    this.gen[id] = (this.gen[id] + 1) >>> 0;
    this.subtable[id] = null;
    this.actions[id] = null;
    this.nextFree[id] = this.freeHead;
    this.freeHead = id;
    this.count--;
  }

  isLive(id: number): boolean {
    return id >= 0 && id < this.highWater && this.subtable[id] !== null;
  }

  /** Ids of live megaflows in id order. Slow path. */
  liveIds(): number[] {
    const out: number[] = [];
    for (let id = 0; id < this.highWater; id++) if (this.subtable[id] !== null) out.push(id);
    return out;
  }

  get byteLength(): number {
    return (
      this.capacity * (4 + 4 + 8 + 8 + 8 + 2 + 16 + 4) +
      (this.subtable.length + this.actions.length) * 8
    );
  }

  private grow(): void {
    const cap = Math.max(16, this.capacity * 2);
    const grow32 = (a: Int32Array) => {
      const n = new Int32Array(cap);
      n.set(a);
      return n;
    };
    const growF = (a: Float64Array) => {
      const n = new Float64Array(cap);
      n.set(a);
      return n;
    };
    this.slot = grow32(this.slot);
    this.ufidNext = grow32(this.ufidNext);
    this.nextFree = grow32(this.nextFree);
    const gen = new Uint32Array(cap);
    gen.set(this.gen);
    this.gen = gen;
    this.packets = growF(this.packets);
    this.bytes = growF(this.bytes);
    this.usedNs = growF(this.usedNs);
    const tf = new Uint16Array(cap);
    tf.set(this.tcpFlags);
    this.tcpFlags = tf;
    const pt = new Uint8Array(cap);
    pt.set(this.packetType);
    this.packetType = pt;
    const ufid = new Uint32Array(cap * 4);
    ufid.set(this.ufid);
    this.ufid = ufid;
    for (let i = this.capacity; i < cap; i++) {
      this.subtable.push(null);
      this.actions.push(null);
    }
    this.capacity = cap;
    this.ufidHeads = new Int32Array(cap).fill(-1);
    for (let id = 0; id < this.highWater; id++) if (this.subtable[id] !== null) this.indexUfid(id);
  }
}
