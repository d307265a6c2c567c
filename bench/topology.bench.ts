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
 *   MACs through one hypervisor's NORMAL bridge (target >= 200,000); the median of
 *   three rounds after an untimed one (see flowSetups).
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
  // The 1,000-host world is done with: let it go (later benchmark files need the memory).
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
 * First packets through one hypervisor, each a new megaflow:
 * - "normal": a standalone bridge (NORMAL); every packet has a new source MAC, so
 *   each one is learned and each is its own megaflow (OVS's classic learning-switch
 *   flow setup; tag-based revalidation keeps it linear).
 * - "exact": a secure bridge with one exact `udp,tp_dst=N` rule per port.
 * A round feeds N frames to the datapath in bursts of 256 and services the upcalls
 * (upcall cost 0: wall time is what counts). The hypervisor runs WARMUP_ROUNDS untimed
 * rounds first, so V8 has compiled the slow path (a real ovs-vswitchd is long past start-up
 * when flows set up); before every round `dpctl/del-flows` and `fdb/flush` empty the
 * datapath and the MAC table, so each round starts from the same state. The figure is
 * the median of FLOW_SETUP_ROUNDS timed rounds.
 */
const FLOW_SETUP_ROUNDS = 3;
const WARMUP_ROUNDS = 2;

async function flowSetups(mode: "normal" | "exact"): Promise<number> {
  const N = Number(process.env.OVSIM_FLOW_SETUPS ?? 10_000);
  const topo = new Topology({ seed: 1 });
  const hv = topo.host("hv1", { underlay: "192.168.0.1/24" });
  hv.bridge("br0", { failMode: mode === "exact" ? "secure" : "standalone" });
  hv.vm("a", { ip: "10.0.0.1/24" }).attach("br0");
  hv.vm("b", { ip: "10.0.0.2/24" }).attach("br0");
  const net = await topo.start({ upcallCostNs: 0 });
  const host = net.host("hv1");
  if (mode === "exact")
    for (let p = 1; p <= N; p++)
      host.ofctl(`add-flow br0 priority=10,udp,tp_dst=${p},actions=output:tap-b`);
  // Room for every source MAC (OVS's default table holds 8,192).
  if (mode === "normal")
    await host.vsctl(["set", "Bridge", "br0", `other_config:mac-table-size=${4 * N}`]);
  const tap = host.vms.get("a")!.tapPort;
  const dst = host.vms.get("b")!.vnic.mac;
  const buf = new Uint8Array(128);
  const round = (): number => {
    host.appctl("dpctl/del-flows");
    host.appctl("fdb/flush");
    // b speaks first (from its own MAC), so NORMAL knows where b is and forwards
    // rather than floods.
    if (mode === "normal") {
      const len = frame(buf, Uint8Array.of(2, 0xaa, 0, 0, 0, 0), 0, 9);
      buf.set(dst, 6);
      host.vms.get("b")!.tapPort.receive(buf, 0, len);
    }
    net.run(1e9);
    const before = host.dpif.stats().flows;
    const t0 = performance.now();
    for (let p = 1; p <= N; p++) {
      tap.receive(buf, 0, frame(buf, dst, mode === "normal" ? p : 1, mode === "exact" ? p : 9));
      if ((p & 255) === 0) net.run(1_000_000);
    }
    net.run(1_000_000);
    const wall = (performance.now() - t0) / 1000;
    const installed = host.dpif.stats().flows - before;
    if (installed < N)
      throw new Error(`only ${installed} of ${N} first packets installed a megaflow`);
    return installed / wall;
  };
  for (let i = 0; i < WARMUP_ROUNDS; i++) round();
  const rates: number[] = [];
  for (let i = 0; i < FLOW_SETUP_ROUNDS; i++) rates.push(round());
  await net.stop();
  process.stderr.write(
    `flow_setups ${mode}: ${rates.map((r) => Math.round(r)).join(" ")} flows/s (median taken)\n`,
  );
  return rates.sort((a, b) => a - b)[FLOW_SETUP_ROUNDS >> 1]!;
}

// The flow-setup figures run first: after the 1,000-host world the process still
// collects its ~2 GB heap, and major GCs of it would land in their timed rounds.
export const benchmarks: Figure[] = [
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
];
