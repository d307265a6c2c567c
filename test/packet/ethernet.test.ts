import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { PacketNoRoomError, PacketTruncatedError } from "../../packet/errors.js";
import {
  decodeEthernet,
  ETH_HEADER_LEN,
  EthernetView,
  encodeEthernet,
  encodingLengthEthernet,
} from "../../packet/ethernet.js";
import { fuzzDecoder, hex, mac, unhex } from "./codec-helpers.js";

const frame = unhex("020000000002 020000000001 0800 4500");

describe("Ethernet", () => {
  it("decodes destination, source and type from known bytes", () => {
    const f = decodeEthernet(frame);
    expect(hex(f.dst)).toBe("020000000002");
    expect(hex(f.src)).toBe("020000000001");
    expect(f.type).toBe(0x0800);
  });

  it("reads the addresses as the flow key packs them, without copying", () => {
    const v = new EthernetView().wrap(frame);
    expect(v.validate()).toBeUndefined();
    expect([v.dstHi, v.dstLo, v.srcHi, v.srcLo]).toEqual([0x0200, 0x00000002, 0x0200, 0x00000001]);
    expect(v.isMulticast).toBe(false);
    expect(new EthernetView().wrap(mac("ff:ff:ff:ff:ff:ff")).isMulticast).toBe(true);
  });

  it("rewrites addresses and type in place through the view", () => {
    const buf = Uint8Array.from(frame);
    const v = new EthernetView().wrap(buf);
    v.setDst(mac("aa:bb:cc:dd:ee:ff"));
    v.setSrc(mac("11:22:33:44:55:66"));
    v.type = 0x86dd;
    expect(hex(buf.subarray(0, 14))).toBe("aabbccddeeff11223344556686dd");
  });

  it("reports 13 bytes as truncated, from the view and the decoder", () => {
    expect(new EthernetView().wrap(frame, 0, 13).validate()).toBe("PKT_ERR_TRUNCATED");
    expect(() => decodeEthernet(frame, 0, 13)).toThrow(
      new PacketTruncatedError("Ethernet", 13, 14),
    );
    expect(() => decodeEthernet(frame, 0, 13)).toThrow(
      "Cannot decode Ethernet header: 13 bytes left, need 14",
    );
  });

  it("refuses to encode into a buffer without room", () => {
    expect(() =>
      encodeEthernet(
        { dst: mac("0:0:0:0:0:1"), src: mac("0:0:0:0:0:2"), type: 1 },
        new Uint8Array(10),
      ),
    ).toThrow(PacketNoRoomError);
  });

  it("round-trips any header through encode and decode", () => {
    const six = fc.uint8Array({ minLength: 6, maxLength: 6 });
    fc.assert(
      fc.property(fc.record({ dst: six, src: six, type: fc.nat(0xffff) }), fc.nat(10), (f, off) => {
        const buf = new Uint8Array(off + encodingLengthEthernet(f));
        expect(encodeEthernet(f, buf, off)).toBe(off + ETH_HEADER_LEN);
        expect(decodeEthernet(buf, off)).toEqual(f);
      }),
    );
  });

  it("never throws anything but a PacketError on random bytes", () => {
    fuzzDecoder(decodeEthernet, new EthernetView());
  });
});
