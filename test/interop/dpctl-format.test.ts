/**
 * ovsim's datapath flow text against Open vSwitch 3.1's own: the same flow is
 * installed with `ovs-appctl dpctl/add-flow` in a real ovs-vswitchd (dummy datapath, in
 * a temp dir with its own ovsdb-server) and with ovsim's dpctlAddFlow, and both
 * `dpctl/dump-flows` lines must be identical. Inputs OVS rejects must be rejected too.
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { Dpif, dpctlAddFlow, formatDumpFlows } from "../../datapath/index.js";
import { tcpFrame } from "../datapath/helpers.js";
import { DummyOvs, dummyOvsMissing } from "./dummy-ovs.js";

const missing = dummyOvsMissing();
const available = missing.length === 0;
if (!available)
  console.warn(
    `skipping dpctl format interop: ${missing.join(", ")} not available (apt-get install openvswitch-switch)`,
  );

/** [key, actions] pairs OVS accepts; ovsim must print exactly what OVS prints. */
const FLOWS: [string, string][] = [
  [
    "in_port(1),eth(src=00:00:00:00:00:01,dst=00:00:00:00:00:02),eth_type(0x0800),ipv4(src=10.0.0.1,dst=10.0.0.0/255.255.255.0,proto=6,tos=0,ttl=64,frag=no),tcp(src=80,dst=0x100/0xff00)",
    "set(ipv4(src=10.0.0.1,ttl=63)),push_vlan(vid=10,pcp=0),2",
  ],
  ["in_port(2),eth(),eth_type(0x0806),arp(op=1)", "1"],
  [
    "in_port(2),eth(),eth_type(0x86dd),ipv6(src=::1,dst=fe80::/ffff::,proto=17,frag=no),udp(dst=53)",
    "set(udp(src=1)),userspace(pid=0,slow_path(action))",
  ],
  [
    "recirc_id(5),in_port(1),eth(),eth_type(0x0800),ipv4(frag=no)",
    "set(tunnel(tun_id=0x64,dst=192.168.1.2,ttl=64,tp_dst=4789,flags(df|key))),100",
  ],
  [
    "in_port(1),eth(),eth_type(0x0800),ipv4(proto=1,frag=no),icmp(type=8,code=0)",
    "tnl_push(tnl_port(4789),header(size=50,type=4,eth(dst=00:00:00:00:00:02,src=00:00:00:00:00:01,dl_type=0x0800),ipv4(src=1.1.1.1,dst=2.2.2.2,proto=17,tos=0,ttl=64,frag=0x4000),udp(src=0,dst=4789,csum=0x0),vxlan(flags=0x8000000,vni=0x64)),out_port(100))",
  ],
  [
    "in_port(1),eth(),eth_type(0x0800),ipv4(proto=6,frag=no),tcp(),tcp_flags(syn|ack)",
    "pop_vlan,2",
  ],
  [
    "in_port(1),eth(),eth_type(0x0800),ipv4(proto=6,frag=no),tcp(),tcp_flags(+syn-ack)",
    "trunc(100),2",
  ],
  [
    "in_port(1),eth(),eth_type(0x8100),vlan(vid=10,pcp=0),encap(eth_type(0x0800),ipv4(frag=no))",
    "clone(set(ipv4(ttl=1)),2),recirc(5)",
  ],
  [
    "in_port(1),eth(),eth_type(0x0806),arp(sip=1.1.1.1,tip=2.2.2.0/255.255.255.0,op=1,sha=00:00:00:00:00:01,tha=00:00:00:00:00:00)",
    "sample(sample=50.0%,actions(2))",
  ],
  [
    "in_port(1),eth(),eth_type(0x0800),ipv4(tos=0x4/0xfc,ttl=3/0xf,frag=no)",
    "push_vlan(tpid=0x88a8,vid=10,pcp=3)",
  ],
  [
    "in_port(1),eth(),eth_type(0x0800),ipv4(proto=17,frag=no),udp(src=1/0xf)",
    "set(ipv4(src=1.2.3.4/255.255.0.0))",
  ],
  [
    "in_port(1),eth(),eth_type(0x86dd),ipv6(label=0x5/0xff,tclass=0x3,hlimit=4,frag=no)",
    "set(eth(src=00:00:00:00:00:05,dst=00:00:00:00:00:06/ff:ff:ff:00:00:00)),set(ipv6(src=::2,hlimit=3))",
  ],
  [
    "in_port(1),eth(),eth_type(0x86dd),ipv6(proto=58,frag=no),icmpv6(type=135,code=0),nd(target=::1,sll=00:00:00:00:00:01)",
    "userspace(pid=3,userdata(01020304)),tnl_pop(100)",
  ],
  ["in_port(1),eth(),eth_type(0x0800),ipv4(proto=6,frag=no),tcp()", "drop"],
  [
    "in_port(2),eth(src=00:00:00:00:00:01/ff:ff:ff:00:00:00),eth_type(0x0800),ipv4(frag=no)",
    "push_vlan(vid=10,pcp=3),set(tcp(dst=80)),set(ipv4(src=1.2.3.4,dst=5.6.7.8,proto=6,tos=0,ttl=3,frag=no)),1,2",
  ],
];

FLOWS.push(
  [
    "recirc_id(0),in_port(2),packet_type(ns=0,id=0),eth(src=00:00:00:00:00:01,dst=00:00:00:00:00:02),eth_type(0x0800),ipv4(frag=no)",
    "100,1",
  ],
  [
    "in_port(1),eth(),eth_type(0x0800),ipv4(frag=no)",
    "tnl_push(tnl_port(6081),header(size=50,type=5,eth(dst=00:00:00:00:00:02,src=00:00:00:00:00:01,dl_type=0x0800),ipv4(src=1.1.1.1,dst=2.2.2.2,proto=17,tos=0,ttl=64,frag=0x4000),udp(src=0,dst=6081,csum=0x0),geneve(vni=0x64)),out_port(100))",
  ],
  [
    "in_port(2),eth(),eth_type(0x0800),ipv4(frag=no)",
    "tnl_push(tnl_port(4),header(size=42,type=3,eth(dst=00:00:00:00:00:02,src=00:00:00:00:00:01,dl_type=0x0800),ipv4(src=1.1.1.1,dst=2.2.2.2,proto=47,tos=0,ttl=64,frag=0x4000),gre((flags=0x2000,proto=0x6558),key=0x64)),out_port(100))",
  ],
);

/** Flow keys dpif-netdev refuses to install (incomplete, ODP_FIT_TOO_LITTLE). */
const BAD_KEYS = [
  "in_port(1),eth()",
  "in_port(1),eth(),eth_type(0x0800)",
  "in_port(1),eth(),eth_type(0x86dd)",
  "in_port(1),eth(),eth_type(0x0800),ipv4(proto=6,frag=no)",
];

/** Action lists OVS's parser rejects. */
const BAD_ACTIONS = [
  "2,drop",
  "foo(1)",
  "recirc(0x5)",
  "hash(l4(0))",
  "tnl_push(tnl_port(4789),header(size=51,type=4,eth(dst=00:00:00:00:00:02,src=00:00:00:00:00:01,dl_type=0x0800),ipv4(src=1.1.1.1,dst=2.2.2.2,proto=17,tos=0,ttl=64,frag=0x4000),udp(src=0,dst=4789,csum=0x0),vxlan(flags=0x8000000,vni=0x64)),out_port(100))",
];

describe.skipIf(!available)("dpctl/dump-flows text against OVS 3.1", () => {
  const ovs = new DummyOvs("ovsim-dpctl-");
  // Async so that a command OVS refuses reads as a rejected promise.
  const appctl = async (...args: string[]) => ovs.appctl(...args);

  beforeAll(() => {
    ovs.start();
    ovs.vsctl(
      "add-br",
      "br0",
      "--",
      "set",
      "bridge",
      "br0",
      "datapath_type=dummy",
      "--",
      "add-port",
      "br0",
      "p1",
      "--",
      "set",
      "interface",
      "p1",
      "type=dummy",
      "ofport_request=1",
      "--",
      "add-port",
      "br0",
      "p2",
      "--",
      "set",
      "interface",
      "p2",
      "type=dummy",
      "ofport_request=2",
      // Keep vswitchd's revalidators from deleting the flows we add by hand mid-test.
      "--",
      "set",
      "Open_vSwitch",
      ".",
      "other_config:max-revalidator=3600000",
      "other_config:max-idle=3600000",
    );
  });

  afterAll(() => ovs.stop());

  it.each(FLOWS)("prints %s with actions %s exactly as OVS does", async (key, actions) => {
    await appctl("dpctl/del-flows");
    await appctl("dpctl/add-flow", key, actions);
    const theirs = await appctl("dpctl/dump-flows");
    const dp = new Dpif({ clock: { nowNs: () => 0 } });
    dpctlAddFlow(dp, key, actions);
    expect(formatDumpFlows(dp, { header: true })).toBe(theirs);
  });

  // Only matching frames: a miss would make vswitchd install (and revalidate) its own
  // megaflows around ours.
  it("counts the packets, bytes and TCP flags of real frames as OVS does", async () => {
    const key = "in_port(1),eth(),eth_type(0x0800),ipv4(proto=6,frag=no),tcp(dst=80)";
    const frames = [
      tcpFrame({ flags: 0x002 }),
      tcpFrame({ flags: 0x018, payload: 100 }),
      tcpFrame({ flags: 0x011, sport: 999 }),
      tcpFrame({ flags: 0x004, src: "192.168.1.1" }),
    ];
    await appctl("dpctl/del-flows");
    await appctl("dpctl/add-flow", key, "2");
    const dp = new Dpif({ clock: { nowNs: () => 0 } });
    dpctlAddFlow(dp, key, "2");
    for (const f of frames) {
      await appctl("netdev-dummy/receive", "p1", Buffer.from(f).toString("hex"));
      dp.receive(1, f, 0, f.length);
    }
    const norm = (t: string) => t.replace(/used:[0-9.]+s/, "used:T");
    const theirs = (await appctl("dpctl/dump-flows"))
      .split("\n")
      .find((l) => l.includes("tcp(dst=80)"));
    expect(theirs).toBeDefined();
    expect(norm(formatDumpFlows(dp).trim())).toBe(norm(theirs!));
  });

  it.each(BAD_KEYS)("refuses the incomplete key %s as OVS does", async (key) => {
    await expect(appctl("dpctl/add-flow", key, "2")).rejects.toThrow();
    const dp = new Dpif({ clock: { nowNs: () => 0 } });
    expect(() => dpctlAddFlow(dp, key, "2")).toThrow(/flow key is incomplete/);
  });

  it.each(BAD_ACTIONS)("rejects the actions %s as OVS does", async (actions) => {
    const key = "in_port(1),eth(),eth_type(0x0800),ipv4(frag=no)";
    await expect(appctl("dpctl/add-flow", key, actions)).rejects.toThrow();
    const dp = new Dpif({ clock: { nowNs: () => 0 } });
    expect(() => dpctlAddFlow(dp, key, actions)).toThrow();
  });
});
