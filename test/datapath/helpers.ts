/** Frames, keys and a capturing port shared by the datapath tests; not a test file. */

import {
  type DatapathClock,
  Dpif,
  type DpifOptions,
  type NetdevPort,
} from "../../datapath/index.js";
import { buildFrame, type FrameSpec } from "../../packet/index.js";

export const mac = (s: string) => Uint8Array.from(s.split(":").map((h) => Number.parseInt(h, 16)));
export const ip4 = (s: string) => s.split(".").reduce((a, b) => a * 256 + Number(b), 0);
export function ip6(s: string): Uint8Array {
  const [head, tail] = s.split("::");
  const h = head ? head.split(":") : [];
  const t = tail !== undefined && tail !== "" ? tail.split(":") : [];
  const words = [...h, ...Array(8 - h.length - t.length).fill("0"), ...t];
  const out = new Uint8Array(16);
  words.forEach((w, i) => {
    const v = Number.parseInt(w, 16);
    out[2 * i] = v >>> 8;
    out[2 * i + 1] = v & 0xff;
  });
  return out;
}

export const MAC_A = "00:00:00:00:00:01";
export const MAC_B = "00:00:00:00:00:02";

export function tcpFrame(
  o: {
    src?: string;
    dst?: string;
    sport?: number;
    dport?: number;
    ttl?: number;
    flags?: number;
    payload?: number;
  } = {},
): Uint8Array {
  const spec: FrameSpec = {
    eth: { src: mac(MAC_A), dst: mac(MAC_B) },
    ipv4: { src: ip4(o.src ?? "10.0.0.1"), dst: ip4(o.dst ?? "10.0.0.2"), ttl: o.ttl ?? 64 },
    tcp: { srcPort: o.sport ?? 1234, dstPort: o.dport ?? 80, flags: o.flags ?? 0x002 },
    payload: new Uint8Array(o.payload ?? 6).fill(0x61),
  };
  return buildFrame(spec);
}

export function udpFrame(
  o: {
    src?: string;
    dst?: string;
    sport?: number;
    dport?: number;
    checksum?: number;
    payload?: number;
  } = {},
): Uint8Array {
  return buildFrame({
    eth: { src: mac(MAC_A), dst: mac(MAC_B) },
    ipv4: { src: ip4(o.src ?? "10.0.0.1"), dst: ip4(o.dst ?? "10.0.0.2") },
    udp: {
      srcPort: o.sport ?? 5000,
      dstPort: o.dport ?? 53,
      ...(o.checksum !== undefined ? { checksum: o.checksum } : {}),
    },
    payload: new Uint8Array(o.payload ?? 10).fill(0x62),
  });
}

export function tcp6Frame(
  o: { src?: string; dst?: string; sport?: number; dport?: number } = {},
): Uint8Array {
  return buildFrame({
    eth: { src: mac(MAC_A), dst: mac(MAC_B) },
    ipv6: { src: ip6(o.src ?? "fe80::1"), dst: ip6(o.dst ?? "fe80::2") },
    tcp: { srcPort: o.sport ?? 1234, dstPort: o.dport ?? 80, flags: 0x010 },
    payload: new Uint8Array(8).fill(0x63),
  });
}

/** A port that keeps a copy of every frame sent to it. */
export class CapturePort implements NetdevPort {
  readonly frames: Uint8Array[] = [];
  transmit(frame: Uint8Array, offset: number, length: number): void {
    this.frames.push(Uint8Array.from(frame.subarray(offset, offset + length)));
  }
}

export class ManualClock implements DatapathClock {
  ns = 0;
  nowNs(): number {
    return this.ns;
  }
}

/** A datapath with ports 1..n captured, EMC insertion always (deterministic tests). */
export function makeDpif(
  nPorts = 3,
  options: Partial<DpifOptions> = {},
): { dp: Dpif; ports: CapturePort[]; clock: ManualClock } {
  const clock = new ManualClock();
  const dp = new Dpif({ clock, emcInsertInvProb: 1, ...options });
  const ports: CapturePort[] = [new CapturePort()];
  for (let i = 1; i <= nPorts; i++) {
    const p = new CapturePort();
    ports.push(p);
    dp.addPort({ name: `p${i}`, type: "netdev", portNo: i, port: p });
  }
  return { dp, ports, clock };
}
