import fc from "fast-check";
import { describe, expect, it } from "vitest";
import {
  crc32c,
  decodeSctp,
  encodeSctp,
  encodingLengthSctp,
  SCTP_CHUNK_INIT,
  SctpView,
} from "../../packet/sctp.js";
import { fuzzDecoder, hex, unhex } from "./codec-helpers.js";

// scapy SCTP(sport=5000, dport=5001, tag=0)/SCTPChunkInit(init_tag=1, a_rwnd=65536,
// n_out_streams=10, n_in_streams=10, init_tsn=1)
const init = unhex("1388138900000000b1c292e5 010000140000000100010000000a000a00000001");

describe("SCTP", () => {
  it("computes the CRC32c check value of '123456789' (RFC 3720 B.4 / iSCSI)", () => {
    expect(crc32c(new TextEncoder().encode("123456789"), 0, 9)).toBe(0xe3069283);
  });

  it("decodes a known INIT and verifies its CRC32c", () => {
    expect(decodeSctp(init)).toEqual({
      srcPort: 5000,
      dstPort: 5001,
      vtag: 0,
      checksum: 0xb1c292e5,
      chunks: [
        { type: SCTP_CHUNK_INIT, flags: 0, data: unhex("0000000100010000000a000a00000001") },
      ],
    });
    const v = new SctpView().wrap(init);
    expect([v.validate(), v.srcPort, v.dstPort, v.checksumOk]).toEqual([
      undefined,
      5000,
      5001,
      true,
    ]);
  });

  it("encodes the same INIT, CRC32c included", () => {
    const f = {
      srcPort: 5000,
      dstPort: 5001,
      chunks: [{ type: SCTP_CHUNK_INIT, data: unhex("0000000100010000000a000a00000001") }],
    };
    const buf = new Uint8Array(encodingLengthSctp(f));
    encodeSctp(f, buf);
    expect(hex(buf)).toBe(hex(init));
  });

  it("notices a corrupted byte through the CRC", () => {
    const bad = Uint8Array.from(init);
    bad[20] ^= 1;
    expect(new SctpView().wrap(bad).checksumOk).toBe(false);
  });

  it("rejects a chunk that runs past the packet (RFC 9260 §3.2)", () => {
    expect(() => decodeSctp(init, 0, init.length - 1)).toThrow(/runs past/);
    expect(new SctpView().wrap(init, 0, 11).validate()).toBe("PKT_ERR_TRUNCATED");
  });

  it("round-trips any packet and always produces a valid CRC", () => {
    const chunk = fc.record({
      type: fc.nat(255),
      flags: fc.nat(255),
      data: fc.uint8Array({ maxLength: 30 }),
    });
    fc.assert(
      fc.property(
        fc.record({
          srcPort: fc.nat(0xffff),
          dstPort: fc.nat(0xffff),
          vtag: fc.nat(0xffffffff),
          chunks: fc.array(chunk, { maxLength: 4 }),
        }),
        (f) => {
          const buf = new Uint8Array(encodingLengthSctp(f));
          expect(encodeSctp(f, buf)).toBe(buf.length);
          const d = decodeSctp(buf);
          expect({ ...d, checksum: 0 }).toEqual({ ...f, checksum: 0 });
          expect(new SctpView().wrap(buf).checksumOk).toBe(true);
        },
      ),
    );
  });

  it("never throws anything but a PacketError on random bytes", () => {
    fuzzDecoder(decodeSctp, new SctpView());
  });
});
