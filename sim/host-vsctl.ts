/**
 * The ovs-vsctl of a simulated host: the commonly used ovs-vsctl commands, turned
 * into the same OVSDB transactions ovs-vsctl makes (verify guards, inserts of
 * Port/Interface rows referenced from their parent, mutation of `next_cfg` unless
 * `--no-wait`), committed through the host's IDL, never behind vswitchd's back.
 *
 * Commands: init, add-br, del-br, add-port, del-port, set-fail-mode, get-fail-mode,
 * del-fail-mode, set, clear, get, list-br, list-ports, br-exists; joined with `--`; global options --no-wait, --may-exist,
 * --if-exists. Values follow ovs-vsctl's syntax: `col=value`, `col:key=value`,
 * sets as `1,2,3` or `[1,2,3]`, records named by their `name` column.
 *
 * It does not: implement every ovs-vsctl command (bonds, controllers, managers, QoS),
 * or `find`/`list` output formats.
 */
import type { ColumnType, DatabaseSchema, Idl, IdlRow, IdlTxn, Json } from "../ovsdb/index.js";
import { InvalidParameterError } from "./errors.js";

interface Ctx {
  readonly idl: Idl;
  readonly schema: DatabaseSchema;
  readonly txn: IdlTxn;
  readonly out: string[];
  /** Rows inserted in this transaction: name → uuid-name. */
  readonly newPorts: Map<string, string>;
  readonly newIfaces: Map<string, string>;
  readonly newBridges: Map<string, string>;
  /** Pending column values of rows inserted in this transaction. */
  readonly pending: Map<string, Record<string, Json>>;
  changed: boolean;
}

/** ovsdb-data.c string_needs_quotes(): what ovs-vsctl prints bare. */
function atomText(v: unknown): string {
  if (typeof v !== "string") return String(v);
  const bare =
    /^[A-Za-z_][A-Za-z0-9_.-]*$/.test(v) &&
    v !== "true" &&
    v !== "false" &&
    !/^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/.test(v);
  return bare ? v : JSON.stringify(v);
}

function fail(what: string): never {
  throw new InvalidParameterError("ovs-vsctl", "command", "a valid ovs-vsctl command", what);
}

function rowByName(ctx: Ctx, table: string, name: string): IdlRow | undefined {
  return ctx.idl.rows(table).find((r) => r.string("name") === name);
}

function root(ctx: Ctx): IdlRow {
  const r = ctx.idl.rows("Open_vSwitch")[0];
  if (!r) fail("database not initialized (no Open_vSwitch row; run init)");
  return r;
}

function atomJson(type: ColumnType["key"], text: string): Json {
  const t = text.replace(/^"(.*)"$/, "$1");
  switch (type.type) {
    case "integer": {
      const n = Number(t);
      if (!Number.isInteger(n)) fail(`"${text}" is not a valid integer`);
      return n;
    }
    case "real":
      return Number(t);
    case "boolean":
      return t === "true";
    case "uuid":
      return ["uuid", t];
    default:
      return t;
  }
}

function datumJson(type: ColumnType, text: string): Json {
  if (type.value) {
    const body = text.replace(/^\{(.*)\}$/, "$1").trim();
    const pairs = body
      ? body.split(",").map((kv) => {
          const [k, ...v] = kv.split("=");
          return [atomJson(type.key, k!.trim()), atomJson(type.value!, v.join("=").trim())] as Json;
        })
      : [];
    return ["map", pairs];
  }
  const body = text.replace(/^\[(.*)\]$/, "$1").trim();
  const items = body ? body.split(",").map((x) => atomJson(type.key, x.trim())) : [];
  if (type.min === 1 && type.max === 1) return items[0] ?? fail(`missing value`);
  return ["set", items];
}

/**
 * Resolves a table name as ovs-vsctl does (lib/db-ctl-base.c score_partial_match):
 * an exact name wins, then a case-insensitive one, then the longest unambiguous
 * prefix, with '-' and '_' treated alike — so `bridge` and `br` mean `Bridge`.
 */
function resolveTable(ctx: Ctx, name: string): string {
  const norm = (x: string) => x.toLowerCase().replace(/-/g, "_");
  let best: string | undefined;
  let bestScore = 0;
  let tie = false;
  for (const table of ctx.schema.tables.keys()) {
    const score =
      table === name
        ? Number.MAX_SAFE_INTEGER
        : norm(table) === norm(name)
          ? Number.MAX_SAFE_INTEGER - 1
          : norm(table).startsWith(norm(name))
            ? name.length
            : 0;
    if (score > bestScore) {
      best = table;
      bestScore = score;
      tie = false;
    } else if (score === bestScore && score > 0) tie = true;
  }
  if (best && !tie) return best;
  return fail(bestScore ? `multiple table names match "${name}"` : `unknown table "${name}"`);
}

function columnType(ctx: Ctx, table: string, col: string): ColumnType {
  const c = ctx.schema.tables.get(table)?.columns.get(col);
  if (!c) fail(`${table} does not contain a column whose name matches "${col}"`);
  return c.type;
}

/** Applies `col=value` / `col:key=value` to a row (existing uuid or pending insert). */
function setColumn(ctx: Ctx, table: string, rec: string, assignment: string): void {
  const eq = assignment.indexOf("=");
  if (eq < 0) fail(`${assignment}: argument does not end in "=" followed by a value.`);
  const lhs = assignment.slice(0, eq);
  const value = assignment.slice(eq + 1);
  const [col, key] = lhs.split(":", 2) as [string, string | undefined];
  const type = columnType(ctx, table, col);
  const pendingName =
    table === "Port"
      ? ctx.newPorts.get(rec)
      : table === "Interface"
        ? ctx.newIfaces.get(rec)
        : table === "Bridge"
          ? ctx.newBridges.get(rec)
          : undefined;
  if (pendingName) {
    const row = ctx.pending.get(pendingName)!;
    if (key !== undefined) {
      const cur = (row[col] as [string, Json[]] | undefined)?.[1] ?? [];
      const pairs = (cur as Json[]).filter((p) => (p as Json[])[0] !== key);
      pairs.push([key, atomJson(type.value!, value)]);
      row[col] = ["map", pairs];
    } else row[col] = datumJson(type, value);
    return;
  }
  const r = rowByName(ctx, table, rec) ?? (table === "Open_vSwitch" ? root(ctx) : undefined);
  if (!r) fail(`no row "${rec}" in table ${table}`);
  ctx.changed = true;
  if (key !== undefined) {
    ctx.txn.mutate(table, r.uuid, [
      [col, "delete", ["set", [key]]],
      [col, "insert", ["map", [[key, atomJson(type.value!, value)]]]],
    ]);
  } else {
    ctx.txn.verify(table, r.uuid, [col]);
    ctx.txn.update(table, r.uuid, { [col]: datumJson(type, value) });
  }
}

function addPortRows(
  ctx: Ctx,
  bridgeUuid: string | null,
  bridgeName: string,
  port: string,
  extra: readonly string[],
): void {
  const ifRow: Record<string, Json> = { name: port };
  const iface = ctx.txn.insert("Interface", ifRow);
  ctx.pending.set(iface, ifRow);
  const portRow: Record<string, Json> = { name: port, interfaces: ["named-uuid", iface] };
  const pname = ctx.txn.insert("Port", portRow);
  ctx.pending.set(pname, portRow);
  ctx.newPorts.set(port, pname);
  ctx.newIfaces.set(port, iface);
  for (const a of extra) setColumn(ctx, "Port", port, a);
  if (bridgeUuid) {
    ctx.txn.mutate("Bridge", bridgeUuid, [["ports", "insert", ["set", [["named-uuid", pname]]]]]);
  } else {
    const bn = ctx.newBridges.get(bridgeName)!;
    const brow = ctx.pending.get(bn)!;
    const cur = (brow.ports as [string, Json[]] | undefined)?.[1] ?? [];
    brow.ports = ["set", [...cur, ["named-uuid", pname]]];
  }
  ctx.changed = true;
}

function findPortBridge(ctx: Ctx, port: string): { bridge: IdlRow; port: IdlRow } | undefined {
  const p = rowByName(ctx, "Port", port);
  if (!p) return undefined;
  for (const b of ctx.idl.rows("Bridge"))
    if (b.set("ports").includes(p.uuid)) return { bridge: b, port: p };
  return undefined;
}

function runOne(ctx: Ctx, args: readonly string[], flags: Set<string>): void {
  const [cmd, ...a] = args;
  switch (cmd) {
    case "init":
      if (!ctx.idl.rows("Open_vSwitch").length) {
        ctx.txn.insert("Open_vSwitch", {});
        ctx.changed = true;
      }
      return;
    case "add-br": {
      const name = a[0] ?? fail("add-br requires a bridge name");
      if (rowByName(ctx, "Bridge", name)) {
        if (flags.has("--may-exist")) return;
        fail(`cannot create a bridge named ${name} because a bridge named ${name} already exists`);
      }
      const r = root(ctx);
      const bridgeRow: Record<string, Json> = { name, ports: ["set", []] };
      const bn = ctx.txn.insert("Bridge", bridgeRow);
      ctx.pending.set(bn, bridgeRow);
      ctx.newBridges.set(name, bn);
      addPortRows(ctx, null, name, name, []);
      ctx.pending.get(ctx.newIfaces.get(name)!)!.type = "internal";
      ctx.txn.verify("Open_vSwitch", r.uuid, ["bridges"]);
      ctx.txn.mutate("Open_vSwitch", r.uuid, [
        ["bridges", "insert", ["set", [["named-uuid", bn]]]],
      ]);
      return;
    }
    case "del-br": {
      const name = a[0] ?? fail("del-br requires a bridge name");
      const b = rowByName(ctx, "Bridge", name);
      if (!b) {
        if (flags.has("--if-exists")) return;
        fail(`no bridge named ${name}`);
      }
      const r = root(ctx);
      ctx.txn.mutate("Open_vSwitch", r.uuid, [["bridges", "delete", ["set", [["uuid", b.uuid]]]]]);
      ctx.changed = true;
      return;
    }
    case "add-port": {
      const [br, port, ...extra] = a;
      if (!br || !port) fail("add-port requires a bridge and a port name");
      if (findPortBridge(ctx, port)) {
        if (flags.has("--may-exist")) return;
        fail(
          `cannot create a port named ${port} because a port named ${port} already exists on bridge ${findPortBridge(ctx, port)!.bridge.string("name")}`,
        );
      }
      const b = rowByName(ctx, "Bridge", br);
      if (!b && !ctx.newBridges.has(br)) fail(`no bridge named ${br}`);
      addPortRows(ctx, b?.uuid ?? null, br, port, extra);
      return;
    }
    case "del-port": {
      const port = a.length > 1 ? a[1]! : (a[0] ?? fail("del-port requires a port name"));
      const hit = findPortBridge(ctx, port);
      if (!hit) {
        if (flags.has("--if-exists")) return;
        fail(`no port named ${port}`);
      }
      ctx.txn.mutate("Bridge", hit.bridge.uuid, [
        ["ports", "delete", ["set", [["uuid", hit.port.uuid]]]],
      ]);
      ctx.changed = true;
      return;
    }
    case "set-fail-mode": {
      const [br, mode] = a;
      if (!br || !mode) fail("set-fail-mode requires a bridge and a mode");
      if (mode !== "standalone" && mode !== "secure")
        fail('fail-mode must be "standalone" or "secure"');
      if (!rowByName(ctx, "Bridge", br)) fail(`no bridge named ${br}`);
      setColumn(ctx, "Bridge", br, `fail_mode=${mode}`);
      return;
    }
    case "get-fail-mode": {
      const br = a[0] ?? fail("get-fail-mode requires a bridge name");
      const b = rowByName(ctx, "Bridge", br) ?? fail(`no bridge named ${br}`);
      const mode = b.string("fail_mode");
      if (mode) ctx.out.push(mode);
      return;
    }
    case "del-fail-mode": {
      const br = a[0] ?? fail("del-fail-mode requires a bridge name");
      const b = rowByName(ctx, "Bridge", br) ?? fail(`no bridge named ${br}`);
      ctx.txn.update("Bridge", b.uuid, { fail_mode: ["set", []] });
      ctx.changed = true;
      return;
    }
    case "set": {
      const [tableArg, rec, ...assigns] = a;
      if (!tableArg || !rec) fail("set requires a table and a record");
      const table = resolveTable(ctx, tableArg);
      for (const s of assigns) setColumn(ctx, table, rec, s);
      return;
    }
    case "clear": {
      const [tableArg, rec, ...cols] = a;
      if (!tableArg || !rec) fail("clear requires a table and a record");
      const table = resolveTable(ctx, tableArg);
      const r = rowByName(ctx, table, rec) ?? fail(`no row "${rec}" in table ${table}`);
      for (const c of cols) {
        const t = columnType(ctx, table, c);
        ctx.txn.update(table, r.uuid, { [c]: t.value ? ["map", []] : ["set", []] });
      }
      ctx.changed = true;
      return;
    }
    case "get": {
      const [tableArg, rec, ...cols] = a;
      if (!tableArg || !rec) fail("get requires a table and a record");
      const table = resolveTable(ctx, tableArg);
      const r =
        (table === "Open_vSwitch" ? root(ctx) : rowByName(ctx, table, rec)) ??
        fail(`no row "${rec}" in table ${table}`);
      for (const c of cols) {
        const [col, key] = c.split(":", 2) as [string, string | undefined];
        if (key !== undefined) {
          const v = r.stringMap(col).get(key);
          ctx.out.push(v === undefined ? "" : atomText(v));
          continue;
        }
        const v = r.value(col);
        if (v === undefined) ctx.out.push("[]");
        else if (Array.isArray(v)) ctx.out.push(`[${v.map(atomText).join(", ")}]`);
        else if (v instanceof Map)
          ctx.out.push(`{${[...v].map(([k, x]) => `${atomText(k)}=${atomText(x)}`).join(", ")}}`);
        else ctx.out.push(atomText(v));
      }
      return;
    }
    case "list-br":
      for (const n of ctx.idl
        .rows("Bridge")
        .map((r) => r.string("name") ?? "")
        .sort())
        ctx.out.push(n);
      return;
    case "list-ports": {
      const b = rowByName(ctx, "Bridge", a[0] ?? "") ?? fail(`no bridge named ${a[0]}`);
      const names = b
        .set("ports")
        .map((u) => ctx.idl.row("Port", String(u))?.string("name") ?? "")
        .filter((n) => n !== a[0])
        .sort();
      ctx.out.push(...names);
      return;
    }
    case "show": {
      const r = root(ctx);
      ctx.out.push(r.uuid);
      for (const bu of r.set("bridges")) {
        const b = ctx.idl.row("Bridge", String(bu));
        if (!b) continue;
        ctx.out.push(`    Bridge ${b.string("name") ?? ""}`);
        const fm = b.string("fail_mode");
        if (fm) ctx.out.push(`        fail_mode: ${fm}`);
        // In the order of the set (by uuid), as ovs-vsctl prints them.
        const ports = b
          .set("ports")
          .map((u) => ctx.idl.row("Port", String(u)))
          .filter((p): p is IdlRow => p !== undefined);
        for (const p of ports) {
          ctx.out.push(`        Port ${p.string("name") ?? ""}`);
          const tag = p.number("tag");
          if (tag !== undefined) ctx.out.push(`            tag: ${tag}`);
          const trunks = p.set("trunks");
          if (trunks.length) ctx.out.push(`            trunks: [${trunks.join(", ")}]`);
          for (const iu of p.set("interfaces")) {
            const i = ctx.idl.row("Interface", String(iu));
            if (!i) continue;
            ctx.out.push(`            Interface ${i.string("name") ?? ""}`);
            const type = i.string("type");
            if (type) ctx.out.push(`                type: ${type}`);
            const opts = [...i.stringMap("options")].sort(([a], [c]) => a.localeCompare(c));
            if (opts.length)
              ctx.out.push(
                `                options: {${opts.map(([k, v]) => `${atomText(k)}=${atomText(v)}`).join(", ")}}`,
              );
            const err = i.string("error");
            if (err) ctx.out.push(`                error: ${atomText(err)}`);
          }
        }
      }
      return;
    }
    case "br-exists":
      if (!rowByName(ctx, "Bridge", a[0] ?? "")) fail(`no bridge named ${a[0]}`);
      return;
    default:
      fail(`unknown command '${cmd}'; use --help for help`);
  }
}

/**
 * Runs one ovs-vsctl invocation. `waitForCfg` resolves once vswitchd has written
 * cur_cfg >= the given next_cfg (skipped with --no-wait or when nothing changed).
 */
export async function runVsctl(
  idl: Idl,
  schema: DatabaseSchema,
  argv: readonly string[],
  waitForCfg: (cfg: number) => Promise<void>,
): Promise<string> {
  const groups: string[][] = [[]];
  const globals = new Set<string>();
  for (const a of argv) {
    if (a === "--") groups.push([]);
    else if (a.startsWith("--") && groups[groups.length - 1]!.length === 0) {
      if (groups.length === 1) globals.add(a.split("=")[0]!);
      else groups[groups.length - 1]!.push(a);
    } else groups[groups.length - 1]!.push(a);
  }
  const ctx: Ctx = {
    idl,
    schema,
    txn: idl.txn(),
    out: [],
    newPorts: new Map(),
    newIfaces: new Map(),
    newBridges: new Map(),
    pending: new Map(),
    changed: false,
  };
  for (const g of groups) {
    const flags = new Set([...globals, ...g.filter((x) => x.startsWith("--"))]);
    const args = g.filter((x) => !x.startsWith("--"));
    if (args.length) runOne(ctx, args, flags);
  }
  if (!ctx.changed) return ctx.out.length ? `${ctx.out.join("\n")}\n` : "";
  const noWait = globals.has("--no-wait");
  const r = root(ctx);
  ctx.txn.mutate("Open_vSwitch", r.uuid, [["next_cfg", "+=", 1]]);
  const res = await ctx.txn.commit();
  if (res.status !== "success")
    fail(`transaction failed: ${JSON.stringify(res.error ?? res.result)}`);
  if (!noWait) {
    const next = idl.rows("Open_vSwitch")[0]?.number("next_cfg") ?? 0;
    await waitForCfg(next);
  }
  return ctx.out.length ? `${ctx.out.join("\n")}\n` : "";
}
