/**
 * The link's queue and serialisation arithmetic checked against a brute-force model: a
 * list of waiting frames scanned in full at every offer, in the spirit of OVS's
 * test-classifier checking the classifier against a linear scan.
 */
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import type { LinkPort, Wire } from "../../sim/link.js";
import { World } from "../../sim/world.js";

interface Offer {
  atNs: number;
  length: number;
}

/** What a FIFO with tail drop and a fixed-rate transmitter does, computed naively. */
function reference(offers: Offer[], rateBps: number, queueBytes: number, latencyNs: number) {
  const delivered: { id: number; atNs: number }[] = [];
  const dropped: number[] = [];
  // Every accepted frame with its start time; "waiting" ones start after now.
  const accepted: { start: number; length: number }[] = [];
  let lastFinish = 0;
  offers.forEach((o, id) => {
    const waiting = accepted.filter((a) => a.start > o.atNs).reduce((n, a) => n + a.length, 0);
    const start = Math.max(o.atNs, lastFinish);
    if (start > o.atNs && waiting + o.length > queueBytes) {
      dropped.push(id);
      return;
    }
    accepted.push({ start, length: o.length });
    lastFinish = start + (o.length * 8 * 1e9) / rateBps;
    delivered.push({ id, atNs: Math.ceil(lastFinish) + latencyNs });
  });
  delivered.sort((a, b) => a.atNs - b.atNs || a.id - b.id);
  return { delivered, dropped };
}

class Sink implements LinkPort {
  wire: Wire | null = null;
  got: { id: number; atNs: number }[] = [];
  constructor(
    readonly name: string,
    private readonly world: World,
  ) {}
  attach(wire: Wire | null): void {
    this.wire = wire;
  }
  receive(frame: Uint8Array, offset: number): void {
    this.got.push({ id: (frame[offset + 14] << 8) | frame[offset + 15], atNs: this.world.nowNs() });
  }
}

describe("link queue model", () => {
  it("delivers and drops exactly what a naive FIFO with tail drop would", () => {
    fc.assert(
      fc.property(
        fc.array(
          fc.tuple(fc.integer({ min: 0, max: 200_000 }), fc.integer({ min: 60, max: 1514 })),
          {
            minLength: 1,
            maxLength: 120,
          },
        ),
        fc.constantFrom(1e6, 8e6, 1e7, 1e8, 3.3e7),
        fc.integer({ min: 0, max: 6000 }),
        fc.integer({ min: 0, max: 50_000 }),
        (raw, rateBps, queueBytes, latencyNs) => {
          const offers = raw
            .map(([atNs, length]) => ({ atNs, length }))
            .sort((a, b) => a.atNs - b.atNs);
          const world = new World();
          const a = new Sink("a", world);
          const b = new Sink("b", world);
          const link = world.link(a, b, {
            bandwidth: rateBps,
            queue: queueBytes,
            latency: latencyNs,
          });
          const dropped: number[] = [];
          const frame = new Uint8Array(1514);
          offers.forEach((o, id) => {
            world.scheduler.scheduleAt(o.atNs, () => {
              frame[14] = id >> 8;
              frame[15] = id & 0xff;
              if (!a.wire!.transmit(frame, 0, o.length)) dropped.push(id);
            });
          });
          world.runUntilIdle();
          const want = reference(offers, rateBps, queueBytes, latencyNs);
          expect(dropped).toEqual(want.dropped);
          expect(b.got).toEqual(want.delivered);
          const [ab] = link.stats();
          expect(ab.txPackets).toBe(offers.length);
          expect(ab.rxPackets + ab.drops.queue).toBe(offers.length);
        },
      ),
      { numRuns: 150 },
    );
  });

  it("keeps tx = rx + drops + in flight while parameters and state change at random", () => {
    fc.assert(
      fc.property(
        fc.array(
          fc.oneof(
            fc.record({
              op: fc.constant("send" as const),
              length: fc.integer({ min: 14, max: 1600 }),
            }),
            fc.record({
              op: fc.constant("wait" as const),
              ns: fc.integer({ min: 0, max: 2_000_000 }),
            }),
            fc.record({
              op: fc.constant("latency" as const),
              ns: fc.integer({ min: 0, max: 1_000_000 }),
            }),
            fc.record({ op: fc.constant("bandwidth" as const), bps: fc.constantFrom(0, 1e6, 1e8) }),
            fc.record({ op: fc.constant("loss" as const), p: fc.constantFrom(0, 0.3, 1) }),
            fc.record({ op: fc.constant("up" as const), up: fc.boolean() }),
          ),
          { maxLength: 80 },
        ),
        fc.integer({ min: 0, max: 1000 }),
        (ops, seed) => {
          const world = new World({ seed });
          const a = new Sink("a", world);
          const b = new Sink("b", world);
          const link = world.link(a, b, { queue: 4000 });
          const frame = new Uint8Array(1600);
          const check = (): void => {
            for (const d of link.stats()) {
              const drops = d.drops.down + d.drops.mtu + d.drops.loss + d.drops.queue;
              expect(d.txPackets).toBe(d.rxPackets + drops + d.inFlight);
            }
          };
          for (const o of ops) {
            if (o.op === "send") a.wire!.transmit(frame, 0, o.length);
            else if (o.op === "wait") world.run({ untilNs: world.nowNs() + o.ns });
            else if (o.op === "latency") link.set({ latency: o.ns });
            else if (o.op === "bandwidth") link.set({ bandwidth: o.bps });
            else if (o.op === "loss") link.set({ loss: o.p });
            else link.setUp(o.up);
            check();
          }
          world.runUntilIdle();
          check();
          expect(link.stats()[0].inFlight).toBe(0);
        },
      ),
      { numRuns: 100 },
    );
  });
});
