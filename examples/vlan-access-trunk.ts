/**
 * VLAN access and trunk ports: two hypervisors, each with bridge br0; VMs sit on
 * access ports in VLAN 10 or 20, and the hosts' eth1 NICs are a trunk (802.1Q) carrying
 * both VLANs between the bridges. VMs in one VLAN reach each other across the trunk;
 * VLAN 10 never reaches VLAN 20 (the reachability matrix says so).
 *
 * Run: npx tsx examples/vlan-access-trunk.ts   (or: ovsim run examples/vlan-access-trunk.ts)
 */
import { pathToFileURL } from "node:url";
import { Topology } from "../sim/index.js";

export function build(): Topology {
  const topo = new Topology({ seed: 1 });
  const [hv1, hv2] = topo.hosts(["hv1", "hv2"], { underlay: "192.168.0.0/24" });
  for (const hv of [hv1!, hv2!]) hv.bridge("br0").uplink("eth1", { trunks: [10, 20] });
  topo.link("hv1:eth1", "hv2:eth1", { latency: "100us" });
  hv1!.vm("red1", { ip: "10.0.10.1/24" }).attach("br0", { tag: 10 });
  hv1!.vm("blue1", { ip: "10.0.20.1/24" }).attach("br0", { tag: 20 });
  hv2!.vm("red2", { ip: "10.0.10.2/24" }).attach("br0", { tag: 10 });
  hv2!.vm("blue2", { ip: "10.0.20.2/24" }).attach("br0", { tag: 20 });
  // Same subnet as red2 but in VLAN 20: must not reach it.
  hv2!.vm("stray", { ip: "10.0.10.9/24" }).attach("br0", { tag: 20 });
  return topo;
}

export default async function main(
  out: { write(s: string): unknown } = process.stdout,
): Promise<void> {
  const net = await build().start();
  const p = await net.ping("red1", "red2", { count: 3 });
  out.write(`red1 -> red2 (VLAN 10 over the trunk): ${p.received}/${p.transmitted} replies\n`);
  out.write(`${(await net.pingAll()).text}\n`);
  for (const h of ["hv1", "hv2"]) {
    out.write(`\n${h}: ovs-appctl dpctl/dump-flows\n${net.host(h).dpctlDumpFlows()}`);
    out.write(`${h}: ovs-appctl fdb/show br0\n${net.host(h).appctl("fdb/show br0")}`);
  }
  out.write(`\n${net.journey("red1", "red2").text}\n`);
  await net.stop();
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? "").href) await main();
