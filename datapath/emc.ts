/**
 * The exact-match cache (EMC): a fixed-size, two-way cache from a hash of the flow key
 * to the megaflow that matched it, checked before the classifier (OVS emc_cache in
 * lib/dpif-netdev.c).
 *
 * Promises
 * - A cached megaflow is used only if it is still alive (same generation) and the
 *   packet's key matches it under its mask. Since megaflows never overlap, that
 *   megaflow is exactly the one the classifier would return, so the EMC never changes
 *   a lookup's answer, only its cost. (OVS's EMC compares the whole miniflow instead;
 *   verifying against the megaflow, as OVS's SMC does, costs a few words instead of
 *   FLOW_WORDS and gives the same answers.)
 * - Insertion is probabilistic, 1 in `insertInvProb` (OVS `emc-insert-inv-prob`,
 *   default 100; 0 disables the EMC), drawn from a seeded xorshift generator so runs
 *   repeat exactly.
 * - Replacement follows OVS emc_insert(): the entry already holding this hash, else
 *   an entry whose flow died, else the candidate with the smaller hash.
 */
import {
  type FlowKey,
  W_DL_DST_LO,
  W_DL_SRC_LO,
  W_DL_TYPE,
  W_IN_PORT,
  W_IPV6_DST,
  W_IPV6_SRC,
  W_NW,
  W_NW_DST,
  W_NW_SRC,
  W_RECIRC_ID,
  W_TP,
  W_TUN_ID_LO,
  W_VLAN0,
} from "../packet/index.js";
import type { MegaflowTable } from "./megaflow.js";

export const EMC_SHIFT = 13;
export const EMC_ENTRIES = 1 << EMC_SHIFT;
export const EMC_MASK = EMC_ENTRIES - 1;
/** Default `emc-insert-inv-prob`, as in OVS. */
export const EMC_INSERT_INV_PROB_DEFAULT = 100;

/**
 * The EMC's hash: the words that usually differ between flows (OVS uses the NIC's RSS
 * hash here). Equality is still checked over every word.
 */
export function emcHash(key: FlowKey): number {
  // One multiply per word: this runs for every packet, and a weak hash costs only
  // a few more full-key comparisons.
  let h = Math.imul(key[W_IN_PORT] ^ key[W_RECIRC_ID], 0x9e3779b1);
  h = Math.imul(h ^ key[W_NW_SRC], 0x85ebca6b);
  h = Math.imul(h ^ key[W_NW_DST], 0xc2b2ae35);
  h = Math.imul(h ^ key[W_TP], 0x27d4eb2f);
  h = Math.imul(h ^ key[W_NW] ^ key[W_DL_TYPE], 0x165667b1);
  h = Math.imul(h ^ key[W_DL_DST_LO] ^ key[W_DL_SRC_LO], 0x9e3779b1);
  h = Math.imul(h ^ key[W_IPV6_SRC + 3] ^ key[W_IPV6_DST + 3], 0x85ebca6b);
  h = Math.imul(h ^ key[W_TUN_ID_LO] ^ key[W_VLAN0], 0xc2b2ae35);
  h ^= h >>> 16;
  h = Math.imul(h, 0x85ebca6b);
  h ^= h >>> 13;
  return h >>> 0;
}

export class ExactMatchCache {
  private readonly hashes = new Int32Array(EMC_ENTRIES);
  private readonly flows = new Int32Array(EMC_ENTRIES).fill(-1);
  private readonly gens = new Uint32Array(EMC_ENTRIES);
  /** Insert when a draw is <= this; 0 with insertInvProb 0 means never. */
  private readonly insertMin: number;
  private readonly enabled: boolean;
  private rng: number;

  constructor(insertInvProb: number = EMC_INSERT_INV_PROB_DEFAULT, seed = 1) {
    this.enabled = insertInvProb > 0;
    this.insertMin = insertInvProb > 0 ? Math.floor(0xffffffff / insertInvProb) : 0;
    this.rng = seed >>> 0 || 1;
  }

  /** The megaflow id cached for `key` (whose emcHash is `hash`), or -1. */
  lookup(key: FlowKey, hash: number, flows: MegaflowTable): number {
    const h = hash | 0;
    const e1 = hash & EMC_MASK;
    const f1 = this.flows[e1];
    if (f1 >= 0 && this.hashes[e1] === h && this.gens[e1] === flows.gen[f1]) {
      if (flows.subtable[f1]!.matchesSlot(key, flows.slot[f1])) return f1;
    }
    const e2 = (hash >>> EMC_SHIFT) & EMC_MASK;
    const f2 = this.flows[e2];
    if (f2 >= 0 && this.hashes[e2] === h && this.gens[e2] === flows.gen[f2]) {
      if (flows.subtable[f2]!.matchesSlot(key, flows.slot[f2])) return f2;
    }
    return -1;
  }

  /** Maybe caches `hash` → megaflow `flowId` (probabilistically, see header). */
  maybeInsert(hash: number, flowId: number, flows: MegaflowTable): void {
    if (!this.enabled) return;
    if (this.insertMin !== 0xffffffff) {
      let x = this.rng;
      x ^= x << 13;
      x ^= x >>> 17;
      x ^= x << 5;
      this.rng = x >>> 0;
      if (this.rng > this.insertMin) return;
    }
    const h = hash | 0;
    let victim = -1;
    let e = hash & EMC_MASK;
    for (let way = 0; way < 2; way++) {
      const alive = this.alive(e, flows.gen);
      if (alive && this.hashes[e] === h) {
        victim = e;
        break;
      }
      if (
        victim < 0 ||
        (this.alive(victim, flows.gen) && !alive) ||
        this.hashes[e] >>> 0 < this.hashes[victim] >>> 0
      )
        victim = e;
      e = (hash >>> EMC_SHIFT) & EMC_MASK;
    }
    this.hashes[victim] = h;
    this.flows[victim] = flowId;
    this.gens[victim] = flows.gen[flowId];
  }

  /** Forgets every entry (e.g. when the classifier is flushed). */
  clear(): void {
    this.flows.fill(-1);
  }

  /** Number of entries pointing at live megaflows. Slow path. */
  liveEntries(flowGen: Uint32Array): number {
    let n = 0;
    for (let e = 0; e < EMC_ENTRIES; e++) if (this.alive(e, flowGen)) n++;
    return n;
  }

  private alive(e: number, flowGen: Uint32Array): boolean {
    const flow = this.flows[e];
    return flow >= 0 && this.gens[e] === flowGen[flow];
  }
}
