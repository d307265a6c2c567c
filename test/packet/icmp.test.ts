import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { decodeIcmp, encodeIcmp, fillIcmpChecksum, IcmpView } from "../../packet/icmp.js";
import { fuzzDecoder, hex, unhex } from "./codec-helpers.js";

// scapy ICMP(type=8, id=0x1234, seq=1)/bytes(range(8))
const echo = unhex("0800d9ba12340001 0001020304050607");

describe("ICMP", () => {
  it("decodes an echo request from known bytes", () => {
    expect(decodeIcmp(echo)).toEqual({
      type: 8,
      code: 0,
      checksum: 0xd9ba,
      rest: 0x12340001,
      id: 0x1234,
      seq: 1,
    });
    const v = new IcmpView().wrap(echo);
    expect([v.validate(), v.type, v.code, v.id, v.seq, v.checksumOk]).toEqual([
      undefined,
      8,
      0,
      0x1234,
      1,
      true,
    ]);
  });

  it("encodes the header and fills the checksum over the body", () => {
    const buf = new Uint8Array(16);
    encodeIcmp({ type: 8, id: 0x1234, seq: 1 }, buf);
    buf.set([0, 1, 2, 3, 4, 5, 6, 7], 8);
    fillIcmpChecksum(buf, 0, 16);
    expect(hex(buf)).toBe(hex(echo));
  });

  it("keeps the checksum valid when type and code are rewritten (as OVS's set_field does)", () => {
    fc.assert(
      fc.property(fc.nat(255), fc.nat(255), (type, code) => {
        const buf = Uint8Array.from(echo);
        const v = new IcmpView().wrap(buf);
        v.setTypeCode(type, code);
        expect([v.type, v.code, v.checksumOk]).toEqual([type, code, true]);
      }),
    );
  });

  it("reports fewer than 8 bytes as truncated (RFC 792)", () => {
    expect(new IcmpView().wrap(echo, 0, 7).validate()).toBe("PKT_ERR_TRUNCATED");
    expect(() => decodeIcmp(echo, 0, 4)).toThrow("Cannot decode ICMP header: 4 bytes left, need 8");
  });

  it("round-trips any header", () => {
    fc.assert(
      fc.property(
        fc.nat(255),
        fc.nat(255),
        fc.nat(0xffff),
        fc.nat(0xffffffff),
        (type, code, checksum, rest) => {
          const buf = new Uint8Array(8);
          encodeIcmp({ type, code, checksum, rest }, buf);
          expect(decodeIcmp(buf)).toEqual({
            type,
            code,
            checksum,
            rest,
            id: rest >>> 16,
            seq: rest & 0xffff,
          });
        },
      ),
    );
  });

  it("never throws anything but a PacketError on random bytes", () => {
    fuzzDecoder(decodeIcmp, new IcmpView());
  });
});
