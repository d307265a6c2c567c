/**
 * Mask-aware hashing (datapath/flow-hash.ts): what the classifier's mask index and the
 * datapath-made ufids rely on.
 */
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { hashMasked, ufidWords } from "../../datapath/flow-hash.js";
import { FLOW_WORDS } from "../../packet/index.js";

const words = fc
  .array(fc.integer({ min: 0, max: 0xffffffff }), { minLength: FLOW_WORDS, maxLength: FLOW_WORDS })
  .map((a) => Uint32Array.from(a));
const sparseMask = fc
  .array(
    fc.tuple(fc.integer({ min: 0, max: FLOW_WORDS - 1 }), fc.integer({ min: 1, max: 0xffffffff })),
    {
      maxLength: 12,
    },
  )
  .map((pairs) => {
    const m = new Uint32Array(FLOW_WORDS);
    for (const [i, v] of pairs) m[i] = v;
    return m;
  });

describe("hashMasked", () => {
  it("hashes keys that are equal under the mask alike", () => {
    fc.assert(
      fc.property(words, words, sparseMask, (a, b, m) => {
        // b takes a's bits wherever the mask looks.
        const c = b.map((w, i) => ((w & ~m[i]!) | (a[i]! & m[i]!)) >>> 0);
        expect(hashMasked(c, m, 7)).toBe(hashMasked(a, m, 7));
      }),
    );
  });

  it("tells apart masks that examine different words with the same values", () => {
    const a = new Uint32Array(FLOW_WORDS);
    const b = new Uint32Array(FLOW_WORDS);
    a[3] = 0xffff;
    b[4] = 0xffff;
    expect(hashMasked(a, a, 0)).not.toBe(hashMasked(b, b, 0));
  });
});

describe("ufidWords", () => {
  it("gives equal ufids only to equal (masked key, mask) pairs, over random samples", () => {
    const seen = new Map<string, string>();
    fc.assert(
      fc.property(words, sparseMask, (k, m) => {
        const out = new Uint32Array(4);
        ufidWords(k, m, out, 0);
        const id = Array.from(out).join(",");
        const what = `${Array.from(k, (w, i) => (w & m[i]!) >>> 0).join(",")}/${Array.from(m).join(",")}`;
        const prev = seen.get(id);
        if (prev !== undefined) expect(prev).toBe(what);
        seen.set(id, what);
      }),
      { numRuns: 2000 },
    );
  });

  it("writes four words at the offset and no others", () => {
    const k = Uint32Array.from({ length: FLOW_WORDS }, (_, i) => i * 2654435761);
    const m = new Uint32Array(FLOW_WORDS).fill(0xffffffff);
    const out = new Uint32Array(12).fill(0xdead);
    ufidWords(k, m, out, 4);
    expect(Array.from(out.subarray(0, 4))).toEqual([0xdead, 0xdead, 0xdead, 0xdead]);
    expect(Array.from(out.subarray(8))).toEqual([0xdead, 0xdead, 0xdead, 0xdead]);
    expect(new Set(out.subarray(4, 8)).size).toBe(4);
  });
});
