/**
 * A simulated hypervisor: one Linux box with Open vSwitch on it. It owns one OVSDB
 * database (the `Open_vSwitch` schema, in memory, optionally served on a unix socket
 * so stock `ovs-vsctl --db=unix:SOCK` can change it live), one vswitchd configured only
 * through that database, one userspace datapath, its underlay NICs (its own IP stack:
 * a sim Endpoint, so underlay ARP is real), and the emulated VMs/containers whose
 * vNICs plug into its bridges.
 *
 * Contract (what the topology layer codes against)
 *   const hv = new Hypervisor(world, "hv1", { upcallCostNs: 20_000, socket?: "/tmp/hv1.sock" });
 *   await hv.start();                                   // root row, vswitchd, optional punix:
 *   await hv.addBridge("br0", { failMode: "standalone" });
 *   const vm = hv.vm("vm1", { ip: "10.0.0.1/24" });     // endpoint + its tap (a FramePort)
 *   await hv.attach(vm, "br0", { tag: 10 });           // links vNIC↔tap, then add-port
 *   await hv.addPort("br0", "patch-a", { type: "patch", options: { peer: "patch-b" } });
 *   const eth0 = hv.nic("eth0", { ip: "192.168.0.1/24" }); // underlay NIC: a Vnic (LinkPort)
 *   world.link(eth0, torPort);                            // topology wires hosts together
 *   const phy = hv.netdev("eth1");  // a datapath netdev (FramePort) to link, then addPort
 *   hv.ofctl("add-flow br0 priority=10,actions=NORMAL"); // same text in and out as ovs-ofctl
 *   hv.appctl("dpctl/dump-flows");                       // same text as ovs-appctl
 *   await hv.vsctl("add-port br0 p1 -- set Port p1 tag=5"); // ovs-vsctl's transactions
 *
 * Every configuration change goes through the host's OVSDB (never behind vswitchd's
 * back) and resolves once vswitchd has applied it (cur_cfg caught up with next_cfg),
 * so `await hv.addPort(...)` followed by traffic sees the new port. `ofctl` edits
 * OpenFlow tables directly, as ovs-ofctl does over OpenFlow; it is synchronous.
 *
 * A VM's vNIC is joined by a sim Link (default: no latency) to a FramePort named
 * `tap-<vm>` (or `options.tap`) that becomes a datapath netdev vport when a port of
 * that name is added to a bridge. Frames from the datapath leave through the FramePort.
 *
 * Tunnels: each host has an overlay/ TunnelStack (option `tunnels`). The host registers its vport
 * types on the datapath and gives it `underlay` (host-underlay.ts): outer packets leave
 * through the host's own IP stack (`nic()` addresses, routes, real ARP) exactly as the
 * TunnelStack built them (raw IP: hashed UDP source ports, GRE as IP protocol 47), and
 * VXLAN (4789) / Geneve (6081) / GRE datagrams arriving there are decapsulated into the
 * datapath with their outer TTL/TOS/ports in the flow key.
 * vswitchd uses kernel-style tunnel vports (set(tunnel(...)),output:vxlan_sys_4789);
 * a port with options remote_ip=flow / key=flow is steered by flows (set_field:...->
 * tun_dst), one port per host, as OVN and Antrea do.
 *
 * It does not: run bonds, or model CPU contention.
 */
import { readFileSync } from "node:fs";
import { Dpif } from "../datapath/index.js";
import { TunnelStack } from "../overlay/index.js";
import {
  Database,
  type DatabaseSchema,
  Idl,
  type Json,
  OvsdbServer,
  parseSchema,
  serveDatabase,
} from "../ovsdb/index.js";
import { type NetdevBinding, type NetdevProvider, Vswitchd } from "../vswitchd/index.js";
import type { Endpoint } from "./endpoint.js";
import { InvalidParameterError } from "./errors.js";
import { FramePort } from "./frame-port.js";
import { HostUnderlay, type UnderlayIpReceiver } from "./host-underlay.js";
import { runVsctl } from "./host-vsctl.js";
import type { Link, LinkOptions } from "./link.js";
import type { VlanMode } from "./topology-schema.js";
import type { Vnic } from "./vnic.js";
import type { World } from "./world.js";

export interface HypervisorOptions {
  /** Simulated time one upcall costs the handler (serialised). Default 20 µs. */
  readonly upcallCostNs?: number;
  /** Serve the database on `punix:<socket>` once started (for stock ovs-vsctl). */
  readonly socket?: string;
  /** Datapath seed (EMC insertion); default derived from the world's RNG. */
  readonly seed?: number;
  /**
   * The host's tunnel endpoint: overlay's TunnelStack by default, given the datapath
   * to register its vport types on and this host's underlay. `null`: no tunnels
   * (tunnel ports exist in OpenFlow but carry nothing).
   */
  readonly tunnels?: HostTunnelStack | null;
  /** other_config written to the Open_vSwitch row at start (e.g. max-idle). */
  readonly otherConfig?: Readonly<Record<string, string>>;
}

export interface VmOptions {
  /** "10.0.0.1/24". */
  readonly ip?: string;
  readonly ipv6?: string;
  readonly mac?: string;
  readonly gateway?: string;
  readonly mtu?: number;
  readonly kind?: "vm" | "container";
  /** Name of the host-side tap (the OVS port name). Default `tap-<vm>`. */
  readonly tap?: string;
}

export interface PortOptions {
  /** Interface.type: "" (system), "internal", "patch", "vxlan", "gre", "geneve". */
  readonly type?: string;
  readonly options?: Readonly<Record<string, string>>;
  readonly tag?: number;
  readonly trunks?: readonly number[];
  readonly vlanMode?: VlanMode;
  readonly ofportRequest?: number;
  readonly mtuRequest?: number;
  readonly mac?: string;
}

export interface BridgeOptions {
  readonly failMode?: "secure" | "standalone";
  readonly otherConfig?: Readonly<Record<string, string>>;
  /** "netdev" (default, userspace) — only the userspace datapath is simulated. */
  readonly datapathType?: string;
}

/** What the host needs of overlay's TunnelStack (structural, so either may evolve). */
export interface HostTunnelStack extends UnderlayIpReceiver {
  attach(dpif: Dpif): void;
  setUnderlay(underlay: HostUnderlay | null): void;
}

/** A VM or container on this host. */
export interface HostVm {
  readonly name: string;
  readonly endpoint: Endpoint;
  readonly vnic: Vnic;
  /** The host side of the vNIC: the OVS port name. */
  readonly tap: string;
  readonly tapPort: FramePort;
  readonly link: Link;
}

/** One datapath netdev of this host: a FramePort the vswitchd may bind to a vport. */
class HostNetdev implements NetdevBinding {
  portNo = -1;
  readonly port: FramePort;
  constructor(
    readonly name: string,
    readonly mac: string,
    dp: Dpif,
    onCarrier: () => void,
  ) {
    this.port = new FramePort(
      name,
      (f, o, l) => {
        if (this.portNo >= 0) dp.receive(this.portNo, f, o, l);
      },
      onCarrier,
    );
  }
  get carrier(): boolean {
    return this.port.carrier;
  }
  bind(portNo: number): void {
    this.portNo = portNo;
  }
}

function loadSchema(): unknown {
  for (const rel of [
    "../ovsdb/schemas/vswitch.ovsschema",
    "../../ovsdb/schemas/vswitch.ovsschema",
  ]) {
    try {
      return JSON.parse(readFileSync(new URL(rel, import.meta.url), "utf8"));
    } catch {
      // try the next layout (source tree vs dist/)
    }
  }
  return JSON.parse(readFileSync("/usr/share/openvswitch/vswitch.ovsschema", "utf8"));
}

// Parsed once per process: a DatabaseSchema is read-only, and parsing it per host was
// a measurable share of starting a thousand hosts.
let schemaCache: DatabaseSchema | undefined;

export class Hypervisor {
  readonly db: Database;
  readonly server: OvsdbServer;
  readonly dpif: Dpif;
  readonly vswitchd: Vswitchd;
  /** The host's own IP stack (underlay NICs are its vNICs). */
  readonly stack: Endpoint;
  /** Tunnel traffic's way in and out through `stack`. */
  readonly underlay: HostUnderlay;
  /** The tunnel endpoint (vports, encap/decap), or null. */
  readonly tunnels: HostTunnelStack | null;
  readonly vms = new Map<string, HostVm>();
  private readonly netdevs = new Map<string, HostNetdev>();
  private readonly cfgIdl: Idl;
  private started = false;
  private macCount = 0;

  constructor(
    readonly world: World,
    readonly name: string,
    readonly options: HypervisorOptions = {},
  ) {
    schemaCache ??= parseSchema(loadSchema());
    this.db = Database.inMemory(schemaCache);
    this.server = new OvsdbServer({ serverId: undefined });
    this.server.addDatabase(serveDatabase(this.db));
    const sched = world.scheduler;
    this.dpif = new Dpif({
      name: "ovs-netdev",
      clock: sched,
      seed: options.seed ?? world.rng.nextU32(),
      onUpcallQueued: () => this.vswitchd.upcallQueued(),
    });
    const provider: NetdevProvider = {
      open: (ifName) => this.netdevs.get(ifName),
    };
    this.vswitchd = new Vswitchd({
      idl: (opts) => Idl.inProcess(this.server, "Open_vSwitch", opts),
      schema: this.db.schema,
      dpif: this.dpif,
      clock: sched,
      timers: { schedule: (ns, fn) => sched.schedule(ns, fn), cancel: (h) => sched.cancel(h) },
      netdevs: provider,
      upcallCostNs: options.upcallCostNs ?? 20_000,
    });
    this.cfgIdl = Idl.inProcess(this.server, "Open_vSwitch", { schema: this.db.schema });
    this.stack = world.endpoint(name, { vnics: [] });
    this.underlay = new HostUnderlay(this.stack);
    const t = options.tunnels === undefined ? new TunnelStack({ name }) : options.tunnels;
    this.tunnels = t;
    if (t) {
      t.attach(this.dpif);
      t.setUnderlay(this.underlay);
      this.underlay.setReceiver(t);
      this.underlay.listen(4789);
      this.underlay.listen(6081);
    }
  }

  /** Creates the root row, connects vswitchd and (optionally) serves the socket. */
  async start(): Promise<void> {
    if (this.started) return;
    this.started = true;
    const oc: Json = ["map", Object.entries(this.options.otherConfig ?? {})];
    await this.db.transact([
      { op: "insert", table: "Open_vSwitch", row: { other_config: oc, next_cfg: 0, cur_cfg: 0 } },
    ]);
    await this.cfgIdl.connect();
    await this.vswitchd.start();
    if (this.options.socket) await this.server.listen(`punix:${this.options.socket}`);
  }

  /** Closes the socket and the database sessions; the world keeps its objects. */
  async stop(): Promise<void> {
    this.cfgIdl.close();
    this.vswitchd.stop();
    await this.server.close();
  }

  /** A datapath netdev of this host (created on first use) for the topology to link. */
  netdev(name: string, mac?: string): FramePort {
    let nd = this.netdevs.get(name);
    if (!nd) {
      // Carrier changes reach OVSDB as Interface.link_state, as OVS reports them.
      nd = new HostNetdev(name, mac ?? this.nextMac(), this.dpif, () => {
        void this.vswitchd.refreshStats();
      });
      this.netdevs.set(name, nd);
      // A port configured before its device existed comes up now, as on a netdev
      // hotplug in OVS.
      if (this.started) this.vswitchd.rescan();
    }
    return nd.port;
  }

  /** An underlay NIC of the host's own IP stack: a Vnic for the topology to link. */
  nic(
    name: string,
    opts: { ip?: string; mac?: string; mtu?: number; gateway?: string } = {},
  ): Vnic {
    const existing = this.stack.vnics.find((v) => v.name === name);
    if (existing) return existing;
    const v = this.stack.addVnic({
      name,
      ipv4: opts.ip,
      mac: opts.mac,
      mtu: opts.mtu,
      gateway4: opts.gateway,
    });
    // What OVS caches from the kernel's routing table (`ovs/route/show`).
    if (v.ipv4) {
      const ip = v.ipv4.words[0]!;
      const text = (n: number) => `${n >>> 24}.${(n >>> 16) & 255}.${(n >>> 8) & 255}.${n & 255}`;
      const routes = this.vswitchd.of.routes;
      routes.add(`${text(ip)}/${v.prefix4}`, name, undefined, ip, false);
      if (v.gateway4) routes.add("0.0.0.0/0", name, text(v.gateway4.words[0]!), ip, false);
    }
    return v;
  }

  /** A VM (or container) with one vNIC, linked to its tap; attach() plugs it in. */
  vm(name: string, opts: VmOptions = {}, link: LinkOptions = {}): HostVm {
    if (this.vms.has(name))
      throw new InvalidParameterError(`host ${this.name}`, "vm", "a new name", name);
    const endpoint = this.world.endpoint(name, {
      kind: opts.kind ?? "vm",
      vnics: [
        {
          name: `${name}-eth0`,
          ipv4: opts.ip,
          ipv6: opts.ipv6,
          mac: opts.mac,
          gateway4: opts.gateway,
          mtu: opts.mtu,
        },
      ],
    });
    const tap = opts.tap ?? `tap-${name}`;
    const tapPort = this.netdev(tap);
    const vnic = endpoint.vnics[0]!;
    const l = this.world.link(vnic, tapPort, link);
    const vm: HostVm = { name, endpoint, vnic, tap, tapPort, link: l };
    this.vms.set(name, vm);
    return vm;
  }

  /** Plugs a VM's tap into a bridge (add-port through OVSDB). */
  async attach(vm: HostVm | string, bridge: string, opts: PortOptions = {}): Promise<void> {
    const v = typeof vm === "string" ? this.vms.get(vm) : vm;
    if (!v)
      throw new InvalidParameterError(`host ${this.name}`, "vm", "an existing VM", String(vm));
    await this.addPort(bridge, v.tap, opts);
  }

  async addBridge(name: string, opts: BridgeOptions = {}): Promise<void> {
    await this.vsctlArgs(Hypervisor.addBridgeCommand(name, opts));
  }

  /** The ovs-vsctl argv addBridge() runs (for vsctlBatch). */
  static addBridgeCommand(name: string, opts: BridgeOptions = {}): string[] {
    const sets: string[] = [];
    if (opts.failMode) sets.push(`fail_mode=${opts.failMode}`);
    for (const [k, v] of Object.entries(opts.otherConfig ?? {}))
      sets.push(`other_config:${k}=${v}`);
    return ["add-br", name, ...(sets.length ? ["--", "set", "Bridge", name, ...sets] : [])];
  }

  /**
   * Runs several ovs-vsctl commands (each an argv, e.g. from addBridgeCommand or
   * addPortCommand) as ONE transaction and waits once for vswitchd to apply it — how
   * a host is configured at start without a transaction and a reconfiguration per
   * port. Ports added together get their OpenFlow port numbers in name order.
   */
  async vsctlBatch(commands: readonly (readonly string[])[]): Promise<string> {
    const argv: string[] = [];
    for (const c of commands) {
      if (argv.length) argv.push("--");
      argv.push(...c);
    }
    return argv.length ? this.vsctlArgs(argv) : "";
  }

  async delBridge(name: string): Promise<void> {
    await this.vsctlArgs(["del-br", name]);
  }

  async addPort(bridge: string, port: string, opts: PortOptions = {}): Promise<void> {
    await this.vsctlArgs(Hypervisor.addPortCommand(bridge, port, opts));
  }

  /** The ovs-vsctl argv addPort() runs (for vsctlBatch). */
  static addPortCommand(bridge: string, port: string, opts: PortOptions = {}): string[] {
    const portSets: string[] = [];
    if (opts.tag !== undefined) portSets.push(`tag=${opts.tag}`);
    if (opts.trunks?.length) portSets.push(`trunks=${opts.trunks.join(",")}`);
    if (opts.vlanMode) portSets.push(`vlan_mode=${opts.vlanMode}`);
    const ifSets: string[] = [];
    if (opts.type) ifSets.push(`type=${opts.type}`);
    for (const [k, v] of Object.entries(opts.options ?? {})) ifSets.push(`options:${k}=${v}`);
    if (opts.ofportRequest !== undefined) ifSets.push(`ofport_request=${opts.ofportRequest}`);
    if (opts.mtuRequest !== undefined) ifSets.push(`mtu_request=${opts.mtuRequest}`);
    if (opts.mac) ifSets.push(`mac="${opts.mac}"`);
    const args = ["add-port", bridge, port];
    if (portSets.length) args.push("--", "set", "Port", port, ...portSets);
    if (ifSets.length) args.push("--", "set", "Interface", port, ...ifSets);
    return args;
  }

  async delPort(port: string, bridge?: string): Promise<void> {
    await this.vsctlArgs(bridge ? ["del-port", bridge, port] : ["del-port", port]);
  }

  /**
   * Runs ovs-vsctl commands (text, split on spaces, or an argv) as ovs-vsctl would:
   * the same transaction against this host's OVSDB, then waits for vswitchd to apply
   * it unless `--no-wait` is given. Returns ovs-vsctl's output.
   */
  async vsctl(cmd: string | readonly string[]): Promise<string> {
    const argv = typeof cmd === "string" ? cmd.trim().split(/\s+/) : [...cmd];
    return this.vsctlArgs(argv);
  }

  private async vsctlArgs(argv: readonly string[]): Promise<string> {
    if (!this.started) await this.start();
    return runVsctl(this.cfgIdl, this.db.schema, argv, (cfg) => this.vswitchd.waitForCfg(cfg));
  }

  /** `ovs-ofctl` text in and out: "add-flow br0 ...", "dump-flows br0", "show br0". */
  ofctl(cmd: string | readonly string[]): string {
    return this.vswitchd.ofctl(typeof cmd === "string" ? cmd : cmd.join(" "));
  }

  /** `ovs-appctl` text in and out: "dpctl/dump-flows", "fdb/show br0", "dpif/show". */
  appctl(cmd: string | readonly string[]): string {
    return this.vswitchd.appctl(typeof cmd === "string" ? cmd : cmd.join(" "));
  }

  /** Writes Interface statistics and link state to OVSDB now (OVS does it every 5 s). */
  async refreshStats(): Promise<void> {
    await this.vswitchd.refreshStats();
  }

  /** `ovs-appctl dpctl/dump-flows`, for displays. */
  dpctlDumpFlows(): string {
    return this.appctl("dpctl/dump-flows");
  }

  private nextMac(): string {
    // Deterministic per host: 0a:<hash of host name>:<counter>.
    let h = 0x811c9dc5;
    for (const c of this.name) h = Math.imul(h ^ c.charCodeAt(0), 0x01000193);
    this.macCount++;
    const b = [
      0x0a,
      (h >>> 24) & 0xff,
      (h >>> 16) & 0xff,
      (h >>> 8) & 0xff,
      h & 0xff,
      this.macCount & 0xff,
    ];
    return b.map((x) => x.toString(16).padStart(2, "0")).join(":");
  }
}
