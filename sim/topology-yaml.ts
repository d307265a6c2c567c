/**
 * The YAML/JSON form of a topology: parses text into the same TopologySpec the
 * TypeScript builder makes, with every object's `where` set to `file:line:column`, then
 * validates it (topology-schema.ts). JSON is read by the same parser (YAML 1.2 is a
 * superset of JSON), so its errors carry lines too.
 *
 *   seed: 1
 *   hosts:
 *     hv1: { underlay: 192.168.0.1/24 }          # bridges default to [br-int]
 *     hv2: { underlay: 192.168.0.2/24, bridges: [br-int, { name: br0, failMode: secure,
 *            flows: ["priority=10,actions=NORMAL"], uplinks: { eth1: { trunks: [10, 20] } } }] }
 *   switches:
 *     tor: { hosts: [hv1, hv2], latency: 50us, bandwidth: 10Gbps }  # one link per host
 *   links:                                        # explicit links, "node:port"
 *     - { a: r1:eth1, b: tor:p9, latency: 1ms }
 *   routers:
 *     r1: { interfaces: { eth0: 192.168.1.1/24 }, routes: { 10.1.0.0/16: 192.168.1.254 } }
 *   overlays:
 *     blue: { type: vxlan, vni: 100, hosts: [hv1, hv2] }   # bridge br-int, mode mesh
 *   vms:
 *     vm1: { host: hv1, ip: 10.0.0.1/24 }                  # bridge br-int
 *
 * Promises: an unknown field, a wrong type or a missing required field is an error
 * naming its line, as are all of validateTopology's checks; nothing is built here.
 */
import { readFile } from "node:fs/promises";
import { isMap, isScalar, isSeq, LineCounter, type Node, parseDocument } from "yaml";
import { TopologyError, TopologyValidationError } from "./topology-errors.js";
import {
  type BridgeSpec,
  checkTopology,
  DEFAULT_BRIDGE,
  emptyTopology,
  type LinkParams,
  type TopologySpec,
  type TunnelType,
  UNDERLAY_NIC,
  VLAN_MODES,
} from "./topology-schema.js";

type Loc = (node: Node | null | undefined) => string;

/** Reads one YAML mapping with a fixed set of fields, recording problems. */
class Fields {
  private readonly seen = new Set<string>();
  constructor(
    private readonly node: Node | null | undefined,
    private readonly what: string,
    private readonly loc: Loc,
    private readonly errs: TopologyError[],
  ) {
    if (node !== null && node !== undefined && !isMap(node))
      this.fail(node, `${what} must be a mapping of fields`);
  }

  fail(node: Node | null | undefined, msg: string): void {
    this.errs.push(new TopologyError("ERR_TOPO_SCHEMA", this.loc(node ?? this.node), msg));
  }

  raw(key: string): Node | undefined {
    this.seen.add(key);
    if (!isMap(this.node)) return undefined;
    const v = this.node.get(key, true);
    return (v ?? undefined) as Node | undefined;
  }

  str(key: string, required: true): string;
  str(key: string, required?: false): string | undefined;
  str(key: string, required = false): string | undefined {
    const n = this.raw(key);
    if (n === undefined) {
      if (required) this.fail(this.node, `${this.what} needs "${key}"`);
      return required ? "" : undefined;
    }
    if (!isScalar(n) || (typeof n.value !== "string" && typeof n.value !== "number")) {
      this.fail(n, `${this.what}: "${key}" must be a string`);
      return undefined;
    }
    return String(n.value);
  }

  num(key: string, required = false): number | undefined {
    const n = this.raw(key);
    if (n === undefined) {
      if (required) this.fail(this.node, `${this.what} needs "${key}"`);
      return undefined;
    }
    if (!isScalar(n) || typeof n.value !== "number") {
      this.fail(n, `${this.what}: "${key}" must be a number`);
      return undefined;
    }
    return n.value;
  }

  strOrNum(key: string): string | number | undefined {
    const n = this.raw(key);
    if (n === undefined) return undefined;
    if (!isScalar(n) || (typeof n.value !== "string" && typeof n.value !== "number")) {
      this.fail(n, `${this.what}: "${key}" must be a number or a quantity such as "50us"`);
      return undefined;
    }
    return n.value;
  }

  oneOf<T extends string>(key: string, allowed: readonly T[]): T | undefined {
    const s = this.str(key);
    if (s === undefined) return undefined;
    if (!(allowed as readonly string[]).includes(s)) {
      this.fail(
        this.raw(key),
        `${this.what}: "${key}" must be one of ${allowed.join(", ")}, got "${s}"`,
      );
      return undefined;
    }
    return s as T;
  }

  strList(key: string): string[] | undefined {
    const n = this.raw(key);
    if (n === undefined) return undefined;
    if (!isSeq(n)) {
      this.fail(n, `${this.what}: "${key}" must be a list`);
      return undefined;
    }
    const out: string[] = [];
    for (const item of n.items) {
      if (isScalar(item) && (typeof item.value === "string" || typeof item.value === "number"))
        out.push(String(item.value));
      else this.fail(item as Node, `${this.what}: "${key}" must list strings`);
    }
    return out;
  }

  linkParams(): LinkParams {
    const p: LinkParams = {};
    const latency = this.strOrNum("latency");
    const bandwidth = this.strOrNum("bandwidth");
    const loss = this.strOrNum("loss");
    const jitter = this.strOrNum("jitter");
    const mtu = this.num("mtu");
    if (latency !== undefined) p.latency = latency;
    if (bandwidth !== undefined) p.bandwidth = bandwidth;
    if (loss !== undefined) p.loss = loss;
    if (jitter !== undefined) p.jitter = jitter;
    if (mtu !== undefined) p.mtu = mtu;
    return p;
  }

  /** Reports fields not read: the typo a user most needs to hear about. */
  done(): void {
    if (!isMap(this.node)) return;
    for (const pair of this.node.items) {
      const k = isScalar(pair.key) ? String(pair.key.value) : "?";
      if (!this.seen.has(k))
        this.fail(
          pair.key as Node,
          `${this.what}: unknown field "${k}"; expected one of ${[...this.seen].join(", ")}`,
        );
    }
  }
}

/** The entries of a name-keyed mapping ("hosts:", "vms:", ...), with their key nodes. */
function entries(
  node: Node | undefined,
  what: string,
  loc: Loc,
  errs: TopologyError[],
): [string, Node | undefined, Node][] {
  if (node === undefined || (isScalar(node) && node.value === null)) return [];
  if (!isMap(node)) {
    errs.push(
      new TopologyError("ERR_TOPO_SCHEMA", loc(node), `"${what}" must map names to objects`),
    );
    return [];
  }
  return node.items.map((p) => [
    isScalar(p.key) ? String(p.key.value) : "?",
    (p.value ?? undefined) as Node | undefined,
    p.key as Node,
  ]);
}

/**
 * Parses `text` (YAML or JSON) into a validated TopologySpec; `file` labels errors.
 * Throws a TopologyValidationError listing every problem.
 */
export function parseTopology(text: string, file = "<topology>"): TopologySpec {
  const lc = new LineCounter();
  const doc = parseDocument(text, { lineCounter: lc, prettyErrors: false });
  const errs: TopologyError[] = [];
  const loc: Loc = (node) => {
    const off = node?.range?.[0];
    if (off === undefined) return file;
    const p = lc.linePos(off);
    return `${file}:${p.line}:${p.col}`;
  };
  for (const e of doc.errors) {
    const p = lc.linePos(e.pos[0]);
    errs.push(
      new TopologyError("ERR_TOPO_YAML", `${file}:${p.line}:${p.col}`, e.message.split("\n")[0]!),
    );
  }
  if (errs.length) throw new TopologyValidationError(errs);

  const root = new Fields(doc.contents as Node | null, "topology", loc, errs);
  const spec = emptyTopology(root.num("seed") ?? 1);

  for (const [name, node, key] of entries(root.raw("hosts"), "hosts", loc, errs)) {
    const f = new Fields(node, `host "${name}"`, loc, errs);
    const bridges: BridgeSpec[] = [];
    const bn = f.raw("bridges");
    if (bn === undefined) bridges.push({ name: DEFAULT_BRIDGE, where: loc(key) });
    else if (!isSeq(bn)) f.fail(bn, `host "${name}": "bridges" must be a list`);
    else
      for (const item of bn.items as Node[]) {
        if (isScalar(item)) bridges.push({ name: String(item.value), where: loc(item) });
        else {
          const bf = new Fields(item, `host "${name}" bridge`, loc, errs);
          const b: BridgeSpec = { name: bf.str("name", true), where: loc(item) };
          const fm = bf.oneOf("failMode", ["standalone", "secure"] as const);
          const flows = bf.strList("flows");
          const ups = entries(bf.raw("uplinks"), `bridge "${b.name}" uplinks`, loc, errs);
          if (ups.length)
            b.uplinks = ups.map(([upName, upNode]) => {
              const uf = new Fields(upNode, `uplink "${upName}"`, loc, errs);
              const tag = uf.num("tag");
              const trunks = uf.strList("trunks");
              const vlanMode = uf.oneOf("vlanMode", VLAN_MODES);
              uf.done();
              return {
                name: upName,
                ...(tag !== undefined ? { tag } : {}),
                ...(trunks ? { trunks: trunks.map(Number) } : {}),
                ...(vlanMode ? { vlanMode } : {}),
              };
            });
          if (fm) b.failMode = fm;
          if (flows) b.flows = flows;
          bf.done();
          bridges.push(b);
        }
      }
    const underlayIp = f.str("underlay", true);
    const gw = f.str("gateway");
    f.done();
    spec.hosts.push({
      name,
      underlayIp,
      bridges,
      where: loc(key),
      ...(gw ? { underlayGateway: gw } : {}),
    });
  }

  for (const [name, node, key] of entries(root.raw("switches"), "switches", loc, errs)) {
    const f = new Fields(node, `switch "${name}"`, loc, errs);
    const params = f.linkParams();
    const members = f.strList("hosts") ?? [];
    f.done();
    spec.switches.push({ name, where: loc(key), ...params });
    members.forEach((m, i) => {
      spec.links.push({
        a: `${m}:${UNDERLAY_NIC}`,
        b: `${name}:p${i + 1}`,
        where: loc(key),
        ...params,
      });
    });
  }

  for (const [name, node, key] of entries(root.raw("routers"), "routers", loc, errs)) {
    const f = new Fields(node, `router "${name}"`, loc, errs);
    const interfaces = entries(f.raw("interfaces"), `router "${name}" interfaces`, loc, errs).map(
      ([ifName, v]) => ({ name: ifName, ip: isScalar(v) ? String(v.value) : "" }),
    );
    const routes = entries(f.raw("routes"), `router "${name}" routes`, loc, errs).map(
      ([prefix, v]) => ({ prefix, via: isScalar(v) ? String(v.value) : "" }),
    );
    f.done();
    spec.routers.push({ name, interfaces, routes, where: loc(key) });
  }

  const ln = root.raw("links");
  if (ln !== undefined) {
    if (!isSeq(ln)) root.fail(ln, `"links" must be a list`);
    else
      for (const item of ln.items as Node[]) {
        if (isSeq(item) && item.items.length === 2) {
          const [a, b] = item.items.map((x) => (isScalar(x) ? String(x.value) : ""));
          spec.links.push({ a: a!, b: b!, where: loc(item) });
          continue;
        }
        const f = new Fields(item, "link", loc, errs);
        const a = f.str("a", true);
        const b = f.str("b", true);
        const params = f.linkParams();
        f.done();
        spec.links.push({ a, b, where: loc(item), ...params });
      }
  }

  for (const [name, node, key] of entries(root.raw("overlays"), "overlays", loc, errs)) {
    const f = new Fields(node, `overlay "${name}"`, loc, errs);
    const type = f.oneOf<TunnelType>("type", ["vxlan", "gre", "geneve"]) ?? "vxlan";
    const vni = f.num("vni", true) ?? 0;
    const bridge = f.str("bridge") ?? DEFAULT_BRIDGE;
    const hosts = f.strList("hosts") ?? [];
    const mode = f.oneOf("mode", ["mesh", "flow"] as const) ?? "mesh";
    const steering = f.oneOf("steering", ["per-vm", "vtep-in-ip"] as const);
    f.done();
    spec.overlays.push({
      name,
      type,
      vni,
      bridge,
      hosts,
      mode,
      where: loc(key),
      ...(steering ? { steering } : {}),
    });
  }

  for (const [name, node, key] of entries(root.raw("vms"), "vms", loc, errs)) {
    const f = new Fields(node, `vm "${name}"`, loc, errs);
    const host = f.str("host", true);
    const bridge = f.str("bridge") ?? DEFAULT_BRIDGE;
    const ip = f.str("ip", true);
    const gateway = f.str("gateway");
    const mac = f.str("mac");
    const mtu = f.num("mtu");
    const tag = f.num("tag");
    const trunksRaw = f.strList("trunks");
    const vlanMode = f.oneOf("vlanMode", VLAN_MODES);
    const kind = f.oneOf("kind", ["vm", "container"] as const);
    f.done();
    spec.vms.push({
      name,
      host,
      bridge,
      ip,
      where: loc(key),
      ...(gateway ? { gateway } : {}),
      ...(mac ? { mac } : {}),
      ...(mtu !== undefined ? { mtu } : {}),
      ...(tag !== undefined ? { tag } : {}),
      ...(trunksRaw ? { trunks: trunksRaw.map(Number) } : {}),
      ...(vlanMode ? { vlanMode } : {}),
      ...(kind ? { kind } : {}),
    });
  }
  root.done();

  if (!errs.length) errs.push(...checkTopology(spec));
  if (errs.length) throw new TopologyValidationError(errs);
  return spec;
}

/** Reads and parses a .yaml, .yml or .json topology file. */
export async function loadTopologyFile(path: string): Promise<TopologySpec> {
  return parseTopology(await readFile(path, "utf8"), path);
}
