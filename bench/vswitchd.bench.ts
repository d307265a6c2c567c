/**
 * Running-switch benchmarks (issue 8, vswitchd half):
 * - vswitchd.flow_setups_per_s: first packets handled end to end by the slow path —
 *   datapath miss, upcall, xlate through a two-rule table, megaflow install (flowPut),
 *   execute — per second of wall time, one thread. Every packet has a new Ethernet source
 *   that the table looks at, so every packet makes a new megaflow.
 * - vswitchd.revalidate_10k_ms: one full revalidation pass (re-translate, compare,
 *   push stats) over 10,000 installed megaflows, in ms.
 */
import { Dpif } from "../datapath/index.js";
import { buildFrame } from "../packet/index.js";
import { Ofproto, OfprotoDpif } from "../vswitchd/index.js";
import { type Figure, rate } from "./harness.js";

const MAC2 = Uint8Array.of(2, 0, 0, 0, 0, 2);

function setup() {
  const clock = { nowNs: () => 0 };
  const dp = new Dpif({ clock, upcallQueueDepth: 4096 });
  const of = new Ofproto({ nowNs: () => 0, tnlPushPop: true });
  of.addBridge("br0", "secure");
  const p1 = of.addPort("br0", { name: "p1", ofport: 1, type: "system" });
  const p2 = of.addPort("br0", { name: "p2", ofport: 2, type: "system" });
  const sink = { transmit: () => {} };
  dp.addPort({
    name: "br0",
    type: "internal",
    portNo: of.bridge("br0")!.ports.get(0xfffe)!.dpPort,
  });
  dp.addPort({ name: "p1", type: "netdev", portNo: p1.dpPort, port: sink });
  dp.addPort({ name: "p2", type: "netdev", portNo: p2.dpPort, port: sink });
  const b = of.mustBridge("br0");
  b.addFlow("priority=20,dl_src=02:ff:00:00:00:01,actions=drop", 0);
  b.addFlow("priority=10,in_port=p1,actions=output:p2", 0);
  const timers = { schedule: () => 1, cancel: () => true };
  const ofdp = new OfprotoDpif(of, dp, timers, 0);
  dp.setUpcallHandler((u) => ofdp.handleUpcall(u));
  const frames: Uint8Array[] = [];
  for (let i = 0; i < 60000; i++) {
    frames.push(
      buildFrame({
        eth: { src: Uint8Array.of(2, 0, 0, (i >> 16) & 255, (i >> 8) & 255, i & 255), dst: MAC2 },
        ipv4: { src: 0x0a000001, dst: 0x0a000002 },
        tcp: { srcPort: 1024 + i, dstPort: 80, flags: 0x10 },
        payload: new Uint8Array(10),
      }),
    );
  }
  return { dp, ofdp, frames, inPort: p1.dpPort! };
}

async function flowSetups(): Promise<number> {
  let s = setup();
  let i = 0;
  return rate(() => {
    if (i + 32 > s.frames.length) {
      s = setup();
      i = 0;
    }
    for (let k = 0; k < 32; k++, i++) {
      const f = s.frames[i]!;
      s.dp.receive(s.inPort, f, 0, f.length);
    }
    s.dp.handleUpcalls();
  }, 32);
}

function revalidate10k(): number {
  const s = setup();
  for (let i = 0; i < 10000; i++) {
    const f = s.frames[i]!;
    s.dp.receive(s.inPort, f, 0, f.length);
    if (s.dp.pendingUpcalls >= 512) s.dp.handleUpcalls();
  }
  s.dp.handleUpcalls();
  const runs = 5;
  const t0 = performance.now();
  for (let r = 0; r < runs; r++) {
    s.ofdp.requestRevalidation();
    s.ofdp.revalidate();
  }
  return (performance.now() - t0) / runs;
}

export const benchmarks: Figure[] = [
  { name: "vswitchd.flow_setups_per_s", unit: "setups/s", measure: flowSetups },
  { name: "vswitchd.revalidate_10k_ms", unit: "ms", measure: revalidate10k },
];
