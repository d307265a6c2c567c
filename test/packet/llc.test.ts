import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { PacketMalformedError } from "../../packet/errors.js";
import {
  decodeLlc,
  encodeLlc,
  encodingLengthLlc,
  type LlcFields,
  LlcView,
} from "../../packet/llc.js";
import { fuzzDecoder, unhex } from "./codec-helpers.js";

describe("LLC and SNAP", () => {
  it("decodes an RFC 1042 SNAP header carrying IPv4", () => {
    expect(decodeLlc(unhex("aaaa03 000000 0800"))).toEqual({
      dsap: 0xaa,
      ssap: 0xaa,
      control: 3,
      snap: { oui: 0, type: 0x0800 },
    });
    const v = new LlcView().wrap(unhex("aaaa03 000000 0800"));
    expect([v.validate(), v.isSnap, v.headerLen, v.snapEthertype]).toEqual([
      undefined,
      true,
      8,
      0x0800,
    ]);
  });

  it("gives OVS's FLOW_DL_TYPE_NONE (0x5ff) for SNAP with a non-zero OUI and for plain LLC", () => {
    expect(new LlcView().wrap(unhex("aaaa03 00000c 2000")).snapEthertype).toBe(0x5ff);
    expect(new LlcView().wrap(unhex("424203")).snapEthertype).toBe(0x5ff);
  });

  it("takes a 2-byte control field for I-format PDUs (802.2 §5.2)", () => {
    expect(decodeLlc(unhex("f0f0 0204"))).toEqual({ dsap: 0xf0, ssap: 0xf0, control: 0x0204 });
    expect(new LlcView().wrap(unhex("f0f00204")).headerLen).toBe(4);
    expect(new LlcView().wrap(unhex("f0f002")).validate()).toBe("PKT_ERR_TRUNCATED");
  });

  it("reports a SNAP header cut short as truncated", () => {
    expect(new LlcView().wrap(unhex("aaaa030000")).validate()).toBe("PKT_ERR_TRUNCATED");
    expect(() => decodeLlc(unhex("aaaa030000"))).toThrow(
      "Cannot decode LLC/SNAP header: 5 bytes left, need 8",
    );
  });

  it("refuses SNAP fields without the SNAP SAPs", () => {
    expect(() =>
      encodeLlc(
        { dsap: 0x42, ssap: 0x42, control: 3, snap: { oui: 0, type: 0x800 } },
        new Uint8Array(8),
      ),
    ).toThrow(PacketMalformedError);
  });

  it("round-trips U-format, I/S-format and SNAP headers", () => {
    const u = fc.record({
      dsap: fc.nat(255),
      ssap: fc.nat(255),
      control: fc.nat(63).map((c) => (c << 2) | 3),
    });
    const is = fc.record({
      dsap: fc.nat(255),
      ssap: fc.nat(255),
      control: fc.nat(0xffff).filter((c) => ((c >>> 8) & 3) !== 3),
    });
    const snap = fc
      .record({ oui: fc.nat(0xffffff), type: fc.nat(0xffff) })
      .map((s): LlcFields => ({ dsap: 0xaa, ssap: 0xaa, control: 3, snap: s }));
    fc.assert(
      fc.property(fc.oneof(u, is, snap), (f: LlcFields) => {
        if (!f.snap && f.dsap === 0xaa && f.ssap === 0xaa && f.control === 3) return;
        const buf = new Uint8Array(encodingLengthLlc(f));
        expect(encodeLlc(f, buf)).toBe(buf.length);
        expect(decodeLlc(buf)).toEqual(f);
      }),
    );
  });

  it("never throws anything but a PacketError on random bytes", () => {
    fuzzDecoder(decodeLlc, new LlcView());
  });
});
