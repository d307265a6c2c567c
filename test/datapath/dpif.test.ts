import fc from "fast-check";
import { describe, expect, it } from "vitest";
import {
  DATAPATH_ERROR_CODES,
  type DatapathError,
  dpctlAddFlow,
  formatDpctlShow,
  formatDumpFlows,
  formatPmdStatsShow,
  PacketBatch,
  parseOdpKey,
  type Upcall,
} from "../../datapath/index.js";
import { buildFrame, W_IN_PORT, W_RECIRC_ID } from "../../packet/index.js";
import { ip4, MAC_A, MAC_B, mac, makeDpif, tcp6Frame, tcpFrame, udpFrame } from "./helpers.js";

const IPV4_TO_B = "in_port(1),eth(),eth_type(0x0800),ipv4(dst=10.0.0.2,frag=no)";

function put(dp: ReturnType<typeof makeDpif>["dp"], keyText: string, actions: string) {
  const { key, mask } = parseOdpKey(keyText);
  return dp.flowPut(key, mask, actions);
}

describe("Dpif receive path", () => {
  it("queues a miss upcall carrying the packet and its key, then forwards once the megaflow is installed", () => {
    const { dp, ports } = makeDpif();
    const frame = tcpFrame();
    dp.receive(1, frame, 0, frame.length);
    expect(dp.stats().missed).toBe(1);
    const up = dp.recvUpcall() as Upcall;
    expect(up.type).toBe("miss");
    expect(up.inPort).toBe(1);
    expect(up.key[W_IN_PORT]).toBe(1);
    expect(Array.from(up.packet)).toEqual(Array.from(frame));
    put(dp, IPV4_TO_B, "2");
    dp.receive(1, frame, 0, frame.length);
    expect(ports[2].frames).toHaveLength(1);
    expect(Array.from(ports[2].frames[0])).toEqual(Array.from(frame));
    const st = dp.stats();
    expect(st.hit).toBe(1);
    expect(st.flows).toBe(1);
    expect(st.masks).toBe(1);
  });

  it("serves the second batch of a flow from the EMC (the first batch's lookups all precede insertion, as in OVS)", () => {
    const { dp, ports } = makeDpif();
    put(dp, IPV4_TO_B, "2");
    const batch = new PacketBatch();
    const frame = tcpFrame();
    for (let i = 0; i < 32; i++) batch.add(frame, 0, frame.length);
    dp.receiveBatch(1, batch);
    dp.receiveBatch(1, batch);
    const st = dp.stats();
    expect(st.hit).toBe(64);
    expect(st.megaflowHits).toBe(32);
    expect(st.emcHits).toBe(32);
    expect(ports[2].frames).toHaveLength(64);
  });

  it("gives the same outputs with and without the EMC for random traffic", () => {
    fc.assert(
      fc.property(
        fc.array(
          fc.record({
            dst: fc.integer({ min: 1, max: 6 }),
            dport: fc.integer({ min: 79, max: 82 }),
          }),
          {
            minLength: 1,
            maxLength: 200,
          },
        ),
        (pkts) => {
          const outs: string[][] = [];
          for (const inv of [0, 1]) {
            const { dp, ports } = makeDpif(3, { emcInsertInvProb: inv });
            put(dp, "in_port(1),eth(),eth_type(0x0800),ipv4(dst=10.0.0.1,frag=no)", "2");
            put(
              dp,
              "in_port(1),eth(),eth_type(0x0800),ipv4(dst=10.0.0.2,proto=6,frag=no),tcp(dst=80)",
              "3",
            );
            put(
              dp,
              "in_port(1),eth(),eth_type(0x0800),ipv4(dst=10.0.0.2,proto=6,frag=no),tcp(dst=81)",
              "2,3",
            );
            put(
              dp,
              "in_port(1),eth(),eth_type(0x0800),ipv4(dst=10.0.0.3/255.255.255.254,frag=no)",
              "drop",
            );
            for (const p of pkts) {
              const f = tcpFrame({ dst: `10.0.0.${p.dst}`, dport: p.dport });
              dp.receive(1, f, 0, f.length);
            }
            outs.push([2, 3].map((i) => ports[i].frames.map((f) => f[33]).join(",")));
            outs.push([String(dp.stats().hit), String(dp.stats().missed)]);
          }
          expect(outs[0]).toEqual(outs[2]);
          expect(outs[1]).toEqual(outs[3]);
        },
      ),
      { numRuns: 60 },
    );
  });

  it("counts misses beyond the upcall queue's depth as lost", () => {
    const { dp } = makeDpif(1, { upcallQueueDepth: 4 });
    const frame = udpFrame();
    for (let i = 0; i < 10; i++) dp.receive(1, frame, 0, frame.length);
    const st = dp.stats();
    expect(st.missed).toBe(10);
    expect(st.lost).toBe(6);
    expect(dp.pendingUpcalls).toBe(4);
  });

  it("delivers queued upcalls to the registered handler and signals the first one", () => {
    let signals = 0;
    const { dp } = makeDpif(1, { onUpcallQueued: () => signals++ });
    const got: Upcall[] = [];
    dp.setUpcallHandler((u) => got.push(u));
    const frame = udpFrame();
    dp.receive(1, frame, 0, frame.length);
    dp.receive(1, frame, 0, frame.length);
    expect(signals).toBe(1);
    expect(dp.handleUpcalls(1)).toBe(1);
    expect(dp.handleUpcalls()).toBe(1);
    expect(got).toHaveLength(2);
    expect(dp.pendingUpcalls).toBe(0);
  });

  it("passes every truncation of real frames through extraction and lookup without throwing, and counts them", () => {
    const { dp } = makeDpif();
    put(
      dp,
      "in_port(1),eth(),eth_type(0x0800),ipv4(frag=no)",
      "set(ipv4(ttl=1)),set(tcp(dst=1)),push_vlan(vid=5,pcp=0),2",
    );
    const vlanFrame = buildFrame({
      eth: { src: mac(MAC_A), dst: mac(MAC_B) },
      vlans: [{ pcp: 0, dei: 0, vid: 7 }],
      ipv4: { src: ip4("1.1.1.1"), dst: ip4("2.2.2.2") },
      udp: { srcPort: 1, dstPort: 2 },
    });
    const frames = [tcpFrame(), udpFrame(), tcp6Frame(), vlanFrame];
    let n = 0;
    for (const f of frames) {
      for (let len = 0; len <= f.length; len++) {
        dp.receive(1, f, 0, len);
        // A truncated copy in its own buffer, so reads past the end are out of bounds.
        const cut = f.slice(0, len);
        dp.receive(1, cut, 0, len);
        n += 2;
      }
    }
    const st = dp.stats();
    expect(st.rxPackets).toBe(n);
    expect(st.hit + st.missed + st.rxInvalid).toBe(n);
    expect(st.rxInvalid).toBe(frames.length * 14 * 2);
    expect(dp.getPort(1)!.rxPackets).toBe(n);
  });
});

describe("Dpif port contract", () => {
  it("refuses a port that delivers back into the same datapath synchronously", () => {
    const { dp } = makeDpif(1);
    const frame = tcpFrame();
    dp.addPort({
      name: "loop",
      type: "netdev",
      portNo: 2,
      port: { transmit: (f, o, l) => dp.receive(1, f, o, l) },
    });
    put(dp, IPV4_TO_B, "2");
    expect(() => dp.receive(1, frame, 0, frame.length)).toThrow(
      expect.objectContaining({ code: DATAPATH_ERROR_CODES.REENTRANT_RECEIVE }),
    );
    // The datapath is usable again afterwards.
    dp.delPort(2);
    dp.receive(1, frame, 0, frame.length);
    expect(dp.stats().hit).toBe(2);
  });

  it("rejects duplicate port numbers and names, and unknown vport types", () => {
    const { dp } = makeDpif(1);
    expect(() => dp.addPort({ name: "x", type: "netdev", portNo: 1 })).toThrow(
      expect.objectContaining({ code: DATAPATH_ERROR_CODES.PORT_EXISTS }),
    );
    expect(() => dp.addPort({ name: "p1", type: "netdev" })).toThrow(
      expect.objectContaining({ code: DATAPATH_ERROR_CODES.PORT_EXISTS }),
    );
    expect(() => dp.addPort({ name: "v", type: "vxlan" })).toThrow(/registerVportType/);
    expect(dp.addPort({ name: "br0", type: "internal" })).toBe(2);
    expect(dp.listPorts().map((p) => `${p.portNo}:${p.name}:${p.type}`)).toEqual([
      "1:p1:netdev",
      "2:br0:internal",
    ]);
  });
});

describe("Dpif flow table", () => {
  it("modifies an existing megaflow's actions on flowPut and refuses a create-only put", () => {
    const { dp, ports } = makeDpif();
    const first = put(dp, IPV4_TO_B, "2");
    const again = put(dp, IPV4_TO_B, "3");
    expect(again).toEqual({ flowId: first.flowId, created: false });
    const frame = tcpFrame();
    dp.receive(1, frame, 0, frame.length);
    expect(ports[3].frames).toHaveLength(1);
    expect(() => dpctlAddFlow(dp, IPV4_TO_B, "2")).toThrow(
      expect.objectContaining({ code: DATAPATH_ERROR_CODES.FLOW_EXISTS }),
    );
    const { key, mask } = parseOdpKey("in_port(2),eth(),eth_type(0x0806)");
    try {
      dp.flowPut(key, mask, "1", { create: false });
      expect.unreachable();
    } catch (e) {
      expect((e as DatapathError).code).toBe(DATAPATH_ERROR_CODES.FLOW_NOT_FOUND);
    }
  });

  it("rejects unknown and malformed actions at flowPut, before any packet", () => {
    const { dp } = makeDpif();
    const { key, mask } = parseOdpKey(IPV4_TO_B);
    for (const bad of [
      "foo(1)",
      "2,drop",
      "set(ipv4(ttl=300))",
      "push_vlan(vid=5000)",
      "",
      "recirc(x)",
      "ct(commit)",
    ]) {
      expect(() => dp.flowPut(key, mask, bad), bad).toThrow(
        expect.objectContaining({ code: DATAPATH_ERROR_CODES.BAD_ACTION }),
      );
    }
    expect(dp.stats().flows).toBe(0);
  });

  it("never serves a deleted megaflow from the EMC", () => {
    const { dp, ports } = makeDpif();
    put(dp, IPV4_TO_B, "2");
    const frame = tcpFrame();
    dp.receive(1, frame, 0, frame.length);
    const { key, mask } = parseOdpKey(IPV4_TO_B);
    expect(dp.flowDel({ key, mask })?.packets).toBe(1);
    put(dp, "in_port(1),eth(),eth_type(0x0800),ipv4(src=10.0.0.1,frag=no)", "3");
    dp.receive(1, frame, 0, frame.length);
    expect(ports[2].frames).toHaveLength(1);
    expect(ports[3].frames).toHaveLength(1);
    expect(dp.stats().masks).toBe(1);
  });

  it("hands out the installed mask, shared by megaflows with that mask", () => {
    const { dp } = makeDpif();
    const { key, mask } = parseOdpKey(IPV4_TO_B);
    const a = dp.flowPut(key, mask, "2").flowId;
    key[W_IN_PORT] = 3;
    const b = dp.flowPut(key, mask, "2").flowId;
    expect(Array.from(dp.flowMask(a)!)).toEqual(Array.from(mask));
    expect(dp.flowMask(b)).toBe(dp.flowMask(a));
    mask[W_IN_PORT] = 0; // the caller's array is not the one installed
    expect(dp.flowMask(a)![W_IN_PORT]).not.toBe(0);
    dp.flowDel({ key, mask: dp.flowMask(b)! });
    expect(dp.flowMask(b)).toBeNull();
  });

  it("finds, dumps and deletes megaflows by ufid", () => {
    const { dp } = makeDpif();
    const { key, mask } = parseOdpKey(IPV4_TO_B);
    const ufid = "98af66b4-0c08-4d50-b9c5-9fcdcdb98401";
    dp.flowPut(key, mask, "2", { ufid });
    expect(dp.flowGet({ ufid })?.actions.list).toEqual([{ type: "output", port: 2 }]);
    expect(formatDumpFlows(dp, { ufid: true })).toMatch(
      /^ufid:98af66b4-0c08-4d50-b9c5-9fcdcdb98401, /,
    );
    expect(dp.flowDel({ ufid })).not.toBeNull();
    expect([...dp.flowDump()]).toHaveLength(0);
  });

  it("keeps the ufid index right when many ufids share their first word", () => {
    const { dp } = makeDpif();
    const ufidOf = (i: number) => Uint32Array.of(0xabcd, i, i * 7, 1);
    const { key, mask } = parseOdpKey(IPV4_TO_B);
    for (let i = 0; i < 200; i++) {
      key[W_IN_PORT] = i + 1;
      dp.flowPut(key, mask, "2", { ufid: ufidOf(i) });
    }
    for (let i = 0; i < 200; i += 2) expect(dp.flowDel({ ufid: ufidOf(i) })).not.toBeNull();
    for (let i = 0; i < 200; i++) {
      const got = dp.flowGet({ ufid: ufidOf(i) });
      if (i % 2 === 0) expect(got).toBeNull();
      else expect(got?.key[W_IN_PORT]).toBe(i + 1);
    }
    expect(dp.stats().flows).toBe(100);
  });

  it("asserts that megaflows never overlap when checkOverlap is on", () => {
    const { dp } = makeDpif(3, { checkOverlap: true });
    put(dp, IPV4_TO_B, "2");
    expect(() =>
      put(dp, "in_port(1),eth(),eth_type(0x0800),ipv4(src=10.0.0.1,frag=no)", "3"),
    ).toThrow(expect.objectContaining({ code: DATAPATH_ERROR_CODES.FLOW_OVERLAP }));
    expect(() =>
      put(dp, "in_port(2),eth(),eth_type(0x0800),ipv4(src=10.0.0.1,frag=no)", "3"),
    ).not.toThrow();
  });

  it("prints packets, bytes, used time from the datapath clock and TCP flags in dump-flows", () => {
    const { dp, clock } = makeDpif();
    put(dp, IPV4_TO_B, "2");
    const frame = tcpFrame({ flags: 0x018 });
    clock.ns = 1_000_000_000;
    dp.receive(1, frame, 0, frame.length);
    dp.receive(1, frame, 0, frame.length);
    clock.ns = 1_512_000_000;
    expect(formatDumpFlows(dp)).toBe(
      `recirc_id(0),in_port(1),packet_type(ns=0,id=0),eth(),eth_type(0x0800),ipv4(dst=10.0.0.2,frag=no), packets:2, bytes:${2 * frame.length}, used:0.512s, flags:P., actions:2\n`,
    );
  });
});

describe("Dpif recirculation and upcall actions", () => {
  it("looks a packet up again with its new recirc_id", () => {
    const { dp, ports } = makeDpif();
    put(dp, IPV4_TO_B, "recirc(5)");
    put(dp, "recirc_id(5),in_port(1),eth(),eth_type(0x0800),ipv4(frag=no)", "3");
    const frame = tcpFrame();
    dp.receive(1, frame, 0, frame.length);
    expect(ports[3].frames).toHaveLength(1);
    expect(dp.stats().hit).toBe(2);
  });

  it("makes a recirculated miss an upcall whose key carries the recirc_id", () => {
    const { dp } = makeDpif();
    put(dp, IPV4_TO_B, "recirc(7)");
    const frame = tcpFrame();
    dp.receive(1, frame, 0, frame.length);
    const up = dp.recvUpcall()!;
    expect(up.type).toBe("miss");
    expect(up.key[W_RECIRC_ID]).toBe(7);
  });

  it("turns userspace(...) into an action upcall with its userdata", () => {
    const { dp } = makeDpif();
    put(dp, IPV4_TO_B, "userspace(pid=3,userdata(01020304)),2");
    const frame = tcpFrame();
    dp.receive(1, frame, 0, frame.length);
    const up = dp.recvUpcall()!;
    expect(up.type).toBe("action");
    expect(up.pid).toBe(3);
    expect(Array.from(up.userdata!)).toEqual([1, 2, 3, 4, 0, 0, 0, 0]);
  });

  it("executes a held upcall's packet with the metadata of its key", () => {
    const { dp, ports } = makeDpif();
    put(dp, IPV4_TO_B, "recirc(9)");
    const frame = tcpFrame();
    dp.receive(1, frame, 0, frame.length);
    const up = dp.recvUpcall()!;
    expect(up.key[W_RECIRC_ID]).toBe(9);
    put(dp, "recirc_id(9),in_port(1),eth(),eth_type(0x0800),ipv4(frag=no)", "3");
    dp.execute(up.packet, 0, up.packet.length, "recirc(10)", up.key);
    expect(dp.recvUpcall()?.key[W_RECIRC_ID]).toBe(10);
    dp.execute(up.packet, 0, up.packet.length, "2", up.key);
    expect(ports[2].frames).toHaveLength(1);
  });

  it("executes actions on a held packet with execute()", () => {
    const { dp, ports } = makeDpif();
    const frame = udpFrame();
    dp.execute(frame, 0, frame.length, "2,3", 1);
    expect(ports[2].frames).toHaveLength(1);
    expect(ports[3].frames).toHaveLength(1);
  });
});

describe("Dpif statistics text", () => {
  it("prints dpctl/show and pmd-stats-show counters in OVS's layout", () => {
    const { dp } = makeDpif(2, { upcallQueueDepth: 1 });
    put(dp, IPV4_TO_B, "recirc(1)");
    put(dp, "recirc_id(1),in_port(1),eth(),eth_type(0x0800),ipv4(frag=no)", "2");
    const hit = tcpFrame();
    const miss = udpFrame({ dst: "10.9.9.9" });
    dp.receive(1, hit, 0, hit.length);
    dp.receive(1, hit, 0, hit.length);
    dp.receive(1, miss, 0, miss.length);
    dp.receive(1, miss, 0, miss.length);
    expect(formatDpctlShow(dp)).toBe(
      "netdev@ovs-netdev:\n  lookups: hit:4 missed:2 lost:1\n  flows: 2\n  port 1: p1\n  port 2: p2\n",
    );
    expect(formatPmdStatsShow(dp)).toBe(
      [
        "main thread:",
        "  packets received: 4",
        "  packet recirculations: 2",
        "  avg. datapath passes per packet: 1.50",
        "  phwol hits: 0",
        "  mfex opt hits: 0",
        "  simple match hits: 0",
        "  emc hits: 2",
        "  smc hits: 0",
        "  megaflow hits: 2",
        "  avg. subtable lookups per megaflow hit: 1.50",
        "  miss with success upcall: 1",
        "  miss with failed upcall: 1",
        "  avg. packets per output batch: 1.00",
        "",
      ].join("\n"),
    );
  });
});
