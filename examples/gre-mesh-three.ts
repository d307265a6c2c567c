/**
 * A GRE mesh of three hypervisors: every host reaches the other two through one
 * flow-based GRE port (key 42, `remote_ip=flow`), steered per destination VM by flows,
 * as OVN does; two VMs per host, all in one L2 segment. pingAll shows full
 * reachability; the datapath flows show each GRE packet's tun_dst chosen by flow.
 *
 * Why not one GRE port per peer with NORMAL switching? With three or more hosts that
 * loops: OVS's NORMAL action floods a broadcast that came in on one tunnel out of the
 * others (it has no split horizon), so real deployments steer tunnels with flows
 * (Neutron's br-tun, OVN). validateTopology refuses such a mesh on a bridge without
 * flows.
 *
 * Run: npx tsx examples/gre-mesh-three.ts
 */
import { pathToFileURL } from "node:url";
import { Topology } from "../sim/index.js";

export function build(seed = 1): Topology {
  const topo = new Topology({ seed });
  const hosts = topo.hosts(["hv1", "hv2", "hv3"], { underlay: "192.168.0.0/24" });
  topo.underlaySwitch("tor", hosts, { latency: "20us", bandwidth: "10Gbps" });
  hosts.forEach((hv, i) => {
    hv.bridge("br-int").flowTunnel({ type: "gre", vni: 42 });
    hv.vm(`vm${2 * i + 1}`, { ip: `10.0.0.${2 * i + 1}/24` }).attach("br-int");
    hv.vm(`vm${2 * i + 2}`, { ip: `10.0.0.${2 * i + 2}/24` }).attach("br-int");
  });
  return topo;
}

export default async function main(
  out: { write(s: string): unknown } = process.stdout,
): Promise<void> {
  const net = await build().start();
  out.write(`${(await net.pingAll()).text}\n`);
  out.write(`\nhv1$ ovs-appctl fdb/show br-int\n${net.host("hv1").appctl("fdb/show br-int")}`);
  out.write(`\nhv1$ ovs-appctl dpctl/dump-flows\n${net.host("hv1").dpctlDumpFlows()}`);
  out.write(`\n${net.journey("vm1", "vm6").text}\n`);
  await net.stop();
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? "").href) await main();
