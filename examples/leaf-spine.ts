/**
 * A leaf-spine underlay with 8 hypervisors and 64 VMs: 4 leaf switches with 2
 * hypervisors each, 2 spine routers on every leaf subnet; every hypervisor's br-int has
 * one flow-based VXLAN port (`options:remote_ip=flow`, VNI 5000) steered by flows,
 * as OVN and Antrea do, and 8 VMs. The demo pings across racks, takes a leaf's host
 * link down and up again, and shows the journey of one packet through both leaves
 * and a spine.
 *
 * Run: npx tsx examples/leaf-spine.ts
 */
import { pathToFileURL } from "node:url";
import { Topology } from "../sim/index.js";

export function build(seed = 1): Topology {
  const topo = new Topology({ seed });
  const hosts = topo.leafSpine({
    leaves: 4,
    spines: 2,
    hostsPerLeaf: 2,
    link: { latency: "5us", bandwidth: "25Gbps" },
    uplink: { latency: "5us", bandwidth: "100Gbps" },
  });
  hosts.forEach((hv, h) => {
    hv.bridge("br-int").flowTunnel({ type: "vxlan", vni: 5000 });
    for (let v = 0; v < 8; v++)
      hv.vm(`vm${h * 8 + v + 1}`, { ip: `10.10.${h}.${v + 1}/16` }).attach("br-int");
  });
  return topo;
}

export default async function main(
  out: { write(s: string): unknown } = process.stdout,
): Promise<void> {
  const net = await build().start();
  const p = await net.ping("vm1", "vm64", { count: 3 });
  out.write(`vm1 -> vm64 (rack 1 -> rack 4): ${p.received}/${p.transmitted}\n`);
  net.linkDown("hv8");
  const down = await net.ping("vm1", "vm64", { count: 2 });
  out.write(`hv8's link down: ${down.received}/${down.transmitted}\n`);
  net.linkUp("hv8");
  const up = await net.ping("vm1", "vm64", { count: 2 });
  out.write(`hv8's link up again: ${up.received}/${up.transmitted}\n`);
  out.write(`\n${net.journey("vm1", "vm64").text}\n`);
  await net.stop();
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? "").href) await main();
