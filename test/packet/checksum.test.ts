import fc from "fast-check";
import { describe, expect, it } from "vitest";
import {
  fixL4ForField16,
  fixL4ForIpv4Addr,
  fixL4ForIpv6Addr,
  internetChecksum,
  l4ChecksumIpv4,
  l4ChecksumIpv6,
  onesSum,
  pseudoSumIpv4,
  update16,
  update32,
  update128,
} from "../../packet/checksum.js";
import { IPPROTO_ICMP, IPPROTO_ICMPV6, IPPROTO_TCP, IPPROTO_UDP } from "../../packet/ipproto.js";

/** The textbook definition, independently: sum words mod 0xffff, complement. */
function referenceChecksum(bytes: number[]): number {
  let sum = 0;
  for (let i = 0; i < bytes.length; i += 2) sum += (bytes[i] << 8) + (bytes[i + 1] ?? 0);
  // Ones'-complement addition is addition mod 2^16 - 1, with 0xffff standing for a
  // non-zero multiple of it.
  const folded = sum === 0 ? 0 : sum % 0xffff === 0 ? 0xffff : sum % 0xffff;
  return 0xffff - folded;
}

describe("internet checksum", () => {
  it("sums the RFC 1071 §3 example to 0xddf2", () => {
    const data = Uint8Array.of(0x00, 0x01, 0xf2, 0x03, 0xf4, 0xf5, 0xf6, 0xf7);
    expect(onesSum(data, 0, data.length)).toBe(0xddf2);
    expect(internetChecksum(data, 0, data.length)).toBe(0x220d);
  });

  it("verifies the header checksum of a real IPv4 header as zero", () => {
    const hdr = Buffer.from("4500002700010000401166c30a0000010a000002", "hex");
    expect(internetChecksum(hdr, 0, hdr.length)).toBe(0);
  });

  it("agrees with the textbook definition on any bytes, odd lengths included", () => {
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 300 }), fc.nat(20), (data, pad) => {
        const buf = new Uint8Array(pad + data.length + 3);
        buf.set(data, pad);
        expect(internetChecksum(buf, pad, data.length)).toBe(referenceChecksum([...data]));
      }),
    );
  });

  it("computes a UDP/IPv4 checksum that the pseudo-header verifies", () => {
    fc.assert(
      fc.property(
        fc.uint8Array({ minLength: 8, maxLength: 200 }),
        fc.nat(0xffffffff),
        fc.nat(0xffffffff),
        (seg, s, d) => {
          seg[6] = seg[7] = 0;
          const c = l4ChecksumIpv4(seg, 0, seg.length, s, d, IPPROTO_UDP);
          seg[6] = c >>> 8;
          seg[7] = c & 0xff;
          expect(
            internetChecksum(seg, 0, seg.length, pseudoSumIpv4(s, d, IPPROTO_UDP, seg.length)),
          ).toBe(0);
        },
      ),
    );
  });

  it("builds the IPv6 pseudo-header from source, destination, 32-bit length and next header", () => {
    const addrs = new Uint8Array(32).map((_, i) => i);
    const seg = Uint8Array.of(1, 2, 3, 4, 0, 0, 5);
    const bytes = [...addrs, 0, 0, 0, seg.length, 0, 0, 0, IPPROTO_TCP, ...seg];
    expect(l4ChecksumIpv6(seg, 0, seg.length, addrs, 0, 16, IPPROTO_TCP)).toBe(
      referenceChecksum(bytes),
    );
  });
});

/**
 * RFC 1624 §3: eqn. 3 matches a full recomputation except when the covered data is
 * all zeros, where it may give 0x0000 for the full sum's 0xffff (both are ones'
 * complement zero and verify alike; real headers never are all zeros).
 */
function expectSameChecksum(incremental: number, full: number, data: Uint8Array): void {
  if (data.every((b) => b === 0)) expect([0, 0xffff]).toContain(incremental);
  else expect(incremental).toBe(full);
}

describe("incremental checksum update (RFC 1624)", () => {
  const words = (n: number) => fc.array(fc.nat(0xffff), { minLength: n, maxLength: n + 30 });
  const toBytes = (w: number[]) => Uint8Array.from(w.flatMap((x) => [x >>> 8, x & 0xff]));

  it("update16 equals a full recomputation after one word changes", () => {
    fc.assert(
      fc.property(words(1), fc.nat(), fc.nat(0xffff), (w, at, now) => {
        const i = at % w.length;
        const before = internetChecksum(toBytes(w), 0, 2 * w.length);
        const old = w[i];
        w[i] = now;
        const after = toBytes(w);
        expectSameChecksum(
          update16(before, old, now),
          internetChecksum(after, 0, after.length),
          after,
        );
      }),
    );
  });

  it("update32 equals a full recomputation after an aligned 32-bit field changes", () => {
    fc.assert(
      fc.property(words(2), fc.nat(), fc.nat(0xffffffff), (w, at, now) => {
        const i = at % (w.length - 1);
        const before = internetChecksum(toBytes(w), 0, 2 * w.length);
        const old = ((w[i] << 16) | w[i + 1]) >>> 0;
        w[i] = now >>> 16;
        w[i + 1] = now & 0xffff;
        const after = toBytes(w);
        expectSameChecksum(
          update32(before, old, now),
          internetChecksum(after, 0, after.length),
          after,
        );
      }),
    );
  });

  it("update128 equals a full recomputation after a 16-byte address changes", () => {
    fc.assert(
      fc.property(
        words(8),
        fc.nat(),
        fc.uint8Array({ minLength: 16, maxLength: 16 }),
        (w, at, addr) => {
          const i = at % (w.length - 7);
          const buf = toBytes(w);
          const before = internetChecksum(buf, 0, buf.length);
          const old = buf.slice(2 * i, 2 * i + 16);
          buf.set(addr, 2 * i);
          expectSameChecksum(
            update128(before, old, 0, addr, 0),
            internetChecksum(buf, 0, buf.length),
            buf,
          );
        },
      ),
    );
  });

  it("gives a ones'-complement zero that verifies when the data becomes all zeros", () => {
    const buf = Uint8Array.of(0xff, 0xff, 0x00, 0x00);
    const c = internetChecksum(buf, 0, 4);
    expect(c).toBe(0);
    buf[0] = buf[1] = 0;
    const next = update16(c, 0xffff, 0);
    expect([0, 0xffff]).toContain(next);
    expect(onesSum(buf, 0, 4, next)).toBe(next === 0 ? 0 : 0xffff);
  });
});

describe("pseudo-header-aware L4 fix-ups", () => {
  /** A segment of `proto` with a valid checksum over IPv4 (src, dst). */
  function segment(proto: number, body: Uint8Array, src: number, dst: number): Uint8Array {
    const seg = Uint8Array.from(body);
    const at = proto === IPPROTO_TCP ? 16 : proto === IPPROTO_UDP ? 6 : 2;
    seg[at] = seg[at + 1] = 0;
    const c =
      proto === IPPROTO_ICMP
        ? internetChecksum(seg, 0, seg.length)
        : l4ChecksumIpv4(seg, 0, seg.length, src, dst, proto);
    seg[at] = c >>> 8;
    seg[at + 1] = c & 0xff;
    return seg;
  }
  const body = fc.uint8Array({ minLength: 20, maxLength: 80 });
  const addr = fc.nat(0xffffffff);

  it("fixL4ForIpv4Addr keeps TCP and UDP checksums valid after an address rewrite", () => {
    fc.assert(
      fc.property(
        fc.constantFrom(IPPROTO_TCP, IPPROTO_UDP),
        body,
        addr,
        addr,
        addr,
        (proto, b, s, d, s2) => {
          const seg = segment(proto, b, s, d);
          const csumAt = proto === IPPROTO_TCP ? 16 : 6;
          if (proto === IPPROTO_UDP && seg[csumAt] === 0 && seg[csumAt + 1] === 0)
            seg[csumAt + 1] = 0xff;
          fixL4ForIpv4Addr(seg, 0, seg.length, proto, s, s2);
          const sum = internetChecksum(seg, 0, seg.length, pseudoSumIpv4(s2, d, proto, seg.length));
          // A UDP checksum sent as 0xffff for a computed 0 verifies as 0 or 0xffff's twin.
          expect(
            sum === 0 ||
              (proto === IPPROTO_UDP && seg[csumAt] === 0xff && seg[csumAt + 1] === 0xff),
          ).toBe(true);
        },
      ),
    );
  });

  it("leaves a zero UDP checksum alone and never writes zero (RFC 768)", () => {
    const seg = new Uint8Array(8);
    fixL4ForIpv4Addr(seg, 0, 8, IPPROTO_UDP, 1, 2);
    expect(seg[6] | seg[7]).toBe(0);
    fc.assert(
      fc.property(body, addr, addr, addr, (b, s, d, s2) => {
        const seg2 = segment(IPPROTO_UDP, b, s, d);
        if ((seg2[6] | seg2[7]) === 0) return;
        fixL4ForIpv4Addr(seg2, 0, seg2.length, IPPROTO_UDP, s, s2);
        expect((seg2[6] << 8) | seg2[7]).not.toBe(0);
      }),
    );
  });

  it("does not touch ICMP over IPv4 on an address change, which has no pseudo-header", () => {
    const seg = segment(IPPROTO_ICMP, new Uint8Array(12).fill(3), 1, 2);
    const before = Uint8Array.from(seg);
    fixL4ForIpv4Addr(seg, 0, seg.length, IPPROTO_ICMP, 1, 99);
    expect(seg).toEqual(before);
  });

  it("fixL4ForField16 keeps the checksum valid after a port rewrite", () => {
    fc.assert(
      fc.property(
        fc.constantFrom(IPPROTO_TCP, IPPROTO_ICMP),
        body,
        addr,
        addr,
        fc.nat(0xffff),
        (proto, b, s, d, port) => {
          const seg = segment(proto, b, s, d);
          const old = (seg[0] << 8) | seg[1];
          seg[0] = port >>> 8;
          seg[1] = port & 0xff;
          fixL4ForField16(seg, 0, seg.length, proto, old, port);
          const init = proto === IPPROTO_ICMP ? 0 : pseudoSumIpv4(s, d, proto, seg.length);
          expect(internetChecksum(seg, 0, seg.length, init)).toBe(0);
        },
      ),
    );
  });

  it("fixL4ForIpv6Addr keeps an ICMPv6 checksum valid after an address rewrite", () => {
    fc.assert(
      fc.property(
        body,
        fc.uint8Array({ minLength: 32, maxLength: 32 }),
        fc.uint8Array({ minLength: 16, maxLength: 16 }),
        (b, addrs, src2) => {
          const seg = Uint8Array.from(b);
          seg[2] = seg[3] = 0;
          const c = l4ChecksumIpv6(seg, 0, seg.length, addrs, 0, 16, IPPROTO_ICMPV6);
          seg[2] = c >>> 8;
          seg[3] = c & 0xff;
          fixL4ForIpv6Addr(seg, 0, seg.length, IPPROTO_ICMPV6, addrs, 0, src2, 0);
          addrs.set(src2, 0);
          const fixed = (seg[2] << 8) | seg[3];
          seg[2] = seg[3] = 0;
          expect(fixed).toBe(l4ChecksumIpv6(seg, 0, seg.length, addrs, 0, 16, IPPROTO_ICMPV6));
        },
      ),
    );
  });
});
