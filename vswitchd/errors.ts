/**
 * The vswitchd error catalogue: every failure a user can cause through flow syntax,
 * bridge configuration or a trace case, each with a stable code.
 *
 * Expected outcomes of translation (a drop, a table miss, a resubmit limit) are not
 * errors: they are results that a trace explains.
 */

export type VswitchdErrorCode =
  | "OFP_BAD_MATCH"
  | "OFP_BAD_ACTION"
  | "OFP_UNSUPPORTED_ACTION"
  | "OFP_BAD_FLOW_MOD"
  | "OFP_FLOW_REJECTED"
  | "BRIDGE_UNKNOWN"
  | "PORT_UNKNOWN"
  | "CASE_INVALID"
  | "COMMAND_UNKNOWN"
  | "OFP_VERSION_NEGOTIATION";

export class VswitchdError extends Error {
  readonly code: VswitchdErrorCode;
  constructor(code: VswitchdErrorCode, message: string) {
    super(message);
    this.name = "VswitchdError";
    this.code = code;
  }
}

/** A match field or value that ovs-ofctl would refuse. */
export class BadMatchError extends VswitchdError {
  constructor(message: string) {
    super("OFP_BAD_MATCH", message);
    this.name = "BadMatchError";
  }
}

/** An action whose syntax or arguments are wrong. */
export class BadActionError extends VswitchdError {
  constructor(message: string) {
    super("OFP_BAD_ACTION", message);
    this.name = "BadActionError";
  }
}

/** An action ovsim does not implement yet: refused at add-flow, never ignored. */
export class UnsupportedActionError extends VswitchdError {
  constructor(name: string) {
    super(
      "OFP_UNSUPPORTED_ACTION",
      `unsupported action ${name}: ovsim does not implement it yet, so the flow was refused`,
    );
    this.name = "UnsupportedActionError";
  }
}

/** A flow-mod keyword problem (cookie mask on add, bad table number...). */
export class BadFlowModError extends VswitchdError {
  constructor(message: string) {
    super("OFP_BAD_FLOW_MOD", message);
    this.name = "BadFlowModError";
  }
}

export class UnknownBridgeError extends VswitchdError {
  constructor(name: string) {
    super("BRIDGE_UNKNOWN", `no bridge named ${name}`);
    this.name = "UnknownBridgeError";
  }
}

export class UnknownPortError extends VswitchdError {
  constructor(what: string) {
    super("PORT_UNKNOWN", `no such port: ${what}`);
    this.name = "UnknownPortError";
  }
}

export class CaseInvalidError extends VswitchdError {
  constructor(message: string) {
    super("CASE_INVALID", `invalid trace case: ${message}`);
    this.name = "CaseInvalidError";
  }
}

/**
 * A flow ovs-ofctl sends but the switch refuses (OFPBAC_MATCH_INCONSISTENT for an
 * NX set action such as mod_nw_ttl whose field the match does not guarantee).
 * `add-flows` stops there: flows before it stay, the rest are not sent.
 */
export class FlowRejectedError extends VswitchdError {
  constructor(message: string) {
    super("OFP_FLOW_REJECTED", message);
    this.name = "FlowRejectedError";
  }
}

/** An ovs-ofctl / ovs-appctl command ovsim does not know, or misused. */
export class UnknownCommandError extends VswitchdError {
  readonly tool: string;
  readonly command: string;
  constructor(tool: string, command: string, message?: string) {
    super(
      "COMMAND_UNKNOWN",
      message ?? `unknown ${tool} command '${command}'; use --help for help`,
    );
    this.name = "UnknownCommandError";
    this.tool = tool;
    this.command = command;
  }
}

/**
 * ovs-ofctl could not agree on an OpenFlow version with the bridge (Bridge.protocols
 * allows none of the versions `-O` asked for). The message is what ovs-ofctl prints;
 * `detail` is the vconn warning logged before it.
 */
export class VersionNegotiationError extends VswitchdError {
  readonly detail: string;
  constructor(bridge: string, detail: string) {
    super("OFP_VERSION_NEGOTIATION", `${bridge}: failed to connect to socket (Broken pipe)`);
    this.name = "VersionNegotiationError";
    this.detail = detail;
  }
}
