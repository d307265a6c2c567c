/**
 * ovsdb/datum.ts — OVSDB values: a datum is a sorted, duplicate-free set of atoms, or
 * a map from atoms to atoms (RFC 7047 §5.1 <value>, <set>, <map>).
 *
 * Promises: a `Datum`'s `keys` are strictly increasing in `compareAtoms` order and, for
 * a map, `values[i]` belongs to `keys[i]`, like OVS's struct ovsdb_datum; `datumFromJson`
 * accepts exactly the §5.1 notation (a bare atom for a one-element set, `["set",[...]]`,
 * `["map",[[k,v],...]]`) and checks atom constraints as ovsdb_datum_from_json() does;
 * `datumToJson` prints what ovsdb-server prints (one-element sets as the bare atom, maps
 * always as `["map",...]`). Datums are immutable once built: every operation returns a
 * new one.
 * Does not: check a datum's element count against a column's min/max except where OVS
 * does (parsing, mutation results); transaction.ts owns row-level checks.
 */
import { OvsdbError, syntaxError } from "./errors.js";
import {
  type Atom,
  type AtomicType,
  atomFromJson,
  atomToJson,
  type BaseType,
  type ColumnType,
  checkAtomConstraints,
  compareAtoms,
  defaultAtom,
  type SymbolTable,
} from "./types.js";

export class Datum {
  /**
   * @param keys sorted, duplicate-free (callers outside this file use the builders)
   * @param values parallel to keys for a map, null for a set
   */
  constructor(
    readonly keys: readonly Atom[],
    readonly values: readonly Atom[] | null,
  ) {}

  get size(): number {
    return this.keys.length;
  }

  static readonly EMPTY_SET = new Datum([], null);
  static readonly EMPTY_MAP = new Datum([], []);

  static scalar(atom: Atom): Datum {
    return new Datum([atom], null);
  }

  /**
   * Sorts unsorted pairs; throws OVS's "ovsdb error" on a duplicate key. Takes
   * ownership of the arrays (they become the datum's when already in order).
   */
  static fromUnsorted(keys: Atom[], values: Atom[] | null): Datum {
    // Clients usually send one element, or elements already in order: keep the arrays.
    let sorted = true;
    for (let i = 1; i < keys.length && sorted; i++) sorted = compareAtoms(keys[i - 1], keys[i]) < 0;
    if (sorted) return new Datum(keys, values);
    const order = keys.map((_, i) => i).sort((a, b) => compareAtoms(keys[a], keys[b]));
    const k = order.map((i) => keys[i]);
    const v = values ? order.map((i) => values[i]) : null;
    for (let i = 1; i < k.length; i++) {
      if (compareAtoms(k[i - 1], k[i]) === 0)
        throw new OvsdbError(
          "ovsdb error",
          v ? "map contains duplicate key" : "set contains duplicate",
        );
    }
    return new Datum(k, v);
  }

  /** Index of `key`, or -(insertion point) - 1, by binary search. */
  indexOf(key: Atom): number {
    let lo = 0;
    let hi = this.keys.length - 1;
    while (lo <= hi) {
      const mid = (lo + hi) >>> 1;
      const c = compareAtoms(this.keys[mid], key);
      if (c === 0) return mid;
      if (c < 0) lo = mid + 1;
      else hi = mid - 1;
    }
    return -lo - 1;
  }

  has(key: Atom): boolean {
    return this.indexOf(key) >= 0;
  }

  /** The value for `key` in a map, or undefined. */
  get(key: Atom): Atom | undefined {
    const i = this.indexOf(key);
    return i >= 0 && this.values ? this.values[i] : undefined;
  }

  /** The single atom of a scalar datum (or the first key). */
  get atom(): Atom {
    return this.keys[0];
  }
}

/** Default datums of `min` ≥ 1 column types, built once per type (datums are immutable). */
const DEFAULTS = new WeakMap<ColumnType, Datum>();

/**
 * The default value of a column (ovsdb_datum_init_default): `min` default atoms. The
 * same immutable object each time for a given type, so a new row costs no datums.
 */
export function defaultDatum(type: ColumnType): Datum {
  if (type.min === 0) return type.value ? Datum.EMPTY_MAP : Datum.EMPTY_SET;
  let d = DEFAULTS.get(type);
  if (!d) {
    d = new Datum([defaultAtom(type.key.type)], type.value ? [defaultAtom(type.value.type)] : null);
    DEFAULTS.set(type, d);
  }
  return d;
}

export function compareDatums(a: Datum, b: Datum): number {
  const n = Math.min(a.keys.length, b.keys.length);
  for (let i = 0; i < n; i++) {
    const c = compareAtoms(a.keys[i], b.keys[i]);
    if (c) return c;
  }
  if (a.keys.length !== b.keys.length) return a.keys.length < b.keys.length ? -1 : 1;
  if (a.values && b.values) {
    for (let i = 0; i < n; i++) {
      const c = compareAtoms(a.values[i], b.values[i]);
      if (c) return c;
    }
  }
  return 0;
}

export const datumEquals = (a: Datum, b: Datum): boolean => compareDatums(a, b) === 0;

/** "set"/"map" + element count phrase, as ovsdb_type_to_english(). */
export function typeToEnglish(type: ColumnType): string {
  const key = type.key.type;
  if (!type.value && type.min === 1 && type.max === 1) return key;
  let s = type.value ? "map" : "set";
  if (type.max === Number.POSITIVE_INFINITY) s += type.min ? ` of ${type.min} or more` : " of";
  else if (type.min) s += ` of ${type.min} to ${type.max}`;
  else s += ` of up to ${type.max}`;
  return type.value ? `${s} (${key}, ${type.value.type}) pairs` : `${s} ${key}s`;
}

function atomChecked(base: BaseType, json: unknown, symtab: SymbolTable | null | undefined): Atom {
  const atom = atomFromJson(base.type, json, symtab);
  checkAtomConstraints(base, atom);
  return atom;
}

/**
 * RFC 7047 §5.1 <value> → Datum for a column of `type`. Throws OvsdbError with
 * ovsdb-server's tags: "syntax error" for notation, "constraint violation" for
 * enum/range, "ovsdb error" for duplicates.
 */
export function datumFromJson(type: ColumnType, json: unknown, symtab?: SymbolTable | null): Datum {
  if (type.value) {
    if (!Array.isArray(json) || json.length !== 2 || json[0] !== "map" || !Array.isArray(json[1]))
      throw syntaxError(json, null, "expected map");
    const pairs = json[1] as unknown[];
    checkCount(type, "map", pairs.length, json);
    // Sized up front: the datum may live as long as its row, and arrays grown by
    // push() keep spare capacity.
    const keys = new Array<Atom>(pairs.length);
    const values = new Array<Atom>(pairs.length);
    for (let i = 0; i < pairs.length; i++) {
      const pair = pairs[i];
      if (!Array.isArray(pair) || pair.length !== 2)
        throw syntaxError(pair, null, "Expected 2-element array as pair in map");
      keys[i] = atomChecked(type.key, pair[0], symtab);
      values[i] = atomChecked(type.value, pair[1], symtab);
    }
    return Datum.fromUnsorted(keys, values);
  }
  if (Array.isArray(json) && json.length === 2 && json[0] === "set") {
    if (!Array.isArray(json[1])) throw syntaxError(json, null, "set must be an array");
    const elems = json[1] as unknown[];
    checkCount(type, "set", elems.length, json);
    const keys = elems.map((e) => atomChecked(type.key, e, symtab));
    return Datum.fromUnsorted(keys, null);
  }
  checkCount(type, "set", 1, json);
  return Datum.scalar(atomChecked(type.key, json, symtab));
}

function checkCount(type: ColumnType, what: string, n: number, json: unknown): void {
  if (n < type.min || n > type.max) {
    const max = type.max === Number.POSITIVE_INFINITY ? 4294967295 : type.max;
    throw syntaxError(
      json,
      null,
      `${what} must have ${type.min} to ${max} members but ${n} are present`,
    );
  }
}

/** Datum → RFC 7047 §5.1 JSON, as ovsdb_datum_to_json() prints it. */
export function datumToJson(type: ColumnType, datum: Datum): unknown {
  if (type.value) {
    const vt = type.value.type;
    return [
      "map",
      datum.keys.map((k, i) => [atomToJson(type.key.type, k), atomToJson(vt, datum.values![i])]),
    ];
  }
  if (datum.keys.length === 1) return atomToJson(type.key.type, datum.keys[0]);
  return ["set", datum.keys.map((k) => atomToJson(type.key.type, k))];
}

/**
 * `JSON.stringify(datumToJson(type, datum))`, written directly: log records are built
 * as text on every commit, and this skips the intermediate arrays.
 */
export function datumJsonText(type: ColumnType, datum: Datum): string {
  const kt = type.key.type;
  const keys = datum.keys;
  if (type.value) {
    const vt = type.value.type;
    const values = datum.values!;
    let text = '["map",[';
    for (let i = 0; i < keys.length; i++)
      text += `${i ? "," : ""}[${atomJsonText(kt, keys[i])},${atomJsonText(vt, values[i])}]`;
    return `${text}]]`;
  }
  if (keys.length === 1) return atomJsonText(kt, keys[0]);
  let text = '["set",[';
  for (let i = 0; i < keys.length; i++) text += `${i ? "," : ""}${atomJsonText(kt, keys[i])}`;
  return `${text}]]`;
}

/** `JSON.stringify(atomToJson(type, atom))`; uuids are lowercase hex and need no escaping. */
function atomJsonText(type: AtomicType, atom: Atom): string {
  if (type === "uuid") return `["uuid","${atom as string}"]`;
  return typeof atom === "string" ? JSON.stringify(atom) : String(atom);
}

/** Set/map union; on a key in both, `b`'s value wins only if `replace`. */
export function datumUnion(a: Datum, b: Datum, replace: boolean): Datum {
  const keys: Atom[] = [];
  const values: Atom[] | null = a.values ? [] : null;
  let i = 0;
  let j = 0;
  while (i < a.keys.length || j < b.keys.length) {
    const c = i >= a.keys.length ? 1 : j >= b.keys.length ? -1 : compareAtoms(a.keys[i], b.keys[j]);
    if (c < 0) {
      keys.push(a.keys[i]);
      values?.push(a.values![i]);
      i++;
    } else if (c > 0) {
      keys.push(b.keys[j]);
      values?.push(b.values![j]);
      j++;
    } else {
      keys.push(a.keys[i]);
      values?.push(replace ? b.values![j] : a.values![i]);
      i++;
      j++;
    }
  }
  return new Datum(keys, values);
}

/**
 * Removes from `a` the elements of `b` (ovsdb_datum_subtract): for a map `a`, `b` may be
 * a set of keys (removes those keys) or a map (removes pairs whose key and value match).
 */
export function datumSubtract(a: Datum, b: Datum): Datum {
  const keys: Atom[] = [];
  const values: Atom[] | null = a.values ? [] : null;
  for (let i = 0; i < a.keys.length; i++) {
    const j = b.indexOf(a.keys[i]);
    const drop = j >= 0 && (!b.values || !a.values || compareAtoms(b.values[j], a.values[i]) === 0);
    if (drop) continue;
    keys.push(a.keys[i]);
    values?.push(a.values![i]);
  }
  return new Datum(keys, values);
}

/** True if every element (pair, for maps) of `b` is in `a` (RFC 7047 "includes"). */
export function datumIncludes(a: Datum, b: Datum): boolean {
  for (let j = 0; j < b.keys.length; j++) {
    const i = a.indexOf(b.keys[j]);
    if (i < 0) return false;
    if (a.values && b.values && compareAtoms(a.values[i], b.values[j]) !== 0) return false;
  }
  return true;
}

/** True if no element (pair, for maps) of `b` is in `a` (RFC 7047 "excludes"). */
export function datumExcludes(a: Datum, b: Datum): boolean {
  for (let j = 0; j < b.keys.length; j++) {
    const i = a.indexOf(b.keys[j]);
    if (i < 0) continue;
    if (!a.values || !b.values || compareAtoms(a.values[i], b.values[j]) === 0) return false;
  }
  return true;
}

/**
 * The "diff" OVS's update2 and log records carry for a set/map column: the symmetric
 * difference for a set; for a map, new pairs and changed pairs (with the new value)
 * and removed pairs (with the old value). Applying it is `datumApplyDiff`.
 */
export function datumDiff(old: Datum, neu: Datum): Datum {
  const keys: Atom[] = [];
  const values: Atom[] | null = old.values ? [] : null;
  let i = 0;
  let j = 0;
  while (i < old.keys.length || j < neu.keys.length) {
    const c =
      i >= old.keys.length ? 1 : j >= neu.keys.length ? -1 : compareAtoms(old.keys[i], neu.keys[j]);
    if (c < 0) {
      keys.push(old.keys[i]);
      values?.push(old.values![i]);
      i++;
    } else if (c > 0) {
      keys.push(neu.keys[j]);
      values?.push(neu.values![j]);
      j++;
    } else {
      if (values && compareAtoms(old.values![i], neu.values![j]) !== 0) {
        keys.push(neu.keys[j]);
        values.push(neu.values![j]);
      }
      i++;
      j++;
    }
  }
  return new Datum(keys, values);
}

/** Inverse of `datumDiff`: `datumApplyDiff(old, datumDiff(old, neu))` equals `neu`. */
export function datumApplyDiff(old: Datum, diff: Datum): Datum {
  const keys: Atom[] = [];
  const values: Atom[] | null = old.values ? [] : null;
  let i = 0;
  let j = 0;
  while (i < old.keys.length || j < diff.keys.length) {
    const c =
      i >= old.keys.length
        ? 1
        : j >= diff.keys.length
          ? -1
          : compareAtoms(old.keys[i], diff.keys[j]);
    if (c < 0) {
      keys.push(old.keys[i]);
      values?.push(old.values![i]);
      i++;
    } else if (c > 0) {
      keys.push(diff.keys[j]);
      values?.push(diff.values![j]);
      j++;
    } else {
      // Same key: a set element or a map pair with the same value is removed; a map
      // pair with a different value is replaced.
      if (values && compareAtoms(old.values![i], diff.values![j]) !== 0) {
        keys.push(diff.keys[j]);
        values.push(diff.values![j]);
      }
      i++;
      j++;
    }
  }
  return new Datum(keys, values);
}

/** Whether `datum`'s size is within the type's [min, max]. */
export function datumConformsToCount(type: ColumnType, datum: Datum): boolean {
  return datum.keys.length >= type.min && datum.keys.length <= type.max;
}
