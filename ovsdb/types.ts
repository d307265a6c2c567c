/**
 * ovsdb/types.ts — OVSDB atomic types, base types, column types and atoms
 * (RFC 7047 §3.2 <type>, <base-type>, <atomic-type>; §5.1 <atom>).
 *
 * Promises: atoms are plain JS values — integer and real are `number`, boolean is
 * `boolean`, string is `string`, uuid is its lowercase 36-character text — so they can
 * be compared and hashed without allocation; `compareAtoms` orders them as OVS's
 * ovsdb_atom_compare_3way does (so sets and maps sort identically and print in the
 * same order); `atomFromJson`/`atomToJson` implement §5.1 notation.
 * Does not: represent integers beyond ±2^53 exactly (JSON.parse already rounds them),
 * parse types from schema JSON (schema.ts does, since an `enum` is a datum).
 */
import { OvsdbError, syntaxError } from "./errors.js";

export type AtomicType = "integer" | "real" | "boolean" | "string" | "uuid";
export const ATOMIC_TYPES: readonly AtomicType[] = ["integer", "real", "boolean", "string", "uuid"];

/** An atom: integer/real → number, boolean → boolean, string/uuid → string. */
export type Atom = number | boolean | string;

export type RefType = "strong" | "weak";

/** RFC 7047 §3.2 <base-type>, with OVS's defaults filled in (no constraint = widest range). */
export interface BaseType {
  readonly type: AtomicType;
  /** Sorted, duplicate-free allowed values, or null when unconstrained. */
  readonly enum: readonly Atom[] | null;
  readonly minInteger: number;
  readonly maxInteger: number;
  readonly minReal: number;
  readonly maxReal: number;
  readonly minLength: number;
  readonly maxLength: number;
  /** For uuid: the referenced table, or null for a plain uuid. */
  readonly refTable: string | null;
  readonly refType: RefType;
}

/** RFC 7047 §3.2 <type>: a set (value null) or map of `min`..`max` elements. */
export interface ColumnType {
  readonly key: BaseType;
  readonly value: BaseType | null;
  readonly min: number;
  /** Infinity for "unlimited". */
  readonly max: number;
}

export const INT64_MIN = -(2 ** 63);
export const INT64_MAX = 2 ** 63 - 1;
const UINT_MAX = 2 ** 32 - 1;

export function baseType(type: AtomicType, overrides: Partial<BaseType> = {}): BaseType {
  return {
    type,
    enum: null,
    minInteger: INT64_MIN,
    maxInteger: INT64_MAX,
    minReal: -Number.MAX_VALUE,
    maxReal: Number.MAX_VALUE,
    minLength: 0,
    maxLength: UINT_MAX,
    refTable: null,
    refType: "strong",
    ...overrides,
  };
}

/** A column type holding exactly one `type` atom (the type of `_uuid`, `_version`, ...). */
export function scalarType(type: AtomicType): ColumnType {
  return { key: baseType(type), value: null, min: 1, max: 1 };
}

export const isMap = (t: ColumnType): boolean => t.value !== null;
export const isScalar = (t: ColumnType): boolean => t.value === null && t.min === 1 && t.max === 1;
export const isOptionalScalar = (t: ColumnType): boolean =>
  t.value === null && t.min === 0 && t.max === 1;

export const UUID_RE =
  /^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$/;
export const ZERO_UUID = "00000000-0000-0000-0000-000000000000";

/** The default atom of a type, as ovsdb_atom_init_default(). */
export function defaultAtom(type: AtomicType): Atom {
  switch (type) {
    case "integer":
    case "real":
      return 0;
    case "boolean":
      return false;
    case "string":
      return "";
    case "uuid":
      return ZERO_UUID;
  }
}

/**
 * Three-way comparison in OVS order. Strings compare as strcmp() over UTF-8 bytes,
 * which for well-formed text is code-point order; uuids compare as their four 32-bit
 * words, which for fixed-width lowercase hex is plain text order.
 */
export function compareAtoms(a: Atom, b: Atom): number {
  if (typeof a === "string") return compareStrings(a, b as string);
  if (a === b) return 0;
  return (a as number) < (b as number) ? -1 : 1;
}

function compareStrings(a: string, b: string): number {
  if (a === b) return 0;
  const n = Math.min(a.length, b.length);
  for (let i = 0; i < n; i++) {
    const ca = a.charCodeAt(i);
    const cb = b.charCodeAt(i);
    if (ca === cb) continue;
    // UTF-16 order differs from code-point order only when one side is a surrogate.
    const sa = ca >= 0xd800 && ca <= 0xdfff;
    const sb = cb >= 0xd800 && cb <= 0xdfff;
    if (sa !== sb) return sa ? 1 : -1;
    return ca < cb ? -1 : 1;
  }
  return a.length < b.length ? -1 : a.length > b.length ? 1 : 0;
}

/**
 * Resolves `["named-uuid", name]` (RFC 7047 §5.1) to a uuid. The transaction's symbol
 * table implements it; outside a transaction named-uuids are a syntax error.
 */
export interface SymbolTable {
  resolve(name: string): string;
}

const ATOM_TYPE_ARTICLE: Record<AtomicType, string> = {
  integer: "integer",
  real: "real",
  boolean: "boolean",
  string: "string",
  uuid: "uuid",
};

/** RFC 7047 §5.1 <atom> → atom. Throws `OvsdbError` ("syntax error") on mismatch. */
export function atomFromJson(type: AtomicType, json: unknown, symtab?: SymbolTable | null): Atom {
  switch (type) {
    case "integer":
      if (typeof json === "number" && Number.isInteger(json)) return json === 0 ? 0 : json;
      break;
    case "real":
      if (typeof json === "number") return json === 0 ? 0 : json;
      break;
    case "boolean":
      if (typeof json === "boolean") return json;
      break;
    case "string":
      if (typeof json === "string") return json;
      break;
    case "uuid":
      if (Array.isArray(json) && json.length === 2 && typeof json[1] === "string") {
        if (json[0] === "uuid") {
          if (UUID_RE.test(json[1])) return json[1].toLowerCase();
          throw syntaxError(json, null, `"${json[1]}" is not a valid UUID`);
        }
        if (json[0] === "named-uuid") {
          if (symtab) return symtab.resolve(json[1]);
          throw syntaxError(json, null, "named-uuid is not allowed here");
        }
      }
      break;
  }
  throw syntaxError(json, null, `expected ${ATOM_TYPE_ARTICLE[type]}`);
}

export function atomToJson(type: AtomicType, atom: Atom): unknown {
  return type === "uuid" ? ["uuid", atom] : atom;
}

/** OVS's text form of an atom in error messages (ovsdb_atom_to_string). */
export function atomToText(type: AtomicType, atom: Atom): string {
  if (type === "string") {
    const s = atom as string;
    return /^[A-Za-z_][A-Za-z0-9_.-]*$/.test(s) && s !== "true" && s !== "false"
      ? s
      : JSON.stringify(s);
  }
  if (type === "real") return formatReal(atom as number);
  return String(atom);
}

/** %.17g-like formatting that prints integral reals with no fraction, as OVS's json does. */
export function formatReal(n: number): string {
  return String(n);
}

/**
 * Checks an atom against its base type's constraints (RFC 7047 §3.2: enum,
 * minInteger..maxLength). Messages match ovsdb_atom_check_constraints().
 */
export function checkAtomConstraints(base: BaseType, atom: Atom): void {
  if (base.enum) {
    let found = false;
    for (const e of base.enum) if (compareAtoms(e, atom) === 0) found = true;
    if (!found) {
      const allowed = base.enum.map((e) => atomToText(base.type, e)).join(", ");
      throw new OvsdbError(
        "constraint violation",
        `${atomToText(base.type, atom)} is not one of the allowed values ([${allowed}])`,
      );
    }
    return;
  }
  switch (base.type) {
    case "integer": {
      const n = atom as number;
      if (n >= base.minInteger && n <= base.maxInteger) return;
      if (base.minInteger !== INT64_MIN && base.maxInteger !== INT64_MAX)
        throw new OvsdbError(
          "constraint violation",
          `${n} is not in the valid range ${base.minInteger} to ${base.maxInteger} (inclusive)`,
        );
      if (base.minInteger !== INT64_MIN)
        throw new OvsdbError(
          "constraint violation",
          `${n} is less than minimum allowed value ${base.minInteger}`,
        );
      throw new OvsdbError(
        "constraint violation",
        `${n} is greater than maximum allowed value ${base.maxInteger}`,
      );
    }
    case "real": {
      const n = atom as number;
      if (n >= base.minReal && n <= base.maxReal) return;
      if (base.minReal !== -Number.MAX_VALUE && base.maxReal !== Number.MAX_VALUE)
        throw new OvsdbError(
          "constraint violation",
          `${formatReal(n)} is not in the valid range ${formatReal(base.minReal)} to ${formatReal(base.maxReal)} (inclusive)`,
        );
      if (base.minReal !== -Number.MAX_VALUE)
        throw new OvsdbError(
          "constraint violation",
          `${formatReal(n)} is less than minimum allowed value ${formatReal(base.minReal)}`,
        );
      throw new OvsdbError(
        "constraint violation",
        `${formatReal(n)} is greater than maximum allowed value ${formatReal(base.maxReal)}`,
      );
    }
    case "string": {
      // Unconstrained (the usual case): no JS string reaches UINT_MAX code points.
      if (base.minLength === 0 && base.maxLength >= UINT_MAX) return;
      const s = atom as string;
      const len = utf8Length(s);
      if (len < base.minLength)
        throw new OvsdbError(
          "constraint violation",
          `"${s}" length ${len} is less than minimum allowed length ${base.minLength}`,
        );
      if (len > base.maxLength)
        throw new OvsdbError(
          "constraint violation",
          `"${s}" length ${len} is greater than maximum allowed length ${base.maxLength}`,
        );
      return;
    }
    default:
      return;
  }
}

/** Length in code points, which is what OVS's utf8_length() counts. */
function utf8Length(s: string): number {
  let n = 0;
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    if (c < 0xd800 || c > 0xdbff) n++;
  }
  return n;
}
