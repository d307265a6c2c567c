/**
 * The action executor: runs a megaflow's datapath actions on one frame. OVS:
 * lib/odp-execute.c plus dpif-netdev's dp_execute_cb.
 *
 * Promises
 * - Never throws on a packet: actions were validated at flowPut; a `set` that does not
 *   apply to the frame (set(tcp(...)) on UDP, a header that is not there) is skipped,
 *   as OVS skips it.
 * - The caller's frame is never modified: when the list changes bytes or length the
 *   executor first copies the frame into a scratch buffer with headroom (one per
 *   nesting depth, allocated once), so `clone` and `sample` see the frame as it was.
 * - Checksums stay valid: IPv4 header and TCP/UDP/ICMPv6 checksums are fixed
 *   incrementally (RFC 1624) for every field a `set` changes; a UDP checksum of zero
 *   ("none") stays zero.
 * - Recursion (clone, sample, recirc, tnl_pop) is bounded by MAX_EXEC_DEPTH; deeper
 *   packets are dropped and counted in `depthDrops`.
 *
 * Output, upcalls, recirculation and tunnel push/pop go through ExecContext, which the
 * Dpif implements; the executor knows no ports.
 */
import {
  FLOW_WORDS,
  type FlowKey,
  fixL4ForField16,
  fixL4ForIpv4Addr,
  fixL4ForIpv6Addr,
  LAYER_L2_5,
  LAYER_L3,
  LAYER_L4,
  LAYER_L7,
  LAYER_SLOTS,
  NW_TOS_SHIFT,
  NW_TTL_SHIFT,
  type PacketLayers,
  update16,
  update32,
  W_DL_DST_HI,
  W_DL_DST_LO,
  W_DL_SRC_HI,
  W_DL_SRC_LO,
  W_DL_TYPE,
  W_IN_PORT,
  W_IPV6_DST,
  W_IPV6_LABEL,
  W_IPV6_SRC,
  W_NW,
  W_NW_DST,
  W_NW_SRC,
  W_PKT_MARK,
  W_RECIRC_ID,
  W_SKB_PRIORITY,
  W_TP,
  W_TUN_ID_HI,
  W_TUN_METADATA_PRESENT,
} from "../packet/index.js";
import type { DpAction, DpActions, SetAction, TnlPushAction, UserspaceAction } from "./actions.js";

/** Bytes kept free in front of a copied frame, for push_vlan and tnl_push headers. */
export const EXEC_HEADROOM = 256;
/** Largest frame the executor copies (an IPv4 datagram plus L2 headers). */
export const EXEC_MAX_FRAME = 65536 + 64;
/** Nesting limit for clone/sample/recirc/tnl_pop (OVS MAX_RECIRC_DEPTH is 6). */
export const MAX_EXEC_DEPTH = 8;

const ETH_TYPE_IPV4 = 0x0800;
const ETH_TYPE_IPV6 = 0x86dd;
const ETH_TYPE_VLAN = 0x8100;
const ETH_TYPE_VLAN_8021AD = 0x88a8;
const IPPROTO_TCP = 6;
const IPPROTO_UDP = 17;

/** What the executor needs from its datapath. */
export interface ExecContext {
  /** Sends the frame out of `portNo`; `key` carries tunnel metadata. Unknown ports drop. */
  output(portNo: number, frame: Uint8Array, offset: number, length: number, key: FlowKey): void;
  /** Queues an action upcall. */
  userspace(
    action: UserspaceAction,
    frame: Uint8Array,
    offset: number,
    length: number,
    key: FlowKey,
  ): void;
  /** Looks the frame up again with `key`'s metadata (recirc_id, in_port, tunnel). */
  recirculate(frame: Uint8Array, offset: number, length: number, key: FlowKey, depth: number): void;
  /**
   * tnl_push: writes the tunnel header in front of the frame (headroom is at least
   * EXEC_HEADROOM - 64 bytes) and stores the new offset and length in `out`. False: drop.
   */
  tnlPush(
    action: TnlPushAction,
    frame: Uint8Array,
    offset: number,
    length: number,
    out: Int32Array,
  ): boolean;
  /**
   * tnl_pop: strips the tunnel header of a frame that arrived on tunnel port `port`,
   * fills the tunnel words of `key`, and stores the inner frame's offset and length in
   * `out`. False: drop.
   */
  tnlPop(
    port: number,
    frame: Uint8Array,
    offset: number,
    length: number,
    key: FlowKey,
    out: Int32Array,
  ): boolean;
  /** A uniformly distributed uint32, for `sample`. */
  random32(): number;
}

export class Executor {
  /** Packets dropped because actions nested deeper than MAX_EXEC_DEPTH. */
  depthDrops = 0;
  private readonly scratch: (Uint8Array | null)[] = new Array(MAX_EXEC_DEPTH + 1).fill(null);
  private readonly keys: FlowKey[] = [];
  private readonly layers: PacketLayers[] = [];
  private readonly out = new Int32Array(2);
  private readonly addr16 = new Uint8Array(16);

  constructor(private readonly ctx: ExecContext) {
    for (let d = 0; d <= MAX_EXEC_DEPTH; d++) {
      this.keys.push(new Uint32Array(FLOW_WORDS));
      this.layers.push(new Int32Array(LAYER_SLOTS));
    }
  }

  /**
   * Runs `actions` on the frame `frame[offset, offset+length)` whose flow key is `key`
   * and layer offsets `layers` (relative to `offset`). Neither the frame, `key` nor
   * `layers` is modified.
   */
  run(
    actions: DpActions,
    frame: Uint8Array,
    offset: number,
    length: number,
    key: FlowKey,
    layers: PacketLayers,
    depth: number,
  ): void {
    if (!actions.modifiesFrame && !actions.modifiesKey && depth <= MAX_EXEC_DEPTH) {
      // Nothing writes to the frame, key or layers: run on the caller's own.
      this.runList(actions.list, frame, offset, length, key, layers, depth);
      return;
    }
    this.enter(actions.list, actions.modifiesFrame, frame, offset, length, key, layers, depth);
  }

  private enter(
    list: readonly DpAction[],
    modifiesFrame: boolean,
    frame: Uint8Array,
    offset: number,
    length: number,
    key: FlowKey,
    layers: PacketLayers,
    depth: number,
  ): void {
    if (depth > MAX_EXEC_DEPTH) {
      this.depthDrops++;
      return;
    }
    const k = this.keys[depth];
    k.set(key);
    const ly = this.layers[depth];
    ly.set(layers);
    if (modifiesFrame) {
      if (length > EXEC_MAX_FRAME) return;
      let s = this.scratch[depth];
      if (s === null) s = this.scratch[depth] = new Uint8Array(EXEC_HEADROOM + EXEC_MAX_FRAME + 64);
      // No subarray view per packet: copy the whole buffer when it is the frame, else
      // byte by byte.
      if (offset === 0 && length === frame.length) s.set(frame, EXEC_HEADROOM);
      else for (let i = 0; i < length; i++) s[EXEC_HEADROOM + i] = frame[offset + i];
      frame = s;
      offset = EXEC_HEADROOM;
    }
    this.runList(list, frame, offset, length, k, ly, depth);
  }

  private runList(
    list: readonly DpAction[],
    buf: Uint8Array,
    off: number,
    len: number,
    key: FlowKey,
    layers: PacketLayers,
    depth: number,
  ): void {
    let truncLen = -1;
    for (let i = 0; i < list.length; i++) {
      const a = list[i];
      switch (a.type) {
        case "output": {
          const sendLen = truncLen >= 0 && truncLen < len ? truncLen : len;
          truncLen = -1;
          this.ctx.output(a.port, buf, off, sendLen, key);
          break;
        }
        case "trunc":
          truncLen = a.maxLen;
          break;
        case "push_vlan": {
          if (off < 4) return;
          buf.copyWithin(off - 4, off, off + 12);
          off -= 4;
          len += 4;
          buf[off + 12] = a.tpid >>> 8;
          buf[off + 13] = a.tpid & 0xff;
          buf[off + 14] = a.tci >>> 8;
          buf[off + 15] = a.tci & 0xff;
          shiftLayers(layers, 4);
          break;
        }
        case "pop_vlan": {
          if (len < 18) break;
          const tpid = (buf[off + 12] << 8) | buf[off + 13];
          if (tpid !== ETH_TYPE_VLAN && tpid !== ETH_TYPE_VLAN_8021AD) break;
          buf.copyWithin(off + 4, off, off + 12);
          off += 4;
          len -= 4;
          shiftLayers(layers, -4);
          break;
        }
        case "set":
          this.set(a, buf, off, len, key, layers);
          break;
        case "userspace":
          this.ctx.userspace(a, buf, off, len, key);
          break;
        case "clone":
          this.runNested(a.actions, buf, off, len, key, layers, depth);
          break;
        case "sample":
          if (a.probability === 0xffffffff || this.ctx.random32() <= a.probability)
            this.runNested(a.actions, buf, off, len, key, layers, depth);
          break;
        case "recirc": {
          if (depth + 1 > MAX_EXEC_DEPTH) {
            this.depthDrops++;
            break;
          }
          const k = this.keys[depth + 1];
          k.set(key);
          k[W_RECIRC_ID] = a.id;
          this.ctx.recirculate(buf, off, len, k, depth + 1);
          break;
        }
        case "tnl_push":
          if (this.ctx.tnlPush(a, buf, off, len, this.out)) {
            this.ctx.output(a.outPort, buf, this.out[0], this.out[1], key);
          }
          break;
        case "tnl_pop": {
          if (depth + 1 > MAX_EXEC_DEPTH) {
            this.depthDrops++;
            break;
          }
          const k = this.keys[depth + 1];
          k.set(key);
          k.fill(0, W_TUN_ID_HI, W_TUN_METADATA_PRESENT + 1);
          k[W_IN_PORT] = a.port;
          if (this.ctx.tnlPop(a.port, buf, off, len, k, this.out)) {
            this.ctx.recirculate(buf, this.out[0], this.out[1], k, depth + 1);
          }
          break;
        }
      }
    }
  }

  /** clone/sample: the nested list sees a private copy of frame and key. */
  private runNested(
    list: readonly DpAction[],
    buf: Uint8Array,
    off: number,
    len: number,
    key: FlowKey,
    layers: PacketLayers,
    depth: number,
  ): void {
    this.enter(list, true, buf, off, len, key, layers, depth + 1);
  }

  private set(
    a: SetAction,
    buf: Uint8Array,
    off: number,
    len: number,
    key: FlowKey,
    layers: PacketLayers,
  ): void {
    const v = a.key;
    const m = a.mask;
    switch (a.attr) {
      case "eth":
        if (len < 14) return;
        writeMasked16(buf, off, v[W_DL_DST_HI], m[W_DL_DST_HI]);
        writeMasked32(buf, off + 2, v[W_DL_DST_LO], m[W_DL_DST_LO]);
        writeMasked16(buf, off + 6, v[W_DL_SRC_HI], m[W_DL_SRC_HI]);
        writeMasked32(buf, off + 8, v[W_DL_SRC_LO], m[W_DL_SRC_LO]);
        return;
      case "ipv4":
        this.setIpv4(v, m, buf, off, len, key, layers);
        return;
      case "ipv6":
        this.setIpv6(v, m, buf, off, len, key, layers);
        return;
      case "tcp":
      case "udp": {
        const proto = key[W_NW] & 0xff;
        if (proto !== (a.attr === "tcp" ? IPPROTO_TCP : IPPROTO_UDP)) return;
        if (layers[LAYER_L4] < 0 || layers[LAYER_L7] < 0) return;
        const l4 = off + layers[LAYER_L4];
        const l4Len = off + len - l4;
        const oldSrc = read16(buf, l4);
        const oldDst = read16(buf, l4 + 2);
        const src = (oldSrc & ~(m[W_TP] >>> 16)) | ((v[W_TP] >>> 16) & (m[W_TP] >>> 16));
        const dst = (oldDst & ~m[W_TP] & 0xffff) | (v[W_TP] & m[W_TP] & 0xffff);
        if (src !== oldSrc) {
          write16(buf, l4, src);
          fixL4ForField16(buf, l4, l4Len, proto, oldSrc, src);
        }
        if (dst !== oldDst) {
          write16(buf, l4 + 2, dst);
          fixL4ForField16(buf, l4, l4Len, proto, oldDst, dst);
        }
        return;
      }
      case "skb_mark":
        key[W_PKT_MARK] = (key[W_PKT_MARK] & ~m[W_PKT_MARK]) | (v[W_PKT_MARK] & m[W_PKT_MARK]);
        return;
      case "skb_priority":
        key[W_SKB_PRIORITY] =
          (key[W_SKB_PRIORITY] & ~m[W_SKB_PRIORITY]) | (v[W_SKB_PRIORITY] & m[W_SKB_PRIORITY]);
        return;
      case "tunnel":
        // set(tunnel(...)) replaces the whole tunnel metadata (OVS odp_set_tunnel_action).
        for (let w = W_TUN_ID_HI; w <= W_TUN_METADATA_PRESENT; w++) key[w] = v[w];
        return;
    }
  }

  private setIpv4(
    v: FlowKey,
    m: FlowKey,
    buf: Uint8Array,
    off: number,
    len: number,
    key: FlowKey,
    layers: PacketLayers,
  ): void {
    if (key[W_DL_TYPE] !== ETH_TYPE_IPV4 || layers[LAYER_L3] < 0) return;
    const p = off + layers[LAYER_L3];
    if (p + 20 > off + len) return;
    const l4 = layers[LAYER_L4] >= 0 ? off + layers[LAYER_L4] : -1;
    const l4Len = l4 >= 0 ? off + len - l4 : 0;
    const proto = buf[p + 9];
    let csum = read16(buf, p + 10);
    const oldSrc = read32(buf, p + 12);
    const src = ((oldSrc & ~m[W_NW_SRC]) | (v[W_NW_SRC] & m[W_NW_SRC])) >>> 0;
    if (src !== oldSrc) {
      write32(buf, p + 12, src);
      csum = update32(csum, oldSrc, src);
      if (l4 >= 0) fixL4ForIpv4Addr(buf, l4, l4Len, proto, oldSrc, src);
    }
    const oldDst = read32(buf, p + 16);
    const dst = ((oldDst & ~m[W_NW_DST]) | (v[W_NW_DST] & m[W_NW_DST])) >>> 0;
    if (dst !== oldDst) {
      write32(buf, p + 16, dst);
      csum = update32(csum, oldDst, dst);
      if (l4 >= 0) fixL4ForIpv4Addr(buf, l4, l4Len, proto, oldDst, dst);
    }
    const tosMask = (m[W_NW] >>> NW_TOS_SHIFT) & 0xff;
    if (tosMask !== 0) {
      const oldWord = read16(buf, p);
      const tos = (buf[p + 1] & ~tosMask) | ((v[W_NW] >>> NW_TOS_SHIFT) & tosMask);
      const word = (oldWord & 0xff00) | tos;
      if (word !== oldWord) {
        buf[p + 1] = tos;
        csum = update16(csum, oldWord, word);
      }
    }
    const ttlMask = (m[W_NW] >>> NW_TTL_SHIFT) & 0xff;
    if (ttlMask !== 0) {
      const oldWord = read16(buf, p + 8);
      const ttl = (buf[p + 8] & ~ttlMask) | ((v[W_NW] >>> NW_TTL_SHIFT) & ttlMask);
      const word = (ttl << 8) | (oldWord & 0xff);
      if (word !== oldWord) {
        buf[p + 8] = ttl;
        csum = update16(csum, oldWord, word);
      }
    }
    write16(buf, p + 10, csum);
  }

  private setIpv6(
    v: FlowKey,
    m: FlowKey,
    buf: Uint8Array,
    off: number,
    len: number,
    key: FlowKey,
    layers: PacketLayers,
  ): void {
    if (key[W_DL_TYPE] !== ETH_TYPE_IPV6 || layers[LAYER_L3] < 0) return;
    const p = off + layers[LAYER_L3];
    if (p + 40 > off + len) return;
    const l4 = layers[LAYER_L4] >= 0 ? off + layers[LAYER_L4] : -1;
    const l4Len = l4 >= 0 ? off + len - l4 : 0;
    const proto = key[W_NW] & 0xff;
    for (let which = 0; which < 2; which++) {
      const w0 = which === 0 ? W_IPV6_SRC : W_IPV6_DST;
      const at = p + (which === 0 ? 8 : 24);
      if ((m[w0] | m[w0 + 1] | m[w0 + 2] | m[w0 + 3]) === 0) continue;
      for (let i = 0; i < 16; i++) this.addr16[i] = buf[at + i];
      for (let i = 0; i < 4; i++) {
        const old = read32(buf, at + 4 * i);
        write32(buf, at + 4 * i, ((old & ~m[w0 + i]) | (v[w0 + i] & m[w0 + i])) >>> 0);
      }
      if (l4 >= 0) fixL4ForIpv6Addr(buf, l4, l4Len, proto, this.addr16, 0, buf, at);
    }
    // Version, traffic class and flow label share the first word; no checksum covers them.
    const tcMask = (m[W_NW] >>> NW_TOS_SHIFT) & 0xff;
    const labelMask = m[W_IPV6_LABEL] & 0xfffff;
    if (tcMask !== 0 || labelMask !== 0) {
      const first = read32(buf, p);
      const tc = (((first >>> 20) & 0xff & ~tcMask) | ((v[W_NW] >>> NW_TOS_SHIFT) & tcMask)) & 0xff;
      const label = ((first & 0xfffff & ~labelMask) | (v[W_IPV6_LABEL] & labelMask)) & 0xfffff;
      write32(buf, p, ((first & 0xf0000000) | (tc << 20) | label) >>> 0);
    }
    const hlMask = (m[W_NW] >>> NW_TTL_SHIFT) & 0xff;
    if (hlMask !== 0) buf[p + 7] = (buf[p + 7] & ~hlMask) | ((v[W_NW] >>> NW_TTL_SHIFT) & hlMask);
  }
}

function shiftLayers(layers: PacketLayers, by: number): void {
  for (let i = LAYER_L2_5; i <= LAYER_L7; i++) if (layers[i] >= 0) layers[i] += by;
}

function read16(b: Uint8Array, at: number): number {
  return (b[at] << 8) | b[at + 1];
}
function read32(b: Uint8Array, at: number): number {
  return ((b[at] << 24) | (b[at + 1] << 16) | (b[at + 2] << 8) | b[at + 3]) >>> 0;
}
function write16(b: Uint8Array, at: number, v: number): void {
  b[at] = v >>> 8;
  b[at + 1] = v & 0xff;
}
function write32(b: Uint8Array, at: number, v: number): void {
  b[at] = v >>> 24;
  b[at + 1] = (v >>> 16) & 0xff;
  b[at + 2] = (v >>> 8) & 0xff;
  b[at + 3] = v & 0xff;
}
function writeMasked16(b: Uint8Array, at: number, v: number, m: number): void {
  if ((m & 0xffff) === 0) return;
  write16(b, at, (read16(b, at) & ~m & 0xffff) | (v & m & 0xffff));
}
function writeMasked32(b: Uint8Array, at: number, v: number, m: number): void {
  if (m === 0) return;
  write32(b, at, ((read32(b, at) & ~m) | (v & m)) >>> 0);
}
