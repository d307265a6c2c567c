/**
 * Prints datapath actions as `ovs-appctl dpctl/dump-flows` does (lib/odp-util.c
 * format_odp_actions): `set(ipv4(src=10.0.0.1,ttl=63)),push_vlan(vid=10,pcp=0),2`;
 * an empty list prints `drop`. parseOdpActions(formatOdpActions(a)) gives back `a`.
 */
import { W_PKT_MARK, W_SKB_PRIORITY } from "../packet/index.js";
import type { DpAction, DpActions } from "./actions.js";
import { formatStructAttr, formatVlanTci, hexAlt } from "./odp-key-format.js";

export function formatOdpActions(actions: DpActions | readonly DpAction[]): string {
  const list = "list" in actions ? actions.list : actions;
  return list.length === 0 ? "drop" : formatList(list);
}

function formatList(list: readonly DpAction[]): string {
  return list.map(formatAction).join(",");
}

function formatAction(a: DpAction): string {
  switch (a.type) {
    case "output":
      return String(a.port);
    case "push_vlan":
      return `push_vlan(${a.tpid !== 0x8100 ? `tpid=0x${a.tpid.toString(16).padStart(4, "0")},` : ""}${formatVlanTci(a.tci)})`;
    case "pop_vlan":
      return "pop_vlan";
    case "set":
      if (a.attr === "skb_mark" || a.attr === "skb_priority") {
        const w = a.attr === "skb_mark" ? W_PKT_MARK : W_SKB_PRIORITY;
        return `set(${a.attr}(${hexAlt(a.key[w])}${a.masked ? `/${hexAlt(a.mask[w])}` : ""}))`;
      }
      if (a.attr === "tunnel") return `set(${formatStructAttr("tunnel", a.key, null, true)})`;
      return `set(${formatStructAttr(a.attr, a.key, a.mask)})`;
    case "userspace":
      return `userspace(pid=${a.pid}${a.cookie ? `,${a.cookie}` : ""})`;
    case "clone":
      return `clone(${formatList(a.actions)})`;
    case "recirc":
      return `recirc(${hexAlt(a.id)})`;
    case "trunc":
      return `trunc(${a.maxLen})`;
    case "sample":
      return `sample(sample=${((a.probability / 0xffffffff) * 100).toFixed(1)}%,actions(${formatList(a.actions)}))`;
    case "tnl_pop":
      return `tnl_pop(${a.port})`;
    case "tnl_push":
      return `tnl_push(tnl_port(${a.tnlPort}),header(size=${a.headerSize},type=${a.headerType},${a.headerText}),out_port(${a.outPort}))`;
  }
}
