/**
 * The running switch (ovs-vswitchd's vswitchd/bridge.c): configuration comes only from
 * the host's OVSDB, through the IDL, and is applied the way bridge_reconfigure()
 * does — bridges, ports and interfaces added, changed or removed to match the
 * database — then written back as OVS writes it: Interface.ofport, mac_in_use,
 * link_state, mtu, statistics (every other_config:stats-update-interval, 5 s, while
 * traffic keeps megaflows installed), error; Bridge.datapath_id; and Open_vSwitch.cur_cfg
 * once next_cfg has been applied (which is what lets `ovs-vsctl` without
 * `--no-wait` return).
 *
 * Promises: reconfiguration is a full reconcile, idempotent, and never touches the
 * database when nothing differs (so its own write-backs cannot loop). A port whose
 * settings changed is rebuilt keeping its ofport and datapath port; flows referring to
 * it keep working. Every change asks the revalidator to re-translate megaflows.
 *
 * It does not: do bonds, QoS, mirrors, sFlow/NetFlow/IPFIX, controllers, or
 * Flow_Table rows; `datapath_type` is always the userspace datapath.
 */
import type { Dpif, NetdevPort } from "../datapath/index.js";
import type { DatabaseSchema, Idl, IdlOptions, IdlRow, Json } from "../ovsdb/index.js";
import type { Bridge, PortSpec, PortType, VlanMode } from "./bridge.js";
import { runAppctl, runOfctl } from "./commands.js";
import { ofpVersionsFromNames } from "./ofp-version.js";
import { Ofproto } from "./ofproto.js";
import { OfprotoDpif, type VswitchdTimers } from "./ofproto-dpif.js";

/** A network device the host offers for a system/internal interface. */
export interface NetdevBinding {
  readonly port: NetdevPort;
  /** "aa:bb:cc:dd:ee:ff". */
  readonly mac: string;
  /** Link carrier (cable in and up). */
  readonly carrier: boolean;
  /** Tells the device which datapath port it feeds (-1: none). */
  bind(portNo: number): void;
}

/** The host's devices, by interface name. */
export interface NetdevProvider {
  open(name: string, type: string): NetdevBinding | undefined;
}

export interface VswitchdOptions {
  /** Makes the IDL (in-process or socket) with the options vswitchd needs. */
  readonly idl: (options: IdlOptions) => Idl;
  readonly schema: DatabaseSchema;
  readonly dpif: Dpif;
  readonly clock: { nowNs(): number };
  readonly timers: VswitchdTimers;
  readonly netdevs: NetdevProvider;
  readonly upcallCostNs?: number;
  /**
   * Native (userspace) tunnelling: xlate emits tnl_push/tnl_pop and needs
   * `ovs/route` + `tnl/neigh` entries. Default false: tunnel ports output to a shared
   * tunnel vport with `set(tunnel(...))`, which overlay/'s vports encapsulate.
   */
  readonly tnlPushPop?: boolean;
}

const OFPP_LOCAL = 0xfffe;
const OFPORT_MAX = 0xff00;
const NULL_SINK: NetdevPort = { transmit: () => {} };

interface PortState {
  /** Configuration fingerprint: rebuild the port when it changes. */
  readonly cfg: string;
  readonly ofport: number;
  readonly dpPort: number | undefined;
  readonly netdev: NetdevBinding | undefined;
  readonly error: string | undefined;
  readonly mac: string;
  readonly mtu: number;
}

interface BridgeState {
  readonly failMode: "secure" | "standalone";
  readonly ports: Map<string, PortState>;
}

interface WantedPort {
  name: string;
  ifaceType: string;
  options: Record<string, string>;
  tag: number | undefined;
  trunks: number[];
  vlanMode: VlanMode | undefined;
  ofportRequest: number | undefined;
  mtuRequest: number | undefined;
  mac: string | undefined;
}

function portTypeOf(ifaceType: string): PortType | undefined {
  switch (ifaceType) {
    case "":
    case "system":
      return "system";
    case "internal":
    case "patch":
    case "vxlan":
    case "gre":
    case "geneve":
      return ifaceType;
    default:
      return undefined;
  }
}

function macText(mac: bigint): string {
  return (mac | (1n << 48n))
    .toString(16)
    .slice(1)
    .replace(/(..)(?!$)/g, "$1:");
}

/** OVS's default (and smallest) other_config:stats-update-interval, ms. */
export const STATS_INTERVAL_DEFAULT_MS = 5000;

export class Vswitchd {
  readonly of: Ofproto;
  readonly ofdp: OfprotoDpif;
  readonly dpif: Dpif;
  readonly idl: Idl;
  private readonly state = new Map<string, BridgeState>();
  private readonly netdevs: NetdevProvider;
  /** The next_cfg value last applied and written back as cur_cfg. */
  appliedCfg = -1;
  private readonly waiters: { cfg: number; resolve: () => void }[] = [];
  private pending = false;
  private writing = false;
  private again = false;
  private stopped = false;
  /** Open_vSwitch other_config:stats-update-interval, and the last statistics write. */
  private statsIntervalNs = STATS_INTERVAL_DEFAULT_MS * 1e6;
  private lastStatsNs = 0;

  constructor(private readonly options: VswitchdOptions) {
    this.dpif = options.dpif;
    this.netdevs = options.netdevs;
    this.of = new Ofproto({
      tnlPushPop: options.tnlPushPop ?? false,
      nowNs: () => options.clock.nowNs(),
      datapathName: options.dpif.name,
    });
    this.ofdp = new OfprotoDpif(this.of, this.dpif, options.timers, options.upcallCostNs);
    this.ofdp.onTick = () => this.statsTick();
    this.dpif.setUpcallHandler((u) => this.ofdp.handleUpcall(u));
    if (!this.dpif.getPort(0))
      this.dpif.addPort({ name: this.dpif.name, type: "internal", portNo: 0 });
    this.idl = options.idl({
      schema: options.schema,
      tables: {
        Open_vSwitch: ["bridges", "next_cfg", "cur_cfg", "other_config"],
        Bridge: [
          "name",
          "ports",
          "fail_mode",
          "other_config",
          "datapath_id",
          "datapath_type",
          "protocols",
          "flood_vlans",
        ],
        Port: ["name", "interfaces", "tag", "trunks", "vlan_mode"],
        Interface: [
          "name",
          "type",
          "options",
          "ofport",
          "ofport_request",
          "mtu",
          "mtu_request",
          "mac",
          "mac_in_use",
          "link_state",
          "admin_state",
          "error",
          "statistics",
        ],
      },
      onChange: () => this.changed(),
    });
  }

  /** Connects to the database and applies its configuration. */
  async start(): Promise<void> {
    await this.idl.connect();
    this.changed();
    await this.settle();
  }

  stop(): void {
    this.stopped = true;
    this.ofdp.stop();
    this.idl.close();
  }

  /** The datapath queued an upcall (wire Dpif's onUpcallQueued here). */
  upcallQueued(): void {
    this.ofdp.upcallQueued();
  }

  /** Resolves once cur_cfg >= cfg has been written (what ovs-vsctl waits for). */
  waitForCfg(cfg: number): Promise<void> {
    if (this.appliedCfg >= cfg) return Promise.resolve();
    return new Promise((resolve) => this.waiters.push({ cfg, resolve }));
  }

  /** Resolves when no reconfiguration or write-back is in flight. */
  async settle(): Promise<void> {
    for (let i = 0; i < 100 && (this.pending || this.writing); i++)
      await new Promise<void>((r) => queueMicrotask(r));
    for (let i = 0; i < 20; i++) await Promise.resolve();
  }

  /** `ovs-ofctl` verbs, text in and out. */
  ofctl(text: string): string {
    return runOfctl(this, text);
  }

  /** `ovs-appctl` commands, text in and out. */
  appctl(text: string): string {
    return runAppctl(this, text);
  }

  /**
   * Flow tables, ports or bridges changed: revalidate every megaflow now, so the
   * change holds for the very next packet (the caller is outside packet processing).
   */
  flowsChanged(): void {
    this.ofdp.requestRevalidation();
    this.ofdp.revalidate();
    this.ofdp.armTick();
  }

  /** The host's devices changed (a NIC appeared): re-run reconfiguration soon. */
  rescan(): void {
    this.changed();
  }

  private changed(): void {
    if (this.stopped || this.pending) return;
    this.pending = true;
    // Out of the IDL's notification: apply after the committing transaction returns.
    queueMicrotask(() => {
      this.pending = false;
      if (this.stopped) return;
      this.reconfigure();
      void this.writeBack();
    });
  }

  // ---------------------------------------------------------------- reconfigure

  private root(): IdlRow | undefined {
    return this.idl.rows("Open_vSwitch")[0];
  }

  /** bridge_reconfigure(): makes the switch match the database. */
  reconfigure(): void {
    const root = this.root();
    const wanted = new Map<string, { row: IdlRow; ports: WantedPort[] }>();
    if (root) {
      const oc = root.stringMap("other_config");
      const maxIdle = Number(oc.get("max-idle"));
      this.ofdp.maxIdleMs = Number.isFinite(maxIdle) && maxIdle > 0 ? maxIdle : 10_000;
      // OVS refuses intervals under its 5 s default (bridge_run's stats timer).
      const statsMs = Number(oc.get("stats-update-interval"));
      this.statsIntervalNs =
        Math.max(STATS_INTERVAL_DEFAULT_MS, Number.isFinite(statsMs) ? statsMs : 0) * 1e6;
      for (const bu of root.set("bridges")) {
        const row = this.idl.row("Bridge", String(bu));
        const name = row?.string("name");
        if (!row || !name) continue;
        const ports: WantedPort[] = [];
        for (const pu of row.set("ports")) {
          const p = this.idl.row("Port", String(pu));
          const pname = p?.string("name");
          if (!p || !pname) continue;
          const iu = p.set("interfaces")[0];
          const i = iu === undefined ? undefined : this.idl.row("Interface", String(iu));
          const opts: Record<string, string> = {};
          for (const [k, v] of i?.stringMap("options") ?? []) opts[k] = v;
          const mode = p.string("vlan_mode");
          ports.push({
            name: pname,
            ifaceType: i?.string("type") ?? "",
            options: opts,
            tag: p.number("tag"),
            trunks: p.set("trunks").map(Number),
            vlanMode: mode ? (mode as VlanMode) : undefined,
            ofportRequest: i?.number("ofport_request"),
            mtuRequest: i?.number("mtu_request"),
            mac: i?.string("mac"),
          });
        }
        // Ports added in one transaction get ofports in name order, not in the
        // (random) order of their row UUIDs, so a seeded run stays the same run.
        ports.sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
        wanted.set(name, { row, ports });
      }
    }
    let touched = false;
    for (const name of [...this.state.keys()]) {
      const w = wanted.get(name);
      const fm = w?.row.string("fail_mode") === "secure" ? "secure" : "standalone";
      if (!w || this.state.get(name)!.failMode !== fm) {
        this.removeBridge(name);
        touched = true;
      }
    }
    for (const [name, w] of wanted) {
      if (!this.state.has(name)) {
        this.addBridge(name, w.row);
        touched = true;
      }
      if (this.reconfigurePorts(name, w.ports)) touched = true;
      const b = this.of.mustBridge(name);
      const oc = w.row.stringMap("other_config");
      const aging = Number(oc.get("mac-aging-time"));
      if (Number.isFinite(aging) && aging > 0) b.mac.agingS = aging;
      const size = Number(oc.get("mac-table-size"));
      if (Number.isFinite(size) && size > 0) b.mac.maxEntries = size;
      b.allowedVersions = ofpVersionsFromNames(w.row.set("protocols").map(String));
      const flood = new Set(w.row.set("flood_vlans").map(Number));
      if (
        flood.size !== b.mac.floodVlans.size ||
        [...flood].some((v) => !b.mac.floodVlans.has(v))
      ) {
        // ofproto-dpif's set_flood_vlans(): a changed set flushes the whole table.
        b.mac.floodVlans = flood;
        b.mac.flush();
        touched = true;
      }
    }
    if (touched) this.flowsChanged();
  }

  private addBridge(name: string, row: IdlRow): void {
    const failMode = row.string("fail_mode") === "secure" ? "secure" : "standalone";
    const hw = row.stringMap("other_config").get("hwaddr");
    const b = this.of.addBridge(name, failMode, hw);
    const local = b.ports.get(OFPP_LOCAL)!;
    const nd = this.netdevs.open(name, "internal");
    this.dpif.addPort({
      name,
      type: "internal",
      portNo: local.dpPort,
      port: nd?.port ?? NULL_SINK,
    });
    nd?.bind(local.dpPort!);
    this.state.set(name, {
      failMode,
      ports: new Map([
        [
          name,
          {
            cfg: "local",
            ofport: OFPP_LOCAL,
            dpPort: local.dpPort,
            netdev: nd,
            error: undefined,
            mac: macText(b.hwaddr),
            mtu: 1500,
          },
        ],
      ]),
    });
  }

  private removeBridge(name: string): void {
    const st = this.state.get(name);
    if (!st) return;
    for (const pname of [...st.ports.keys()]) this.removePort(name, pname);
    this.of.removeBridge(name);
    this.state.delete(name);
  }

  private removePort(bridge: string, pname: string): void {
    const st = this.state.get(bridge)!;
    const ps = st.ports.get(pname);
    if (!ps) return;
    ps.netdev?.bind(-1);
    const b = this.of.bridge(bridge);
    const port = b?.ports.get(ps.ofport);
    const shared = port && (port.type === "vxlan" || port.type === "gre" || port.type === "geneve");
    if (b && ps.ofport !== OFPP_LOCAL) b.ports.delete(ps.ofport);
    if (ps.dpPort !== undefined && !shared) {
      this.of.dpPorts.delete(ps.dpPort);
      if (this.dpif.getPort(ps.dpPort)) this.dpif.delPort(ps.dpPort);
    }
    if (b) b.mac.flushPort(ps.ofport);
    st.ports.delete(pname);
  }

  /** Adds, rebuilds and removes ports of one bridge; true when anything changed. */
  private reconfigurePorts(bridge: string, wanted: readonly WantedPort[]): boolean {
    const st = this.state.get(bridge)!;
    const b = this.of.mustBridge(bridge);
    let touched = false;
    const names = new Set(wanted.map((w) => w.name));
    for (const pname of [...st.ports.keys()]) {
      if (pname === bridge) continue;
      if (!names.has(pname)) {
        this.removePort(bridge, pname);
        touched = true;
      }
    }
    for (const w of wanted) {
      if (w.name === bridge) continue; // the LOCAL port, made with the bridge
      const cfg = JSON.stringify(w);
      const old = st.ports.get(w.name);
      if (old && old.cfg === cfg) {
        // Carrier and device may come later (a VM created after its port).
        if (!old.netdev && old.error) {
          this.removePort(bridge, w.name);
        } else continue;
      }
      touched = true;
      if (old && this.retag(b, st, w, cfg, old)) continue;
      let keepOfport: number | undefined;
      if (old) {
        keepOfport = old.ofport > 0 ? old.ofport : undefined;
        this.removePort(bridge, w.name);
      }
      this.addPort(b, st, w, cfg, keepOfport);
    }
    return touched;
  }

  /**
   * Only Port settings (tag, trunks, vlan_mode) changed: rebuild the OpenFlow port in
   * place, keeping its ofport, device and datapath port, and forget the MACs learnt
   * on it (their VLAN may no longer be right). False when more than that changed.
   */
  private retag(b: Bridge, st: BridgeState, w: WantedPort, cfg: string, old: PortState): boolean {
    if (old.error || old.ofport <= 0) return false;
    const before = JSON.parse(old.cfg) as WantedPort;
    const same =
      before.ifaceType === w.ifaceType &&
      JSON.stringify(before.options) === JSON.stringify(w.options) &&
      before.ofportRequest === w.ofportRequest &&
      before.mtuRequest === w.mtuRequest &&
      before.mac === w.mac;
    const port = b.ports.get(old.ofport);
    if (!same || !port) return false;
    b.ports.delete(old.ofport);
    const p = b.addPort({
      name: w.name,
      ofport: old.ofport,
      type: port.type,
      options: w.options,
      tag: w.tag,
      trunks: w.trunks,
      vlanMode: w.vlanMode,
    });
    p.dpPort = port.dpPort;
    b.mac.flushPort(old.ofport);
    st.ports.set(w.name, { ...old, cfg });
    return true;
  }

  private allocOfport(b: Bridge, request: number | undefined, keep: number | undefined): number {
    if (request !== undefined && request > 0 && request < OFPORT_MAX && !b.ports.has(request))
      return request;
    if (keep !== undefined && !b.ports.has(keep)) return keep;
    let n = 1;
    // Requested ofports of other ports are reserved, as OVS does.
    while (b.ports.has(n)) n++;
    return n;
  }

  private addPort(
    b: Bridge,
    st: BridgeState,
    w: WantedPort,
    cfg: string,
    keepOfport: number | undefined,
  ): void {
    const type = portTypeOf(w.ifaceType);
    const fail = (error: string): void => {
      st.ports.set(w.name, {
        cfg,
        ofport: -1,
        dpPort: undefined,
        netdev: undefined,
        error,
        mac: "",
        mtu: 0,
      });
    };
    if (!type) {
      fail(`could not add network device ${w.name} to ofproto (Invalid argument)`);
      return;
    }
    if (type === "patch" && !w.options.peer) {
      fail(`${w.name}: patch type requires valid 'peer' argument`);
      return;
    }
    let nd: NetdevBinding | undefined;
    if (type === "system") {
      nd = this.netdevs.open(w.name, "system");
      if (!nd) {
        fail(`could not open network device ${w.name} (No such device)`);
        return;
      }
    } else if (type === "internal") nd = this.netdevs.open(w.name, "internal");
    const ofport = this.allocOfport(b, w.ofportRequest, keepOfport);
    const spec: PortSpec = {
      name: w.name,
      ofport,
      type,
      options: w.options,
      tag: w.tag,
      trunks: w.trunks,
      vlanMode: w.vlanMode,
    };
    const p = this.of.addPort(b.name, spec);
    if (p.dpPort !== undefined && !this.dpif.getPort(p.dpPort)) {
      if (type === "system" || type === "internal") {
        this.dpif.addPort({
          name: w.name,
          type: type === "system" ? "netdev" : "internal",
          portNo: p.dpPort,
          port: nd?.port ?? NULL_SINK,
        });
      } else {
        try {
          // One vport serves every OpenFlow tunnel port of its type and UDP port; it
          // takes any remote and key, and ingress picks the OpenFlow port.
          const dstPort = w.options.dst_port ?? (type === "vxlan" ? "4789" : "6081");
          this.dpif.addPort({
            name: this.of.dpPorts.get(p.dpPort) ?? w.name,
            type,
            portNo: p.dpPort,
            options:
              type === "gre"
                ? { remote_ip: "flow", key: "flow" }
                : { remote_ip: "flow", key: "flow", dst_port: dstPort },
          });
        } catch {
          // The tunnel vport type is not registered (no overlay on this host): the
          // port exists in OpenFlow, its packets go nowhere, as a port with no carrier.
        }
      }
    }
    if (p.dpPort !== undefined) nd?.bind(p.dpPort);
    st.ports.set(w.name, {
      cfg,
      ofport,
      dpPort: p.dpPort,
      netdev: nd,
      error: undefined,
      mac: w.mac ?? nd?.mac ?? macText(b.hwaddr ^ BigInt(ofport)),
      mtu: w.mtuRequest ?? 1500,
    });
  }

  // ---------------------------------------------------------------- write-back

  /** Writes what OVS writes back; loops until the replica agrees with the switch. */
  private async writeBack(): Promise<void> {
    if (this.writing) {
      this.again = true;
      return;
    }
    this.writing = true;
    try {
      do {
        this.again = false;
        const root = this.root();
        if (!root) break;
        const nextCfg = root.number("next_cfg") ?? 0;
        const updates = this.diffs(root, nextCfg);
        if (updates.length) {
          const r = await this.idl.transact((txn) => {
            for (const u of updates) txn.update(u.table, u.uuid, u.row);
          });
          if (r.status !== "success") this.again = true;
        }
        if (this.idl.rows("Open_vSwitch")[0]?.number("cur_cfg") === nextCfg) {
          this.appliedCfg = Math.max(this.appliedCfg, nextCfg);
          this.wake();
        }
      } while (this.again && !this.stopped);
    } finally {
      this.writing = false;
    }
  }

  private wake(): void {
    for (let i = this.waiters.length - 1; i >= 0; i--) {
      const w = this.waiters[i]!;
      if (w.cfg <= this.appliedCfg) {
        this.waiters.splice(i, 1);
        w.resolve();
      }
    }
  }

  private diffs(
    root: IdlRow,
    nextCfg: number,
  ): { table: string; uuid: string; row: Record<string, Json> }[] {
    const out: { table: string; uuid: string; row: Record<string, Json> }[] = [];
    const ifaceByName = new Map<string, IdlRow>();
    for (const r of this.idl.rows("Interface")) ifaceByName.set(r.string("name") ?? "", r);
    for (const [bname, st] of this.state) {
      const b = this.of.bridge(bname);
      if (!b) continue;
      const brow = this.idl.rows("Bridge").find((r) => r.string("name") === bname);
      const dpid = (b.hwaddr | (1n << 64n)).toString(16).slice(1);
      if (brow && brow.string("datapath_id") !== dpid)
        out.push({ table: "Bridge", uuid: brow.uuid, row: { datapath_id: dpid } });
      for (const [pname, ps] of st.ports) {
        const irow = ifaceByName.get(pname);
        if (!irow) continue;
        const row: Record<string, Json> = {};
        const vport = ps.dpPort !== undefined ? this.dpif.getPort(ps.dpPort) : undefined;
        const shared = vport?.tunnel;
        const up = ps.error
          ? false
          : ps.netdev
            ? ps.netdev.carrier || ps.ofport === OFPP_LOCAL
            : true;
        if (irow.number("ofport") !== ps.ofport) row.ofport = ps.ofport;
        if (ps.error) {
          if (irow.string("error") !== ps.error) row.error = ps.error;
        } else {
          if (irow.string("error") !== undefined) row.error = ["set", []];
          if (irow.string("mac_in_use") !== ps.mac) row.mac_in_use = ps.mac;
          if (irow.number("mtu") !== ps.mtu) row.mtu = ps.mtu;
          const ls = up ? "up" : "down";
          if (irow.string("link_state") !== ls) row.link_state = ls;
          if (irow.string("admin_state") !== "up") row.admin_state = "up";
          if (vport && !shared) {
            const stats: [string, number][] = [
              ["rx_bytes", vport.rxBytes],
              ["rx_packets", vport.rxPackets],
              ["tx_bytes", vport.txBytes],
              ["tx_packets", vport.txPackets],
            ];
            const cur = irow.stringMap("statistics");
            if (stats.some(([k, v]) => cur.get(k) !== String(v))) row.statistics = ["map", stats];
          }
        }
        if (Object.keys(row).length) out.push({ table: "Interface", uuid: irow.uuid, row });
      }
    }
    if (root.number("cur_cfg") !== nextCfg)
      out.push({ table: "Open_vSwitch", uuid: root.uuid, row: { cur_cfg: nextCfg } });
    return out;
  }

  /** Writes Interface statistics and link state now (OVS does it every 5 s). */
  async refreshStats(): Promise<void> {
    this.lastStatsNs = this.options.clock.nowNs();
    await this.writeBack();
  }

  /**
   * The periodic half of refreshStats: every `stats-update-interval` of simulated time
   * while the revalidator ticks (traffic has installed megaflows), as OVS's stats timer.
   */
  private statsTick(): void {
    if (this.stopped) return;
    if (this.options.clock.nowNs() - this.lastStatsNs < this.statsIntervalNs) return;
    void this.refreshStats();
  }

  /** Ports of a bridge as vswitchd sees them (name → ofport, dp port, error). */
  portStates(
    bridge: string,
  ): { name: string; ofport: number; dpPort: number | undefined; error: string | undefined }[] {
    const st = this.state.get(bridge);
    if (!st) return [];
    return [...st.ports].map(([name, p]) => ({
      name,
      ofport: p.ofport,
      dpPort: p.dpPort,
      error: p.error,
    }));
  }

  /** Whether a port's device has carrier (undefined: no device, e.g. patch, tunnel). */
  portCarrier(bridge: string, port: string): boolean | undefined {
    const ps = this.state.get(bridge)?.ports.get(port);
    if (!ps?.netdev || ps.ofport === OFPP_LOCAL) return undefined;
    return ps.netdev.carrier;
  }

  /** The MAC of a port as written to mac_in_use. */
  portMac(bridge: string, port: string): string | undefined {
    return this.state.get(bridge)?.ports.get(port)?.mac;
  }
}
