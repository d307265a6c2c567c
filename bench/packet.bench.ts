/**
 * Benchmarks of packet/: `packet.extract_mpps` is flow extraction over a batch of 32
 * 64-byte frames (UDP, TCP, ARP and IPv6/UDP, in turn) held in one buffer, into one
 * preallocated key, as the datapath's receive loop does. Reports millions of frames
 * per second on one core.
 */
import { flowExtract, newFlowKey, newPacketLayers, W_TP } from "../packet/index.js";
import { type Figure, rate } from "./harness.js";

const FRAME_LEN = 64;
const BATCH = 32;

function hex(s: string): Uint8Array {
  const clean = s.replace(/\s+/g, "");
  const out = new Uint8Array(clean.length / 2);
  for (let i = 0; i < out.length; i++) out[i] = Number.parseInt(clean.slice(2 * i, 2 * i + 2), 16);
  return out;
}

const ETH = "020000000002 020000000001";
const TEMPLATES = [
  hex(`${ETH} 0800 4500 0032 0000 4000 4011 0000 0a000001 0a000002 04d2 0035 001e 0000`),
  hex(
    `${ETH} 0800 4500 0032 0000 4000 4006 0000 0a000001 0a000002 9c40 0050 00000001 00000000 5018 2000 0000 0000`,
  ),
  hex(`${ETH} 0806 0001 0800 0604 0001 020000000001 0a000001 000000000000 0a000002`),
  hex(
    `${ETH} 86dd 60000000 000a 11 40 20010db8000000000000000000000001 20010db8000000000000000000000002 04d2 0035 000a 0000`,
  ),
];

function batchBuffer(): Uint8Array {
  const buf = new Uint8Array(FRAME_LEN * BATCH);
  for (let i = 0; i < BATCH; i++) buf.set(TEMPLATES[i % TEMPLATES.length], i * FRAME_LEN);
  return buf;
}

export const benchmarks: Figure[] = [
  {
    name: "packet.extract_mpps",
    unit: "Mpps",
    measure: () => {
      const buf = batchBuffer();
      const key = newFlowKey();
      const layers = newPacketLayers();
      let sink = 0;
      const value = rate(
        () => {
          for (let i = 0; i < BATCH; i++) {
            flowExtract(buf, i * FRAME_LEN, FRAME_LEN, key, layers);
            sink ^= key[W_TP];
          }
        },
        BATCH,
        1e6,
      );
      return value.then((v) => (sink === -1 ? 0 : v));
    },
  },
];
