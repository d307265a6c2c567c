/**
 * journey: the path of one packet across a running topology — every link it crosses
 * (VM taps, underlay NICs, switches, routers), every datapath it passes through with
 * what happened there (EMC hit, megaflow hit, or a miss and the upcall that installed
 * a megaflow), and the encapsulation it wore on each hop (VXLAN VNI, GRE key, Geneve).
 *
 * How: it sends one ICMP echo request from a VM, taps every link, and after each
 * scheduler event compares each host's datapath counters (DpifStats) to find which
 * datapath did what; the megaflow shown is the one whose `used` time is that event's
 * (or that appeared then). ARP exchanged on the way is part of the journey and shown.
 *
 * Promises: it observes only (taps are removed afterwards; the packet is an ordinary
 * ping that changes MAC tables and caches as any ping would). Slow path: it allocates
 * freely and walks every host per event, so it is for demos and tests, not for
 * 1,000-host runs (pass `hosts` to narrow it).
 *
 * It does not follow packets duplicated by flooding separately: every copy's hops
 * appear in time order.
 */
import { type DpifStats, formatDpFlow } from "../datapath/index.js";
import type { Hypervisor } from "./hypervisor.js";
import type { Link, LinkPort } from "./link.js";
import type { Network } from "./network.js";

export interface JourneyOptions {
  /** ICMP data bytes, default 56. */
  size?: number;
  /** Hosts whose datapaths are watched; default all (up to 64, else the two VMs' hosts). */
  hosts?: readonly string[];
  /** Give up after this much virtual time, default 3 s. */
  timeoutMs?: number;
}

export interface JourneyHop {
  timeNs: number;
  kind: "link" | "drop" | "datapath";
  /** Link name or host name. */
  where: string;
  /** A frame summary (links) or what the datapath did. */
  detail: string;
}

export interface JourneyResult {
  from: string;
  to: string;
  /** Whether the echo reply came back. */
  delivered: boolean;
  hops: JourneyHop[];
  text: string;
}

const STAT_KEYS = ["emcHits", "megaflowHits", "missed", "upcalls", "flows"] as const;

export class Journey {
  constructor(private readonly net: Network) {}

  follow(from: string, to: string, options: JourneyOptions = {}): JourneyResult {
    const net = this.net;
    const world = net.world;
    const hops: JourneyHop[] = [];
    const watched: [string, Hypervisor][] = [];
    const names =
      options.hosts ??
      (net.hosts.size <= 64 ? [...net.hosts.keys()] : [net.hostOf(from).name, net.hostOf(to).name]);
    for (const n of new Set(names)) watched.push([n, net.host(n)]);

    // Every link: underlay links, VM links and anything else the world joined.
    const links = new Set<Link>(net.links);
    for (const hv of net.hosts.values()) for (const vm of hv.vms.values()) links.add(vm.link);
    // Host and router NICs are called eth0 on every box: qualify them with its name.
    const label = new Map<LinkPort, string>();
    for (const hv of net.hosts.values())
      for (const v of hv.stack.vnics) label.set(v, `${hv.name}:${v.name}`);
    for (const [name, r] of net.routers) for (const v of r.vnics) label.set(v, `${name}:${v.name}`);
    const nameOf = (p: LinkPort): string => label.get(p) ?? p.name;
    const untap: (() => void)[] = [];
    for (const l of links)
      untap.push(
        l.tap((kind, fromPort: LinkPort, f, o, len, t, reason) => {
          if (kind === "tx") return;
          const toPort = fromPort === l.a ? l.b : l.a;
          hops.push({
            timeNs: t,
            kind: kind === "rx" ? "link" : "drop",
            where: `${nameOf(fromPort)} -> ${nameOf(toPort)}`,
            detail: describeFrame(f, o, len) + (reason ? ` (dropped: ${reason})` : ""),
          });
        }),
      );

    const snap = new Map<string, DpifStats>();
    // Per host: each megaflow's packet count, to tell which one this event used.
    const known = new Map<string, Map<string, number>>();
    for (const [n, hv] of watched) {
      snap.set(n, hv.dpif.stats());
      known.set(n, new Map([...hv.dpif.flowDump()].map((f) => [ufidKey(f.ufid), f.stats.packets])));
    }

    const session = net.vm(from).ping(net.ipOf(to), {
      count: 1,
      size: options.size ?? 56,
      timeoutMs: options.timeoutMs ?? 3000,
    });
    let guard = 0;
    while (!session.done && guard++ < 1_000_000) {
      if (!world.scheduler.step()) break;
      const now = world.nowNs();
      for (const [n, hv] of watched) {
        const before = snap.get(n)!;
        const after = hv.dpif.stats();
        if (STAT_KEYS.every((k) => before[k] === after[k])) continue;
        snap.set(n, after);
        const what: string[] = [];
        const d = (k: (typeof STAT_KEYS)[number]) => after[k] - before[k];
        if (d("emcHits") > 0) what.push(`EMC hit ×${d("emcHits")}`);
        if (d("megaflowHits") > 0) what.push(`megaflow hit ×${d("megaflowHits")}`);
        if (d("missed") > 0) what.push(`miss → upcall ×${d("missed")}`);
        const seen = known.get(n)!;
        const flows: string[] = [];
        for (const f of hv.dpif.flowDump()) {
          const k = ufidKey(f.ufid);
          const prev = seen.get(k);
          seen.set(k, f.stats.packets);
          if (prev === undefined) flows.push(`installed: ${formatDpFlow(f, now)}`);
          else if (f.stats.packets > prev) flows.push(`hit: ${formatDpFlow(f, now)}`);
        }
        if (d("flows") > 0 && !flows.length) what.push(`${d("flows")} megaflow(s) installed`);
        // Revalidation and eviction also move counters; only packets make a hop.
        if (!what.length && !flows.length) continue;
        hops.push({
          timeNs: now,
          kind: "datapath",
          where: n,
          detail: [what.join(", ") || "megaflow installed", ...flows].join("\n      "),
        });
      }
    }
    for (const u of untap) u();
    hops.sort((a, b) => a.timeNs - b.timeNs);
    const delivered = session.result.received > 0;
    const lines = [`journey ${from} -> ${to} (${net.ipOf(to)}): ICMP echo request and its reply`];
    for (const h of hops) {
      const t = `${(h.timeNs / 1e9).toFixed(6)}s`;
      const tag =
        h.kind === "datapath" ? `[${h.where} datapath]` : h.kind === "drop" ? "[drop]" : "";
      lines.push(`  ${t.padStart(10)}  ${tag ? `${tag} ` : `${h.where}  `}${h.detail}`);
    }
    lines.push(delivered ? "  reply received" : "  no reply");
    return { from, to, delivered, hops, text: lines.join("\n") };
  }
}

function ufidKey(u: Uint32Array): string {
  return `${u[0]}-${u[1]}-${u[2]}-${u[3]}`;
}

const hex = (b: number) => b.toString(16).padStart(2, "0");
function mac(f: Uint8Array, o: number): string {
  return [0, 1, 2, 3, 4, 5].map((i) => hex(f[o + i]!)).join(":");
}
function ip4(f: Uint8Array, o: number): string {
  return `${f[o]}.${f[o + 1]}.${f[o + 2]}.${f[o + 3]}`;
}

/** One line for a frame: L2, L3, L4 and, for a tunnel, what it carries. */
export function describeFrame(f: Uint8Array, o: number, len: number, depth = 0): string {
  if (len < 14) return `runt (${len} bytes)`;
  let s = `${mac(f, o + 6)} > ${mac(f, o)}`;
  let type = (f[o + 12]! << 8) | f[o + 13]!;
  let l3 = o + 14;
  if (type === 0x8100 && len >= 18) {
    s += ` vlan ${((f[o + 14]! << 8) | f[o + 15]!) & 0xfff}`;
    type = (f[o + 16]! << 8) | f[o + 17]!;
    l3 = o + 18;
  }
  const end = o + len;
  if (type === 0x0806 && end >= l3 + 28) {
    const op = (f[l3 + 6]! << 8) | f[l3 + 7]!;
    return `${s} ARP ${op === 1 ? `who-has ${ip4(f, l3 + 24)} tell ${ip4(f, l3 + 14)}` : `${ip4(f, l3 + 14)} is-at ${mac(f, l3 + 8)}`}`;
  }
  if (type !== 0x0800 || end < l3 + 20)
    return `${s} ethertype 0x${type.toString(16).padStart(4, "0")}`;
  const ihl = (f[l3]! & 15) * 4;
  const proto = f[l3 + 9]!;
  s += ` ${ip4(f, l3 + 12)} > ${ip4(f, l3 + 16)}`;
  const l4 = l3 + ihl;
  if (proto === 1 && end >= l4 + 1) {
    const t = f[l4]!;
    return `${s} ICMP ${t === 8 ? "echo request" : t === 0 ? "echo reply" : `type ${t}`}`;
  }
  if (proto === 17 && end >= l4 + 8) {
    const dport = (f[l4 + 2]! << 8) | f[l4 + 3]!;
    const p = l4 + 8;
    if (dport === 4789 && end >= p + 8 && depth < 2) {
      const vni = (f[p + 4]! << 16) | (f[p + 5]! << 8) | f[p + 6]!;
      return `${s} VXLAN vni ${vni} [${describeFrame(f, p + 8, end - p - 8, depth + 1)}]`;
    }
    if (dport === 6081 && end >= p + 8 && depth < 2) {
      const optLen = (f[p]! & 0x3f) * 4;
      const vni = (f[p + 4]! << 16) | (f[p + 5]! << 8) | f[p + 6]!;
      const inner = p + 8 + optLen;
      return `${s} Geneve vni ${vni} [${describeFrame(f, inner, end - inner, depth + 1)}]`;
    }
    return `${s} UDP ${(f[l4]! << 8) | f[l4 + 1]!} > ${dport}`;
  }
  if (proto === 47 && end >= l4 + 4 && depth < 2) {
    const flags = f[l4]!;
    let p = l4 + 4;
    if (flags & 0x80) p += 4;
    let key = "";
    if (flags & 0x20) {
      key = ` key ${((f[p]! << 24) | (f[p + 1]! << 16) | (f[p + 2]! << 8) | f[p + 3]!) >>> 0}`;
      p += 4;
    }
    if (flags & 0x10) p += 4;
    return `${s} GRE${key} [${describeFrame(f, p, end - p, depth + 1)}]`;
  }
  return `${s} proto ${proto}`;
}
