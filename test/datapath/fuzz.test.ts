import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { parseOdpKey } from "../../datapath/index.js";
import { W_IN_PORT } from "../../packet/index.js";
import { makeDpif, tcp6Frame, tcpFrame, udpFrame } from "./helpers.js";

const EVERY_ACTION =
  "set(ipv4(src=1.2.3.4,ttl=3)),set(tcp(dst=1)),set(udp(src=2)),set(ipv6(src=::1,hlimit=2))," +
  "push_vlan(vid=1,pcp=0),set(eth(src=00:00:00:00:00:01)),pop_vlan,pop_vlan,trunc(60),2," +
  "clone(set(ipv4(tos=0x4)),3),sample(sample=50.0%,actions(set(udp(dst=9)),1)),userspace(pid=1,userdata(00)),1";

describe("datapath on hostile frames", () => {
  it("runs every action on random and corrupted frames without throwing, counting each one", () => {
    const seeds = [tcpFrame(), udpFrame(), tcp6Frame()];
    fc.assert(
      fc.property(
        fc.oneof(
          fc.uint8Array({ minLength: 0, maxLength: 200 }),
          fc
            .tuple(
              fc.constantFrom(...seeds),
              fc.array(fc.tuple(fc.nat(), fc.integer({ min: 0, max: 255 })), { maxLength: 8 }),
              fc.nat(),
            )
            .map(([f, flips, cut]) => {
              const g = Uint8Array.from(f);
              for (const [at, v] of flips) g[at % g.length] = v;
              return g.subarray(0, cut % (g.length + 1));
            }),
        ),
        (frame) => {
          const { dp, ports } = makeDpif(3, { upcallQueueDepth: 4 });
          const { key, mask } = parseOdpKey("in_port(1),eth()");
          mask.fill(0);
          mask[W_IN_PORT] = 0xffffffff;
          dp.flowPut(key, mask, EVERY_ACTION);
          dp.receive(1, frame, 0, frame.length);
          const st = dp.stats();
          expect(st.rxPackets).toBe(1);
          expect(st.hit + st.rxInvalid).toBe(1);
          if (st.hit === 1) expect(ports[2].frames).toHaveLength(1);
        },
      ),
      { numRuns: 2000 },
    );
  });
});
