/**
 * The MAC learning table of a bridge's NORMAL action (lib/mac-learning.c): which port
 * a (MAC, VLAN) was last seen on, with aging, static entries (`fdb/add`), `fdb/show`
 * and `fdb/flush`.
 *
 * Time is passed in (nanoseconds of the caller's clock); nothing here reads a clock.
 * Slow path only: translation consults it, the datapath never does.
 *
 * Revalidation tags: a translation that looks up a (MAC, VLAN) depends on that one
 * entry, present or absent. The table keeps a change log of the (MAC, VLAN) tags whose
 * lookup answer may have changed (learned, moved, aged, evicted, flushed), which
 * ofproto-dpif drains to re-translate only the megaflows that looked those keys up —
 * OVS's xlate-cache idea, so learning N new MACs costs O(N) translations, not
 * O(N × megaflows). Changes that touch everything (flush, too many at once) say "all".
 *
 * MACs are 48-bit Numbers (exact in a double), not BigInts: learning runs once per
 * upcall, and BigInt arithmetic and string keys cost more than the rest of it.
 */

export const MAC_DEFAULT_AGING_S = 300;
const NS_PER_S = 1_000_000_000;
const TWO_32 = 2 ** 32;
const TWO_48 = 2 ** 48;

/** A learned (or static) MAC; `mac` is the 48-bit address as a Number (exact). */
export interface MacEntry {
  readonly mac: number;
  readonly vlan: number;
  port: number;
  usedNs: number;
  readonly isStatic: boolean;
}

/** A MacEntry on the table's LRU list (mac_entry's lru_node). */
interface LruEntry extends MacEntry {
  prev: LruEntry | null;
  next: LruEntry | null;
}

/** OVS's default other_config:mac-table-size. */
export const MAC_DEFAULT_MAX_ENTRIES = 8192;
/** Beyond this many changed tags between drains, revalidate everything instead. */
export const MAC_CHANGE_LOG_MAX = 4096;

/** The 48-bit MAC held in a flow key's two Ethernet address words, as a Number. */
export function macFromWords(hi: number, lo: number): number {
  return (hi & 0xffff) * TWO_32 + (lo >>> 0);
}

/** True for a group (multicast or broadcast) address: the I/G bit of the first octet. */
export function macIsMulticast(mac: number): boolean {
  return Math.floor(mac / 2 ** 40) % 2 === 1;
}

export class MacLearning {
  /** VLAN → MAC → entry (OVS hashes the pair; two levels keep the keys plain numbers). */
  private readonly byVlan = new Map<number, Map<number, LruEntry>>();
  /** Least recently used first (mac_learning's lrus list): eviction and fdb/show order. */
  private lruHead: LruEntry | null = null;
  private lruTail: LruEntry | null = null;
  private count = 0;
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
  /** Tags (see `tag()`) whose lookup may answer differently since the last drain. */
  private changedTags: number[] = [];
  /** Too much changed to list (flush, or more than MAC_CHANGE_LOG_MAX keys). */
  private changedAll = false;

  /**
   * The revalidation tag of a (MAC, VLAN) lookup: MAC + VLAN × 2^48 as a Number. It
   * names one pair exactly for VLANs below 32; above, the sum rounds, so a tag may
   * stand for a few neighbouring MACs of one VLAN. A change then re-translates a few
   * megaflows more than needed, never fewer (OVS's tags were Bloom-filter bits).
   */
  static tag(mac: number, vlan: number): number {
    return mac + vlan * TWO_48;
  }

  /** Number of entries, static ones included. */
  get size(): number {
    return this.count;
  }

  private changed(mac: number, vlan: number): void {
    this.seq++;
    if (this.changedAll) return;
    if (this.changedTags.length >= MAC_CHANGE_LOG_MAX) this.changedEverything();
    else this.changedTags.push(MacLearning.tag(mac, vlan));
  }

  private changedEverything(): void {
    this.seq++;
    this.changedAll = true;
    this.changedTags = [];
  }

  /** True while changes wait for `takeChanges()`. */
  get hasChanges(): boolean {
    return this.changedAll || this.changedTags.length > 0;
  }

  /**
   * Drains the change log: "all" (revalidate every translation that used this table)
   * or the tags whose lookups may now answer differently.
   */
  takeChanges(): "all" | readonly number[] {
    if (this.changedAll) {
      this.changedAll = false;
      this.changedTags = [];
      return "all";
    }
    const tags = this.changedTags;
    if (tags.length) this.changedTags = [];
    return tags;
  }

  private find(mac: number, vlan: number): LruEntry | undefined {
    return this.byVlan.get(vlan)?.get(mac);
  }

  private link(e: LruEntry): void {
    e.prev = this.lruTail;
    e.next = null;
    if (this.lruTail) this.lruTail.next = e;
    else this.lruHead = e;
    this.lruTail = e;
  }

  private unlink(e: LruEntry): void {
    if (e.prev) e.prev.next = e.next;
    else this.lruHead = e.next;
    if (e.next) e.next.prev = e.prev;
    else this.lruTail = e.prev;
    e.prev = e.next = null;
  }

  private insert(mac: number, vlan: number, port: number, usedNs: number, isStatic: boolean): void {
    let macs = this.byVlan.get(vlan);
    if (!macs) this.byVlan.set(vlan, (macs = new Map()));
    const e: LruEntry = { mac, vlan, port, usedNs, isStatic, prev: null, next: null };
    macs.set(mac, e);
    this.link(e);
    this.count++;
  }

  private remove(e: LruEntry): void {
    const macs = this.byVlan.get(e.vlan)!;
    macs.delete(e.mac);
    if (macs.size === 0) this.byVlan.delete(e.vlan);
    this.unlink(e);
    this.count--;
  }

  /** Learns `mac` on `port`; returns true if the table changed. Static entries win. */
  learn(mac: number, vlan: number, port: number, nowNs: number): boolean {
    // Multicast sources are never learned (eth_addr_is_multicast).
    if (macIsMulticast(mac)) return false;
    if (this.floodVlans.has(vlan)) return false;
    const e = this.find(mac, vlan);
    if (e?.isStatic) return false;
    if (e && e.port === port) {
      // mac_learning_insert(): a refreshed entry becomes the most recently used.
      e.usedNs = nowNs;
      if (e !== this.lruTail) {
        this.unlink(e);
        this.link(e);
      }
      return false;
    }
    if (e) this.remove(e); // a move: to the LRU end with its new port
    this.insert(mac, vlan, port, nowNs, false);
    this.evict();
    this.changed(mac, vlan);
    return true;
  }

  /** `fdb/add`: a static entry that never ages. */
  addStatic(mac: number, vlan: number, port: number): void {
    const e = this.find(mac, vlan);
    if (e) this.remove(e);
    this.insert(mac, vlan, port, 0, true);
    this.changed(mac, vlan);
  }

  /** Drops the oldest dynamic entries while the table is over `maxEntries`. */
  private evict(): void {
    if (this.count <= this.maxEntries) return;
    for (let e = this.lruHead; e; e = e.next) {
      if (e.isStatic) continue;
      this.remove(e);
      this.changed(e.mac, e.vlan);
      return;
    }
  }

  /** Forgets every dynamic entry learned on `port` (the port went away or changed). */
  flushPort(port: number): void {
    for (let e = this.lruHead; e; ) {
      const next = e.next;
      if (e.port === port && !e.isStatic) {
        this.remove(e);
        this.changed(e.mac, e.vlan);
      }
      e = next;
    }
  }

  /**
   * The entry for (mac, vlan), if any and not aged out. `tags`, when given, receives
   * the lookup's revalidation tag (what the caller's translation now depends on).
   */
  lookup(mac: number, vlan: number, nowNs: number, tags?: number[]): MacEntry | undefined {
    // A flood VLAN's lookups always miss; changing flood_vlans flushes (tags "all").
    if (this.floodVlans.has(vlan)) return undefined;
    tags?.push(MacLearning.tag(mac, vlan));
    const e = this.find(mac, vlan);
    if (!e) return undefined;
    if (!e.isStatic && nowNs - e.usedNs >= this.agingS * NS_PER_S) {
      this.remove(e);
      this.changed(mac, vlan);
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
    for (let e = this.lruHead; e; ) {
      const next = e.next;
      if (!e.isStatic && nowNs - e.usedNs >= this.agingS * NS_PER_S) {
        this.remove(e);
        this.changed(e.mac, e.vlan);
        n++;
      }
      e = next;
    }
    return n;
  }

  flush(): void {
    for (let e = this.lruHead; e; ) {
      const next = e.next;
      if (!e.isStatic) this.remove(e);
      e = next;
    }
    this.changedEverything();
  }

  /** `fdb/show` text; `portName` maps an ofport to what OVS prints. */
  show(nowNs: number, portName: (p: number) => string): string {
    const lines = [" port  VLAN  MAC                Age"];
    for (let e = this.lruHead; e; e = e.next) {
      const mac = (e.mac + TWO_48)
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
