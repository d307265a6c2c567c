/**
 * ovsdb/errors.ts — the ovsdb module's error catalogue.
 *
 * Promises: every failure the engine reports is an `OvsdbError` whose `tag` is the
 * RFC 7047 / ovsdb-server error string ("constraint violation", "syntax error", ...),
 * whose `details` is a sentence a user can act on, and whose `code` is a stable
 * identifier for programs. `toJson()` gives the exact `{"error","details"[,"syntax"]}`
 * object ovsdb-server puts into a transact reply.
 * Does not: log, or decide whether an error aborts a transaction (transaction.ts does).
 */

/** The error strings of RFC 7047 §4.1.3 plus those ovsdb-server adds. */
export const OVSDB_ERROR_TAGS = {
  "syntax error": "OVSDB_ERR_SYNTAX",
  "unknown column": "OVSDB_ERR_UNKNOWN_COLUMN",
  "unknown table": "OVSDB_ERR_UNKNOWN_TABLE",
  "unknown function": "OVSDB_ERR_UNKNOWN_FUNCTION",
  "unknown operator": "OVSDB_ERR_UNKNOWN_OPERATOR",
  "unknown database": "OVSDB_ERR_UNKNOWN_DATABASE",
  "duplicate uuid-name": "OVSDB_ERR_DUPLICATE_UUID_NAME",
  "duplicate uuid": "OVSDB_ERR_DUPLICATE_UUID",
  "constraint violation": "OVSDB_ERR_CONSTRAINT",
  "referential integrity violation": "OVSDB_ERR_REFERENTIAL_INTEGRITY",
  "domain error": "OVSDB_ERR_DOMAIN",
  "range error": "OVSDB_ERR_RANGE",
  "timed out": "OVSDB_ERR_TIMED_OUT",
  "not supported": "OVSDB_ERR_NOT_SUPPORTED",
  aborted: "OVSDB_ERR_ABORTED",
  "not owner": "OVSDB_ERR_NOT_OWNER",
  "resources exhausted": "OVSDB_ERR_RESOURCES_EXHAUSTED",
  "I/O error": "OVSDB_ERR_IO",
  "ovsdb error": "OVSDB_ERR_GENERIC",
} as const satisfies Record<string, string>;

export type OvsdbErrorTag = keyof typeof OVSDB_ERROR_TAGS;
export type OvsdbErrorCode = (typeof OVSDB_ERROR_TAGS)[OvsdbErrorTag];

/** The JSON error object of a transact reply (RFC 7047 §4.1.3). */
export interface OvsdbErrorJson {
  error: string;
  details?: string;
  syntax?: string;
}

export class OvsdbError extends Error {
  readonly code: OvsdbErrorCode;
  /**
   * @param tag the RFC 7047 error string
   * @param details the human explanation, as ovsdb-server words it
   * @param syntax for syntax-class errors, the offending JSON (serialized as OVS does)
   */
  constructor(
    readonly tag: OvsdbErrorTag,
    readonly details: string,
    readonly syntax?: string,
  ) {
    super(`${tag}: ${details}`);
    this.name = "OvsdbError";
    this.code = OVSDB_ERROR_TAGS[tag];
  }

  toJson(): OvsdbErrorJson {
    const json: OvsdbErrorJson = { error: this.tag, details: this.details };
    if (this.syntax !== undefined) json.syntax = this.syntax;
    return json;
  }
}

/** A syntax-class error: ovsdb_syntax_error() attaches the offending JSON text. */
export function syntaxError(json: unknown, tag: OvsdbErrorTag | null, details: string): OvsdbError {
  let text: string;
  try {
    text = JSON.stringify(sortedKeys(json)) ?? "null";
  } catch {
    text = String(json);
  }
  return new OvsdbError(tag ?? "syntax error", details, text);
}

/** ovsdb-server prints the offending JSON with object members sorted by name. */
function sortedKeys(x: unknown): unknown {
  if (Array.isArray(x)) return x.map(sortedKeys);
  if (x && typeof x === "object") {
    const o = x as Record<string, unknown>;
    return Object.fromEntries(
      Object.keys(o)
        .sort()
        .map((k) => [k, sortedKeys(o[k])]),
    );
  }
  return x;
}

/** Errors in a schema file (RFC 7047 §3.2); `path` names the offending member. */
export class SchemaError extends OvsdbError {
  constructor(
    readonly path: string,
    details: string,
  ) {
    super("syntax error", `${path}: ${details}`);
    this.name = "SchemaError";
  }
}

/** Errors reading or writing an OVSDB log file; `offset` is where the bad record starts. */
export class LogError extends Error {
  readonly code = "OVSDB_ERR_LOG" as const;
  constructor(
    readonly file: string,
    readonly offset: number,
    details: string,
  ) {
    super(`${file}: ${details} (at byte offset ${offset})`);
    this.name = "LogError";
  }
}
