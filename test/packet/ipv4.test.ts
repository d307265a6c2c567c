import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { internetChecksum } from "../../packet/checksum.js";
import { PacketMalformedError } from "../../packet/errors.js";
import {
  decodeIpv4,
  decodeIpv4Options,
  encodeIpv4,
  encodeIpv4Options,
  encodingLengthIpv4,
  type Ipv4Fields,
  Ipv4View,
} from "../../packet/ipv4.js";
import { fuzzDecoder, hex, unhex } from "./codec-helpers.js";

// scapy IP(src=10.0.0.1, dst=10.0.0.2, id=1, flags=0)/UDP(...)/"hello world" (header only).
const header = unhex("4500002700010000401166c30a0000010a000002");
const withPayload = new Uint8Array(39);
withPayload.set(header);

describe("IPv4", () => {
  it("decodes a known header", () => {
    expect(decodeIpv4(withPayload)).toEqual({
      tos: 0,
      totalLength: 39,
      id: 1,
      df: false,
      mf: false,
      fragOffset: 0,
      ttl: 64,
      protocol: 17,
      checksum: 0x66c3,
      src: 0x0a000001,
      dst: 0x0a000002,
      options: new Uint8Array(0),
    });
  });

  it("encodes the same header, computing the checksum", () => {
    const buf = new Uint8Array(20);
    encodeIpv4({ totalLength: 39, id: 1, protocol: 17, src: 0x0a000001, dst: 0x0a000002 }, buf);
    expect(hex(buf)).toBe(hex(header));
  });

  it("validates lengths as OVS's ipv4_sanity_check does, and the version as a host does", () => {
    const v = new Ipv4View();
    expect(v.wrap(withPayload).validate()).toBeUndefined();
    expect(v.wrap(withPayload, 0, 19).validate()).toBe("PKT_ERR_TRUNCATED");
    // total length 39 but only 30 bytes
    expect(v.wrap(withPayload, 0, 30).validate()).toBe("PKT_ERR_TRUNCATED");
    const bad = Uint8Array.from(withPayload);
    bad[0] = 0x65;
    expect(v.wrap(bad).validate()).toBe("PKT_ERR_BAD_VERSION");
    expect(v.version).toBe(6);
    expect(() => decodeIpv4(bad)).toThrow("Cannot decode IPv4 header: version is 6, need 4");
    bad[0] = 0x44;
    expect(v.wrap(bad).validate()).toBe("PKT_ERR_BAD_LENGTH");
    bad[0] = 0x45;
    bad[3] = 19;
    expect(v.wrap(bad).validate()).toBe("PKT_ERR_BAD_LENGTH");
    expect(() => decodeIpv4(bad)).toThrow(
      "Cannot decode IPv4 header: total length 19 is shorter than the 20-byte header",
    );
  });

  it("names the truncation in its message", () => {
    expect(() => decodeIpv4(withPayload, 0, 12)).toThrow(
      "Cannot decode IPv4 header: 12 bytes left, need 20",
    );
  });

  it("tells first and later fragments apart", () => {
    const v = new Ipv4View();
    const buf = Uint8Array.from(withPayload);
    expect(v.wrap(buf).isFragment).toBe(false);
    buf[6] = 0x20; // MF
    expect([v.isFragment, v.isLaterFragment, v.mf]).toEqual([true, false, true]);
    buf[6] = 0x00;
    buf[7] = 0x05; // offset 5 × 8
    expect([v.isFragment, v.isLaterFragment, v.fragOffset]).toEqual([true, true, 5]);
  });

  it("keeps the header checksum valid when setters rewrite TTL, TOS and addresses", () => {
    fc.assert(
      fc.property(
        fc.nat(255),
        fc.nat(255),
        fc.nat(0xffffffff),
        fc.nat(0xffffffff),
        (ttl, tos, src, dst) => {
          const buf = Uint8Array.from(header);
          const v = new Ipv4View().wrap(buf);
          v.ttl = ttl;
          v.tos = tos;
          v.src = src;
          v.dst = dst;
          expect([v.ttl, v.tos, v.src, v.dst]).toEqual([ttl, tos, src, dst]);
          expect(v.checksumOk).toBe(true);
        },
      ),
    );
  });

  it("pads options to 4 bytes and parses them back (RFC 791 §3.1)", () => {
    const opts = encodeIpv4Options([{ type: 1 }, { type: 0x94, data: Uint8Array.of(0, 0) }]);
    expect(hex(opts)).toBe("0194040000");
    const f: Ipv4Fields = { protocol: 6, src: 1, dst: 2, options: opts };
    expect(encodingLengthIpv4(f)).toBe(28);
    const buf = new Uint8Array(28);
    encodeIpv4(f, buf);
    const d = decodeIpv4(buf);
    expect(hex(d.options)).toBe("0194040000000000");
    expect(decodeIpv4Options(d.options)).toEqual([
      { type: 1 },
      { type: 0x94, data: Uint8Array.of(0, 0) },
      { type: 0 },
    ]);
    expect(internetChecksum(buf, 0, 28)).toBe(0);
  });

  it("rejects an option whose length is below 2 or runs past the options", () => {
    expect(() => decodeIpv4Options(Uint8Array.of(0x94, 1))).toThrow(PacketMalformedError);
    expect(() => decodeIpv4Options(Uint8Array.of(0x07, 9, 4))).toThrow(/runs past/);
  });

  it("refuses more than 40 bytes of options", () => {
    expect(() =>
      encodeIpv4({ protocol: 6, src: 1, dst: 2, options: new Uint8Array(41) }, new Uint8Array(80)),
    ).toThrow(/at most 40 fit/);
  });

  it("round-trips any header", () => {
    const fields = fc.record({
      tos: fc.nat(255),
      id: fc.nat(0xffff),
      df: fc.boolean(),
      mf: fc.boolean(),
      fragOffset: fc.nat(0x1fff),
      ttl: fc.nat(255),
      protocol: fc.nat(255),
      src: fc.nat(0xffffffff),
      dst: fc.nat(0xffffffff),
      options: fc
        .nat(10)
        .map((n) => Uint8Array.from({ length: 4 * n }, (_, i) => (i === 0 ? 1 : 1))),
      extra: fc.nat(100),
    });
    fc.assert(
      fc.property(fields, ({ extra, ...f }) => {
        const hlen = encodingLengthIpv4(f);
        const buf = new Uint8Array(hlen + extra);
        encodeIpv4({ ...f, totalLength: hlen + extra }, buf);
        const d = decodeIpv4(buf);
        expect({ ...d, checksum: 0 }).toEqual({ ...f, totalLength: hlen + extra, checksum: 0 });
        expect(new Ipv4View().wrap(buf).checksumOk).toBe(true);
      }),
    );
  });

  it("never throws anything but a PacketError on random bytes", () => {
    fuzzDecoder(decodeIpv4, new Ipv4View());
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 40 }), (opts) => {
        try {
          decodeIpv4Options(opts);
        } catch (e) {
          expect(e).toBeInstanceOf(PacketMalformedError);
        }
      }),
    );
  });
});
