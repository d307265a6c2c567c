/**
 * The real-time driver: paces a Scheduler to the wall clock, for the daemon, the
 * dashboard and real sockets. It is a wrapper; the kernel and its ordering are the
 * same as in as-fast-as-possible runs.
 *
 * Promises: while running, virtual time tracks `startVirtual + (wall - startWall) *
 * speed`; an event never runs before its wall-clock moment (it may run late when the
 * process is busy, and the virtual clock then catches up in one burst, preserving
 * order). Work injected from outside (a REST call scheduling an event) is picked up at
 * the next slice, at most `maxSliceMs` later, or at once after `wake()`.
 *
 * This is the only file in sim/ that reads the wall clock or sets timers.
 */
import { InvalidParameterError } from "./errors.js";
import type { Scheduler } from "./scheduler.js";

export interface RealtimeOptions {
  /** Virtual seconds per wall second; 1 is real time. */
  speed?: number;
  /** Longest sleep between slices, so outside work is noticed. */
  maxSliceMs?: number;
  /** Wall clock in milliseconds (injectable for tests); default performance.now. */
  wallMs?: () => number;
}

export class RealtimeDriver {
  readonly scheduler: Scheduler;
  readonly speed: number;
  private readonly maxSliceMs: number;
  private readonly wallMs: () => number;
  private startWallMs = 0;
  private startVirtualNs = 0;
  private timer: ReturnType<typeof setTimeout> | null = null;
  private active = false;
  private lastError: unknown = null;
  private readonly tick = (): void => this.slice();

  constructor(scheduler: Scheduler, options: RealtimeOptions = {}) {
    this.scheduler = scheduler;
    this.speed = options.speed ?? 1;
    this.maxSliceMs = options.maxSliceMs ?? 50;
    this.wallMs = options.wallMs ?? (() => performance.now());
    if (!(this.speed > 0) || !Number.isFinite(this.speed))
      throw new InvalidParameterError(
        "realtime driver",
        "speed",
        "a finite number > 0",
        this.speed,
      );
    if (!(this.maxSliceMs > 0))
      throw new InvalidParameterError("realtime driver", "maxSliceMs", "> 0", this.maxSliceMs);
  }

  get running(): boolean {
    return this.active;
  }

  /** The exception that stopped the driver, if an event threw. */
  get error(): unknown {
    return this.lastError;
  }

  /** Starts pacing from the scheduler's current virtual time. */
  start(): void {
    if (this.active) return;
    this.active = true;
    this.lastError = null;
    this.startWallMs = this.wallMs();
    this.startVirtualNs = this.scheduler.nowNs();
    this.arm(0);
  }

  /** Stops pacing; the virtual clock stays where it is. */
  stop(): void {
    this.active = false;
    if (this.timer !== null) clearTimeout(this.timer);
    this.timer = null;
  }

  /** Runs due work now instead of at the next slice (call after scheduling from outside). */
  wake(): void {
    if (this.active) this.arm(0);
  }

  /** The virtual time the wall clock says it is. */
  targetNs(): number {
    const elapsedMs = this.wallMs() - this.startWallMs;
    return this.startVirtualNs + Math.floor(elapsedMs * 1e6 * this.speed);
  }

  private slice(): void {
    this.timer = null;
    if (!this.active) return;
    try {
      const target = Math.max(this.targetNs(), this.scheduler.nowNs());
      this.scheduler.run({ untilNs: target });
    } catch (err) {
      this.lastError = err;
      this.stop();
      return;
    }
    const next = this.scheduler.nextEventNs();
    const waitMs = (next - this.scheduler.nowNs()) / 1e6 / this.speed;
    this.arm(Math.min(Math.max(waitMs, 0), this.maxSliceMs));
  }

  private arm(delayMs: number): void {
    if (this.timer !== null) clearTimeout(this.timer);
    this.timer = setTimeout(this.tick, delayMs);
  }
}
