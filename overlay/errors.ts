/**
 * overlay/'s error catalogue and drop reasons.
 *
 * Two kinds, by path (as packet/errors.ts):
 * - Slow paths (decodeVxlan/decodeGre/decodeGeneve, vport configuration) throw an
 *   OverlayError with a stable `code` and a message saying what was found and what
 *   was needed.
 * - Per-packet paths never throw: a malformed or unmatched tunnel packet is dropped
 *   and counted under one of OVERLAY_DROP's names (the `tnl/…` counters users read).
 */

export const OVERLAY_ERROR_CODES = {
  /** Fewer bytes than the header (or its declared length) needs. */
  TRUNCATED: "OVL_ERR_TRUNCATED",
  /** A flag, version or reserved field holds a value the RFC forbids. */
  BAD_HEADER: "OVL_ERR_BAD_HEADER",
  /** A Geneve option TLV runs past the options area. */
  BAD_OPTION: "OVL_ERR_BAD_OPTION",
  /** A value does not fit its header field (VNI > 2^24-1, ...). */
  FIELD_RANGE: "OVL_ERR_FIELD_RANGE",
  /** The caller's buffer has no room for what the encoder must write. */
  NO_ROOM: "OVL_ERR_NO_ROOM",
  /** A tunnel port's options are invalid (remote_ip, key, dst_port, ttl, tos...). */
  BAD_PORT_OPTION: "OVL_ERR_BAD_PORT_OPTION",
  /** A real UDP socket could not be bound. */
  SOCKET: "OVL_ERR_SOCKET",
} as const;
export type OverlayErrorCode = (typeof OVERLAY_ERROR_CODES)[keyof typeof OVERLAY_ERROR_CODES];

export class OverlayError extends Error {
  readonly code: OverlayErrorCode;
  constructor(code: OverlayErrorCode, message: string) {
    super(message);
    this.name = "OverlayError";
    this.code = code;
  }
}

/**
 * Why a tunnel packet was dropped. Numbered from 1 so the header checks can return 0
 * for "acceptable"; `reason - 1` indexes a per-stack Float64Array of counters, so
 * counting allocates nothing. Names follow OVS's coverage counters where it has one.
 */
export const OVERLAY_DROP = {
  /** Outer IPv4/UDP/GRE header malformed or truncated. */
  MALFORMED_OUTER: 1,
  /** VXLAN flags other than I, or reserved VNI bits set (RFC 7348 §5). */
  BAD_VXLAN: 2,
  /** GRE version ≠ 0, routing present, unknown flags or protocol (RFC 2784 §2). */
  BAD_GRE: 3,
  /** Geneve version ≠ 0, options past the header, protocol not Ethernet (RFC 8926 §3). */
  BAD_GENEVE: 4,
  /** Geneve options longer than the flow key's tun_metadata words hold. */
  GENEVE_OPTIONS_TOO_LONG: 5,
  /** No tunnel port matches (remote/local IP, key, type, port): OVS "tnl_pop no port". */
  NO_PORT: 6,
  /** Encapsulated packet larger than the underlay MTU (DF set). */
  MTU_EXCEEDED: 7,
  /** No route to the remote VTEP. */
  NO_ROUTE: 8,
  /** The underlay stack dropped it (unresolved neighbour, NIC down). */
  UNDERLAY_DROP: 9,
  /** Transmit with no remote address (remote_ip=flow but tun_dst unset). */
  NO_REMOTE: 10,
  /** Bad outer checksum (UDP with csum, GRE with C bit). */
  BAD_CSUM: 11,
} as const;
export type OverlayDropReason = (typeof OVERLAY_DROP)[keyof typeof OVERLAY_DROP];
/** Counter names, lower case, in reason order (OVERLAY_DROP_NAMES[reason - 1]). */
export const OVERLAY_DROP_NAMES: readonly string[] = Object.entries(OVERLAY_DROP)
  .sort((a, b) => a[1] - b[1])
  .map(([k]) => k.toLowerCase());
