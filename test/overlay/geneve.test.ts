import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { FLOW_WORDS, W_TUN_METADATA_PRESENT } from "../../packet/index.js";
import {
  decodeGeneve,
  encodeGeneve,
  encodingLengthGeneve,
  geneveCheck,
  keyToOptions,
  OVERLAY_DROP,
  OverlayError,
  optionsToKey,
} from "./_overlay.js";

const option = fc.record({
  optClass: fc.integer({ min: 0, max: 0xffff }),
  type: fc.integer({ min: 0, max: 255 }),
  data: fc
    .integer({ min: 0, max: 7 })
    .chain((n) => fc.uint8Array({ minLength: n * 4, maxLength: n * 4 })),
});

describe("Geneve header codec", () => {
  it("lays out version, option length, protocol and VNI as RFC 8926 §3.4", () => {
    const h = {
      vni: 0xabcdef,
      options: [{ optClass: 0x0102, type: 3, data: new Uint8Array([9, 9, 9, 9]) }],
    };
    const b = new Uint8Array(encodingLengthGeneve(h));
    expect(encodeGeneve(h, b)).toBe(16);
    expect([...b]).toEqual([2, 0, 0x65, 0x58, 0xab, 0xcd, 0xef, 0, 1, 2, 3, 1, 9, 9, 9, 9]);
  });

  it("round-trips VNI, flags and TLV options", () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 0, max: 0xffffff }),
        fc.boolean(),
        fc.array(option, { maxLength: 6 }),
        (vni, oam, options) => {
          fc.pre(options.reduce((n, o) => n + 4 + o.data.length, 0) <= 252);
          const h = { vni, oam, critical: false, options };
          const b = new Uint8Array(encodingLengthGeneve(h));
          encodeGeneve(h, b);
          const d = decodeGeneve(b);
          expect(d.vni).toBe(vni);
          expect(d.oam).toBe(oam);
          expect(d.options?.map((o) => [o.optClass, o.type, [...o.data]])).toEqual(
            options.map((o) => [o.optClass, o.type, [...o.data]]),
          );
        },
      ),
    );
  });

  it("drops an option TLV that runs past OptLen, a non-zero version and a non-Ethernet protocol", () => {
    const h = { vni: 1, options: [{ optClass: 1, type: 1, data: new Uint8Array(4) }] };
    const b = new Uint8Array(encodingLengthGeneve(h));
    encodeGeneve(h, b);
    expect(geneveCheck(b, 0, b.length)).toBe(0);
    b[11] = 2;
    expect(geneveCheck(b, 0, b.length)).toBe(OVERLAY_DROP.BAD_GENEVE);
    b[11] = 1;
    b[0] |= 0x40;
    expect(geneveCheck(b, 0, b.length)).toBe(OVERLAY_DROP.BAD_GENEVE);
    b[0] &= 0x3f;
    b[2] = 0x08;
    expect(geneveCheck(b, 0, b.length)).toBe(OVERLAY_DROP.BAD_GENEVE);
    expect(geneveCheck(b, 0, 12)).toBe(OVERLAY_DROP.MALFORMED_OUTER);
  });

  it("carries up to 32 option bytes through the flow key's tun_metadata words unchanged", () => {
    fc.assert(
      fc.property(
        fc
          .integer({ min: 0, max: 8 })
          .chain((n) => fc.uint8Array({ minLength: n * 4, maxLength: n * 4 })),
        (opts) => {
          const key = new Uint32Array(FLOW_WORDS);
          optionsToKey(opts, 0, opts.length, key);
          expect(key[W_TUN_METADATA_PRESENT]).toBe(
            opts.length === 0 ? 0 : 2 ** (opts.length / 4) - 1,
          );
          const out = new Uint8Array(opts.length);
          expect(keyToOptions(key, out, 0)).toBe(opts.length);
          expect([...out]).toEqual([...opts]);
        },
      ),
    );
  });

  it("never throws anything but OverlayError on arbitrary bytes", () => {
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 64 }), (bytes) => {
        expect(typeof geneveCheck(bytes, 0, bytes.length)).toBe("number");
        try {
          decodeGeneve(bytes);
        } catch (e) {
          expect(e).toBeInstanceOf(OverlayError);
        }
      }),
    );
  });
});
