import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { innerFlowHash, TNL_UDP_PORT_MAX, TNL_UDP_PORT_MIN, tunnelSrcPort } from "./_overlay.js";

describe("tunnel UDP source port", () => {
  it("always lies in the ephemeral range 32768..60999", () => {
    fc.assert(
      fc.property(fc.integer({ min: 0, max: 0xffffffff }), (h) => {
        const p = tunnelSrcPort(h);
        expect(p).toBeGreaterThanOrEqual(TNL_UDP_PORT_MIN);
        expect(p).toBeLessThan(TNL_UDP_PORT_MAX);
      }),
    );
    expect(tunnelSrcPort(0)).toBe(TNL_UDP_PORT_MIN);
    expect(tunnelSrcPort(0xffffffff)).toBe(TNL_UDP_PORT_MAX - 1);
  });

  it("depends on the inner 5-tuple but not on the payload", () => {
    fc.assert(
      fc.property(
        fc.uint8Array({ minLength: 64, maxLength: 64 }),
        fc.integer({ min: 42, max: 63 }),
        (f, at) => {
          f[12] = 0x08;
          f[13] = 0x00;
          f[14] = 0x45;
          f[20] = 0;
          f[21] = 0;
          f[23] = 17;
          const h = innerFlowHash(f, 0, 64);
          const g = f.slice();
          g[at] ^= 0xff;
          expect(innerFlowHash(g, 0, 64)).toBe(h);
          g[35] ^= 1; // UDP source port
          expect(innerFlowHash(g, 0, 64)).not.toBe(h);
        },
      ),
    );
  });
});
