/**
 * The datapath's error catalogue. Every error the datapath throws is a DatapathError
 * with a stable `code`; messages say what was wrong and what to do about it.
 *
 * Expected outcomes are not errors: a miss, a drop or a full upcall queue are return
 * values and counters (see dpif.ts), never exceptions. Errors are thrown only on the
 * control path (flowPut, port management, parsing), never per packet.
 */

export const DATAPATH_ERROR_CODES = {
  /** flowPut without `create` found no flow to modify (OVS: ENOENT). */
  FLOW_NOT_FOUND: "DP_ERR_FLOW_NOT_FOUND",
  /** flowPut without `modify` found an existing flow (OVS: EEXIST). */
  FLOW_EXISTS: "DP_ERR_FLOW_EXISTS",
  /** A new megaflow overlaps an installed one (checked only with `checkOverlap`). */
  FLOW_OVERLAP: "DP_ERR_FLOW_OVERLAP",
  /** Datapath action text or structure that OVS would reject. */
  BAD_ACTION: "DP_ERR_BAD_ACTION",
  /** Datapath flow key/mask text that OVS would reject. */
  BAD_KEY: "DP_ERR_BAD_KEY",
  /** Port number already used, or no such port. */
  PORT_EXISTS: "DP_ERR_PORT_EXISTS",
  NO_SUCH_PORT: "DP_ERR_NO_SUCH_PORT",
  /** A port's transmit called back into receive on the same datapath synchronously. */
  REENTRANT_RECEIVE: "DP_ERR_REENTRANT_RECEIVE",
  /** A vport type nobody registered (tunnel types come from overlay/). */
  UNKNOWN_VPORT_TYPE: "DP_ERR_UNKNOWN_VPORT_TYPE",
} as const;

export type DatapathErrorCode = (typeof DATAPATH_ERROR_CODES)[keyof typeof DATAPATH_ERROR_CODES];

export class DatapathError extends Error {
  readonly code: DatapathErrorCode;
  constructor(code: DatapathErrorCode, message: string) {
    super(message);
    this.name = "DatapathError";
    this.code = code;
  }
}

/** Parse errors carry the offending position so a caller can point at it. */
export class OdpParseError extends DatapathError {
  readonly input: string;
  readonly position: number;
  constructor(code: DatapathErrorCode, message: string, input: string, position: number) {
    super(code, `${message} (at offset ${position} of "${input}")`);
    this.name = "OdpParseError";
    this.input = input;
    this.position = position;
  }
}
