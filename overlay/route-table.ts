/**
 * The tunnel route table (`ovs/route/add`, `ovs/route/show`; lib/ovs-router.c): IPv4
 * routes to an output device, chosen by longest prefix match.
 *
 * Plain data filled by hand (appctl) or, later, from the simulated underlay. It does
 * not resolve next-hop MACs (neigh-cache.ts).
 */

export interface Route {
  /** Network address, host order, already masked. */
  readonly prefix: number;
  readonly plen: number;
  /** Output device (a bridge name for userspace tunnels). */
  readonly dev: string;
  /** Gateway, 0 if the destination is on-link. */
  readonly gw: number;
  /** Preferred source address, 0 to use the device's own. */
  readonly src: number;
  readonly user: boolean;
}

function maskOf(plen: number): number {
  return plen === 0 ? 0 : (0xffffffff << (32 - plen)) >>> 0;
}

function ipText(ip: number): string {
  return `${ip >>> 24}.${(ip >>> 16) & 255}.${(ip >>> 8) & 255}.${ip & 255}`;
}

export function parseIpv4Text(text: string): number {
  const p = text.split(".").map(Number);
  if (p.length !== 4 || p.some((x) => !Number.isInteger(x) || x < 0 || x > 255)) {
    throw new Error(`${text}: invalid IPv4 address`);
  }
  return ((p[0]! << 24) | (p[1]! << 16) | (p[2]! << 8) | p[3]!) >>> 0;
}

export class RouteTable {
  private routes: Route[] = [];

  /**
   * `ovs/route/add ip/plen dev [gw]`. Replaces a route to the same prefix. `user`
   * false marks a route learnt from the host's own interfaces ("Cached:").
   */
  add(prefixText: string, dev: string, gwText?: string, src = 0, user = true): void {
    const [ip, len] = prefixText.split("/");
    const plen = len === undefined ? 32 : Number(len);
    if (!Number.isInteger(plen) || plen < 0 || plen > 32)
      throw new Error(`${prefixText}: invalid prefix length`);
    const prefix = (parseIpv4Text(ip!) & maskOf(plen)) >>> 0;
    const gw = gwText ? parseIpv4Text(gwText) : 0;
    this.routes = this.routes.filter((r) => !(r.prefix === prefix && r.plen === plen));
    this.routes.push({ prefix, plen, dev, gw, src, user });
  }

  delete(prefixText: string): boolean {
    const [ip, len] = prefixText.split("/");
    const plen = len === undefined ? 32 : Number(len);
    const prefix = (parseIpv4Text(ip!) & maskOf(plen)) >>> 0;
    const before = this.routes.length;
    this.routes = this.routes.filter((r) => !(r.prefix === prefix && r.plen === plen));
    return this.routes.length !== before;
  }

  /** Longest-prefix match for `ip` (host order). */
  lookup(ip: number): Route | undefined {
    let best: Route | undefined;
    for (const r of this.routes) {
      if ((ip & maskOf(r.plen)) >>> 0 === r.prefix && (!best || r.plen > best.plen)) best = r;
    }
    return best;
  }

  /** `ovs/route/show` text. */
  show(): string {
    const lines = ["Route Table:"];
    for (const r of [...this.routes].sort((a, b) => b.plen - a.plen)) {
      let s = `${r.user ? "User" : "Cached"}: ${ipText(r.prefix)}/${r.plen} dev ${r.dev}`;
      if (r.gw) s += ` GW ${ipText(r.gw)}`;
      if (r.src) s += ` SRC ${ipText(r.src)}`;
      lines.push(s);
    }
    return `${lines.join("\n")}\n`;
  }
}
