/**
 * ovsdb/mutation.ts — "mutate" mutations (RFC 7047 §5.1 <mutation>): `+=`, `-=`, `*=`,
 * `/=`, `%=` on integer/real scalars and sets, `insert` and `delete` on sets and maps.
 *
 * Promises: parsing type-checks as ovsdb_mutation_from_json() (arithmetic arguments
 * are unconstrained scalars; insert/delete arguments may be smaller than the column's
 * minimum; a map `delete` also accepts a set of keys); executing follows
 * ovsdb_mutation_set_execute(): 64-bit signed overflow is a "range error", division by
 * zero a "domain error", results are re-checked against the column's constraints and
 * element count ("Attempted to store N elements in ..."), and a map `insert` never
 * replaces an existing key's value. Immutable columns are refused.
 * Does not: apply a mutation set partially — the caller gets a new row or an error.
 */
import {
  Datum,
  datumConformsToCount,
  datumFromJson,
  datumSubtract,
  datumUnion,
  typeToEnglish,
} from "./datum.js";
import { OvsdbError, syntaxError } from "./errors.js";
import type { Row } from "./row.js";
import type { ColumnSchema, TableSchema } from "./schema.js";
import {
  type Atom,
  baseType,
  type ColumnType,
  checkAtomConstraints,
  compareAtoms,
  INT64_MIN,
  type SymbolTable,
} from "./types.js";

export const MUTATORS = ["+=", "-=", "*=", "/=", "%=", "insert", "delete"] as const;
export type Mutator = (typeof MUTATORS)[number];

export interface Mutation {
  readonly column: ColumnSchema;
  readonly mutator: Mutator;
  readonly arg: Datum;
}

function isMutator(s: string): s is Mutator {
  return (MUTATORS as readonly string[]).includes(s);
}

function typeMismatch(json: unknown, mutator: string, column: ColumnSchema): OvsdbError {
  return syntaxError(
    json,
    null,
    `Type mismatch: "${mutator}" operator may not be applied to column ${column.name} of type ${typeToEnglish(column.type)}.`,
  );
}

/** One mutation `[column, mutator, value]`. */
export function parseMutation(
  table: TableSchema,
  json: unknown,
  symtab: SymbolTable | null,
): Mutation {
  if (
    !Array.isArray(json) ||
    json.length !== 3 ||
    typeof json[0] !== "string" ||
    typeof json[1] !== "string"
  )
    throw syntaxError(json, null, "Parse error in mutation.");
  const [name, mutatorName, value] = json as [string, string, unknown];
  const column = table.columns.get(name);
  if (!column)
    throw syntaxError(json, "unknown column", `No column ${name} in table ${table.name}.`);
  if (!isMutator(mutatorName))
    throw new OvsdbError("syntax error", `No mutator named ${mutatorName}.`);
  if (!column.mutable || column.name === "_uuid" || column.name === "_version")
    throw syntaxError(
      json,
      "constraint violation",
      `Cannot mutate immutable column ${name} in table ${table.name}.`,
    );
  const t = column.type;
  let arg: Datum;
  if (mutatorName === "insert" || mutatorName === "delete") {
    if (t.value === null && t.min === 1 && t.max === 1)
      throw typeMismatch(json, mutatorName, column);
    const argType: ColumnType = {
      ...t,
      min: 0,
      max: mutatorName === "delete" ? Number.POSITIVE_INFINITY : t.max,
    };
    try {
      arg = datumFromJson(argType, value, symtab);
    } catch (e) {
      if (!(t.value && mutatorName === "delete")) throw e;
      // A map "delete" may name just the keys to remove.
      arg = datumFromJson({ ...argType, value: null }, value, symtab);
    }
  } else {
    const numeric = t.key.type === "integer" || t.key.type === "real";
    if (t.value !== null || !numeric || (mutatorName === "%=" && t.key.type === "real"))
      throw typeMismatch(json, mutatorName, column);
    arg = datumFromJson({ key: baseType(t.key.type), value: null, min: 1, max: 1 }, value, symtab);
  }
  return { column, mutator: mutatorName, arg };
}

/** RFC 7047 §5.1 <mutations>: an array of mutations. */
export function parseMutations(
  table: TableSchema,
  json: unknown,
  symtab: SymbolTable | null,
): Mutation[] {
  if (!Array.isArray(json)) throw syntaxError(json, null, "Type mismatch for member 'mutations'.");
  return json.map((m) => parseMutation(table, m, symtab));
}

const rangeError = (m: Mutator) =>
  new OvsdbError("range error", `Result of "${m}" operation is out of range.`);
const domainError = () => new OvsdbError("domain error", "Division by zero.");

function inInt64(x: number): boolean {
  return x >= INT64_MIN && x < 2 ** 63;
}

/** One arithmetic step with OVS's int64/double semantics. */
function arith(mutator: Mutator, integer: boolean, x: number, y: number): number {
  let r: number;
  switch (mutator) {
    case "+=":
      r = x + y;
      break;
    case "-=":
      r = x - y;
      break;
    case "*=":
      r = x * y;
      break;
    case "/=":
      if (y === 0) throw domainError();
      if (integer && x === INT64_MIN && y === -1) throw rangeError(mutator);
      r = integer ? Math.trunc(x / y) : x / y;
      break;
    default:
      if (y === 0) throw domainError();
      if (integer && x === INT64_MIN && y === -1) throw rangeError(mutator);
      r = x % y; // C's % truncates toward zero, as JS's does.
      break;
  }
  if (integer ? !inInt64(r) : !Number.isFinite(r)) throw rangeError(mutator);
  return r === 0 ? 0 : r;
}

/** Applies `mutations` in order to `row`; returns the new column datums by index. */
export function applyMutations(row: Row, mutations: readonly Mutation[]): Map<number, Datum> {
  const out = new Map<number, Datum>();
  for (const m of mutations) {
    const i = m.column.index;
    const t = m.column.type;
    const dst = out.get(i) ?? row.values[i];
    let result: Datum;
    if (m.mutator === "insert") {
      result = datumUnion(dst, m.arg, false);
      checkCount(t, result);
    } else if (m.mutator === "delete") {
      result = datumSubtract(dst, m.arg);
      checkCount(t, result);
    } else {
      const integer = t.key.type === "integer";
      const y = m.arg.atom as number;
      const keys: Atom[] = dst.keys.map((x) => arith(m.mutator, integer, x as number, y));
      for (const k of keys) checkAtomConstraints(t.key, k);
      keys.sort(compareAtoms);
      for (let j = 1; j < keys.length; j++)
        if (compareAtoms(keys[j - 1], keys[j]) === 0)
          throw new OvsdbError(
            "constraint violation",
            `Result of "${m.mutator}" operation contains duplicates.`,
          );
      result = new Datum(keys, null);
    }
    out.set(i, result);
  }
  return out;
}

function checkCount(t: ColumnType, d: Datum): void {
  if (!datumConformsToCount(t, d))
    throw new OvsdbError(
      "constraint violation",
      `Attempted to store ${d.size} elements in ${typeToEnglish(t)}.`,
    );
  if (t.value && d.values) for (const v of d.values) checkAtomConstraints(t.value, v);
}
