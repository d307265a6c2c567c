import { describe, expect, it } from "vitest";
import { TopologyValidationError } from "../../sim/topology-errors.js";
import { parseTopology } from "../../sim/topology-yaml.js";

const GOOD = `seed: 7
hosts:
  hv1: { underlay: 192.168.0.1/24 }
  hv2:
    underlay: 192.168.0.2/24
    bridges:
      - br-int
      - name: br0
        failMode: secure
        flows: ["priority=10,actions=NORMAL"]
        uplinks: { eth1: { trunks: [10, 20] } }
switches:
  tor: { hosts: [hv1, hv2], latency: 50us, bandwidth: 10Gbps }
overlays:
  blue: { type: vxlan, vni: 100, hosts: [hv1, hv2] }
vms:
  vm1: { host: hv1, ip: 10.0.0.1/24 }
  vm2: { host: hv2, ip: 10.0.0.2/24, mtu: 1400 }
`;

function problems(text: string): string[] {
  try {
    parseTopology(text, "t.yaml");
  } catch (e) {
    if (e instanceof TopologyValidationError) return e.errors.map((x) => x.message);
    throw e;
  }
  return [];
}

describe("topology YAML", () => {
  it("loads hosts, switch links, overlays and VMs into the model", () => {
    const s = parseTopology(GOOD, "t.yaml");
    expect(s.seed).toBe(7);
    expect(s.hosts.map((h) => h.name)).toEqual(["hv1", "hv2"]);
    expect(s.hosts[0]!.bridges.map((b) => b.name)).toEqual(["br-int"]);
    expect(s.hosts[1]!.bridges[1]).toMatchObject({
      name: "br0",
      failMode: "secure",
      flows: ["priority=10,actions=NORMAL"],
      uplinks: [{ name: "eth1", trunks: [10, 20] }],
    });
    expect(s.links.map((l) => `${l.a}=${l.b}`)).toEqual(["hv1:eth0=tor:p1", "hv2:eth0=tor:p2"]);
    expect(s.links[0]).toMatchObject({ latency: "50us", bandwidth: "10Gbps" });
    expect(s.overlays[0]).toMatchObject({
      name: "blue",
      type: "vxlan",
      vni: 100,
      bridge: "br-int",
      mode: "mesh",
    });
    expect(s.vms[1]).toMatchObject({ name: "vm2", host: "hv2", bridge: "br-int", mtu: 1400 });
    expect(s.vms[0]!.where).toBe("t.yaml:17:3");
  });

  it("reads the same topology written as JSON", () => {
    const json = JSON.stringify({
      hosts: { hv1: { underlay: "192.168.0.1/24" } },
      vms: { a: { host: "hv1", ip: "10.0.0.1/24" }, b: { host: "hv1", ip: "10.0.0.2/24" } },
    });
    const s = parseTopology(json, "t.json");
    expect(s.vms.map((v) => v.name)).toEqual(["a", "b"]);
  });

  it("names the line of a VM on an unknown host", () => {
    const p = problems(GOOD.replace("vm2: { host: hv2", "vm2: { host: hv3"));
    expect(p).toEqual([
      expect.stringMatching(/^t\.yaml:18:3: vm "vm2" refers to unknown host "hv3"/),
    ]);
  });

  it("names the line of a misspelt field and lists the accepted ones", () => {
    const p = problems(GOOD.replace("hv1: { underlay:", "hv1: { undrelay: x, underlay:"));
    expect(p[0]).toMatch(/^t\.yaml:3:10: host "hv1": unknown field "undrelay"; expected one of/);
  });

  it("names the line of a port on two links", () => {
    const p = problems(`${GOOD}links:\n  - [hv1:eth0, tor:p9]\n`);
    expect(p[0]).toMatch(/^t\.yaml:20:5: port hv1:eth0 is on two links/);
  });

  it("names the line of a duplicate IP and the VM that had it first", () => {
    const p = problems(GOOD.replace("10.0.0.2/24", "10.0.0.1/24"));
    expect(p[0]).toContain("t.yaml:18:3");
    expect(p[0]).toContain('already used by vm "vm1" (t.yaml:17:3)');
  });

  it("names both overlays of a VNI clash", () => {
    const text = GOOD.replace(
      "vms:",
      "  red: { type: vxlan, vni: 100, bridge: br0, hosts: [hv2] }\nvms:",
    );
    expect(problems(text)[0]).toMatch(
      /^t\.yaml:16:3: overlay "red" uses vxlan VNI 100, already used by overlay "blue" \(t\.yaml:15:3\)/,
    );
  });

  it("names the line of a VM whose MTU does not fit the overlay", () => {
    const p = problems(GOOD.replace("mtu: 1400", "mtu: 1480"));
    expect(p[0]).toMatch(/^t\.yaml:18:3: vm "vm2" has MTU 1480/);
  });

  it("reports YAML syntax errors with their line", () => {
    const p = problems("hosts:\n  hv1: { underlay: 1\n");
    expect(p[0]).toMatch(/^t\.yaml:\d+:\d+: /);
  });

  it("reports a wrong type with its line", () => {
    const p = problems(GOOD.replace("vni: 100", "vni: hundred"));
    expect(p[0]).toMatch(/^t\.yaml:15:29: overlay "blue": "vni" must be a number/);
  });

  it("loads routers with interfaces and static routes", () => {
    const s = parseTopology(
      "hosts:\n  hv1: { underlay: 192.168.1.2/24, gateway: 192.168.1.1 }\nrouters:\n  r1: { interfaces: { eth0: 192.168.1.1/24, eth1: 192.168.2.1/24 }, routes: { 10.9.0.0/16: 192.168.2.9 } }\nlinks:\n  - [hv1:eth0, r1:eth0]\n",
      "r.yaml",
    );
    expect(s.routers[0]).toMatchObject({
      name: "r1",
      interfaces: [
        { name: "eth0", ip: "192.168.1.1/24" },
        { name: "eth1", ip: "192.168.2.1/24" },
      ],
      routes: [{ prefix: "10.9.0.0/16", via: "192.168.2.9" }],
    });
    expect(s.hosts[0]!.underlayGateway).toBe("192.168.1.1");
  });

  it("refuses a link to a router interface that does not exist", () => {
    const p = problems(
      "routers:\n  r1: { interfaces: { eth0: 192.168.1.1/24 } }\nswitches:\n  sw: {}\nlinks:\n  - [r1:eth7, sw:p1]\n",
    );
    expect(p[0]).toMatch(
      /^t\.yaml:6:5: link r1:eth7 <-> sw:p1: router "r1" has no interface "eth7"/,
    );
  });
});
