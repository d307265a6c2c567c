import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { FLOW_NW_FRAG_ANY, FLOW_NW_FRAG_LATER } from "../../packet/flow-key.js";
import {
  IPPROTO_AH,
  IPPROTO_DSTOPTS,
  IPPROTO_FRAGMENT,
  IPPROTO_HOPOPTS,
  IPPROTO_ROUTING,
  IPPROTO_UDP,
} from "../../packet/ipproto.js";
import {
  decodeIpv6,
  decodeIpv6Options,
  encodeIpv6,
  encodeIpv6Options,
  encodingLengthIpv6,
  type Ipv6ExtHeader,
  Ipv6View,
} from "../../packet/ipv6.js";
import { fuzzDecoder, hex, ip6, unhex } from "./codec-helpers.js";

// scapy IPv6(src=fe80::1, dst=fe80::2)/IPv6ExtHdrHopByHop(options=[RouterAlert()])/
// IPv6ExtHdrFragment(id=0xabcdef)/UDP(sport=1000, dport=2000)/"x"
const packet = unhex(
  "6000000000190040fe800000000000000000000000000001fe800000000000000000000000000002" +
    "2c00050200000100" +
    "1100000000abcdef" +
    "03e807d000097f1f78",
);

describe("IPv6", () => {
  it("decodes the fixed header and extension headers of a known packet", () => {
    const d = decodeIpv6(packet);
    expect(d.payloadLength).toBe(25);
    expect(d.hopLimit).toBe(64);
    expect(hex(d.src)).toBe(hex(ip6("fe80::1")));
    expect(d.protocol).toBe(IPPROTO_UDP);
    expect(d.extHeaders).toEqual([
      { type: IPPROTO_HOPOPTS, options: unhex("050200000100") },
      { type: IPPROTO_FRAGMENT, fragOffset: 0, m: false, id: 0xabcdef },
    ]);
    expect(decodeIpv6Options(unhex("050200000100"))).toEqual([
      { type: 5, data: Uint8Array.of(0, 0) },
      { type: 1, data: new Uint8Array(0) },
    ]);
  });

  it("re-encodes the same bytes, padding the router alert option with PadN", () => {
    const buf = new Uint8Array(56);
    encodeIpv6(
      {
        src: ip6("fe80::1"),
        dst: ip6("fe80::2"),
        payloadLength: 25,
        protocol: IPPROTO_UDP,
        extHeaders: [
          {
            type: IPPROTO_HOPOPTS,
            options: encodeIpv6Options([{ type: 5, data: Uint8Array.of(0, 0) }]),
          },
          { type: IPPROTO_FRAGMENT, fragOffset: 0, m: false, id: 0xabcdef },
        ],
      },
      buf,
    );
    expect(hex(buf)).toBe(hex(packet.subarray(0, 56)));
  });

  it("walks extension headers to the upper layer as OVS does", () => {
    const v = new Ipv6View().wrap(packet);
    expect(v.validate()).toBeUndefined();
    expect(v.walkExtHeaders()).toBeUndefined();
    expect([v.upperProto, v.upperOff, v.nwFrag]).toEqual([IPPROTO_UDP, 56, 0]);
  });

  it("stops at a later fragment with nw_proto 44 and the later-fragment bit", () => {
    const buf = Uint8Array.from(packet);
    buf[50] = 0x00;
    buf[51] = 0x08 | 1; // offset 1, M set
    const v = new Ipv6View().wrap(buf);
    expect(v.walkExtHeaders()).toBeUndefined();
    expect([v.upperProto, v.nwFrag]).toEqual([
      IPPROTO_FRAGMENT,
      FLOW_NW_FRAG_ANY | FLOW_NW_FRAG_LATER,
    ]);
    buf[51] = 1; // first fragment: offset 0, M set
    expect(v.walkExtHeaders()).toBeUndefined();
    expect([v.upperProto, v.nwFrag]).toEqual([IPPROTO_UDP, FLOW_NW_FRAG_ANY]);
  });

  it("sizes AH in 4-octet units on the walk (RFC 4302 §2.2)", () => {
    const buf = new Uint8Array(40 + 16 + 8);
    encodeIpv6({ src: ip6("::1"), dst: ip6("::2"), protocol: IPPROTO_AH, payloadLength: 24 }, buf);
    buf[40] = IPPROTO_UDP;
    buf[41] = 2; // (2 + 2) * 4 = 16 bytes
    const v = new Ipv6View().wrap(buf);
    expect(v.walkExtHeaders()).toBeUndefined();
    expect([v.upperProto, v.upperOff]).toEqual([IPPROTO_UDP, 56]);
  });

  it("reports headers that run past the payload length", () => {
    const v = new Ipv6View().wrap(packet, 0, 50);
    expect(v.validate()).toBe("PKT_ERR_TRUNCATED");
    const short = Uint8Array.from(packet);
    short[5] = 12; // payload length 12: the fragment header no longer fits
    expect(new Ipv6View().wrap(short).walkExtHeaders()).toBe("PKT_ERR_TRUNCATED");
    expect(() => decodeIpv6(short)).toThrow(
      "Cannot decode IPv6 extension header: 4 bytes left, need 8",
    );
  });

  it("rejects a version other than 6", () => {
    const bad = Uint8Array.from(packet);
    bad[0] = 0x40;
    expect(new Ipv6View().wrap(bad).validate()).toBe("PKT_ERR_BAD_VERSION");
    expect(new Ipv6View().wrap(bad).version).toBe(4);
    expect(() => decodeIpv6(bad)).toThrow("version is 4, need 6");
  });

  it("rewrites traffic class, flow label and hop limit in place", () => {
    const buf = Uint8Array.from(packet);
    const v = new Ipv6View().wrap(buf);
    v.trafficClass = 0xb8;
    v.flowLabel = 0xabcde;
    v.hopLimit = 3;
    expect([v.version, v.trafficClass, v.flowLabel, v.hopLimit, v.payloadLength]).toEqual([
      6, 0xb8, 0xabcde, 3, 25,
    ]);
    expect(v.srcWord(0)).toBe(0xfe800000);
    expect(v.dstWord(3)).toBe(2);
  });

  it("round-trips any chain of extension headers", () => {
    const addr = fc.uint8Array({ minLength: 16, maxLength: 16 });
    const opts = fc.nat(3).map((n) => {
      // A PadN filling 8n + 6 bytes keeps the header an 8-octet multiple.
      const len = 8 * n + 6;
      const o = new Uint8Array(len);
      o[0] = 1;
      o[1] = len - 2;
      return o;
    });
    const ext: fc.Arbitrary<Ipv6ExtHeader> = fc.oneof(
      opts.map((options): Ipv6ExtHeader => ({ type: IPPROTO_HOPOPTS, options })),
      opts.map((options): Ipv6ExtHeader => ({ type: IPPROTO_DSTOPTS, options })),
      fc.record({ routingType: fc.nat(255), segmentsLeft: fc.nat(255), n: fc.nat(3) }).map(
        ({ n, ...r }): Ipv6ExtHeader => ({
          type: IPPROTO_ROUTING,
          ...r,
          data: new Uint8Array(8 * n + 4).fill(n),
        }),
      ),
      fc
        .record({ fragOffset: fc.nat(0x1fff), m: fc.boolean(), id: fc.nat(0xffffffff) })
        .map((r): Ipv6ExtHeader => ({ type: IPPROTO_FRAGMENT, ...r })),
    );
    fc.assert(
      fc.property(
        fc.record({
          trafficClass: fc.nat(255),
          flowLabel: fc.nat(0xfffff),
          hopLimit: fc.nat(255),
          src: addr,
          dst: addr,
          extHeaders: fc.array(ext, { maxLength: 4 }),
          protocol: fc.constantFrom(6, 17, 58, 132),
        }),
        (f) => {
          const buf = new Uint8Array(encodingLengthIpv6(f));
          expect(encodeIpv6(f, buf)).toBe(buf.length);
          expect(decodeIpv6(buf)).toEqual({ ...f, payloadLength: buf.length - 40 });
        },
      ),
    );
  });

  it("never throws anything but a PacketError on random bytes", () => {
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 40 }), (opts) => {
        try {
          decodeIpv6Options(opts);
        } catch (e) {
          expect((e as Error).name).toBe("PacketMalformedError");
        }
      }),
    );
    fuzzDecoder(decodeIpv6, new Ipv6View(), (v) => {
      const code = (v as Ipv6View).validate();
      if (code === undefined) (v as Ipv6View).walkExtHeaders();
    });
  });
});
