/**
 * Overlay benchmarks (one core, 64-byte inner frames), see issue 7:
 * - overlay.vxlan_encap_mpps: a VXLAN vport's transmit side — outer IPv4/UDP/VXLAN
 *   built in front of the frame, UDP source port hashed from the inner flow, handed to
 *   the underlay (a sink here).
 * - overlay.vxlan_decap_mpps: the receive side — outer IPv4 (checksum verified), UDP
 *   and VXLAN checked, tunnel port chosen, tunnel metadata put in the key and the inner
 *   frame looked up again in the datapath (EMC hit) and output to a port (a sink).
 */
import { Dpif, parseOdpKey, type TunnelPort } from "../datapath/index.js";
import { TunnelStack, UNDERLAY_TX, type Underlay } from "../overlay/index.js";
import { FLOW_WORDS, internetChecksum } from "../packet/index.js";
import { type Figure, rate } from "./harness.js";

const clock = { nowNs: () => 0 };
const BATCH = 32;

function innerFrame(): Uint8Array {
  const f = new Uint8Array(64);
  f.set([0, 0, 0, 0, 0, 2, 0, 0, 0, 0, 0, 1, 0x08, 0x00], 0);
  f.set([0x45, 0, 0, 50, 0, 0, 0x40, 0, 64, 17, 0, 0, 10, 0, 0, 1, 10, 0, 0, 2], 14);
  const c = internetChecksum(f, 14, 20);
  f[24] = c >>> 8;
  f[25] = c & 0xff;
  f.set([0x30, 0x39, 0x00, 0x50, 0, 30, 0, 0], 34);
  return f;
}

/** A host whose underlay keeps the last packet it was asked to send. */
function host() {
  let last = new Uint8Array(0);
  const underlay: Underlay = {
    route: () => ({ dev: "eth0", srcIp: 0xc0a80101, mtu: 1500 }),
    sendIpv4: (p, o, l) => {
      if (last.length !== l) last = new Uint8Array(l);
      last.set(p.subarray(o, o + l));
      return UNDERLAY_TX.SENT;
    },
  };
  const dpif = new Dpif({ clock });
  const stack = new TunnelStack({ underlay });
  stack.attach(dpif);
  dpif.addPort({ name: "vm", type: "netdev", portNo: 1, port: { transmit: () => {} } });
  dpif.addPort({
    name: "vx",
    type: "vxlan",
    portNo: 2,
    options: { remote_ip: "192.168.1.2", key: "100" },
  });
  return { dpif, stack, lastPacket: () => last };
}

async function encapMpps(): Promise<number> {
  const h = host();
  const port = h.dpif.getPort(2)!.impl as TunnelPort;
  const frame = innerFrame();
  const key = new Uint32Array(FLOW_WORDS);
  return rate(
    () => {
      for (let i = 0; i < BATCH; i++) port.transmitTunnel(frame, 0, 64, key);
    },
    BATCH,
    1e6,
  );
}

async function decapMpps(): Promise<number> {
  const tx = host();
  (tx.dpif.getPort(2)!.impl as TunnelPort).transmitTunnel(
    innerFrame(),
    0,
    64,
    new Uint32Array(FLOW_WORDS),
  );
  const outer = tx.lastPacket().slice();
  // The receiving host: remote 192.168.1.1, and a megaflow tunnel port → VM.
  const rx = host();
  rx.dpif.delPort(2);
  rx.dpif.addPort({
    name: "vx",
    type: "vxlan",
    portNo: 2,
    options: { remote_ip: "192.168.1.1", key: "100" },
  });
  const { key, mask } = parseOdpKey("in_port(2),eth()");
  rx.dpif.flowPut(key, mask, "1");
  rx.stack.receiveIpv4(outer, 0, outer.length);
  if (rx.stack.rxPackets !== 1) throw new Error("decap benchmark: the packet was not delivered");
  return rate(
    () => {
      for (let i = 0; i < BATCH; i++) rx.stack.receiveIpv4(outer, 0, outer.length);
    },
    BATCH,
    1e6,
  );
}

export const benchmarks: Figure[] = [
  { name: "overlay.vxlan_encap_mpps", unit: "Mpps", measure: encapMpps },
  { name: "overlay.vxlan_decap_mpps", unit: "Mpps", measure: decapMpps },
];
