// A two-host underlay for tests: each host has one NIC on a sim link to the other, a
// fixed peer MAC (no ARP) and one connected route. It implements overlay's Underlay and
// hands received IPv4 datagrams to the host's TunnelStack, as sim/hypervisor.ts does
// with its full IP stack.
import { parseIpv4 } from "../../packet/index.js";
import { FramePort, type World } from "../../sim/index.js";
import { type TunnelStack, UNDERLAY_TX, type Underlay, type UnderlayRoute } from "./_overlay.js";

export class WireUnderlay implements Underlay {
  readonly nic: FramePort;
  readonly ip: number;
  private readonly frame = new Uint8Array(65536 + 14);
  private readonly routeEntry: UnderlayRoute;
  private readonly prefix: number;
  sent = 0;
  nonTunnel = 0;
  constructor(
    name: string,
    ipText: string,
    private readonly mac: number[],
    private readonly peerMac: number[],
    private readonly stack: TunnelStack,
    mtu = 1500,
  ) {
    this.ip = parseIpv4(ipText)!;
    this.prefix = this.ip & 0xffffff00;
    this.routeEntry = { dev: `${name}-eth0`, srcIp: this.ip, mtu };
    this.nic = new FramePort(`${name}-eth0`, (f, o, l) => {
      if (l < 34 || f[o + 12] !== 0x08 || f[o + 13] !== 0) return;
      if (!this.stack.receiveIpv4(f, o + 14, l - 14)) this.nonTunnel++;
    });
    stack.setUnderlay(this);
  }
  route(dstIp: number): UnderlayRoute | undefined {
    return (dstIp & 0xffffff00) === this.prefix ? this.routeEntry : undefined;
  }
  sendIpv4(packet: Uint8Array, offset: number, length: number) {
    const f = this.frame;
    f.set(this.peerMac, 0);
    f.set(this.mac, 6);
    f[12] = 0x08;
    f[13] = 0x00;
    f.set(packet.subarray(offset, offset + length), 14);
    this.nic.transmit(f, 0, length + 14);
    this.sent++;
    return UNDERLAY_TX.SENT;
  }
}

export function joinUnderlay(world: World, a: WireUnderlay, b: WireUnderlay, mtu = 1500): void {
  world.link(a.nic, b.nic, { mtu });
}
