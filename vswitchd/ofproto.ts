/**
 * One switch: the bridges that share a userspace datapath (OVS's dpif backer), their
 * datapath port numbers, the tunnel route table and neighbour cache, and the
 * `ovs-appctl` commands that act on them (`ofproto/trace`, `fdb/*`, `ovs/route/*`,
 * `tnl/neigh/*`, `netdev-dummy/ip4addr`).
 *
 * Datapath port numbers: 0 is the datapath itself; bridge LOCAL ports and plain ports
 * get numbers in creation order; a tunnel vport is shared by all tunnel ports of one
 * type and UDP port and is numbered by that port (GRE by the next free number), as
 * OVS's dummy datapath does. Patch ports have none.
 *
 * The clock is passed in: `nowNs` is the caller's.
 */
import {
  NeighCache,
  parseIpv4Text,
  parseMacText,
  RouteTable,
  type TunnelType,
} from "../overlay/index.js";
import { Bridge, type Port, type PortSpec } from "./bridge.js";
import { UnknownBridgeError, UnknownPortError } from "./errors.js";
import { formatFlow } from "./match-format.js";
import { parseMac, parseMatch } from "./match-parse.js";
import { type XlateEnv, type XlateResult, xlate } from "./xlate.js";

export interface OfprotoOptions {
  /** The datapath supports userspace tunnel push/pop (OVS's dummy/netdev datapath). */
  readonly tnlPushPop?: boolean;
  readonly nowNs?: () => number;
  readonly datapathName?: string;
}

export class Ofproto implements XlateEnv {
  readonly tnlPushPop: boolean;
  readonly routes = new RouteTable();
  readonly neigh = new NeighCache();
  readonly dpPorts = new Map<number, string>();
  private readonly byName = new Map<string, Bridge>();
  private readonly addresses = new Map<string, { ip: number; plen: number }>();
  private readonly tunnelPorts = new Map<string, number>();
  private nextDpPort = 1;
  private readonly clock: () => number;
  readonly recirc = { n: 1 };

  constructor(opts: OfprotoOptions = {}) {
    this.tnlPushPop = opts.tnlPushPop ?? false;
    this.clock = opts.nowNs ?? (() => 0);
    this.dpPorts.set(0, opts.datapathName ?? "ovs-dummy");
  }

  nowNs(): number {
    return this.clock();
  }

  bridge(name: string): Bridge | undefined {
    return this.byName.get(name);
  }

  bridges(): Iterable<Bridge> {
    return this.byName.values();
  }

  mustBridge(name: string): Bridge {
    const b = this.byName.get(name);
    if (!b) throw new UnknownBridgeError(name);
    return b;
  }

  address(dev: string): number | undefined {
    return this.addresses.get(dev)?.ip;
  }

  addBridge(name: string, failMode: "secure" | "standalone" = "secure", hwaddr?: string): Bridge {
    // A deterministic MAC for the LOCAL port when none is configured.
    let mac = hwaddr ? parseMac(hwaddr) : 0n;
    if (!hwaddr) {
      let h = 0x811c9dc5;
      for (const c of name) h = Math.imul(h ^ c.charCodeAt(0), 0x01000193);
      mac = (0x02n << 40n) | BigInt(h >>> 0);
    }
    const b = new Bridge(name, failMode, mac);
    this.byName.set(name, b);
    const local = b.ports.get(0xfffe)!;
    local.dpPort = this.allocDpPort(name);
    return b;
  }

  /** Deletes a bridge; its ports' datapath numbers are freed (tunnel vports stay). */
  removeBridge(name: string): boolean {
    const b = this.byName.get(name);
    if (!b) return false;
    for (const p of b.ports.values()) {
      if (p.dpPort !== undefined && p.type !== "vxlan" && p.type !== "gre" && p.type !== "geneve") {
        this.dpPorts.delete(p.dpPort);
      }
    }
    this.addresses.delete(name);
    this.byName.delete(name);
    return true;
  }

  private allocDpPort(name: string): number {
    while (this.dpPorts.has(this.nextDpPort)) this.nextDpPort++;
    const n = this.nextDpPort++;
    this.dpPorts.set(n, name);
    return n;
  }

  tunnelDpPort(type: TunnelType, dstPort: number): number {
    const key = `${type}/${dstPort}`;
    const known = this.tunnelPorts.get(key);
    if (known !== undefined) return known;
    const name =
      type === "gre" ? "gre_sys" : `${type === "vxlan" ? "vxlan_sys" : "genev_sys"}_${dstPort}`;
    let n: number;
    if (dstPort && !this.dpPorts.has(dstPort)) {
      n = dstPort;
      this.dpPorts.set(n, name);
    } else n = this.allocDpPort(name);
    this.tunnelPorts.set(key, n);
    return n;
  }

  addPort(bridgeName: string, spec: PortSpec): Port {
    const b = this.mustBridge(bridgeName);
    const p = b.addPort(spec);
    if (p.type === "vxlan" || p.type === "geneve" || p.type === "gre") {
      const dst =
        p.type === "gre" ? 0 : Number(p.options.dst_port ?? (p.type === "vxlan" ? 4789 : 6081));
      p.dpPort = this.tunnelDpPort(p.type, dst);
    } else if (p.type !== "patch") p.dpPort = this.allocDpPort(p.name);
    return p;
  }

  /** The bridge and port behind a datapath port number (not tunnel vports). */
  /**
   * The bridge and non-tunnel port owning datapath port `dpPort`. Asked once per
   * upcall, so the answer is cached per dp port and checked before use (ports are
   * added and removed from several places; a stale entry just falls back to a scan).
   */
  portByDp(dpPort: number): { bridge: Bridge; port: Port } | undefined {
    const hit = this.dpPortCache.get(dpPort);
    if (
      hit &&
      hit.port.dpPort === dpPort &&
      hit.bridge.ports.get(hit.port.ofport) === hit.port &&
      this.bridge(hit.bridge.name) === hit.bridge
    )
      return hit;
    const found = this.scanPortByDp(dpPort);
    if (found) this.dpPortCache.set(dpPort, found);
    else this.dpPortCache.delete(dpPort);
    return found;
  }

  private readonly dpPortCache = new Map<number, { bridge: Bridge; port: Port }>();

  private scanPortByDp(dpPort: number): { bridge: Bridge; port: Port } | undefined {
    for (const bridge of this.bridges()) {
      for (const port of bridge.ports.values()) {
        if (
          port.dpPort === dpPort &&
          port.type !== "vxlan" &&
          port.type !== "gre" &&
          port.type !== "geneve"
        ) {
          return { bridge, port };
        }
      }
    }
    return undefined;
  }

  /**
   * Which tunnel port receives a packet that arrived on tunnel vport `dpPort` with
   * this outer metadata (tnl_port_receive): exact remote_ip and key beat `flow`, a port
   * without a key takes only tun_id 0, and local_ip, when set, must equal tun_dst.
   */
  tunnelReceivePort(
    dpPort: number,
    tunId: bigint,
    tunSrc: number,
    tunDst: number,
  ): { bridge: Bridge; port: Port } | undefined {
    let best: { bridge: Bridge; port: Port; score: number } | undefined;
    for (const bridge of this.bridges()) {
      for (const port of bridge.ports.values()) {
        if (
          port.dpPort !== dpPort ||
          (port.type !== "vxlan" && port.type !== "gre" && port.type !== "geneve")
        )
          continue;
        const o = port.options;
        const key = o.in_key ?? o.key;
        const remote = o.remote_ip;
        if (o.local_ip && o.local_ip !== "flow" && parseIpv4Text(o.local_ip) !== tunDst) continue;
        let score = 0;
        if (remote === "flow") score += 0;
        else if (remote && parseIpv4Text(remote) === tunSrc) score += 2;
        else continue;
        if (key === "flow") score += 0;
        else if (key === undefined ? tunId === 0n : BigInt(key) === tunId) score += 1;
        else continue;
        if (!best || score > best.score) best = { bridge, port, score };
      }
    }
    return best && { bridge: best.bridge, port: best.port };
  }

  /** Translates a flow given in ovs-ofctl syntax on `bridgeName`. */
  xlateText(bridgeName: string, flowText: string, generate = false, trace = false): XlateResult {
    const b = this.mustBridge(bridgeName);
    const m = parseMatch(flowText, b.resolvePort);
    return xlate(this, b, m.key, { generate, recirc: this.recirc, trace });
  }

  /** `ovs-appctl ofproto/trace BRIDGE FLOW [-generate]`: the full trace text. */
  trace(bridgeName: string, flowText: string, generate = false): string {
    const r = this.xlateText(bridgeName, flowText, generate, true);
    const final = r.finalFlow.every((w, i) => w === r.flow[i])
      ? "unchanged"
      : formatFlow(r.finalFlow);
    const lines = [
      `Flow: ${formatFlow(r.flow)}`,
      ...r.trace,
      "",
      `Final flow: ${final}`,
      `Megaflow: ${r.megaflow}`,
      `Datapath actions: ${r.actions}`,
    ];
    return `${lines.join("\n")}\n`;
  }

  /** Runs one ovs-appctl command; returns its output text. */
  appctl(args: readonly string[]): string {
    const [cmd, ...a] = args;
    switch (cmd) {
      case "netdev-dummy/ip4addr": {
        const [dev, cidr] = a;
        const [ip, plen] = (cidr ?? "").split("/");
        this.addresses.set(dev!, { ip: parseIpv4Text(ip!), plen: Number(plen ?? 32) });
        return "OK\n";
      }
      case "ovs/route/add":
        this.routes.add(a[0]!, a[1]!, a[2]);
        return "OK\n";
      case "ovs/route/del":
        this.routes.delete(a[0]!);
        return "OK\n";
      case "ovs/route/show":
        return this.routes.show();
      case "tnl/neigh/set":
        this.neigh.set(a[0]!, parseIpv4Text(a[1]!), parseMacText(a[2]!));
        return "OK\n";
      case "tnl/neigh/show":
        return this.neigh.show();
      case "tnl/neigh/flush":
        this.neigh.flush();
        return "OK\n";
      case "fdb/add": {
        const b = this.mustBridge(a[0]!);
        const p = b.portByName(a[1]!) ?? b.ports.get(Number(a[1]));
        if (!p) throw new UnknownPortError(a[1]!);
        b.mac.addStatic(Number(parseMac(a[3]!)), Number(a[2]), p.ofport);
        return "";
      }
      case "fdb/flush":
        for (const b of a.length ? [this.mustBridge(a[0]!)] : this.bridges()) b.mac.flush();
        return "table successfully flushed\n";
      case "fdb/show": {
        const b = this.mustBridge(a[0]!);
        return b.mac.show(this.nowNs(), (p) => (p === 0xfffe ? "LOCAL" : String(p)));
      }
      case "ofproto/trace": {
        const gen = a.includes("-generate");
        const rest = a.filter((x) => x !== "-generate");
        return this.trace(rest[0]!, rest[1]!, gen);
      }
      default:
        throw new UnknownBridgeError(`(unknown appctl command ${cmd})`);
    }
  }
}
