/**
 * The tunnel neighbour cache (`tnl/neigh/set`, `tnl/neigh/show`; lib/tnl-neigh-cache.c):
 * IPv4 address to MAC, per device, used to build a tunnel's outer Ethernet header.
 *
 * Plain data: entries are set by hand (appctl) or, later, snooped from the underlay's
 * ARP replies. Aging is the caller's business (entries carry their time).
 */

export interface NeighEntry {
  readonly ip: number;
  /** 48-bit MAC as a number. */
  readonly mac: number;
  readonly dev: string;
  readonly isStatic: boolean;
}

export function parseMacText(text: string): number {
  const p = text.split(":");
  if (p.length !== 6 || p.some((x) => !/^[0-9a-f]{1,2}$/i.test(x)))
    throw new Error(`${text}: invalid MAC address`);
  return p.reduce((v, x) => v * 256 + Number.parseInt(x, 16), 0);
}

export function formatMacNumber(mac: number): string {
  const out: string[] = [];
  let v = mac;
  for (let i = 0; i < 6; i++) {
    out.unshift((v % 256).toString(16).padStart(2, "0"));
    v = Math.floor(v / 256);
  }
  return out.join(":");
}

export class NeighCache {
  private readonly entries = new Map<number, NeighEntry>();

  /** `tnl/neigh/set dev ip mac`. */
  set(dev: string, ip: number, mac: number, isStatic = true): void {
    this.entries.set(ip, { ip, mac, dev, isStatic });
  }

  lookup(ip: number): NeighEntry | undefined {
    return this.entries.get(ip);
  }

  flush(): void {
    this.entries.clear();
  }

  /** `tnl/neigh/show` text. */
  show(): string {
    const lines = [
      "IP                                            MAC                 Bridge",
      "=".repeat(82),
    ];
    for (const e of this.entries.values()) {
      const ip = `${e.ip >>> 24}.${(e.ip >>> 16) & 255}.${(e.ip >>> 8) & 255}.${e.ip & 255}`;
      lines.push(`${ip.padEnd(46)}${formatMacNumber(e.mac)}   ${e.dev}${e.isStatic ? "" : ""}`);
    }
    return `${lines.join("\n")}\n`;
  }
}
