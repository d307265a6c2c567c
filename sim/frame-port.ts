/**
 * A FramePort: the adapter that lets anything with a "frame arrived" function and a
 * "send a frame" need sit on a link — a datapath vport above all. Its `transmit` has
 * the shape of datapath/'s NetdevPort, and its receive side calls the handler given at
 * construction (e.g. `(f, o, l) => dpif.receive(portNo, f, o, l)`).
 *
 * Promises: transmit while not on a link, or refused by the link, is counted in
 * `txDropped` and otherwise ignored (a NIC with no cable loses frames silently); the
 * frame is copied by the link, so the caller may reuse its buffer at once.
 */
import type { LinkPort, Wire } from "./link.js";

export type FrameHandler = (frame: Uint8Array, offset: number, length: number) => void;

export class FramePort implements LinkPort {
  /** Frames that could not be sent (no link, or dropped by it at once). */
  txDropped = 0;
  private wire: Wire | null = null;

  constructor(
    readonly name: string,
    private readonly onFrame: FrameHandler,
    private readonly onCarrier: ((up: boolean) => void) | null = null,
  ) {}

  /** Whether a link is attached and up. */
  get carrier(): boolean {
    return this.wire?.carrier === true;
  }

  transmit(frame: Uint8Array, offset: number, length: number): void {
    if (this.wire === null || !this.wire.transmit(frame, offset, length)) this.txDropped++;
  }

  receive(frame: Uint8Array, offset: number, length: number): void {
    this.onFrame(frame, offset, length);
  }

  attach(wire: Wire | null): void {
    this.wire = wire;
  }

  carrierChanged(up: boolean): void {
    this.onCarrier?.(up);
  }
}
