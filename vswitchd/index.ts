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
 * The running switch sits on top. `Vswitchd` (vswitchd.ts) takes its configuration
 * only from the host's OVSDB through the IDL, as bridge_reconfigure() does, and
 * writes back what OVS writes back (Interface.ofport, mac_in_use, link_state, mtu,
 * statistics, error; Bridge.datapath_id; Open_vSwitch.cur_cfg after each next_cfg).
 * `OfprotoDpif` (ofproto-dpif.ts) binds the Ofproto to a datapath/ Dpif: upcalls are
 * translated, their megaflow installed and the packet executed, at a simulated cost
 * per upcall; a revalidator pushes datapath stats back to OpenFlow rules, evicts
 * megaflows idle for max-idle, expires idle/hard timeouts and re-translates every
 * megaflow after flow or port changes. MAC-table changes are revalidated by tags: each
 * translation reports the (MAC, VLAN) entries NORMAL looked up (XlateResult.macTags),
 * ofproto-dpif indexes ukeys by them, and MacLearning logs which entries changed, so a
 * learn re-translates only the megaflows that depended on that entry. `COMMANDS` (commands.ts) is the one
 * table of ovs-ofctl / ovs-appctl verbs, text in and text out; ofp-version.ts holds
 * the OpenFlow version negotiation (Bridge.protocols vs `-O`) and the per-version
 * texts those verbs answer with. Bridge.flood_vlans reaches MacLearning.floodVlans:
 * NORMAL neither learns nor looks up MACs on those VLANs, so it floods there.
 *
 * Glossary
 * - "megaflow": a datapath flow with a mask; its mask is the "wildcards" (wc) that
 *   translation accumulated: every bit any lookup or action depended on.
 * - "commit": emitting the datapath set/push/pop actions that bring the packet in
 *   line with the working flow, just before an output needs it.
 * - "subtable", "staged lookup", "prefix trie": see classifier.ts.
 * - "ofport" is an OpenFlow port number; "dp port" a datapath port number.
 * - "ukey": what ofproto-dpif remembers of an installed megaflow (key, mask, actions,
 *   the rules it came from, stats already pushed), OVS's udpif_key.
 * - "revalidation": re-translating installed megaflows and fixing or deleting those
 *   whose translation changed; "max-idle": how long an unused megaflow may stay
 *   (other_config:max-idle, 10 s default).
 * - "next_cfg"/"cur_cfg": the configuration sequence a client bumps and vswitchd
 *   acknowledges once applied (what `ovs-vsctl` without --no-wait waits for).
 *
 * Invariants
 * - A megaflow never matches less than the pipeline looked at: executing the
 *   megaflow's actions on any packet that matches it equals translating that packet
 *   (test/vswitchd/megaflow.test.ts proves it on random rule sets).
 * - Translation never mutates the caller's flow; side effects (MAC learning) happen
 *   only with `generate`.
 * - Unsupported OpenFlow actions are refused when the flow is added.
 * - After a revalidation pass every installed megaflow's actions equal a fresh
 *   translation of its key (test/vswitchd/ofproto-dpif.test.ts, on random edits and
 *   on random MAC learns, moves, flushes and aging).
 * - Learning N new MACs costs O(N) translations, not O(N × megaflows): a MAC change
 *   re-translates only ukeys tagged with that (MAC, VLAN) (OfprotoDpif.counters.xlates).
 * - Datapath packets are credited to OpenFlow rules exactly once.
 * - Vswitchd's reconfiguration is a full, idempotent reconcile that writes nothing
 *   when nothing differs, so its own write-backs cannot loop.
 * - Nothing here reads the wall clock: time is the caller's clock, timers the
 *   caller's scheduler (VswitchdTimers).
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
 * - Vswitchd (options: an IDL factory, the schema, a Dpif, clock, timers, the host's
 *   NetdevProvider, upcallCostNs): `start`, `waitForCfg`, `settle`, `ofctl`,
 *   `appctl`, `rescan`, `refreshStats`; NetdevBinding/NetdevProvider are what a
 *   host implements for system/internal interfaces.
 * - OfprotoDpif: `handleUpcall`, `upcallQueued`, `revalidate`, `pushStats`,
 *   `counters` (incl. `xlates`), `maxIdleMs`, `upcallCostNs`; VswitchdTimers.
 * - MacLearning: `learn`, `lookup(mac, vlan, now, tags?)`, `takeChanges()` (the
 *   revalidation change log: "all" or changed tags), `MacLearning.tag`; MACs are
 *   48-bit Numbers (`macFromWords`, `macIsMulticast`).
 * - COMMANDS, runOfctl, runAppctl, splitCommandLine.
 * - ofp-version.ts: OFP_VERSION_NAMES, ofpVersionsFromNames/FromProtocols,
 *   ofpVersionsText, ofpVersionTag, actionsForVersion/actionContextOf;
 *   Bridge.allowedVersions (from Bridge.protocols).
 */
export * from "./actions.js";
export * from "./bridge.js";
export * from "./classifier.js";
export * from "./commands.js";
export * from "./errors.js";
export * from "./fields.js";
export * from "./flow-mod.js";
export * from "./mac-learning.js";
export * from "./match-format.js";
export * from "./match-parse.js";
export * from "./ofp-version.js";
export * from "./ofproto.js";
export * from "./ofproto-dpif.js";
export * from "./trace-case.js";
export * from "./vswitchd.js";
export * from "./xlate.js";
