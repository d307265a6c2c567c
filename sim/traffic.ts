/**
 * An iperf-like UDP traffic generator: flows with chosen 5-tuples, payload sizes and
 * either a constant rate or periodic bursts, measured at the receiver for throughput,
 * loss, reordering, one-way latency and jitter — all in virtual time.
 *
 * Each datagram carries, in its first 16 bytes, the flow index, a sequence number and
 * the send time in ns (as iperf's UDP header carries id and timestamp); the rest is
 * zero. Rates count UDP payload bits (iperf's -b); `frameBps` also reports what the
 * Ethernet frames carrying them amount to, for comparison with a link's bandwidth.
 *
 * Promises: sending and receiving allocate nothing per datagram (one payload buffer
 * per flow, bound event handlers); a flow that cannot bind its receive port fails when
 * the generator is made, naming the flow. Reports are live: read them at any time.
 */
import type { Endpoint } from "./endpoint.js";
import { InvalidParameterError } from "./errors.js";
import { type IpAddress, parseIp } from "./ip-address.js";
import type { EventFn, Scheduler } from "./scheduler.js";
import type { UdpPeer, UdpSocket } from "./udp-socket.js";
import { parseDurationNs, parseRateBps } from "./units.js";

export interface FlowSpec {
  /** Default "flow<index>". */
  name?: string;
  from: Endpoint;
  to: Endpoint;
  /** Destination address (one of `to`'s). */
  dst: string;
  /** Default 5001 + flow index. */
  dstPort?: number;
  /** Default: an ephemeral port. */
  srcPort?: number;
  /** UDP payload bytes, >= 16. Default 1470 (iperf's default). */
  size?: number;
  /** Constant rate of payload bits per second ("10Mbit"); exclusive with burst. */
  rate?: number | string;
  /** `packets` datagrams back to back every `interval`. */
  burst?: { packets: number; interval: number | string };
  /** Start time from now, default 0. */
  start?: number | string;
  /** How long to send, default "1s". */
  duration?: number | string;
  /** TTL, default 64. */
  ttl?: number;
  /** IPv4 TOS / IPv6 traffic class. */
  tos?: number;
}

export interface FlowReport {
  name: string;
  sent: number;
  received: number;
  lost: number;
  /** Fraction of sent datagrams not received (so far). */
  loss: number;
  outOfOrder: number;
  /** UDP payload bits per second between the first and last arrival. */
  throughputBps: number;
  /** The same datagrams counted as Ethernet frames (headers, padding). */
  frameBps: number;
  latencyMinNs: number;
  latencyAvgNs: number;
  latencyMaxNs: number;
  /** RFC 3550 §6.4.1 interarrival jitter, as iperf reports. */
  jitterNs: number;
}

const HEADER_BYTES = 16;

interface Flow {
  name: string;
  index: number;
  sender: UdpSocket;
  receiver: UdpSocket;
  dst: IpAddress;
  dstPort: number;
  size: number;
  frameBytes: number;
  ttl: number;
  tos: number;
  payload: Uint8Array;
  intervalNs: number;
  burst: number;
  nextNs: number;
  endNs: number;
  seq: number;
  // Receiver state.
  received: number;
  maxSeq: number;
  outOfOrder: number;
  firstNs: number;
  lastNs: number;
  latMin: number;
  latMax: number;
  latSum: number;
  jitter: number;
  lastTransit: number;
}

export class TrafficGenerator {
  private readonly flows: Flow[] = [];
  private readonly scheduler: Scheduler;
  private readonly onSend: EventFn;

  constructor(context: { readonly scheduler: Scheduler }, specs: readonly FlowSpec[]) {
    this.scheduler = context.scheduler;
    this.onSend = (i: number): void => this.send(i);
    const now = this.scheduler.nowNs();
    specs.forEach((spec, index) => {
      const name = spec.name ?? `flow${index}`;
      const what = `traffic flow ${name}`;
      const dst = parseIp(spec.dst);
      if (!dst) throw new InvalidParameterError(what, "dst", "an IPv4 or IPv6 address", spec.dst);
      const size = spec.size ?? 1470;
      if (!Number.isInteger(size) || size < HEADER_BYTES || size > 65000)
        throw new InvalidParameterError(
          what,
          "size",
          `a whole number in [${HEADER_BYTES}, 65000]`,
          spec.size,
        );
      if ((spec.rate === undefined) === (spec.burst === undefined))
        throw new InvalidParameterError(
          what,
          "rate/burst",
          "exactly one of rate or burst",
          "both or neither",
        );
      let intervalNs: number;
      let burst = 1;
      if (spec.rate !== undefined) {
        const rate = parseRateBps(spec.rate);
        if (!(rate > 0) || !Number.isFinite(rate))
          throw new InvalidParameterError(what, "rate", "> 0", spec.rate);
        intervalNs = (size * 8 * 1e9) / rate;
      } else {
        burst = spec.burst!.packets;
        intervalNs = parseDurationNs(spec.burst!.interval);
        if (!Number.isInteger(burst) || burst < 1)
          throw new InvalidParameterError(what, "burst.packets", "a whole number >= 1", burst);
        if (!(intervalNs > 0))
          throw new InvalidParameterError(what, "burst.interval", "> 0", spec.burst!.interval);
      }
      const start = parseDurationNs(spec.start ?? 0);
      const duration = parseDurationNs(spec.duration ?? "1s");
      if (!(start >= 0)) throw new InvalidParameterError(what, "start", ">= 0", spec.start);
      if (!(duration > 0)) throw new InvalidParameterError(what, "duration", "> 0", spec.duration);
      const dstPort = spec.dstPort ?? 5001 + index;
      const receiver = spec.to.udpSocket().bind(dstPort);
      const sender = spec.from.udpSocket().bind(spec.srcPort ?? 0);
      const l3 = dst.v6 ? 40 : 20;
      const flow: Flow = {
        name,
        index,
        sender,
        receiver,
        dst,
        dstPort,
        size,
        frameBytes: Math.max(60, 14 + l3 + 8 + size),
        ttl: spec.ttl ?? 64,
        tos: spec.tos ?? 0,
        payload: new Uint8Array(size),
        intervalNs,
        burst,
        nextNs: now + start,
        endNs: now + start + duration,
        seq: 0,
        received: 0,
        maxSeq: 0,
        outOfOrder: 0,
        firstNs: 0,
        lastNs: 0,
        latMin: Number.POSITIVE_INFINITY,
        latMax: 0,
        latSum: 0,
        jitter: 0,
        lastTransit: Number.NaN,
      };
      receiver.onMessage = (data, off, len, from) => this.receive(flow, data, off, len, from);
      this.flows.push(flow);
      this.scheduler.scheduleAt(Math.round(flow.nextNs), this.onSend, index);
    });
  }

  /** Whether some flow has datagrams left to send. */
  get sending(): boolean {
    return this.flows.some((f) => f.nextNs < f.endNs);
  }

  report(): FlowReport[] {
    return this.flows.map((f) => {
      const span = (f.lastNs - f.firstNs) / 1e9;
      const after = f.received - 1;
      return {
        name: f.name,
        sent: f.seq,
        received: f.received,
        lost: f.seq - f.received,
        loss: f.seq === 0 ? 0 : (f.seq - f.received) / f.seq,
        outOfOrder: f.outOfOrder,
        throughputBps: span > 0 ? (after * f.size * 8) / span : 0,
        frameBps: span > 0 ? (after * f.frameBytes * 8) / span : 0,
        latencyMinNs: f.received ? f.latMin : Number.NaN,
        latencyAvgNs: f.received ? f.latSum / f.received : Number.NaN,
        latencyMaxNs: f.received ? f.latMax : Number.NaN,
        jitterNs: f.jitter,
      };
    });
  }

  /** Closes every flow's sockets. */
  close(): void {
    for (const f of this.flows) {
      f.nextNs = f.endNs;
      f.sender.close();
      f.receiver.close();
    }
  }

  private send(i: number): void {
    const f = this.flows[i];
    if (f.nextNs >= f.endNs) return;
    const now = this.scheduler.nowNs();
    const p = f.payload;
    for (let b = 0; b < f.burst; b++) {
      f.seq++;
      put32(p, 0, f.index);
      put32(p, 4, f.seq);
      put32(p, 8, Math.floor(now / 4294967296));
      put32(p, 12, now >>> 0);
      f.sender.sendRaw(p, 0, f.size, f.dst, f.dstPort, f.ttl, f.tos);
    }
    f.nextNs += f.intervalNs;
    if (f.nextNs < f.endNs)
      this.scheduler.scheduleAt(Math.max(now, Math.round(f.nextNs)), this.onSend, i);
  }

  private receive(f: Flow, data: Uint8Array, off: number, len: number, _from: UdpPeer): void {
    if (len < HEADER_BYTES || get32(data, off) !== f.index) return;
    const now = this.scheduler.nowNs();
    const seq = get32(data, off + 4);
    const sentNs = get32(data, off + 8) * 4294967296 + get32(data, off + 12);
    const latency = now - sentNs;
    if (seq < f.maxSeq) f.outOfOrder++;
    else f.maxSeq = seq;
    if (f.received === 0) f.firstNs = now;
    f.lastNs = now;
    f.received++;
    if (latency < f.latMin) f.latMin = latency;
    if (latency > f.latMax) f.latMax = latency;
    f.latSum += latency;
    if (!Number.isNaN(f.lastTransit)) {
      const d = Math.abs(latency - f.lastTransit);
      f.jitter += (d - f.jitter) / 16;
    }
    f.lastTransit = latency;
  }
}

function put32(b: Uint8Array, o: number, v: number): void {
  b[o] = v >>> 24;
  b[o + 1] = (v >>> 16) & 0xff;
  b[o + 2] = (v >>> 8) & 0xff;
  b[o + 3] = v & 0xff;
}

function get32(b: Uint8Array, o: number): number {
  return ((b[o] << 24) | (b[o + 1] << 16) | (b[o + 2] << 8) | b[o + 3]) >>> 0;
}
