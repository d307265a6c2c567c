/**
 * overlay/ — tunnels over a simulated underlay or real UDP: VXLAN (RFC 7348), GRE
 * (RFC 2784/2890) and Geneve (RFC 8926) header codecs, the tunnel vports and native
 * tunnelling hooks a datapath uses, the underlay interface a host's IP stack
 * implements, and the route table and neighbour cache translation consults.
 *
 * Overview
 * One `TunnelStack` per host. `stack.attach(dpif)` registers the vport types "vxlan",
 * "gre" and "geneve" on that Dpif (so `dpif.addPort({type: "vxlan", options: {...}})`
 * makes a tunnel port configured as OVS reads `options:remote_ip`, `local_ip`, `key`,
 * `in_key`, `out_key`, `dst_port`, `ttl`, `tos`, `csum`, `df_default`) and installs the
 * `tnl_push` / `tnl_pop` hooks. The host gives the stack an `Underlay` (its IP stack:
 * route lookup, ARP, NIC; or `UdpUnderlay`, real sockets) and hands it received
 * tunnel traffic through `receiveIpv4` / `receiveUdp`.
 *
 * Two ways to tunnel, as in OVS:
 * - kernel-style vports: `set(tunnel(...))` + output to the tunnel vport; the vport
 *   builds outer IPv4 + UDP/VXLAN, UDP/Geneve or GRE from the flow's tunnel metadata
 *   (falling back to the port's options) and sends it through the Underlay. Received
 *   tunnel packets pick a port the way OVS's tnl_find does and are looked up again with
 *   in_port = that port and tun_id/tun_src/tun_dst/tun_flags/tun_tos/tun_ttl/tun_tp
 *   (and Geneve options as tun_metadata) in the key.
 * - native tunnelling: `tnl_push(header(...))` prepends the prebuilt header
 *   (datapath/tnl-push-header.ts builds the bytes from the text; this module's
 *   encodeTunnelHeader goes through it, so one place builds outer headers) and the hook
 *   fills lengths, checksums and the UDP source port; `tnl_pop(port)` strips and checks
 *   the outer headers and recirculates with the tunnel metadata.
 *
 * Glossary
 * - "VTEP": a tunnel endpoint address; the local one belongs to the host's underlay.
 * - "underlay": the IP network the outer packets cross; "overlay": the L2 network the
 *   inner frames live in.
 * - "VNI" / "key": the 24-bit VXLAN/Geneve network identifier, the 32-bit GRE key;
 *   both travel as tun_id.
 * - "overhead": bytes the outer headers add, counting the outer Ethernet header
 *   (VXLAN and Geneve without options over IPv4: 50; GRE: 38, +4 per key/csum word).
 * - "tun_metadata": Geneve option TLVs, raw, in the key's 8 metadata words.
 * - "route table", "neighbour cache": plain data structures; vswitchd reads them during
 *   translation and the host's stack fills them.
 *
 * Invariants
 * - Per packet nothing throws and nothing is allocated on the simulated paths: malformed
 *   or unmatched tunnel packets and oversize encapsulations are dropped and counted
 *   under OVERLAY_DROP names (`stack.stats().drops`, `stack.show()`).
 * - Outer IPv4 header checksums are always valid; UDP checksums are valid when present
 *   (options:csum=true or the csum flag) and verified on receipt when non-zero; GRE
 *   checksums likewise (tshark-checked in test/interop/overlay-tshark.test.ts).
 * - The UDP source port is a function of the inner flow, in 32768..60999.
 * - Route lookup is longest prefix match; ties keep the latest route.
 * - No hidden global state: each host owns its stack and tables.
 *
 * Public surface: TunnelStack, Underlay/UnderlayReceiver/UNDERLAY_TX (the contract
 * sim/'s hypervisor implements), UdpUnderlay, the codecs (vxlan/gre/geneve
 * encode/decode/encodingLength and their per-packet checks), tun_metadata mapping,
 * port option parsing, the UDP source-port hash, errors and drop reasons, RouteTable,
 * NeighCache, formatTunnelHeader/encodeTunnelHeader.
 */
export * from "./errors.js";
export * from "./geneve.js";
export * from "./gre.js";
export * from "./neigh-cache.js";
export * from "./port-config.js";
export * from "./route-table.js";
export * from "./src-port.js";
export * from "./tun-metadata.js";
export * from "./tunnel-header.js";
export * from "./tunnel-stack.js";
export * from "./udp-underlay.js";
export * from "./underlay.js";
export * from "./vxlan.js";
