import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { Dpif } from "../../datapath/index.js";
import { buildFrame, W_IN_PORT } from "../../packet/index.js";
import { Ofproto, OfprotoDpif, xlate } from "../../vswitchd/index.js";

const MACS = [1, 2, 3].map((i) => Uint8Array.of(2, 0, 0, 0, 0, i));
const RULES = [
  "priority=10,dl_dst=02:00:00:00:00:02,actions=output:p2",
  "priority=10,dl_dst=02:00:00:00:00:03,actions=output:p3",
  "priority=20,ip,nw_dst=10.0.0.3,actions=drop",
  "priority=5,actions=NORMAL",
  "priority=15,in_port=p1,ip,actions=output:p3",
  "priority=30,udp,tp_dst=53,actions=output:p1",
];

function rig() {
  let now = 0;
  const clock = { nowNs: () => now };
  const dp = new Dpif({ clock, name: "ovs-netdev" });
  const of = new Ofproto({ nowNs: () => now });
  const b = of.addBridge("br0", "secure");
  const sink = { transmit: () => {} };
  dp.addPort({ name: "br0", type: "internal", portNo: b.ports.get(0xfffe)!.dpPort });
  const ports = ["p1", "p2", "p3"].map((name, i) => {
    const p = of.addPort("br0", { name, ofport: i + 1, type: "system" });
    dp.addPort({ name, type: "netdev", portNo: p.dpPort, port: sink });
    return p.dpPort!;
  });
  const ofdp = new OfprotoDpif(of, dp, { schedule: () => 1, cancel: () => true }, 0);
  dp.setUpcallHandler((u) => ofdp.handleUpcall(u));
  return { dp, of, b, ofdp, ports, advance: (ns: number) => (now += ns) };
}

function frame(src: number, dst: number, ipDst: number, udp: boolean): Uint8Array {
  return buildFrame({
    eth: { src: MACS[src]!, dst: MACS[dst]! },
    ipv4: { src: 0x0a000001 + src, dst: 0x0a000001 + ipDst },
    ...(udp
      ? { udp: { srcPort: 1000, dstPort: 53 } }
      : { tcp: { srcPort: 1000, dstPort: 80, flags: 0x10 } }),
    payload: new Uint8Array(4),
  });
}

/** Every installed megaflow's actions equal a fresh translation of its key. */
function consistent(r: ReturnType<typeof rig>): boolean {
  for (const f of r.dp.flowDump()) {
    const flow = f.key.slice();
    const hit = r.of.portByDp(flow[W_IN_PORT]!);
    if (!hit) return false;
    flow[W_IN_PORT] = hit.port.ofport;
    const t = xlate(r.of, hit.bridge, flow);
    if (r.dp.parseActionsCached(t.actions) !== f.actions) return false;
  }
  return true;
}

describe("ofproto-dpif upcalls and revalidation", () => {
  it("keeps every megaflow equal to a fresh translation across random flow-table edits", () => {
    const packet = fc.record({
      inPort: fc.integer({ min: 0, max: 2 }),
      dst: fc.integer({ min: 0, max: 2 }),
      ipDst: fc.integer({ min: 0, max: 2 }),
      udp: fc.boolean(),
    });
    const op = fc.oneof(
      fc.record({ add: fc.integer({ min: 0, max: RULES.length - 1 }) }),
      fc.record({ del: fc.integer({ min: 0, max: RULES.length - 1 }) }),
      fc.record({ pkts: fc.array(packet, { minLength: 1, maxLength: 6 }) }),
    );
    fc.assert(
      fc.property(fc.array(op, { minLength: 1, maxLength: 25 }), (ops) => {
        const r = rig();
        for (const o of ops) {
          if ("add" in o) r.b.addFlow(RULES[o.add]!, 0);
          else if ("del" in o) r.b.delFlows(RULES[o.del]!.replace(/,actions=.*$/, ""), true);
          else {
            for (const p of o.pkts) {
              const f = frame(p.inPort, p.dst, p.ipDst, p.udp);
              r.dp.receive(r.ports[p.inPort]!, f, 0, f.length);
            }
            r.dp.handleUpcalls();
            // The revalidation a MAC learnt during those upcalls asked for (the timer
            // stand-in here does not run it by itself).
            r.ofdp.revalidate();
            if (!consistent(r)) return false;
            continue;
          }
          r.ofdp.requestRevalidation();
          r.ofdp.revalidate();
          if (!consistent(r)) return false;
        }
        return consistent(r);
      }),
      { numRuns: 60, seed: 8 },
    );
  });

  it("credits each megaflow's packets to the rules that made it, once", () => {
    const r = rig();
    const rule = r.b.addFlow("priority=10,in_port=p1,actions=output:p2", 0);
    const f = frame(0, 1, 1, false);
    for (let i = 0; i < 5; i++) {
      r.dp.receive(r.ports[0]!, f, 0, f.length);
      r.dp.handleUpcalls();
    }
    r.ofdp.pushStats();
    r.ofdp.pushStats();
    expect(rule.nPackets).toBe(5);
    expect(rule.nBytes).toBe(5 * f.length);
    expect(r.ofdp.counters.installed).toBe(1);
  });

  it("evicts a megaflow idle for max-idle and keeps a busy one", () => {
    const r = rig();
    r.b.addFlow("priority=10,actions=output:p3", 0);
    r.ofdp.maxIdleMs = 1000;
    const a = frame(0, 2, 2, false);
    const b = frame(1, 2, 2, false);
    r.dp.receive(r.ports[0]!, a, 0, a.length);
    r.dp.receive(r.ports[1]!, b, 0, b.length);
    r.dp.handleUpcalls();
    expect(r.dp.stats().flows).toBe(2);
    r.advance(600e6);
    r.dp.receive(r.ports[1]!, b, 0, b.length);
    r.advance(600e6);
    r.ofdp.revalidate();
    expect(r.dp.stats().flows).toBe(1);
    expect(r.ofdp.counters.evicted).toBe(1);
  });

  it("counts an upcall from a port no bridge owns and installs nothing", () => {
    const r = rig();
    r.dp.addPort({ name: "stray", type: "netdev", portNo: 40, port: { transmit: () => {} } });
    const f = frame(0, 1, 1, false);
    r.dp.receive(40, f, 0, f.length);
    r.dp.handleUpcalls();
    expect(r.ofdp.counters.noPort).toBe(1);
    expect(r.dp.stats().flows).toBe(0);
  });
});

describe("stats of deleted megaflows", () => {
  it("are credited to the rule when revalidation deletes the megaflow", () => {
    const r = rig();
    const rule = r.b.addFlow("priority=10,in_port=p1,actions=output:p2", 0);
    const f = frame(0, 1, 1, false);
    for (let i = 0; i < 4; i++) {
      r.dp.receive(r.ports[0]!, f, 0, f.length);
      r.dp.handleUpcalls();
    }
    // A higher-priority rule changes the translation: the megaflow is modified or
    // deleted, and its 3 datapath hits must not be lost.
    r.b.addFlow("priority=20,in_port=p1,actions=drop", 0);
    r.ofdp.requestRevalidation();
    r.ofdp.revalidate();
    expect(rule.nPackets).toBe(4);
  });
});

/** A UDP frame from MAC 02:00:00:00:01:<src> to `dst` (an index, or -1: broadcast). */
function macFrame(src: number, dst: number): Uint8Array {
  const mac = (i: number) =>
    i < 0
      ? Uint8Array.of(255, 255, 255, 255, 255, 255)
      : Uint8Array.of(2, 0, 0, 0, 1 + (i >> 8), i & 255);
  return buildFrame({
    eth: { src: mac(src), dst: mac(dst) },
    ipv4: { src: 0x0a000001, dst: 0x0a000002 },
    udp: { srcPort: 1000, dstPort: 2000 },
    payload: new Uint8Array(4),
  });
}

describe("MAC learning revalidation by tags", () => {
  it("costs O(N) translations to learn N new MACs, each megaflow staying exact", () => {
    const r = rig();
    r.b.addFlow("priority=0,actions=NORMAL", 0);
    const n = 300;
    // Host i sends to host i+1 before i+1 has spoken: each megaflow floods, and the
    // next learn must fix exactly the one megaflow that flooded for it.
    for (let i = 0; i < n; i++) {
      const f = macFrame(i, i + 1);
      r.dp.receive(r.ports[i % 3]!, f, 0, f.length);
      r.dp.handleUpcalls();
      r.ofdp.revalidate();
    }
    expect(consistent(r)).toBe(true);
    expect(r.ofdp.counters.installed).toBe(n);
    // One translation per upcall plus at most one re-translation per learned MAC
    // (a full re-translation per learn would be about n * n / 2).
    expect(r.ofdp.counters.xlates).toBeLessThanOrEqual(2 * n + 3);
    expect(r.ofdp.counters.revalidated).toBeGreaterThan(0);
  });

  it("keeps every megaflow equal to a fresh translation across MAC learns, moves, flushes and aging", () => {
    const op = fc.oneof(
      fc.record({
        inPort: fc.integer({ min: 0, max: 2 }),
        src: fc.integer({ min: 0, max: 4 }),
        dst: fc.integer({ min: -1, max: 4 }),
      }),
      fc.record({ advanceMs: fc.integer({ min: 100, max: 1500 }) }),
      fc.record({ flushPort: fc.integer({ min: 1, max: 3 }) }),
      fc.record({ flushAll: fc.constant(true) }),
      fc.record({ rule: fc.integer({ min: 0, max: RULES.length - 1 }) }),
    );
    fc.assert(
      fc.property(fc.array(op, { minLength: 1, maxLength: 40 }), (ops) => {
        const r = rig();
        r.b.addFlow("priority=5,actions=NORMAL", 0);
        r.b.mac.agingS = 2;
        for (const o of ops) {
          if ("inPort" in o) {
            const f = macFrame(o.src, o.dst);
            r.dp.receive(r.ports[o.inPort]!, f, 0, f.length);
            r.dp.handleUpcalls();
          } else if ("advanceMs" in o) r.advance(o.advanceMs * 1e6);
          else if ("flushPort" in o) r.b.mac.flushPort(o.flushPort);
          else if ("flushAll" in o) r.b.mac.flush();
          else {
            r.b.addFlow(RULES[o.rule]!, 0);
            r.ofdp.requestRevalidation();
          }
          r.ofdp.revalidate();
          if (!consistent(r)) return false;
        }
        return true;
      }),
      { numRuns: 80, seed: 11 },
    );
  });
});
