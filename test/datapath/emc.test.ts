import { describe, expect, it } from "vitest";
import { Classifier } from "../../datapath/classifier.js";
import { ExactMatchCache, emcHash } from "../../datapath/emc.js";
import { MegaflowTable } from "../../datapath/megaflow.js";
import { FLOW_WORDS, W_NW_DST, W_NW_SRC } from "../../packet/index.js";

/** One megaflow matching nw_dst == dst exactly, installed like Dpif.flowPut does. */
function install(cls: Classifier, flows: MegaflowTable, dst: number): number {
  const mask = new Uint32Array(FLOW_WORDS);
  mask[W_NW_DST] = 0xffffffff;
  const key = new Uint32Array(FLOW_WORDS);
  key[W_NW_DST] = dst;
  const st = cls.subtableFor(mask);
  const id = flows.alloc();
  flows.subtable[id] = st;
  flows.slot[id] = st.insert(key, st.hash(key), id);
  return id;
}

function packetKey(dst: number, src = 7): Uint32Array {
  const key = new Uint32Array(FLOW_WORDS);
  key[W_NW_DST] = dst;
  key[W_NW_SRC] = src;
  return key;
}

describe("exact-match cache", () => {
  it("inserts about one packet in emc-insert-inv-prob, the same ones for the same seed", () => {
    const counts: number[] = [];
    for (let run = 0; run < 2; run++) {
      const cls = new Classifier();
      const flows = new MegaflowTable();
      const emc = new ExactMatchCache(100, 42);
      let inserted = 0;
      for (let i = 0; i < 20_000; i++) {
        const id = install(cls, flows, i + 1);
        const key = packetKey(i + 1);
        emc.maybeInsert(emcHash(key), id, flows);
        if (emc.lookup(key, emcHash(key), flows) === id) inserted++;
      }
      counts.push(inserted);
    }
    expect(counts[0]).toBe(counts[1]);
    expect(counts[0]).toBeGreaterThan(140);
    expect(counts[0]).toBeLessThan(260);
  });

  it("never inserts when emc-insert-inv-prob is 0", () => {
    const cls = new Classifier();
    const flows = new MegaflowTable();
    const emc = new ExactMatchCache(0);
    const id = install(cls, flows, 1);
    const key = packetKey(1);
    emc.maybeInsert(emcHash(key), id, flows);
    expect(emc.lookup(key, emcHash(key), flows)).toBe(-1);
  });

  it("drops an entry when its megaflow dies, even if the id is reused", () => {
    const cls = new Classifier();
    const flows = new MegaflowTable();
    const emc = new ExactMatchCache(1);
    const id = install(cls, flows, 1);
    const key = packetKey(1);
    emc.maybeInsert(emcHash(key), id, flows);
    expect(emc.lookup(key, emcHash(key), flows)).toBe(id);
    flows.subtable[id]!.remove(flows.slot[id]);
    flows.free(id);
    const again = install(cls, flows, 1);
    expect(again).toBe(id);
    expect(emc.lookup(key, emcHash(key), flows)).toBe(-1);
    expect(emc.liveEntries(flows.gen)).toBe(0);
  });

  it("does not return a cached megaflow that the packet does not match, whatever the hash", () => {
    const cls = new Classifier();
    const flows = new MegaflowTable();
    const emc = new ExactMatchCache(1);
    const id = install(cls, flows, 1);
    const hash = emcHash(packetKey(1));
    emc.maybeInsert(hash, id, flows);
    // A different packet presented with the same hash (a collision).
    expect(emc.lookup(packetKey(2), hash, flows)).toBe(-1);
    // A packet differing only in a wildcarded field still hits.
    expect(emc.lookup(packetKey(1, 99), hash, flows)).toBe(id);
  });
});
