/**
 * An endpoint's routing table: connected subnets, default gateways and static routes,
 * for IPv4 and IPv6, looked up by longest prefix as `ip route get` does.
 *
 * Promises: a lookup allocates nothing — it returns the out vNIC's index and leaves
 * the next hop (the gateway, or the destination itself when on-link) in `nextHop`;
 * among routes of equal length the first added wins. It does not do metrics, policy
 * routing, ECMP or source selection (the out vNIC's address is the source).
 */
import { formatIp, type IpAddress, inPrefixWords } from "./ip-address.js";

interface Route {
  v6: boolean;
  net: IpAddress;
  length: number;
  vnic: number;
  via: IpAddress | null;
  text: string;
}

export class RouteTable {
  /** The last lookup's next hop (four words, IPv4 in the first). */
  readonly nextHop = new Uint32Array(4);
  /** The last successful lookup's prefix length. */
  lastLength = 0;
  private readonly routes: Route[] = [];

  /** Adds `addr/length` (host bits cleared) via `via` (null: on-link) out of vNIC `vnic`. */
  add(
    v6: boolean,
    addr: IpAddress,
    length: number,
    vnic: number,
    vnicName: string,
    via: IpAddress | null,
  ): void {
    const net = { v6, words: new Uint32Array(4) };
    let bits = length;
    for (let i = 0; i < (v6 ? 4 : 1); i++, bits -= 32) {
      const mask = bits >= 32 ? 0xffffffff : bits <= 0 ? 0 : (0xffffffff << (32 - bits)) >>> 0;
      net.words[i] = (addr.words[i] & mask) >>> 0;
    }
    const dest = length === 0 ? "default" : `${formatIp(net)}/${length}`;
    const text = `${dest}${via ? ` via ${formatIp(via)}` : ""} dev ${vnicName}${v6 ? " (ipv6)" : ""}`;
    this.routes.push({ v6, net, length, vnic, via, text });
    // Longest prefix first; sort is stable, so among equals the first added wins.
    this.routes.sort((a, b) => b.length - a.length);
  }

  /** Longest-prefix match for `dst` (4 words); fills nextHop and returns the vNIC index, or -1. */
  lookup(v6: boolean, dst: Uint32Array): number {
    const routes = this.routes;
    for (let i = 0; i < routes.length; i++) {
      const r = routes[i];
      if (r.v6 !== v6 || !inPrefixWords(r.net, r.length, dst, 0)) continue;
      const nh = this.nextHop;
      const src = r.via ? r.via.words : dst;
      if (src !== nh) {
        nh[0] = src[0];
        nh[1] = src[1];
        nh[2] = src[2];
        nh[3] = src[3];
      }
      this.lastLength = r.length;
      return r.vnic;
    }
    return -1;
  }

  /** As `ip route` then `ip -6 route` print it. */
  lines(): string[] {
    return [...this.routes.filter((r) => !r.v6), ...this.routes.filter((r) => r.v6)].map(
      (r) => r.text,
    );
  }
}
