import { readdirSync, readFileSync } from "node:fs";
import { describe, expect, it } from "vitest";
import * as K from "../../packet/index.js";
import {
  BadActionError,
  BadFlowModError,
  BadMatchError,
  buildCase,
  formatActions,
  formatFlow,
  formatFlowLocal,
  formatMatch,
  parseActions,
  parseFlowMod,
  parseMatch,
  type TraceCase,
  UnsupportedActionError,
} from "../../vswitchd/index.js";

const roundTrip = (text: string) => {
  const m = parseMatch(text);
  return formatMatch(m.key, m.mask);
};

describe("the ovs-ofctl match parser and printer", () => {
  it("prints masked fields the way ovs-ofctl does", () => {
    expect(
      roundTrip(
        "tcp,tp_dst=0x50/0xfff0,tun_id=0x7/0xff,dl_dst=01:00:00:00:00:00/01:00:00:00:00:00",
      ),
    ).toBe("tcp,tun_id=0x7/0xff,dl_dst=01:00:00:00:00:00/01:00:00:00:00:00,tp_dst=0x50/0xfff0");
    expect(roundTrip("ip,nw_dst=10.0.0.0/24")).toBe("ip,nw_dst=10.0.0.0/24");
    expect(roundTrip("ip,nw_src=10.0.0.0/255.0.255.0")).toBe("ip,nw_src=10.0.0.0/255.0.255.0");
    expect(roundTrip("udp6,tp_dst=80,nw_tos=8,nw_ecn=1")).toBe("udp6,nw_tos=8,nw_ecn=1,tp_dst=80");
    expect(roundTrip("arp,nw_src=1.2.3.4")).toBe("arp,arp_spa=1.2.3.4");
    expect(roundTrip("ipv6,ipv6_src=fd00:10::/32")).toBe("ipv6,ipv6_src=fd00:10::/32");
    expect(roundTrip("ip,nw_frag=later")).toBe("ip,nw_frag=later");
    expect(roundTrip("reg3=0x5/0xff,metadata=0x20")).toBe("metadata=0x20,reg3=0x5/0xff");
  });

  it("normalises dl_vlan and dl_vlan_pcp into the VLAN TCI", () => {
    expect(roundTrip("vlan_tci=0x1005/0x1fff,dl_vlan=6")).toBe("dl_vlan=6");
    expect(roundTrip("dl_vlan=0xffff")).toBe("vlan_tci=0x0000");
    expect(roundTrip("dl_vlan=10,dl_vlan_pcp=3")).toBe("dl_vlan=10,dl_vlan_pcp=3");
  });

  it("drops a field whose prerequisites the match lacks, as OpenFlow 1.0 normalisation does", () => {
    expect(roundTrip("nw_dst=10.0.0.1")).toBe("");
    expect(roundTrip("ip,tp_dst=80")).toBe("ip");
    expect(roundTrip("icmp6,icmp_type=129")).toBe("icmp6,icmp_type=129");
  });

  it("refuses malformed values with the offending text", () => {
    expect(() => parseMatch("nw_dst=10.0.0.300")).toThrow(BadMatchError);
    expect(() => parseMatch("dl_src=50:54:00")).toThrow(/invalid Ethernet address/);
    expect(() => parseMatch("nosuchfield=1")).toThrow(/unknown field/);
    expect(() => parseMatch("ip,nw_frag=sometimes")).toThrow(/fragment type/);
  });

  it("parses in_port names through the bridge's resolver", () => {
    const m = parseMatch("in_port=eth0", (n) => (n === "eth0" ? 7 : undefined));
    expect(m.key[K.W_IN_PORT]).toBe(7);
    expect(parseMatch("in_port=LOCAL").key[K.W_IN_PORT]).toBe(0xfffe);
  });
});

describe("actions", () => {
  it("print back as ovs-ofctl prints them", () => {
    const text =
      "mod_vlan_vid:5,load:0x1->NXM_NX_REG1[0..3],move:NXM_OF_ETH_SRC[]->NXM_OF_ETH_DST[],dec_ttl,resubmit(,3),resubmit:2,note:ab.00.00.00.00.00,clone(output:2),set_tunnel:0x5,strip_vlan,mod_nw_tos:8,output:NXM_NX_REG0[],NORMAL,IN_PORT";
    expect(formatActions(parseActions(text))).toBe(text);
    expect(formatActions(parseActions("drop"))).toBe("drop");
    // Under OpenFlow 1.0 ovs-ofctl sends set_field as the old action and prints that.
    expect(formatActions(parseActions("set_field:10.0.0.1->nw_dst"))).toBe("mod_nw_dst:10.0.0.1");
    expect(formatActions(parseActions("set_field:10.0.0.1->nw_dst", undefined, true))).toBe(
      "set_field:10.0.0.1->nw_dst",
    );
    expect(formatActions(parseActions("mod_nw_ttl:9"))).toBe("load:0x9->NXM_NX_IP_TTL[]");
  });

  it("parse learn(), exit and dec_ttl with controller ids", () => {
    const [learn] = parseActions(
      "learn(table=1,priority=100,idle_timeout=60,NXM_OF_ETH_DST[]=NXM_OF_ETH_SRC[],dl_type=0x800,load:NXM_OF_IN_PORT[]->NXM_NX_REG0[0..15],output:NXM_OF_IN_PORT[])",
    );
    expect(learn?.t).toBe("learn");
    if (learn?.t !== "learn") return;
    expect([learn.table, learn.priority, learn.idleTimeout]).toEqual([1, 100, 60]);
    expect(learn.specs.map((s) => s.kind)).toEqual(["match", "match", "load", "output"]);
    expect(learn.specs[1]?.src).toBe(0x800n);
    expect(formatActions(parseActions("dec_ttl(1,2),exit"))).toBe("dec_ttl(1,2),exit");
  });

  it("refuses actions ovsim does not implement instead of ignoring them", () => {
    expect(() => parseActions("bundle(eth_src,0,hrw,ofport,members:1,2)")).toThrow(
      UnsupportedActionError,
    );
    expect(() => parseActions("group:1")).toThrow(UnsupportedActionError);
    expect(() => parseActions("foo")).toThrow(/unknown action foo/);
    expect(() => parseActions("load:0x100->NXM_NX_REG0[0..3]")).toThrow(BadActionError);
  });
});

describe("flow mods", () => {
  it("read table, priority, cookie, timeouts, importance and send_flow_rem", () => {
    const fm = parseFlowMod(
      "table=3,priority=7,cookie=0x10,idle_timeout=5,hard_timeout=9,importance=2,send_flow_rem,ip,actions=drop",
      "add",
    );
    expect([
      fm.table,
      fm.priority,
      fm.cookie,
      fm.idleTimeout,
      fm.hardTimeout,
      fm.importance,
      fm.sendFlowRem,
    ]).toEqual([3, 7, 0x10n, 5, 9, 2, true]);
    expect(fm.actions).toEqual([]);
  });

  it("refuse a cookie mask on add, as ovs-ofctl does, but accept one on delete", () => {
    expect(() => parseFlowMod("cookie=0x5/0xff,actions=drop", "add")).toThrow(
      /cannot use a cookie mask/,
    );
    expect(parseFlowMod("cookie=0x5/0xff", "delete").cookieMask).toBe(0xffn);
    expect(() => parseFlowMod("ip", "add")).toThrow(BadFlowModError);
  });

  it("refuse a set_field whose prerequisites the match does not guarantee", () => {
    expect(() => parseFlowMod("in_port=1,actions=mod_nw_ecn:2", "add")).toThrow(
      /lacks correct prerequisites/,
    );
    expect(parseFlowMod("ip,actions=mod_nw_ecn:2", "add").actions).toHaveLength(1);
    expect(parseFlowMod("in_port=1,actions=mod_nw_src:1.2.3.4", "add").actions).toHaveLength(1);
  });
});

describe("printing packets' flows", () => {
  it("agrees with packet/'s flow_format on every traced flow of the recorded cases", () => {
    const dir = new URL("./cases/", import.meta.url);
    let n = 0;
    for (const f of readdirSync(dir).filter((x) => x.startsWith("recorded-"))) {
      const cases = JSON.parse(readFileSync(new URL(f, dir), "utf8")) as TraceCase[];
      for (const c of cases.slice(0, 40)) {
        const r = buildCase(c).xlateText(c.packet.bridge, c.packet.flow);
        for (const k of [r.flow, r.finalFlow]) {
          expect(formatFlowLocal(k)).toBe(formatFlow(k));
          n++;
        }
      }
    }
    expect(n).toBeGreaterThan(500);
  });
});
