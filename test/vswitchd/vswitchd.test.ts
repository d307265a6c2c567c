import { readFileSync } from "node:fs";
import { describe, expect, it } from "vitest";
import { Dpif } from "../../datapath/index.js";
import { Database, Idl } from "../../ovsdb/index.js";
import { Vswitchd } from "../../vswitchd/index.js";

const schema = JSON.parse(
  readFileSync(new URL("../../ovsdb/schemas/vswitch.ovsschema", import.meta.url), "utf8"),
);

/** A vswitchd on an in-memory database, driven by raw RFC 7047 transactions. */
async function daemon() {
  const db = Database.inMemory(schema);
  const dpif = new Dpif({ clock: { nowNs: () => 0 }, name: "ovs-netdev" });
  const sink = { transmit: () => {} };
  const devices = new Map(
    ["eth1", "eth2"].map((n, i) => [
      n,
      { port: sink, mac: `aa:00:00:00:00:0${i + 1}`, carrier: i === 0, bind: () => {} },
    ]),
  );
  const vs = new Vswitchd({
    idl: (o) => Idl.forDatabase(db, o),
    schema: db.schema,
    dpif,
    clock: { nowNs: () => 0 },
    timers: { schedule: () => 1, cancel: () => true },
    netdevs: { open: (name) => devices.get(name) },
  });
  await db.transact([{ op: "insert", table: "Open_vSwitch", row: { next_cfg: 1 } }]);
  await vs.start();
  const rows = (t: string) =>
    [...db.rows(t)].map((r) => db.rowToJson(t, r) as Record<string, unknown>);
  const txn = async (ops: unknown[]) => {
    await db.transact(ops);
    await vs.settle();
  };
  return { db, dpif, vs, rows, txn };
}

const addBridge = (
  name: string,
  failMode: string | undefined,
  ports: { name: string; type?: string; ofport_request?: number }[],
) => [
  ...ports.map((p, i) => ({
    op: "insert",
    table: "Interface",
    "uuid-name": `i${i}`,
    row: {
      name: p.name,
      type: p.type ?? "",
      ...(p.ofport_request ? { ofport_request: p.ofport_request } : {}),
    },
  })),
  ...ports.map((p, i) => ({
    op: "insert",
    table: "Port",
    "uuid-name": `p${i}`,
    row: { name: p.name, interfaces: ["named-uuid", `i${i}`] },
  })),
  {
    op: "insert",
    table: "Bridge",
    "uuid-name": "b",
    row: {
      name,
      ...(failMode ? { fail_mode: failMode } : {}),
      ports: ["set", ports.map((_, i) => ["named-uuid", `p${i}`])],
    },
  },
  {
    op: "mutate",
    table: "Open_vSwitch",
    where: [],
    mutations: [
      ["bridges", "insert", ["set", [["named-uuid", "b"]]]],
      ["next_cfg", "+=", 1],
    ],
  },
];

describe("vswitchd configured only through OVSDB", () => {
  it("writes cur_cfg equal to next_cfg once it has applied a change", async () => {
    const { rows, txn, vs } = await daemon();
    expect(rows("Open_vSwitch")[0]!.cur_cfg).toBe(1);
    await txn(addBridge("br0", undefined, [{ name: "br0", type: "internal" }]));
    expect(rows("Open_vSwitch")[0]!.cur_cfg).toBe(2);
    expect(vs.appliedCfg).toBe(2);
    await expect(vs.waitForCfg(2)).resolves.toBeUndefined();
  });

  it("creates standalone bridges with the NORMAL flow and secure ones empty", async () => {
    const { vs, txn } = await daemon();
    await txn(addBridge("br0", undefined, [{ name: "br0", type: "internal" }]));
    await txn(addBridge("br1", "secure", [{ name: "br1", type: "internal" }]));
    expect(vs.ofctl("dump-flows br0")).toContain("priority=0 actions=NORMAL");
    expect(vs.ofctl("dump-flows br1")).toBe("NXST_FLOW reply (xid=0x4):\n");
  });

  it("assigns ofports (honouring ofport_request) and datapath ports, and writes them back", async () => {
    const { vs, txn, rows } = await daemon();
    await txn(
      addBridge("br0", undefined, [
        { name: "br0", type: "internal" },
        { name: "eth1", ofport_request: 10 },
        { name: "eth2" },
      ]),
    );
    const byName = new Map(rows("Interface").map((r) => [r.name, r]));
    expect(byName.get("eth1")!.ofport).toBe(10);
    expect(byName.get("eth2")!.ofport).toBe(1);
    expect(byName.get("br0")!.ofport).toBe(65534);
    expect(byName.get("eth1")!.mac_in_use).toBe("aa:00:00:00:00:01");
    expect(byName.get("eth1")!.link_state).toBe("up");
    expect(byName.get("eth2")!.link_state).toBe("down");
    expect(rows("Bridge")[0]!.datapath_id).toMatch(/^[0-9a-f]{16}$/);
    expect(vs.appctl("dpif/show")).toMatch(/\n {4}eth1 10\/\d+: \(system\)\n/);
  });

  it("removes a bridge and its datapath ports when the row goes", async () => {
    const { vs, txn, dpif } = await daemon();
    await txn(addBridge("br0", undefined, [{ name: "br0", type: "internal" }, { name: "eth1" }]));
    expect(dpif.listPorts().map((p) => p.name)).toContain("eth1");
    await txn([
      { op: "update", table: "Open_vSwitch", where: [], row: { bridges: ["set", []] } },
      { op: "mutate", table: "Open_vSwitch", where: [], mutations: [["next_cfg", "+=", 1]] },
    ]);
    expect(dpif.listPorts().map((p) => p.name)).toEqual(["ovs-netdev"]);
    expect(() => vs.ofctl("dump-flows br0")).toThrow(/br0/);
  });

  it("applies Bridge other_config mac-aging-time and mac-table-size", async () => {
    const { vs, txn } = await daemon();
    const ops = addBridge("br0", undefined, [{ name: "br0", type: "internal" }]);
    (ops[2] as { row: Record<string, unknown> }).row.other_config = [
      "map",
      [
        ["mac-aging-time", "42"],
        ["mac-table-size", "7"],
      ],
    ];
    await txn(ops);
    const b = vs.of.mustBridge("br0");
    expect(b.mac.agingS).toBe(42);
    expect(b.mac.maxEntries).toBe(7);
  });
});
