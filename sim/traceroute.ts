/**
 * traceroute: UDP probes with growing TTL from an emulated endpoint, as Linux's
 * traceroute does by default (destination ports from 33434 up, one per probe), listing
 * each hop's address from the ICMP Time Exceeded it sends back, until the destination
 * answers with Port Unreachable (or `maxHops` is reached).
 *
 * `formatTraceroute` prints a result as Linux's traceroute does.
 *
 * Hops are probed one after another: a hop's probes go out together and the next hop
 * starts when all are answered or `waitMs` has passed. The session does not run the
 * scheduler: start it, run the world, read `result`.
 */
import { InvalidAddressError, InvalidParameterError } from "./errors.js";
import { formatIp, type IpAddress, parseIp } from "./ip-address.js";
import type { Scheduler } from "./scheduler.js";
import type { UdpError, UdpSocket } from "./udp-socket.js";

/** What a traceroute needs from its endpoint (implemented by Endpoint). */
export interface TracerouteHost {
  readonly name: string;
  readonly scheduler: Scheduler;
  udpSocket(): UdpSocket;
}

export interface TracerouteOptions {
  /** Default 30. */
  maxHops?: number;
  /** Probes per hop, default 3. */
  probes?: number;
  /** Wait per hop, default 5000 ms (traceroute's -w). */
  waitMs?: number;
  /** Probe payload bytes, default 32. */
  size?: number;
}

export interface TracerouteHop {
  ttl: number;
  /** One entry per probe: who answered and the RTT, or null ("*"). */
  probes: ({ from: string; rttNs: number } | null)[];
}

export interface TracerouteResult {
  target: string;
  v6: boolean;
  maxHops: number;
  /** IP packet size of a probe (header + UDP + payload), as traceroute reports it. */
  packetBytes: number;
  hops: TracerouteHop[];
  /** Whether the destination answered. */
  reached: boolean;
}

const BASE_PORT = 33434;

export class TracerouteSession {
  readonly result: TracerouteResult;
  done = false;
  onDone: ((r: TracerouteResult) => void) | null = null;
  private readonly socket: UdpSocket;
  private readonly target: IpAddress;
  private readonly maxHops: number;
  private readonly probes: number;
  private readonly waitNs: number;
  private readonly payload: Uint8Array;
  private ttl = 0;
  private sentAt: number[] = [];
  private answered = 0;
  private timer = 0;

  constructor(
    private readonly endpoint: TracerouteHost,
    target: string,
    options: TracerouteOptions = {},
  ) {
    const what = `endpoint ${endpoint.name} traceroute`;
    const addr = parseIp(target);
    if (!addr)
      throw new InvalidAddressError(what, "target", target, "is not an IPv4 or IPv6 address");
    this.target = addr;
    this.maxHops = options.maxHops ?? 30;
    this.probes = options.probes ?? 3;
    this.waitNs = Math.round((options.waitMs ?? 5000) * 1e6);
    if (!Number.isInteger(this.maxHops) || this.maxHops < 1 || this.maxHops > 255)
      throw new InvalidParameterError(
        what,
        "maxHops",
        "a whole number in [1, 255]",
        options.maxHops,
      );
    if (!Number.isInteger(this.probes) || this.probes < 1 || this.probes > 10)
      throw new InvalidParameterError(what, "probes", "a whole number in [1, 10]", options.probes);
    this.payload = new Uint8Array(options.size ?? 32);
    this.result = {
      target,
      v6: addr.v6,
      maxHops: this.maxHops,
      packetBytes: (addr.v6 ? 40 : 20) + 8 + this.payload.length,
      hops: [],
      reached: false,
    };
    this.socket = endpoint.udpSocket().bind(0);
    this.socket.onError = (e) => this.onError(e);
    endpoint.scheduler.schedule(0, () => this.nextHop());
  }

  private nextHop(): void {
    if (this.done) return;
    if (this.result.reached || this.ttl >= this.maxHops) {
      this.finish();
      return;
    }
    this.ttl++;
    const hop: TracerouteHop = { ttl: this.ttl, probes: new Array(this.probes).fill(null) };
    this.result.hops.push(hop);
    this.answered = 0;
    this.sentAt = [];
    const now = this.endpoint.scheduler.nowNs();
    for (let i = 0; i < this.probes; i++) {
      this.sentAt.push(now);
      const port = BASE_PORT + (this.ttl - 1) * this.probes + i;
      this.socket.sendRaw(this.payload, 0, this.payload.length, this.target, port, this.ttl, 0);
    }
    this.timer = this.endpoint.scheduler.schedule(this.waitNs, () => this.nextHop());
  }

  private onError(e: UdpError): void {
    const index = e.dstPort - BASE_PORT - (this.ttl - 1) * this.probes;
    const hop = this.result.hops[this.ttl - 1];
    if (this.done || !hop || index < 0 || index >= this.probes || hop.probes[index]) return;
    hop.probes[index] = { from: formatIp(e.reporter), rttNs: e.timeNs - this.sentAt[index] };
    // Port unreachable: ICMP type 3 code 3, or ICMPv6 type 1 code 4.
    if ((!e.v6 && e.type === 3 && e.code === 3) || (e.v6 && e.type === 1 && e.code === 4))
      this.result.reached = true;
    if (++this.answered === this.probes) {
      this.endpoint.scheduler.cancel(this.timer);
      this.endpoint.scheduler.schedule(0, () => this.nextHop());
    }
  }

  private finish(): void {
    this.done = true;
    this.endpoint.scheduler.cancel(this.timer);
    this.socket.close();
    this.onDone?.(this.result);
  }
}

/** The result as Linux traceroute prints it (hop number, address once per run, times). */
export function formatTraceroute(r: TracerouteResult): string[] {
  const lines = [
    `traceroute to ${r.target} (${r.target}), ${r.maxHops} hops max, ${r.packetBytes} byte packets`,
  ];
  for (const hop of r.hops) {
    let line = `${String(hop.ttl).padStart(2)} `;
    let last = "";
    for (const p of hop.probes) {
      if (!p) {
        line += " *";
        continue;
      }
      if (p.from !== last) line += ` ${p.from} (${p.from})`;
      last = p.from;
      line += `  ${(p.rttNs / 1e6).toFixed(3)} ms`;
    }
    lines.push(line);
  }
  return lines;
}
