/**
 * The reference README's "How answers are compared": port-name substitution,
 * VLAN-grouped canonical datapath actions with sorted output runs, and megaflows as
 * token sets with protocol shorthands expanded.
 */

const SHORTHANDS: Readonly<Record<string, string[]>> = {
  eth: ["packet_type=(0,0)"],
  ip: ["dl_type=0x0800"],
  ipv6: ["dl_type=0x86dd"],
  arp: ["dl_type=0x0806"],
  rarp: ["dl_type=0x8035"],
  icmp: ["dl_type=0x0800", "nw_proto=1"],
  igmp: ["dl_type=0x0800", "nw_proto=2"],
  tcp: ["dl_type=0x0800", "nw_proto=6"],
  udp: ["dl_type=0x0800", "nw_proto=17"],
  sctp: ["dl_type=0x0800", "nw_proto=132"],
  icmp6: ["dl_type=0x86dd", "nw_proto=58"],
  tcp6: ["dl_type=0x86dd", "nw_proto=6"],
  udp6: ["dl_type=0x86dd", "nw_proto=17"],
  sctp6: ["dl_type=0x86dd", "nw_proto=132"],
};

export function splitTop(text: string): string[] {
  const out: string[] = [];
  let depth = 0;
  let cur = "";
  for (const c of text) {
    if (c === "(") depth++;
    if (c === ")") depth--;
    if (c === "," && depth === 0) {
      out.push(cur);
      cur = "";
    } else cur += c;
  }
  if (cur) out.push(cur);
  return out.map((s) => s.trim()).filter(Boolean);
}

export function tokenSet(text: string): string[] {
  if (text === "unchanged") return ["unchanged"];
  const out = new Set<string>();
  for (const t of splitTop(text)) for (const x of SHORTHANDS[t] ?? [t]) out.add(x);
  return [...out].sort();
}

function nameAction(a: string, ports: Record<string, string>): string {
  const sub = (n: string) => ports[n] ?? n;
  if (/^\d+$/.test(a)) return sub(a);
  return a
    .replace(/tnl_pop\((\d+)\)/g, (_, n) => `tnl_pop(${sub(n)})`)
    .replace(/tnl_port\((\d+)\)/g, (_, n) => `tnl_port(${sub(n)})`)
    .replace(/out_port\((\d+)\)/g, (_, n) => `out_port(${sub(n)})`)
    .replace(
      /clone\((.*)\)$/,
      (_, inner: string) =>
        `clone(${splitTop(inner)
          .map((x) => nameAction(x, ports))
          .join(",")})`,
    );
}

const isOutput = (a: string) => !/[(]/.test(a) && a !== "drop" && a !== "pop_vlan";

/** Canonical form: groups of actions per VLAN stack, output runs sorted. */
export function canonicalActions(
  actions: string,
  ports: Record<string, string>,
  startVlan: string,
): string {
  const groups = new Map<string, string[]>();
  let stack: string[] = startVlan ? [startVlan] : [];
  const list = splitTop(actions).map((a) => nameAction(a, ports));
  const key = () => stack.join("/") || "none";
  for (const a of list) {
    if (a === "drop") continue;
    if (a.startsWith("push_vlan(")) {
      stack = [a.slice(10, -1), ...stack];
      continue;
    }
    if (a === "pop_vlan") {
      stack = stack.slice(1);
      continue;
    }
    const g = groups.get(key()) ?? [];
    g.push(a);
    groups.set(key(), g);
  }
  const parts: string[] = [];
  for (const [k, g] of [...groups].sort(([a], [b]) => a.localeCompare(b))) {
    const sorted: string[] = [];
    let run: string[] = [];
    for (const a of g) {
      if (isOutput(a)) run.push(a);
      else {
        sorted.push(...run.sort(), a);
        run = [];
      }
    }
    sorted.push(...run.sort());
    parts.push(`${k}: ${sorted.join(",")}`);
  }
  return parts.join(" | ");
}

/** The traced packet's VLAN, as `vid=N,pcp=M`, or "" when untagged. */
export function packetVlan(flow: string): string {
  const vid = /dl_vlan=(\d+)/.exec(flow);
  const tci = /vlan_tci=(0x[0-9a-f]+)/.exec(flow);
  if (vid) {
    const pcp = /dl_vlan_pcp=(\d+)/.exec(flow);
    return `vid=${vid[1]},pcp=${pcp ? pcp[1] : 0}`;
  }
  if (tci) {
    const t = Number(tci[1]);
    if (t & 0x1000) return `vid=${t & 0xfff},pcp=${t >> 13}`;
  }
  return "";
}
