/**
 * The topology model: plain, JSON-shaped data describing hypervisors, their bridges,
 * overlays (tunnel meshes or flow-based tunnel ports), VMs, and the underlay's
 * switches, routers and links — and `validateTopology`, every check that must pass
 * before anything starts.
 *
 * Both front ends produce this model: the TypeScript builder (topology.ts) and the
 * YAML/JSON loader (topology-yaml.ts), so a topology behaves the same whichever way
 * it was written. Each object may carry `where`, the place it was written
 * ("topo.yaml:12:5" or "vm vm3"), which every error quotes.
 *
 * Checks (each a TopologyError naming the objects involved):
 * - names: hosts, switches, routers and VMs share one namespace and are unique;
 * - references: a VM's host and bridge, an overlay's hosts and bridge, a link's nodes
 *   and a router route's next hop exist;
 * - links: a port ("node:port") is on at most one link;
 * - addresses: no IP or MAC twice in one L2 segment (an overlay, or a bridge not in
 *   one, and a VLAN), no underlay IP twice anywhere;
 * - VNIs: two overlays of one tunnel type never share a VNI (OVS cannot tell them
 *   apart on the wire), and a VNI fits its header (24 bits VXLAN/Geneve, 32 bits GRE);
 * - loops: a tunnel mesh of three or more hosts switched only by NORMAL (which floods
 *   from tunnel to tunnel) is refused;
 * - MTU: a VM's MTU plus the tunnel overhead fits every underlay MTU its host uses
 *   (a VM without an MTU gets the largest that fits: defaultVmMtu).
 *
 * It does not build or run anything (topology.ts does).
 */
import { parseIp, parsePrefix } from "./ip-address.js";
import { TopologyError, TopologyValidationError } from "./topology-errors.js";

export type TunnelType = "vxlan" | "gre" | "geneve";
/** The port VLAN modes a topology may give (OVS's Port vlan_mode, less dot1q-tunnel). */
export const VLAN_MODES = ["access", "trunk", "native-tagged", "native-untagged"] as const;
export type VlanMode = (typeof VLAN_MODES)[number];

/**
 * Bytes a tunnel adds in front of the inner Ethernet frame's L3 payload: outer IPv4
 * (20) + encapsulation + inner Ethernet (14). VXLAN: UDP 8 + VXLAN 8; Geneve without
 * options: UDP 8 + Geneve 8; GRE with a key (what a VNI needs): 4 + 4.
 */
export const TUNNEL_OVERHEAD: Readonly<Record<TunnelType, number>> = {
  vxlan: 20 + 8 + 8 + 14,
  geneve: 20 + 8 + 8 + 14,
  gre: 20 + 8 + 14,
};

/** Largest key each tunnel header can carry. */
export const VNI_MAX: Readonly<Record<TunnelType, number>> = {
  vxlan: 0xffffff,
  geneve: 0xffffff,
  gre: 0xffffffff,
};

export const DEFAULT_MTU = 1500;
export const DEFAULT_BRIDGE = "br-int";
/** A host's first underlay NIC. */
export const UNDERLAY_NIC = "eth0";

export interface Located {
  /** Where the object was written, quoted by errors. */
  where?: string;
}

export interface LinkParams {
  latency?: string | number;
  bandwidth?: string | number;
  loss?: string | number;
  jitter?: string | number;
  /** L3 MTU of the link. Default 1500. */
  mtu?: number;
}

export interface BridgeSpec extends Located {
  name: string;
  /** Default "standalone" (NORMAL switching), as `ovs-vsctl add-br` leaves it. */
  failMode?: "standalone" | "secure";
  /** OpenFlow rules in ovs-ofctl syntax, added once the bridge is up. */
  flows?: string[];
  /** Physical NICs of the host plugged into this bridge (linkable as "host:name"). */
  uplinks?: UplinkSpec[];
}

/** A host NIC that is a port of a bridge (a trunk to another switch, say). */
export interface UplinkSpec {
  name: string;
  tag?: number;
  trunks?: number[];
  vlanMode?: VlanMode;
}

export interface HostSpec extends Located {
  name: string;
  /** The VTEP address on eth0, with its prefix ("192.168.0.1/24"). */
  underlayIp: string;
  /** Default gateway of the underlay, when the underlay is routed. */
  underlayGateway?: string;
  bridges: BridgeSpec[];
}

export interface OverlaySpec extends Located {
  name: string;
  type: TunnelType;
  /** VXLAN/Geneve VNI or GRE key. */
  vni: number;
  bridge: string;
  hosts: string[];
  /**
   * "mesh": one tunnel port per remote host (`options:remote_ip=<peer>`);
   * "flow": one port per host (`options:remote_ip=flow`), steered by flows that set
   * `tun_dst`, as OVN and Antrea do.
   */
  mode: "mesh" | "flow";
  /**
   * How a flow-based port picks `tun_dst` ("flow" mode only):
   * - "per-vm" (default): two rules per remote VM (its MAC, and ARP for its IP).
   * - "vtep-in-ip": a constant number of rules per host that copy the destination
   *   IP's bits 8..23 into tun_dst's low 16 bits (`move:`), for addressing plans where
   *   every VM's address carries its host's VTEP (VTEP a.b.c.d hosts VMs x.c.d.*, all
   *   VTEPs share a.b) — how a 1,000-host overlay avoids a million steering rules.
   */
  steering?: "per-vm" | "vtep-in-ip";
}

export interface VmSpec extends Located {
  name: string;
  host: string;
  bridge: string;
  /** "10.0.0.1/24". */
  ip: string;
  gateway?: string;
  mac?: string;
  mtu?: number;
  tag?: number;
  trunks?: number[];
  vlanMode?: VlanMode;
  kind?: "vm" | "container";
}

export interface SwitchSpec extends Located, LinkParams {
  name: string;
}

export interface RouterInterfaceSpec {
  name: string;
  ip: string;
}

export interface RouterSpec extends Located {
  name: string;
  interfaces: RouterInterfaceSpec[];
  routes: { prefix: string; via: string }[];
}

export interface LinkSpec extends Located, LinkParams {
  /** "node:port": a host's NIC ("hv1:eth0"), a switch port ("tor:p1"), a router interface. */
  a: string;
  b: string;
}

export interface TopologySpec {
  seed: number;
  hosts: HostSpec[];
  switches: SwitchSpec[];
  routers: RouterSpec[];
  links: LinkSpec[];
  overlays: OverlaySpec[];
  vms: VmSpec[];
}

export function emptyTopology(seed = 1): TopologySpec {
  return { seed, hosts: [], switches: [], routers: [], links: [], overlays: [], vms: [] };
}

function at(o: Located, kind: string, name: string): string {
  return o.where ?? `${kind} ${name}`;
}

/** "node:port" → [node, port]; a bare node name means its first port. */
export function splitPortRef(ref: string): [string, string] {
  const i = ref.indexOf(":");
  return i < 0 ? [ref, ""] : [ref.slice(0, i), ref.slice(i + 1)];
}

/**
 * Runs every check and returns the problems found (empty when the topology is sound).
 * `validateTopology` throws them instead.
 */
export function checkTopology(spec: TopologySpec): TopologyError[] {
  const errs: TopologyError[] = [];
  const names = new Map<string, string>();
  const claim = (name: string, kind: string, o: Located) => {
    const prev = names.get(name);
    if (prev !== undefined)
      errs.push(
        new TopologyError(
          "ERR_TOPO_DUPLICATE_NAME",
          at(o, kind, name),
          `${kind} "${name}" has the same name as ${prev}; names of hosts, switches, routers and VMs must be unique`,
        ),
      );
    else names.set(name, `${kind} "${name}"${o.where ? ` (${o.where})` : ""}`);
  };
  const hosts = new Map<string, HostSpec>();
  for (const h of spec.hosts) {
    claim(h.name, "host", h);
    hosts.set(h.name, h);
    checkPrefix(errs, h, "host", h.name, "underlayIp", h.underlayIp);
    const seen = new Set<string>();
    for (const b of h.bridges) {
      if (seen.has(b.name))
        errs.push(
          new TopologyError(
            "ERR_TOPO_DUPLICATE_NAME",
            at(b, "bridge", b.name),
            `host "${h.name}" declares bridge "${b.name}" twice`,
          ),
        );
      seen.add(b.name);
    }
  }
  const switches = new Set<string>();
  for (const s of spec.switches) {
    claim(s.name, "switch", s);
    switches.add(s.name);
  }
  const routers = new Map<string, RouterSpec>();
  for (const r of spec.routers) {
    claim(r.name, "router", r);
    routers.set(r.name, r);
    for (const i of r.interfaces) checkPrefix(errs, r, "router", r.name, `${i.name} ip`, i.ip);
  }
  const vmsOn = new Map<string, VmSpec[]>(); // "host/bridge" → VMs
  for (const v of spec.vms) {
    claim(v.name, "vm", v);
    const k = `${v.host}/${v.bridge}`;
    const list = vmsOn.get(k);
    if (list) list.push(v);
    else vmsOn.set(k, [v]);
  }

  const hasBridge = (host: HostSpec, bridge: string) => host.bridges.some((b) => b.name === bridge);
  const unknownHost = (o: Located, kind: string, name: string, host: string) =>
    errs.push(
      new TopologyError(
        "ERR_TOPO_UNKNOWN_REF",
        at(o, kind, name),
        `${kind} "${name}" refers to unknown host "${host}"; known hosts: ${[...hosts.keys()].join(", ") || "(none)"}`,
      ),
    );
  const unknownBridge = (o: Located, kind: string, name: string, host: HostSpec, bridge: string) =>
    errs.push(
      new TopologyError(
        "ERR_TOPO_UNKNOWN_REF",
        at(o, kind, name),
        `${kind} "${name}" refers to bridge "${bridge}", which host "${host.name}" does not have; its bridges: ${host.bridges.map((b) => b.name).join(", ") || "(none)"}`,
      ),
    );

  // Links: each port on at most one link; nodes exist.
  const portUse = new Map<string, LinkSpec>();
  const nicMtu = new Map<string, number>(); // host name → smallest underlay MTU
  for (const l of spec.links) {
    const label = `${l.a} <-> ${l.b}`;
    for (const ref of [l.a, l.b]) {
      const [node, port] = splitPortRef(ref);
      const key = `${node}:${port}`;
      if (!hosts.has(node) && !switches.has(node) && !routers.has(node)) {
        errs.push(
          new TopologyError(
            "ERR_TOPO_UNKNOWN_REF",
            at(l, "link", label),
            `link ${label} refers to unknown node "${node}"; links join hosts, switches and routers`,
          ),
        );
        continue;
      }
      const r = routers.get(node);
      if (r && !r.interfaces.some((i) => i.name === port))
        errs.push(
          new TopologyError(
            "ERR_TOPO_UNKNOWN_REF",
            at(l, "link", label),
            `link ${label}: router "${node}" has no interface "${port}"`,
          ),
        );
      const host = hosts.get(node);
      if (host) {
        const uplinks = host.bridges.flatMap((b) => (b.uplinks ?? []).map((u) => u.name));
        if (port !== UNDERLAY_NIC && !uplinks.includes(port))
          errs.push(
            new TopologyError(
              "ERR_TOPO_UNKNOWN_REF",
              at(l, "link", label),
              `link ${label}: host "${node}" has no NIC "${port}"; its NICs are ${[UNDERLAY_NIC, ...uplinks].join(", ")} (declare others as a bridge's uplinks)`,
            ),
          );
        const mtu = l.mtu ?? DEFAULT_MTU;
        nicMtu.set(node, Math.min(nicMtu.get(node) ?? mtu, mtu));
      }
      const prev = portUse.get(key);
      if (prev)
        errs.push(
          new TopologyError(
            "ERR_TOPO_PORT_ON_TWO_LINKS",
            at(l, "link", label),
            `port ${key} is on two links: ${label} and ${prev.a} <-> ${prev.b}${prev.where ? ` (${prev.where})` : ""}; give each link its own port`,
          ),
        );
      else portUse.set(key, l);
    }
  }

  // Overlays: references, VNI range and clashes.
  const vnis = new Map<string, OverlaySpec>();
  const segmentOf = new Map<string, OverlaySpec>(); // "host/bridge" → overlay
  for (const o of spec.overlays) {
    if (!Number.isInteger(o.vni) || o.vni < 0 || o.vni > VNI_MAX[o.type])
      errs.push(
        new TopologyError(
          "ERR_TOPO_SCHEMA",
          at(o, "overlay", o.name),
          `overlay "${o.name}": ${o.type} VNI must be an integer in 0..${VNI_MAX[o.type]}, got ${o.vni}`,
        ),
      );
    // OVS's NORMAL floods what one tunnel brought in out of every other tunnel port (no
    // split horizon): three or more NORMAL-switched mesh members make a broadcast storm.
    if (o.mode === "mesh" && o.hosts.length >= 3) {
      const looping = o.hosts.filter((hn) => {
        const b = hosts.get(hn)?.bridges.find((x) => x.name === o.bridge);
        return b !== undefined && (b.failMode ?? "standalone") === "standalone" && !b.flows?.length;
      });
      if (looping.length)
        errs.push(
          new TopologyError(
            "ERR_TOPO_LOOP",
            at(o, "overlay", o.name),
            `overlay "${o.name}" is a ${o.type} mesh of ${o.hosts.length} hosts switched by NORMAL on ${looping.join(", ")}; NORMAL floods broadcasts from one tunnel into the others, so they would loop — use a flow-based tunnel port (flowTunnel / mode: flow), or give the bridge flows`,
          ),
        );
    }
    const vk = `${o.type}/${o.vni}`;
    const clash = vnis.get(vk);
    if (clash)
      errs.push(
        new TopologyError(
          "ERR_TOPO_VNI_CLASH",
          at(o, "overlay", o.name),
          `overlay "${o.name}" uses ${o.type} VNI ${o.vni}, already used by overlay "${clash.name}"${clash.where ? ` (${clash.where})` : ""}; tunnels of one type cannot tell them apart — pick another VNI or join the overlays`,
        ),
      );
    else vnis.set(vk, o);
    const vtepHigh = new Set<string>();
    for (const hn of o.hosts) {
      const h = hosts.get(hn);
      if (!h) {
        unknownHost(o, "overlay", o.name, hn);
        continue;
      }
      if (o.steering === "vtep-in-ip") {
        const vt = h.underlayIp.split("/")[0]!.split(".");
        vtepHigh.add(`${vt[0]}.${vt[1]}`);
        for (const v of vmsOn.get(`${hn}/${o.bridge}`) ?? []) {
          const ip = v.ip.split(".");
          if (ip[1] !== vt[2] || ip[2] !== vt[3])
            errs.push(
              new TopologyError(
                "ERR_TOPO_SCHEMA",
                at(v, "vm", v.name),
                `vm "${v.name}" has IP ${v.ip}, but overlay "${o.name}" steers by vtep-in-ip: VMs on host "${hn}" (VTEP ${vt.join(".")}) need addresses x.${vt[2]}.${vt[3]}.*`,
              ),
            );
        }
      }
      if (!hasBridge(h, o.bridge)) unknownBridge(o, "overlay", o.name, h, o.bridge);
      const seg = `${hn}/${o.bridge}`;
      const other = segmentOf.get(seg);
      if (other && other !== o && other.type === o.type)
        errs.push(
          new TopologyError(
            "ERR_TOPO_VNI_CLASH",
            at(o, "overlay", o.name),
            `overlays "${other.name}" and "${o.name}" both put ${o.type} tunnels on ${hn}'s bridge ${o.bridge}; the NORMAL action would flood one into the other — use one bridge per overlay`,
          ),
        );
      else segmentOf.set(seg, o);
      const mtu = nicMtu.get(hn) ?? DEFAULT_MTU;
      for (const v of vmsOn.get(`${hn}/${o.bridge}`) ?? []) {
        // An unset VM MTU defaults to what fits (defaultVmMtu), as OpenStack does.
        if (v.mtu === undefined) continue;
        const vmMtu = v.mtu;
        if (vmMtu + TUNNEL_OVERHEAD[o.type] > mtu)
          errs.push(
            new TopologyError(
              "ERR_TOPO_MTU",
              at(v, "vm", v.name),
              `vm "${v.name}" has MTU ${vmMtu}, but ${o.type} overlay "${o.name}" adds ${TUNNEL_OVERHEAD[o.type]} bytes and host "${hn}"'s underlay MTU is ${mtu}; set the VM's mtu to at most ${mtu - TUNNEL_OVERHEAD[o.type]} or the underlay link's mtu to at least ${vmMtu + TUNNEL_OVERHEAD[o.type]}`,
            ),
          );
      }
    }

    if (vtepHigh.size > 1)
      errs.push(
        new TopologyError(
          "ERR_TOPO_SCHEMA",
          at(o, "overlay", o.name),
          `overlay "${o.name}" steers by vtep-in-ip, so all its VTEPs must share their first two octets; found ${[...vtepHigh].join(", ")}`,
        ),
      );
  }

  // VMs: references and addresses per L2 segment.
  const segAddr = new Map<string, string>(); // "seg|ip:10.0.0.1" → vm name
  for (const v of spec.vms) {
    const h = hosts.get(v.host);
    if (!h) unknownHost(v, "vm", v.name, v.host);
    else if (!hasBridge(h, v.bridge)) unknownBridge(v, "vm", v.name, h, v.bridge);
    checkPrefix(errs, v, "vm", v.name, "ip", v.ip);
    if (v.tag !== undefined && !(Number.isInteger(v.tag) && v.tag >= 0 && v.tag <= 4095))
      errs.push(
        new TopologyError(
          "ERR_TOPO_SCHEMA",
          at(v, "vm", v.name),
          `vm "${v.name}": tag must be a VLAN id in 0..4095, got ${v.tag}`,
        ),
      );
    const ov = segmentOf.get(`${v.host}/${v.bridge}`);
    const seg = `${ov ? `overlay ${ov.name}` : `${v.host}/${v.bridge}`} vlan ${v.tag ?? 0}`;
    const ip = v.ip.split("/")[0]!;
    for (const [kind, value] of [
      ["IP", ip],
      ["MAC", v.mac?.toLowerCase()],
    ] as const) {
      if (value === undefined) continue;
      const key = `${seg}|${kind}:${value}`;
      const prev = segAddr.get(key);
      if (prev !== undefined)
        errs.push(
          new TopologyError(
            "ERR_TOPO_DUPLICATE_ADDRESS",
            at(v, "vm", v.name),
            `vm "${v.name}" has ${kind} ${value}, already used by ${prev} in the same L2 segment (${seg})`,
          ),
        );
      else segAddr.set(key, `vm "${v.name}"${v.where ? ` (${v.where})` : ""}`);
    }
  }

  // Underlay addresses are global.
  const underlay = new Map<string, string>();
  const addUnderlay = (ipPrefix: string, owner: string, o: Located) => {
    const ip = ipPrefix.split("/")[0]!;
    const prev = underlay.get(ip);
    if (prev)
      errs.push(
        new TopologyError(
          "ERR_TOPO_DUPLICATE_ADDRESS",
          o.where ?? owner,
          `${owner} has underlay IP ${ip}, already used by ${prev}`,
        ),
      );
    else underlay.set(ip, owner);
  };
  for (const h of spec.hosts) addUnderlay(h.underlayIp, `host "${h.name}"`, h);
  for (const r of spec.routers)
    for (const i of r.interfaces) addUnderlay(i.ip, `router "${r.name}" ${i.name}`, r);
  return errs;
}

function checkPrefix(
  errs: TopologyError[],
  o: Located,
  kind: string,
  name: string,
  field: string,
  value: string,
): void {
  const ok =
    typeof value === "string" &&
    value.includes("/") &&
    parsePrefix(value) !== undefined &&
    parseIp(value.split("/")[0]!) !== undefined;
  if (!ok) {
    errs.push(
      new TopologyError(
        "ERR_TOPO_SCHEMA",
        at(o, kind, name),
        `${kind} "${name}": ${field} must be an address with a prefix length such as 10.0.0.1/24, got ${JSON.stringify(value)}`,
      ),
    );
  }
}

/**
 * The MTU a VM gets when none is written: on an overlay bridge, the host's smallest
 * underlay link MTU minus the tunnel overhead (1450 for VXLAN over 1500, as OpenStack
 * Neutron advertises); elsewhere undefined (the endpoint's 1500).
 */
export function defaultVmMtu(spec: TopologySpec, vm: VmSpec): number | undefined {
  return defaultVmMtus(spec).get(vm.name);
}

/** defaultVmMtu for every VM at once (linear in the topology's size). */
export function defaultVmMtus(spec: TopologySpec): Map<string, number | undefined> {
  const hostMtu = new Map<string, number>();
  for (const l of spec.links)
    for (const ref of [l.a, l.b]) {
      const node = splitPortRef(ref)[0];
      hostMtu.set(node, Math.min(hostMtu.get(node) ?? DEFAULT_MTU, l.mtu ?? DEFAULT_MTU));
    }
  const overlayOf = new Map<string, OverlaySpec>();
  for (const o of spec.overlays) for (const h of o.hosts) overlayOf.set(`${h}/${o.bridge}`, o);
  const out = new Map<string, number | undefined>();
  for (const vm of spec.vms) {
    const ov = overlayOf.get(`${vm.host}/${vm.bridge}`);
    out.set(
      vm.name,
      vm.mtu ?? (ov ? (hostMtu.get(vm.host) ?? DEFAULT_MTU) - TUNNEL_OVERHEAD[ov.type] : undefined),
    );
  }
  return out;
}

/** Throws a TopologyValidationError listing every problem, or returns the spec. */
export function validateTopology(spec: TopologySpec): TopologySpec {
  const errs = checkTopology(spec);
  if (errs.length) throw new TopologyValidationError(errs);
  return spec;
}
