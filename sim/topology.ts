/**
 * Topologies as code: the typed builder people write (`new Topology({ seed })`,
 * hosts, underlay switches/routers/leaf-spine, bridges with tunnel meshes or a
 * flow-based tunnel port, VMs attached to bridges) and `start()`, which validates the
 * model, builds it out of sim/ objects and Hypervisors, and returns a running
 * `Network` (network.ts) with ping, pingAll, traffic, failures, captures, trace and
 * journey.
 *
 * The builder only records a TopologySpec (topology-schema.ts) — the same model the
 * YAML/JSON loader produces — so `Topology.fromSpec(loadTopologyFile(f))` and a
 * hand-written script behave the same. Nothing is built before `start()`, and
 * `start()` validates everything first.
 *
 * Configuration reaches each host only through its OVSDB (Hypervisor.addBridge,
 * addPort, attach: the transactions ovs-vsctl makes); OpenFlow rules through its
 * ofctl. A user may change a running host the same ways.
 *
 * Typical use
 *   const topo = new Topology({ seed: 1 });
 *   const [hv1, hv2] = topo.hosts(["hv1", "hv2"], { underlay: "192.168.0.0/24" });
 *   topo.underlaySwitch("tor", [hv1, hv2], { latency: "50us", bandwidth: "10Gbps" });
 *   for (const hv of [hv1, hv2]) hv.bridge("br-int").vxlanMesh({ vni: 100 });
 *   const vm1 = hv1.vm("vm1", { ip: "10.0.0.1/24" }).attach("br-int");
 *   const vm2 = hv2.vm("vm2", { ip: "10.0.0.2/24" }).attach("br-int");
 *   const net = await topo.start();
 *   await net.ping(vm1, vm2, { count: 3 });      // PingResult
 *   net.host("hv1").dpctlDumpFlows();            // the megaflows, as OVS prints them
 *   net.journey(vm1, vm2).text;                  // every hop of one packet
 *
 * Port names it gives: VM taps "tap-<vm>" (Hypervisor's), mesh tunnels
 * "vx100-hv2" / "gre42-hv3" / "gnv7-hv1" (meshPortName), a flow-based tunnel "vx5000"
 * (tunnelPortName), uplinks by their NIC name.
 *
 * It does not: run spanning tree in the underlay (keep it loop-free at L2), or model
 * anything but IPv4 underlays.
 */

import { TunnelStack } from "../overlay/index.js";
import type { Endpoint } from "./endpoint.js";
import { Hypervisor } from "./hypervisor.js";
import { type IpPrefix, parsePrefix } from "./ip-address.js";
import type { LinkOptions, LinkPort } from "./link.js";
import { Network } from "./network.js";
import { TopologyError, TopologyValidationError } from "./topology-errors.js";
import {
  checkTopology,
  DEFAULT_BRIDGE,
  defaultVmMtus,
  emptyTopology,
  type HostSpec,
  type LinkParams,
  type OverlaySpec,
  splitPortRef,
  type TopologySpec,
  type TunnelType,
  UNDERLAY_NIC,
  type VlanMode,
  type VmSpec,
} from "./topology-schema.js";
import { UnderlaySwitch } from "./underlay-switch.js";
import { World } from "./world.js";

export interface TopologyOptions {
  /** Seed of the world's RNG: the same seed and script give the same run. Default 1. */
  seed?: number;
}

export interface StartOptions {
  /** Simulated time one upcall costs a host's handler. Default: the Hypervisor's. */
  upcallCostNs?: number;
  /** other_config for every host's Open_vSwitch row (e.g. `{ "max-idle": "10000" }`). */
  otherConfig?: Record<string, string>;
  /** Serve each host's OVSDB on `<dir>/<host>.sock` for stock ovs-vsctl. */
  socketDir?: string;
}

/** A VM in the builder; pass it (or its name) to Network methods. */
export class VmRef {
  constructor(
    readonly spec: VmSpec,
    readonly host: HostRef,
  ) {}
  get name(): string {
    return this.spec.name;
  }
  /** Plugs the VM into `bridge` of its host, with optional VLAN settings. */
  attach(
    bridge: string = DEFAULT_BRIDGE,
    port: { tag?: number; trunks?: number[]; vlanMode?: VlanMode } = {},
  ): VmRef {
    this.host.bridge(bridge);
    this.spec.bridge = bridge;
    if (port.tag !== undefined) this.spec.tag = port.tag;
    if (port.trunks) this.spec.trunks = port.trunks;
    if (port.vlanMode) this.spec.vlanMode = port.vlanMode;
    return this;
  }
}

export interface MeshOptions {
  vni: number;
  /** Name of the overlay; hosts joining the same type and VNI join the same one. */
  name?: string;
}

/** A bridge of a host in the builder. */
export class BridgeRef {
  constructor(
    readonly name: string,
    readonly host: HostRef,
  ) {}

  /** One VXLAN port per other host of this overlay (`options:remote_ip=<peer>`). */
  vxlanMesh(o: MeshOptions): BridgeRef {
    this.host.topo.joinOverlay(this, "vxlan", "mesh", o);
    return this;
  }
  greMesh(o: MeshOptions): BridgeRef {
    this.host.topo.joinOverlay(this, "gre", "mesh", o);
    return this;
  }
  geneveMesh(o: MeshOptions): BridgeRef {
    this.host.topo.joinOverlay(this, "geneve", "mesh", o);
    return this;
  }
  /**
   * One tunnel port with `options:remote_ip=flow`, steered by flows that set tun_dst
   * per destination VM (as OVN and Antrea do), for deployments too large for a mesh.
   */
  flowTunnel(
    o: MeshOptions & { type?: TunnelType; steering?: "per-vm" | "vtep-in-ip" },
  ): BridgeRef {
    this.host.topo.joinOverlay(this, o.type ?? "vxlan", "flow", o);
    if (o.steering) {
      const name = o.name ?? `${o.type ?? "vxlan"}-${o.vni}`;
      this.host.topo.spec.overlays.find((x) => x.name === name)!.steering = o.steering;
    }
    return this;
  }
  /**
   * Plugs a physical NIC of the host into this bridge (a trunk or access uplink); link
   * it with `topo.link("hv1:eth1", ...)`.
   */
  uplink(
    name: string,
    port: { tag?: number; trunks?: number[]; vlanMode?: VlanMode } = {},
  ): BridgeRef {
    const b = this.host.spec.bridges.find((x) => x.name === this.name)!;
    (b.uplinks ??= []).push({ name, ...port });
    return this;
  }
  /** OpenFlow rules (ovs-ofctl add-flow syntax) installed once the bridge is up. */
  flows(...rules: string[]): BridgeRef {
    const b = this.host.spec.bridges.find((x) => x.name === this.name)!;
    (b.flows ??= []).push(...rules);
    return this;
  }
}

/** A hypervisor in the builder. */
export class HostRef {
  private readonly bridgeRefs = new Map<string, BridgeRef>();
  constructor(
    readonly spec: HostSpec,
    readonly topo: Topology,
  ) {}
  get name(): string {
    return this.spec.name;
  }
  /** The bridge called `name`, declared on first use (default fail_mode standalone). */
  bridge(
    name: string = DEFAULT_BRIDGE,
    opts: { failMode?: "standalone" | "secure" } = {},
  ): BridgeRef {
    let b = this.bridgeRefs.get(name);
    if (!b) {
      b = new BridgeRef(name, this);
      this.bridgeRefs.set(name, b);
      if (!this.spec.bridges.some((x) => x.name === name))
        this.spec.bridges.push({ name, where: `bridge ${this.name}/${name}` });
    }
    if (opts.failMode) this.spec.bridges.find((x) => x.name === name)!.failMode = opts.failMode;
    return b;
  }
  /** A VM with one vNIC on this host; `.attach(bridge)` plugs it in. */
  vm(
    name: string,
    o: { ip: string; gateway?: string; mac?: string; mtu?: number; kind?: "vm" | "container" },
  ): VmRef {
    const spec: VmSpec = { name, host: this.name, bridge: "", ip: o.ip, where: `vm ${name}` };
    if (o.gateway) spec.gateway = o.gateway;
    if (o.mac) spec.mac = o.mac;
    if (o.mtu !== undefined) spec.mtu = o.mtu;
    if (o.kind) spec.kind = o.kind;
    this.topo.spec.vms.push(spec);
    return new VmRef(spec, this);
  }
}

type NodeLike = HostRef | string;
const nodeName = (n: NodeLike): string => (typeof n === "string" ? n : n.name);

function addOffset(p: IpPrefix, n: number): string {
  const w = p.address.words[0]! >>> 0;
  const v = (w + n) >>> 0;
  return `${v >>> 24}.${(v >>> 16) & 255}.${(v >>> 8) & 255}.${v & 255}/${p.length}`;
}

export class Topology {
  readonly spec: TopologySpec;
  private readonly hostRefs = new Map<string, HostRef>();

  constructor(options: TopologyOptions = {}) {
    this.spec = emptyTopology(options.seed ?? 1);
  }

  /** A builder over a model read from YAML/JSON (or made by hand). */
  static fromSpec(spec: TopologySpec): Topology {
    const t = new Topology({ seed: spec.seed });
    Object.assign(t.spec, spec);
    for (const h of spec.hosts) t.hostRefs.set(h.name, new HostRef(h, t));
    return t;
  }

  /** One hypervisor whose eth0 has `underlay` ("192.168.0.1/24"). */
  host(name: string, o: { underlay: string; gateway?: string }): HostRef {
    const spec: HostSpec = { name, underlayIp: o.underlay, bridges: [], where: `host ${name}` };
    if (o.gateway) spec.underlayGateway = o.gateway;
    this.spec.hosts.push(spec);
    const ref = new HostRef(spec, this);
    this.hostRefs.set(name, ref);
    return ref;
  }

  /**
   * Several hypervisors numbered into `underlay` ("192.168.0.0/24" gives .1, .2, ...);
   * `first` is the offset of the first address (default 1).
   */
  hosts(
    names: readonly string[],
    o: { underlay: string; first?: number; gateway?: string },
  ): HostRef[] {
    const p = parsePrefix(o.underlay);
    if (!p || p.address.v6)
      throw new TopologyError(
        "ERR_TOPO_SCHEMA",
        `hosts ${names.join(",")}`,
        `underlay must be an IPv4 prefix such as 192.168.0.0/24, got ${JSON.stringify(o.underlay)}`,
      );
    const first = o.first ?? 1;
    return names.map((n, i) =>
      this.host(n, {
        underlay: addOffset(p, first + i),
        ...(o.gateway ? { gateway: o.gateway } : {}),
      }),
    );
  }

  /** A host already declared. */
  hostRef(name: string): HostRef | undefined {
    return this.hostRefs.get(name);
  }

  /** An explicit link between two ports ("hv1:eth0", "tor:p3", "r1:eth0"). */
  link(a: string, b: string, params: LinkParams = {}): Topology {
    this.spec.links.push({ a, b, where: `link ${a} <-> ${b}`, ...params });
    return this;
  }

  /** An L2 switch joining `members` (hosts' eth0, or "node:port" refs), one link each. */
  underlaySwitch(name: string, members: readonly NodeLike[], params: LinkParams = {}): string {
    this.spec.switches.push({ name, where: `switch ${name}`, ...params });
    members.forEach((m, i) => {
      const ref = nodeName(m);
      this.link(ref.includes(":") ? ref : `${ref}:${UNDERLAY_NIC}`, `${name}:p${i + 1}`, params);
    });
    return name;
  }

  /** A router (an IP-forwarding endpoint) with named interfaces and static routes. */
  router(
    name: string,
    interfaces: Record<string, string>,
    routes: Record<string, string> = {},
  ): string {
    this.spec.routers.push({
      name,
      where: `router ${name}`,
      interfaces: Object.entries(interfaces).map(([n, ip]) => ({ name: n, ip })),
      routes: Object.entries(routes).map(([prefix, via]) => ({ prefix, via })),
    });
    return name;
  }

  /**
   * A leaf-spine underlay: `leaves` L2 leaf switches with `hostsPerLeaf` hypervisors
   * each (leaf i is subnet 10.<i>.0.0/24... of `base`), and `spines` routers that sit on
   * every leaf subnet and route between them. Hosts use spine 0 as gateway; losing it
   * loses inter-leaf traffic (the demo of a spine failure). Returns the hosts, leaf-major.
   */
  leafSpine(o: {
    leaves: number;
    spines: number;
    hostsPerLeaf: number;
    /** First two octets of the underlay, default "172.16": leaf i is 172.16.<i>.0/24. */
    base?: string;
    hostName?: (leaf: number, index: number) => string;
    link?: LinkParams;
    uplink?: LinkParams;
  }): HostRef[] {
    const base = o.base ?? "172.16";
    const out: HostRef[] = [];
    const spineIfs: Record<string, string>[] = Array.from({ length: o.spines }, () => ({}));
    for (let l = 0; l < o.leaves; l++) {
      const leaf = `leaf${l + 1}`;
      this.spec.switches.push({ name: leaf, where: `switch ${leaf}`, ...(o.link ?? {}) });
      for (let s = 0; s < o.spines; s++) spineIfs[s]![`eth${l}`] = `${base}.${l}.${250 + s}/24`;
      for (let h = 0; h < o.hostsPerLeaf; h++) {
        const name = o.hostName?.(l, h) ?? `hv${l * o.hostsPerLeaf + h + 1}`;
        const ref = this.host(name, {
          underlay: `${base}.${l}.${h + 1}/24`,
          gateway: `${base}.${l}.250`,
        });
        this.link(`${name}:${UNDERLAY_NIC}`, `${leaf}:p${h + 1}`, o.link ?? {});
        out.push(ref);
      }
    }
    for (let s = 0; s < o.spines; s++) {
      const spine = `spine${s + 1}`;
      this.router(spine, spineIfs[s]!);
      for (let l = 0; l < o.leaves; l++)
        this.link(`${spine}:eth${l}`, `leaf${l + 1}:up${s + 1}`, o.uplink ?? o.link ?? {});
    }
    return out;
  }

  /** Adds `bridge`'s host to the overlay of that type and VNI (made on first use). */
  joinOverlay(bridge: BridgeRef, type: TunnelType, mode: "mesh" | "flow", o: MeshOptions): void {
    const name = o.name ?? `${type}-${o.vni}`;
    let ov = this.spec.overlays.find((x) => x.name === name);
    if (!ov) {
      ov = {
        name,
        type,
        vni: o.vni,
        bridge: bridge.name,
        hosts: [],
        mode,
        where: `overlay ${name}`,
      };
      this.spec.overlays.push(ov);
    }
    if (ov.type !== type || ov.vni !== o.vni || ov.mode !== mode || ov.bridge !== bridge.name)
      throw new TopologyError(
        "ERR_TOPO_VNI_CLASH",
        `bridge ${bridge.host.name}/${bridge.name}`,
        `overlay "${name}" is ${ov.mode} ${ov.type} VNI ${ov.vni} on bridge ${ov.bridge}; host ${bridge.host.name} asked for ${mode} ${type} VNI ${o.vni} on ${bridge.name} — give it another name`,
      );
    if (!ov.hosts.includes(bridge.host.name)) ov.hosts.push(bridge.host.name);
  }

  /** Every problem in the model (unattached VMs first), without throwing. */
  check(): TopologyError[] {
    const errs: TopologyError[] = [];
    for (const v of this.spec.vms)
      if (v.bridge === "")
        errs.push(
          new TopologyError(
            "ERR_TOPO_UNKNOWN_REF",
            v.where ?? `vm ${v.name}`,
            `vm "${v.name}" is not attached to a bridge; call .attach("br-int")`,
          ),
        );
    if (errs.length) return errs;
    return checkTopology(this.spec);
  }

  /** Throws a TopologyValidationError listing every problem. */
  validate(): void {
    const errs = this.check();
    if (errs.length) throw new TopologyValidationError(errs);
  }

  /** Validates, builds and starts everything; see Network for what it offers. */
  async start(options: StartOptions = {}): Promise<Network> {
    this.validate();
    const spec = this.spec;
    const world = new World({ seed: spec.seed });
    const hosts = new Map<string, Hypervisor>();
    const hostOf = new Map<string, HostSpec>();
    const inOverlay = new Set(spec.overlays.flatMap((o) => o.hosts));

    // Phase 1, synchronous and in spec order (so seeds and MACs are allocated the same
    // way every run): hypervisors, their NICs, underlay boxes, links and VMs.
    for (const h of spec.hosts) {
      const hv = new Hypervisor(world, h.name, {
        ...(inOverlay.has(h.name)
          ? { tunnels: new TunnelStack({ name: `${h.name}-tunnels` }) }
          : {}),
        ...(options.upcallCostNs !== undefined ? { upcallCostNs: options.upcallCostNs } : {}),
        ...(options.otherConfig ? { otherConfig: options.otherConfig } : {}),
        ...(options.socketDir ? { socket: `${options.socketDir}/${h.name}.sock` } : {}),
      });
      hosts.set(h.name, hv);
      hostOf.set(h.name, h);
      hv.nic(UNDERLAY_NIC, {
        ip: h.underlayIp,
        ...(h.underlayGateway ? { gateway: h.underlayGateway } : {}),
      });
      for (const b of h.bridges) for (const u of b.uplinks ?? []) hv.netdev(u.name);
    }

    const switches = new Map<string, UnderlaySwitch>();
    for (const s of spec.switches) switches.set(s.name, new UnderlaySwitch(s.name));
    const routers = new Map<string, Endpoint>();
    for (const r of spec.routers) {
      const ep = world.endpoint(r.name, {
        ipForward: true,
        vnics: r.interfaces.map((i) => ({ name: i.name, ipv4: i.ip })),
      });
      for (const rt of r.routes) ep.addRoute(rt.prefix, { via: rt.via });
      routers.set(r.name, ep);
    }
    const portOf = (ref: string): LinkPort => {
      const [node, port] = splitPortRef(ref);
      const hv = hosts.get(node);
      if (hv) return !port || port === UNDERLAY_NIC ? hv.nic(UNDERLAY_NIC) : hv.netdev(port);
      const sw = switches.get(node);
      if (sw) return port ? sw.port(port) : sw.nextPort();
      return routers.get(node)!.vnic(port);
    };
    const links = spec.links.map((l) => {
      const opts: LinkOptions = { name: `${l.a}<->${l.b}` };
      if (l.latency !== undefined) opts.latency = l.latency;
      if (l.bandwidth !== undefined) opts.bandwidth = l.bandwidth;
      if (l.loss !== undefined) opts.loss = l.loss;
      if (l.jitter !== undefined) opts.jitter = l.jitter;
      if (l.mtu !== undefined) opts.mtu = l.mtu;
      return world.link(portOf(l.a), portOf(l.b), opts);
    });

    const vms = new Map<string, { spec: VmSpec; hv: Hypervisor }>();
    const vmsOf = new Map<string, VmSpec[]>();
    const vmMtus = defaultVmMtus(spec);
    for (const v of spec.vms) {
      const hv = hosts.get(v.host)!;
      const mtu = vmMtus.get(v.name);
      hv.vm(v.name, {
        ip: v.ip,
        ...(v.gateway ? { gateway: v.gateway } : {}),
        ...(v.mac ? { mac: v.mac } : {}),
        ...(mtu !== undefined ? { mtu } : {}),
        ...(v.kind ? { kind: v.kind } : {}),
      });
      vms.set(v.name, { spec: v, hv });
      const list = vmsOf.get(v.host);
      if (list) list.push(v);
      else vmsOf.set(v.host, [v]);
    }

    // Phase 2: each host's OVSDB configuration, as ovs-vsctl would write it, one host
    // after another (measured faster than interleaving hosts' transactions).
    const overlaysOf = new Map<string, OverlaySpec[]>();
    for (const ov of spec.overlays)
      for (const hn of ov.hosts) overlaysOf.set(hn, [...(overlaysOf.get(hn) ?? []), ov]);
    const configure = async (h: HostSpec): Promise<void> => {
      const hv = hosts.get(h.name)!;
      await hv.start();
      // One transaction (and one reconfiguration) per host, as one ovs-vsctl call
      // with "--" between commands would be: per-port transactions dominated start.
      const cmds: string[][] = [];
      for (const b of h.bridges)
        cmds.push(Hypervisor.addBridgeCommand(b.name, { failMode: b.failMode ?? "standalone" }));
      for (const b of h.bridges)
        for (const u of b.uplinks ?? [])
          cmds.push(
            Hypervisor.addPortCommand(b.name, u.name, {
              ...(u.tag !== undefined ? { tag: u.tag } : {}),
              ...(u.trunks ? { trunks: u.trunks } : {}),
              ...(u.vlanMode ? { vlanMode: u.vlanMode } : {}),
            }),
          );
      for (const ov of overlaysOf.get(h.name) ?? [])
        cmds.push(...tunnelPortCommands(ov, h.name, hostOf));
      for (const v of vmsOf.get(h.name) ?? [])
        cmds.push(
          Hypervisor.addPortCommand(v.bridge, hv.vms.get(v.name)!.tap, {
            ...(v.tag !== undefined ? { tag: v.tag } : {}),
            ...(v.trunks ? { trunks: v.trunks } : {}),
            ...(v.vlanMode ? { vlanMode: v.vlanMode } : {}),
          }),
        );
      await hv.vsctlBatch(cmds);
    };
    for (const h of spec.hosts) await configure(h);

    for (const ov of spec.overlays) if (ov.mode === "flow") steerFlowTunnel(ov, spec, hosts);
    for (const h of spec.hosts)
      for (const b of h.bridges)
        for (const f of b.flows ?? []) hosts.get(h.name)!.ofctl(`add-flow ${b.name} ${f}`);

    return new Network({ world, spec, hosts, vms, switches, routers, links });
  }
}

/** The ovs-vsctl commands adding the tunnel ports overlay `ov` needs on host `hn`. */
function tunnelPortCommands(
  ov: OverlaySpec,
  hn: string,
  hostOf: Map<string, HostSpec>,
): string[][] {
  const ipOf = (h: string) => hostOf.get(h)!.underlayIp.split("/")[0]!;
  if (ov.mode === "flow") {
    return [
      Hypervisor.addPortCommand(ov.bridge, tunnelPortName(ov), {
        type: ov.type,
        options: { remote_ip: "flow", key: String(ov.vni), local_ip: ipOf(hn) },
      }),
    ];
  }
  const cmds: string[][] = [];
  for (const [i, peer] of ov.hosts.entries()) {
    if (peer === hn) continue;
    cmds.push(
      Hypervisor.addPortCommand(ov.bridge, meshPortName(ov, peer, i), {
        type: ov.type,
        options: { remote_ip: ipOf(peer), key: String(ov.vni), local_ip: ipOf(hn) },
      }),
    );
  }
  return cmds;
}

const PORT_PREFIX: Readonly<Record<TunnelType, string>> = {
  vxlan: "vx",
  gre: "gre",
  geneve: "gnv",
};

/**
 * A mesh port's name: "vx100-hv2" (type, VNI, peer), unique on a host even when
 * several overlays reach the same peer; "vx100-p3" (peer index) when the name would
 * pass Linux's 15-character limit.
 */
export function meshPortName(ov: OverlaySpec, peer: string, peerIndex: number): string {
  const name = `${PORT_PREFIX[ov.type]}${ov.vni}-${peer}`;
  return name.length <= 15 ? name : `${PORT_PREFIX[ov.type]}${ov.vni}-p${peerIndex}`.slice(0, 15);
}

/** The one port of a flow-based overlay on each host. */
export function tunnelPortName(ov: OverlaySpec): string {
  return `${PORT_PREFIX[ov.type]}${ov.vni}`.slice(0, 15);
}

/**
 * Flow-based tunnels: rules on each member host's bridge that pick tun_dst, as OVN
 * installs from its southbound database. Traffic from the tunnel and to local VMs is
 * NORMAL; with "per-vm" steering, unicast to a remote VM's MAC and ARP for its IP go
 * to its host's VTEP; with "vtep-in-ip", IP and ARP copy the VTEP's low 16 bits from
 * the destination address (see OverlaySpec.steering) — a constant number of rules.
 */
function steerFlowTunnel(
  ov: OverlaySpec,
  spec: TopologySpec,
  hosts: Map<string, Hypervisor>,
): void {
  const members = new Set(ov.hosts);
  const vtep = new Map(spec.hosts.map((h) => [h.name, h.underlayIp.split("/")[0]!]));
  const port = tunnelPortName(ov);
  const onOverlay = spec.vms.filter((v) => members.has(v.host) && v.bridge === ov.bridge);
  for (const hn of ov.hosts) {
    const hv = hosts.get(hn)!;
    const lines = [`priority=120,in_port=${port},actions=NORMAL`];
    if (ov.steering === "vtep-in-ip") {
      const [a, b, c, d] = vtep.get(hn)!.split(".").map(Number) as [number, number, number, number];
      const high = ((a << 8) | b) >>> 0;
      const local = `0.${c}.${d}.0/0.255.255.0`;
      const to = `load:0x${high.toString(16)}->NXM_NX_TUN_IPV4_DST[16..31],output:${port}`;
      lines.push(
        `priority=110,ip,nw_dst=${local},actions=NORMAL`,
        `priority=110,arp,arp_tpa=${local},actions=NORMAL`,
        `priority=100,ip,actions=move:NXM_OF_IP_DST[8..23]->NXM_NX_TUN_IPV4_DST[0..15],${to}`,
        `priority=100,arp,actions=move:NXM_OF_ARP_TPA[8..23]->NXM_NX_TUN_IPV4_DST[0..15],${to}`,
      );
    } else {
      for (const v of onOverlay) {
        if (v.host === hn) continue;
        const to = `set_field:${vtep.get(v.host)}->tun_dst,output:${port}`;
        const mac = [...hosts.get(v.host)!.vms.get(v.name)!.vnic.mac]
          .map((x) => x.toString(16).padStart(2, "0"))
          .join(":");
        lines.push(`priority=100,dl_dst=${mac},actions=${to}`);
        lines.push(`priority=100,arp,arp_tpa=${v.ip.split("/")[0]},actions=${to}`);
      }
    }
    for (const l of lines) hv.ofctl(`add-flow ${ov.bridge} ${l}`);
  }
}
