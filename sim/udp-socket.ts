/**
 * A UDP socket on an emulated endpoint: bind, sendTo, receive through a callback, and
 * ICMP errors about what it sent (port unreachable, time exceeded, host unreachable),
 * as a Linux socket with IP_RECVERR would see them.
 *
 * Promises: `onMessage` gets a view of the datagram that is valid only during the call
 * (copy to keep it) and an address object reused between calls; sending with a
 * pre-parsed address allocates nothing. A port is held by one socket per endpoint;
 * binding a taken port throws, naming the endpoint and port. It does not queue:
 * a datagram arriving while no callback is set is counted and dropped.
 */
import { SocketError } from "./errors.js";
import { type IpAddress, parseIp } from "./ip-address.js";

/** A datagram's source or an ICMP error's reporter; reused between calls. */
export interface UdpPeer {
  address: IpAddress;
  port: number;
}

/** An ICMP error about a datagram this socket sent. */
export interface UdpError {
  v6: boolean;
  type: number;
  code: number;
  /** The node that reported it (a router, the destination, or this host). */
  reporter: IpAddress;
  /** The quoted datagram's destination and port (traceroute matches probes by port). */
  dst: IpAddress;
  dstPort: number;
  /** Next-hop MTU of Fragmentation Needed / Packet Too Big. */
  mtu: number | undefined;
  /** When the error arrived. */
  timeNs: number;
}

export interface SendOptions {
  /** TTL / hop limit; default 64. */
  ttl?: number;
  /** IPv4 TOS or IPv6 traffic class; default 0. */
  tos?: number;
}

/** What a socket needs from its endpoint (implemented by Endpoint). */
export interface UdpHost {
  readonly name: string;
  udpBind(socket: UdpSocket, port: number): number;
  udpUnbind(socket: UdpSocket): void;
  udpSend(
    socket: UdpSocket,
    data: Uint8Array,
    offset: number,
    length: number,
    dst: IpAddress,
    dstPort: number,
    ttl: number,
    tos: number,
  ): boolean;
}

export class UdpSocket {
  /** Called for each datagram; `data[offset, offset+length)` is valid during the call only. */
  onMessage: ((data: Uint8Array, offset: number, length: number, from: UdpPeer) => void) | null =
    null;
  /** Called for each ICMP error about a datagram this socket sent. */
  onError: ((error: UdpError) => void) | null = null;
  /** Datagrams received while no onMessage was set. */
  droppedNoReader = 0;
  private boundPort = 0;
  private closed = false;
  /** @internal Reused for every delivery. */
  readonly peer: UdpPeer = { address: { v6: false, words: new Uint32Array(4) }, port: 0 };

  constructor(private readonly host: UdpHost) {}

  /** The bound port, 0 if unbound. */
  get port(): number {
    return this.boundPort;
  }

  /** Binds to `port` (0: an ephemeral port from 32768 up, as Linux picks). */
  bind(port = 0): this {
    const what = `endpoint ${this.host.name} udp socket`;
    if (this.closed) throw new SocketError(what, "is closed");
    if (this.boundPort !== 0)
      throw new SocketError(what, `is already bound to port ${this.boundPort}`);
    if (!Number.isInteger(port) || port < 0 || port > 65535)
      throw new SocketError(what, `port must be a whole number in [0, 65535], got ${port}`);
    this.boundPort = this.host.udpBind(this, port);
    return this;
  }

  /** Sends `data` to `dst`:`dstPort`; false if it could not leave (no route, too big). */
  sendTo(
    data: Uint8Array,
    dst: string | IpAddress,
    dstPort: number,
    options: SendOptions = {},
  ): boolean {
    return this.sendRaw(data, 0, data.length, dst, dstPort, options.ttl ?? 64, options.tos ?? 0);
  }

  /** sendTo without defaults: the allocation-free form for generators. */
  sendRaw(
    data: Uint8Array,
    offset: number,
    length: number,
    dst: string | IpAddress,
    dstPort: number,
    ttl: number,
    tos: number,
  ): boolean {
    const what = `endpoint ${this.host.name} udp socket`;
    if (this.closed) throw new SocketError(what, "is closed");
    const addr = typeof dst === "string" ? parseIp(dst) : dst;
    if (!addr)
      throw new SocketError(what, `destination ${JSON.stringify(dst)} is not an IP address`);
    if (!Number.isInteger(dstPort) || dstPort < 1 || dstPort > 65535)
      throw new SocketError(what, `destination port must be in [1, 65535], got ${dstPort}`);
    if (this.boundPort === 0) this.bind(0);
    return this.host.udpSend(this, data, offset, length, addr, dstPort, ttl, tos);
  }

  close(): void {
    if (this.closed) return;
    this.closed = true;
    if (this.boundPort !== 0) this.host.udpUnbind(this);
    this.boundPort = 0;
  }

  /** @internal The endpoint delivers a datagram. */
  deliver(data: Uint8Array, offset: number, length: number): void {
    if (this.onMessage) this.onMessage(data, offset, length, this.peer);
    else this.droppedNoReader++;
  }
}
