/**
 * A neighbour table for one vNIC and one family: the ARP cache (IPv4) or the Neighbor
 * Discovery cache (IPv6), after Linux's neighbour subsystem, reduced to what a host
 * needs.
 *
 * States (Linux NUD_* names): INCOMPLETE — solicitations outstanding, frames waiting;
 * REACHABLE — a MAC confirmed within `reachableNs`. An entry older than that is
 * treated as unknown and resolved again (Linux would go STALE → DELAY → PROBE and keep
 * using the old MAC meanwhile; we re-solicit and hold frames, which costs one RTT).
 * After `maxSolicit` unanswered solicitations, `retransNs` apart, the entry is dropped
 * with its waiting frames, each handed to `onUnresolved` (the host turns that into a
 * "Destination Host Unreachable", as Linux does).
 *
 * Promises: at most `maxPending` frames wait per entry (older ones are dropped first,
 * like Linux's unres_qlen); resolving a known neighbour allocates nothing; timers are
 * scheduler events only while something is INCOMPLETE, so an idle world stays idle.
 * Addresses are passed as four words (IPv4 in the first) to avoid allocating.
 */
import { formatMac } from "./_packet.js";
import type { Scheduler } from "./scheduler.js";

export const NUD_NONE = 0;
export const NUD_INCOMPLETE = 1;
export const NUD_REACHABLE = 2;

export interface NeighborConfig {
  /** How long a confirmed MAC is trusted. Linux base_reachable_time: 30 s. */
  reachableNs: number;
  /** Time between solicitations. Linux retrans_time: 1 s. */
  retransNs: number;
  /** Solicitations before giving up. Linux mcast_solicit: 3. */
  maxSolicit: number;
  /** Frames held per unresolved neighbour. Linux unres_qlen: 101. */
  maxPending: number;
}

export const DEFAULT_NEIGHBOR_CONFIG: NeighborConfig = {
  reachableNs: 30e9,
  retransNs: 1e9,
  maxSolicit: 3,
  maxPending: 101,
};

export interface NeighborHooks {
  /** Send a solicitation (ARP request / NS) for the address in `addr[0..3]`. */
  solicit(addr: Uint32Array): void;
  /** A held frame whose destination MAC has just been written: transmit it. */
  transmit(frame: Uint8Array, length: number): void;
  /** A held frame whose neighbour never answered. */
  unresolved(frame: Uint8Array, length: number): void;
}

export interface NeighborEntrySnapshot {
  /** Four words, IPv4 in the first. */
  address: Uint32Array;
  mac: string | null;
  state: "INCOMPLETE" | "REACHABLE" | "STALE";
  probes: number;
}

interface Entry {
  used: boolean;
  addr: Uint32Array;
  state: number;
  macHi: number;
  macLo: number;
  confirmedNs: number;
  probes: number;
  timer: number;
  pending: Uint8Array[];
}

export class NeighborTable {
  private readonly entries: Entry[] = [];
  private readonly scratch = new Uint32Array(4);
  private readonly onTimer: (index: number) => void;
  /** Frames dropped because the neighbour never answered or the hold queue overflowed. */
  droppedUnresolved = 0;

  constructor(
    private readonly scheduler: Scheduler,
    private readonly v6: boolean,
    readonly config: NeighborConfig,
    private readonly hooks: NeighborHooks,
  ) {
    this.onTimer = (index: number): void => this.retransmit(index);
  }

  /**
   * Writes the neighbour's MAC into `frame[macOff..+6)` and returns true when it is
   * known; otherwise holds a copy of the frame (to be sent on resolution, MAC filled at
   * macOff), solicits if not already doing so, and returns false.
   */
  resolve(
    a0: number,
    a1: number,
    a2: number,
    a3: number,
    frame: Uint8Array,
    frameOff: number,
    length: number,
  ): boolean {
    const now = this.scheduler.nowNs();
    let i = this.find(a0, a1, a2, a3);
    if (i >= 0) {
      const e = this.entries[i];
      if (e.state === NUD_REACHABLE && now - e.confirmedNs < this.config.reachableNs) {
        writeMac(frame, frameOff, e.macHi, e.macLo);
        return true;
      }
    } else i = this.allocate(a0, a1, a2, a3);
    const e = this.entries[i];
    if (e.pending.length >= this.config.maxPending) {
      e.pending.shift();
      this.droppedUnresolved++;
    }
    // A copy: the caller's buffer is reused for its next frame.
    e.pending.push(Uint8Array.from(frame.subarray(frameOff, frameOff + length)));
    if (e.state !== NUD_INCOMPLETE) {
      e.state = NUD_INCOMPLETE;
      e.probes = 0;
      this.retransmit(i);
    }
    return false;
  }

  /**
   * Records that `addr` is at `mac` (an ARP packet or an NA/NS with a link-layer
   * option). With `create` false only an existing entry is updated (a gratuitous ARP
   * for a stranger is ignored, as Linux's arp_accept=0 does). Sends held frames.
   */
  learn(
    a0: number,
    a1: number,
    a2: number,
    a3: number,
    macHi: number,
    macLo: number,
    create: boolean,
  ): void {
    let i = this.find(a0, a1, a2, a3);
    if (i < 0) {
      if (!create) return;
      i = this.allocate(a0, a1, a2, a3);
    }
    const e = this.entries[i];
    e.state = NUD_REACHABLE;
    e.macHi = macHi;
    e.macLo = macLo;
    e.confirmedNs = this.scheduler.nowNs();
    if (e.timer !== 0) {
      this.scheduler.cancel(e.timer);
      e.timer = 0;
    }
    const held = e.pending;
    e.pending = [];
    for (const f of held) {
      writeMac(f, 0, macHi, macLo);
      this.hooks.transmit(f, f.length);
    }
  }

  /** Forgets every entry (an interface went down). Held frames are dropped. */
  flush(): void {
    for (let i = 0; i < this.entries.length; i++) this.release(i, false);
  }

  /** The table as `ip neigh show` would list it. */
  snapshot(): NeighborEntrySnapshot[] {
    const now = this.scheduler.nowNs();
    const out: NeighborEntrySnapshot[] = [];
    for (const e of this.entries) {
      if (!e.used) continue;
      const reachable = e.state === NUD_REACHABLE;
      out.push({
        address: e.addr.slice(),
        mac: reachable ? formatMac(e.macHi, e.macLo) : null,
        state: !reachable
          ? "INCOMPLETE"
          : now - e.confirmedNs < this.config.reachableNs
            ? "REACHABLE"
            : "STALE",
        probes: e.probes,
      });
    }
    return out;
  }

  private retransmit(i: number): void {
    const e = this.entries[i];
    e.timer = 0;
    if (!e.used || e.state !== NUD_INCOMPLETE) return;
    if (e.probes >= this.config.maxSolicit) {
      this.release(i, true);
      return;
    }
    e.probes++;
    e.timer = this.scheduler.schedule(this.config.retransNs, this.onTimer, i);
    this.scratch.set(e.addr);
    this.hooks.solicit(this.scratch);
  }

  private release(i: number, report: boolean): void {
    const e = this.entries[i];
    if (!e.used) return;
    if (e.timer !== 0) this.scheduler.cancel(e.timer);
    e.used = false;
    e.state = NUD_NONE;
    e.timer = 0;
    const held = e.pending;
    e.pending = [];
    this.droppedUnresolved += held.length;
    if (report) for (const f of held) this.hooks.unresolved(f, f.length);
  }

  private find(a0: number, a1: number, a2: number, a3: number): number {
    const entries = this.entries;
    for (let i = 0; i < entries.length; i++) {
      const e = entries[i];
      if (!e.used) continue;
      const w = e.addr;
      if (w[0] === a0 && (!this.v6 || (w[1] === a1 && w[2] === a2 && w[3] === a3))) return i;
    }
    return -1;
  }

  private allocate(a0: number, a1: number, a2: number, a3: number): number {
    let i = this.entries.findIndex((e) => !e.used);
    if (i < 0) {
      i = this.entries.length;
      this.entries.push({
        used: false,
        addr: new Uint32Array(4),
        state: NUD_NONE,
        macHi: 0,
        macLo: 0,
        confirmedNs: 0,
        probes: 0,
        timer: 0,
        pending: [],
      });
    }
    const e = this.entries[i];
    e.used = true;
    e.addr[0] = a0;
    e.addr[1] = this.v6 ? a1 : 0;
    e.addr[2] = this.v6 ? a2 : 0;
    e.addr[3] = this.v6 ? a3 : 0;
    e.state = NUD_NONE;
    e.probes = 0;
    e.timer = 0;
    return i;
  }
}

function writeMac(frame: Uint8Array, off: number, hi: number, lo: number): void {
  frame[off] = hi >>> 8;
  frame[off + 1] = hi & 0xff;
  frame[off + 2] = lo >>> 24;
  frame[off + 3] = (lo >>> 16) & 0xff;
  frame[off + 4] = (lo >>> 8) & 0xff;
  frame[off + 5] = lo & 0xff;
}
