// Two simulated hypervisors for overlay tests: each a Dpif with a VM endpoint on port 1
// and a tunnel vport on port 2, joined by a WireUnderlay link. Flows are hand-installed.
import { Dpif, parseOdpKey } from "../../datapath/index.js";
import { FramePort, World } from "../../sim/index.js";
import { TunnelStack } from "./_overlay.js";
import { joinUnderlay, WireUnderlay } from "./_wire-underlay.js";

const MAC_A = [0x02, 0, 0, 0, 0, 0xa];
const MAC_B = [0x02, 0, 0, 0, 0, 0xb];

export interface Host {
  dpif: Dpif;
  stack: TunnelStack;
  underlay: WireUnderlay;
}

/** A hypervisor: a Dpif with the VM on port 1 and a tunnel vport on port 2. */
export function hypervisor(
  world: World,
  name: string,
  vmIp: string,
  ulIp: string,
  mac: number[],
  peer: number[],
  vmMtu: number,
): Host & { vm: ReturnType<World["endpoint"]> } {
  const dpif = new Dpif({ name, clock: world });
  const stack = new TunnelStack({ name });
  stack.attach(dpif);
  const vm = world.endpoint(`vm-${name}`, { vnics: [{ ipv4: `${vmIp}/24`, mtu: vmMtu }] });
  const tap = new FramePort(`tap-${name}`, (f, o, l) => dpif.receive(1, f, o, l));
  dpif.addPort({ name: `tap-${name}`, type: "netdev", portNo: 1, port: tap });
  world.link(vm.vnics[0], tap, { mtu: 9000 });
  const underlay = new WireUnderlay(name, ulIp, mac, peer, stack);
  return { dpif, stack, underlay, vm };
}

export function tunnel(
  h: Host,
  type: string,
  remote: string,
  key: string | undefined,
  extra: Record<string, string> = {},
): void {
  h.dpif.addPort({
    name: `${type}0`,
    type,
    portNo: 2,
    options: { remote_ip: remote, ...(key !== undefined ? { key } : {}), ...extra },
  });
  // Hand-installed megaflows: VM → tunnel, tunnel → VM (what a NORMAL bridge would pick).
  dpctlAddFlow(h.dpif, "in_port(1),eth()", "2");
  dpctlAddFlow(h.dpif, "in_port(2),eth()", "1");
}

/** Installs a megaflow from dpctl text; wildcarded past L2, as a NORMAL-bridge flow would be. */
export function dpctlAddFlow(dpif: Dpif, keyText: string, actions: string): void {
  const { key, mask } = parseOdpKey(keyText);
  dpif.flowPut(key, mask, actions);
}

export function setup(
  type: string,
  keyA: string | undefined,
  keyB: string | undefined,
  vmMtu = 1500,
  extra: Record<string, string> = {},
) {
  const world = new World({ seed: 3 });
  const a = hypervisor(world, "hv1", "10.0.0.1", "192.168.1.1", MAC_A, MAC_B, vmMtu);
  const b = hypervisor(world, "hv2", "10.0.0.2", "192.168.1.2", MAC_B, MAC_A, vmMtu);
  joinUnderlay(world, a.underlay, b.underlay);
  tunnel(a, type, "192.168.1.2", keyA, extra);
  tunnel(b, type, "192.168.1.1", keyB, extra);
  return { world, a, b };
}

export function ping(
  world: World,
  from: { vm: ReturnType<World["endpoint"]> },
  to: string,
  size = 56,
) {
  const s = from.vm.ping(to, { count: 3, intervalMs: 100, size, timeoutMs: 500 });
  world.runUntilIdle();
  return s.result;
}
