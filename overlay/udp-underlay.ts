/**
 * UdpUnderlay: an Underlay made of real UDP sockets, so a host's VXLAN and Geneve
 * vports reach other ovsim processes (or the Linux kernel's vxlan driver) instead of
 * the simulated underlay. Loopback by default.
 *
 * Transmit: the vport hands it a complete outer IPv4 datagram; it sends the UDP
 * payload (VXLAN/Geneve header + inner frame) from its socket to the datagram's
 * destination address and UDP port. The kernel then builds the real outer headers, so
 * the outer source port, TTL, TOS and DF are the kernel's, not the vport's. GRE is
 * not carried (it would need a raw socket): such datagrams are refused (DEVICE_DROP).
 *
 * Receive: one socket per `listen` entry; each datagram is handed to the stack's
 * `receiveUdp` as if it had arrived on `deliverAs` (default: the bound port), with the
 * sender as outer source and `localIp` as outer destination. `onReceive` runs after
 * each datagram (a real-time driver's `wake`, typically).
 *
 * Unlike the simulated path, this one allocates per packet (Node's socket API copies
 * and needs its own buffer and address string); it is bounded by the kernel anyway.
 */
import { createSocket, type Socket } from "node:dgram";
import { formatIpv4, parseIpv4 } from "../packet/index.js";
import { OVERLAY_ERROR_CODES, OverlayError } from "./errors.js";
import {
  UNDERLAY_TX,
  type Underlay,
  type UnderlayReceiver,
  type UnderlayRoute,
  type UnderlayTxResult,
} from "./underlay.js";

export interface UdpListen {
  /** Address to bind; default the underlay's localIp. */
  readonly ip?: string;
  readonly port: number;
  /** The UDP port the tunnel ports are configured with (dst_port), if different. */
  readonly deliverAs?: number;
}

export interface UdpUnderlayOptions {
  /** This host's VTEP address: the transmit socket binds to it. Default 127.0.0.1. */
  readonly localIp?: string;
  /** Receive sockets; default [{port: 4789}, {port: 6081}]. */
  readonly listen?: readonly UdpListen[];
  /** MTU reported by route(); default 1500. */
  readonly mtu?: number;
  /** Called after each received datagram was handed to the stack. */
  readonly onReceive?: () => void;
}

export class UdpUnderlay implements Underlay {
  /** Datagrams sent and received, and receive-side datagrams no tunnel took. */
  txPackets = 0;
  rxPackets = 0;
  rxNotTunnel = 0;
  private readonly routeEntry: UnderlayRoute;
  private readonly localIpNum: number;

  private constructor(
    private readonly tx: Socket,
    private readonly rx: readonly Socket[],
    localIp: string,
    mtu: number,
  ) {
    this.localIpNum = parseIpv4(localIp)!;
    this.routeEntry = { dev: "udp", srcIp: this.localIpNum, mtu };
  }

  /** Binds the sockets and wires received datagrams to `receiver`. */
  static async open(
    receiver: UnderlayReceiver,
    options: UdpUnderlayOptions = {},
  ): Promise<UdpUnderlay> {
    const localIp = options.localIp ?? "127.0.0.1";
    const localNum = parseIpv4(localIp);
    if (localNum === undefined)
      throw new OverlayError(
        OVERLAY_ERROR_CODES.SOCKET,
        `UdpUnderlay: localIp "${localIp}" is not an IPv4 address`,
      );
    const bind = (s: Socket, port: number, ip: string) =>
      new Promise<void>((resolve, reject) => {
        s.once("error", (e) =>
          reject(
            new OverlayError(
              OVERLAY_ERROR_CODES.SOCKET,
              `UdpUnderlay: cannot bind ${ip}:${port}: ${e.message}`,
            ),
          ),
        );
        s.bind(port, ip, () => resolve());
      });
    const tx = createSocket("udp4");
    await bind(tx, 0, localIp);
    const rx: Socket[] = [];
    const self = new UdpUnderlay(tx, rx, localIp, options.mtu ?? 1500);
    try {
      for (const l of options.listen ?? [{ port: 4789 }, { port: 6081 }]) {
        const s = createSocket({ type: "udp4", reuseAddr: false });
        await bind(s, l.port, l.ip ?? localIp);
        const as = l.deliverAs ?? l.port;
        s.on("message", (msg, rinfo) => {
          self.rxPackets++;
          const src = parseIpv4(rinfo.address) ?? 0;
          const u8 = new Uint8Array(msg.buffer, msg.byteOffset, msg.length);
          if (!receiver.receiveUdp(src, localNum, rinfo.port, as, 0, 64, u8, 0, u8.length))
            self.rxNotTunnel++;
          options.onReceive?.();
        });
        rx.push(s);
      }
    } catch (e) {
      await self.close();
      throw e;
    }
    return self;
  }

  route(_dstIp: number): UnderlayRoute {
    return this.routeEntry;
  }

  sendIpv4(packet: Uint8Array, offset: number, length: number): UnderlayTxResult {
    const ihl = (packet[offset] & 0x0f) * 4;
    if (length < ihl + 8 || packet[offset + 9] !== 17) return UNDERLAY_TX.DEVICE_DROP;
    const l4 = offset + ihl;
    const dst =
      ((packet[offset + 16] << 24) |
        (packet[offset + 17] << 16) |
        (packet[offset + 18] << 8) |
        packet[offset + 19]) >>>
      0;
    const port = (packet[l4 + 2] << 8) | packet[l4 + 3];
    // The socket sends asynchronously and the caller reuses its buffer: copy.
    const payload = Buffer.from(packet.subarray(l4 + 8, offset + length));
    this.tx.send(payload, port, formatIpv4(dst));
    this.txPackets++;
    return UNDERLAY_TX.SENT;
  }

  async close(): Promise<void> {
    const closeOne = (s: Socket) => new Promise<void>((resolve) => s.close(() => resolve()));
    await Promise.all([this.tx, ...this.rx].map((s) => closeOne(s).catch(() => {})));
  }
}
