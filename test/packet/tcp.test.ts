import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { l4ChecksumIpv4 } from "../../packet/checksum.js";
import { IPPROTO_TCP } from "../../packet/ipproto.js";
import {
  decodeTcp,
  decodeTcpOptions,
  encodeTcp,
  encodeTcpOptions,
  encodingLengthTcp,
  fillTcpChecksumIpv4,
  TCP_ACK,
  TCP_OPT_EOL,
  TCP_OPT_NOP,
  TCP_SYN,
  TcpView,
  tcpOptMss,
  tcpOptSack,
  tcpOptSackPermitted,
  tcpOptTimestamp,
  tcpOptWindowScale,
} from "../../packet/tcp.js";
import { fuzzDecoder, hex, ip4, unhex } from "./codec-helpers.js";

// scapy TCP(sport=40000, dport=80, seq=1000, flags="S", options=[MSS 1460, SAckOK,
// Timestamp (1, 0), NOP, WScale 7]) over 10.0.0.1 -> 10.0.0.2
const syn = unhex(
  "9c400050000003e800000000a002ffff93840000 020405b40402080a000000010000000001030307",
);
const src = ip4("10.0.0.1");
const dst = ip4("10.0.0.2");

describe("TCP", () => {
  it("decodes a SYN with options from known bytes", () => {
    const d = decodeTcp(syn);
    expect({ ...d, options: hex(d.options) }).toEqual({
      srcPort: 40000,
      dstPort: 80,
      seq: 1000,
      ack: 0,
      flags: TCP_SYN,
      window: 65535,
      checksum: 0x9384,
      urgent: 0,
      options: "020405b40402080a000000010000000001030307",
    });
    expect(decodeTcpOptions(d.options)).toEqual([
      tcpOptMss(1460),
      tcpOptSackPermitted(),
      tcpOptTimestamp(1, 0),
      { kind: TCP_OPT_NOP },
      tcpOptWindowScale(7),
    ]);
    expect(l4ChecksumIpv4(syn, 0, syn.length, src, dst, IPPROTO_TCP)).toBe(0);
  });

  it("encodes the same SYN and checksum", () => {
    const options = encodeTcpOptions([
      tcpOptMss(1460),
      tcpOptSackPermitted(),
      tcpOptTimestamp(1, 0),
      { kind: TCP_OPT_NOP },
      tcpOptWindowScale(7),
    ]);
    const f = { srcPort: 40000, dstPort: 80, seq: 1000, flags: TCP_SYN, options };
    const buf = new Uint8Array(encodingLengthTcp(f));
    encodeTcp(f, buf);
    fillTcpChecksumIpv4(buf, 0, buf.length, src, dst);
    expect(hex(buf)).toBe(hex(syn));
  });

  it("validates the data offset (RFC 9293 §3.1)", () => {
    const v = new TcpView();
    expect(v.wrap(syn).validate()).toBeUndefined();
    expect(v.headerLen).toBe(40);
    expect(v.wrap(syn, 0, 39).validate()).toBe("PKT_ERR_TRUNCATED");
    const bad = Uint8Array.from(syn);
    bad[12] = 0x40;
    expect(v.wrap(bad).validate()).toBe("PKT_ERR_BAD_LENGTH");
    expect(() => decodeTcp(bad)).toThrow(
      "Cannot decode TCP header: data offset is 4, the minimum is 5",
    );
  });

  it("rejects an option of length below 2", () => {
    expect(() => decodeTcpOptions(Uint8Array.of(2, 1, 0, 0))).toThrow(/length 1/);
    expect(decodeTcpOptions(Uint8Array.of(1, 0, 9, 9))).toEqual([
      { kind: 1 },
      { kind: TCP_OPT_EOL },
    ]);
  });

  it("encodes SACK blocks as RFC 2018 §3 lays them out", () => {
    expect(hex(encodeTcpOptions([tcpOptSack([[1, 2]])]))).toBe("050a0000000100000002");
  });

  it("keeps the checksum valid when ports are rewritten", () => {
    fc.assert(
      fc.property(fc.nat(0xffff), fc.nat(0xffff), (sp, dp) => {
        const buf = Uint8Array.from(syn);
        const v = new TcpView().wrap(buf);
        v.srcPort = sp;
        v.dstPort = dp;
        expect(l4ChecksumIpv4(buf, 0, buf.length, src, dst, IPPROTO_TCP)).toBe(0);
      }),
    );
  });

  it("round-trips any header", () => {
    fc.assert(
      fc.property(
        fc.record({
          srcPort: fc.nat(0xffff),
          dstPort: fc.nat(0xffff),
          seq: fc.nat(0xffffffff),
          ack: fc.nat(0xffffffff),
          flags: fc.nat(0xfff),
          window: fc.nat(0xffff),
          checksum: fc.nat(0xffff),
          urgent: fc.nat(0xffff),
          options: fc.nat(10).map((n) => new Uint8Array(4 * n).fill(TCP_OPT_NOP)),
        }),
        (f) => {
          const buf = new Uint8Array(encodingLengthTcp(f));
          encodeTcp(f, buf);
          expect(decodeTcp(buf)).toEqual(f);
          expect(new TcpView().wrap(buf).flags).toBe(f.flags);
        },
      ),
    );
  });

  it("carries the ACK flag in the low bits as OVS's tcp_flags sees them", () => {
    const buf = new Uint8Array(20);
    encodeTcp({ srcPort: 1, dstPort: 2, flags: TCP_ACK | 0x800 }, buf);
    expect(new TcpView().wrap(buf).flags).toBe(0x810);
  });

  it("never throws anything but a PacketError on random bytes", () => {
    fuzzDecoder(decodeTcp, new TcpView(), (v) => {
      const view = v as TcpView;
      if (view.validate() === undefined) {
        try {
          decodeTcpOptions(view.buf.subarray(view.off + 20, view.off + view.headerLen));
        } catch (e) {
          expect((e as Error).name).toBe("PacketMalformedError");
        }
      }
    });
  });
});
