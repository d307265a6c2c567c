import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { l4ChecksumIpv4, l4ChecksumIpv6 } from "../../packet/checksum.js";
import { IPPROTO_UDP } from "../../packet/ipproto.js";
import {
  decodeUdp,
  encodeUdp,
  fillUdpChecksumIpv4,
  fillUdpChecksumIpv6,
  UdpView,
} from "../../packet/udp.js";
import { fuzzDecoder, hex, ip4, unhex } from "./codec-helpers.js";

// scapy IP(src=10.0.0.1, dst=10.0.0.2)/UDP(sport=1234, dport=9999)/"hello world"
const datagram = unhex("04d2270f00132e16 68656c6c6f20776f726c64");
const src = ip4("10.0.0.1");
const dst = ip4("10.0.0.2");

describe("UDP", () => {
  it("decodes a known datagram and verifies its IPv4 checksum", () => {
    expect(decodeUdp(datagram)).toEqual({
      srcPort: 1234,
      dstPort: 9999,
      length: 19,
      checksum: 0x2e16,
    });
    expect(l4ChecksumIpv4(datagram, 0, 19, src, dst, IPPROTO_UDP)).toBe(0);
  });

  it("encodes the header and fills the checksum as scapy does", () => {
    const buf = Uint8Array.from(datagram);
    buf.fill(0, 0, 8);
    encodeUdp({ srcPort: 1234, dstPort: 9999, length: 19 }, buf);
    fillUdpChecksumIpv4(buf, 0, 19, src, dst);
    expect(hex(buf)).toBe(hex(datagram));
  });

  it("sends a computed zero checksum as 0xffff (RFC 768)", () => {
    // Find a datagram whose checksum computes to zero by solving for one payload word.
    const buf = new Uint8Array(10);
    encodeUdp({ srcPort: 1, dstPort: 2, length: 10 }, buf);
    const c = l4ChecksumIpv4(buf, 0, 10, 0, 0, IPPROTO_UDP);
    buf[8] = c >>> 8;
    buf[9] = c & 0xff;
    fillUdpChecksumIpv4(buf, 0, 10, 0, 0);
    expect(hex(buf.subarray(6, 8))).toBe("ffff");
  });

  it("validates the length field against RFC 768's minimum and the bytes present", () => {
    const v = new UdpView();
    expect(v.wrap(datagram).validate()).toBeUndefined();
    expect(v.wrap(datagram, 0, 18).validate()).toBe("PKT_ERR_TRUNCATED");
    const bad = Uint8Array.from(datagram);
    bad[5] = 7;
    expect(v.wrap(bad).validate()).toBe("PKT_ERR_BAD_LENGTH");
  });

  it("keeps the checksum valid when ports are rewritten, over IPv4 and IPv6", () => {
    const addrs = Uint8Array.from({ length: 32 }, (_, i) => i * 3);
    fc.assert(
      fc.property(
        fc.nat(0xffff),
        fc.nat(0xffff),
        fc.uint8Array({ maxLength: 40 }),
        (sp, dp, payload) => {
          const buf = new Uint8Array(8 + payload.length);
          buf.set(payload, 8);
          encodeUdp({ srcPort: 7, dstPort: 8, length: buf.length }, buf);
          fillUdpChecksumIpv6(buf, 0, buf.length, addrs, 0, 16);
          const v = new UdpView().wrap(buf);
          v.srcPort = sp;
          v.dstPort = dp;
          expect([v.srcPort, v.dstPort]).toEqual([sp, dp]);
          const sum = l4ChecksumIpv6(buf, 0, buf.length, addrs, 0, 16, IPPROTO_UDP);
          expect(sum === 0 || v.checksum === 0xffff).toBe(true);
        },
      ),
    );
  });

  it("round-trips any header", () => {
    fc.assert(
      fc.property(
        fc.nat(0xffff),
        fc.nat(0xffff),
        fc.nat(0xffff),
        fc.nat(0xffff),
        (srcPort, dstPort, length, checksum) => {
          const buf = new Uint8Array(8);
          encodeUdp({ srcPort, dstPort, length, checksum }, buf);
          expect(decodeUdp(buf)).toEqual({ srcPort, dstPort, length, checksum });
        },
      ),
    );
  });

  it("never throws anything but a PacketError on random bytes", () => {
    fuzzDecoder(decodeUdp, new UdpView());
  });
});
