/**
 * Fuzz: the endpoint stack must survive any frame a link can deliver. Real frames from
 * a busy run (ARP, ND, echo, UDP, ICMP errors from a router) are mutated at random
 * places; checksums are then repaired so that mutations reach the deep paths (ICMP
 * error parsing, ND options, UDP demux) instead of dying at the first check.
 */
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { internetChecksum, l4ChecksumIpv6 } from "../../packet/index.js";
import { FramePort } from "../../sim/frame-port.js";
import { World } from "../../sim/world.js";

/** Frames seen on h1's port during a run that exercises every protocol the stack speaks. */
function corpus(): Uint8Array[] {
  const world = new World();
  const h1 = world.endpoint("h1", {
    vnics: [
      { ipv4: "10.0.1.10/24", gateway4: "10.0.1.1", ipv6: "fd01::10/64", gateway6: "fd01::1" },
    ],
  });
  const r1 = world.endpoint("r1", {
    ipForward: true,
    vnics: [
      { ipv4: "10.0.1.1/24", ipv6: "fd01::1/64" },
      { ipv4: "10.0.2.1/24", ipv6: "fd02::1/64", mtu: 1300 },
    ],
  });
  const h2 = world.endpoint("h2", {
    vnics: [
      {
        ipv4: "10.0.2.10/24",
        gateway4: "10.0.2.1",
        ipv6: "fd02::10/64",
        gateway6: "fd02::1",
        mtu: 1300,
      },
    ],
  });
  const l1 = world.link(h1.vnics[0], r1.vnics[0], { latency: "1ms" });
  world.link(r1.vnics[1], h2.vnics[0], { latency: "1ms" });
  const frames: Uint8Array[] = [];
  l1.tap((kind, _from, f, o, l) => {
    if (kind === "tx") frames.push(f.slice(o, o + l));
  });
  h1.ping("10.0.2.10", { count: 2, intervalMs: 5 });
  h1.ping("fd02::10", { count: 2, intervalMs: 5 });
  h1.ping("10.0.2.10", { count: 1, size: 1400 });
  h1.ping("fd02::10", { count: 1, size: 1400 });
  h1.traceroute("10.0.2.10", { probes: 1 });
  h1.traceroute("fd02::10", { probes: 1 });
  h1.udpSocket().sendTo(new Uint8Array(20), "10.0.2.10", 9);
  world.runUntilIdle();
  return frames;
}

/** Repairs the IPv4 header, ICMP and ICMPv6 checksums (UDP's is zeroed over IPv4). */
function repair(f: Uint8Array): void {
  const type = (f[12] << 8) | f[13];
  if (type === 0x0800 && f.length >= 34) {
    const hl = (f[14] & 0xf) * 4;
    if (hl < 20 || 14 + hl > f.length) return;
    f[24] = f[25] = 0;
    const c = internetChecksum(f, 14, hl);
    f[24] = c >> 8;
    f[25] = c & 0xff;
    const total = Math.min((f[16] << 8) | f[17], f.length - 14);
    const l4 = 14 + hl;
    if (f[23] === 1 && total > hl + 4) {
      f[l4 + 2] = f[l4 + 3] = 0;
      const k = internetChecksum(f, l4, total - hl);
      f[l4 + 2] = k >> 8;
      f[l4 + 3] = k & 0xff;
    } else if (f[23] === 17 && total >= hl + 8) f[l4 + 6] = f[l4 + 7] = 0;
  } else if (type === 0x86dd && f.length >= 62 && f[20] === 58) {
    const len = Math.min((f[18] << 8) | f[19], f.length - 54);
    if (len < 4) return;
    f[56] = f[57] = 0;
    const k = l4ChecksumIpv6(f, 54, len, f, 22, 38, 58);
    f[56] = k >> 8;
    f[57] = k & 0xff;
  }
}

describe("endpoint stack under mutated frames", () => {
  const frames = corpus();

  it("has a corpus covering ARP, IPv4 and IPv6", () => {
    const types = new Set(frames.map((f) => (f[12] << 8) | f[13]));
    expect(types).toEqual(new Set([0x0806, 0x0800, 0x86dd]));
    expect(frames.length).toBeGreaterThan(20);
  });

  it("never throws, whatever bytes arrive", () => {
    const reached = {
      IcmpInMsgs: 0,
      IcmpInEchos: 0,
      UdpNoPorts: 0,
      NdInSolicits: 0,
      ArpInRequests: 0,
      IcmpInDestUnreachs: 0,
    };
    fc.assert(
      fc.property(
        fc.nat({ max: frames.length - 1 }),
        fc.array(fc.tuple(fc.nat(), fc.integer({ min: 0, max: 255 })), { maxLength: 4 }),
        fc.oneof(fc.constant(0), fc.integer({ min: -40, max: 0 })),
        fc.boolean(),
        (which, edits, trim, fix) => {
          const world = new World();
          // The receiver owns every address the corpus was sent to, so frames go deep.
          const h = world.endpoint("r1", {
            ipForward: true,
            vnics: [
              { ipv4: "10.0.1.1/24", ipv6: "fd01::1/64", mac: "02:00:00:00:00:02" },
              { ipv4: "10.0.2.10/24", ipv6: "fd02::10/64" },
              { ipv4: "10.0.1.10/24", ipv6: "fd01::10/64" },
            ],
          });
          const src = new FramePort("src", () => {});
          world.link(src, h.vnics[0]);
          const f = frames[which].slice(0, Math.max(14, frames[which].length + trim));
          // Unicast frames are readdressed to the receiver's MAC so they get past L2.
          if ((f[0] & 1) === 0) f.set([2, 0, 0, 0, 0, 2], 0);
          for (const [at, v] of edits) f[at % f.length] = v;
          if (fix) repair(f);
          src.transmit(f, 0, f.length);
          expect(() => world.runUntilIdle(100_000)).not.toThrow();
          for (const k of Object.keys(reached) as (keyof typeof reached)[])
            reached[k] += h.counters[k];
        },
      ),
      { numRuns: 3000 },
    );
    // The mutations reached every layer, not just the first checksum.
    for (const v of Object.values(reached)) expect(v).toBeGreaterThan(0);
  });
});
