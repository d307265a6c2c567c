import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { ArpView, decodeArp, encodeArp, encodingLengthArp } from "../../packet/arp.js";
import { PacketMalformedError } from "../../packet/errors.js";
import { fuzzDecoder, hex, unhex } from "./codec-helpers.js";

// scapy ARP(op=1, hwsrc=02:00:00:00:00:01, psrc=10.0.0.1, pdst=10.0.0.2)
const request = unhex("0001 0800 06 04 0001 020000000001 0a000001 000000000000 0a000002");

describe("ARP", () => {
  it("decodes an Ethernet/IPv4 request from known bytes", () => {
    const f = decodeArp(request);
    expect(f.htype).toBe(1);
    expect(f.ptype).toBe(0x0800);
    expect(f.op).toBe(1);
    expect([hex(f.sha), hex(f.spa), hex(f.tha), hex(f.tpa)]).toEqual([
      "020000000001",
      "0a000001",
      "000000000000",
      "0a000002",
    ]);
  });

  it("reads the fields OVS extracts through the view and rewrites spa/tpa", () => {
    const buf = Uint8Array.from(request);
    const v = new ArpView().wrap(buf);
    expect(v.validate()).toBeUndefined();
    expect(v.isEthIpv4).toBe(true);
    expect([v.op, v.shaHi, v.shaLo, v.spa, v.thaHi, v.thaLo, v.tpa]).toEqual([
      1, 0x0200, 1, 0x0a000001, 0, 0, 0x0a000002,
    ]);
    v.tpa = 0x0a0000ff;
    v.op = 2;
    expect(hex(buf.subarray(24))).toBe("0a0000ff");
    expect(buf[7]).toBe(2);
  });

  it("reports a body shorter than its address lengths as truncated (RFC 826)", () => {
    expect(new ArpView().wrap(request, 0, 27).validate()).toBe("PKT_ERR_TRUNCATED");
    expect(() => decodeArp(request, 0, 27)).toThrow(
      "Cannot decode ARP header: 27 bytes left, need 28",
    );
  });

  it("refuses sender and target addresses of different lengths", () => {
    const six = new Uint8Array(6);
    expect(() =>
      encodeArp(
        { op: 1, sha: six, spa: new Uint8Array(4), tha: new Uint8Array(5), tpa: new Uint8Array(4) },
        new Uint8Array(40),
      ),
    ).toThrow(PacketMalformedError);
  });

  it("round-trips requests and replies with any address lengths", () => {
    fc.assert(
      fc.property(
        fc.nat(16),
        fc.nat(16),
        fc.nat(0xffff),
        fc.nat(0xffff),
        fc.nat(0xffff),
        (hl, pl, op, htype, ptype) => {
          const bytes = (n: number, s: number) =>
            Uint8Array.from({ length: n }, (_, i) => (i * 13 + s) & 0xff);
          const f = {
            htype,
            ptype,
            op,
            sha: bytes(hl, 1),
            spa: bytes(pl, 2),
            tha: bytes(hl, 3),
            tpa: bytes(pl, 4),
          };
          const buf = new Uint8Array(encodingLengthArp(f));
          expect(encodeArp(f, buf)).toBe(buf.length);
          expect(decodeArp(buf)).toEqual(f);
        },
      ),
    );
  });

  it("never throws anything but a PacketError on random bytes", () => {
    fuzzDecoder(decodeArp, new ArpView());
  });
});
