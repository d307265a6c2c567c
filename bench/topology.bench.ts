/**
 * Topology benchmarks: a large overlay built and run in one process.
 *
 * - topology.start_1000x10_s: build and start 1,000 hypervisors × 10 VMs, all in one
 *   VXLAN overlay with one flow-based tunnel port per host (`remote_ip=flow`, steered
 *   by "vtep-in-ip" rules, a constant number per host) behind one underlay switch;
 *   wall seconds from `new Topology` to a running Network (target < 10 s).
 * - topology.rss_1000x10_mb: resident set size once that network runs (target
 *   < 4,096 MB).
 * - topology.pings_per_s: 10,000 one-request pings between seeded random VM pairs of
 *   that network, all in flight together, per wall second.
 * - topology.flow_setups_per_s: first packets — each a miss, an upcall, a translation
 *   (with MAC learning) and a megaflow install — per wall second: 10,000 new source
 *   MACs through one hypervisor's NORMAL bridge (target >= 200,000).
 * - topology.flow_setups_exact_per_s: the same with 10,000 UDP ports, one exact rule
 *   each, on a secure bridge.
 *
 * OVSIM_TOPO_HOSTS overrides the 1,000 hosts (for a quick look at smaller scales);
 * OVSIM_FLOW_SETUPS the 10,000 first packets.
 */

import type { HostRef, Network } from "../sim/index.js";
import { type PingSession, Rng, Topology } from "../sim/index.js";
import type { Figure } from "./harness.js";

const HOSTS = Number(process.env.OVSIM_TOPO_HOSTS ?? 1000);
const VMS_PER_HOST = 10;

/** VTEP 172.16.<h/250>.<h%250+1> hosts VMs 10.<h/250>.<h%250+1>.<v+1>: vtep-in-ip. */
function buildOverlay(hosts: number): Topology {
  const topo = new Topology({ seed: 1 });
  const refs: HostRef[] = [];
  for (let h = 0; h < hosts; h++) {
    const hi = Math.floor(h / 250);
    const lo = (h % 250) + 1;
    const hv = topo.host(`hv${h + 1}`, { underlay: `172.16.${hi}.${lo}/16` });
    hv.bridge("br-int").flowTunnel({ vni: 5000, steering: "vtep-in-ip" });
    for (let v = 0; v < VMS_PER_HOST; v++)
      hv.vm(`vm${h * VMS_PER_HOST + v}`, { ip: `10.${hi}.${lo}.${v + 1}/8` }).attach("br-int");
    refs.push(hv);
  }
  topo.underlaySwitch("fabric", refs);
  return topo;
}

let started: { net: Network; seconds: number; rssMb: number } | null = null;

async function startOverlay(): Promise<{ net: Network; seconds: number; rssMb: number }> {
  if (started) return started;
  const t0 = performance.now();
  const net = await buildOverlay(HOSTS).start();
  const seconds = (performance.now() - t0) / 1000;
  started = { net, seconds, rssMb: process.memoryUsage().rss / 2 ** 20 };
  return started;
}

async function pingsPerSecond(): Promise<number> {
  const { net } = await startOverlay();
  const rng = new Rng(42);
  const n = HOSTS * VMS_PER_HOST;
  const sessions: PingSession[] = [];
  let pending = 0;
  const finished = (): void => {
    pending--;
  };
  const t0 = performance.now();
  for (let i = 0; i < 10_000; i++) {
    const a = rng.nextU32() % n;
    let b = rng.nextU32() % n;
    if (b === a) b = (b + 1) % n;
    const s = net.vm(`vm${a}`).ping(net.ipOf(`vm${b}`), { count: 1, timeoutMs: 1000 });
    pending++;
    s.onDone = finished;
    sessions.push(s);
  }
  net.world.runUntil(() => pending === 0);
  const wall = (performance.now() - t0) / 1000;
  if (pending !== 0) throw new Error("pings did not finish");
  const received = sessions.reduce((acc, s) => acc + s.result.received, 0);
  // The 1,000-host world is done with: let it go, so the figures after this one
  // (flow setups on one small host) do not pay for collecting around its heap.
  await net.stop();
  started = null;
  if (received < sessions.length * 0.99)
    throw new Error(`only ${received} of ${sessions.length} pings were answered`);
  return sessions.length / wall;
}

/**
 * An Ethernet/IPv4/UDP frame from MAC 02:aa:<src> to `dst`, UDP destination `port`,
 * IPv4 10.0.0.1 -> 10.0.0.99 (an address no VM has, so nothing answers it).
 */
function frame(buf: Uint8Array, dst: Uint8Array, src: number, port: number): number {
  buf.fill(0);
  buf.set(dst, 0);
  buf.set([0x02, 0xaa, (src >>> 24) & 255, (src >>> 16) & 255, (src >>> 8) & 255, src & 255], 6);
  buf.set([0x08, 0x00], 12);
  const ip = 14;
  buf[ip] = 0x45;
  buf[ip + 3] = 20 + 8 + 18;
  buf[ip + 8] = 64;
  buf[ip + 9] = 17;
  buf.set([10, 0, 0, 1, 10, 0, 0, 99], ip + 12);
  const udp = ip + 20;
  buf[udp] = 0x30;
  buf[udp + 1] = 0x39;
  buf[udp + 2] = (port >>> 8) & 255;
  buf[udp + 3] = port & 255;
  buf[udp + 5] = 8 + 18;
  return udp + 8 + 18;
}

/**
 * N first packets on one hypervisor, each a new megaflow; returns setups per second.
 * - "normal": a standalone bridge (NORMAL); every packet has a new source MAC, so
 *   each one is learned and each is its own megaflow (OVS's classic learning-switch
 *   flow setup; tag-based revalidation keeps it linear).
 * - "exact": a secure bridge with one exact `udp,tp_dst=N` rule per port.
 * The bridge is set up first and N/2 other first packets warm the path up (untimed);
 * then the N frames are fed to the datapath in bursts of 256 and the upcalls serviced
 * (upcall cost 0: wall time is what counts).
 */
async function flowSetups(mode: "normal" | "exact"): Promise<number> {
  const N = Number(process.env.OVSIM_FLOW_SETUPS ?? 10_000);
  const topo = new Topology({ seed: 1 });
  const hv = topo.host("hv1", { underlay: "192.168.0.1/24" });
  hv.bridge("br0", { failMode: mode === "exact" ? "secure" : "standalone" });
  hv.vm("a", { ip: "10.0.0.1/24" }).attach("br0");
  hv.vm("b", { ip: "10.0.0.2/24" }).attach("br0");
  const net = await topo.start({ upcallCostNs: 0 });
  const host = net.host("hv1");
  // An untimed warm-up of WARM first packets (other MACs / ports) runs the same code
  // first, so the figure is the steady rate, not the JIT compiling the slow path.
  const WARM = N >> 1;
  if (mode === "exact")
    for (let p = 1; p <= N + WARM; p++)
      host.ofctl(`add-flow br0 priority=10,udp,tp_dst=${p},actions=output:tap-b`);
  const tap = host.vms.get("a")!.tapPort;
  const dst = host.vms.get("b")!.vnic.mac;
  const buf = new Uint8Array(128);
  if (mode === "normal") {
    // Room for every source MAC (OVS's default table holds 8,192).
    await host.vsctl(["set", "Bridge", "br0", `other_config:mac-table-size=${4 * N}`]);
    // b speaks first, so NORMAL knows where b is and forwards rather than floods.
    host.vms
      .get("b")!
      .tapPort.receive(buf, 0, frame(buf, Uint8Array.of(2, 0xaa, 0, 0, 0, 0), 0, 9));
  }
  net.run(1e9);
  const burst = (first: number, last: number): void => {
    for (let p = first; p <= last; p++) {
      tap.receive(buf, 0, frame(buf, dst, mode === "normal" ? p : 1, mode === "exact" ? p : 9));
      if ((p & 255) === 0) net.run(1_000_000);
    }
    net.run(1_000_000);
  };
  burst(N + 1, N + WARM);
  const before = host.dpif.stats().flows;
  const t0 = performance.now();
  burst(1, N);
  const wall = (performance.now() - t0) / 1000;
  const installed = host.dpif.stats().flows - before;
  await net.stop();
  if (installed < N)
    throw new Error(`only ${installed} of ${N} first packets installed a megaflow`);
  return installed / wall;
}

export const benchmarks: Figure[] = [
  {
    name: "topology.start_1000x10_s",
    unit: "s",
    measure: async () => (await startOverlay()).seconds,
  },
  {
    name: "topology.rss_1000x10_mb",
    unit: "MB",
    measure: async () => (await startOverlay()).rssMb,
  },
  { name: "topology.pings_per_s", unit: "pings/s", measure: pingsPerSecond },
  {
    name: "topology.flow_setups_per_s",
    unit: "flows/s",
    measure: () => flowSetups("normal"),
  },
  {
    name: "topology.flow_setups_exact_per_s",
    unit: "flows/s",
    measure: () => flowSetups("exact"),
  },
];
