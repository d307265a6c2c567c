/**
 * A vNIC: one emulated network interface of a VM or container — its MAC, IPv4 and IPv6
 * addresses with prefixes, default gateways and MTU — and the LinkPort glue that joins
 * it to a link.
 *
 * Promises: every parameter is validated when the vNIC is made, and a bad one is
 * refused with an error naming the vNIC and quoting the value. A vNIC accepts frames
 * addressed to its MAC, to broadcast, and to the IPv6 multicast groups it is in
 * (all-nodes and its solicited-node groups); others are counted and ignored, as a NIC
 * not in promiscuous mode does. It does no protocol work: its owner (the endpoint's
 * stack) does.
 */
import { parseMac } from "./_packet.js";
import { InvalidAddressError, InvalidParameterError } from "./errors.js";
import { type IpAddress, inPrefixWords, parseIp, parsePrefix } from "./ip-address.js";
import type { LinkPort, Wire } from "./link.js";
import type { NeighborTable } from "./neighbor-table.js";

export interface VnicOptions {
  /** Default "<endpoint>-eth<index>". */
  name?: string;
  /** Default: allocated by the world, locally administered (02:…). */
  mac?: string;
  /** Address and prefix, "10.0.0.1/24". */
  ipv4?: string;
  /** Default IPv4 gateway, on the vNIC's subnet. */
  gateway4?: string;
  /** Address and prefix, "fd00::1/64". */
  ipv6?: string;
  /** Default IPv6 gateway, on the vNIC's prefix. */
  gateway6?: string;
  /** Largest IP packet sent or accepted, default 1500. */
  mtu?: number;
}

/** What a vNIC reports to (the endpoint that owns it). */
export interface VnicOwner {
  readonly name: string;
  frameIn(vnic: Vnic, frame: Uint8Array, offset: number, length: number): void;
  carrierIn(vnic: Vnic, up: boolean): void;
}

export class Vnic implements LinkPort {
  readonly name: string;
  readonly macHi: number;
  readonly macLo: number;
  /** The MAC as 6 bytes, for header writing. */
  readonly mac = new Uint8Array(6);
  readonly mtu: number;
  readonly ipv4: IpAddress | null;
  readonly prefix4: number;
  readonly gateway4: IpAddress | null;
  readonly ipv6: IpAddress | null;
  readonly prefix6: number;
  readonly gateway6: IpAddress | null;
  /** Set by the owner once made. */
  arp!: NeighborTable;
  nd!: NeighborTable;
  /** Frames ignored because they were addressed to another MAC. */
  rxOtherHost = 0;
  private wireIn: Wire | null = null;
  private readonly owner: VnicOwner;

  constructor(owner: VnicOwner, name: string, options: VnicOptions, defaultMac: [number, number]) {
    this.owner = owner;
    this.name = name;
    const what = `vnic ${name}`;
    let mac = defaultMac;
    if (options.mac !== undefined) {
      const m = parseMac(options.mac);
      if (!m)
        throw new InvalidAddressError(
          what,
          "mac",
          options.mac,
          "is not a MAC address (write aa:bb:cc:dd:ee:ff)",
        );
      if (((m[0] >>> 8) & 1) === 1)
        throw new InvalidAddressError(
          what,
          "mac",
          options.mac,
          "is a multicast address; a NIC needs a unicast one",
        );
      mac = m;
    }
    this.macHi = mac[0];
    this.macLo = mac[1];
    this.mac.set([
      mac[0] >>> 8,
      mac[0] & 0xff,
      mac[1] >>> 24,
      (mac[1] >>> 16) & 0xff,
      (mac[1] >>> 8) & 0xff,
      mac[1] & 0xff,
    ]);
    this.mtu = options.mtu ?? 1500;
    if (!Number.isInteger(this.mtu) || this.mtu < 68 || this.mtu > 65535)
      throw new InvalidParameterError(what, "mtu", "a whole number in [68, 65535]", options.mtu);

    const v4 =
      options.ipv4 === undefined ? undefined : parseIfPrefix(what, "ipv4", options.ipv4, false);
    this.ipv4 = v4?.address ?? null;
    this.prefix4 = v4?.length ?? 0;
    this.gateway4 = parseGateway(what, "gateway4", options.gateway4, v4, false);
    const v6 =
      options.ipv6 === undefined ? undefined : parseIfPrefix(what, "ipv6", options.ipv6, true);
    if (v6 && this.mtu < 1280)
      throw new InvalidParameterError(
        what,
        "mtu",
        ">= 1280 when IPv6 is configured (RFC 8200 §5)",
        this.mtu,
      );
    this.ipv6 = v6?.address ?? null;
    this.prefix6 = v6?.length ?? 0;
    this.gateway6 = parseGateway(what, "gateway6", options.gateway6, v6, true);
  }

  /** The wire while joined to a link, else null. */
  get wire(): Wire | null {
    return this.wireIn;
  }

  /** Whether a link is attached and up. */
  get carrier(): boolean {
    return this.wireIn?.carrier === true;
  }

  attach(wire: Wire | null): void {
    this.wireIn = wire;
    if (wire?.carrier) this.owner.carrierIn(this, true);
  }

  carrierChanged(up: boolean): void {
    this.owner.carrierIn(this, up);
  }

  receive(frame: Uint8Array, offset: number, length: number): void {
    if (length < 14) return;
    const b0 = frame[offset];
    if ((b0 & 1) === 0) {
      // Unicast: ours only.
      if (
        b0 !== this.mac[0] ||
        frame[offset + 1] !== this.mac[1] ||
        frame[offset + 2] !== this.mac[2] ||
        frame[offset + 3] !== this.mac[3] ||
        frame[offset + 4] !== this.mac[4] ||
        frame[offset + 5] !== this.mac[5]
      ) {
        this.rxOtherHost++;
        return;
      }
    } else if (b0 === 0x33 && frame[offset + 1] === 0x33) {
      if (!this.inIpv6Group(frame, offset + 2)) {
        this.rxOtherHost++;
        return;
      }
    } else if (!isBroadcast(frame, offset)) {
      // A multicast group we never joined.
      this.rxOtherHost++;
      return;
    }
    this.owner.frameIn(this, frame, offset, length);
  }

  /** RFC 2464 §7: 33:33 + the group's low 32 bits; we are in ff02::1 and ff02::1:ffXX:XXXX. */
  private inIpv6Group(frame: Uint8Array, at: number): boolean {
    if (frame[at] === 0 && frame[at + 1] === 0 && frame[at + 2] === 0 && frame[at + 3] === 1)
      return true;
    if (!this.ipv6 || frame[at] !== 0xff) return false;
    const low24 = this.ipv6.words[3] & 0xffffff;
    return ((frame[at + 1] << 16) | (frame[at + 2] << 8) | frame[at + 3]) === low24;
  }
}

function isBroadcast(f: Uint8Array, o: number): boolean {
  return (f[o] & f[o + 1] & f[o + 2] & f[o + 3] & f[o + 4] & f[o + 5]) === 0xff;
}

function parseIfPrefix(what: string, field: string, text: string, v6: boolean) {
  const p = parsePrefix(text);
  const example = v6 ? '"fd00::1/64"' : '"10.0.0.1/24"';
  if (!p)
    throw new InvalidAddressError(
      what,
      field,
      text,
      `is not an address with a prefix length (write ${example})`,
    );
  if (p.address.v6 !== v6)
    throw new InvalidAddressError(
      what,
      field,
      text,
      `is not an ${v6 ? "IPv6" : "IPv4"} address (write ${example})`,
    );
  return p;
}

function parseGateway(
  what: string,
  field: string,
  text: string | undefined,
  net: { address: IpAddress; length: number } | undefined,
  v6: boolean,
): IpAddress | null {
  if (text === undefined) return null;
  const g = parseIp(text);
  if (!g || g.v6 !== v6)
    throw new InvalidAddressError(what, field, text, `is not an ${v6 ? "IPv6" : "IPv4"} address`);
  if (!net)
    throw new InvalidAddressError(
      what,
      field,
      text,
      `needs an ${v6 ? "ipv6" : "ipv4"} address on the vNIC`,
    );
  if (!inPrefixWords(net.address, net.length, g.words, 0))
    throw new InvalidAddressError(
      what,
      field,
      text,
      `is not on the vNIC's subnet (/${net.length})`,
    );
  return g;
}
