/**
 * A packet log: one line per link event (offer, delivery, drop) across the links it
 * watches, with the virtual time, the link, the sending port, the frame length and an
 * FNV-1a hash of its bytes. Two runs are the same run exactly when their logs are equal,
 * which is how determinism (same seed → same run) is tested.
 *
 * It allocates a string per event: a diagnostic, not for benchmarks.
 */
import type { Link } from "./link.js";

export class PacketLog {
  readonly lines: string[] = [];
  private readonly untaps: (() => void)[] = [];

  /** Starts logging every event on `links`. */
  constructor(links: readonly Link[]) {
    for (const link of links) {
      this.untaps.push(
        link.tap((kind, from, frame, offset, length, timeNs, reason) => {
          const r = reason ? ` ${reason}` : "";
          const h = fnv1a(frame, offset, length).toString(16).padStart(8, "0");
          this.lines.push(`${timeNs} ${link.name} ${from.name} ${kind}${r} ${length} ${h}`);
        }),
      );
    }
  }

  /** Stops logging. */
  close(): void {
    for (const u of this.untaps) u();
    this.untaps.length = 0;
  }
}

/** 32-bit FNV-1a over frame bytes. */
export function fnv1a(b: Uint8Array, off: number, len: number): number {
  let h = 0x811c9dc5;
  for (let i = off; i < off + len; i++) h = Math.imul(h ^ b[i], 0x01000193);
  return h >>> 0;
}
