import fc from "fast-check";
import { describe, expect, it } from "vitest";
import {
  formatIpv4,
  formatIpv4Masked,
  formatIpv6,
  formatIpv6Masked,
  formatMac,
  formatMacMasked,
  ipv4CidrLength,
  ipv6CidrLength,
  parseIpv4,
  parseIpv6,
  parseMac,
} from "../../packet/address.js";

function v6(text: string): Uint32Array {
  const out = new Uint32Array(4);
  if (!parseIpv6(text, out)) throw new Error(`test address ${text} did not parse`);
  return out;
}

describe("MAC addresses", () => {
  it("formats the (hi16, lo32) pair as six lower-case hex bytes", () => {
    expect(formatMac(0x0011, 0x2233aabb)).toBe("00:11:22:33:aa:bb");
    expect(formatMac(0xffff, 0xffffffff)).toBe("ff:ff:ff:ff:ff:ff");
  });

  it("prints a masked MAC as address/mask unless the mask is exact", () => {
    expect(formatMacMasked(0x0100, 0, 0x0100, 0)).toBe("01:00:00:00:00:00/01:00:00:00:00:00");
    expect(formatMacMasked(0x0100, 5, 0xffff, 0xffffffff)).toBe("01:00:00:00:00:05");
  });

  it("parses one- or two-digit hex bytes and rejects anything else", () => {
    expect(parseMac("0:1:22:33:aa:BB")).toEqual([0x0001, 0x2233aabb]);
    expect(parseMac("00:11:22:33:44")).toBeUndefined();
    expect(parseMac("00:11:22:33:44:5g")).toBeUndefined();
    expect(parseMac("000:11:22:33:44:55")).toBeUndefined();
  });

  it("round-trips every address through format and parse", () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 0, max: 0xffff }),
        fc.integer({ min: 0, max: 0xffffffff }),
        (hi, lo) => {
          expect(parseMac(formatMac(hi, lo))).toEqual([hi, lo]);
        },
      ),
    );
  });
});

describe("IPv4 addresses", () => {
  it("formats dotted quads and parses them back", () => {
    expect(formatIpv4(0x0a000001)).toBe("10.0.0.1");
    expect(formatIpv4(0xffffffff)).toBe("255.255.255.255");
    expect(parseIpv4("192.168.1.254")).toBe(0xc0a801fe);
    expect(parseIpv4("256.1.1.1")).toBeUndefined();
    expect(parseIpv4("1.2.3")).toBeUndefined();
  });

  it("prints a CIDR mask as a prefix length and any other mask in dotted form", () => {
    expect(formatIpv4Masked(0x0a000000, 0xffffff00)).toBe("10.0.0.0/24");
    expect(formatIpv4Masked(0x0a000001, 0xffffffff)).toBe("10.0.0.1");
    expect(formatIpv4Masked(0, 0)).toBe("0.0.0.0/0");
    expect(formatIpv4Masked(0x01000300, 0xff00ff00)).toBe("1.0.3.0/255.0.255.0");
  });

  it("recognises exactly the ones-then-zeros masks as CIDR", () => {
    for (let len = 0; len <= 32; len++) {
      const mask = len === 0 ? 0 : (0xffffffff << (32 - len)) >>> 0;
      expect(ipv4CidrLength(mask)).toBe(len);
    }
    expect(ipv4CidrLength(0xff00ff00)).toBe(-1);
    expect(ipv4CidrLength(0x7fffffff)).toBe(-1);
  });

  it("round-trips every address through format and parse", () => {
    fc.assert(
      fc.property(fc.integer({ min: 0, max: 0xffffffff }), (a) => {
        expect(parseIpv4(formatIpv4(a))).toBe(a);
      }),
    );
  });
});

describe("IPv6 addresses", () => {
  // Each pair is what glibc's inet_ntop() (which OVS calls) prints for the input.
  const glibc: [string, string][] = [
    ["0:0:0:0:0:0:0:0", "::"],
    ["0:0:0:0:0:0:0:1", "::1"],
    ["0:0:0:0:0:0:0:2", "::2"],
    ["1:0:0:0:0:0:0:0", "1::"],
    ["1:0:0:1:0:0:0:1", "1:0:0:1::1"],
    ["1:0:1:0:1:0:1:0", "1:0:1:0:1:0:1:0"],
    ["1:2:3:4:5:6:7:0", "1:2:3:4:5:6:7:0"],
    ["0:0:0:0:0:1:0:0", "::1:0:0"],
    ["0:0:0:0:0:ffff:102:304", "::ffff:1.2.3.4"],
    ["0:0:0:0:0:ffff:0:0", "::ffff:0.0.0.0"],
    ["0:0:0:0:0:0:102:304", "::1.2.3.4"],
    ["0:0:0:0:0:0:1:2", "::0.1.0.2"],
    ["0:0:0:0:ffff:1:2:3", "::ffff:1:2:3"],
    ["0:0:0:1:0:0:0:0", "0:0:0:1::"],
    ["2001:db8:0:0:1:0:0:1", "2001:db8::1:0:0:1"],
    ["2001:DB8:0:1:0:0:0:2", "2001:db8:0:1::2"],
    ["fe80:0:0:0:0:0:0:1", "fe80::1"],
    ["ff02:0:0:0:0:1:ff00:1", "ff02::1:ff00:1"],
  ];
  for (const [input, expected] of glibc) {
    it(`formats ${input} as ${expected}, as inet_ntop does`, () => {
      expect(formatIpv6(v6(input))).toBe(expected);
    });
  }

  it("parses the compressed and dotted forms and rejects malformed text", () => {
    expect([...v6("::ffff:1.2.3.4")]).toEqual([0, 0, 0xffff, 0x01020304]);
    expect([...v6("2001:db8::")]).toEqual([0x20010db8, 0, 0, 0]);
    const out = new Uint32Array(4);
    for (const bad of [
      "1:::2",
      "1::2::3",
      "12345::",
      "1:2:3:4:5:6:7:8:9",
      "::1.2.3",
      ":1::",
      "g::",
      "",
    ]) {
      expect(parseIpv6(bad, out)).toBe(false);
    }
  });

  it("prints CIDR masks as a prefix length and other masks as an address", () => {
    expect(formatIpv6Masked(v6("2001:db8::"), 0, v6("ffff:ffff::"), 0)).toBe("2001:db8::/32");
    expect(formatIpv6Masked(v6("::1"), 0, v6("::ffff"), 0)).toBe("::1/::ffff");
    expect(formatIpv6Masked(v6("::1"), 0, v6("ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff"), 0)).toBe(
      "::1",
    );
    expect(ipv6CidrLength(v6("ffff:ffff:ffff:ffff:8000::"))).toBe(65);
    expect(ipv6CidrLength(v6("ffff::1"))).toBe(-1);
  });

  it("round-trips every address through format and parse", () => {
    const word = fc.oneof(
      fc.constant(0),
      fc.constant(0xffff),
      fc.integer({ min: 0, max: 0xffffffff }),
    );
    fc.assert(
      fc.property(fc.array(word, { minLength: 4, maxLength: 4 }), (ws) => {
        const a = Uint32Array.from(ws);
        const b = new Uint32Array(4);
        expect(parseIpv6(formatIpv6(a), b)).toBe(true);
        expect([...b]).toEqual([...a]);
      }),
      { numRuns: 2000 },
    );
  });
});
