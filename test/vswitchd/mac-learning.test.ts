/**
 * The MAC learning table (vswitchd/mac-learning.ts) on its own: LRU order and eviction,
 * moves, static entries, aging, and the revalidation change log with its tags.
 */
import { describe, expect, it } from "vitest";
import { MacLearning, macFromWords, macIsMulticast } from "../../vswitchd/mac-learning.js";

const M = (n: number) => 0x525400000000 + n;
const show = (t: MacLearning, now = 0) => t.show(now, String).split("\n").slice(1, -1);

describe("MacLearning", () => {
  it("reads MACs from flow-key words and spots group addresses", () => {
    expect(macFromWords(0x5254, 0x00000001)).toBe(0x525400000001);
    expect(macFromWords(0xffffffff, 0xffffffff)).toBe(0xffffffffffff);
    expect(macIsMulticast(0x01005e000001)).toBe(true);
    expect(macIsMulticast(0xffffffffffff)).toBe(true);
    expect(macIsMulticast(0x525400000001)).toBe(false);
    expect(macIsMulticast(0xfeffffffffff)).toBe(false);
  });

  it("never learns a multicast source and keys entries by (MAC, VLAN)", () => {
    const t = new MacLearning();
    expect(t.learn(0x01005e000001, 0, 1, 0)).toBe(false);
    expect(t.learn(M(1), 10, 1, 0)).toBe(true);
    expect(t.learn(M(1), 20, 2, 0)).toBe(true);
    expect(t.lookup(M(1), 10, 0)?.port).toBe(1);
    expect(t.lookup(M(1), 20, 0)?.port).toBe(2);
    expect(t.lookup(M(1), 0, 0)).toBeUndefined();
    expect(t.size).toBe(2);
  });

  it("keeps LRU order: a refresh or a move goes to the end, eviction takes the head", () => {
    const t = new MacLearning();
    t.maxEntries = 3;
    for (let i = 1; i <= 3; i++) t.learn(M(i), 0, i, 0);
    t.learn(M(1), 0, 1, 5); // refresh: M(1) is now the most recent
    t.learn(M(2), 0, 9, 6); // move: M(2) to port 9, most recent
    expect(show(t).map((l) => l.trim().split(/\s+/)[0])).toEqual(["3", "1", "9"]);
    t.takeChanges();
    t.learn(M(4), 0, 4, 7); // over the limit: the LRU entry (M(3)) goes
    expect(t.lookup(M(3), 0, 7)).toBeUndefined();
    expect(t.size).toBe(3);
    expect(t.takeChanges()).toEqual([MacLearning.tag(M(3), 0), MacLearning.tag(M(4), 0)]);
  });

  it("keeps static entries through aging, eviction and flushes", () => {
    const t = new MacLearning();
    t.maxEntries = 2;
    t.addStatic(M(1), 0, 7);
    t.learn(M(2), 0, 2, 0);
    t.learn(M(3), 0, 3, 0);
    expect(t.lookup(M(1), 0, 0)?.port).toBe(7);
    expect(t.lookup(M(2), 0, 0)).toBeUndefined();
    expect(t.learn(M(1), 0, 5, 0)).toBe(false);
    expect(t.expire(1e15)).toBe(1);
    t.learn(M(4), 0, 4, 0);
    t.flush();
    expect(t.size).toBe(1);
    expect(t.takeChanges()).toBe("all");
    expect(show(t)).toEqual(["    7     0  52:54:00:00:00:01  static"]);
  });

  it("forgets a port's entries and logs each as a change", () => {
    const t = new MacLearning();
    t.learn(M(1), 0, 1, 0);
    t.learn(M(2), 0, 2, 0);
    t.learn(M(3), 5, 1, 0);
    t.takeChanges();
    t.flushPort(1);
    expect(t.size).toBe(1);
    expect(t.takeChanges()).toEqual([MacLearning.tag(M(1), 0), MacLearning.tag(M(3), 5)]);
  });

  it("gives distinct tags to low VLANs and never a tag that misses a change", () => {
    expect(MacLearning.tag(M(1), 0)).not.toBe(MacLearning.tag(M(1), 1));
    expect(MacLearning.tag(M(1), 31)).not.toBe(MacLearning.tag(M(2), 31));
    // High VLANs may share a tag among neighbouring MACs; the tag a lookup records
    // is always the one a change of that entry logs.
    const t = new MacLearning();
    const tags: number[] = [];
    t.lookup(M(1), 4000, 0, tags);
    t.learn(M(1), 4000, 3, 0);
    expect(t.takeChanges()).toEqual(tags);
  });

  it("switches to 'all' when the change log overflows", () => {
    const t = new MacLearning();
    t.maxEntries = 1e6;
    for (let i = 0; i < 5000; i++) t.learn(M(i), 0, 1, 0);
    expect(t.takeChanges()).toBe("all");
    expect(t.hasChanges).toBe(false);
  });
});
