/**
 * Two hypervisors over VXLAN: hv1 and hv2 share a top-of-rack switch; each has an
 * integration bridge br-int with a VXLAN tunnel to the other (VNI 100), and one VM.
 * The demo pings vm1 -> vm2, prints both hosts' datapath flows (the megaflows the
 * ping installed, with tnl_push on the way out and tnl_pop on the way in), and the
 * journey of one more ping across VM taps, bridges, the tunnel and the underlay.
 *
 * Run: npx tsx examples/vxlan-two-hosts.ts   (or: ovsim run examples/vxlan-two-hosts.ts)
 */
import { pathToFileURL } from "node:url";
import { formatPing, Topology } from "../sim/index.js";

export function build(seed = 1): Topology {
  const topo = new Topology({ seed });
  const [hv1, hv2] = topo.hosts(["hv1", "hv2"], { underlay: "192.168.0.0/24" });
  topo.underlaySwitch("tor", [hv1!, hv2!], { latency: "50us", bandwidth: "10Gbps" });
  for (const hv of [hv1!, hv2!]) hv.bridge("br-int").vxlanMesh({ vni: 100 });
  hv1!.vm("vm1", { ip: "10.0.0.1/24" }).attach("br-int");
  hv2!.vm("vm2", { ip: "10.0.0.2/24" }).attach("br-int");
  return topo;
}

export default async function main(
  out: { write(s: string): unknown } = process.stdout,
): Promise<void> {
  const net = await build().start();
  const ping = await net.ping("vm1", "vm2", { count: 3 });
  out.write(`vm1$ ping -c 3 ${net.ipOf("vm2")}\n${formatPing(ping).join("\n")}\n`);
  for (const h of ["hv1", "hv2"])
    out.write(`\n${h}$ ovs-appctl dpctl/dump-flows\n${net.host(h).dpctlDumpFlows()}`);
  out.write(`\n${net.journey("vm1", "vm2").text}\n`);
  await net.stop();
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? "").href) await main();
