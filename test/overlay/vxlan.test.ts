import fc from "fast-check";
import { describe, expect, it } from "vitest";
import {
  decodeVxlan,
  encodeVxlan,
  encodingLengthVxlan,
  OVERLAY_DROP,
  OverlayError,
  VXLAN_HEADER_LEN,
  vxlanCheck,
} from "./_overlay.js";

describe("VXLAN header codec", () => {
  it("encodes the I flag and the VNI as RFC 7348 §5 lays them out", () => {
    const b = new Uint8Array(8);
    expect(encodeVxlan({ vni: 0x123456 }, b)).toBe(VXLAN_HEADER_LEN);
    expect([...b]).toEqual([0x08, 0, 0, 0, 0x12, 0x34, 0x56, 0]);
  });

  it("round-trips every VNI", () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 0, max: 0xffffff }),
        fc.integer({ min: 0, max: 16 }),
        (vni, off) => {
          const b = new Uint8Array(off + encodingLengthVxlan({ vni }));
          encodeVxlan({ vni }, b, off);
          expect(decodeVxlan(b, off)).toEqual({ vni });
        },
      ),
    );
  });

  it("drops headers whose flags are not exactly I or whose reserved bytes are set", () => {
    const b = new Uint8Array(8);
    encodeVxlan({ vni: 5 }, b);
    expect(vxlanCheck(b, 0, 8)).toBe(0);
    b[0] = 0x0c;
    expect(vxlanCheck(b, 0, 8)).toBe(OVERLAY_DROP.BAD_VXLAN);
    b[0] = 0x08;
    b[7] = 1;
    expect(vxlanCheck(b, 0, 8)).toBe(OVERLAY_DROP.BAD_VXLAN);
    expect(vxlanCheck(b, 0, 7)).toBe(OVERLAY_DROP.MALFORMED_OUTER);
  });

  it("refuses a VNI that does not fit 24 bits, naming the range", () => {
    expect(() => encodeVxlan({ vni: 0x1000000 }, new Uint8Array(8))).toThrow(/0 to 16777215/);
  });

  it("never throws anything but OverlayError on arbitrary bytes", () => {
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 20 }), (bytes) => {
        expect(typeof vxlanCheck(bytes, 0, bytes.length)).toBe("number");
        try {
          decodeVxlan(bytes);
        } catch (e) {
          expect(e).toBeInstanceOf(OverlayError);
        }
      }),
    );
  });
});
