/**
 * sim/ error catalogue: every error the simulator throws, each with a stable `code`.
 *
 * Promises: a message names the object (link, endpoint, vNIC, scheduler) and the
 * offending value, and says what would be accepted, so a topology author can fix the
 * line that caused it. Configuration is validated when an object is made or changed;
 * nothing here is thrown on the per-packet path (drops and misses are counters, not
 * exceptions).
 */

export type SimErrorCode =
  | "ERR_SIM_INVALID_PARAMETER"
  | "ERR_SIM_INVALID_UNIT"
  | "ERR_SIM_INVALID_ADDRESS"
  | "ERR_SIM_PORT_IN_USE"
  | "ERR_SIM_INVALID_DELAY"
  | "ERR_SIM_NOT_IDLE"
  | "ERR_SIM_SOCKET";

/** Base class: `code` is stable across releases; match on it, not on the message. */
export class SimError extends Error {
  readonly code: SimErrorCode;
  constructor(code: SimErrorCode, message: string) {
    super(message);
    this.name = new.target.name;
    this.code = code;
  }
}

/**
 * A link, endpoint or vNIC parameter outside its domain, e.g.
 * "link h1-eth0<->h2-eth0: latency must be >= 0, got -5us".
 */
export class InvalidParameterError extends SimError {
  readonly object: string;
  readonly parameter: string;
  constructor(object: string, parameter: string, rule: string, got: unknown) {
    super("ERR_SIM_INVALID_PARAMETER", `${object}: ${parameter} must be ${rule}, got ${show(got)}`);
    this.object = object;
    this.parameter = parameter;
  }
}

/** A quantity string that units.ts cannot read ("10 parsecs"). */
export class InvalidUnitError extends SimError {
  constructor(kind: string, got: unknown, examples: string) {
    super("ERR_SIM_INVALID_UNIT", `cannot read ${show(got)} as a ${kind}; write e.g. ${examples}`);
  }
}

/** A MAC, IPv4 or IPv6 address (or prefix) that does not parse or does not fit. */
export class InvalidAddressError extends SimError {
  constructor(object: string, what: string, got: unknown, why: string) {
    // Always quoted: "10.0.0.300" must not read as a number or a sentence.
    const text = typeof got === "string" ? JSON.stringify(got) : show(got);
    super("ERR_SIM_INVALID_ADDRESS", `${object}: ${what} ${text} ${why}`);
  }
}

/** A port that is already joined to a link was handed to another one. */
export class PortInUseError extends SimError {
  constructor(newLink: string, port: string, existingLink: string) {
    super(
      "ERR_SIM_PORT_IN_USE",
      `link ${newLink}: port ${port} is already on link ${existingLink}; remove that link first`,
    );
  }
}

/** An event scheduled with a negative, fractional or non-finite delay or time. */
export class InvalidDelayError extends SimError {
  constructor(what: string, got: number, nowNs: number) {
    super(
      "ERR_SIM_INVALID_DELAY",
      `scheduler: ${what} must be a whole number of nanoseconds not before now (${nowNs}ns), got ${got}`,
    );
  }
}

/** runUntilIdle() gave up: something keeps scheduling events (a periodic timer?). */
export class NotIdleError extends SimError {
  constructor(events: number, nowNs: number) {
    super(
      "ERR_SIM_NOT_IDLE",
      `scheduler: still busy after ${events} events (virtual time ${nowNs}ns); a periodic timer keeps it alive — use run({ untilNs }) instead`,
    );
  }
}

/** A UDP socket operation that cannot be done (port taken, socket closed). */
export class SocketError extends SimError {
  constructor(object: string, message: string) {
    super("ERR_SIM_SOCKET", `${object}: ${message}`);
  }
}

function show(v: unknown): string {
  // A plain token ("-5us", "1.5") reads better bare; anything else is quoted.
  if (typeof v === "string") return /^[\w.:%/+-]+$/.test(v) ? v : JSON.stringify(v);
  if (typeof v === "number" || typeof v === "bigint" || typeof v === "boolean") return String(v);
  if (v === undefined) return "undefined";
  if (v === null) return "null";
  try {
    return JSON.stringify(v);
  } catch {
    return String(v);
  }
}
