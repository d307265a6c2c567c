import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { ipv4 } from "../../sim/ip-address.js";
import { RouteTable } from "../../sim/route-table.js";

describe("RouteTable", () => {
  it("picks the longest matching prefix and its next hop, as a linear scan would", () => {
    fc.assert(
      fc.property(
        fc.array(
          fc.record({
            net: fc.integer({ min: 0, max: 0xffffffff }),
            len: fc.integer({ min: 0, max: 32 }),
            via: fc.option(fc.integer({ min: 1, max: 0xffffffff }), { nil: null }),
          }),
          { maxLength: 20 },
        ),
        fc.array(fc.integer({ min: 0, max: 0xffffffff }), { minLength: 1, maxLength: 20 }),
        (routes, dsts) => {
          const table = new RouteTable();
          routes.forEach((r, i) => {
            table.add(false, ipv4(r.net), r.len, i, `eth${i}`, r.via === null ? null : ipv4(r.via));
          });
          const mask = (len: number): number => (len === 0 ? 0 : (0xffffffff << (32 - len)) >>> 0);
          for (const d of dsts) {
            let best = -1;
            for (let i = 0; i < routes.length; i++) {
              const r = routes[i];
              const m = mask(r.len);
              if ((r.net & m) >>> 0 !== (d & m) >>> 0) continue;
              if (best < 0 || r.len > routes[best].len) best = i;
            }
            const w = ipv4(d).words;
            expect(table.lookup(false, w)).toBe(best);
            if (best >= 0) expect(table.nextHop[0]).toBe(routes[best].via ?? d);
          }
        },
      ),
    );
  });

  it("prints routes as ip route does, IPv4 first", () => {
    const t = new RouteTable();
    t.add(false, ipv4(0x0a000105), 24, 0, "h1-eth0", null);
    t.add(false, ipv4(0), 0, 0, "h1-eth0", ipv4(0x0a000101));
    expect(t.lines()).toEqual(["10.0.1.0/24 dev h1-eth0", "default via 10.0.1.1 dev h1-eth0"]);
  });
});
