/**
 * Errors of the topology layer (topology-schema.ts, topology-yaml.ts, topology.ts),
 * each with a stable `code`.
 *
 * Promises: a message starts with where the offending object was written — a YAML
 * `file:line:column` or, for the TypeScript API, the object's kind and name — then
 * names the object and the clashing one, and says what would be accepted. Every check
 * runs before anything starts, so a bad topology never half-runs.
 *
 * It does not cover errors of the objects a topology builds (links, endpoints:
 * errors.ts; switches: vswitchd/; databases: ovsdb/).
 */

export type TopologyErrorCode =
  | "ERR_TOPO_SCHEMA"
  | "ERR_TOPO_UNKNOWN_REF"
  | "ERR_TOPO_DUPLICATE_NAME"
  | "ERR_TOPO_PORT_ON_TWO_LINKS"
  | "ERR_TOPO_DUPLICATE_ADDRESS"
  | "ERR_TOPO_VNI_CLASH"
  | "ERR_TOPO_MTU"
  | "ERR_TOPO_LOOP"
  | "ERR_TOPO_YAML"
  | "ERR_TOPO_NOT_STARTED"
  | "ERR_TOPO_UNSUPPORTED";

/** One problem found in a topology; `where` locates it in the source. */
export class TopologyError extends Error {
  readonly code: TopologyErrorCode;
  readonly where: string;
  constructor(code: TopologyErrorCode, where: string, message: string) {
    super(where ? `${where}: ${message}` : message);
    this.name = new.target.name;
    this.code = code;
    this.where = where;
  }
}

/** Problems spelt out in a TopologyValidationError's message; `errors` keeps all. */
const MAX_LISTED = 20;

/**
 * Every problem validation found, so an author fixes them all in one pass; `errors`
 * keeps each one (the first decides `code`).
 */
export class TopologyValidationError extends TopologyError {
  readonly errors: readonly TopologyError[];
  constructor(errors: readonly TopologyError[]) {
    const first = errors[0]!;
    super(
      first.code,
      "",
      errors.length === 1
        ? first.message
        : `${errors.length} problems in topology:\n${errors
            .slice(0, MAX_LISTED)
            .map((e) => `  ${e.message}`)
            .join(
              "\n",
            )}${errors.length > MAX_LISTED ? `\n  … and ${errors.length - MAX_LISTED} more (see .errors)` : ""}`,
    );
    this.errors = errors;
  }
}
