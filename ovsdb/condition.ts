/**
 * ovsdb/condition.ts — "where" clauses (RFC 7047 §5.1 <condition>): parsing,
 * type-checking and evaluation of every function: `<`, `<=`, `==`, `!=`, `>=`, `>`,
 * `includes`, `excludes`, plus the literal `true`/`false` clauses ovsdb-server accepts
 * for monitor_cond.
 *
 * Promises: `parseWhere` type-checks each clause as ovsdb_condition_from_json() does and
 * reports its error strings ("unknown column", "unknown function", "Type mismatch ...");
 * `Condition.matches` is pure; a condition that is a conjunction containing
 * `_uuid == <uuid>` exposes that uuid so callers can look the row up directly.
 * Does not: evaluate against JSON rows (callers convert with row.ts).
 */
import {
  compareDatums,
  type Datum,
  datumExcludes,
  datumFromJson,
  datumIncludes,
  typeToEnglish,
} from "./datum.js";
import { OvsdbError, syntaxError } from "./errors.js";
import type { Row } from "./row.js";
import type { ColumnSchema, TableSchema } from "./schema.js";
import { type ColumnType, compareAtoms, type SymbolTable } from "./types.js";

export const CONDITION_FUNCTIONS = [
  "<",
  "<=",
  "==",
  "!=",
  ">=",
  ">",
  "includes",
  "excludes",
] as const;
export type ConditionFunction = (typeof CONDITION_FUNCTIONS)[number];

export interface Clause {
  readonly column: ColumnSchema;
  readonly fn: ConditionFunction;
  readonly arg: Datum;
}

export class Condition {
  constructor(
    readonly clauses: readonly Clause[],
    /** A literal `false` clause makes the whole conjunction false. */
    readonly alwaysFalse: boolean,
  ) {}

  /** If the condition pins `_uuid` with `==`, that uuid (lets callers skip a scan). */
  get uuid(): string | null {
    for (const c of this.clauses)
      if (c.column.name === "_uuid" && c.fn === "==" && c.arg.size === 1)
        return c.arg.atom as string;
    return null;
  }

  matches(row: Row): boolean {
    if (this.alwaysFalse) return false;
    for (const c of this.clauses) if (!evaluateClause(c, row.values[c.column.index])) return false;
    return true;
  }
}

/** RFC 7047 §5.1: the value of one function applied to a column datum and an argument. */
export function evaluateClause(c: Clause, datum: Datum): boolean {
  switch (c.fn) {
    case "==":
      return compareDatums(datum, c.arg) === 0;
    case "!=":
      return compareDatums(datum, c.arg) !== 0;
    case "includes":
      return datumIncludes(datum, c.arg);
    case "excludes":
      return datumExcludes(datum, c.arg);
    default: {
      // Ordering functions are only allowed on (optional) integer/real scalars; an empty
      // optional value satisfies none of them.
      if (datum.size === 0 || c.arg.size === 0) return false;
      const r = compareAtoms(datum.atom, c.arg.atom);
      if (c.fn === "<") return r < 0;
      if (c.fn === "<=") return r <= 0;
      if (c.fn === ">") return r > 0;
      return r >= 0;
    }
  }
}

function isFunction(s: string): s is ConditionFunction {
  return (CONDITION_FUNCTIONS as readonly string[]).includes(s);
}

/** One clause `[column, function, value]`. */
export function parseClause(table: TableSchema, json: unknown, symtab: SymbolTable | null): Clause {
  if (
    !Array.isArray(json) ||
    json.length !== 3 ||
    typeof json[0] !== "string" ||
    typeof json[1] !== "string"
  )
    throw syntaxError(json, null, "Parse error in condition.");
  const [name, fnName, value] = json as [string, string, unknown];
  const column = table.columns.get(name);
  if (!column)
    throw syntaxError(json, "unknown column", `No column ${name} in table ${table.name}.`);
  if (!isFunction(fnName)) throw new OvsdbError("unknown function", `No function named ${fnName}.`);
  let argType: ColumnType = column.type;
  const t = column.type;
  switch (fnName) {
    case "<":
    case "<=":
    case ">":
    case ">=":
      if (t.value !== null || t.max !== 1 || (t.key.type !== "integer" && t.key.type !== "real"))
        throw syntaxError(
          json,
          null,
          `Type mismatch: "${fnName}" operator may not be applied to column ${name} of type ${typeToEnglish(t)}.`,
        );
      argType = { ...t, min: 1, max: 1 };
      break;
    case "includes":
    case "excludes":
      argType = { ...t, min: 0 };
      break;
    default:
      break;
  }
  return { column, fn: fnName, arg: datumFromJson(argType, value, symtab) };
}

/** RFC 7047 §5.1 <where>: an array of clauses (a conjunction). */
export function parseWhere(
  table: TableSchema,
  json: unknown,
  symtab: SymbolTable | null = null,
): Condition {
  if (!Array.isArray(json)) throw syntaxError(json, null, "Type mismatch for member 'where'.");
  const clauses: Clause[] = [];
  let alwaysFalse = false;
  for (const c of json) {
    if (c === true) continue;
    if (c === false) {
      alwaysFalse = true;
      continue;
    }
    clauses.push(parseClause(table, c, symtab));
  }
  return new Condition(clauses, alwaysFalse);
}

export const TRUE_CONDITION = new Condition([], false);
