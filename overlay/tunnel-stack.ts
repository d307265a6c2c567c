/**
 * TunnelStack: one host's tunnel endpoint. It owns the host's VXLAN, GRE and Geneve
 * vports (kernel-style: `set(tunnel(...))` + output encapsulates at the vport) and the
 * datapath's native tunnelling hooks (`tnl_push` / `tnl_pop`), and it is the
 * `UnderlayReceiver` the host's IP stack hands tunnel traffic to.
 *
 * Transmit (a vport's transmitTunnel): the outer header fields come from the flow's
 * tunnel metadata (what `set(tunnel(...))` wrote), each falling back to the port's
 * options when the flow left it zero: tun_dst → remote_ip; tun_src → local_ip → the
 * route's source; tun_id → out_key; ttl → options:ttl → 64; tos → options:tos
 * (`inherit`: the inner IPv4 TOS); DF when the flow's flags say df or df_default is
 * true (OVS's default); checksum when the flags say csum or options:csum=true. The
 * packet is dropped and counted if its outer IPv4 datagram exceeds the route's MTU.
 *
 * Receive (receiveIpv4/receiveUdp, and the tnl_pop hook): the outer IPv4 header is
 * checked (version, lengths, header checksum, no fragments), then UDP (length,
 * checksum when non-zero) or GRE, then the tunnel header; any failure is a counted
 * drop, never an exception. The tunnel port is chosen the way OVS's tnl_find does:
 * same type (and UDP port), local_ip unset or equal to the outer destination, remote_ip
 * equal to the outer source or `flow`, in_key equal to the key or `flow` (no key option:
 * key 0 or none); among matches, a fixed remote_ip beats `flow`, then a fixed key beats
 * `flow`. The inner frame is then looked up again in that port's datapath with
 * in_port = the tunnel port and tun_id/tun_src/tun_dst/tun_flags/tun_tos/tun_ttl/tun_tp
 * (and Geneve options as tun_metadata) in the key.
 *
 * Per packet nothing is allocated: one preallocated scratch buffer and flow key.
 * Buffers handed in are read during the call only.
 */
import type { DpActions, Dpif, TnlPushAction, TunnelPort, VportSpec } from "../datapath/index.js";
import {
  FLOW_TNL_F_CSUM,
  FLOW_TNL_F_DONT_FRAGMENT,
  FLOW_TNL_F_KEY,
  FLOW_TNL_F_OAM,
  FLOW_WORDS,
  type FlowKey,
  fillUdpChecksumIpv4,
  internetChecksum,
  l4ChecksumIpv4,
  onesSum,
  W_IN_PORT,
  W_TUN_DST,
  W_TUN_FLAGS,
  W_TUN_ID_HI,
  W_TUN_ID_LO,
  W_TUN_METADATA_PRESENT,
  W_TUN_SRC,
  W_TUN_TOS_TTL,
  W_TUN_TP,
} from "../packet/index.js";
import { OVERLAY_DROP, OVERLAY_DROP_NAMES } from "./errors.js";
import {
  GENEVE_BASE_LEN,
  GENEVE_FLAG_OAM,
  geneveCheck,
  geneveHeaderLength,
  geneveVni,
  writeGeneveBase,
} from "./geneve.js";
import {
  ETH_TYPE_TEB,
  fillGreChecksum,
  GRE_CSUM,
  GRE_KEY,
  greCheck,
  greChecksumOk,
  greHeaderLength,
  greKey,
  IPPROTO_GRE,
  writeGre,
} from "./gre.js";
import {
  ABSENT,
  FLOW,
  parseTunnelPortConfig,
  TOS_INHERIT,
  TUNNEL_OVERHEAD,
  TUNNEL_TYPES,
  type TunnelPortConfig,
} from "./port-config.js";
import { innerFlowHash, tunnelSrcPort } from "./src-port.js";
import {
  keyOptionsLength,
  keyToOptions,
  optionsToKey,
  TUN_METADATA_MAX_BYTES,
} from "./tun-metadata.js";
import type { TunnelType } from "./tunnel-header.js";
import { UNDERLAY_TX, type Underlay, type UnderlayReceiver } from "./underlay.js";
import { vxlanCheck, vxlanVni, writeVxlan } from "./vxlan.js";

const IPPROTO_UDP = 17;
const IPV4_LEN = 20;
const UDP_LEN = 8;
/** Largest outer datagram the scratch buffer holds. */
const SCRATCH_BYTES = 65536 + 512;
/** decap results besides OVERLAY_DROP reasons. */
const DECAP_OK = -1;
const DECAP_NOT_TUNNEL = -2;

const TYPE_CODE: Readonly<Record<TunnelType, number>> = { vxlan: 1, gre: 2, geneve: 3 };

interface PortEntry {
  readonly cfg: TunnelPortConfig;
  readonly typeCode: number;
  readonly dpif: Dpif;
  readonly impl: TunnelPort;
  readonly recirc: DpActions;
  rxPackets: number;
  txPackets: number;
}

export interface TunnelStackOptions {
  /** Used in `show()`. */
  readonly name?: string;
  /** The host's IP stack; may be given later with setUnderlay. */
  readonly underlay?: Underlay;
}

export interface TunnelStackStats {
  readonly rxPackets: number;
  readonly txPackets: number;
  /** Drops by reason (OVERLAY_DROP names, lower case). */
  readonly drops: Readonly<Record<string, number>>;
}

export class TunnelStack implements UnderlayReceiver {
  readonly name: string;
  /** Drop counters: dropCounts[reason - 1] for each OVERLAY_DROP reason. */
  readonly dropCounts = new Float64Array(OVERLAY_DROP_NAMES.length);
  rxPackets = 0;
  txPackets = 0;
  private underlay: Underlay | null;
  private readonly ports: PortEntry[] = [];
  private readonly scratch = new Uint8Array(SCRATCH_BYTES);
  private readonly meta = new Uint32Array(FLOW_WORDS);
  private readonly inner = new Int32Array(2);
  // What the last successful decap saw, for port selection.
  private lastType = 0;
  private lastDstPort = 0;
  private lastKeyPresent = false;

  constructor(options: TunnelStackOptions = {}) {
    this.name = options.name ?? "tunnels";
    this.underlay = options.underlay ?? null;
  }

  setUnderlay(underlay: Underlay | null): void {
    this.underlay = underlay;
  }

  /**
   * Registers the vxlan/gre/geneve vport types on `dpif` (so `addPort({type:"vxlan",
   * options:{remote_ip,...}})` works) and installs its tnl_push/tnl_pop hooks.
   */
  attach(dpif: Dpif): void {
    const recirc = dpif.parseActionsCached("recirc(0)");
    for (const type of TUNNEL_TYPES)
      dpif.registerVportType(type, (spec) => this.createPort(dpif, recirc, type, spec));
    dpif.setTunnelHooks({
      tnlPush: (action, frame, offset, length, out) =>
        this.tnlPush(action, frame, offset, length, out),
      tnlPop: (_port, frame, offset, length, key, out) =>
        this.tnlPop(frame, offset, length, key, out),
    });
  }

  /** UDP destination ports the host must hand to receiveIpv4/receiveUdp. */
  udpPorts(): number[] {
    return [...new Set(this.ports.filter((p) => p.cfg.type !== "gre").map((p) => p.cfg.dstPort))];
  }

  stats(): TunnelStackStats {
    const drops: Record<string, number> = {};
    OVERLAY_DROP_NAMES.forEach((n, i) => {
      drops[n] = this.dropCounts[i];
    });
    return { rxPackets: this.rxPackets, txPackets: this.txPackets, drops };
  }

  /**
   * The tunnel ports with their overhead and the largest inner IP packet that fits
   * the underlay MTU, and the non-zero drop counters — what a user reads to see why a
   * large ping fails.
   */
  show(): string {
    const lines = [`${this.name}:`];
    for (const p of this.ports) {
      const c = p.cfg;
      const ip = (n: number) =>
        n === FLOW ? "flow" : `${n >>> 24}.${(n >>> 16) & 255}.${(n >>> 8) & 255}.${n & 255}`;
      const k = (n: number) => (n === FLOW ? "flow" : n === ABSENT ? "none" : String(n));
      const route = c.remoteIp >= 0 ? this.underlay?.route(c.remoteIp) : undefined;
      const mtu = route?.mtu ?? 1500;
      const overhead = TUNNEL_OVERHEAD[c.type];
      lines.push(
        `  ${c.name} (${c.portNo}): ${c.type} remote_ip=${ip(c.remoteIp)}${c.localIp >= 0 || c.localIp === FLOW ? ` local_ip=${ip(c.localIp)}` : ""} key=${k(c.inKey)}${c.outKey !== c.inKey ? `/${k(c.outKey)}` : ""}${c.dstPort ? ` dst_port=${c.dstPort}` : ""} rx=${p.rxPackets} tx=${p.txPackets}`,
        `    overhead ${overhead} bytes (outer Ethernet+IPv4${c.type === "gre" ? "+GRE" : `+UDP+${c.type === "vxlan" ? "VXLAN" : "Geneve"}`}); underlay MTU ${mtu} → inner IP packets up to ${mtu - overhead} bytes`,
      );
    }
    OVERLAY_DROP_NAMES.forEach((n, i) => {
      if (this.dropCounts[i] > 0) lines.push(`  drop ${n}: ${this.dropCounts[i]}`);
    });
    return lines.join("\n");
  }

  // ------------------------------------------------------------------ ports

  private createPort(
    dpif: Dpif,
    recirc: DpActions,
    type: TunnelType,
    spec: VportSpec & { readonly portNo: number },
  ): TunnelPort {
    const cfg = parseTunnelPortConfig(spec.portNo, spec.name, type, spec.options ?? {});
    const entry: PortEntry = {
      cfg,
      typeCode: TYPE_CODE[type],
      dpif,
      recirc,
      impl: {
        transmitTunnel: (frame, offset, length, tunnel) =>
          this.encap(entry, frame, offset, length, tunnel),
      },
      rxPackets: 0,
      txPackets: 0,
    };
    for (let i = 0; i < this.ports.length; i++) {
      const p = this.ports[i];
      // A datapath port number reused after delPort replaces the stale entry.
      if (p.dpif === dpif && p.cfg.portNo === spec.portNo) this.ports.splice(i, 1);
    }
    this.ports.push(entry);
    return entry.impl;
  }

  private drop(reason: number): void {
    this.dropCounts[reason - 1]++;
  }

  // --------------------------------------------------------------- transmit

  private encap(p: PortEntry, frame: Uint8Array, off: number, len: number, tnl: FlowKey): void {
    const c = p.cfg;
    const underlay = this.underlay;
    const dst = tnl[W_TUN_DST] !== 0 ? tnl[W_TUN_DST] : Math.max(c.remoteIp, 0);
    if (dst === 0) {
      this.drop(OVERLAY_DROP.NO_REMOTE);
      return;
    }
    const route = underlay?.route(dst);
    if (underlay === null || route === undefined) {
      this.drop(OVERLAY_DROP.NO_ROUTE);
      return;
    }
    const src = tnl[W_TUN_SRC] !== 0 ? tnl[W_TUN_SRC] : c.localIp >= 0 ? c.localIp : route.srcIp;
    const flags = tnl[W_TUN_FLAGS];
    const tosTtl = tnl[W_TUN_TOS_TTL];
    const ttl = tosTtl & 0xff || c.ttl;
    let tos = tosTtl >>> 8;
    if (tos === 0) {
      if (c.tos === TOS_INHERIT) {
        if (len >= 16 && frame[off + 12] === 0x08 && frame[off + 13] === 0x00)
          tos = frame[off + 15];
      } else tos = c.tos;
    }
    const hasFlowKey = (flags & FLOW_TNL_F_KEY) !== 0 || tnl[W_TUN_ID_LO] !== 0;
    const keyPresent = hasFlowKey || c.outKey >= 0;
    const id = hasFlowKey ? tnl[W_TUN_ID_LO] : Math.max(c.outKey, 0);
    const df = (flags & FLOW_TNL_F_DONT_FRAGMENT) !== 0 || c.df;
    const csum = (flags & FLOW_TNL_F_CSUM) !== 0 || c.csum;

    const b = this.scratch;
    let at = IPV4_LEN;
    let proto = IPPROTO_UDP;
    const l4 = at;
    if (c.type === "gre") {
      proto = IPPROTO_GRE;
      at = writeGre(b, at, ETH_TYPE_TEB, csum, keyPresent ? id : -1, -1);
    } else {
      at += UDP_LEN;
      if (c.type === "vxlan") {
        writeVxlan(b, at, id & 0xffffff);
        at += 8;
      } else {
        const optLen = keyOptionsLength(tnl);
        writeGeneveBase(b, at, id & 0xffffff, optLen, flags & FLOW_TNL_F_OAM ? GENEVE_FLAG_OAM : 0);
        at = keyToOptions(tnl, b, at + GENEVE_BASE_LEN);
      }
    }
    const total = at + len;
    if (total > route.mtu || total > SCRATCH_BYTES) {
      this.drop(OVERLAY_DROP.MTU_EXCEEDED);
      return;
    }
    b.set(frame.subarray(off, off + len), at);
    writeIpv4(b, 0, total, tos, ttl, df, proto, src, dst);
    if (proto === IPPROTO_UDP) {
      const sport = tunnelSrcPort(innerFlowHash(frame, off, len));
      b[l4] = sport >>> 8;
      b[l4 + 1] = sport & 0xff;
      b[l4 + 2] = c.dstPort >>> 8;
      b[l4 + 3] = c.dstPort & 0xff;
      b[l4 + 4] = (total - IPV4_LEN) >>> 8;
      b[l4 + 5] = (total - IPV4_LEN) & 0xff;
      b[l4 + 6] = 0;
      b[l4 + 7] = 0;
      if (csum) fillUdpChecksumIpv4(b, l4, total - IPV4_LEN, src, dst);
    } else if (csum) {
      fillGreChecksum(b, l4, total);
    }
    const r = underlay.sendIpv4(b, 0, total);
    if (r === UNDERLAY_TX.SENT) {
      this.txPackets++;
      p.txPackets++;
    } else if (r === UNDERLAY_TX.NO_ROUTE) this.drop(OVERLAY_DROP.NO_ROUTE);
    else this.drop(OVERLAY_DROP.UNDERLAY_DROP);
  }

  /** tnl_push: prepend the prebuilt header and fill the per-packet fields. */
  private tnlPush(
    a: TnlPushAction,
    frame: Uint8Array,
    offset: number,
    length: number,
    out: Int32Array,
  ): boolean {
    const h = a.headerSize;
    const at = offset - h;
    if (at < 0 || h < 14 + IPV4_LEN) return false;
    frame.set(a.header, at);
    if (frame[at + 12] !== 0x08 || frame[at + 13] !== 0x00) return false;
    const ip = at + 14;
    const total = length + h - 14;
    const dst = readU32(frame, ip + 16);
    const route = this.underlay?.route(dst);
    if (route !== undefined && total > route.mtu) {
      this.drop(OVERLAY_DROP.MTU_EXCEEDED);
      return false;
    }
    frame[ip + 2] = total >>> 8;
    frame[ip + 3] = total & 0xff;
    frame[ip + 10] = 0;
    frame[ip + 11] = 0;
    const hc = internetChecksum(frame, ip, IPV4_LEN);
    frame[ip + 10] = hc >>> 8;
    frame[ip + 11] = hc & 0xff;
    const l4 = ip + IPV4_LEN;
    const end = offset + length;
    if (frame[ip + 9] === IPPROTO_UDP) {
      if (frame[l4] === 0 && frame[l4 + 1] === 0) {
        const sport = tunnelSrcPort(innerFlowHash(frame, offset, length));
        frame[l4] = sport >>> 8;
        frame[l4 + 1] = sport & 0xff;
      }
      const udpLen = total - IPV4_LEN;
      frame[l4 + 4] = udpLen >>> 8;
      frame[l4 + 5] = udpLen & 0xff;
      // A non-zero template checksum asks for one (OVS prints csum=0xffff then).
      if (frame[l4 + 6] !== 0 || frame[l4 + 7] !== 0)
        fillUdpChecksumIpv4(frame, l4, udpLen, readU32(frame, ip + 12), dst);
    } else if (frame[ip + 9] === IPPROTO_GRE && frame[l4] & 0x80) {
      fillGreChecksum(frame, l4, end);
    }
    this.txPackets++;
    out[0] = at;
    out[1] = length + h;
    return true;
  }

  // ---------------------------------------------------------------- receive

  receiveIpv4(packet: Uint8Array, offset: number, length: number): boolean {
    const meta = this.meta;
    meta.fill(0);
    const r = this.decapIpv4(packet, offset, offset + length, meta, this.inner);
    if (r === DECAP_NOT_TUNNEL) return false;
    if (r !== DECAP_OK) {
      this.drop(r);
      return true;
    }
    this.deliver(packet, meta);
    return true;
  }

  receiveUdp(
    srcIp: number,
    dstIp: number,
    srcPort: number,
    dstPort: number,
    tos: number,
    ttl: number,
    payload: Uint8Array,
    offset: number,
    length: number,
  ): boolean {
    const meta = this.meta;
    meta.fill(0);
    const type = this.udpType(dstPort);
    if (type === 0) return false;
    meta[W_TUN_SRC] = srcIp >>> 0;
    meta[W_TUN_DST] = dstIp >>> 0;
    meta[W_TUN_TOS_TTL] = ((tos & 0xff) << 8) | (ttl & 0xff);
    meta[W_TUN_TP] = ((srcPort << 16) | dstPort) >>> 0;
    const r = this.decapUdpPayload(
      type,
      dstPort,
      payload,
      offset,
      offset + length,
      meta,
      this.inner,
    );
    if (r !== DECAP_OK) {
      this.drop(r);
      return true;
    }
    this.deliver(payload, meta);
    return true;
  }

  /** tnl_pop hook: `frame` is the Ethernet frame that arrived on the underlay port. */
  private tnlPop(
    frame: Uint8Array,
    offset: number,
    length: number,
    key: FlowKey,
    out: Int32Array,
  ): boolean {
    if (length < 14 || frame[offset + 12] !== 0x08 || frame[offset + 13] !== 0x00) {
      this.drop(OVERLAY_DROP.MALFORMED_OUTER);
      return false;
    }
    const r = this.decapIpv4(frame, offset + 14, offset + length, key, out);
    if (r === DECAP_OK) {
      this.rxPackets++;
      return true;
    }
    this.drop(r === DECAP_NOT_TUNNEL ? OVERLAY_DROP.NO_PORT : r);
    return false;
  }

  private udpType(dstPort: number): number {
    for (const p of this.ports)
      if (p.cfg.dstPort === dstPort && p.typeCode !== TYPE_CODE.gre) return p.typeCode;
    return 0;
  }

  /**
   * Checks the outer IPv4 datagram at [ip, end) and the tunnel header inside; fills the
   * tunnel words of `key` and the inner frame's offset/length in `out`. Returns DECAP_OK,
   * DECAP_NOT_TUNNEL, or an OVERLAY_DROP reason.
   */
  private decapIpv4(b: Uint8Array, ip: number, end: number, key: FlowKey, out: Int32Array): number {
    // RFC 791 §3.1: version 4, IHL ≥ 5, total length within what arrived, checksum valid.
    if (end - ip < IPV4_LEN || b[ip] >>> 4 !== 4) return OVERLAY_DROP.MALFORMED_OUTER;
    const ihl = (b[ip] & 0x0f) * 4;
    const total = (b[ip + 2] << 8) | b[ip + 3];
    if (ihl < IPV4_LEN || total < ihl || total > end - ip) return OVERLAY_DROP.MALFORMED_OUTER;
    if (onesSum(b, ip, ihl) !== 0xffff) return OVERLAY_DROP.BAD_CSUM;
    const frag = (b[ip + 6] << 8) | b[ip + 7];
    if (frag & 0x3fff) return OVERLAY_DROP.MALFORMED_OUTER;
    end = ip + total;
    const proto = b[ip + 9];
    const src = readU32(b, ip + 12);
    const dst = readU32(b, ip + 16);
    const l4 = ip + ihl;
    let type: number;
    let dstPort = 0;
    let payload = l4;
    if (proto === IPPROTO_UDP) {
      if (end - l4 < UDP_LEN) return OVERLAY_DROP.MALFORMED_OUTER;
      dstPort = (b[l4 + 2] << 8) | b[l4 + 3];
      type = this.udpType(dstPort);
      if (type === 0) return DECAP_NOT_TUNNEL;
      const udpLen = (b[l4 + 4] << 8) | b[l4 + 5];
      if (udpLen < UDP_LEN || udpLen > end - l4) return OVERLAY_DROP.MALFORMED_OUTER;
      end = l4 + udpLen;
      if (
        (b[l4 + 6] !== 0 || b[l4 + 7] !== 0) &&
        l4ChecksumIpv4(b, l4, udpLen, src, dst, IPPROTO_UDP) !== 0
      )
        return OVERLAY_DROP.BAD_CSUM;
      payload = l4 + UDP_LEN;
      key[W_TUN_TP] = ((((b[l4] << 8) | b[l4 + 1]) << 16) | dstPort) >>> 0;
      if (b[l4 + 6] !== 0 || b[l4 + 7] !== 0) key[W_TUN_FLAGS] |= FLOW_TNL_F_CSUM;
    } else if (proto === IPPROTO_GRE) {
      type = TYPE_CODE.gre;
    } else return DECAP_NOT_TUNNEL;
    key[W_TUN_SRC] = src;
    key[W_TUN_DST] = dst;
    key[W_TUN_TOS_TTL] = (b[ip + 1] << 8) | b[ip + 8];
    if (frag & 0x4000) key[W_TUN_FLAGS] |= FLOW_TNL_F_DONT_FRAGMENT;
    return this.decapUdpPayload(type, dstPort, b, payload, end, key, out);
  }

  /** The tunnel header at [at, end) (after UDP, or the GRE header itself). */
  private decapUdpPayload(
    type: number,
    dstPort: number,
    b: Uint8Array,
    at: number,
    end: number,
    key: FlowKey,
    out: Int32Array,
  ): number {
    let r: number;
    let hl: number;
    let keyPresent = true;
    key[W_TUN_ID_HI] = 0;
    if (type === TYPE_CODE.vxlan) {
      r = vxlanCheck(b, at, end);
      if (r !== 0) return r;
      key[W_TUN_ID_LO] = vxlanVni(b, at);
      hl = 8;
    } else if (type === TYPE_CODE.geneve) {
      r = geneveCheck(b, at, end);
      if (r !== 0) return r;
      hl = geneveHeaderLength(b, at);
      const optLen = hl - GENEVE_BASE_LEN;
      if (optLen > TUN_METADATA_MAX_BYTES) return OVERLAY_DROP.GENEVE_OPTIONS_TOO_LONG;
      key[W_TUN_ID_LO] = geneveVni(b, at);
      optionsToKey(b, at + GENEVE_BASE_LEN, optLen, key);
      if (b[at + 1] & GENEVE_FLAG_OAM) key[W_TUN_FLAGS] |= FLOW_TNL_F_OAM;
    } else {
      r = greCheck(b, at, end);
      if (r !== 0) return r;
      const flags = (b[at] << 8) | b[at + 1];
      if (flags & GRE_CSUM) {
        if (!greChecksumOk(b, at, end)) return OVERLAY_DROP.BAD_CSUM;
        key[W_TUN_FLAGS] |= FLOW_TNL_F_CSUM;
      }
      keyPresent = (flags & GRE_KEY) !== 0;
      key[W_TUN_ID_LO] = keyPresent ? greKey(b, at) : 0;
      hl = greHeaderLength(b, at);
    }
    if (end - at - hl < 14) return OVERLAY_DROP.MALFORMED_OUTER;
    if (keyPresent) key[W_TUN_FLAGS] |= FLOW_TNL_F_KEY;
    if (type !== TYPE_CODE.geneve) key[W_TUN_METADATA_PRESENT] = 0;
    this.lastType = type;
    this.lastDstPort = dstPort;
    this.lastKeyPresent = keyPresent;
    out[0] = at + hl;
    out[1] = end - at - hl;
    return DECAP_OK;
  }

  /** Picks the receiving port (OVS tnl_find order) and looks the inner frame up again. */
  private deliver(b: Uint8Array, meta: FlowKey): void {
    const src = meta[W_TUN_SRC];
    const dst = meta[W_TUN_DST];
    const id = meta[W_TUN_ID_LO];
    let best: PortEntry | null = null;
    let bestScore = -1;
    for (const p of this.ports) {
      const c = p.cfg;
      if (p.typeCode !== this.lastType) continue;
      if (this.lastType !== TYPE_CODE.gre && c.dstPort !== this.lastDstPort) continue;
      if (c.localIp >= 0 && c.localIp !== dst) continue;
      if (c.remoteIp >= 0 && c.remoteIp !== src) continue;
      if (c.inKey === ABSENT) {
        if (this.lastKeyPresent && id !== 0) continue;
      } else if (c.inKey !== FLOW && (!this.lastKeyPresent || c.inKey !== id)) continue;
      if (p.dpif.getPort(c.portNo)?.impl !== p.impl) continue;
      const score = (c.remoteIp >= 0 ? 2 : 0) + (c.inKey !== FLOW ? 1 : 0);
      if (score > bestScore) {
        best = p;
        bestScore = score;
      }
    }
    if (best === null) {
      this.drop(OVERLAY_DROP.NO_PORT);
      return;
    }
    this.rxPackets++;
    best.rxPackets++;
    const vport = best.dpif.getPort(best.cfg.portNo);
    if (vport !== undefined) {
      vport.rxPackets++;
      vport.rxBytes += this.inner[1];
    }
    meta[W_IN_PORT] = best.cfg.portNo;
    best.dpif.execute(b, this.inner[0], this.inner[1], best.recirc, meta);
  }
}

function readU32(b: Uint8Array, p: number): number {
  return ((b[p] << 24) | (b[p + 1] << 16) | (b[p + 2] << 8) | b[p + 3]) >>> 0;
}

/** Writes a 20-byte IPv4 header (id 0, no options) with its checksum. */
function writeIpv4(
  b: Uint8Array,
  ip: number,
  total: number,
  tos: number,
  ttl: number,
  df: boolean,
  proto: number,
  src: number,
  dst: number,
): void {
  b[ip] = 0x45;
  b[ip + 1] = tos;
  b[ip + 2] = total >>> 8;
  b[ip + 3] = total & 0xff;
  b[ip + 4] = 0;
  b[ip + 5] = 0;
  b[ip + 6] = df ? 0x40 : 0;
  b[ip + 7] = 0;
  b[ip + 8] = ttl;
  b[ip + 9] = proto;
  b[ip + 10] = 0;
  b[ip + 11] = 0;
  b[ip + 12] = src >>> 24;
  b[ip + 13] = (src >>> 16) & 0xff;
  b[ip + 14] = (src >>> 8) & 0xff;
  b[ip + 15] = src & 0xff;
  b[ip + 16] = dst >>> 24;
  b[ip + 17] = (dst >>> 16) & 0xff;
  b[ip + 18] = (dst >>> 8) & 0xff;
  b[ip + 19] = dst & 0xff;
  const c = internetChecksum(b, ip, IPV4_LEN);
  b[ip + 10] = c >>> 8;
  b[ip + 11] = c & 0xff;
}
