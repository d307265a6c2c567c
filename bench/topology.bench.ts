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
 *   and a megaflow install — per wall second: 10,000 UDP ports, one exact rule each, on
 *   one hypervisor's secure bridge (target >= 200,000). (NORMAL with 10,000 new source
 *   MACs would measure MAC-learning revalidation instead.)
 *
 * OVSIM_TOPO_HOSTS overrides the 1,000 hosts (for a quick look at smaller scales).
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
  if (received < sessions.length * 0.99)
    throw new Error(`only ${received} of ${sessions.length} pings were answered`);
  return sessions.length / wall;
}

/** An Ethernet/IPv4/UDP frame to `dst` with UDP destination port `port`. */
function frame(buf: Uint8Array, dst: Uint8Array, port: number): number {
  buf.fill(0);
  buf.set(dst, 0);
  buf.set([0x02, 0xaa, 0, 0, 0, 1, 0x08, 0x00], 6);
  const ip = 14;
  buf[ip] = 0x45;
  buf[ip + 3] = 20 + 8 + 18;
  buf[ip + 8] = 64;
  buf[ip + 9] = 17;
  buf.set([10, 0, 0, 1, 10, 0, 0, 2], ip + 12);
  const udp = ip + 20;
  buf[udp] = 0x30;
  buf[udp + 1] = 0x39;
  buf[udp + 2] = (port >>> 8) & 255;
  buf[udp + 3] = port & 255;
  buf[udp + 5] = 8 + 18;
  return udp + 8 + 18;
}

/**
 * A secure bridge with one exact `udp,tp_dst=N` rule per port (so every megaflow
 * matches tp_dst exactly and each new port is a new megaflow); the rules are set up
 * untimed, then N first packets are fed to the datapath and the upcalls serviced.
 */
async function flowSetupsPerSecond(): Promise<number> {
  const N = 10_000;
  const topo = new Topology({ seed: 1 });
  const hv = topo.host("hv1", { underlay: "192.168.0.1/24" });
  hv.bridge("br0", { failMode: "secure" });
  hv.vm("a", { ip: "10.0.0.1/24" }).attach("br0");
  hv.vm("b", { ip: "10.0.0.2/24" }).attach("br0");
  const net = await topo.start({ upcallCostNs: 0 });
  const host = net.host("hv1");
  for (let p = 1; p <= N; p++)
    host.ofctl(`add-flow br0 priority=10,udp,tp_dst=${p},actions=output:tap-b`);
  net.run(1e9);
  const tap = host.vms.get("a")!.tapPort;
  const dst = host.vms.get("b")!.vnic.mac;
  const buf = new Uint8Array(128);
  const before = host.dpif.stats().flows;
  const t0 = performance.now();
  for (let p = 1; p <= N; p++) {
    tap.receive(buf, 0, frame(buf, dst, p));
    if ((p & 255) === 0) net.run(1_000_000);
  }
  net.run(1_000_000);
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
  { name: "topology.flow_setups_per_s", unit: "flows/s", measure: flowSetupsPerSecond },
];
