/**
 * The OpenFlow classifier of one table: tuple-space search with OVS's staged lookup
 * and prefix tracking (lib/classifier.c), so that the fields it reports as examined —
 * the "wildcards" a lookup folds into the megaflow mask — are the ones OVS reports.
 *
 * Glossary
 * - "subtable": all rules with the same mask; one hash table of their masked keys.
 * - "stage": a contiguous segment of the flow key (metadata, L2, L3, L4). A subtable
 *   keeps, per stage but the last, the set of hashes of its rules' keys up to that
 *   stage; a flow whose hash is absent cannot match, and only the stages examined so
 *   far are unwildcarded.
 * - "prefix trie": for nw_dst and nw_src (the Flow_Table `prefixes` default), a
 *   binary trie of every rule's prefix on that field. A subtable whose prefix the
 *   packet cannot match is skipped having unwildcarded only the bits the trie needed.
 * - "ports trie": per subtable, a trie of the rules' tp_src/tp_dst values; on a miss
 *   in the last stage it narrows the port bits to unwildcard.
 *
 * Invariants
 * - lookup() returns the highest-priority matching rule, as a linear scan would;
 *   with `wc`, every flow that agrees with the looked-up flow on the bits of `wc`
 *   gets the same answer (the megaflow property).
 * - Subtables are visited in decreasing max priority (creation order on ties); one
 *   whose max priority cannot beat the match found so far is not visited, so adds
 *   nothing to `wc`.
 *
 * Not here: versions, conjunctive matches, partitions by metadata.
 */
import * as K from "../packet/index.js";

// Plain local bindings: namespace property reads cost on hot paths.
const {
  FLOW_SEGMENT_L2,
  FLOW_SEGMENT_L3,
  FLOW_SEGMENT_L4,
  FLOW_WORDS,
  W_DL_TYPE,
  W_NW_DST,
  W_NW_SRC,
  W_TP,
} = K;

/** Stage boundaries (word index where each stage ends), from the flow-key layout. */
const STAGE_ENDS: readonly number[] = [
  FLOW_SEGMENT_L2,
  FLOW_SEGMENT_L3,
  FLOW_SEGMENT_L4,
  FLOW_WORDS,
];

export interface ClsRule<T> {
  /** Rule value, already ANDed with `mask`. */
  readonly key: Uint32Array;
  readonly mask: Uint32Array;
  readonly priority: number;
  readonly data: T;
}

/** Prefix-trie fields: key word of a 32-bit field. */
export type TrieField = "nw_dst" | "nw_src";
const TRIE_WORD: Readonly<Record<TrieField, number>> = { nw_dst: W_NW_DST, nw_src: W_NW_SRC };

function prefixLen32(m: number): number {
  // Length of a CIDR mask, or 0 if the mask is not a prefix.
  const mm = m >>> 0;
  if (mm === 0) return 0;
  const inv = ~mm >>> 0;
  if ((inv & (inv + 1)) !== 0) return 0;
  return 32 - Math.clz32(inv) === 0 ? 32 : Math.clz32(inv);
}

/** An uncompressed binary trie of 32-bit prefixes with per-node rule counts. */
class PrefixTrie {
  private child0: number[] = [-1];
  private child1: number[] = [-1];
  private nRules: number[] = [0];
  private sub: number[] = [0];

  insert(value: number, plen: number, delta: 1 | -1): void {
    let node = 0;
    this.sub[0]! += delta;
    for (let d = 0; d < plen; d++) {
      const bit = (value >>> (31 - d)) & 1;
      const arr = bit ? this.child1 : this.child0;
      let next = arr[node]!;
      if (next < 0) {
        next = this.nRules.length;
        this.child0.push(-1);
        this.child1.push(-1);
        this.nRules.push(0);
        this.sub.push(0);
        arr[node] = next;
      }
      node = next;
      this.sub[node]! += delta;
    }
    this.nRules[node]! += delta;
  }

  /**
   * trie_lookup_value(): sets in `plens` (bit p-1 for prefix length p) every rule
   * prefix that matches `value`, and returns how many leading bits of `value` the
   * trie had to examine to know that.
   */
  lookup(value: number, plens: Uint32Array): number {
    let node = 0;
    let d = 0;
    plens[0] = 0;
    for (;;) {
      if (d === 32) return 32;
      const bit = (value >>> (31 - d)) & 1;
      const next = bit ? this.child1[node]! : this.child0[node]!;
      if (next < 0 || this.sub[next] === 0) {
        const other = bit ? this.child0[node]! : this.child1[node]!;
        return other >= 0 && this.sub[other]! > 0 ? d + 1 : d;
      }
      node = next;
      d++;
      if (this.nRules[node]! > 0) plens[0] = (plens[0]! | (1 << (d - 1))) >>> 0;
    }
  }
}

let subtableSeq = 0;

class Subtable<T> {
  readonly mask: Uint32Array;
  /** Word indices with a nonzero mask, per lookup stage; the last is the final stage. */
  readonly stageWords: number[][];
  /** [start, end) word range of each stage, for folding the mask. */
  readonly stageEnd: number[];
  readonly indices: Map<number, number>[];
  readonly rules = new Map<number, ClsRule<T>[]>();
  readonly allWords: number[];
  readonly triePlen: number[];
  readonly portsMaskLen: number;
  readonly portsTrie = new PrefixTrie();
  readonly seq = subtableSeq++;
  maxPriority = -1;
  count = 0;

  constructor(mask: Uint32Array, trieFields: readonly TrieField[]) {
    this.mask = mask;
    const stages: number[][] = [];
    const ends: number[] = [];
    let prev = 0;
    for (let s = 0; s < STAGE_ENDS.length; s++) {
      const end = STAGE_ENDS[s]!;
      const words: number[] = [];
      for (let w = prev; w < end; w++) if (mask[w]) words.push(w);
      const isLast = s === STAGE_ENDS.length - 1;
      if (words.length || (isLast && stages.length === 0)) {
        stages.push(words);
        ends.push(end);
      } else if (isLast) {
        // OVS drops the last index when the final stage adds no bits: the last
        // non-empty stage becomes the final one.
      }
      prev = end;
    }
    this.stageWords = stages;
    this.stageEnd = ends;
    this.indices = stages.slice(0, -1).map(() => new Map<number, number>());
    this.allWords = stages.flat();
    this.triePlen = trieFields.map((f) => prefixLen32(mask[TRIE_WORD[f]]!));
    const pm = mask[W_TP]! >>> 0;
    this.portsMaskLen = pm === 0 ? 0 : 32 - (31 - Math.clz32(pm & -pm));
  }

  /** The stage index that holds word `w`. */
  stageOf(w: number): number {
    for (let i = 0; i < this.stageEnd.length; i++) if (w < this.stageEnd[i]!) return i;
    return this.stageEnd.length - 1;
  }
}

function hashWords(
  key: Uint32Array,
  mask: Uint32Array,
  words: readonly number[],
  basis: number,
): number {
  let h = basis;
  for (let i = 0; i < words.length; i++) {
    const w = words[i]!;
    h = Math.imul(h ^ ((key[w]! & mask[w]!) >>> 0), 0x9e3779b1);
    h = (h << 13) | (h >>> 19);
  }
  return h >>> 0;
}

function sameMasked(flow: Uint32Array, rule: ClsRule<unknown>, words: readonly number[]): boolean {
  for (let i = 0; i < words.length; i++) {
    const w = words[i]!;
    if ((flow[w]! & rule.mask[w]!) >>> 0 !== rule.key[w]) return false;
  }
  return true;
}

function maskKey(mask: Uint32Array): string {
  // Only the nonzero words, by index: short, and cheap to build for every flow-mod.
  let k = "";
  for (let w = 0; w < mask.length; w++) if (mask[w]) k += `${w}:${mask[w]},`;
  return k;
}

export class Classifier<T> {
  private readonly subtables: Subtable<T>[] = [];
  private readonly byMask = new Map<string, Subtable<T>>();
  private readonly trieFields: readonly TrieField[];
  private readonly tries: PrefixTrie[];
  private readonly plens = new Uint32Array(1);
  private nRules = 0;

  constructor(prefixes: readonly TrieField[] = ["nw_dst", "nw_src"]) {
    this.trieFields = prefixes;
    this.tries = prefixes.map(() => new PrefixTrie());
  }

  get size(): number {
    return this.nRules;
  }

  /** Adds a rule. `key` is masked here; the caller keeps ownership of neither array. */
  insert(key: Uint32Array, mask: Uint32Array, priority: number, data: T): ClsRule<T> {
    const m = Uint32Array.from(mask);
    const k = Uint32Array.from(key);
    for (let i = 0; i < k.length; i++) k[i] = (k[i]! & m[i]!) >>> 0;
    const rule: ClsRule<T> = { key: k, mask: m, priority, data };
    const mk = maskKey(m);
    let st = this.byMask.get(mk);
    let fresh = false;
    if (!st) {
      st = new Subtable<T>(m, this.trieFields);
      this.byMask.set(mk, st);
      this.subtables.push(st);
      fresh = true;
    }
    const h = hashWords(k, m, st.allWords, 0);
    let bucket = st.rules.get(h);
    if (!bucket) st.rules.set(h, (bucket = []));
    bucket.push(rule);
    bucket.sort((a, b) => b.priority - a.priority);
    this.indexRule(st, rule, 1);
    st.count++;
    if (fresh) {
      st.maxPriority = priority;
      this.sortSubtables();
    } else if (priority > st.maxPriority) this.changePriority(st, priority);
    this.nRules++;
    return rule;
  }

  remove(rule: ClsRule<T>): boolean {
    const st = this.byMask.get(maskKey(rule.mask));
    if (!st) return false;
    const h = hashWords(rule.key, rule.mask, st.allWords, 0);
    const bucket = st.rules.get(h);
    const i = bucket ? bucket.indexOf(rule) : -1;
    if (!bucket || i < 0) return false;
    bucket.splice(i, 1);
    if (bucket.length === 0) st.rules.delete(h);
    this.indexRule(st, rule, -1);
    st.count--;
    this.nRules--;
    if (st.count === 0) {
      this.byMask.delete(maskKey(rule.mask));
      this.subtables.splice(this.subtables.indexOf(st), 1);
    } else {
      let max = -1;
      for (const b of st.rules.values()) for (const r of b) max = Math.max(max, r.priority);
      if (max !== st.maxPriority) this.changePriority(st, max);
    }
    return true;
  }

  /**
   * Replaces `old` by a rule with the same match and priority carrying `data`,
   * leaving subtables, indices and tries untouched (classifier_replace()), so the
   * subtable keeps its place in the search order.
   */
  replace(old: ClsRule<T>, data: T): ClsRule<T> {
    const st = this.byMask.get(maskKey(old.mask));
    const bucket = st?.rules.get(hashWords(old.key, old.mask, st.allWords, 0));
    const i = bucket ? bucket.indexOf(old) : -1;
    if (!bucket || i < 0) throw new Error("classifier: replacing a rule that is not in the table");
    const rule: ClsRule<T> = { key: old.key, mask: old.mask, priority: old.priority, data };
    bucket[i] = rule;
    return rule;
  }

  *rules(): IterableIterator<ClsRule<T>> {
    for (const st of this.subtables) for (const b of st.rules.values()) yield* b;
  }

  /** The rule with exactly this match and priority (ovs-ofctl --strict). */
  findExact(key: Uint32Array, mask: Uint32Array, priority: number): ClsRule<T> | undefined {
    const st = this.byMask.get(maskKey(mask));
    if (!st) return undefined;
    const h = hashWords(key, mask, st.allWords, 0);
    return st.rules.get(h)?.find((r) => r.priority === priority && sameMasked(key, r, st.allWords));
  }

  private indexRule(st: Subtable<T>, rule: ClsRule<T>, delta: 1 | -1): void {
    let basis = 0;
    for (let i = 0; i < st.indices.length; i++) {
      basis = hashWords(rule.key, rule.mask, st.stageWords[i]!, basis);
      const idx = st.indices[i]!;
      const n = (idx.get(basis) ?? 0) + delta;
      if (n > 0) idx.set(basis, n);
      else idx.delete(basis);
    }
    for (let j = 0; j < this.trieFields.length; j++) {
      const plen = st.triePlen[j]!;
      if (plen > 0) this.tries[j]!.insert(rule.key[TRIE_WORD[this.trieFields[j]!]]!, plen, delta);
    }
    if (st.portsMaskLen > 0) st.portsTrie.insert(rule.key[W_TP]!, st.portsMaskLen, delta);
  }

  /**
   * OVS's pvector: a stable sort by max priority, where a priority change that keeps
   * the order between its neighbours leaves the subtable in place. Ties are thus
   * visited in the order OVS visits them.
   */
  private sortSubtables(): void {
    this.subtables.sort((a, b) => b.maxPriority - a.maxPriority);
  }

  private changePriority(st: Subtable<T>, priority: number): void {
    const v = this.subtables;
    const i = v.indexOf(st);
    const up = priority > st.maxPriority && i > 0 && priority > v[i - 1]!.maxPriority;
    const down = priority < st.maxPriority && i < v.length - 1 && priority < v[i + 1]!.maxPriority;
    st.maxPriority = priority;
    if (up || down) this.sortSubtables();
  }

  /**
   * Finds the highest-priority rule matching `flow`. When `wc` is given, ORs into it
   * every bit the lookup examined (classifier_lookup's wildcards).
   */
  lookup(flow: Uint32Array, wc?: Uint32Array): ClsRule<T> | undefined {
    let best: ClsRule<T> | undefined;
    let bestPri = -1;
    // Trie lookups are done on demand, once per lookup per field.
    let trieDone = 0;
    const trieBits = this.trieBits;
    const triePlens = this.triePlens;
    const isIpv4 = (flow[W_DL_TYPE]! & 0xffff) === 0x0800;
    for (let s = 0; s < this.subtables.length; s++) {
      const st = this.subtables[s]!;
      if (st.maxPriority <= bestPri) break;
      let rule: ClsRule<T> | undefined;
      if (!wc) {
        const h = hashWords(flow, st.mask, st.allWords, 0);
        rule = st.rules.get(h)?.find((r) => sameMasked(flow, r, st.allWords));
      } else {
        rule = undefined;
        let basis = 0;
        let foldEnd = 0;
        let matched = false;
        let i = 0;
        const n = st.stageWords.length;
        for (; i < n; i++) {
          // Trie check for this stage (the trie fields live in the L3 stage).
          if (this.trieFields.length && st.stageEnd[i] === FLOW_SEGMENT_L4 && isIpv4) {
            let skip = false;
            for (let j = 0; j < this.trieFields.length; j++) {
              const plen = st.triePlen[j]!;
              if (!plen) continue;
              if (!(trieDone & (1 << j))) {
                trieBits[j] = this.tries[j]!.lookup(
                  flow[TRIE_WORD[this.trieFields[j]!]]!,
                  this.plens,
                );
                triePlens[j] = this.plens[0]!;
                trieDone |= 1 << j;
              }
              if (!((triePlens[j]! >>> (plen - 1)) & 1)) {
                const w = TRIE_WORD[this.trieFields[j]!];
                const bits = trieBits[j]!;
                const pm =
                  bits === 0 ? 0 : bits >= 32 ? 0xffffffff : (0xffffffff << (32 - bits)) >>> 0;
                if (bits <= plen) {
                  wc[w] = (wc[w]! | pm) >>> 0;
                  skip = true;
                  break;
                }
                if ((wc[w]! & pm) >>> 0 === pm) {
                  skip = true;
                  break;
                }
              }
            }
            if (skip) break;
          }
          if (i === n - 1) {
            matched = true;
            break;
          }
          basis = hashWords(flow, st.mask, st.stageWords[i]!, basis);
          foldEnd = st.stageEnd[i]!;
          if (!st.indices[i]!.has(basis)) break;
        }
        if (matched) {
          // Chained stage hashes equal one hash over all the words.
          const h = hashWords(flow, st.mask, st.stageWords[n - 1]!, basis);
          const bucket = st.rules.get(h);
          if (bucket) {
            for (let b = 0; b < bucket.length; b++) {
              if (sameMasked(flow, bucket[b]!, st.allWords)) {
                rule = bucket[b]!;
                break;
              }
            }
          }
          if (rule) foldEnd = FLOW_WORDS;
          else if (st.portsMaskLen > 0 && st.stageEnd[n - 1] === FLOW_WORDS) {
            const pm = st.mask[W_TP]!;
            const bits = st.portsTrie.lookup((flow[W_TP]! & pm) >>> 0, this.plens);
            const prefix =
              bits === 0 ? 0 : bits >= 32 ? 0xffffffff : (0xffffffff << (32 - bits)) >>> 0;
            wc[W_TP] = (wc[W_TP]! | (pm & prefix)) >>> 0;
          } else foldEnd = FLOW_WORDS;
        }
        // Fold only the mask's nonzero words of the stages examined.
        const fw = st.allWords;
        for (let x = 0; x < fw.length; x++) {
          const w = fw[x]!;
          if (w >= foldEnd) break;
          wc[w] = (wc[w]! | st.mask[w]!) >>> 0;
        }
      }
      if (rule && rule.priority > bestPri) {
        best = rule;
        bestPri = rule.priority;
      }
    }
    return best;
  }

  private readonly trieBits = new Int32Array(4);
  private readonly triePlens = new Uint32Array(4);
}
