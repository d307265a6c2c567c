/**
 * The text of `ovs-appctl dpctl/dump-flows` and `dpctl/show` for a Dpif, and the
 * `dpctl/add-flow` entry point that takes the same syntax (lib/dpctl.c,
 * lib/dpif.c dpif_flow_stats_format).
 *
 * A dump line is `KEY, packets:N, bytes:N, used:T, [flags:F, ]actions:A` where T is
 * `never` or seconds since the last hit with three decimals, measured on the
 * datapath's own clock, and F the TCP flags seen (`SP.`), as OVS prints them.
 */
import type { DpActions } from "./actions.js";
import { type DpFlow, type Dpif, type FlowPutOptions, formatUfid } from "./dpif.js";
import { formatOdpActions } from "./odp-actions-format.js";
import { formatOdpKey } from "./odp-key-format.js";
import { checkOdpKeyFit, parseOdpKey } from "./odp-key-parse.js";

/** OVS packet_format_tcp_flags(). */
export function formatTcpFlagsShort(flags: number): string {
  let s = "";
  if (flags & 0x002) s += "S";
  if (flags & 0x001) s += "F";
  if (flags & 0x008) s += "P";
  if (flags & 0x004) s += "R";
  if (flags & 0x020) s += "U";
  if (flags & 0x010) s += ".";
  if (flags & 0x040) s += "E";
  if (flags & 0x080) s += "C";
  if (flags & 0x100) s += "N";
  if (flags & 0x200) s += "[200]";
  if (flags & 0x400) s += "[400]";
  if (flags & 0x800) s += "[800]";
  return s;
}

/** One dump line for `flow`, `nowNs` being the datapath clock's current time. */
export function formatDpFlow(
  flow: DpFlow,
  nowNs: number,
  options: { ufid?: boolean } = {},
): string {
  const s = flow.stats;
  // OVS keeps `used` in milliseconds and prints (now - used) / 1000 with %.3f.
  const used =
    s.usedNs < 0
      ? "never"
      : `${((Math.floor(nowNs / 1e6) - Math.floor(s.usedNs / 1e6)) / 1000).toFixed(3)}s`;
  const flags = s.tcpFlags ? `, flags:${formatTcpFlagsShort(s.tcpFlags)}` : "";
  const ufid = options.ufid ? `ufid:${formatUfid(flow.ufid)}, ` : "";
  return `${ufid}${formatOdpKey(flow.key, flow.mask, { packetType: flow.packetType })}, packets:${s.packets}, bytes:${s.bytes}, used:${used}${flags}, actions:${formatOdpActions(flow.actions)}`;
}

/**
 * `dpctl/dump-flows` of a whole datapath. With `header`, the text is exactly what
 * `ovs-appctl dpctl/dump-flows` prints for a userspace datapath: a "flow-dump from the
 * main thread:" line before the flows, nothing at all when there are none.
 */
export function formatDumpFlows(
  dpif: Dpif,
  options: { ufid?: boolean; header?: boolean } = {},
): string {
  const now = dpif.nowNs();
  const lines: string[] = [];
  for (const flow of dpif.flowDump()) lines.push(formatDpFlow(flow, now, options));
  if (lines.length > 0 && options.header) lines.unshift("flow-dump from the main thread:");
  return lines.map((l) => `${l}\n`).join("");
}

/**
 * `dpctl/show` for a Dpif: `netdev@NAME:` (the userspace datapath's class), lookups,
 * flows and ports, a port's type in parentheses unless it is a plain netdev.
 */
export function formatDpctlShow(dpif: Dpif): string {
  const st = dpif.stats();
  let s = `netdev@${dpif.name}:\n  lookups: hit:${st.hit} missed:${st.missed} lost:${st.lost}\n  flows: ${st.flows}\n`;
  for (const p of dpif.listPorts()) {
    const type = p.type === "netdev" ? "" : ` (${p.type})`;
    s += `  port ${p.portNo}: ${p.name}${type}\n`;
  }
  return s;
}

/**
 * `ovs-appctl dpif-netdev/pmd-stats-show` for a Dpif, as OVS 3.1 prints it for one
 * thread. Counters ovsim has no equivalent of (hardware offload, miniflow extract
 * optimisation, simple match, SMC) are 0; outputs are not batched, so a batch is one
 * packet.
 */
export function formatPmdStatsShow(dpif: Dpif, thread = "main thread"): string {
  const st = dpif.stats();
  const ratio = (a: number, b: number) => (b === 0 ? 0 : a / b).toFixed(2);
  const received = st.rxPackets - st.rxInvalid;
  return [
    `${thread}:`,
    `  packets received: ${received}`,
    `  packet recirculations: ${st.recirculations}`,
    `  avg. datapath passes per packet: ${ratio(received + st.recirculations, received)}`,
    "  phwol hits: 0",
    "  mfex opt hits: 0",
    "  simple match hits: 0",
    `  emc hits: ${st.emcHits}`,
    "  smc hits: 0",
    `  megaflow hits: ${st.megaflowHits}`,
    `  avg. subtable lookups per megaflow hit: ${ratio(st.subtableLookups, st.megaflowHits)}`,
    `  miss with success upcall: ${st.missed - st.lost}`,
    `  miss with failed upcall: ${st.lost}`,
    `  avg. packets per output batch: ${ratio(st.txPackets, st.txPackets)}`,
    "",
  ].join("\n");
}

/**
 * `dpctl/add-flow KEY ACTIONS`: parses both and installs the flow (create only).
 * Keys dpif-netdev would find incomplete are rejected as OVS rejects them.
 */
export function dpctlAddFlow(
  dpif: Dpif,
  keyText: string,
  actions: string | DpActions,
  options: FlowPutOptions = {},
): number {
  const match = parseOdpKey(keyText);
  checkOdpKeyFit(match, keyText);
  const { key, mask } = match;
  return dpif.flowPut(key, mask, actions, {
    modify: false,
    packetType: match.packetType,
    ...options,
  }).flowId;
}

/** `dpctl/mod-flow KEY ACTIONS`. */
export function dpctlModFlow(dpif: Dpif, keyText: string, actions: string | DpActions): number {
  const { key, mask, packetType } = parseOdpKey(keyText);
  return dpif.flowPut(key, mask, actions, { create: false, packetType }).flowId;
}

/** `dpctl/del-flow KEY`: true if a flow was deleted. */
export function dpctlDelFlow(dpif: Dpif, keyText: string): boolean {
  const { key, mask } = parseOdpKey(keyText);
  return dpif.flowDel({ key, mask }) !== null;
}
