/**
 * A link: a full-duplex cable between two ports, with propagation latency, bandwidth
 * (serialisation delay behind a bounded FIFO with tail drop, sized in bytes), random
 * loss, an MTU, an up/down state, and per-direction counters.
 *
 * The model, per direction, for a frame offered at virtual time `now`:
 *   1. link down                      → drop "down"
 *   2. longer than MTU + 14 (+4 per 802.1Q/802.1ad tag, at most 2) → drop "mtu"
 *   3. loss > 0 and rng draw < loss   → drop "loss" (decided on entry, as netem does)
 *   4. bandwidth limited: the frame starts when the transmitter is free
 *      (`start = max(now, busyUntil)`); if it must wait and the bytes already waiting
 *      plus its own exceed the queue size → drop "queue" (tail drop). The frame being
 *      serialised is not in the queue, as with a qdisc and a NIC.
 *   5. it arrives at `ceil(start + length·8/rate) + latency` (or `now + latency` when
 *      bandwidth is unlimited), plus, with `jitter`, a whole number of ns drawn
 *      uniformly from [-jitter, +jitter] (never below zero total delay), and is handed
 *      to the far port's receive(). As with netem, jitter can reorder frames.
 * Waiting frames leave the queue when their start time passes; this needs no event,
 * only arithmetic, so a frame costs exactly one scheduler event (its arrival).
 *
 * Promises
 * - Counters per direction: tx (every frame offered), rx (delivered), drops by reason;
 *   tx = rx + drops + in flight, always.
 * - Parameters are per direction (equal unless set with `from`, for an asymmetric link).
 * - Parameters may change while running and apply to frames offered afterwards; frames
 *   already on the wire keep their computed arrival. Taking the link down flushes its
 *   queue and drops every frame still in flight (counted as "down" when it would have
 *   arrived), like pulling a cable.
 * - Bad parameters are refused when the link is made or changed, naming the link.
 * - The sender's buffer is copied on transmit (the sender may reuse it at once); the
 *   buffer handed to receive() belongs to the link and is reused after receive returns.
 * - Per frame, nothing is allocated but the `subarray` view the copy reads through,
 *   once the frame pool has grown to the link's bandwidth-delay product.
 *
 * It does not reorder, duplicate or corrupt frames (netem does; add it when a test
 * needs it), and the serialisation counts frame bytes only (no preamble, no IFG).
 */
import { InvalidParameterError, PortInUseError } from "./errors.js";
import type { Rng } from "./rng.js";
import type { EventFn, Scheduler } from "./scheduler.js";
import {
  formatDurationNs,
  formatRateBps,
  parseBytes,
  parseDurationNs,
  parseProbability,
  parseRateBps,
} from "./units.js";

/** The transmit side a link gives each port it joins. */
export interface Wire {
  /** Offers a frame; returns false if the link dropped it at once (down, MTU, loss, queue). */
  transmit(frame: Uint8Array, offset: number, length: number): boolean;
  /** Whether the link is up. */
  readonly carrier: boolean;
}

/**
 * Anything a link can join: an endpoint's vNIC, a datapath vport. Only `receive` is
 * required; `attach` lets the port learn its transmit side.
 */
export interface LinkPort {
  readonly name: string;
  /** A frame arrives. The buffer belongs to the link: copy what you keep. */
  receive(frame: Uint8Array, offset: number, length: number): void;
  /** Called with the port's wire when joined, and with null when the link is removed. */
  attach?(wire: Wire | null): void;
  /** Called when the link goes up or down. */
  carrierChanged?(up: boolean): void;
}

/** What a link needs from its world: the clock, the randomness, who is joined to what. */
export interface LinkContext {
  readonly scheduler: Scheduler;
  readonly rng: Rng;
  /** Every joined port and its link; a port may be on one link only. */
  readonly portLinks: Map<LinkPort, Link>;
}

export interface LinkOptions {
  /** Defaults to "<a>-<b>" as `a.name<->b.name`. */
  name?: string;
  /** One-way propagation delay: ns or "50us". Default 0. */
  latency?: number | string;
  /** Random extra delay in [-jitter, +jitter] per frame: ns or "2ms". Default 0. */
  jitter?: number | string;
  /** bit/s or "1Gbps"; 0 (default) is unlimited: no serialisation, no queue. */
  bandwidth?: number | string;
  /** Bytes that may wait for the transmitter: bytes or "64KB". Default 1000 × 1514. */
  queue?: number | string;
  /** Probability a frame is lost: [0, 1] or "1%". Default 0. */
  loss?: number | string;
  /** Largest L3 payload, as an interface MTU. Default 1500. */
  mtu?: number;
  /** Default true. */
  up?: boolean;
}

export type DropReason = "down" | "mtu" | "loss" | "queue";
export const DROP_REASONS: readonly DropReason[] = ["down", "mtu", "loss", "queue"];

export type TapKind = "tx" | "rx" | "drop";

/**
 * Observes a link: "tx" when a port offers a frame, "rx" when it is delivered,
 * "drop" (with the reason) when the link discards it. `from` is the sending port.
 * The buffer is only valid during the call.
 */
export type LinkTap = (
  kind: TapKind,
  from: LinkPort,
  frame: Uint8Array,
  offset: number,
  length: number,
  timeNs: number,
  reason: DropReason | null,
) => void;

export interface LinkDirectionStats {
  from: string;
  to: string;
  txPackets: number;
  txBytes: number;
  rxPackets: number;
  rxBytes: number;
  drops: Record<DropReason, number>;
  /** Bytes waiting for the transmitter right now. */
  queuedBytes: number;
  /** Frames on the wire or waiting. */
  inFlight: number;
}

const C_TX_PACKETS = 0;
const C_TX_BYTES = 1;
const C_RX_PACKETS = 2;
const C_RX_BYTES = 3;
/** Drop counters follow, one per DROP_REASONS entry. */
const C_DROP = 4;
const D_DOWN = 0;
const D_MTU = 1;
const D_LOSS = 2;
const D_QUEUE = 3;
const N_COUNTERS = C_DROP + DROP_REASONS.length;

const ETH_HEADER_LEN = 14;
const VLAN_HEADER_LEN = 4;
const DEFAULT_MTU = 1500;
const DEFAULT_QUEUE_BYTES = 1000 * (DEFAULT_MTU + ETH_HEADER_LEN);
const POOL_BUFFER_MIN = 2048;
const NS_PER_S = 1e9;

/** One direction of a link: its transmitter, queue, wire and counters. */
class Direction implements Wire {
  readonly counters = new Float64Array(N_COUNTERS);
  // Frame pool: a frame is copied into a slot on transmit and freed after delivery.
  private bufs: Uint8Array[] = [];
  private lens = new Int32Array(16);
  private epochs = new Int32Array(16);
  private free = new Int32Array(16);
  private nFree = 0;
  private inFlight = 0;
  // Frames waiting for the transmitter, as a ring of (start time, length).
  private qStart = new Float64Array(16);
  private qLen = new Int32Array(16);
  private qHead = 0;
  private qCount = 0;
  private qBytes = 0;
  /** When the transmitter finishes its last accepted frame (fractional ns). */
  private busyUntil = 0;
  /** Bumped when the link goes down; frames from an older epoch die on arrival. */
  epoch = 0;
  // This direction's parameters (the link sets them; they may differ per direction).
  latencyNs = 0;
  jitterNs = 0;
  bandwidthBps = 0;
  queueBytes = DEFAULT_QUEUE_BYTES;
  lossProbability = 0;
  readonly onArrive: EventFn;

  constructor(
    private readonly link: Link,
    readonly from: LinkPort,
    readonly to: LinkPort,
  ) {
    this.onArrive = (slot: number): void => this.arrive(slot);
  }

  get carrier(): boolean {
    return this.link.up;
  }

  transmit(frame: Uint8Array, offset: number, length: number): boolean {
    const link = this.link;
    const c = this.counters;
    const now = link.scheduler.nowNs();
    c[C_TX_PACKETS]++;
    c[C_TX_BYTES] += length;
    if (link.taps.length > 0) link.notify("tx", this.from, frame, offset, length, now, null);
    if (!link.up) return this.drop(D_DOWN, frame, offset, length, now);
    if (length > link.maxFrameLength(frame, offset, length))
      return this.drop(D_MTU, frame, offset, length, now);
    if (this.lossProbability > 0 && link.rng.nextFloat() < this.lossProbability)
      return this.drop(D_LOSS, frame, offset, length, now);
    let departNs = now;
    const rate = this.bandwidthBps;
    if (rate > 0) {
      while (this.qCount > 0 && this.qStart[this.qHead] <= now) {
        this.qBytes -= this.qLen[this.qHead];
        this.qHead = (this.qHead + 1) & (this.qStart.length - 1);
        this.qCount--;
      }
      const start = Math.max(this.busyUntil, now);
      if (start > now) {
        if (this.qBytes + length > this.queueBytes)
          return this.drop(D_QUEUE, frame, offset, length, now);
        this.enqueue(start, length);
      }
      this.busyUntil = start + (length * 8 * NS_PER_S) / rate;
      departNs = Math.ceil(this.busyUntil);
    }
    const slot = this.allocSlot(length);
    this.bufs[slot].set(frame.subarray(offset, offset + length));
    this.lens[slot] = length;
    this.epochs[slot] = this.epoch;
    this.inFlight++;
    let delay = this.latencyNs;
    const jitter = this.jitterNs;
    if (jitter > 0) delay = Math.max(0, delay - jitter + link.rng.nextInt(2 * jitter + 1));
    link.scheduler.scheduleAt(departNs + delay, this.onArrive, slot);
    return true;
  }

  /** Forgets the queue and the transmitter's backlog (the link went down). */
  flush(): void {
    this.epoch++;
    this.qCount = 0;
    this.qBytes = 0;
    this.qHead = 0;
    this.busyUntil = 0;
  }

  stats(): LinkDirectionStats {
    const c = this.counters;
    const now = this.link.scheduler.nowNs();
    let queued = 0;
    for (let i = 0, j = this.qHead; i < this.qCount; i++, j = (j + 1) & (this.qStart.length - 1))
      if (this.qStart[j] > now) queued += this.qLen[j];
    return {
      from: this.from.name,
      to: this.to.name,
      txPackets: c[C_TX_PACKETS],
      txBytes: c[C_TX_BYTES],
      rxPackets: c[C_RX_PACKETS],
      rxBytes: c[C_RX_BYTES],
      drops: {
        down: c[C_DROP + D_DOWN],
        mtu: c[C_DROP + D_MTU],
        loss: c[C_DROP + D_LOSS],
        queue: c[C_DROP + D_QUEUE],
      },
      queuedBytes: queued,
      inFlight: this.inFlight,
    };
  }

  private arrive(slot: number): void {
    const link = this.link;
    const buf = this.bufs[slot];
    const length = this.lens[slot];
    const now = link.scheduler.nowNs();
    this.inFlight--;
    try {
      if (this.epochs[slot] !== this.epoch) {
        this.drop(D_DOWN, buf, 0, length, now);
        return;
      }
      this.counters[C_RX_PACKETS]++;
      this.counters[C_RX_BYTES] += length;
      if (link.taps.length > 0) link.notify("rx", this.from, buf, 0, length, now, null);
      this.to.receive(buf, 0, length);
    } finally {
      this.free[this.nFree++] = slot;
    }
  }

  private drop(
    reason: number,
    frame: Uint8Array,
    offset: number,
    length: number,
    now: number,
  ): false {
    this.counters[C_DROP + reason]++;
    if (this.link.taps.length > 0)
      this.link.notify("drop", this.from, frame, offset, length, now, DROP_REASONS[reason]);
    return false;
  }

  private enqueue(start: number, length: number): void {
    if (this.qCount === this.qStart.length) {
      // Unroll the ring into arrays twice the size, head at 0.
      const n = this.qStart.length * 2;
      const s = new Float64Array(n);
      const l = new Int32Array(n);
      for (let i = 0; i < this.qCount; i++) {
        const j = (this.qHead + i) & (this.qStart.length - 1);
        s[i] = this.qStart[j];
        l[i] = this.qLen[j];
      }
      this.qStart = s;
      this.qLen = l;
      this.qHead = 0;
    }
    const tail = (this.qHead + this.qCount) & (this.qStart.length - 1);
    this.qStart[tail] = start;
    this.qLen[tail] = length;
    this.qCount++;
    this.qBytes += length;
  }

  private allocSlot(length: number): number {
    let slot: number;
    if (this.nFree > 0) slot = this.free[--this.nFree];
    else {
      slot = this.bufs.length;
      this.bufs.push(new Uint8Array(Math.max(POOL_BUFFER_MIN, length)));
      if (slot === this.lens.length) {
        const n = slot * 2;
        const lens = new Int32Array(n);
        lens.set(this.lens);
        this.lens = lens;
        const epochs = new Int32Array(n);
        epochs.set(this.epochs);
        this.epochs = epochs;
        const free = new Int32Array(n);
        free.set(this.free);
        this.free = free;
      }
    }
    if (this.bufs[slot].length < length) this.bufs[slot] = new Uint8Array(length);
    return slot;
  }
}

export class Link {
  readonly name: string;
  readonly a: LinkPort;
  readonly b: LinkPort;
  readonly scheduler: Scheduler;
  readonly rng: Rng;
  /** a → b and b → a. */
  readonly ab: Direction;
  readonly ba: Direction;
  /** Listeners; see LinkTap. Public for the directions' fast check, not for mutation. */
  readonly taps: LinkTap[] = [];
  private readonly context: LinkContext;
  private mtuBytes = DEFAULT_MTU;
  private isUp = true;
  private removed = false;

  /** Joins `a` and `b`; throws if a parameter is bad or a port is already on a link. */
  constructor(context: LinkContext, a: LinkPort, b: LinkPort, options: LinkOptions = {}) {
    this.name = options.name ?? `${a.name}<->${b.name}`;
    if (a === b)
      throw new InvalidParameterError(`link ${this.name}`, "b", "a different port than a", b.name);
    for (const p of [a, b]) {
      const existing = context.portLinks.get(p);
      if (existing) throw new PortInUseError(this.name, p.name, existing.name);
    }
    this.context = context;
    this.scheduler = context.scheduler;
    this.rng = context.rng;
    this.a = a;
    this.b = b;
    this.ab = new Direction(this, a, b);
    this.ba = new Direction(this, b, a);
    this.set(options);
    this.isUp = options.up ?? true;
    context.portLinks.set(a, this);
    context.portLinks.set(b, this);
    a.attach?.(this.ab);
    b.attach?.(this.ba);
  }

  // The a → b direction's parameters (the same both ways unless set() was given `from`).
  get latencyNs(): number {
    return this.ab.latencyNs;
  }
  get jitterNs(): number {
    return this.ab.jitterNs;
  }
  get bandwidthBps(): number {
    return this.ab.bandwidthBps;
  }
  get queueBytes(): number {
    return this.ab.queueBytes;
  }
  get lossProbability(): number {
    return this.ab.lossProbability;
  }
  get mtu(): number {
    return this.mtuBytes;
  }
  get up(): boolean {
    return this.isUp;
  }

  /**
   * Changes parameters while running; all are validated before any is applied. With
   * `from`, only the direction in which `from` sends changes (an asymmetric link, as
   * Mininet's per-interface TCLink parameters); the MTU is always the link's.
   * (`up` is ignored here: use setUp, which also flushes.)
   */
  set(options: Omit<LinkOptions, "name" | "up">, from?: LinkPort): void {
    const what = `link ${this.name}`;
    const latency = options.latency === undefined ? undefined : parseDurationNs(options.latency);
    if (latency !== undefined && (!(latency >= 0) || !Number.isSafeInteger(latency)))
      throw new InvalidParameterError(what, "latency", ">= 0", options.latency);
    const jitter = options.jitter === undefined ? undefined : parseDurationNs(options.jitter);
    if (jitter !== undefined && (!(jitter >= 0) || !Number.isSafeInteger(jitter)))
      throw new InvalidParameterError(what, "jitter", ">= 0", options.jitter);
    const bandwidth = options.bandwidth === undefined ? undefined : parseRateBps(options.bandwidth);
    if (bandwidth !== undefined && (!(bandwidth >= 0) || !Number.isFinite(bandwidth)))
      throw new InvalidParameterError(
        what,
        "bandwidth",
        ">= 0 (0 is unlimited)",
        options.bandwidth,
      );
    const queue = options.queue === undefined ? undefined : parseBytes(options.queue);
    if (queue !== undefined && (!(queue >= 0) || !Number.isSafeInteger(queue)))
      throw new InvalidParameterError(what, "queue", "a whole number of bytes >= 0", options.queue);
    const loss = options.loss === undefined ? undefined : parseProbability(options.loss);
    if (loss !== undefined && !(loss >= 0 && loss <= 1))
      throw new InvalidParameterError(what, "loss", "in [0, 1]", options.loss);
    const mtu = options.mtu ?? this.mtuBytes;
    if (!Number.isInteger(mtu) || mtu < 68 || mtu > 65535)
      throw new InvalidParameterError(what, "mtu", "a whole number in [68, 65535]", options.mtu);
    const targets = from === undefined ? [this.ab, this.ba] : [this.directionFrom(from)];
    for (const d of targets) {
      if (latency !== undefined) d.latencyNs = latency;
      if (jitter !== undefined) d.jitterNs = jitter;
      if (bandwidth !== undefined) d.bandwidthBps = bandwidth;
      if (queue !== undefined) d.queueBytes = queue;
      if (loss !== undefined) d.lossProbability = loss;
    }
    this.mtuBytes = mtu;
  }

  /** Brings the link up or down; going down flushes queues and kills frames in flight. */
  setUp(up: boolean): void {
    if (up === this.isUp || this.removed) return;
    this.isUp = up;
    if (!up) {
      this.ab.flush();
      this.ba.flush();
    }
    this.a.carrierChanged?.(up);
    this.b.carrierChanged?.(up);
  }

  /** Unjoins both ports (they may then join another link); frames in flight are lost. */
  remove(): void {
    if (this.removed) return;
    this.setUp(false);
    this.removed = true;
    this.context.portLinks.delete(this.a);
    this.context.portLinks.delete(this.b);
    this.a.attach?.(null);
    this.b.attach?.(null);
  }

  /** The wire `port` transmits on. */
  wireOf(port: LinkPort): Wire {
    return this.directionFrom(port);
  }

  /** The parameters of the direction in which `from` sends. */
  parametersFrom(from: LinkPort): {
    latencyNs: number;
    jitterNs: number;
    bandwidthBps: number;
    queueBytes: number;
    lossProbability: number;
  } {
    const d = this.directionFrom(from);
    return {
      latencyNs: d.latencyNs,
      jitterNs: d.jitterNs,
      bandwidthBps: d.bandwidthBps,
      queueBytes: d.queueBytes,
      lossProbability: d.lossProbability,
    };
  }

  private directionFrom(port: LinkPort): Direction {
    if (port === this.a) return this.ab;
    if (port === this.b) return this.ba;
    throw new InvalidParameterError(
      `link ${this.name}`,
      "port",
      `${this.a.name} or ${this.b.name}`,
      port.name,
    );
  }

  /** Adds a listener; returns a function that removes it. */
  tap(listener: LinkTap): () => void {
    this.taps.push(listener);
    return () => {
      const i = this.taps.indexOf(listener);
      if (i >= 0) this.taps.splice(i, 1);
    };
  }

  /** Counters of both directions, a → b first. */
  stats(): [LinkDirectionStats, LinkDirectionStats] {
    return [this.ab.stats(), this.ba.stats()];
  }

  /** Largest frame the MTU admits: MTU + Ethernet header + 4 per VLAN tag (at most 2). */
  maxFrameLength(frame: Uint8Array, offset: number, length: number): number {
    let max = this.mtuBytes + ETH_HEADER_LEN;
    let at = offset + 12;
    for (let tags = 0; tags < 2 && at + 2 <= offset + length; tags++, at += VLAN_HEADER_LEN) {
      const type = (frame[at] << 8) | frame[at + 1];
      if (type !== 0x8100 && type !== 0x88a8) break;
      max += VLAN_HEADER_LEN;
    }
    return max;
  }

  /** @internal Calls every tap. */
  notify(
    kind: TapKind,
    from: LinkPort,
    frame: Uint8Array,
    offset: number,
    length: number,
    timeNs: number,
    reason: DropReason | null,
  ): void {
    for (let i = 0; i < this.taps.length; i++)
      this.taps[i](kind, from, frame, offset, length, timeNs, reason);
  }

  /** "h1-eth0<->h2-eth0 10ms 1Gbps loss 1% mtu 1500 up" (the a → b parameters). */
  describe(): string {
    const d = this.ab;
    const parts = [this.name, formatDurationNs(d.latencyNs)];
    if (d.jitterNs > 0) parts.push(`jitter ${formatDurationNs(d.jitterNs)}`);
    if (d.bandwidthBps > 0) parts.push(formatRateBps(d.bandwidthBps));
    if (d.lossProbability > 0) parts.push(`loss ${d.lossProbability * 100}%`);
    parts.push(`mtu ${this.mtuBytes}`, this.isUp ? "up" : "down");
    return parts.join(" ");
  }
}
