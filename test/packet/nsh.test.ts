import fc from "fast-check";
import { describe, expect, it } from "vitest";
import {
  decodeNsh,
  encodeNsh,
  encodingLengthNsh,
  NSH_M_TYPE1,
  NSH_M_TYPE2,
  NSH_P_ETHERNET,
  NSH_P_IPV4,
  type NshFields,
  NshView,
} from "../../packet/nsh.js";
import { fuzzDecoder, hex, unhex } from "./codec-helpers.js";

// RFC 8300 §2.2: ver 0, O 0, TTL 63, length 6, MD type 1, NP IPv4; SPI 0x123456, SI 255.
const md1 = unhex("0fc60101 123456ff 00000001 00000002 00000003 00000004");

describe("NSH", () => {
  it("decodes an MD type 1 header from known bytes", () => {
    expect(decodeNsh(md1)).toEqual({
      oam: false,
      ttl: 63,
      mdType: NSH_M_TYPE1,
      nextProto: NSH_P_IPV4,
      spi: 0x123456,
      si: 255,
      context: unhex("00000001000000020000000300000004"),
    });
    const v = new NshView().wrap(md1);
    expect([v.validate(), v.headerLen, v.ttl, v.spi, v.si, v.context(3)]).toEqual([
      undefined,
      24,
      63,
      0x123456,
      255,
      4,
    ]);
  });

  it("encodes the same header", () => {
    const buf = new Uint8Array(24);
    encodeNsh(
      {
        mdType: NSH_M_TYPE1,
        nextProto: NSH_P_IPV4,
        spi: 0x123456,
        si: 255,
        context: md1.subarray(8),
      },
      buf,
    );
    expect(hex(buf)).toBe(hex(md1));
  });

  it("validates as OVS's parse_nsh does", () => {
    const v = new NshView();
    const bad = Uint8Array.from(md1);
    bad[0] |= 0x40;
    expect(v.wrap(bad).validate()).toBe("PKT_ERR_BAD_VERSION");
    const len5 = Uint8Array.from(md1);
    len5[1] = (len5[1] & 0xc0) | 5;
    expect(v.wrap(len5).validate()).toBe("PKT_ERR_BAD_LENGTH");
    expect(() => decodeNsh(len5)).toThrow("MD type 1 needs length 24 bytes, found 20");
    const md3 = Uint8Array.from(md1);
    md3[2] = 3;
    expect(v.wrap(md3).validate()).toBeUndefined();
    expect(() => decodeNsh(md3)).toThrow("MD type 3 is not 1 or 2");
    const md2short = Uint8Array.from(md1);
    md2short[2] = 2;
    md2short[1] = (md2short[1] & 0xc0) | 1;
    expect(v.wrap(md2short).validate()).toBe("PKT_ERR_BAD_LENGTH");
    expect(v.wrap(md1, 0, 20).validate()).toBe("PKT_ERR_TRUNCATED");
  });

  it("round-trips MD type 1 and MD type 2 headers", () => {
    const common = {
      oam: fc.boolean(),
      ttl: fc.nat(63),
      nextProto: fc.constantFrom(NSH_P_IPV4, NSH_P_ETHERNET),
      spi: fc.nat(0xffffff),
      si: fc.nat(255),
    };
    const t1 = fc
      .record({ ...common, context: fc.uint8Array({ minLength: 16, maxLength: 16 }) })
      .map((r): NshFields => ({ ...r, mdType: NSH_M_TYPE1 }));
    const tlv = fc.record({
      class: fc.nat(0xffff),
      type: fc.nat(255),
      data: fc.uint8Array({ maxLength: 12 }),
    });
    const t2 = fc
      .record({ ...common, tlvs: fc.array(tlv, { maxLength: 4 }) })
      .map((r): NshFields => ({ ...r, mdType: NSH_M_TYPE2 }));
    fc.assert(
      fc.property(fc.oneof(t1, t2), (f) => {
        const buf = new Uint8Array(encodingLengthNsh(f));
        expect(encodeNsh(f, buf)).toBe(buf.length);
        expect(decodeNsh(buf)).toEqual(f);
        expect(new NshView().wrap(buf).validate()).toBeUndefined();
      }),
    );
  });

  it("never throws anything but a PacketError on random bytes", () => {
    fuzzDecoder(decodeNsh, new NshView());
  });
});
