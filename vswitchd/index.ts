/**
 * vswitchd/ — the slow path: OpenFlow tables, ovs-ofctl flow syntax, translation of
 * flows into datapath actions and megaflows, MAC learning, and ofproto/trace.
 *
 * Overview
 * A switch (`Ofproto`) holds bridges that share one datapath. Each `Bridge` has ports
 * (with Port.tag/trunks/vlan_mode), 255 OpenFlow tables (each a `Classifier`) and a
 * MAC learning table. `xlate()` runs a flow key through a bridge's pipeline and
 * returns OVS-syntax datapath actions and the megaflow mask; `Ofproto.trace()` prints
 * it the way `ovs-appctl ofproto/trace` does; `runCase()` answers a reference trace
 * case.
 *
 * Glossary
 * - "megaflow": a datapath flow with a mask; its mask is the "wildcards" (wc) that
 *   translation accumulated: every bit any lookup or action depended on.
 * - "commit": emitting the datapath set/push/pop actions that bring the packet in
 *   line with the working flow, just before an output needs it.
 * - "subtable", "staged lookup", "prefix trie": see classifier.ts.
 * - "ofport" is an OpenFlow port number; "dp port" a datapath port number.
 *
 * Invariants
 * - A megaflow never matches less than the pipeline looked at: executing the
 *   megaflow's actions on any packet that matches it equals translating that packet
 *   (test/vswitchd/megaflow.test.ts proves it on random rule sets).
 * - Translation never mutates the caller's flow; side effects (MAC learning) happen
 *   only with `generate`.
 * - Unsupported OpenFlow actions are refused when the flow is added.
 *
 * Typical use
 *   const of = new Ofproto({ tnlPushPop: true, nowNs: clock.nowNs });
 *   of.addBridge("br0"); of.addPort("br0", { name: "p1", ofport: 1, type: "dummy" });
 *   of.bridge("br0")!.addFlow("priority=10,ip,nw_dst=10.0.0.0/24,actions=output:1", now);
 *   const r = xlate(of, of.bridge("br0")!, flowKey);   // upcall: r.actions, r.mask
 *   of.trace("br0", "in_port=1,tcp,nw_dst=10.0.0.5");    // ofproto/trace text
 *
 * Public surface
 * - Ofproto: bridges sharing a datapath, dp port numbers (`dpPorts`, `portByDp`,
 *   `tunnelReceivePort`), route table and neighbour cache, `appctl([...])`
 *   (ofproto/trace, fdb/add|flush|show, ovs/route/add|del|show, tnl/neigh/set|show,
 *   netdev-dummy/ip4addr), `trace()`.
 * - Bridge: ports (tag, trunks, vlan_mode), `addFlow`, `delFlows`, `modFlows`,
 *   `dumpFlows`, `expire`; `creditRuleStats` for datapath stats.
 * - xlate(): datapath actions as OVS text (what the datapath parses at flowPut) and
 *   the megaflow mask (a flow-key layout mask; VLAN presence is always in it).
 * - Classifier, match/flow-mod/action parsers and printers, runCase/buildCase
 *   (reference trace cases), and the error classes of errors.ts.
 */
export * from "./actions.js";
export * from "./bridge.js";
export * from "./classifier.js";
export * from "./errors.js";
export * from "./fields.js";
export * from "./flow-mod.js";
export * from "./mac-learning.js";
export * from "./match-format.js";
export * from "./match-parse.js";
export * from "./ofproto.js";
export * from "./trace-case.js";
export * from "./xlate.js";
