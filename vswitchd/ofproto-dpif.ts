/**
 * ofproto-dpif: an Ofproto bound to a Dpif (OVS ofproto/ofproto-dpif.c with
 * ofproto-dpif-upcall.c). It services upcalls — translate, install the megaflow with
 * flowPut, execute the held packet — and keeps the installed megaflows honest with
 * a revalidator: datapath stats are pushed back to the OpenFlow rules each megaflow
 * came from (so `dump-flows` counts them), megaflows idle for `max-idle` are evicted,
 * OpenFlow idle/hard timeouts expire rules, and after any change to flows or ports
 * every megaflow is re-translated and fixed or deleted.
 *
 * MAC learning is revalidated by tags, as OVS's xlate cache does: each ukey remembers
 * the (MAC, VLAN) entries its translation looked up (xlate's macTags), an index maps
 * each such entry to the ukeys that used it, and a MAC table change re-translates only
 * the ukeys indexed under the changed entries. Learning a new MAC thus re-translates
 * just the megaflows that flooded for lack of it, so N learns cost O(N) translations.
 *
 * Time: upcalls cost `upcallCostNs` of simulated time each and are serviced one after
 * another (one handler thread); the revalidator runs every 500 ms while there is
 * something to watch (megaflows or timed rules), so an idle world stays idle.
 *
 * It does not: service `recirc` continuations (a packet recirculated by a megaflow
 * misses again and is translated from its datapath key alone, from table 0). Today no
 * translation emits recirc() — the OVS features that freeze state (ct, bonds with
 * dp_hash, select groups, mid-pipeline MPLS pops) are not implemented — so nothing
 * can take that path; the datapath only parses recirc() for users' dpctl flows. When
 * one of those lands, xlate's frozen-state ids (recircIds) must map to the frozen
 * table, stack and action set, and upcalls with recirc_id != 0 must resume there, as
 * OVS's recirc_id_node does. It also does not send flow-removed
 * messages, or model more than one handler/revalidator thread.
 */
import type { Dpif, Upcall } from "../datapath/index.js";
import {
  type FlowKey,
  W_IN_PORT,
  W_TUN_DST,
  W_TUN_ID_HI,
  W_TUN_ID_LO,
  W_TUN_SRC,
} from "../packet/index.js";
import { type Bridge, creditRuleStats, type OfRule, type Port } from "./bridge.js";
import type { MacLearning } from "./mac-learning.js";
import type { Ofproto } from "./ofproto.js";
import { xlate } from "./xlate.js";

/** Timers on the caller's clock (sim's scheduler). Slow path only. */
export interface VswitchdTimers {
  schedule(delayNs: number, fn: () => void): number;
  cancel(handle: number): unknown;
}

/** OVS's default `other_config:max-idle`, ms. */
export const MAX_IDLE_DEFAULT_MS = 10_000;
/** How often the revalidator wakes (OVS: ofproto_max_revalidator, 500 ms). */
export const REVALIDATE_INTERVAL_NS = 500_000_000;
/** Upcalls a handler takes in one go (OVS's UPCALL_MAX_BATCH). */
export const UPCALL_MAX_BATCH = 64;
/** Default simulated cost of servicing one upcall. */
export const UPCALL_COST_DEFAULT_NS = 20_000;

/**
 * One installed megaflow and what made it (OVS's udpif_key). A ukey lives as long as
 * its megaflow, so it holds little: the mask is the datapath's (shared by its subtable)
 * and the MAC entries its translation looked up (xlate's macTags / macTables), nearly
 * always one, sit in `macTag`/`macTable`, with `moreMac` only for the rest.
 */
interface Ukey {
  readonly key: FlowKey;
  mask: FlowKey;
  actions: string;
  rules: readonly OfRule[];
  macTag: number;
  macTable: MacLearning | null;
  moreMac: { readonly tags: readonly number[]; readonly tables: readonly MacLearning[] } | null;
  packets: number;
  bytes: number;
  readonly createdNs: number;
}

export interface UpcallCounters {
  /** Upcalls serviced. */
  handled: number;
  /** Megaflows installed by upcalls. */
  installed: number;
  /** Upcalls for a packet whose in_port no bridge owns. */
  noPort: number;
  /** Translations whose actions the datapath refused. */
  failed: number;
  /** Megaflows deleted for idling past max-idle. */
  evicted: number;
  /** Megaflows changed or deleted by revalidation. */
  revalidated: number;
  /** Revalidator passes. */
  dumps: number;
  /** Largest number of megaflows seen at once. */
  maxFlows: number;
  /** Translations run: upcalls, revalidation and stats-push refreshes. */
  xlates: number;
}

export class OfprotoDpif {
  readonly counters: UpcallCounters = {
    handled: 0,
    installed: 0,
    noPort: 0,
    failed: 0,
    evicted: 0,
    revalidated: 0,
    dumps: 0,
    maxFlows: 0,
    xlates: 0,
  };
  upcallCostNs: number;
  maxIdleMs = MAX_IDLE_DEFAULT_MS;
  /**
   * Called after each periodic revalidator pass: the switch's other periodic work
   * (statistics) rides on this timer, which runs only while megaflows or timed rules
   * exist, so an idle world stays idle.
   */
  onTick: (() => void) | null = null;
  /** Ukeys by datapath flow id (ids are dense: the datapath reuses freed ones). */
  private readonly ukeys: (Ukey | undefined)[] = [];
  private nUkeys = 0;
  private upcallScheduled = false;
  private tickHandle = 0;
  private immediateHandle = 0;
  private needFull = false;
  /** MAC table → revalidation tag → ids of the ukeys whose translation looked it up. */
  private readonly macIndex = new Map<MacLearning, Map<number, Set<number>>>();

  constructor(
    readonly of: Ofproto,
    readonly dpif: Dpif,
    private readonly timers: VswitchdTimers,
    upcallCostNs = UPCALL_COST_DEFAULT_NS,
  ) {
    this.upcallCostNs = upcallCostNs;
  }

  private now(): number {
    return this.dpif.nowNs();
  }

  /** Number of megaflows this ofproto installed and still tracks. */
  get flowCount(): number {
    return this.nUkeys;
  }

  // ---------------------------------------------------------------- upcalls

  /** The datapath queued an upcall into an empty queue: wake the handler. */
  upcallQueued(): void {
    if (this.upcallScheduled) return;
    this.upcallScheduled = true;
    this.timers.schedule(this.upcallCostNs, () => this.serviceOne());
  }

  /**
   * One handler wake-up: one upcall, which costs `upcallCostNs`; when upcalls cost no
   * simulated time, a batch of up to UPCALL_MAX_BATCH at the same instant, as an OVS
   * handler thread receives them (the revalidation their learning asks for then runs
   * once per batch instead of once per upcall).
   */
  private serviceOne(): void {
    this.upcallScheduled = false;
    const max = this.upcallCostNs === 0 ? UPCALL_MAX_BATCH : 1;
    for (let n = 0; n < max; n++) {
      const u = this.dpif.recvUpcall();
      if (!u) break;
      this.handleUpcall(u);
    }
    if (this.dpif.pendingUpcalls > 0) this.upcallQueued();
  }

  /** Where a datapath packet enters OpenFlow: its bridge and port, or undefined. */
  private ingress(key: FlowKey): { bridge: Bridge; port: Port } | undefined {
    const dp = key[W_IN_PORT]!;
    const hit = this.of.portByDp(dp);
    if (hit || !key[W_TUN_DST]) return hit;
    const tunId = (BigInt(key[W_TUN_ID_HI]!) << 32n) | BigInt(key[W_TUN_ID_LO]!);
    return this.of.tunnelReceivePort(dp, tunId, key[W_TUN_SRC]!, key[W_TUN_DST]!);
  }

  /** Translates one upcall, installs its megaflow and executes the packet. */
  handleUpcall(u: Upcall): void {
    this.counters.handled++;
    if (u.type !== "miss") return;
    const ing = this.ingress(u.key);
    if (!ing) {
      this.counters.noPort++;
      return;
    }
    // The upcall owns its key: translate it in place with the OpenFlow in_port (xlate
    // copies what it changes), then restore the datapath port for the megaflow key.
    const key = u.key;
    const dpIn = key[W_IN_PORT]!;
    key[W_IN_PORT] = ing.port.ofport;
    const before = this.macVersion();
    this.counters.xlates++;
    const r = xlate(this.of, ing.bridge, key, { generate: true, recirc: this.of.recirc });
    key[W_IN_PORT] = dpIn;
    // r.mask is this translation's own array: the datapath matches the full dp port.
    const mask = r.mask;
    mask[W_IN_PORT] = 0xffffffff;
    const now = this.now();
    let flowId: number;
    let installedMask: FlowKey;
    try {
      flowId = this.dpif.flowPut(key, mask, r.actions).flowId;
      installedMask = this.dpif.flowMask(flowId)!;
      this.dpif.execute(u.packet, 0, u.packet.length, r.actions, key);
    } catch {
      this.counters.failed++;
      return;
    }
    creditRuleStats(r.rules, 1, u.packet.length, now);
    const old = this.ukeys[flowId];
    if (!old) {
      this.counters.installed++;
      this.nUkeys++;
    } else this.untag(flowId, old);
    const uk: Ukey = {
      key,
      mask: installedMask,
      actions: r.actions,
      rules: r.rules,
      macTag: 0,
      macTable: null,
      moreMac: null,
      packets: old?.packets ?? 0,
      bytes: old?.bytes ?? 0,
      createdNs: old?.createdNs ?? now,
    };
    this.ukeys[flowId] = uk;
    this.tag(flowId, uk, r.macTags, r.macTables);
    if (this.nUkeys > this.counters.maxFlows) this.counters.maxFlows = this.nUkeys;
    // A MAC learnt or moved changes what NORMAL does for the megaflows tagged with it.
    if (this.macVersion() !== before) this.scheduleRevalidation();
    this.armTick();
  }

  /** Records on `uk` the MAC entries its translation looked up, and indexes it there. */
  private tag(id: number, uk: Ukey, tags: readonly number[], tables: readonly MacLearning[]): void {
    uk.macTable = tables.length ? tables[0]! : null;
    uk.macTag = tables.length ? tags[0]! : 0;
    uk.moreMac = tables.length > 1 ? { tags: tags.slice(1), tables: tables.slice(1) } : null;
    for (let i = 0; i < tags.length; i++) {
      const table = tables[i]!;
      let byTag = this.macIndex.get(table);
      if (!byTag) {
        byTag = new Map();
        this.macIndex.set(table, byTag);
      }
      const ids = byTag.get(tags[i]!);
      if (ids) ids.add(id);
      else byTag.set(tags[i]!, new Set([id]));
    }
  }

  /** Takes `uk` out of the MAC tag index. */
  private untag(id: number, uk: Ukey): void {
    if (uk.macTable) this.untagOne(id, uk.macTable, uk.macTag);
    const more = uk.moreMac;
    if (more)
      for (let i = 0; i < more.tags.length; i++) this.untagOne(id, more.tables[i]!, more.tags[i]!);
    uk.macTable = null;
    uk.moreMac = null;
  }

  private untagOne(id: number, table: MacLearning, tag: number): void {
    const byTag = this.macIndex.get(table);
    const ids = byTag?.get(tag);
    if (!ids) return;
    ids.delete(id);
    if (ids.size === 0) byTag!.delete(tag);
  }

  /**
   * Calls `fn` for every ukey in flow-id order. `fn` may forget the ukey it is given
   * (or others); ukeys added meanwhile may or may not be visited.
   */
  private forEachUkey(fn: (id: number, uk: Ukey) => void): void {
    const all = this.ukeys;
    for (let id = 0; id < all.length; id++) {
      const uk = all[id];
      if (uk) fn(id, uk);
    }
  }

  /** Forgets a ukey (its megaflow is gone from the datapath or about to be). */
  private forget(id: number, uk: Ukey): void {
    this.untag(id, uk);
    if (this.ukeys[id] === uk) {
      this.ukeys[id] = undefined;
      this.nUkeys--;
    }
  }

  // ---------------------------------------------------------------- revalidation

  /** A sum over every bridge's MAC table version: changes when any table does. */
  private macVersion(): number {
    let v = 0;
    for (const b of this.of.bridges()) v += b.mac.seq;
    return v;
  }

  /**
   * Flows, ports or MAC tables changed: re-translate every megaflow soon (at the
   * current simulated time, after the event in progress).
   */
  requestRevalidation(): void {
    this.needFull = true;
    this.scheduleRevalidation();
  }

  /** Runs a revalidator pass soon (at the current simulated time). */
  private scheduleRevalidation(): void {
    if (this.immediateHandle) return;
    this.immediateHandle = this.timers.schedule(0, () => {
      this.immediateHandle = 0;
      // A MAC learn only needs its tagged megaflows re-translated; stats, eviction
      // and expiry wait for the periodic pass (a pass over every ukey per learn
      // would make learning N MACs quadratic again).
      if (this.needFull) this.revalidate();
      else this.retranslate();
    });
  }

  /** Keeps the periodic revalidator running while there is something to watch. */
  armTick(): void {
    if (this.tickHandle) return;
    if (this.nUkeys === 0 && !this.hasTimedRules()) return;
    this.tickHandle = this.timers.schedule(REVALIDATE_INTERVAL_NS, () => {
      this.tickHandle = 0;
      this.revalidate();
      this.onTick?.();
      this.armTick();
    });
  }

  private hasTimedRules(): boolean {
    for (const b of this.of.bridges()) if (b.hasTimedRules()) return true;
    return false;
  }

  /**
   * One revalidator pass: push stats, evict idle megaflows, expire OpenFlow rules, and
   * re-translate — every megaflow when flows, ports or a whole MAC table changed,
   * otherwise only those tagged with a changed MAC entry — modifying or deleting
   * those whose translation differs.
   */
  revalidate(): void {
    this.counters.dumps++;
    this.pushStats(true);
    const now = this.now();
    let expired = false;
    for (const b of this.of.bridges()) {
      if (b.expire(now).length) expired = true;
      b.mac.expire(now);
    }
    if (expired) this.needFull = true;
    this.retranslate();
  }

  /**
   * Re-translates every megaflow if flows, ports or a whole MAC table changed, else
   * only the megaflows tagged with MAC entries that changed since the last pass.
   */
  private retranslate(): void {
    // Drain every MAC table's change log, even when the pass is full anyway.
    let tagged: Set<number> | undefined;
    for (const b of this.of.bridges()) {
      const changes = b.mac.takeChanges();
      if (changes === "all") {
        this.needFull = true;
        continue;
      }
      const byTag = this.macIndex.get(b.mac);
      if (!byTag || this.needFull) continue;
      for (const tag of changes) {
        const ids = byTag.get(tag);
        if (!ids) continue;
        tagged ??= new Set();
        for (const id of ids) tagged.add(id);
      }
    }
    if (this.needFull) {
      this.needFull = false;
      this.forEachUkey((id, uk) => this.revalidateUkey(id, uk));
    } else if (tagged) {
      for (const id of tagged) {
        const uk = this.ukeys[id];
        if (uk) this.revalidateUkey(id, uk);
      }
    }
  }

  /** revalidate_ukey(): re-translates one megaflow and keeps, modifies or deletes it. */
  private revalidateUkey(id: number, uk: Ukey): void {
    const ing = this.ingress(uk.key);
    if (!ing) {
      this.drop(id, uk);
      return;
    }
    const flow = uk.key.slice();
    flow[W_IN_PORT] = ing.port.ofport;
    this.counters.xlates++;
    const r = xlate(this.of, ing.bridge, flow, { recirc: this.of.recirc });
    const mask = r.mask;
    mask[W_IN_PORT] = 0xffffffff;
    // The installed megaflow survives unless the new translation looks at bits its
    // mask wildcards (flow_wildcards_has_extra); a narrower need keeps the wider
    // installed mask and only the actions are modified.
    let covered = true;
    for (let w = 0; w < mask.length && covered; w++) covered = (mask[w]! & ~uk.mask[w]!) === 0;
    if (!covered) {
      this.counters.revalidated++;
      this.drop(id, uk);
      return;
    }
    if (r.actions !== uk.actions) {
      this.counters.revalidated++;
      try {
        this.dpif.flowPut(uk.key, uk.mask, r.actions, { create: false });
      } catch {
        this.drop(id, uk);
        return;
      }
      uk.actions = r.actions;
    }
    uk.rules = r.rules;
    this.untag(id, uk);
    this.tag(id, uk, r.macTags, r.macTables);
  }

  /** Deletes a megaflow, crediting the packets it handled since the last push. */
  private drop(id: number, uk: Ukey): void {
    const st = this.dpif.flowDel({ key: uk.key, mask: uk.mask });
    if (st && st.packets > uk.packets)
      creditRuleStats(uk.rules, st.packets - uk.packets, st.bytes - uk.bytes, st.usedNs);
    this.forget(id, uk);
  }

  /**
   * Credits datapath stats gathered since the last push to the rules each megaflow
   * came from; with `evict`, deletes megaflows idle for max-idle. Call before showing
   * rule counters (dump-flows does).
   */
  pushStats(evict = false): void {
    const now = this.now();
    const maxIdleNs = this.maxIdleMs * 1e6;
    this.forEachUkey((id, uk) => {
      const f = this.dpif.flowGet({ key: uk.key, mask: uk.mask });
      if (!f) {
        this.forget(id, uk);
        return;
      }
      const dp = f.stats.packets - uk.packets;
      const db = f.stats.bytes - uk.bytes;
      if (dp > 0) {
        creditRuleStats(uk.rules, dp, db, f.stats.usedNs);
        // As xlate_push_stats: traffic on a megaflow refreshes the MAC entries NORMAL
        // used, so a busy flow's MACs never age out.
        this.refreshMacs(uk);
      }
      uk.packets = f.stats.packets;
      uk.bytes = f.stats.bytes;
      if (!evict) return;
      const used = f.stats.usedNs >= 0 ? f.stats.usedNs : uk.createdNs;
      if (now - used >= maxIdleNs) {
        this.counters.evicted++;
        this.drop(id, uk);
      }
    });
  }

  private refreshMacs(uk: Ukey): void {
    const ing = this.ingress(uk.key);
    if (!ing) return;
    const flow = uk.key.slice();
    flow[W_IN_PORT] = ing.port.ofport;
    this.counters.xlates++;
    xlate(this.of, ing.bridge, flow, { generate: true, recirc: this.of.recirc });
  }

  /** Forgets every megaflow (and deletes it from the datapath). */
  flush(): void {
    this.forEachUkey((id, uk) => this.drop(id, uk));
  }

  /** Stops timers (the host is going away). */
  stop(): void {
    if (this.tickHandle) this.timers.cancel(this.tickHandle);
    if (this.immediateHandle) this.timers.cancel(this.immediateHandle);
    this.tickHandle = 0;
    this.immediateHandle = 0;
  }

  /** Some MAC table changed since the last revalidator pass drained its log. */
  get macChanged(): boolean {
    for (const b of this.of.bridges()) if (b.mac.hasChanges) return true;
    return false;
  }
}
