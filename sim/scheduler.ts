/**
 * The discrete-event kernel: a virtual clock in integer nanoseconds and a queue of
 * events ordered by (time, priority, sequence), after SimPy.
 *
 * Promises
 * - Events run in ascending time; at the same instant, lower `priority` first; at the
 *   same time and priority, in the order they were scheduled. So a run is a pure
 *   function of what was scheduled: same topology and seed, same run, bit for bit.
 * - The clock only moves forward, and only here: to an event's time when it runs, or
 *   to `untilNs` when run() stops there. Nothing reads the wall clock.
 * - An event is a function and one number argument (a slot, an index), so a hot path
 *   can bind its handler once and schedule without allocating; the queue itself is
 *   struct-of-arrays in typed arrays that grow by doubling and are reused.
 * - cancel() is O(1) (the event is skipped when it reaches the top).
 *
 * It does not pace to real time (realtime.ts wraps it) and does not catch exceptions:
 * an event that throws propagates out of step()/run(), with the queue intact.
 */
import { InvalidDelayError, NotIdleError } from "./errors.js";

/** An event's action; `arg` is the number given to schedule(). */
export type EventFn = (arg: number) => void;

/** Returned by schedule(); pass to cancel(). Never 0, never reused while live. */
export type EventHandle = number;

/** What a module needs to read the time: the datapath and vswitchd take only this. */
export interface Clock {
  nowNs(): number;
}

export interface RunOptions {
  /** Run every event due at or before this time, then set the clock to it. */
  untilNs?: number;
  /** Stop after this many events (the clock stays at the last event's time). */
  maxEvents?: number;
}

const SLOT_BITS = 24;
const SLOT_LIMIT = 1 << SLOT_BITS;
const SLOT_MASK = SLOT_LIMIT - 1;
const GEN_LIMIT = 2 ** 28;
const INITIAL_SLOTS = 1024;
/** runUntilIdle()'s default guard against a periodic timer that never ends. */
export const DEFAULT_MAX_EVENTS = 100_000_000;

export class Scheduler implements Clock {
  private now = 0;
  private seqNext = 0;
  private executed = 0;
  // Per slot: the event's key, action and argument; `gen` makes stale handles harmless.
  private time = new Float64Array(INITIAL_SLOTS);
  private prio = new Int32Array(INITIAL_SLOTS);
  private seq = new Float64Array(INITIAL_SLOTS);
  private arg = new Float64Array(INITIAL_SLOTS);
  private gen = new Uint32Array(INITIAL_SLOTS);
  private fn: (EventFn | null)[] = new Array(INITIAL_SLOTS).fill(null);
  // Binary min-heap of slot numbers, and a stack of free slots.
  private heap = new Int32Array(INITIAL_SLOTS);
  private size = 0;
  private free = new Int32Array(INITIAL_SLOTS);
  private nFree = 0;
  private slotsUsed = 0;
  private cancelled = 0;

  nowNs(): number {
    return this.now;
  }

  /** Events waiting (cancelled ones excluded). */
  get pending(): number {
    return this.size - this.cancelled;
  }

  /** Events run since the scheduler was made. */
  get eventsRun(): number {
    return this.executed;
  }

  /** Time of the next live event, or Infinity when idle. */
  nextEventNs(): number {
    this.dropCancelledTop();
    return this.size === 0 ? Number.POSITIVE_INFINITY : this.time[this.heap[0]];
  }

  /** Runs `fn(arg)` `delayNs` from now. Lower priority runs first at equal times. */
  schedule(delayNs: number, fn: EventFn, arg = 0, priority = 0): EventHandle {
    if (!(delayNs >= 0) || !Number.isSafeInteger(delayNs))
      throw new InvalidDelayError("delayNs", delayNs, this.now);
    return this.push(this.now + delayNs, fn, arg, priority);
  }

  /** Runs `fn(arg)` at absolute virtual time `timeNs` (>= now). */
  scheduleAt(timeNs: number, fn: EventFn, arg = 0, priority = 0): EventHandle {
    if (!(timeNs >= this.now) || !Number.isSafeInteger(timeNs))
      throw new InvalidDelayError("timeNs", timeNs, this.now);
    return this.push(timeNs, fn, arg, priority);
  }

  /** Cancels a pending event; false if it already ran or was cancelled. */
  cancel(handle: EventHandle): boolean {
    const slot = (handle & SLOT_MASK) - 1;
    const g = Math.floor(handle / SLOT_LIMIT);
    if (slot < 0 || slot >= this.slotsUsed || this.gen[slot] !== g || this.fn[slot] === null)
      return false;
    this.fn[slot] = null;
    this.cancelled++;
    return true;
  }

  /** Runs the next event, if any; returns whether one ran. */
  step(): boolean {
    this.dropCancelledTop();
    if (this.size === 0) return false;
    this.runTop();
    return true;
  }

  /** Runs events until `untilNs` (inclusive) or `maxEvents`; returns how many ran. */
  run(options: RunOptions = {}): number {
    const until = options.untilNs ?? Number.POSITIVE_INFINITY;
    const max = options.maxEvents ?? Number.POSITIVE_INFINITY;
    if (until < this.now) throw new InvalidDelayError("untilNs", until, this.now);
    let n = 0;
    while (n < max) {
      this.dropCancelledTop();
      if (this.size === 0 || this.time[this.heap[0]] > until) break;
      this.runTop();
      n++;
    }
    if (n < max && until !== Number.POSITIVE_INFINITY) this.now = until;
    return n;
  }

  /** Runs until no event is left; throws NotIdleError after `maxEvents`. */
  runUntilIdle(maxEvents = DEFAULT_MAX_EVENTS): number {
    const n = this.run({ maxEvents });
    if (n >= maxEvents && this.pending > 0) throw new NotIdleError(n, this.now);
    return n;
  }

  private push(t: number, fn: EventFn, arg: number, priority: number): EventHandle {
    let slot: number;
    if (this.nFree > 0) slot = this.free[--this.nFree];
    else {
      if (this.slotsUsed === this.time.length) this.grow();
      slot = this.slotsUsed++;
    }
    this.time[slot] = t;
    this.prio[slot] = priority;
    this.seq[slot] = this.seqNext++;
    this.arg[slot] = arg;
    this.fn[slot] = fn;
    const g = (this.gen[slot] + 1) % GEN_LIMIT;
    this.gen[slot] = g;
    this.siftUp(this.size++, slot);
    return g * SLOT_LIMIT + slot + 1;
  }

  private runTop(): void {
    const slot = this.popTop();
    const fn = this.fn[slot]!;
    this.fn[slot] = null;
    this.free[this.nFree++] = slot;
    this.now = this.time[slot];
    this.executed++;
    fn(this.arg[slot]);
  }

  private dropCancelledTop(): void {
    while (this.size > 0 && this.fn[this.heap[0]] === null) {
      this.free[this.nFree++] = this.popTop();
      this.cancelled--;
    }
  }

  private popTop(): number {
    const heap = this.heap;
    const top = heap[0];
    const last = heap[--this.size];
    if (this.size > 0) this.siftDown(last);
    return top;
  }

  /** (time, priority, seq) order: does slot a run before slot b? */
  private before(a: number, b: number): boolean {
    const ta = this.time[a];
    const tb = this.time[b];
    if (ta !== tb) return ta < tb;
    const pa = this.prio[a];
    const pb = this.prio[b];
    if (pa !== pb) return pa < pb;
    return this.seq[a] < this.seq[b];
  }

  private siftUp(i: number, slot: number): void {
    const heap = this.heap;
    while (i > 0) {
      const parent = (i - 1) >> 1;
      const p = heap[parent];
      if (!this.before(slot, p)) break;
      heap[i] = p;
      i = parent;
    }
    heap[i] = slot;
  }

  private siftDown(slot: number): void {
    const heap = this.heap;
    const n = this.size;
    let i = 0;
    for (;;) {
      let child = 2 * i + 1;
      if (child >= n) break;
      if (child + 1 < n && this.before(heap[child + 1], heap[child])) child++;
      const c = heap[child];
      if (!this.before(c, slot)) break;
      heap[i] = c;
      i = child;
    }
    heap[i] = slot;
  }

  private grow(): void {
    const n = Math.min(this.time.length * 2, SLOT_LIMIT - 1);
    if (n === this.time.length)
      throw new RangeError(`scheduler: more than ${SLOT_LIMIT} pending events`);
    this.time = growF64(this.time, n);
    this.seq = growF64(this.seq, n);
    this.arg = growF64(this.arg, n);
    const prio = new Int32Array(n);
    prio.set(this.prio);
    this.prio = prio;
    const gen = new Uint32Array(n);
    gen.set(this.gen);
    this.gen = gen;
    const heap = new Int32Array(n);
    heap.set(this.heap);
    this.heap = heap;
    const free = new Int32Array(n);
    free.set(this.free);
    this.free = free;
    for (let i = this.fn.length; i < n; i++) this.fn.push(null);
  }
}

function growF64(a: Float64Array, n: number): Float64Array<ArrayBuffer> {
  const b = new Float64Array(n);
  b.set(a);
  return b;
}
