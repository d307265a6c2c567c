import fc from "fast-check";
import { describe, expect, it } from "vitest";
import {
  decodeGre,
  ETH_TYPE_TEB,
  encodeGre,
  encodingLengthGre,
  fillGreChecksum,
  greCheck,
  greChecksumOk,
  OVERLAY_DROP,
  OverlayError,
} from "./_overlay.js";

describe("GRE header codec", () => {
  it("lays out C, K and S words in RFC 2890 order", () => {
    const h = { protocol: ETH_TYPE_TEB, csum: true, key: 0x01020304, seq: 7 };
    const b = new Uint8Array(encodingLengthGre(h));
    expect(encodeGre(h, b)).toBe(16);
    expect([...b]).toEqual([0xb0, 0, 0x65, 0x58, 0, 0, 0, 0, 1, 2, 3, 4, 0, 0, 0, 7]);
  });

  it("round-trips keys, sequence numbers and the checksum flag", () => {
    fc.assert(
      fc.property(
        fc.option(fc.integer({ min: 0, max: 0xffffffff }), { nil: undefined }),
        fc.option(fc.integer({ min: 0, max: 0xffffffff }), { nil: undefined }),
        fc.boolean(),
        (key, seq, csum) => {
          const h = {
            protocol: ETH_TYPE_TEB,
            csum,
            ...(key !== undefined ? { key } : {}),
            ...(seq !== undefined ? { seq } : {}),
          };
          const b = new Uint8Array(encodingLengthGre(h) + 14);
          encodeGre(h, b);
          const d = decodeGre(b);
          expect(d.key).toBe(key);
          expect(d.seq).toBe(seq);
          expect(d.csum).toBe(csum);
        },
      ),
    );
  });

  it("fills a checksum over header and payload that verifies, and detects a flipped bit", () => {
    const b = new Uint8Array(8 + 15);
    encodeGre({ protocol: ETH_TYPE_TEB, csum: true }, b);
    b.fill(0xab, 8);
    fillGreChecksum(b, 0, b.length);
    expect(greChecksumOk(b, 0, b.length)).toBe(true);
    b[10] ^= 1;
    expect(greChecksumOk(b, 0, b.length)).toBe(false);
  });

  it("drops a version other than 0, routing, and protocols other than 0x6558", () => {
    const b = new Uint8Array(4 + 14);
    encodeGre({ protocol: ETH_TYPE_TEB }, b);
    expect(greCheck(b, 0, b.length)).toBe(0);
    b[1] = 1;
    expect(greCheck(b, 0, b.length)).toBe(OVERLAY_DROP.BAD_GRE);
    b[1] = 0;
    b[0] = 0x40;
    expect(greCheck(b, 0, b.length)).toBe(OVERLAY_DROP.BAD_GRE);
    b[0] = 0;
    b[3] = 0x00;
    expect(greCheck(b, 0, b.length)).toBe(OVERLAY_DROP.BAD_GRE);
    b[0] = 0x20;
    expect(greCheck(b, 0, 6)).toBe(OVERLAY_DROP.MALFORMED_OUTER);
  });

  it("never throws anything but OverlayError on arbitrary bytes", () => {
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 24 }), (bytes) => {
        expect(typeof greCheck(bytes, 0, bytes.length)).toBe("number");
        try {
          decodeGre(bytes);
        } catch (e) {
          expect(e).toBeInstanceOf(OverlayError);
        }
      }),
    );
  });
});
