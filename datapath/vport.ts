/**
 * Vports: the datapath's ports, and the small interface through which frames leave
 * them. OVS: struct dp_netdev_port, netdev classes, tunnel vports.
 *
 * Types
 * - "netdev": a port wired by sim/ to a link. The datapath calls `transmit`; the sim
 *   calls `Dpif.receive` / `Dpif.receiveBatch` when a frame arrives.
 * - "internal": the host's own interface (the bridge's local port), same interface.
 * - tunnel types ("vxlan", "geneve", "gre", ...): unknown here; overlay/ registers
 *   them with `Dpif.registerVportType`. A tunnel port receives the flow's tunnel
 *   metadata (set by `set(tunnel(...))`) along with the frame.
 *
 * Buffer ownership: a frame passed to `transmit` is valid only during the call (the
 * datapath reuses its scratch buffers); a port that keeps it must copy it.
 */
import type { FlowKey } from "../packet/index.js";

export interface NetdevPort {
  transmit(frame: Uint8Array, offset: number, length: number): void;
}

export interface TunnelPort {
  /**
   * Encapsulates and sends the frame. `tunnel` is a flow key whose tunnel words
   * (W_TUN_*) hold the metadata set by `set(tunnel(...))`; valid during the call only.
   */
  transmitTunnel(frame: Uint8Array, offset: number, length: number, tunnel: FlowKey): void;
}

export type VportImpl = NetdevPort | TunnelPort;

export interface VportSpec {
  readonly name: string;
  /** "netdev", "internal", or a registered tunnel type. */
  readonly type: string;
  /** Requested port number; the lowest free one (from 1) when absent. */
  readonly portNo?: number;
  /** The transmit side for "netdev"/"internal"; tunnel types build theirs. */
  readonly port?: NetdevPort;
  readonly options?: Readonly<Record<string, string>>;
}

/** Builds a tunnel port's transmit side from its spec (overlay/ provides these). */
export type VportFactory = (spec: VportSpec & { readonly portNo: number }) => VportImpl;

export interface Vport {
  readonly portNo: number;
  readonly name: string;
  readonly type: string;
  readonly impl: VportImpl;
  readonly options: Readonly<Record<string, string>>;
  /** `impl` is a TunnelPort (decided once, not per packet). */
  readonly tunnel: boolean;
  /** Per-port counters, as `dpctl/show -s`. */
  rxPackets: number;
  rxBytes: number;
  txPackets: number;
  txBytes: number;
}

export function isTunnelPort(impl: VportImpl): impl is TunnelPort {
  return typeof (impl as TunnelPort).transmitTunnel === "function";
}
