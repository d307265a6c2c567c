/**
 * ovsdb/ — an RFC 7047 database that behaves like Open vSwitch's ovsdb-server:
 * schemas, the transaction engine, the standalone on-disk log, and (server side)
 * JSON-RPC, monitors, locks and the client IDL.
 *
 * Overview
 * A `Database` (database.ts) holds one schema's tables. A client's `transact` request
 * is executed by transaction.ts against a copy-on-write overlay of the committed rows;
 * if every operation succeeds, the precommit checks run (references, garbage
 * collection, weak references, maxRows, indexes) and the resulting row changes are
 * applied in memory, handed to commit listeners (monitors), appended to the log
 * (log.ts: group commit, one synchronous write(2) per tick, fdatasync when durable)
 * and acknowledged once written. A blocked `wait` re-runs
 * after each commit until its timeout. The server half (server.ts, session.ts,
 * monitor.ts, lock.ts, idl.ts, server-db.ts) speaks JSON-RPC over this API.
 *
 * Glossary
 * - "atom" (types.ts): one integer, real, boolean, string or uuid; "datum" (datum.ts):
 *   a sorted set of atoms or a map, OVS's struct ovsdb_datum.
 * - "base type", "column type": RFC 7047 §3.2 <base-type> and <type>.
 * - "root table": rows live on their own; rows of a non-root table live only while a
 *   strong reference points at them and are garbage-collected at commit otherwise.
 * - "strong"/"weak" reference: a uuid column with refTable; a strong one must point at
 *   an existing row, a weak one is silently removed when its target goes away.
 * - "uuid-name"/"named-uuid": a transaction-local name for a row being inserted.
 * - "precommit": the checks of ovsdb_txn_precommit() run before anything is visible.
 * - "record": one `OVSDB JSON <len> <sha1>` entry of the log file.
 * - "trigger": a transaction blocked in `wait`, re-run after every commit.
 *
 * Invariants
 * - Committed rows are immutable; a transaction sees its own changes and nobody
 *   else's; a failed transaction changes nothing (whole-transaction rollback).
 * - After every commit: every strong reference resolves, every non-root row is
 *   referenced, no weak reference dangles, every index is unique, no table exceeds
 *   maxRows.
 * - A transaction is acknowledged only after its record is written to the log, so a
 *   crash never loses an acknowledged transaction (durable ones survive power loss).
 * - Error objects carry ovsdb-server's exact "error" strings and, where checked, its
 *   "details" wording.
 *
 * Typical use
 *   const db = await Database.open("conf.db", { clock });
 *   const [r] = await db.transact([{ op: "insert", table: "Bridge", row: { name: "br0" } }]);
 *   db.onCommit((txn) => ...);
 *
 * Public surface: below; the engine's names are listed, the server half's modules
 * (idl, jsonrpc, lock, monitor, served-db, server, server-db, server-errors, session)
 * are re-exported whole, and on a name clash the engine's explicit export wins.
 * Integers are JS numbers (exact to ±2^53). Pass a real `Clock` to file-backed
 * databases: without one, `_date` is 0 and a
 * blocked `wait` ends only when a commit satisfies it or the caller aborts.
 */
export type { Clause, ConditionFunction } from "./condition.js";
export { CONDITION_FUNCTIONS, Condition, evaluateClause, parseWhere } from "./condition.js";
export type {
  Clock,
  CommitListener,
  CommittedTxn,
  DatabaseOptions,
  RowChange,
  TransactDone,
  TransactOptions,
} from "./database.js";
export { Database, NO_CLOCK, rowFromJson } from "./database.js";
export {
  compareDatums,
  Datum,
  datumApplyDiff,
  datumDiff,
  datumEquals,
  datumFromJson,
  datumToJson,
  defaultDatum,
  typeToEnglish,
} from "./datum.js";
export type { OvsdbErrorCode, OvsdbErrorJson, OvsdbErrorTag } from "./errors.js";
export { LogError, OVSDB_ERROR_TAGS, OvsdbError, SchemaError } from "./errors.js";
export * from "./idl.js";
export * from "./jsonrpc.js";
export * from "./lock.js";
export type { AppendDone } from "./log.js";
export { encodeRecord, LogFile, parseLog } from "./log.js";
export * from "./monitor.js";
export type { Mutation, Mutator } from "./mutation.js";
export { applyMutations, MUTATORS, parseMutations } from "./mutation.js";
export type { RowJson } from "./row.js";
export { Row, rowToJson } from "./row.js";
export type { ColumnSchema, DatabaseSchema, TableSchema } from "./schema.js";
export { parseSchema, posixCksum, schemaCksum, schemaToJson } from "./schema.js";
export * from "./served-db.js";
export * from "./server.js";
export * from "./server-db.js";
export * from "./server-errors.js";
export * from "./session.js";
export type { RowDelta, TxnChanges } from "./transaction.js";
export { executeTransaction } from "./transaction.js";
export type { Atom, AtomicType, BaseType, ColumnType, RefType } from "./types.js";
export { atomFromJson, atomToJson, compareAtoms, defaultAtom, ZERO_UUID } from "./types.js";
export { randomUuid } from "./uuid.js";
