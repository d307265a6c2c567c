/**
 * An underlay L2 switch: the top-of-rack or leaf box between hypervisors' physical
 * NICs — a plain 802.1D learning bridge, not an Open vSwitch. Ports are LinkPorts that
 * the topology joins to hosts, routers or other switches with ordinary sim links.
 *
 * Promises: a frame to a learnt unicast MAC leaves only by that MAC's port; broadcast,
 * multicast and unknown unicast are flooded to every other port whose link is up; a
 * port going down forgets the MACs learnt on it. Forwarding allocates nothing (MACs
 * are keyed as 48-bit numbers).
 *
 * It does not run spanning tree (a topology must be loop-free at L2, which the
 * leaf-spine helper guarantees by routing at the spines), VLANs or aging.
 */
import type { LinkPort, Wire } from "./link.js";

/** One port of an UnderlaySwitch. */
export class UnderlaySwitchPort implements LinkPort {
  wire: Wire | null = null;
  rx = 0;
  tx = 0;
  constructor(
    readonly name: string,
    readonly index: number,
    private readonly sw: UnderlaySwitch,
  ) {}
  receive(frame: Uint8Array, offset: number, length: number): void {
    this.rx++;
    this.sw.forward(this.index, frame, offset, length);
  }
  attach(wire: Wire | null): void {
    this.wire = wire;
  }
  carrierChanged(up: boolean): void {
    if (!up) this.sw.forgetPort(this.index);
  }
}

export class UnderlaySwitch {
  readonly ports: UnderlaySwitchPort[] = [];
  private readonly byName = new Map<string, UnderlaySwitchPort>();
  private readonly fdb = new Map<number, number>();
  /** Frames flooded (unknown destination or broadcast). */
  floods = 0;

  constructor(readonly name: string) {}

  /** The port called `name`, made on first use. */
  port(name: string): UnderlaySwitchPort {
    let p = this.byName.get(name);
    if (!p) {
      p = new UnderlaySwitchPort(`${this.name}:${name}`, this.ports.length, this);
      this.ports.push(p);
      this.byName.set(name, p);
    }
    return p;
  }

  /** A new port named p<N>, N counting from 1. */
  nextPort(): UnderlaySwitchPort {
    return this.port(`p${this.ports.length + 1}`);
  }

  /** The learnt MACs, as "mac port" lines (for displays). */
  fdbShow(): string[] {
    const out: string[] = [];
    for (const [mac, idx] of this.fdb) {
      const hex = mac.toString(16).padStart(12, "0");
      out.push(`${hex.replace(/(..)(?!$)/g, "$1:")} ${this.ports[idx]!.name}`);
    }
    return out.sort();
  }

  forgetPort(index: number): void {
    for (const [mac, idx] of this.fdb) if (idx === index) this.fdb.delete(mac);
  }

  forward(inIndex: number, f: Uint8Array, o: number, len: number): void {
    if (len < 14) return;
    const src =
      (f[o + 6]! * 0x10000 + (f[o + 7]! << 8) + f[o + 8]!) * 0x1000000 +
      ((f[o + 9]! << 16) | (f[o + 10]! << 8) | f[o + 11]!);
    if ((f[o + 6]! & 1) === 0) this.fdb.set(src, inIndex);
    if ((f[o]! & 1) === 0) {
      const dst =
        (f[o]! * 0x10000 + (f[o + 1]! << 8) + f[o + 2]!) * 0x1000000 +
        ((f[o + 3]! << 16) | (f[o + 4]! << 8) | f[o + 5]!);
      const out = this.fdb.get(dst);
      if (out !== undefined) {
        if (out !== inIndex) this.send(out, f, o, len);
        return;
      }
    }
    this.floods++;
    for (let i = 0; i < this.ports.length; i++) if (i !== inIndex) this.send(i, f, o, len);
  }

  private send(i: number, f: Uint8Array, o: number, len: number): void {
    const p = this.ports[i]!;
    if (p.wire?.carrier && p.wire.transmit(f, o, len)) p.tx++;
  }
}
