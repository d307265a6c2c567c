import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { l4ChecksumIpv6 } from "../../packet/checksum.js";
import {
  decodeIcmpv6,
  encodeIcmpv6,
  encodingLengthIcmpv6,
  fillIcmpv6Checksum,
  type Icmpv6Fields,
  Icmpv6View,
  ND_NEIGHBOR_ADVERT,
  ND_NEIGHBOR_SOLICIT,
  ND_OPT_SOURCE_LINKADDR,
  ND_OPT_TARGET_LINKADDR,
} from "../../packet/icmpv6.js";
import { IPPROTO_ICMPV6 } from "../../packet/ipproto.js";
import { fuzzDecoder, hex, ip6, mac, unhex } from "./codec-helpers.js";

// scapy IPv6(src=fe80::2, dst=fe80::1)/ICMPv6ND_NA(tgt=fe80::2, R=0, S=1, O=1)/ICMPv6NDOptDstLLAddr(02:..:02)
const na = unhex("8800181a60000000 fe800000000000000000000000000002 0201020000000002");
const addrs = new Uint8Array(32);
addrs.set(ip6("fe80::2"), 0);
addrs.set(ip6("fe80::1"), 16);

describe("ICMPv6", () => {
  it("decodes a neighbor advertisement with its flags, target and TLL option", () => {
    expect(decodeIcmpv6(na)).toEqual({
      type: ND_NEIGHBOR_ADVERT,
      code: 0,
      checksum: 0x181a,
      word: 0x60000000,
      router: false,
      solicited: true,
      override: true,
      target: ip6("fe80::2"),
      options: [{ type: ND_OPT_TARGET_LINKADDR, data: mac("02:00:00:00:00:02") }],
    });
    const v = new Icmpv6View().wrap(na);
    expect([v.validate(), v.validateNdOptions(), v.targetOff, v.ndOptionsOff]).toEqual([
      undefined,
      undefined,
      8,
      24,
    ]);
  });

  it("encodes the same advertisement and its pseudo-header checksum (RFC 4443 §2.3)", () => {
    const f: Icmpv6Fields = {
      type: ND_NEIGHBOR_ADVERT,
      solicited: true,
      override: true,
      target: ip6("fe80::2"),
      options: [{ type: ND_OPT_TARGET_LINKADDR, data: mac("02:00:00:00:00:02") }],
    };
    const buf = new Uint8Array(encodingLengthIcmpv6(f));
    encodeIcmpv6(f, buf);
    fillIcmpv6Checksum(buf, 0, buf.length, addrs, 0, 16);
    expect(hex(buf)).toBe(hex(na));
    expect(l4ChecksumIpv6(buf, 0, buf.length, addrs, 0, 16, IPPROTO_ICMPV6)).toBe(0);
  });

  it("rejects an ND option of length zero (RFC 4861 §4.6)", () => {
    const bad = Uint8Array.from(na);
    bad[25] = 0;
    expect(new Icmpv6View().wrap(bad).validateNdOptions()).toBe("PKT_ERR_BAD_OPTION");
    expect(() => decodeIcmpv6(bad)).toThrow(/length 0 bytes/);
  });

  it("reports an NS shorter than 24 bytes as truncated (RFC 4861 §7.1.1)", () => {
    const ns = Uint8Array.from(na);
    ns[0] = ND_NEIGHBOR_SOLICIT;
    expect(new Icmpv6View().wrap(ns, 0, 23).validate()).toBe("PKT_ERR_TRUNCATED");
    expect(() => decodeIcmpv6(ns, 0, 23)).toThrow(
      "Cannot decode ICMPv6 ND header: 23 bytes left, need 24",
    );
  });

  it("refuses an NS without a 16-byte target", () => {
    expect(() => encodeIcmpv6({ type: ND_NEIGHBOR_SOLICIT }, new Uint8Array(24))).toThrow(
      /16-byte target/,
    );
  });

  it("keeps the checksum valid when type and code are rewritten", () => {
    const buf = Uint8Array.from(na);
    const v = new Icmpv6View().wrap(buf);
    v.setTypeCode(129, 0);
    expect(l4ChecksumIpv6(buf, 0, buf.length, addrs, 0, 16, IPPROTO_ICMPV6)).toBe(0);
  });

  it("round-trips echo messages and NS/NA with options", () => {
    const echo = fc
      .record({
        type: fc.constantFrom(128, 129),
        code: fc.nat(255),
        id: fc.nat(0xffff),
        seq: fc.nat(0xffff),
      })
      .map((r) => ({ ...r, checksum: 0, word: ((r.id << 16) | r.seq) >>> 0 }));
    const option = fc.record({
      type: fc.constantFrom(ND_OPT_SOURCE_LINKADDR, ND_OPT_TARGET_LINKADDR, 14),
      data: fc.nat(3).map((n) => new Uint8Array(8 * n + 6).fill(n + 1)),
    });
    const nd = fc
      .record({
        type: fc.constantFrom(ND_NEIGHBOR_SOLICIT, ND_NEIGHBOR_ADVERT),
        router: fc.boolean(),
        solicited: fc.boolean(),
        override: fc.boolean(),
        target: fc.uint8Array({ minLength: 16, maxLength: 16 }),
        options: fc.array(option, { maxLength: 3 }),
      })
      .map(({ router, solicited, override, ...r }) => {
        const word =
          ((router ? 0x80000000 : 0) |
            (solicited ? 0x40000000 : 0) |
            (override ? 0x20000000 : 0)) >>>
          0;
        const flags = r.type === ND_NEIGHBOR_ADVERT ? { router, solicited, override } : {};
        return { ...r, ...flags, code: 0, checksum: 0, word };
      });
    fc.assert(
      fc.property(fc.oneof(echo, nd), (f: Icmpv6Fields) => {
        const buf = new Uint8Array(encodingLengthIcmpv6(f));
        expect(encodeIcmpv6(f, buf)).toBe(buf.length);
        expect(decodeIcmpv6(buf)).toEqual(f);
      }),
    );
  });

  it("never throws anything but a PacketError on random bytes", () => {
    fuzzDecoder(decodeIcmpv6, new Icmpv6View(), (v) => {
      const view = v as Icmpv6View;
      if (view.validate() === undefined && view.end - view.off >= 24) view.validateNdOptions();
    });
  });
});
