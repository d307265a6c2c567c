import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { Classifier } from "../../datapath/classifier.js";
import { FLOW_WORDS, type FlowKey } from "../../packet/index.js";

/** A tiny deterministic generator so a million keys cost no fast-check overhead. */
function xorshift(seed: number): () => number {
  let x = seed >>> 0 || 1;
  return () => {
    x ^= x << 13;
    x ^= x >>> 17;
    x ^= x << 5;
    return (x >>>= 0);
  };
}

interface Mf {
  key: FlowKey;
  mask: FlowKey;
  id: number;
  /** The mask's non-zero words, so the reference scan skips words it would ignore anyway. */
  words: number[];
}

/** The brute-force reference: the first megaflow whose masked key equals key & mask. */
function linearLookup(flows: readonly Mf[], key: FlowKey): number {
  for (const f of flows) {
    let ok = true;
    for (const w of f.words) if (((key[w] ^ f.key[w]) & f.mask[w]) !== 0) ok = false;
    if (ok) return f.id;
  }
  return -1;
}

function overlaps(a: Mf, key: FlowKey, mask: FlowKey): boolean {
  for (let w = 0; w < FLOW_WORDS; w++)
    if (((a.key[w] ^ key[w]) & a.mask[w] & mask[w]) !== 0) return false;
  return true;
}

/**
 * Random masks drawn from a few "templates" over a handful of words, with values from
 * a small alphabet so that keys collide often and many lookups hit.
 */
const WORDS = [45, 46, 51, 57, 58, 68, 84, 1];

function randomMask(rnd: () => number, nTemplates: number): FlowKey {
  const t = rnd() % nTemplates;
  const r2 = xorshift(t * 7919 + 1);
  const mask = new Uint32Array(FLOW_WORDS);
  for (const w of WORDS) {
    const pick = r2() % 4;
    mask[w] = pick === 0 ? 0 : pick === 1 ? 0xffffffff : pick === 2 ? 0xff00ff00 : 0x0000000f;
  }
  return mask;
}

function randomKey(rnd: () => number, key = new Uint32Array(FLOW_WORDS)): FlowKey {
  for (const w of WORDS) key[w] = rnd() % 3 === 0 ? rnd() : (rnd() % 4) * 0x01010101;
  return key;
}

function build(seed: number, nFlows: number, nTemplates: number) {
  const rnd = xorshift(seed);
  const cls = new Classifier();
  const flows: Mf[] = [];
  for (let i = 0; i < nFlows * 4 && flows.length < nFlows; i++) {
    const mask = randomMask(rnd, nTemplates);
    const key = randomKey(rnd);
    for (let w = 0; w < FLOW_WORDS; w++) key[w] &= mask[w];
    if (flows.some((f) => overlaps(f, key, mask))) continue;
    const st = cls.subtableFor(mask);
    st.insert(key, st.hash(key), flows.length);
    flows.push({ key, mask, id: flows.length, words: WORDS.filter((w) => mask[w] !== 0) });
  }
  return { rnd, cls, flows };
}

describe("megaflow classifier (tuple-space search)", () => {
  it("agrees with a linear scan over a million random keys and masks", () => {
    let checked = 0;
    let hits = 0;
    fc.assert(
      fc.property(
        fc.integer({ min: 1, max: 0x7fffffff }),
        fc.integer({ min: 1, max: 12 }),
        (seed, nTemplates) => {
          const { rnd, cls, flows } = build(seed, 48, nTemplates);
          const key = new Uint32Array(FLOW_WORDS);
          for (let i = 0; i < 10_000; i++) {
            // Half the keys are derived from a megaflow with random wildcarded bits.
            if (i & 1 && flows.length > 0) {
              const f = flows[rnd() % flows.length];
              for (let w = 0; w < FLOW_WORDS; w++) key[w] = f.key[w] | (rnd() & ~f.mask[w]);
            } else {
              randomKey(rnd, key);
            }
            const want = linearLookup(flows, key);
            const got = cls.lookup(key);
            if (got !== want) return false;
            if (got >= 0) hits++;
            checked++;
          }
          return true;
        },
      ),
      { numRuns: 100 },
    );
    expect(checked).toBe(1_000_000);
    expect(hits).toBeGreaterThan(400_000);
  });

  it("still agrees after megaflows are removed and subtables re-ranked", () => {
    fc.assert(
      fc.property(fc.integer({ min: 1, max: 0x7fffffff }), (seed) => {
        const { rnd, cls, flows } = build(seed, 40, 6);
        const live = [...flows];
        for (let round = 0; round < 20; round++) {
          const victim = live.splice(rnd() % live.length, 1)[0];
          if (!victim) break;
          const st = cls.findSubtable(victim.mask)!;
          st.remove(st.find(victim.key, st.hash(victim.key)));
          cls.releaseIfEmpty(st);
          cls.rerank();
          for (const f of flows) {
            const want = linearLookup(live, f.key);
            if (cls.lookup(f.key) !== want) return false;
          }
        }
        return cls.maskCount === new Set(live.map((f) => f.mask.join(","))).size;
      }),
      { numRuns: 50 },
    );
  });

  it("ranks the subtable with the most hits first", () => {
    const cls = new Classifier();
    const m1 = new Uint32Array(FLOW_WORDS);
    m1[57] = 0xffffffff;
    const m2 = new Uint32Array(FLOW_WORDS);
    m2[58] = 0xffffffff;
    const k1 = new Uint32Array(FLOW_WORDS);
    k1[57] = 1;
    const k2 = new Uint32Array(FLOW_WORDS);
    k2[58] = 2;
    const s1 = cls.subtableFor(m1);
    s1.insert(k1, s1.hash(k1), 0);
    const s2 = cls.subtableFor(m2);
    s2.insert(k2, s2.hash(k2), 1);
    for (let i = 0; i < 10; i++) cls.lookup(k2);
    cls.rerank();
    expect(cls.subtables[0]).toBe(s2);
    expect(cls.lookup(k2)).toBe(1);
    expect(cls.lastProbes).toBe(1);
  });

  it("grows a subtable past its initial size without losing megaflows", () => {
    const cls = new Classifier();
    const mask = new Uint32Array(FLOW_WORDS);
    mask[84] = 0xffffffff;
    const st = cls.subtableFor(mask);
    const key = new Uint32Array(FLOW_WORDS);
    for (let i = 0; i < 5000; i++) {
      key[84] = i * 2654435761;
      st.insert(key, st.hash(key), i);
    }
    for (let i = 0; i < 5000; i++) {
      key[84] = i * 2654435761;
      expect(cls.lookup(key)).toBe(i);
    }
    expect(st.count).toBe(5000);
  });
});
