/**
 * ping: ICMP / ICMPv6 echo from an emulated endpoint, measured in virtual time, with
 * the summary `ping` prints (transmitted, received, loss, rtt min/avg/max/mdev).
 *
 * A session sends `count` echo requests `intervalNs` apart (the first at once), with
 * `size` bytes of data (default 56, as ping's; the first 8 carry the send time in ns,
 * as ping puts a timeval there). It ends when every request is answered, or `timeoutNs`
 * after the last was sent. ICMP errors about its requests (Destination Host
 * Unreachable from a failed ARP, Time to live exceeded from a router) are recorded.
 *
 * The session does not run the scheduler: start it, run the world, read `result`
 * (or pass `onDone`). `formatPing` prints a result as iputils' ping does.
 */
import type { IpAddress } from "./ip-address.js";
import type { EventFn, Scheduler } from "./scheduler.js";

export interface PingOptions {
  /** Requests to send; default 4. */
  count?: number;
  /** Between requests, in ms of virtual time; default 1000. */
  intervalMs?: number;
  /** ICMP data bytes; default 56 (min 8). */
  size?: number;
  /** TTL / hop limit; default 64. */
  ttl?: number;
  /** Wait after the last request, ms; default 2000. */
  timeoutMs?: number;
}

export interface PingReply {
  seq: number;
  rttNs: number;
  ttl: number;
}

export interface PingError {
  seq: number;
  type: number;
  code: number;
  from: string;
  /** Next-hop MTU, for Fragmentation Needed / Packet Too Big only. */
  mtu?: number;
}

export interface PingResult {
  target: string;
  v6: boolean;
  /** ICMP data bytes per request. */
  size: number;
  /** From the first request to the end of the session. */
  elapsedNs: number;
  transmitted: number;
  received: number;
  /** Fraction lost, 0..1. */
  loss: number;
  /** NaN when nothing was received. */
  rttMinNs: number;
  rttAvgNs: number;
  rttMaxNs: number;
  /** Standard deviation, as ping's mdev. */
  rttMdevNs: number;
  replies: PingReply[];
  errors: PingError[];
}

/** What a session needs from its endpoint. */
export interface EchoHost {
  readonly scheduler: Scheduler;
  sendEcho(
    v6: boolean,
    dst: IpAddress,
    id: number,
    seq: number,
    size: number,
    ttl: number,
  ): boolean;
  releaseEchoId(id: number): void;
}

export class PingSession {
  readonly result: PingResult;
  done = false;
  onDone: ((result: PingResult) => void) | null = null;
  private readonly sentAt: Float64Array;
  private readonly answered: Uint8Array;
  private readonly sendNext: EventFn;
  private finishTimer = 0;

  constructor(
    private readonly host: EchoHost,
    readonly id: number,
    private readonly target: IpAddress,
    targetText: string,
    private readonly count: number,
    private readonly intervalNs: number,
    private readonly size: number,
    private readonly ttl: number,
    private readonly timeoutNs: number,
  ) {
    this.result = {
      target: targetText,
      v6: target.v6,
      size,
      elapsedNs: 0,
      transmitted: 0,
      received: 0,
      loss: 0,
      rttMinNs: Number.NaN,
      rttAvgNs: Number.NaN,
      rttMaxNs: Number.NaN,
      rttMdevNs: Number.NaN,
      replies: [],
      errors: [],
    };
    this.sentAt = new Float64Array(count + 1);
    this.answered = new Uint8Array(count + 1);
    this.sendNext = (seq: number): void => this.send(seq);
    host.scheduler.schedule(0, this.sendNext, 1);
  }

  /** @internal An echo reply for this session's id arrived. */
  reply(seq: number, ttl: number): void {
    if (this.done || seq < 1 || seq > this.result.transmitted || this.answered[seq]) return;
    this.answered[seq] = 1;
    const rtt = this.host.scheduler.nowNs() - this.sentAt[seq];
    this.result.replies.push({ seq, rttNs: rtt, ttl });
    this.result.received++;
    if (this.result.received === this.count) this.finish();
  }

  /** @internal An ICMP error quoting one of this session's requests. */
  error(seq: number, type: number, code: number, from: string, mtu: number | undefined): void {
    if (this.done) return;
    this.result.errors.push(
      mtu === undefined ? { seq, type, code, from } : { seq, type, code, from, mtu },
    );
  }

  private send(seq: number): void {
    if (this.done) return;
    this.sentAt[seq] = this.host.scheduler.nowNs();
    this.result.transmitted = seq;
    this.host.sendEcho(this.target.v6, this.target, this.id, seq, this.size, this.ttl);
    if (seq < this.count) this.host.scheduler.schedule(this.intervalNs, this.sendNext, seq + 1);
    else this.finishTimer = this.host.scheduler.schedule(this.timeoutNs, () => this.finish());
  }

  private finish(): void {
    if (this.done) return;
    this.done = true;
    if (this.finishTimer !== 0) this.host.scheduler.cancel(this.finishTimer);
    const r = this.result;
    r.elapsedNs = this.host.scheduler.nowNs() - this.sentAt[1];
    r.loss = r.transmitted === 0 ? 0 : (r.transmitted - r.received) / r.transmitted;
    if (r.received > 0) {
      const rtts = r.replies.map((x) => x.rttNs);
      const avg = rtts.reduce((a, b) => a + b, 0) / rtts.length;
      r.rttMinNs = Math.min(...rtts);
      r.rttMaxNs = Math.max(...rtts);
      r.rttAvgNs = avg;
      r.rttMdevNs = Math.sqrt(rtts.reduce((a, b) => a + (b - avg) ** 2, 0) / rtts.length);
    }
    this.host.releaseEchoId(this.id);
    this.onDone?.(r);
  }
}

/**
 * The result as iputils' `ping` prints it: the header, one line per reply or error (in
 * arrival order), and the statistics (iputils ping_common.c formats, times in ms).
 */
export function formatPing(r: PingResult): string[] {
  const lines = [
    r.v6
      ? `PING ${r.target}(${r.target}) ${r.size} data bytes`
      : `PING ${r.target} (${r.target}) ${r.size}(${r.size + 28}) bytes of data.`,
  ];
  const events = [
    ...r.replies.map((x, order) => ({
      seq: x.seq,
      order,
      text: `${r.size + 8} bytes from ${r.target}: icmp_seq=${x.seq} ttl=${x.ttl} time=${replyTime(x.rttNs)}`,
    })),
    ...r.errors.map((e, i) => ({
      seq: e.seq,
      order: r.replies.length + i,
      text: `From ${e.from} icmp_seq=${e.seq} ${icmpErrorText(r.v6, e)}`,
    })),
  ];
  for (const e of events.sort((a, b) => a.seq - b.seq || a.order - b.order)) lines.push(e.text);
  const errors = r.errors.length > 0 ? `, +${r.errors.length} errors` : "";
  const lossPct = r.transmitted === 0 ? 0 : ((r.transmitted - r.received) * 100) / r.transmitted;
  lines.push(
    "",
    `--- ${r.target} ping statistics ---`,
    `${r.transmitted} packets transmitted, ${r.received} received${errors}, ${formatG(lossPct)}% packet loss, time ${Math.round(r.elapsedNs / 1e6)}ms`,
  );
  if (r.received > 0) {
    // iputils' arithmetic: whole microseconds, integer mean, integer square root.
    const us = r.replies.map((x) => Math.floor(x.rttNs / 1000));
    const n = us.length;
    const avg = Math.floor(us.reduce((a, b) => a + b, 0) / n);
    const sq = Math.floor(us.reduce((a, b) => a + b * b, 0) / n);
    const mdev = Math.floor(Math.sqrt(Math.max(0, sq - avg * avg)));
    lines.push(
      `rtt min/avg/max/mdev = ${ms3(Math.min(...us))}/${ms3(avg)}/${ms3(Math.max(...us))}/${ms3(mdev)} ms`,
    );
  }
  return lines;
}

/** iputils: 3 significant decimals below 1 ms, 2 below 10, 1 below 100, none above. */
function replyTime(ns: number): string {
  const us = Math.floor(ns / 1000);
  if (us >= 100_000 - 50) return `${Math.floor((us + 500) / 1000)} ms`;
  if (us >= 10_000 - 5)
    return `${Math.floor((us + 50) / 1000)}.${Math.floor(((us + 50) % 1000) / 100)} ms`;
  if (us >= 1000)
    return `${Math.floor((us + 5) / 1000)}.${String(Math.floor(((us + 5) % 1000) / 10)).padStart(2, "0")} ms`;
  return `0.${String(us).padStart(3, "0")} ms`;
}

function ms3(us: number): string {
  return `${Math.floor(us / 1000)}.${String(us % 1000).padStart(3, "0")}`;
}

/** printf's %g: up to 6 significant digits, trailing zeros dropped. */
function formatG(x: number): string {
  return String(Number(x.toPrecision(6)));
}

const ICMP4_UNREACH: Readonly<Record<number, string>> = {
  0: "Destination Net Unreachable",
  1: "Destination Host Unreachable",
  2: "Destination Protocol Unreachable",
  3: "Destination Port Unreachable",
  5: "Source Route Failed",
  6: "Destination Net Unknown",
  7: "Destination Host Unknown",
  13: "Packet filtered",
};
const ICMP6_UNREACH: Readonly<Record<number, string>> = {
  0: "No route",
  1: "Administratively prohibited",
  2: "Beyond scope of source address",
  3: "Address unreachable",
  4: "Port unreachable",
};

/** The words iputils' pr_icmph (ping4) and print_icmp (ping6) use. */
function icmpErrorText(v6: boolean, e: PingError): string {
  if (v6) {
    if (e.type === 1)
      return `Destination unreachable: ${ICMP6_UNREACH[e.code] ?? `Unknown code ${e.code}`}`;
    if (e.type === 2) return `Packet too big: mtu=${e.mtu ?? 0}`;
    if (e.type === 3)
      return `Time exceeded: ${e.code === 0 ? "Hop limit" : "Defragmentation failure"}`;
    return `Unknown icmp type: ${e.type}`;
  }
  if (e.type === 3) {
    if (e.code === 4) return `Frag needed and DF set (mtu = ${e.mtu ?? 0})`;
    return ICMP4_UNREACH[e.code] ?? `Dest Unreachable, Bad Code: ${e.code}`;
  }
  if (e.type === 11)
    return e.code === 0 ? "Time to live exceeded" : "Frag reassembly time exceeded";
  return `Bad ICMP type: ${e.type}`;
}
