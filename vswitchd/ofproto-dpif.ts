/**
 * ofproto-dpif: an Ofproto bound to a Dpif (OVS ofproto/ofproto-dpif.c with
 * ofproto-dpif-upcall.c). It services upcalls — translate, install the megaflow with
 * flowPut, execute the held packet — and keeps the installed megaflows honest with
 * a revalidator: datapath stats are pushed back to the OpenFlow rules each megaflow
 * came from (so `dump-flows` counts them), megaflows idle for `max-idle` are evicted,
 * OpenFlow idle/hard timeouts expire rules, and after any change to flows, ports or
 * the MAC table every megaflow is re-translated and fixed or deleted.
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
import { type Bridge, creditRuleStats, type OfRule } from "./bridge.js";
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
/** Default simulated cost of servicing one upcall. */
export const UPCALL_COST_DEFAULT_NS = 20_000;

/** One installed megaflow and what made it (OVS's udpif_key). */
interface Ukey {
  readonly key: FlowKey;
  mask: FlowKey;
  actions: string;
  rules: readonly OfRule[];
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
  };
  upcallCostNs: number;
  maxIdleMs = MAX_IDLE_DEFAULT_MS;
  private readonly ukeys = new Map<number, Ukey>();
  private upcallScheduled = false;
  private tickHandle = 0;
  private immediateHandle = 0;
  private needFull = false;
  private macSeq = -1;

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
    return this.ukeys.size;
  }

  // ---------------------------------------------------------------- upcalls

  /** The datapath queued an upcall into an empty queue: wake the handler. */
  upcallQueued(): void {
    if (this.upcallScheduled) return;
    this.upcallScheduled = true;
    this.timers.schedule(this.upcallCostNs, () => this.serviceOne());
  }

  private serviceOne(): void {
    this.upcallScheduled = false;
    const u = this.dpif.recvUpcall();
    if (u) this.handleUpcall(u);
    if (this.dpif.pendingUpcalls > 0) this.upcallQueued();
  }

  /** Where a datapath packet enters OpenFlow: bridge and ofport, or undefined. */
  private ingress(key: FlowKey): { bridge: Bridge; ofport: number } | undefined {
    const dp = key[W_IN_PORT]!;
    const hit = this.of.portByDp(dp);
    if (hit) return { bridge: hit.bridge, ofport: hit.port.ofport };
    if (key[W_TUN_DST]) {
      const tunId = (BigInt(key[W_TUN_ID_HI]!) << 32n) | BigInt(key[W_TUN_ID_LO]!);
      const t = this.of.tunnelReceivePort(dp, tunId, key[W_TUN_SRC]!, key[W_TUN_DST]!);
      if (t) return { bridge: t.bridge, ofport: t.port.ofport };
    }
    return undefined;
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
    key[W_IN_PORT] = ing.ofport;
    const before = this.macVersion();
    const r = xlate(this.of, ing.bridge, key, { generate: true, recirc: this.of.recirc });
    key[W_IN_PORT] = dpIn;
    // r.mask is this translation's own array: the datapath matches the full dp port.
    const mask = r.mask;
    mask[W_IN_PORT] = 0xffffffff;
    const now = this.now();
    let flowId: number;
    try {
      flowId = this.dpif.flowPut(key, mask, r.actions).flowId;
      this.dpif.execute(u.packet, 0, u.packet.length, r.actions, key);
    } catch {
      this.counters.failed++;
      return;
    }
    creditRuleStats(r.rules, 1, u.packet.length, now);
    const old = this.ukeys.get(flowId);
    if (!old) this.counters.installed++;
    this.ukeys.set(flowId, {
      key,
      mask,
      actions: r.actions,
      rules: r.rules,
      packets: old?.packets ?? 0,
      bytes: old?.bytes ?? 0,
      createdNs: old?.createdNs ?? now,
    });
    if (this.ukeys.size > this.counters.maxFlows) this.counters.maxFlows = this.ukeys.size;
    // A MAC learnt or moved changes what NORMAL does for other megaflows.
    if (this.macVersion() !== before) this.requestRevalidation();
    this.armTick();
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
    if (this.immediateHandle) return;
    this.immediateHandle = this.timers.schedule(0, () => {
      this.immediateHandle = 0;
      this.revalidate();
    });
  }

  /** Keeps the periodic revalidator running while there is something to watch. */
  armTick(): void {
    if (this.tickHandle) return;
    if (this.ukeys.size === 0 && !this.hasTimedRules()) return;
    this.tickHandle = this.timers.schedule(REVALIDATE_INTERVAL_NS, () => {
      this.tickHandle = 0;
      this.revalidate();
      this.armTick();
    });
  }

  private hasTimedRules(): boolean {
    for (const b of this.of.bridges())
      for (const r of b.allRules()) if (r.idleTimeout || r.hardTimeout) return true;
    return false;
  }

  /**
   * One revalidator pass: push stats, evict idle megaflows, expire OpenFlow rules,
   * and (when something changed) re-translate every megaflow, modifying or deleting
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
    if (expired || this.macChanged) this.needFull = true;
    if (!this.needFull) return;
    this.needFull = false;
    this.macSeq = this.macVersion();
    for (const [id, uk] of [...this.ukeys]) {
      const ing = this.ingress(uk.key);
      if (!ing) {
        this.drop(id, uk);
        continue;
      }
      const flow = uk.key.slice();
      flow[W_IN_PORT] = ing.ofport;
      const r = xlate(this.of, ing.bridge, flow, { recirc: this.of.recirc });
      const mask = r.mask;
      mask[W_IN_PORT] = 0xffffffff;
      // revalidate_ukey(): the installed megaflow survives unless the new translation
      // looks at bits its mask wildcards (flow_wildcards_has_extra); a narrower need
      // keeps the wider installed mask and only the actions are modified.
      let covered = true;
      for (let w = 0; w < mask.length && covered; w++) covered = (mask[w]! & ~uk.mask[w]!) === 0;
      if (covered && r.actions === uk.actions) {
        uk.rules = r.rules;
        continue;
      }
      this.counters.revalidated++;
      if (!covered) {
        this.drop(id, uk);
        continue;
      }
      try {
        this.dpif.flowPut(uk.key, uk.mask, r.actions, { create: false });
        uk.actions = r.actions;
        uk.rules = r.rules;
      } catch {
        this.drop(id, uk);
      }
    }
  }

  /** Deletes a megaflow, crediting the packets it handled since the last push. */
  private drop(id: number, uk: Ukey): void {
    const st = this.dpif.flowDel({ key: uk.key, mask: uk.mask });
    if (st && st.packets > uk.packets)
      creditRuleStats(uk.rules, st.packets - uk.packets, st.bytes - uk.bytes, st.usedNs);
    this.ukeys.delete(id);
  }

  /**
   * Credits datapath stats gathered since the last push to the rules each megaflow
   * came from; with `evict`, deletes megaflows idle for max-idle. Call before showing
   * rule counters (dump-flows does).
   */
  pushStats(evict = false): void {
    const now = this.now();
    const maxIdleNs = this.maxIdleMs * 1e6;
    for (const [id, uk] of [...this.ukeys]) {
      const f = this.dpif.flowGet({ key: uk.key, mask: uk.mask });
      if (!f) {
        this.ukeys.delete(id);
        continue;
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
      if (!evict) continue;
      const used = f.stats.usedNs >= 0 ? f.stats.usedNs : uk.createdNs;
      if (now - used >= maxIdleNs) {
        this.counters.evicted++;
        this.drop(id, uk);
      }
    }
  }

  private refreshMacs(uk: Ukey): void {
    const ing = this.ingress(uk.key);
    if (!ing) return;
    const flow = uk.key.slice();
    flow[W_IN_PORT] = ing.ofport;
    xlate(this.of, ing.bridge, flow, { generate: true, recirc: this.of.recirc });
  }

  /** Forgets every megaflow (and deletes it from the datapath). */
  flush(): void {
    for (const [id, uk] of [...this.ukeys]) this.drop(id, uk);
  }

  /** Stops timers (the host is going away). */
  stop(): void {
    if (this.tickHandle) this.timers.cancel(this.tickHandle);
    if (this.immediateHandle) this.timers.cancel(this.immediateHandle);
    this.tickHandle = 0;
    this.immediateHandle = 0;
  }

  /** The MAC tables changed since the last full pass (learning outside upcalls). */
  get macChanged(): boolean {
    return this.macVersion() !== this.macSeq;
  }
}
