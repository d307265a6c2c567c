import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { decodeMpls, decodeMplsStack, encodeMpls, MplsView, mplsLse } from "../../packet/mpls.js";
import { fuzzDecoder, hex, unhex } from "./codec-helpers.js";

describe("MPLS label stack entry", () => {
  it("decodes scapy's MPLS(label=100, cos=3, s=0, ttl=64) / MPLS(label=200, s=1, ttl=63)", () => {
    const buf = unhex("00064640 000c813f");
    expect(decodeMplsStack(buf)).toEqual([
      { label: 100, tc: 3, bos: 0, ttl: 64 },
      { label: 200, tc: 0, bos: 1, ttl: 63 },
    ]);
  });

  it("reads and sets the TTL in place through the view", () => {
    const buf = unhex("000c813f");
    const v = new MplsView().wrap(buf);
    expect([v.label, v.tc, v.bos, v.ttl]).toEqual([200, 0, 1, 63]);
    v.ttl = 62;
    expect(hex(buf)).toBe("000c813e");
  });

  it("stops a stack without a bottom-of-stack bit with a truncation error", () => {
    expect(() => decodeMplsStack(unhex("00064640"))).toThrow(
      "Cannot decode MPLS header: 0 bytes left, need 4",
    );
  });

  it("refuses a label above 2^20 - 1", () => {
    expect(() => mplsLse({ label: 0x100000, bos: 1, ttl: 1 })).toThrow(
      "label 1048576 is not in 0..1048575",
    );
  });

  it("round-trips any entry", () => {
    fc.assert(
      fc.property(
        fc.record({ label: fc.nat(0xfffff), tc: fc.nat(7), bos: fc.nat(1), ttl: fc.nat(255) }),
        (f) => {
          const buf = new Uint8Array(4);
          encodeMpls(f, buf);
          expect(decodeMpls(buf)).toEqual(f);
          expect(new MplsView().wrap(buf).lse).toBe(mplsLse(f));
        },
      ),
    );
  });

  it("never throws anything but a PacketError on random bytes", () => {
    fuzzDecoder(decodeMplsStack, new MplsView());
  });
});
