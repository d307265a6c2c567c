import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { Topology } from "../../sim/topology.js";
import { TopologyValidationError } from "../../sim/topology-errors.js";
import {
  checkTopology,
  defaultVmMtu,
  emptyTopology,
  type TopologySpec,
  validateTopology,
} from "../../sim/topology-schema.js";

function twoHosts(): TopologySpec {
  const s = emptyTopology(1);
  s.hosts.push(
    { name: "hv1", underlayIp: "192.168.0.1/24", bridges: [{ name: "br-int" }] },
    { name: "hv2", underlayIp: "192.168.0.2/24", bridges: [{ name: "br-int" }] },
  );
  s.switches.push({ name: "tor" });
  s.links.push({ a: "hv1:eth0", b: "tor:p1" }, { a: "hv2:eth0", b: "tor:p2" });
  s.overlays.push({
    name: "blue",
    type: "vxlan",
    vni: 100,
    bridge: "br-int",
    hosts: ["hv1", "hv2"],
    mode: "mesh",
  });
  s.vms.push(
    { name: "vm1", host: "hv1", bridge: "br-int", ip: "10.0.0.1/24" },
    { name: "vm2", host: "hv2", bridge: "br-int", ip: "10.0.0.2/24" },
  );
  return s;
}

describe("topology validation", () => {
  it("accepts a sound two-host VXLAN topology", () => {
    expect(checkTopology(twoHosts())).toEqual([]);
  });

  it("names the VM and the unknown host it refers to", () => {
    const s = twoHosts();
    s.vms[1]!.host = "hv9";
    const errs = checkTopology(s);
    expect(errs.map((e) => e.code)).toEqual(["ERR_TOPO_UNKNOWN_REF"]);
    expect(errs[0]!.message).toContain('vm "vm2" refers to unknown host "hv9"');
    expect(errs[0]!.message).toContain("known hosts: hv1, hv2");
  });

  it("refuses a port on two links and names both links", () => {
    const s = twoHosts();
    s.links.push({ a: "hv1:eth0", b: "tor:p3", where: "t.yaml:9:5" });
    const errs = checkTopology(s);
    expect(errs[0]!.code).toBe("ERR_TOPO_PORT_ON_TWO_LINKS");
    expect(errs[0]!.message).toMatch(/^t\.yaml:9:5: port hv1:eth0 is on two links/);
  });

  it("refuses a duplicate IP in one segment but allows it in another overlay", () => {
    const s = twoHosts();
    s.vms[1]!.ip = "10.0.0.1/24";
    expect(checkTopology(s)[0]!.code).toBe("ERR_TOPO_DUPLICATE_ADDRESS");
    const t = twoHosts();
    t.hosts[1]!.bridges.push({ name: "br-red" });
    t.hosts[0]!.bridges.push({ name: "br-red" });
    t.overlays.push({
      name: "red",
      type: "vxlan",
      vni: 200,
      bridge: "br-red",
      hosts: ["hv1", "hv2"],
      mode: "mesh",
    });
    t.vms.push({ name: "r1", host: "hv1", bridge: "br-red", ip: "10.0.0.1/24" });
    expect(checkTopology(t)).toEqual([]);
  });

  it("refuses a duplicate MAC in one segment, case-insensitively", () => {
    const s = twoHosts();
    s.vms[0]!.mac = "02:00:00:00:00:aa";
    s.vms[1]!.mac = "02:00:00:00:00:AA";
    expect(checkTopology(s).map((e) => e.code)).toEqual(["ERR_TOPO_DUPLICATE_ADDRESS"]);
  });

  it("refuses two overlays of one tunnel type with the same VNI", () => {
    const s = twoHosts();
    s.hosts[0]!.bridges.push({ name: "br-x" });
    s.overlays.push({
      name: "green",
      type: "vxlan",
      vni: 100,
      bridge: "br-x",
      hosts: ["hv1"],
      mode: "mesh",
    });
    const errs = checkTopology(s);
    expect(errs[0]!.code).toBe("ERR_TOPO_VNI_CLASH");
    expect(errs[0]!.message).toContain('already used by overlay "blue"');
  });

  it("allows the same number as a VXLAN VNI and a GRE key", () => {
    const s = twoHosts();
    s.hosts[0]!.bridges.push({ name: "br-g" });
    s.hosts[1]!.bridges.push({ name: "br-g" });
    s.overlays.push({
      name: "g",
      type: "gre",
      vni: 100,
      bridge: "br-g",
      hosts: ["hv1", "hv2"],
      mode: "mesh",
    });
    expect(checkTopology(s)).toEqual([]);
  });

  it("refuses a VNI that does not fit 24 bits", () => {
    const s = twoHosts();
    s.overlays[0]!.vni = 0x1000000;
    expect(checkTopology(s)[0]!.message).toContain("VNI must be an integer in 0..16777215");
  });

  it("refuses a VM MTU too large for the overlay and says what would fit", () => {
    const s = twoHosts();
    s.vms[0]!.mtu = 1500;
    const errs = checkTopology(s);
    expect(errs[0]!.code).toBe("ERR_TOPO_MTU");
    expect(errs[0]!.message).toContain("at most 1450");
    s.links[0]!.mtu = 1600;
    expect(checkTopology(s)).toEqual([]);
  });

  it("gives an overlay VM without an MTU the largest that fits", () => {
    const s = twoHosts();
    expect(defaultVmMtu(s, s.vms[0]!)).toBe(1450);
    s.overlays[0]!.type = "gre";
    expect(defaultVmMtu(s, s.vms[0]!)).toBe(1458);
  });

  it("reports every problem at once in one TopologyValidationError", () => {
    const s = twoHosts();
    s.vms[0]!.host = "nowhere";
    s.vms[1]!.ip = "10.0.0.300/24";
    try {
      validateTopology(s);
      expect.unreachable();
    } catch (e) {
      expect(e).toBeInstanceOf(TopologyValidationError);
      expect((e as TopologyValidationError).errors.length).toBe(2);
    }
  });

  it("tells a builder user to attach an unattached VM", () => {
    const t = new Topology();
    t.host("hv1", { underlay: "192.168.0.1/24" }).vm("lonely", { ip: "10.0.0.1/24" });
    expect(t.check()[0]!.message).toContain('vm "lonely" is not attached to a bridge');
  });

  it("finds a duplicate IP among any number of VMs in one segment (property)", () => {
    fc.assert(
      fc.property(
        fc.array(fc.integer({ min: 1, max: 20 }), { minLength: 1, maxLength: 30 }),
        (octets) => {
          const s = twoHosts();
          s.vms = octets.map((o, i) => ({
            name: `v${i}`,
            host: "hv1",
            bridge: "br-int",
            ip: `10.1.0.${o}/24`,
          }));
          const dups = octets.length - new Set(octets).size;
          expect(
            checkTopology(s).filter((e) => e.code === "ERR_TOPO_DUPLICATE_ADDRESS").length,
          ).toBe(dups);
        },
      ),
    );
  });
});
