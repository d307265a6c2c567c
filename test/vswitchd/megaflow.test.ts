import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { Ofproto, parseMatch, xlate } from "../../vswitchd/index.js";

const MATCHES = [
  "",
  "ip",
  "tcp",
  "udp",
  "arp",
  "in_port=1",
  "in_port=2,ip",
  "ip,nw_dst=10.0.0.0/24",
  "ip,nw_dst=10.0.1.0/24",
  "ip,nw_src=10.1.0.0/16",
  "tcp,tp_dst=80",
  "udp,tp_dst=53",
  "tcp,tp_dst=0x1000/0xf000",
  "dl_dst=50:54:00:00:00:01",
  "dl_vlan=10",
  "arp,arp_op=1",
  "reg0=1",
  "metadata=0x5/0xff",
];
const ACTIONS = [
  "output:1",
  "output:2",
  "output:3",
  "NORMAL",
  "drop",
  "FLOOD",
  "IN_PORT",
  "mod_dl_src:02:00:00:00:00:01,output:2",
  "mod_nw_dst:10.9.9.9,output:3",
  "mod_tp_dst:8080,output:1",
  "dec_ttl,output:2",
  "mod_vlan_vid:20,output:3",
  "strip_vlan,output:1",
  "load:0x1->NXM_NX_REG0[],resubmit(,1)",
  "write_metadata:0x5/0xff,resubmit(,1)",
  "resubmit(,1)",
  "mod_nw_tos:8,output:4,output:1",
];
const PACKETS = fc.record({
  inPort: fc.integer({ min: 1, max: 4 }),
  proto: fc.constantFrom("tcp", "udp", "arp", "icmp"),
  dst: fc.constantFrom("50:54:00:00:00:01", "50:54:00:00:00:02", "ff:ff:ff:ff:ff:ff"),
  nwDst: fc.constantFrom("10.0.0.5", "10.0.1.7", "10.1.2.3", "192.168.0.1"),
  nwSrc: fc.constantFrom("10.1.0.9", "10.2.0.1", "10.0.0.1"),
  tpDst: fc.constantFrom(53, 80, 4096, 8080, 9999),
  ttl: fc.constantFrom(1, 2, 64),
  vlan: fc.constantFrom(undefined, 10, 20),
});
type Pkt = typeof PACKETS extends fc.Arbitrary<infer T> ? T : never;

function flowText(p: Pkt): string {
  const v = p.vlan === undefined ? "" : `,dl_vlan=${p.vlan}`;
  const base = `in_port=${p.inPort},${p.proto}${v},dl_src=50:54:00:00:00:0${p.inPort},dl_dst=${p.dst}`;
  if (p.proto === "arp") return `${base},arp_op=1,arp_spa=${p.nwSrc},arp_tpa=${p.nwDst}`;
  const l4 = p.proto === "icmp" ? "icmp_type=8" : `tp_src=1000,tp_dst=${p.tpDst}`;
  return `${base},nw_src=${p.nwSrc},nw_dst=${p.nwDst},nw_ttl=${p.ttl},${l4}`;
}

const RULES = fc.array(
  fc.record({
    table: fc.constantFrom(0, 0, 1),
    priority: fc.integer({ min: 0, max: 50 }),
    match: fc.constantFrom(...MATCHES),
    actions: fc.constantFrom(...ACTIONS),
  }),
  { maxLength: 14 },
);

function makeSwitch(
  rules: Array<{ table: number; priority: number; match: string; actions: string }>,
): Ofproto {
  const of = new Ofproto();
  of.addBridge("br0");
  for (let i = 1; i <= 4; i++) {
    of.addPort("br0", { name: `p${i}`, ofport: i, type: "dummy", ...(i === 3 ? { tag: 10 } : {}) });
  }
  const b = of.bridge("br0")!;
  for (const r of rules) {
    b.addFlow(
      `table=${r.table},priority=${r.priority}${r.match ? `,${r.match}` : ""},actions=${r.actions}`,
      0,
    );
  }
  return of;
}

describe("megaflows", () => {
  it("are sound: any packet matching a megaflow translates to the same datapath actions", () => {
    fc.assert(
      fc.property(
        RULES,
        PACKETS,
        fc.array(PACKETS, { minLength: 1, maxLength: 8 }),
        (rules, p, others) => {
          const of = makeSwitch(rules);
          const b = of.bridge("br0")!;
          const first = xlate(of, b, parseMatch(flowText(p)).key);
          for (const o of others) {
            const q = parseMatch(flowText(o)).key;
            for (let i = 0; i < q.length; i++) {
              q[i] = ((q[i]! & ~first.mask[i]!) | (first.flow[i]! & first.mask[i]!)) >>> 0;
            }
            expect(xlate(of, b, q).actions).toBe(first.actions);
          }
        },
      ),
      { numRuns: 400 },
    );
  });

  it("always carry recirc_id, in_port and the ethertype, and nw_frag for IP", () => {
    const of = makeSwitch([]);
    const r = of.xlateText("br0", "in_port=1,udp,nw_src=10.0.0.1,tp_dst=53");
    expect(r.megaflow).toBe("recirc_id=0,eth,udp,in_port=1,nw_frag=no".replace("udp", "ip"));
    expect(r.actions).toBe("drop");
  });
});
