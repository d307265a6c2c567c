import fc from "fast-check";
import { describe, expect, it } from "vitest";
import * as K from "../../packet/index.js";
import { Classifier, parseMatch } from "../../vswitchd/index.js";

/** A small random world: few distinct values per field, so rules overlap often. */
const arbFlow = fc.record({
  inPort: fc.integer({ min: 1, max: 4 }),
  dlType: fc.constantFrom(0x0800, 0x0806),
  nwSrc: fc.constantFrom(0x0a000001, 0x0a000102, 0x0a010203, 0xc0a80001, 0xac100001),
  nwDst: fc.constantFrom(0x0a000002, 0x0a0001ff, 0x0a010001, 0xc0a80102),
  proto: fc.constantFrom(6, 17),
  tpDst: fc.constantFrom(22, 53, 80, 443, 514, 8080),
  reg0: fc.integer({ min: 0, max: 3 }),
});
type FlowSpec = typeof arbFlow extends fc.Arbitrary<infer T> ? T : never;

function toKey(f: FlowSpec): Uint32Array {
  const k = K.newFlowKey();
  k[K.W_IN_PORT] = f.inPort;
  k[K.W_DL_TYPE] = f.dlType;
  k[K.W_NW_SRC] = f.nwSrc >>> 0;
  k[K.W_NW_DST] = f.nwDst >>> 0;
  k[K.W_NW] = f.proto;
  k[K.W_TP] = f.tpDst;
  k[K.W_REG0] = f.reg0;
  return k;
}

const prefix = (len: number) => (len === 0 ? 0 : (0xffffffff << (32 - len)) >>> 0);
const arbRule = fc.record({
  priority: fc.integer({ min: 0, max: 1000 }),
  useInPort: fc.boolean(),
  useType: fc.boolean(),
  srcLen: fc.constantFrom(0, 0, 8, 16, 24, 32),
  dstLen: fc.constantFrom(0, 0, 8, 16, 24, 31, 32),
  useProto: fc.boolean(),
  tpMask: fc.constantFrom(0, 0, 0xffff, 0xff00, 0xfff0),
  useReg: fc.boolean(),
  value: arbFlow,
});
type RuleSpec = typeof arbRule extends fc.Arbitrary<infer T> ? T : never;

function toMask(r: RuleSpec): Uint32Array {
  const m = K.newFlowKey();
  if (r.useInPort) m[K.W_IN_PORT] = 0xffff;
  const ip = r.srcLen || r.dstLen || r.useProto || r.tpMask;
  if (r.useType || ip) m[K.W_DL_TYPE] = 0xffff;
  m[K.W_NW_SRC] = prefix(r.srcLen);
  m[K.W_NW_DST] = prefix(r.dstLen);
  if (r.useProto || r.tpMask) m[K.W_NW] = 0xff;
  m[K.W_TP] = r.tpMask;
  if (r.useReg) m[K.W_REG0] = 0xffffffff;
  return m;
}

function build(rules: RuleSpec[]) {
  const cls = new Classifier<number>();
  const all: Array<{ key: Uint32Array; mask: Uint32Array; priority: number; id: number }> = [];
  rules.forEach((r, id) => {
    const key = toKey(r.value);
    const mask = toMask(r);
    // Unique priorities: OVS leaves ties between overlapping rules undefined.
    const priority = r.priority * 64 + id;
    for (let i = 0; i < key.length; i++) key[i] = (key[i]! & mask[i]!) >>> 0;
    cls.insert(key, mask, priority, id);
    all.push({ key, mask, priority, id });
  });
  return { cls, all };
}

function linear(all: ReturnType<typeof build>["all"], flow: Uint32Array): number | undefined {
  let best: (typeof all)[number] | undefined;
  for (const r of all) {
    let ok = true;
    for (let i = 0; i < flow.length && ok; i++) ok = (flow[i]! & r.mask[i]!) >>> 0 === r.key[i];
    if (ok && (!best || r.priority > best.priority)) best = r;
  }
  return best?.id;
}

describe("the classifier", () => {
  it("finds the same rule as a linear scan, with and without wildcard tracking", () => {
    fc.assert(
      fc.property(
        fc.array(arbRule, { maxLength: 25 }),
        fc.array(arbFlow, { minLength: 1, maxLength: 10 }),
        (rules, flows) => {
          const { cls, all } = build(rules);
          for (const f of flows) {
            const key = toKey(f);
            const want = linear(all, key);
            expect(cls.lookup(key)?.data).toBe(want);
            expect(cls.lookup(key, K.newFlowKey())?.data).toBe(want);
          }
        },
      ),
      { numRuns: 300 },
    );
  });

  it("reports wildcards such that every flow agreeing on them gets the same rule", () => {
    fc.assert(
      fc.property(
        fc.array(arbRule, { maxLength: 25 }),
        arbFlow,
        fc.array(arbFlow, { maxLength: 20 }),
        (rules, f, others) => {
          const { cls } = build(rules);
          const key = toKey(f);
          const wc = K.newFlowKey();
          const got = cls.lookup(key, wc)?.data;
          for (const o of others) {
            const other = toKey(o);
            // Force `other` to agree with `key` on every examined bit.
            for (let i = 0; i < other.length; i++)
              other[i] = ((other[i]! & ~wc[i]!) | (key[i]! & wc[i]!)) >>> 0;
            expect(cls.lookup(other)?.data).toBe(got);
          }
        },
      ),
      { numRuns: 300 },
    );
  });

  it("still agrees with a linear scan after rules are removed", () => {
    fc.assert(
      fc.property(
        fc.array(arbRule, { minLength: 1, maxLength: 20 }),
        fc.array(fc.boolean(), { minLength: 20, maxLength: 20 }),
        arbFlow,
        (rules, drop, f) => {
          const { cls, all } = build(rules);
          const kept = all.filter((r, i) => {
            if (!drop[i]) return true;
            const found = [...cls.rules()].find((x) => x.data === r.id)!;
            expect(cls.remove(found)).toBe(true);
            return false;
          });
          expect(cls.size).toBe(kept.length);
          const key = toKey(f);
          expect(cls.lookup(key, K.newFlowKey())?.data).toBe(linear(kept, key));
        },
      ),
      { numRuns: 200 },
    );
  });

  it("narrows a port miss with the ports trie, as OVS's tp_dst=0x200/0xfe00", () => {
    const cls = new Classifier<string>();
    for (const [text, pri] of [
      ["udp,tp_dst=123", 100],
      ["udp,tp_dst=161", 100],
      ["", 1],
    ] as const) {
      const m = parseMatch(text);
      cls.insert(m.key, m.mask, pri, text);
    }
    const flow = parseMatch("udp,nw_src=10.0.0.1,tp_src=40000,tp_dst=514").key;
    const wc = K.newFlowKey();
    expect(cls.lookup(flow, wc)?.data).toBe("");
    expect(wc[K.W_TP]).toBe(0xfe00);
    expect(wc[K.W_NW]! & 0xff).toBe(0xff);
  });

  it("unwildcards only the prefix bits the nw_src trie needed on a miss", () => {
    const cls = new Classifier<string>();
    const a = parseMatch("ip,nw_src=10.0.0.1");
    cls.insert(a.key, a.mask, 10, "a");
    const b = parseMatch("ip");
    cls.insert(b.key, b.mask, 0, "b");
    const wc = K.newFlowKey();
    expect(cls.lookup(parseMatch("ip,nw_src=10.0.0.9").key, wc)?.data).toBe("b");
    expect(wc[K.W_NW_SRC]).toBe(0xfffffff8);
  });

  it("skips subtables whose max priority cannot beat the match found", () => {
    const cls = new Classifier<string>();
    const hi = parseMatch("in_port=1");
    cls.insert(hi.key, hi.mask, 100, "hi");
    const lo = parseMatch("tcp,tp_dst=80");
    cls.insert(lo.key, lo.mask, 5, "lo");
    const wc = K.newFlowKey();
    expect(cls.lookup(parseMatch("in_port=1,tcp,tp_dst=80").key, wc)?.data).toBe("hi");
    expect(wc[K.W_TP]).toBe(0);
    expect(wc[K.W_IN_PORT]).toBe(0xffff);
  });
});
