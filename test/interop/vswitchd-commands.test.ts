/**
 * The command table (vswitchd/commands.ts) against a running Open vSwitch: the same
 * bridge, ports and flows are built in a real ovs-vswitchd (dummy datapath, dummy
 * ports) and on an ovsim Hypervisor, the same frames are received on both (OVS:
 * `netdev-dummy/receive`; ovsim: the frame enters the port's FramePort), and the text
 * of ovs-ofctl show / dump-flows / dump-ports and ovs-appctl dpif/show / fdb/show /
 * upcall/show / dpctl/dump-flows / ofproto/trace is compared.
 *
 * Normalised, because it truly differs by run or by datapath class and nothing else:
 * durations, idle ages and MAC ages (wall clock vs virtual clock); datapath port
 * numbers (the dummy datapath starts bridge ports at 100, as the ofproto-trace README
 * says); the datapath's class and name and the dummy netdev types ("dummy@ovs-dummy",
 * "dummy", "dummy-internal" vs "netdev@ovs-netdev", "system", "tap"); port counters a
 * dummy netdev cannot count ("?" where a system netdev says 0); upcall/show's average,
 * maximum, dump duration and revalidator thread number, and the three extra lines
 * ovsim prints there; the socket error ovs-ofctl reports after a
 * failed version negotiation, which races between EPIPE and EPROTO.
 *
 * Needs Debian's openvswitch-switch; the daemons run in their own temp dir and are
 * stopped by pid in afterAll.
 */
import { spawnSync } from "node:child_process";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { FramePort } from "../../sim/frame-port.js";
import { Hypervisor } from "../../sim/hypervisor.js";
import { World } from "../../sim/world.js";
import { VersionNegotiationError } from "../../vswitchd/index.js";
import { DummyOvs, dummyOvsMissing, type ExecResult } from "./dummy-ovs.js";

const missing = dummyOvsMissing();
const available = missing.length === 0;
if (!available)
  console.warn(`vswitchd-commands interop skipped: ${missing.join(", ")} not installed`);

const HWADDR = "aa:55:aa:55:00:01";
const PORTS = ["p1", "p2", "p3", "p4", "p5"];
const TAGS: Record<string, number | undefined> = { p4: 10, p5: 10 };
const FLOWS = [
  "table=0,priority=10,actions=NORMAL",
  "table=0,priority=20,tcp,tp_dst=80,actions=resubmit(,1)",
  "table=1,priority=5,ip,nw_dst=10.0.0.2,actions=mod_dl_src:50:54:00:00:00:09,output:2",
  "table=1,priority=1,cookie=0x2a,idle_timeout=300,actions=drop",
  "table=2,priority=3,ip,actions=mod_nw_dst:10.0.0.9,mod_dl_dst:50:54:00:00:00:08,output:1",
  "table=2,priority=2,dl_vlan=5,actions=strip_vlan,mod_vlan_vid:7,mod_vlan_pcp:3,mod_nw_tos:8,output:3",
  "table=2,priority=1,tcp,actions=mod_tp_dst:8080,mod_nw_src:10.0.0.8,dec_ttl,output:2",
  "table=3,priority=2,sctp,actions=mod_tp_src:53,output:2",
  "table=3,priority=1,udp,actions=mod_tp_src:53,mod_nw_ecn:1,mod_nw_ttl:9,output:2",
];

/** An Ethernet + IPv4 frame as hex (checksums are not checked by either switch). */
function ipv4Frame(src: string, dst: string, proto: number, l4: string): string {
  const mac = (m: string) => m.replaceAll(":", "");
  const payload = l4 + "00".repeat(20);
  const total = (20 + payload.length / 2).toString(16).padStart(4, "0");
  const pr = proto.toString(16).padStart(2, "0");
  return `${mac(dst)}${mac(src)}08004500${total}0000400040${pr}00000a0000010a000002${payload}`;
}
const ICMP = "0800f7ff00000000";
const TCP80 = "d43100500000000000000000500220000000000000";

/** A DummyOvs whose ovs-ofctl takes a bridge name ("br0") for its management socket. */
class RealOvs extends DummyOvs {
  ofctl(...args: string[]): ExecResult {
    const i = args.findIndex((a) => /^br\d$/.test(a));
    return this.exec(
      "ovs-ofctl",
      args.map((a, j) => (j === i ? this.mgmt(a) : a)),
    );
  }
}

/** dpif/show's datapath port numbers, by port name ("ovs-dummy"/"ovs-netdev" is 0). */
function dpNames(dpifShow: string): Map<string, string> {
  const m = new Map<string, string>([["0", "DP"]]);
  for (const x of dpifShow.matchAll(/^ {4}(\S+) \d+\/(\d+):/gm)) m.set(x[2]!, x[1]!);
  return m;
}

/**
 * Datapath port numbers written as port names (the ofproto-trace README's convention):
 * in_port(N) in keys, and the bare numbers of an action list.
 */
function namedDpPorts(text: string, names: Map<string, string>): string {
  const name = (n: string) => names.get(n) ?? `?${n}`;
  return text
    .replace(/in_port\((\d+)\)/g, (_, n: string) => `in_port(${name(n)})`)
    .replace(
      /(actions:|Datapath actions: )(.*)$/gm,
      (_, head: string, acts: string) =>
        head + acts.replace(/(^|,)(\d+)(?=,|$)/g, (_m, sep: string, n: string) => sep + name(n)),
    );
}

const norm = {
  flows: (s: string) =>
    s.replace(/duration=[\d.]+s/g, "duration=Ds").replace(/idle_age=\d+/g, "idle_age=A"),
  ports: (s: string) => s.replace(/=\?/g, "=0"),
  dpif: (s: string) =>
    s
      .replace(/^dummy@ovs-dummy/, "netdev@ovs-netdev")
      .replace(/ (\d+)\/\d+: \(dummy-internal\)/g, " $1/N: (tap)")
      .replace(/ (\d+)\/\d+: \(dummy\)/g, " $1/N: (system)")
      .replace(/ (\d+)\/\d+: /g, " $1/N: "),
  fdb: (s: string) => s.replace(/ {2}[ \d]{3}$/gm, "  AGE"),
  upcall: (s: string) =>
    s
      .replace(/^dummy@ovs-dummy/, "netdev@ovs-netdev")
      .split("\n")
      .filter((l) => !/^ {2}(max-idle|upcalls|revalidator) +:/.test(l))
      .join("\n")
      .replace(/\(avg \d+\) \(max \d+\)/, "(avg A) (max M)")
      .replace(/dump duration : \d+ms/, "dump duration : Dms")
      .replace(/^ {2}\d+: \(keys/m, "  R: (keys"),
  dpflows: (s: string) => s.replace(/used:[\d.]+s/g, "used:Ts").replace(/used:never/g, "used:Ts"),
};

describe.skipIf(!available)("the command table against a running ovs-vswitchd", () => {
  const ovs = new RealOvs("ovsim-cmds-");
  const world = new World({ seed: 7 });
  const hv = new Hypervisor(world, "hv1");
  const port = new Map<string, FramePort>();

  /** The same frame into port `p` of both switches, then both settle. */
  function receive(p: string, hex: string): void {
    ovs.appctl("netdev-dummy/receive", p, hex);
    const bytes = Uint8Array.from(Buffer.from(hex, "hex"));
    port.get(p)!.receive(bytes, 0, bytes.length);
    world.run({ untilNs: world.nowNs() + 1_000_000 });
  }

  beforeAll(async () => {
    ovs.start();
    ovs.vsctl(
      "add-br",
      "br0",
      "--",
      "set",
      "bridge",
      "br0",
      "datapath_type=dummy",
      "fail_mode=secure",
      `other_config:hwaddr=${HWADDR}`,
    );
    for (const [i, name] of PORTS.entries())
      ovs.vsctl(
        "add-port",
        "br0",
        name,
        "--",
        "set",
        "interface",
        name,
        "type=dummy",
        `ofport_request=${i + 1}`,
        ...(TAGS[name] === undefined ? [] : ["--", "set", "port", name, `tag=${TAGS[name]}`]),
      );
    for (const f of FLOWS) ovs.ofctl("add-flow", "br0", f);

    // The dummy netdevs' MACs, so ovsim's ports carry the same ones.
    const macs = new Map<string, string>();
    for (const m of ovs.ofctl("show", "br0").out.matchAll(/\((\w+)\): addr:([0-9a-f:]+)/g))
      macs.set(m[1]!, m[2]!);
    await hv.start();
    for (const name of PORTS) {
      const fp = hv.netdev(name, macs.get(name));
      // A dummy netdev has carrier; an ovsim netdev has it once cabled.
      world.link(fp, new FramePort(`${name}-peer`, () => {}));
      port.set(name, fp);
    }
    await hv.addBridge("br0", { failMode: "secure", otherConfig: { hwaddr: HWADDR } });
    for (const [i, name] of PORTS.entries())
      await hv.addPort("br0", name, { ofportRequest: i + 1, tag: TAGS[name] });
    for (const f of FLOWS) hv.ofctl(`add-flow br0 ${f}`);

    receive("p1", ipv4Frame("50:54:00:00:00:01", "50:54:00:00:00:02", 1, ICMP));
    receive("p2", ipv4Frame("50:54:00:00:00:02", "50:54:00:00:00:01", 1, ICMP));
    receive("p1", ipv4Frame("50:54:00:00:00:01", "50:54:00:00:00:02", 6, TCP80));
    // Access ports in VLAN 10: learnt in VLAN 10, the second one forwarded to.
    receive("p4", ipv4Frame("50:54:00:00:00:04", "50:54:00:00:00:05", 1, ICMP));
    receive("p5", ipv4Frame("50:54:00:00:00:05", "50:54:00:00:00:04", 1, ICMP));
    spawnSync("sleep", ["0.2"]);
  }, 30_000);

  afterAll(() => ovs.stop());

  it("ovs-ofctl show prints the same features, ports and config", () => {
    expect(hv.ofctl("show br0")).toBe(ovs.ofctl("show", "br0").out);
  });

  it("ovs-ofctl -O OpenFlow1x show follows each version's layout", () => {
    for (const v of ["OpenFlow11", "OpenFlow12", "OpenFlow13", "OpenFlow14", "OpenFlow15"])
      expect(hv.ofctl(`-O ${v} show br0`)).toBe(ovs.ofctl("-O", v, "show", "br0").out);
    expect(hv.ofctl("-O OpenFlow10,OpenFlow13 show br0")).toBe(
      ovs.ofctl("-O", "OpenFlow10,OpenFlow13", "show", "br0").out,
    );
  });

  it("ovs-ofctl dump-flows shows the same rules and counters", () => {
    // ovsim pushes megaflow stats before a dump; OVS does it every revalidator round.
    ovs.appctl("revalidator/wait");
    expect(norm.flows(hv.ofctl("dump-flows br0"))).toBe(
      norm.flows(ovs.ofctl("dump-flows", "br0").out),
    );
    for (const v of ["OpenFlow11", "OpenFlow12", "OpenFlow13", "OpenFlow14", "OpenFlow15"])
      expect(norm.flows(hv.ofctl(`-O ${v} dump-flows br0`))).toBe(
        norm.flows(ovs.ofctl("-O", v, "dump-flows", "br0").out),
      );
    // Criteria, and the layouts without the reply header (--names, --no-stats).
    for (const opts of [[], ["--no-names"], ["--names"], ["--no-stats"], ["-O", "OpenFlow13"]])
      for (const crit of [[], ["table=1"], ["ip"]])
        expect(norm.flows(hv.ofctl([...opts, "dump-flows", "br0", ...crit].join(" ")))).toBe(
          norm.flows(ovs.ofctl(...opts, "dump-flows", "br0", ...crit).out),
        );
  });

  it("ovs-ofctl dump-ports counts the same packets and bytes per port", () => {
    expect(norm.ports(hv.ofctl("dump-ports br0"))).toBe(
      norm.ports(ovs.ofctl("dump-ports", "br0").out),
    );
    expect(norm.ports(hv.ofctl("dump-ports br0 p1"))).toBe(
      norm.ports(ovs.ofctl("dump-ports", "br0", "p1").out),
    );
    expect(norm.ports(hv.ofctl("dump-ports br0 2"))).toBe(
      norm.ports(ovs.ofctl("dump-ports", "br0", "2").out),
    );
  });

  it("ovs-appctl dpif/show lists the same bridges, ports and lookups", () => {
    expect(norm.dpif(hv.appctl("dpif/show"))).toBe(norm.dpif(ovs.appctl("dpif/show")));
  });

  it("ovs-appctl fdb/show holds the same learned MACs", () => {
    expect(norm.fdb(hv.appctl("fdb/show br0"))).toBe(norm.fdb(ovs.appctl("fdb/show", "br0")));
  });

  it("ovs-appctl upcall/show has OVS's layout", () => {
    expect(norm.upcall(hv.appctl("upcall/show"))).toBe(norm.upcall(ovs.appctl("upcall/show")));
  });

  it("ovs-appctl dpctl/dump-flows shows the same megaflows", () => {
    const sorted = (s: string, dpif: string) =>
      namedDpPorts(norm.dpflows(s), dpNames(dpif)).split("\n").sort().join("\n");
    expect(sorted(hv.appctl("dpctl/dump-flows"), hv.appctl("dpif/show"))).toBe(
      sorted(ovs.appctl("dpctl/dump-flows"), ovs.appctl("dpif/show")),
    );
  });

  it("ovs-appctl ofproto/trace explains a learned destination the same way", () => {
    for (const flow of [
      "in_port=2,dl_src=50:54:00:00:00:02,dl_dst=50:54:00:00:00:01",
      "in_port=3,tcp,dl_src=50:54:00:00:00:03,dl_dst=50:54:00:00:00:02,nw_dst=10.0.0.2,tp_dst=80",
      "in_port=3,tcp,nw_dst=10.0.0.7,tp_dst=80",
      "in_port=5,dl_src=50:54:00:00:00:05,dl_dst=50:54:00:00:00:04",
      "in_port=1,dl_vlan=10,dl_src=50:54:00:00:00:01,dl_dst=50:54:00:00:00:04",
    ])
      expect(
        namedDpPorts(hv.appctl(`ofproto/trace br0 ${flow}`), dpNames(hv.appctl("dpif/show"))),
      ).toBe(
        namedDpPorts(ovs.appctl("ofproto/trace", "br0", flow), dpNames(ovs.appctl("dpif/show"))),
      );
  });

  it("Bridge protocols refuses the versions it does not allow, as ovs-ofctl reports", async () => {
    ovs.vsctl("set", "bridge", "br0", "protocols=OpenFlow13");
    await hv.vsctl("set Bridge br0 protocols=OpenFlow13");
    const real = ovs.ofctl("show", "br0");
    // ovs-ofctl names the target as given; ovsim's is the bridge name.
    // The socket error is a race in ovs-ofctl: EPIPE or EPROTO, whichever comes first.
    real.err = real.err
      .replaceAll(`unix:${ovs.dir}/br0.mgmt`, "br0")
      .replace("(Protocol error)", "(Broken pipe)");
    expect(real.ok).toBe(false);
    let err: unknown;
    try {
      hv.ofctl("show br0");
    } catch (e) {
      err = e;
    }
    expect(err).toBeInstanceOf(VersionNegotiationError);
    const e = err as VersionNegotiationError;
    expect(real.err).toContain(`ovs-ofctl: ${e.message}`);
    expect(real.err).toContain(e.detail);
    expect(hv.ofctl("-O OpenFlow13 show br0")).toBe(
      ovs.ofctl("-O", "OpenFlow13", "show", "br0").out,
    );
    ovs.vsctl("set", "bridge", "br0", "protocols=OpenFlow10,OpenFlow11");
    await hv.vsctl("set Bridge br0 protocols=OpenFlow10,OpenFlow11");
    const r13 = ovs.ofctl("-O", "OpenFlow13", "show", "br0");
    expect(() => hv.ofctl("-O OpenFlow13 show br0")).toThrow(VersionNegotiationError);
    try {
      hv.ofctl("-O OpenFlow13 show br0");
    } catch (x) {
      expect(r13.err).toContain((x as VersionNegotiationError).detail);
    }
    ovs.vsctl("clear", "bridge", "br0", "protocols");
    await hv.vsctl("clear Bridge br0 protocols");
    expect(hv.ofctl("show br0")).toBe(ovs.ofctl("show", "br0").out);
  });

  it("Bridge flood_vlans stops NORMAL learning on those VLANs and flushes the table", async () => {
    ovs.vsctl("set", "bridge", "br0", "flood_vlans=0");
    await hv.vsctl("set Bridge br0 flood_vlans=0");
    spawnSync("sleep", ["0.2"]);
    receive("p3", ipv4Frame("50:54:00:00:00:03", "50:54:00:00:00:01", 1, ICMP));
    spawnSync("sleep", ["0.2"]);
    const fdb = hv.appctl("fdb/show br0");
    expect(fdb).not.toContain("50:54:00:00:00:03");
    expect(norm.fdb(fdb)).toBe(norm.fdb(ovs.appctl("fdb/show", "br0")));
    const flow = "in_port=3,dl_src=50:54:00:00:00:03,dl_dst=50:54:00:00:00:01";
    expect(
      namedDpPorts(hv.appctl(`ofproto/trace br0 ${flow}`), dpNames(hv.appctl("dpif/show"))),
    ).toBe(
      namedDpPorts(ovs.appctl("ofproto/trace", "br0", flow), dpNames(ovs.appctl("dpif/show"))),
    );
  });
});
