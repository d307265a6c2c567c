/**
 * The MAC learning table of a bridge's NORMAL action (lib/mac-learning.c): which port
 * a (MAC, VLAN) was last seen on, with aging, static entries (`fdb/add`), `fdb/show`
 * and `fdb/flush`.
 *
 * Time is passed in (nanoseconds of the caller's clock); nothing here reads a clock.
 * Slow path only: translation consults it, the datapath never does.
 *
 * Revalidation tags: a translation that looks up a (MAC, VLAN) depends on that one
 * entry, present or absent. The table keeps a change log of the (MAC, VLAN) keys whose
 * lookup answer may have changed (learned, moved, aged, evicted, flushed), which
 * ofproto-dpif drains to re-translate only the megaflows that looked those keys up —
 * OVS's xlate-cache idea, so learning N new MACs costs O(N) translations, not
 * O(N × megaflows). Changes that touch everything (flush, too many at once) say "all".
 */

export const MAC_DEFAULT_AGING_S = 300;
const NS_PER_S = 1_000_000_000;

export interface MacEntry {
  readonly mac: bigint;
  readonly vlan: number;
  port: number;
  usedNs: number;
  readonly isStatic: boolean;
}

/** OVS's default other_config:mac-table-size. */
export const MAC_DEFAULT_MAX_ENTRIES = 8192;
/** Beyond this many changed keys between drains, revalidate everything instead. */
export const MAC_CHANGE_LOG_MAX = 4096;

export class MacLearning {
  private readonly entries = new Map<string, MacEntry>();
  agingS = MAC_DEFAULT_AGING_S;
  /** Beyond this many entries the least recently used dynamic one is evicted. */
  maxEntries = MAC_DEFAULT_MAX_ENTRIES;
  /**
   * Bridge.flood_vlans: VLANs on which nothing is learned and every lookup misses, so
   * NORMAL floods (mac_learning_set_flood_vlans / is_learning_vlan in OVS).
   */
  floodVlans: ReadonlySet<number> = new Set();
  /** Bumped on every change, so revalidation knows translations may differ. */
  seq = 0;
  /** Keys (see `key()`) whose lookup may answer differently since the last drain. */
  private changedKeys: string[] = [];
  /** Too much changed to list (flush, or more than MAC_CHANGE_LOG_MAX keys). */
  private changedAll = false;

  /** The revalidation tag of a (MAC, VLAN) lookup. */
  static key(mac: bigint, vlan: number): string {
    // A 48-bit MAC is exact as a Number, whose decimal form is cheaper than a BigInt's.
    return `${Number(mac)}/${vlan}`;
  }

  private changed(key: string): void {
    this.seq++;
    if (this.changedAll) return;
    if (this.changedKeys.length >= MAC_CHANGE_LOG_MAX) this.changedEverything();
    else this.changedKeys.push(key);
  }

  private changedEverything(): void {
    this.seq++;
    this.changedAll = true;
    this.changedKeys = [];
  }

  /** True while changes wait for `takeChanges()`. */
  get hasChanges(): boolean {
    return this.changedAll || this.changedKeys.length > 0;
  }

  /**
   * Drains the change log: "all" (revalidate every translation that used this table)
   * or the keys whose lookups may now answer differently.
   */
  takeChanges(): "all" | readonly string[] {
    if (this.changedAll) {
      this.changedAll = false;
      this.changedKeys = [];
      return "all";
    }
    const keys = this.changedKeys;
    if (keys.length) this.changedKeys = [];
    return keys;
  }

  /** Learns `mac` on `port`; returns true if the table changed. Static entries win. */
  learn(mac: bigint, vlan: number, port: number, nowNs: number): boolean {
    // Multicast sources are never learned (eth_addr_is_multicast).
    if ((mac >> 40n) & 1n) return false;
    if (this.floodVlans.has(vlan)) return false;
    const key = MacLearning.key(mac, vlan);
    const e = this.entries.get(key);
    if (e?.isStatic) return false;
    if (e && e.port === port) {
      // mac_learning_insert(): a refreshed entry becomes the most recently used, so
      // the table's order is LRU order (fdb/show's order, and eviction's).
      e.usedNs = nowNs;
      this.entries.delete(key);
      this.entries.set(key, e);
      return false;
    }
    if (e) this.entries.delete(key); // a move: to the LRU end with its new port
    this.entries.set(key, { mac, vlan, port, usedNs: nowNs, isStatic: false });
    this.evict();
    this.changed(key);
    return true;
  }

  /** `fdb/add`: a static entry that never ages. */
  addStatic(mac: bigint, vlan: number, port: number): void {
    const key = MacLearning.key(mac, vlan);
    this.entries.set(key, { mac, vlan, port, usedNs: 0, isStatic: true });
    this.changed(key);
  }

  /** Drops the oldest dynamic entries while the table is over `maxEntries`. */
  private evict(): void {
    if (this.entries.size <= this.maxEntries) return;
    // Entries are in LRU order (learn() moves what it touches to the end): the first
    // dynamic one is the least recently used.
    for (const [k, e] of this.entries) {
      if (e.isStatic) continue;
      this.entries.delete(k);
      this.changed(k);
      return;
    }
  }

  /** Forgets every dynamic entry learned on `port` (the port went away or changed). */
  flushPort(port: number): void {
    for (const [k, e] of this.entries) {
      if (e.port === port && !e.isStatic) {
        this.entries.delete(k);
        this.changed(k);
      }
    }
  }

  /**
   * The entry for (mac, vlan), if any and not aged out. `tags`, when given, receives
   * the lookup's revalidation tag (what the caller's translation now depends on).
   */
  lookup(mac: bigint, vlan: number, nowNs: number, tags?: string[]): MacEntry | undefined {
    // A flood VLAN's lookups always miss; changing flood_vlans flushes (tags "all").
    if (this.floodVlans.has(vlan)) return undefined;
    const key = MacLearning.key(mac, vlan);
    tags?.push(key);
    const e = this.entries.get(key);
    if (!e) return undefined;
    if (!e.isStatic && nowNs - e.usedNs >= this.agingS * NS_PER_S) {
      this.entries.delete(key);
      this.changed(key);
      return undefined;
    }
    return e;
  }

  /**
   * Drops dynamic entries unused for `agingS` at `nowNs` (mac_learning_run); returns
   * how many went. Called by the revalidator and before `fdb/show`.
   */
  expire(nowNs: number): number {
    let n = 0;
    for (const [k, e] of this.entries) {
      if (!e.isStatic && nowNs - e.usedNs >= this.agingS * NS_PER_S) {
        this.entries.delete(k);
        this.changed(k);
        n++;
      }
    }
    return n;
  }

  flush(): void {
    for (const [k, e] of this.entries) if (!e.isStatic) this.entries.delete(k);
    this.changedEverything();
  }

  /** `fdb/show` text; `portName` maps an ofport to what OVS prints. */
  show(nowNs: number, portName: (p: number) => string): string {
    const lines = [" port  VLAN  MAC                Age"];
    for (const e of this.entries.values()) {
      const mac = (e.mac | (1n << 48n))
        .toString(16)
        .slice(1)
        .replace(/(..)(?!$)/g, "$1:");
      const age = e.isStatic ? "static" : String(Math.floor((nowNs - e.usedNs) / NS_PER_S));
      // fdb_show(): "%5s  %4d  MAC  " then "%3d" or "static".
      lines.push(
        `${portName(e.port).padStart(5)}  ${String(e.vlan).padStart(4)}  ${mac}  ${age.padStart(3)}`,
      );
    }
    return `${lines.join("\n")}\n`;
  }
}
