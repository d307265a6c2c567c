/**
 * The MAC learning table of a bridge's NORMAL action (lib/mac-learning.c): which port
 * a (MAC, VLAN) was last seen on, with aging, static entries (`fdb/add`), `fdb/show`
 * and `fdb/flush`.
 *
 * Time is passed in (nanoseconds of the caller's clock); nothing here reads a clock.
 * Slow path only: translation consults it, the datapath never does.
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

  private static k(mac: bigint, vlan: number): string {
    return `${mac}/${vlan}`;
  }

  /** Learns `mac` on `port`; returns true if the table changed. Static entries win. */
  learn(mac: bigint, vlan: number, port: number, nowNs: number): boolean {
    // Multicast sources are never learned (eth_addr_is_multicast).
    if ((mac >> 40n) & 1n) return false;
    if (this.floodVlans.has(vlan)) return false;
    const key = MacLearning.k(mac, vlan);
    const e = this.entries.get(key);
    if (e?.isStatic) return false;
    if (e && e.port === port) {
      e.usedNs = nowNs;
      return false;
    }
    this.entries.delete(key);
    this.entries.set(key, { mac, vlan, port, usedNs: nowNs, isStatic: false });
    this.evict();
    this.seq++;
    return true;
  }

  /** `fdb/add`: a static entry that never ages. */
  addStatic(mac: bigint, vlan: number, port: number): void {
    this.entries.set(MacLearning.k(mac, vlan), { mac, vlan, port, usedNs: 0, isStatic: true });
    this.seq++;
  }

  /** Drops the oldest dynamic entries while the table is over `maxEntries`. */
  private evict(): void {
    if (this.entries.size <= this.maxEntries) return;
    let oldest: [string, MacEntry] | undefined;
    for (const kv of this.entries)
      if (!kv[1].isStatic && (!oldest || kv[1].usedNs < oldest[1].usedNs)) oldest = kv;
    if (oldest) this.entries.delete(oldest[0]);
  }

  /** Forgets every dynamic entry learned on `port` (the port went away or changed). */
  flushPort(port: number): void {
    for (const [k, e] of this.entries) {
      if (e.port === port && !e.isStatic) {
        this.entries.delete(k);
        this.seq++;
      }
    }
  }

  lookup(mac: bigint, vlan: number, nowNs: number): MacEntry | undefined {
    if (this.floodVlans.has(vlan)) return undefined;
    const e = this.entries.get(MacLearning.k(mac, vlan));
    if (!e) return undefined;
    if (!e.isStatic && nowNs - e.usedNs >= this.agingS * NS_PER_S) {
      this.entries.delete(MacLearning.k(mac, vlan));
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
        n++;
      }
    }
    if (n) this.seq++;
    return n;
  }

  flush(): void {
    for (const [k, e] of this.entries) if (!e.isStatic) this.entries.delete(k);
    this.seq++;
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
