/**
 * A running topology (what `Topology.start()` returns): the world, its hypervisors,
 * VMs, underlay switches, routers and links, and the tools Mininet users expect —
 * `ping`, `pingAll` (expected vs actual reachability), `traffic`, link and node
 * failure and recovery, `capture`, `trace` through one bridge, and `journey` across
 * every hop.
 *
 * Promises: every method runs the simulation only as far as its answer needs (virtual
 * time; as fast as possible), so calls compose in a script and the same seed gives
 * the same answers. Expected reachability is the topology's L2 segments: two VMs
 * should reach each other when they share an overlay (or a host's bridge outside any
 * overlay), a VLAN, and an IPv4 subnet. A pair counts as reachable only if the target
 * itself answered (tenants may reuse addresses; those pings run one at a time).
 *
 * It does not route between overlays (no logical routers) nor guess reachability
 * through user flows on secure bridges: pass `expected` to pingAll for those.
 */

import type { PortCapture } from "./capture.js";
import type { Endpoint } from "./endpoint.js";
import type { Hypervisor } from "./hypervisor.js";
import { Journey, type JourneyOptions, type JourneyResult } from "./journey.js";
import type { Link, LinkPort } from "./link.js";
import type { PingOptions, PingResult } from "./ping.js";
import { TopologyError } from "./topology-errors.js";
import { splitPortRef, type TopologySpec, UNDERLAY_NIC, type VmSpec } from "./topology-schema.js";
import { type FlowReport, TrafficGenerator } from "./traffic.js";
import type { UnderlaySwitch } from "./underlay-switch.js";
import { parseDurationNs } from "./units.js";
import type { World } from "./world.js";

export interface NetworkParts {
  world: World;
  spec: TopologySpec;
  hosts: Map<string, Hypervisor>;
  vms: Map<string, { spec: VmSpec; hv: Hypervisor }>;
  switches: Map<string, UnderlaySwitch>;
  routers: Map<string, Endpoint>;
  links: Link[];
}

/** A VM by name or anything with a `name` (a builder VmRef). */
export type VmLike = string | { readonly name: string };

export interface PingPair {
  from: string;
  to: string;
  expected: boolean;
  actual: boolean;
}

export interface PingAllResult {
  pairs: PingPair[];
  /** Pairs whose outcome differed from the expectation. */
  mismatches: PingPair[];
  /** Mininet's layout: "vm1 -> vm2 X", then a summary line. */
  text: string;
}

export interface TrafficSpec {
  from: VmLike;
  to: VmLike;
  rate?: string | number;
  duration?: string | number;
  size?: number;
}

const vmName = (v: VmLike): string => (typeof v === "string" ? v : v.name);

export class Network {
  readonly world: World;
  readonly spec: TopologySpec;
  readonly hosts: ReadonlyMap<string, Hypervisor>;
  readonly switches: ReadonlyMap<string, UnderlaySwitch>;
  readonly routers: ReadonlyMap<string, Endpoint>;
  readonly links: readonly Link[];
  private readonly vmMap: Map<string, { spec: VmSpec; hv: Hypervisor }>;
  private readonly segment = new Map<string, string>();

  constructor(p: NetworkParts) {
    this.world = p.world;
    this.spec = p.spec;
    this.hosts = p.hosts;
    this.switches = p.switches;
    this.routers = p.routers;
    this.links = p.links;
    this.vmMap = p.vms;
    const domain = l2Domains(p.spec);
    for (const v of p.spec.vms)
      this.segment.set(v.name, `${domain(`${v.host}/${v.bridge}`)}|${v.tag ?? "-"}`);
  }

  /** Virtual time now, ns. */
  nowNs(): number {
    return this.world.nowNs();
  }

  /** The hypervisor called `name`. */
  host(name: string): Hypervisor {
    const hv = this.hosts.get(name);
    if (!hv)
      throw new TopologyError(
        "ERR_TOPO_UNKNOWN_REF",
        `host ${name}`,
        `no host "${name}"; hosts: ${[...this.hosts.keys()].join(", ")}`,
      );
    return hv;
  }

  /** A VM's endpoint (its IP stack). */
  vm(v: VmLike): Endpoint {
    return this.vmEntry(v).hv.vms.get(vmName(v))!.endpoint;
  }

  /** The VM's IPv4 address, without prefix. */
  ipOf(v: VmLike): string {
    return this.vmEntry(v).spec.ip.split("/")[0]!;
  }

  /** The hypervisor a VM runs on. */
  hostOf(v: VmLike): Hypervisor {
    return this.vmEntry(v).hv;
  }

  vmNames(): string[] {
    return [...this.vmMap.keys()];
  }

  private vmEntry(v: VmLike): { spec: VmSpec; hv: Hypervisor } {
    const e = this.vmMap.get(vmName(v));
    if (!e)
      throw new TopologyError(
        "ERR_TOPO_UNKNOWN_REF",
        `vm ${vmName(v)}`,
        `no VM "${vmName(v)}" in this topology`,
      );
    return e;
  }

  /** Runs the simulation for `duration` of virtual time ("2s", ns). */
  run(duration: string | number): void {
    this.world.run({ untilNs: this.world.nowNs() + parseDurationNs(duration) });
  }

  /** Pings `to` from `from` (default 3 requests, 1 s apart) and runs until done. */
  async ping(from: VmLike, to: VmLike | string, options: PingOptions = {}): Promise<PingResult> {
    return this.pingSync(from, to, options);
  }

  /** ping, without the promise (for loops that must not yield). */
  pingSync(from: VmLike, to: VmLike | string, options: PingOptions = {}): PingResult {
    const target = typeof to === "string" && !this.vmMap.has(to) ? to : this.ipOf(to as VmLike);
    const s = this.vm(from).ping(target, { count: 3, ...options });
    this.world.runUntil(() => s.done);
    return s.result;
  }

  /** Whether two VMs should reach each other (same segment, VLAN and subnet). */
  expectedReachable(a: VmLike, b: VmLike): boolean {
    const sa = this.segment.get(vmName(a));
    if (sa === undefined || sa !== this.segment.get(vmName(b))) return false;
    const ea = this.vmEntry(a).spec.ip;
    const eb = this.vmEntry(b).spec.ip;
    return sameSubnet(ea, eb);
  }

  /**
   * Pings every ordered pair of VMs once (concurrently, in virtual time) and compares
   * with `expected` (default: expectedReachable).
   */
  async pingAll(
    options: {
      vms?: readonly VmLike[];
      expected?: (from: string, to: string) => boolean;
      timeoutMs?: number;
    } = {},
  ): Promise<PingAllResult> {
    const names = (options.vms ?? this.vmNames()).map(vmName);
    const expect = options.expected ?? ((a: string, b: string) => this.expectedReachable(a, b));
    // A target whose address another VM also has (tenants reusing addresses) could be
    // answered by the wrong VM: ping those one at a time and check that the target
    // itself replied. The rest run concurrently.
    const ipCount = new Map<string, number>();
    for (const v of this.vmMap.values()) {
      const ip = v.spec.ip.split("/")[0]!;
      ipCount.set(ip, (ipCount.get(ip) ?? 0) + 1);
    }
    const timeoutMs = options.timeoutMs ?? 3000;
    const actual = new Map<string, boolean>();
    const sessions: { key: string; s: ReturnType<Endpoint["ping"]> }[] = [];
    const shared: [string, string][] = [];
    for (const a of names)
      for (const b of names) {
        if (a === b) continue;
        if ((ipCount.get(this.ipOf(b)) ?? 0) > 1) shared.push([a, b]);
        else
          sessions.push({
            key: `${a}>${b}`,
            s: this.vm(a).ping(this.ipOf(b), { count: 1, timeoutMs }),
          });
      }
    let pending = sessions.length;
    const finished = (): void => {
      pending--;
    };
    for (const x of sessions) x.s.onDone = finished;
    this.world.runUntil(() => pending === 0);
    for (const x of sessions) actual.set(x.key, x.s.result.received > 0);
    for (const [a, b] of shared) {
      const target = this.vm(b).counters;
      const before = target.IcmpOutEchoReps;
      const s = this.vm(a).ping(this.ipOf(b), { count: 1, timeoutMs });
      this.world.runUntil(() => s.done);
      actual.set(`${a}>${b}`, s.result.received > 0 && target.IcmpOutEchoReps > before);
    }
    const pairs: PingPair[] = [];
    for (const a of names)
      for (const b of names)
        if (a !== b)
          pairs.push({ from: a, to: b, expected: expect(a, b), actual: actual.get(`${a}>${b}`)! });
    const mismatches = pairs.filter((p) => p.expected !== p.actual);
    const lines = ["*** Ping: testing ping reachability"];
    for (const a of names) {
      const row = pairs
        .filter((p) => p.from === a)
        .map((p) => (p.actual ? p.to : "X") + (p.actual === p.expected ? "" : "!"));
      lines.push(`${a} -> ${row.join(" ")}`);
    }
    const dropped = pairs.filter((p) => !p.actual).length;
    const pct = pairs.length ? Math.round((dropped * 100) / pairs.length) : 0;
    lines.push(`*** Results: ${pct}% dropped (${pairs.length - dropped}/${pairs.length} received)`);
    if (mismatches.length)
      lines.push(
        `*** ${mismatches.length} differ from expected (marked !): ${mismatches
          .slice(0, 10)
          .map((p) => `${p.from}->${p.to} ${p.expected ? "should reach" : "should not reach"}`)
          .join(", ")}`,
      );
    return { pairs, mismatches, text: lines.join("\n") };
  }

  /** UDP flows (iperf-like); runs until they end and returns each flow's report. */
  async traffic(flows: readonly TrafficSpec[]): Promise<FlowReport[]> {
    let longest = 0;
    const gen = new TrafficGenerator(
      this.world,
      flows.map((f, i) => {
        const d = parseDurationNs(f.duration ?? "1s");
        longest = Math.max(longest, d);
        return {
          name: `${vmName(f.from)}->${vmName(f.to)}#${i}`,
          from: this.vm(f.from),
          to: this.vm(f.to),
          dst: this.ipOf(f.to),
          rate: f.rate ?? "10Mbit",
          duration: f.duration ?? "1s",
          ...(f.size !== undefined ? { size: f.size } : {}),
        };
      }),
    );
    this.world.run({ untilNs: this.world.nowNs() + longest + 1e9 });
    const r = gen.report();
    gen.close();
    return r;
  }

  /**
   * The link at `ref`: a VM name (its vNIC's link), a host name (its eth0 link), or a
   * "node:port" ref as written in the topology ("tor:p1", "spine1:eth0").
   */
  link(ref: string): Link {
    const l = this.world.linkOf(this.port(ref));
    if (!l) throw new TopologyError("ERR_TOPO_UNKNOWN_REF", ref, `port ${ref} is not on a link`);
    return l;
  }

  /** The LinkPort behind a ref (see link()). */
  port(ref: string): LinkPort {
    const vm = this.vmMap.get(ref);
    if (vm) return vm.hv.vms.get(ref)!.vnic;
    const [node, p] = splitPortRef(ref);
    const hv = this.hosts.get(node);
    if (hv) return !p || p === UNDERLAY_NIC ? hv.nic(UNDERLAY_NIC) : hv.netdev(p);
    const sw = this.switches.get(node);
    if (sw && p) return sw.port(p);
    const r = this.routers.get(node);
    if (r && p) return r.vnic(p);
    throw new TopologyError(
      "ERR_TOPO_UNKNOWN_REF",
      ref,
      `no VM, host or "node:port" called "${ref}"; try a VM name, a host name, or e.g. "tor:p1"`,
    );
  }

  /** Takes a link down (frames in flight are lost). */
  linkDown(ref: string): void {
    this.link(ref).setUp(false);
  }

  linkUp(ref: string): void {
    this.link(ref).setUp(true);
  }

  /** Fails a whole host: its underlay link and every VM link go down. */
  hostDown(name: string): void {
    for (const l of this.hostLinks(name)) l.setUp(false);
  }

  hostUp(name: string): void {
    for (const l of this.hostLinks(name)) l.setUp(true);
  }

  private hostLinks(name: string): Link[] {
    const hv = this.host(name);
    const out: Link[] = [];
    for (const v of hv.stack.vnics) {
      const l = this.world.linkOf(v);
      if (l) out.push(l);
    }
    for (const vm of hv.vms.values()) out.push(vm.link);
    return out;
  }

  /** Captures a VM's vNIC, a host NIC or a "node:port" into a pcap file. */
  capture(ref: string, file: string): Promise<PortCapture> {
    return this.world.capture(this.port(ref), file);
  }

  /** `ovs-appctl ofproto/trace BRIDGE FLOW` on one host. */
  trace(host: string, bridge: string, flow: string): string {
    return this.host(host).appctl(`ofproto/trace ${bridge} ${flow}`);
  }

  /** The path of one ping request from `from` to `to` across every hop. */
  journey(from: VmLike, to: VmLike, options: JourneyOptions = {}): JourneyResult {
    return new Journey(this).follow(vmName(from), vmName(to), options);
  }

  /** Stops every host (closes sockets and database sessions). */
  async stop(): Promise<void> {
    for (const hv of this.hosts.values()) await hv.stop();
  }
}

/**
 * Which L2 domain a host's bridge is in: bridges of one overlay, and bridges joined
 * through uplinks and underlay switches, are one domain (union-find over names).
 */
function l2Domains(spec: TopologySpec): (hostBridge: string) => string {
  const parent = new Map<string, string>();
  const find = (x: string): string => {
    let r = x;
    while (parent.has(r) && parent.get(r) !== r) r = parent.get(r)!;
    parent.set(x, r);
    return r;
  };
  const union = (a: string, b: string) => {
    const ra = find(a);
    const rb = find(b);
    if (ra !== rb) parent.set(ra, rb);
  };
  for (const ov of spec.overlays)
    for (const h of ov.hosts) union(`${h}/${ov.bridge}`, `overlay ${ov.name}`);
  const uplinkBridge = new Map<string, string>();
  for (const h of spec.hosts)
    for (const b of h.bridges)
      for (const u of b.uplinks ?? [])
        uplinkBridge.set(`${h.name}:${u.name}`, `${h.name}/${b.name}`);
  const switches = new Set(spec.switches.map((s) => s.name));
  const nodeOf = (ref: string): string | undefined => {
    const [node, port] = splitPortRef(ref);
    if (switches.has(node)) return `switch ${node}`;
    return uplinkBridge.get(`${node}:${port}`);
  };
  for (const l of spec.links) {
    const a = nodeOf(l.a);
    const b = nodeOf(l.b);
    if (a && b) union(a, b);
  }
  return find;
}

function sameSubnet(a: string, b: string): boolean {
  const [ia, la] = a.split("/");
  const [ib] = b.split("/");
  const block = 2 ** (32 - Number(la ?? 32));
  const n = (s: string) => s.split(".").reduce((acc, x) => acc * 256 + Number(x), 0);
  return Math.floor(n(ia!) / block) === Math.floor(n(ib!) / block);
}
