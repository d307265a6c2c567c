/**
 * The megaflow classifier: tuple-space search over subtables, one per distinct mask
 * (OVS "dpcls", lib/dpif-netdev.c).
 *
 * A lookup tries subtables in rank order and stops at the first hit. That is only
 * correct because megaflows never overlap (no packet matches two of them): vswitchd
 * guarantees it, and the Dpif can assert it (`checkOverlap`). There are no priorities.
 *
 * Ranking: each subtable counts its hits; every SUBTABLE_RERANK_LOOKUPS lookups the
 * subtables are re-sorted by hits (most first) and the counters reset, as OVS's
 * dpcls_sort_subtable_vector() does on its optimisation interval.
 *
 * It stores flow ids, not flows: megaflow.ts owns actions and stats.
 */
import { FLOW_WORDS, type FlowKey } from "../packet/index.js";
import { hashMasked } from "./flow-hash.js";
import { Subtable } from "./subtable.js";

export const SUBTABLE_RERANK_SHIFT = 14;
export const SUBTABLE_RERANK_LOOKUPS = 1 << SUBTABLE_RERANK_SHIFT;

export class Classifier {
  /** Subtables in rank order. */
  readonly subtables: Subtable[] = [];
  private readonly byMaskHash = new Map<number, Subtable[]>();
  private lookupsUntilRerank = SUBTABLE_RERANK_LOOKUPS;
  /** Subtables probed by the last lookup (for "avg. subtable lookups per hit"). */
  lastProbes = 0;
  /** The subtable and slot of the last successful lookup. */
  lastSubtable: Subtable | null = null;

  /** The megaflow id matching `key`, or -1. */
  lookup(key: FlowKey): number {
    if (--this.lookupsUntilRerank === 0) this.rerank();
    const tables = this.subtables;
    for (let i = 0; i < tables.length; i++) {
      const st = tables[i];
      const slot = st.find(key, st.hash(key));
      if (slot >= 0) {
        st.hits++;
        this.lastProbes = i + 1;
        this.lastSubtable = st;
        return st.slotFlow[slot];
      }
    }
    this.lastProbes = tables.length;
    this.lastSubtable = null;
    return -1;
  }

  /** As lookup(), without touching hit counters or ranking (control path). */
  find(key: FlowKey): number {
    for (const st of this.subtables) {
      const slot = st.find(key, st.hash(key));
      if (slot >= 0) return st.slotFlow[slot];
    }
    return -1;
  }

  /** The subtable for `mask`, or null. */
  findSubtable(mask: FlowKey): Subtable | null {
    const list = this.byMaskHash.get(hashMasked(mask, mask, 0));
    if (!list) return null;
    for (const st of list) if (sameWords(st.mask, mask)) return st;
    return null;
  }

  /** The subtable for `mask`, created (ranked last) if absent. */
  subtableFor(mask: FlowKey): Subtable {
    const found = this.findSubtable(mask);
    if (found) return found;
    const mh = hashMasked(mask, mask, 0);
    const st = new Subtable(mask, mh);
    const list = this.byMaskHash.get(mh);
    if (list) list.push(st);
    else this.byMaskHash.set(mh, [st]);
    this.subtables.push(st);
    return st;
  }

  /** Drops `st` once it holds no megaflow, as OVS does with empty subtables. */
  releaseIfEmpty(st: Subtable): void {
    if (st.count > 0) return;
    const list = this.byMaskHash.get(st.maskHash);
    if (list) {
      const i = list.indexOf(st);
      if (i >= 0) list.splice(i, 1);
      if (list.length === 0) this.byMaskHash.delete(st.maskHash);
    }
    const j = this.subtables.indexOf(st);
    if (j >= 0) this.subtables.splice(j, 1);
  }

  /**
   * Re-sorts subtables by hits since the last re-ranking, most first; ties keep their
   * order. Runs inside lookup(), so it sorts in place (insertion sort: few subtables,
   * mostly sorted already) and allocates nothing.
   */
  rerank(): void {
    this.lookupsUntilRerank = SUBTABLE_RERANK_LOOKUPS;
    const t = this.subtables;
    for (let i = 1; i < t.length; i++) {
      const st = t[i];
      let j = i - 1;
      while (j >= 0 && t[j].hits < st.hits) {
        t[j + 1] = t[j];
        j--;
      }
      t[j + 1] = st;
    }
    for (let i = 0; i < t.length; i++) t[i].hits = 0;
  }

  get maskCount(): number {
    return this.subtables.length;
  }
}

function sameWords(a: Uint32Array, b: Uint32Array): boolean {
  for (let i = 0; i < FLOW_WORDS; i++) if (a[i] !== b[i]) return false;
  return true;
}
