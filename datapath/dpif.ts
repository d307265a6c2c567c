/**
 * Dpif: one datapath, and the only interface vswitchd uses to drive it. OVS:
 * lib/dpif-netdev.c behind lib/dpif.h.
 *
 * Receive path, per batch of up to BATCH_SIZE frames (OVS dp_netdev_input__):
 *   1. extract: metadata words set here (in_port, recirc_id 0, no tunnel), the rest by
 *      packet/flowExtract; frames shorter than an Ethernet header are dropped and
 *      counted (`rxInvalid`, OVS datapath_drop_rx_invalid_packet);
 *   2. EMC lookup for every frame;
 *   3. megaflow classifier for the EMC misses (hits may be inserted into the EMC);
 *   4. misses become "miss" upcalls (a full queue counts `lost`);
 *   5. hits update their megaflow's stats and run its actions.
 * Nothing on this path allocates except upcalls.
 *
 * Control path: ports, flowPut/flowDel/flowGet/flowDump, execute, upcall delivery.
 * Actions may be given as OVS datapath-action text (validated and parsed here, so a bad
 * action fails at flowPut, never at packet time) or already parsed. Parsed text is
 * cached, so the thousands of megaflows sharing `actions:2` share one object.
 *
 * Time comes from the clock passed in (`nowNs()`), never from the wall.
 */

import {
  FLOW_SEGMENT_L2,
  FLOW_WORDS,
  type FlowKey,
  flowExtract,
  LAYER_SLOTS,
  type PacketLayers,
  W_IN_PORT,
  W_TCP_FLAGS,
} from "../packet/index.js";
import type { DpActions, TnlPushAction, UserspaceAction } from "./actions.js";
import { Classifier } from "./classifier.js";
import { EMC_INSERT_INV_PROB_DEFAULT, ExactMatchCache, emcHash } from "./emc.js";
import { DATAPATH_ERROR_CODES, DatapathError } from "./errors.js";
import { Executor, MAX_EXEC_DEPTH } from "./execute.js";
import { ufidWords } from "./flow-hash.js";
import { MegaflowTable, USED_NEVER } from "./megaflow.js";
import { parseOdpActions } from "./odp-actions-parse.js";
import { UPCALL_QUEUE_DEFAULT, type Upcall, type UpcallHandler, UpcallQueue } from "./upcall.js";
import {
  isTunnelPort,
  type NetdevPort,
  type TunnelPort,
  type Vport,
  type VportFactory,
  type VportSpec,
} from "./vport.js";

/** Frames per batch, as OVS NETDEV_MAX_BURST. */
export const BATCH_SIZE = 32;
/** OVS ODPP_NONE: "no input port" for execute(). */
export const ODPP_NONE = 0xffffffff;
const ACTION_CACHE_LIMIT = 4096;

export interface DatapathClock {
  /** Integer virtual nanoseconds, monotonic. */
  nowNs(): number;
}

export type FlowExtractFn = (
  frame: Uint8Array,
  offset: number,
  length: number,
  key: FlowKey,
  layers: PacketLayers,
) => void;

/** Tunnel header push/pop, registered by overlay/. Without them those actions drop. */
export interface TunnelHooks {
  tnlPush?(
    action: TnlPushAction,
    frame: Uint8Array,
    offset: number,
    length: number,
    out: Int32Array,
  ): boolean;
  tnlPop?(
    port: number,
    frame: Uint8Array,
    offset: number,
    length: number,
    key: FlowKey,
    out: Int32Array,
  ): boolean;
}

export interface DpifOptions {
  readonly name?: string;
  readonly clock: DatapathClock;
  /** Defaults to packet/flowExtract. */
  readonly extract?: FlowExtractFn;
  /** OVS `other_config:emc-insert-inv-prob`: 1 always, 0 disables the EMC. Default 100. */
  readonly emcInsertInvProb?: number;
  readonly upcallQueueDepth?: number;
  /** Seed for the EMC insertion draw and `sample`; same seed, same run. */
  readonly seed?: number;
  /** Assert on flowPut that megaflows never overlap (linear; for tests/debug). */
  readonly checkOverlap?: boolean;
  /** Called when an upcall is queued into an empty queue (so sim can schedule delivery). */
  readonly onUpcallQueued?: () => void;
}

export interface FlowPutOptions {
  /** 128-bit unique flow id as four words, or its text (`98af66b4-0c08-...`). */
  readonly ufid?: Uint32Array | string;
  /** Create if absent (default true). */
  readonly create?: boolean;
  /** Replace the actions of an existing flow (default true). */
  readonly modify?: boolean;
  /** Zero the stats of a modified flow (OVS DPIF_FP_ZERO_STATS). */
  readonly zeroStats?: boolean;
  /**
   * The megaflow matches packet_type (Ethernet) exactly, as every megaflow vswitchd's
   * xlate produces does; dumps then show `packet_type(ns=0,id=0)`. Default true;
   * dpctlAddFlow sets it from the text.
   */
  readonly packetType?: boolean;
}

export interface FlowStats {
  readonly packets: number;
  readonly bytes: number;
  /** Virtual ns of the last hit, or -1 (never). */
  readonly usedNs: number;
  readonly tcpFlags: number;
}

export interface DpFlow {
  readonly key: FlowKey;
  readonly mask: FlowKey;
  readonly actions: DpActions;
  readonly ufid: Uint32Array;
  readonly stats: FlowStats;
  /** See FlowPutOptions.packetType. */
  readonly packetType: boolean;
}

/** Either the flow's ufid, or its key and mask. */
export type FlowSelector =
  | { readonly ufid: Uint32Array | string }
  | { readonly key: FlowKey; readonly mask: FlowKey };

export interface DpifStats {
  /** Packets that matched a megaflow (EMC or classifier): `lookups: hit`. */
  readonly hit: number;
  /** Packets that matched nothing: `lookups: missed`. */
  readonly missed: number;
  /** Missed packets dropped because the upcall queue was full: `lookups: lost`. */
  readonly lost: number;
  readonly flows: number;
  readonly masks: number;
  readonly emcHits: number;
  readonly megaflowHits: number;
  /** Subtables probed over all megaflow hits (pmd-stats "avg. subtable lookups"). */
  readonly subtableLookups: number;
  readonly rxInvalid: number;
  readonly depthDrops: number;
  readonly upcalls: number;
  /** Packets received (batches included), before any drop. */
  readonly rxPackets: number;
  /** Passes through the datapath after `recirc`/`tnl_pop`. */
  readonly recirculations: number;
  /** Frames handed to ports by output actions. */
  readonly txPackets: number;
}

/** A batch of frames, reused by the caller: slots [0, count) are valid. */
export class PacketBatch {
  readonly frames: Uint8Array[] = new Array<Uint8Array>(BATCH_SIZE).fill(new Uint8Array(0));
  readonly offsets = new Int32Array(BATCH_SIZE);
  readonly lengths = new Int32Array(BATCH_SIZE);
  count = 0;

  /** Appends a frame; false when the batch is full. */
  add(frame: Uint8Array, offset: number, length: number): boolean {
    if (this.count === BATCH_SIZE) return false;
    this.frames[this.count] = frame;
    this.offsets[this.count] = offset;
    this.lengths[this.count] = length;
    this.count++;
    return true;
  }
}

export class Dpif {
  readonly name: string;
  private readonly clock: DatapathClock;
  private readonly extract: FlowExtractFn;
  readonly classifier = new Classifier();
  readonly flows = new MegaflowTable();
  private readonly emc: ExactMatchCache;
  private readonly emcEnabled: boolean;
  private readonly upcalls: UpcallQueue;
  private upcallHandler: UpcallHandler | null = null;
  private readonly onUpcallQueued: (() => void) | null;
  private readonly checkOverlap: boolean;
  private readonly executor: Executor;
  private readonly ports: (Vport | undefined)[] = [];
  /** Port names in use, so adding a port does not scan a sparse `ports` array. */
  private readonly portNames = new Set<string>();
  private readonly vportTypes = new Map<string, VportFactory>();
  private hooks: TunnelHooks = {};
  private readonly actionCache = new Map<string, DpActions>();
  private rng: number;
  private receiving = false;

  // Per-batch scratch, allocated once.
  private readonly keyWords = new Uint32Array(BATCH_SIZE * FLOW_WORDS);
  private readonly batchKeys: FlowKey[] = [];
  private readonly layerWords = new Int32Array(BATCH_SIZE * LAYER_SLOTS);
  private readonly batchLayers: PacketLayers[] = [];
  private readonly batchFlow = new Int32Array(BATCH_SIZE);
  private readonly batchEmcHash = new Uint32Array(BATCH_SIZE);
  private readonly single = new PacketBatch();
  private readonly recircKeys: FlowKey[] = [];
  private readonly recircLayers: PacketLayers[] = [];
  private readonly maskedKey = new Uint32Array(FLOW_WORDS);

  // Counters.
  private nHit = 0;
  private nMissed = 0;
  private nLost = 0;
  private nEmcHits = 0;
  private nMegaflowHits = 0;
  private nSubtableLookups = 0;
  private nRxInvalid = 0;
  private nUpcalls = 0;
  private nRx = 0;
  private nRecirc = 0;
  private nTx = 0;

  constructor(options: DpifOptions) {
    this.name = options.name ?? "ovs-netdev";
    this.clock = options.clock;
    this.extract = options.extract ?? flowExtract;
    const inv = options.emcInsertInvProb ?? EMC_INSERT_INV_PROB_DEFAULT;
    this.emcEnabled = inv > 0;
    this.rng = (options.seed ?? 1) >>> 0 || 1;
    this.emc = new ExactMatchCache(inv, this.rng ^ 0x9e3779b9);
    this.upcalls = new UpcallQueue(options.upcallQueueDepth ?? UPCALL_QUEUE_DEFAULT);
    this.onUpcallQueued = options.onUpcallQueued ?? null;
    this.checkOverlap = options.checkOverlap ?? false;
    for (let i = 0; i < BATCH_SIZE; i++) {
      this.batchKeys.push(this.keyWords.subarray(i * FLOW_WORDS, (i + 1) * FLOW_WORDS));
      this.batchLayers.push(this.layerWords.subarray(i * LAYER_SLOTS, (i + 1) * LAYER_SLOTS));
    }
    for (let d = 0; d <= MAX_EXEC_DEPTH + 1; d++) {
      this.recircKeys.push(new Uint32Array(FLOW_WORDS));
      this.recircLayers.push(new Int32Array(LAYER_SLOTS));
    }
    this.executor = new Executor({
      output: (portNo, frame, offset, length, key) =>
        this.output(portNo, frame, offset, length, key),
      userspace: (action, frame, offset, length, key) =>
        this.actionUpcall(action, frame, offset, length, key),
      recirculate: (frame, offset, length, key, depth) =>
        this.recirculate(frame, offset, length, key, depth),
      tnlPush: (action, frame, offset, length, out) =>
        this.hooks.tnlPush ? this.hooks.tnlPush(action, frame, offset, length, out) : false,
      tnlPop: (port, frame, offset, length, key, out) =>
        this.hooks.tnlPop ? this.hooks.tnlPop(port, frame, offset, length, key, out) : false,
      random32: () => this.random32(),
    });
  }

  // ---------------------------------------------------------------- ports

  /** Registers a tunnel (or other) vport type; overlay/ calls this. */
  registerVportType(type: string, factory: VportFactory): void {
    this.vportTypes.set(type, factory);
  }

  setTunnelHooks(hooks: TunnelHooks): void {
    this.hooks = hooks;
  }

  /** Adds a vport and returns its port number. */
  addPort(spec: VportSpec): number {
    let portNo = spec.portNo;
    if (portNo === undefined) {
      portNo = 1;
      while (this.ports[portNo] !== undefined) portNo++;
    } else if (this.ports[portNo] !== undefined) {
      throw new DatapathError(
        DATAPATH_ERROR_CODES.PORT_EXISTS,
        `Cannot add port "${spec.name}": port number ${portNo} is used by "${this.ports[portNo]!.name}"`,
      );
    }
    if (this.portNames.has(spec.name))
      throw new DatapathError(
        DATAPATH_ERROR_CODES.PORT_EXISTS,
        `Port "${spec.name}" already exists in ${this.name}`,
      );
    let impl: NetdevPort | ReturnType<VportFactory>;
    if (spec.type === "netdev" || spec.type === "internal") {
      impl = spec.port ?? { transmit: () => {} };
    } else {
      const factory = this.vportTypes.get(spec.type);
      if (!factory)
        throw new DatapathError(
          DATAPATH_ERROR_CODES.UNKNOWN_VPORT_TYPE,
          `Unknown vport type "${spec.type}" for port "${spec.name}": use netdev, internal, or register it with registerVportType`,
        );
      impl = factory({ ...spec, portNo });
    }
    this.ports[portNo] = {
      portNo,
      name: spec.name,
      type: spec.type,
      impl,
      options: spec.options ?? {},
      tunnel: isTunnelPort(impl),
      rxPackets: 0,
      rxBytes: 0,
      txPackets: 0,
      txBytes: 0,
    };
    this.portNames.add(spec.name);
    return portNo;
  }

  delPort(portNo: number): void {
    if (this.ports[portNo] === undefined)
      throw new DatapathError(
        DATAPATH_ERROR_CODES.NO_SUCH_PORT,
        `No port ${portNo} in ${this.name}`,
      );
    this.portNames.delete(this.ports[portNo]!.name);
    this.ports[portNo] = undefined;
  }

  getPort(portNo: number): Vport | undefined {
    return this.ports[portNo];
  }

  listPorts(): Vport[] {
    return this.ports.filter((p): p is Vport => p !== undefined);
  }

  // ---------------------------------------------------------------- flows

  /**
   * Installs or modifies the megaflow (key & mask) → actions. With OVS semantics: if a
   * megaflow already matches `key` it is modified (when `modify`), else one is created
   * (when `create`). Returns the megaflow id and whether it was created.
   */
  flowPut(
    key: FlowKey,
    mask: FlowKey,
    actions: string | DpActions,
    options: FlowPutOptions = {},
  ): { flowId: number; created: boolean } {
    const acts = typeof actions === "string" ? this.parseActionsCached(actions) : actions;
    const masked = this.maskedKey;
    for (let w = 0; w < FLOW_WORDS; w++) masked[w] = key[w] & mask[w];
    const existing = this.classifier.find(masked);
    const flows = this.flows;
    if (existing >= 0) {
      if (options.modify === false)
        throw new DatapathError(
          DATAPATH_ERROR_CODES.FLOW_EXISTS,
          "Cannot create flow: a megaflow matching this key is already installed",
        );
      flows.actions[existing] = acts;
      if (options.zeroStats) {
        flows.packets[existing] = 0;
        flows.bytes[existing] = 0;
        flows.usedNs[existing] = USED_NEVER;
        flows.tcpFlags[existing] = 0;
      }
      return { flowId: existing, created: false };
    }
    if (options.create === false)
      throw new DatapathError(
        DATAPATH_ERROR_CODES.FLOW_NOT_FOUND,
        "Cannot modify flow: no megaflow matches this key",
      );
    if (this.checkOverlap) this.assertNoOverlap(masked, mask);
    const st = this.classifier.subtableFor(mask);
    const id = flows.alloc();
    flows.subtable[id] = st;
    flows.slot[id] = st.insert(key, st.hash(masked), id);
    flows.actions[id] = acts;
    flows.packetType[id] = options.packetType === false ? 0 : 1;
    const u = flows.ufid;
    const ufid = options.ufid;
    if (ufid === undefined) {
      // OVS derives a ufid from the key when none is given (odp_flow_key_hash).
      ufidWords(masked, mask, u, id * 4);
    } else {
      u.set(typeof ufid === "string" ? parseUfid(ufid) : ufid.subarray(0, 4), id * 4);
    }
    flows.indexUfid(id);
    return { flowId: id, created: true };
  }

  /**
   * The mask megaflow `flowId` is installed with, or null if there is none. It is the
   * subtable's own array, shared by every megaflow with that mask: read it, never
   * change it.
   */
  flowMask(flowId: number): FlowKey | null {
    return this.flows.isLive(flowId) ? this.flows.subtable[flowId]!.mask : null;
  }

  /** Deletes a megaflow; returns its final stats, or null if there was none. */
  flowDel(selector: FlowSelector): FlowStats | null {
    const id = this.findFlow(selector);
    if (id < 0) return null;
    const stats = this.statsOf(id);
    this.removeFlow(id);
    return stats;
  }

  /** Deletes every megaflow (`dpctl/del-flows`). */
  flowFlush(): void {
    for (const id of this.flows.liveIds()) this.removeFlow(id);
    this.emc.clear();
  }

  flowGet(selector: FlowSelector): DpFlow | null {
    const id = this.findFlow(selector);
    return id < 0 ? null : this.flowOf(id);
  }

  /** Streams every megaflow with its stats (a snapshot per flow, in id order). */
  *flowDump(): IterableIterator<DpFlow> {
    for (const id of this.flows.liveIds()) if (this.flows.isLive(id)) yield this.flowOf(id);
  }

  /** Parses OVS datapath-action text, with a bounded cache. Throws OdpParseError. */
  parseActionsCached(text: string): DpActions {
    const hit = this.actionCache.get(text);
    if (hit) return hit;
    const parsed = parseOdpActions(text);
    if (this.actionCache.size >= ACTION_CACHE_LIMIT) this.actionCache.clear();
    this.actionCache.set(text, parsed);
    return parsed;
  }

  // ---------------------------------------------------------------- packets

  /** Receives one frame on `inPort` (a batch of one). */
  receive(inPort: number, frame: Uint8Array, offset: number, length: number): void {
    const b = this.single;
    b.count = 0;
    b.add(frame, offset, length);
    this.receiveBatch(inPort, b);
  }

  /**
   * Receives a batch of frames on `inPort`. The frames are not modified or kept.
   * A port's transmit must not call back into this Dpif's receive synchronously (the
   * per-batch scratch is in use): deliver through the scheduler instead.
   */
  receiveBatch(inPort: number, batch: PacketBatch): void {
    if (this.receiving)
      throw new DatapathError(
        DATAPATH_ERROR_CODES.REENTRANT_RECEIVE,
        `${this.name}: a port's transmit called receive on the same datapath synchronously; schedule the delivery instead`,
      );
    this.receiving = true;
    try {
      this.receiveBatchInner(inPort, batch);
    } finally {
      this.receiving = false;
    }
  }

  private receiveBatchInner(inPort: number, batch: PacketBatch): void {
    const n = batch.count;
    const keys = this.batchKeys;
    const layers = this.batchLayers;
    const flowIds = this.batchFlow;
    const emcHashes = this.batchEmcHash;
    const flows = this.flows;
    this.nRx += n;
    const port = this.ports[inPort];
    for (let i = 0; i < n; i++) {
      const len = batch.lengths[i];
      if (port !== undefined) {
        port.rxPackets++;
        port.rxBytes += len;
      }
      if (len < 14) {
        this.nRxInvalid++;
        flowIds[i] = -2;
        continue;
      }
      const key = keys[i];
      // The metadata words of batch keys are zero from construction and nothing else
      // writes them (actions that change metadata work on a copy), so only in_port is set.
      key[W_IN_PORT] = inPort;
      this.extract(batch.frames[i], batch.offsets[i], len, key, layers[i]);
      flowIds[i] = -1;
    }
    if (this.emcEnabled) {
      for (let i = 0; i < n; i++) {
        if (flowIds[i] !== -1) continue;
        const h = emcHash(keys[i]);
        emcHashes[i] = h;
        const f = this.emc.lookup(keys[i], h, flows);
        if (f >= 0) {
          flowIds[i] = f;
          this.nEmcHits++;
        }
      }
    }
    for (let i = 0; i < n; i++) {
      if (flowIds[i] !== -1) continue;
      const key = keys[i];
      const f = this.classifier.lookup(key);
      if (f >= 0) {
        flowIds[i] = f;
        this.nMegaflowHits++;
        this.nSubtableLookups += this.classifier.lastProbes;
        if (this.emcEnabled) this.emc.maybeInsert(emcHashes[i], f, flows);
      } else {
        this.nMissed++;
        this.missUpcall(batch.frames[i], batch.offsets[i], batch.lengths[i], key, inPort);
      }
    }
    const now = this.clock.nowNs();
    for (let i = 0; i < n; i++) {
      const f = flowIds[i];
      if (f < 0) continue;
      this.nHit++;
      flows.packets[f]++;
      flows.bytes[f] += batch.lengths[i];
      flows.usedNs[f] = now;
      flows.tcpFlags[f] |= keys[i][W_TCP_FLAGS] & 0xfff;
      this.executor.run(
        flows.actions[f]!,
        batch.frames[i],
        batch.offsets[i],
        batch.lengths[i],
        keys[i],
        layers[i],
        0,
      );
    }
  }

  /**
   * Runs `actions` on a frame (OVS dpif_execute), e.g. the packet held by an upcall.
   * The frame is not modified. `source` is either the input port (ODPP_NONE if
   * unknown) or a flow key whose metadata words (in_port, recirc_id, tunnel, marks)
   * the packet carries, typically `upcall.key`.
   */
  execute(
    frame: Uint8Array,
    offset: number,
    length: number,
    actions: string | DpActions,
    source: number | FlowKey = ODPP_NONE,
  ): void {
    const acts = typeof actions === "string" ? this.parseActionsCached(actions) : actions;
    const key = this.recircKeys[0];
    const layers = this.recircLayers[0];
    if (typeof source === "number") {
      key.fill(0, 0, FLOW_SEGMENT_L2);
      key[W_IN_PORT] = source;
    } else {
      for (let w = 0; w < FLOW_SEGMENT_L2; w++) key[w] = source[w];
    }
    this.extract(frame, offset, length, key, layers);
    this.executor.run(acts, frame, offset, length, key, layers, 0);
  }

  // ---------------------------------------------------------------- upcalls

  /** Sets who receives upcalls from handleUpcalls(). */
  setUpcallHandler(handler: UpcallHandler | null): void {
    this.upcallHandler = handler;
  }

  /** Delivers up to `max` queued upcalls to the handler; returns how many. */
  handleUpcalls(max = Number.POSITIVE_INFINITY): number {
    let n = 0;
    while (n < max && this.upcallHandler) {
      const u = this.upcalls.shift();
      if (!u) break;
      this.upcallHandler(u);
      n++;
    }
    return n;
  }

  /** Takes the oldest queued upcall, or null (pull-style alternative to the handler). */
  recvUpcall(): Upcall | null {
    return this.upcalls.shift();
  }

  get pendingUpcalls(): number {
    return this.upcalls.length;
  }

  // ---------------------------------------------------------------- stats

  stats(): DpifStats {
    return {
      hit: this.nHit,
      missed: this.nMissed,
      lost: this.nLost,
      flows: this.flows.count,
      masks: this.classifier.maskCount,
      emcHits: this.nEmcHits,
      megaflowHits: this.nMegaflowHits,
      subtableLookups: this.nSubtableLookups,
      rxInvalid: this.nRxInvalid,
      depthDrops: this.executor.depthDrops,
      upcalls: this.nUpcalls,
      rxPackets: this.nRx,
      recirculations: this.nRecirc,
      txPackets: this.nTx,
    };
  }

  nowNs(): number {
    return this.clock.nowNs();
  }

  // ---------------------------------------------------------------- internals

  private flowOf(id: number): DpFlow {
    const st = this.flows.subtable[id]!;
    const key = new Uint32Array(FLOW_WORDS);
    st.readKey(this.flows.slot[id], key);
    return {
      key,
      mask: Uint32Array.from(st.mask),
      actions: this.flows.actions[id]!,
      ufid: Uint32Array.from(this.flows.ufid.subarray(id * 4, id * 4 + 4)),
      stats: this.statsOf(id),
      packetType: this.flows.packetType[id] === 1,
    };
  }

  private statsOf(id: number): FlowStats {
    const f = this.flows;
    return {
      packets: f.packets[id],
      bytes: f.bytes[id],
      usedNs: f.usedNs[id],
      tcpFlags: f.tcpFlags[id],
    };
  }

  private findFlow(selector: FlowSelector): number {
    if ("ufid" in selector) {
      const u = typeof selector.ufid === "string" ? parseUfid(selector.ufid) : selector.ufid;
      return this.flows.findUfid(u);
    }
    const st = this.classifier.findSubtable(selector.mask);
    if (!st) return -1;
    const slot = st.find(selector.key, st.hash(selector.key));
    return slot < 0 ? -1 : st.slotFlow[slot];
  }

  private removeFlow(id: number): void {
    const st = this.flows.subtable[id]!;
    st.remove(this.flows.slot[id]);
    this.flows.free(id);
    this.classifier.releaseIfEmpty(st);
  }

  private assertNoOverlap(masked: FlowKey, mask: FlowKey): void {
    const other = new Uint32Array(FLOW_WORDS);
    for (const st of this.classifier.subtables) {
      st.forEachFlow((_id, slot) => {
        st.readKey(slot, other);
        for (let w = 0; w < FLOW_WORDS; w++)
          if (((other[w] ^ masked[w]) & st.mask[w] & mask[w]) !== 0) return;
        throw new DatapathError(
          DATAPATH_ERROR_CODES.FLOW_OVERLAP,
          "Cannot install megaflow: it overlaps an installed megaflow (vswitchd must install disjoint megaflows)",
        );
      });
    }
  }

  private output(
    portNo: number,
    frame: Uint8Array,
    offset: number,
    length: number,
    key: FlowKey,
  ): void {
    const port = this.ports[portNo];
    if (port === undefined) return;
    this.nTx++;
    port.txPackets++;
    port.txBytes += length;
    const impl = port.impl;
    if (port.tunnel) (impl as TunnelPort).transmitTunnel(frame, offset, length, key);
    else (impl as NetdevPort).transmit(frame, offset, length);
  }

  private recirculate(
    frame: Uint8Array,
    offset: number,
    length: number,
    meta: FlowKey,
    depth: number,
  ): void {
    const key = this.recircKeys[depth];
    const layers = this.recircLayers[depth];
    this.nRecirc++;
    for (let w = 0; w < FLOW_SEGMENT_L2; w++) key[w] = meta[w];
    this.extract(frame, offset, length, key, layers);
    const h = this.emcEnabled ? emcHash(key) : 0;
    let f = this.emcEnabled ? this.emc.lookup(key, h, this.flows) : -1;
    if (f >= 0) {
      this.nEmcHits++;
    } else {
      f = this.classifier.lookup(key);
      if (f >= 0) {
        this.nMegaflowHits++;
        this.nSubtableLookups += this.classifier.lastProbes;
        if (this.emcEnabled) this.emc.maybeInsert(h, f, this.flows);
      }
    }
    if (f < 0) {
      this.nMissed++;
      this.missUpcall(frame, offset, length, key, key[W_IN_PORT]);
      return;
    }
    this.nHit++;
    const flows = this.flows;
    flows.packets[f]++;
    flows.bytes[f] += length;
    flows.usedNs[f] = this.clock.nowNs();
    flows.tcpFlags[f] |= key[W_TCP_FLAGS] & 0xfff;
    this.executor.run(flows.actions[f]!, frame, offset, length, key, layers, depth);
  }

  private missUpcall(
    frame: Uint8Array,
    offset: number,
    length: number,
    key: FlowKey,
    inPort: number,
  ): void {
    this.queueUpcall({
      type: "miss",
      packet: copyUpcallBytes(frame, offset, length),
      key: copyUpcallKey(key),
      inPort,
      userdata: null,
      pid: 0,
      cookie: "",
    });
  }

  private actionUpcall(
    action: UserspaceAction,
    frame: Uint8Array,
    offset: number,
    length: number,
    key: FlowKey,
  ): void {
    this.queueUpcall({
      type: "action",
      packet: copyBytes(frame, offset, length),
      key: Uint32Array.from(key),
      inPort: key[W_IN_PORT],
      userdata: action.userdata,
      pid: action.pid,
      cookie: action.cookie,
    });
  }

  private queueUpcall(u: Upcall): void {
    const wasEmpty = this.upcalls.length === 0;
    if (!this.upcalls.push(u)) {
      this.nLost++;
      return;
    }
    this.nUpcalls++;
    if (wasEmpty && this.onUpcallQueued) this.onUpcallQueued();
  }

  private random32(): number {
    let x = this.rng;
    x ^= x << 13;
    x ^= x >>> 17;
    x ^= x << 5;
    this.rng = x >>> 0;
    return this.rng;
  }
}

// A miss upcall's key and packet outlive the batch (vswitchd keeps the key as its
// ukey's), so each needs its own memory; carving them from shared slabs spares a
// backing-store allocation each, a visible share of a flow setup. A slab lives while
// anything carved from it does.
const KEY_SLAB_KEYS = 512;
let keySlab = new ArrayBuffer(0);
let keySlabNext = KEY_SLAB_KEYS;
function copyUpcallKey(key: FlowKey): FlowKey {
  if (keySlabNext === KEY_SLAB_KEYS) {
    keySlab = new ArrayBuffer(KEY_SLAB_KEYS * FLOW_WORDS * 4);
    keySlabNext = 0;
  }
  const out = new Uint32Array(keySlab, FLOW_WORDS * 4 * keySlabNext++, FLOW_WORDS);
  out.set(key.subarray(0, FLOW_WORDS));
  return out;
}

const BYTE_SLAB = 256 * 1024;
let byteSlab = new ArrayBuffer(0);
let byteSlabNext = 0;
function copyUpcallBytes(frame: Uint8Array, offset: number, length: number): Uint8Array {
  if (length > BYTE_SLAB >> 4) return copyBytes(frame, offset, length);
  if (byteSlabNext + length > byteSlab.byteLength) {
    byteSlab = new ArrayBuffer(BYTE_SLAB);
    byteSlabNext = 0;
  }
  const out = new Uint8Array(byteSlab, byteSlabNext, length);
  byteSlabNext += (length + 7) & ~7;
  out.set(frame.subarray(offset, offset + length));
  return out;
}

function copyBytes(frame: Uint8Array, offset: number, length: number): Uint8Array {
  const out = new Uint8Array(length);
  out.set(frame.subarray(offset, offset + length));
  return out;
}

/** `98af66b4-0c08-4d50-b9c5-9fcdcdb98401` → four words. */
export function parseUfid(text: string): Uint32Array {
  const hex = text.replace(/^ufid:/, "").replace(/-/g, "");
  if (!/^[0-9a-fA-F]{32}$/.test(hex))
    throw new DatapathError(
      DATAPATH_ERROR_CODES.BAD_KEY,
      `Bad ufid "${text}": expected 32 hex digits as 8-4-4-4-12`,
    );
  const out = new Uint32Array(4);
  for (let i = 0; i < 4; i++) out[i] = Number.parseInt(hex.slice(i * 8, i * 8 + 8), 16);
  return out;
}

/** Four words → `98af66b4-0c08-4d50-b9c5-9fcdcdb98401` (OVS UUID_FMT). */
export function formatUfid(u: Uint32Array): string {
  const h = Array.from(u.subarray(0, 4), (w) => w.toString(16).padStart(8, "0")).join("");
  return `${h.slice(0, 8)}-${h.slice(8, 12)}-${h.slice(12, 16)}-${h.slice(16, 20)}-${h.slice(20)}`;
}
