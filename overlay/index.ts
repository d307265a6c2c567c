/**
 * overlay/ — tunnels over a simulated underlay: VXLAN, GRE and Geneve outer headers,
 * the route table and neighbour cache that userspace tunnelling consults.
 *
 * Glossary
 * - "VTEP": a tunnel endpoint address; the local one belongs to an underlay bridge.
 * - "native tunnelling": OVS userspace builds the outer headers itself (`tnl_push`)
 *   from a route (`ovs/route/add`) and a neighbour entry (`tnl/neigh/set`), then
 *   sends the packet through the underlay bridge; the reverse is `tnl_pop`.
 * - "route table", "neighbour cache": plain data structures here; vswitchd reads them
 *   during translation.
 *
 * Invariants
 * - Route lookup is longest prefix match; ties keep the latest route.
 * - Nothing here sends packets or keeps hidden global state: each host owns its tables.
 *
 * Public surface: RouteTable, NeighCache, formatTunnelHeader and encodeTunnelHeader
 * (tnl_push header text and bytes), and their types.
 */
export * from "./neigh-cache.js";
export * from "./route-table.js";
export * from "./tunnel-header.js";
