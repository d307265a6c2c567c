import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { PacketFieldRangeError } from "../../packet/errors.js";
import { decodeVlan, encodeVlan, VLAN_HEADER_LEN, VlanView, vlanTci } from "../../packet/vlan.js";
import { fuzzDecoder, hex, unhex } from "./codec-helpers.js";

describe("VLAN tag", () => {
  it("decodes PCP, DEI, VID and the inner type from known bytes (scapy Dot1Q(prio=5, vlan=10))", () => {
    expect(decodeVlan(unhex("a00a0806"))).toEqual({ pcp: 5, dei: 0, vid: 10, type: 0x0806 });
  });

  it("reads and rewrites the TCI in place through the view", () => {
    const buf = unhex("f0140800");
    const v = new VlanView().wrap(buf);
    expect([v.pcp, v.dei, v.vid, v.type, v.tci]).toEqual([7, 1, 20, 0x0800, 0xf014]);
    v.tci = 0x2005;
    expect(hex(buf)).toBe("20050800");
  });

  it("reports a 3-byte tag as truncated", () => {
    expect(new VlanView().wrap(new Uint8Array(3)).validate()).toBe("PKT_ERR_TRUNCATED");
    expect(() => decodeVlan(new Uint8Array(3))).toThrow(
      "Cannot decode VLAN header: 3 bytes left, need 4",
    );
  });

  it("refuses VID 4096 with an actionable message", () => {
    expect(() => vlanTci({ vid: 4096, type: 0 })).toThrow(PacketFieldRangeError);
    expect(() => vlanTci({ vid: 4096, type: 0 })).toThrow(
      "Cannot encode VLAN header: vid 4096 is not in 0..4095",
    );
  });

  it("round-trips any tag", () => {
    fc.assert(
      fc.property(
        fc.record({ pcp: fc.nat(7), dei: fc.nat(1), vid: fc.nat(4095), type: fc.nat(0xffff) }),
        (f) => {
          const buf = new Uint8Array(VLAN_HEADER_LEN);
          encodeVlan(f, buf);
          expect(decodeVlan(buf)).toEqual(f);
        },
      ),
    );
  });

  it("never throws anything but a PacketError on random bytes", () => {
    fuzzDecoder(decodeVlan, new VlanView());
  });
});
