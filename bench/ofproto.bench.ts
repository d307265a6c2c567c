/**
 * vswitchd translation throughput: `ofproto.xlate_per_s` is upcalls translated per
 * second (flow key in, datapath actions and megaflow mask out) through a 3-table
 * pipeline of 10,000 rules spread over 20 distinct masks.
 */

import * as K from "../packet/index.js";
import { Ofproto, parseMatch, xlate } from "../vswitchd/index.js";
import { type Figure, rate } from "./harness.js";

const N_RULES = 10_000;
const N_FLOWS = 1024;

/** Seven, seven and six masks per table: twenty in all. */
const TABLE_MASKS: ReadonlyArray<ReadonlyArray<(i: number) => string>> = [
  [
    (i) => `in_port=${(i % 4) + 1},dl_dst=50:54:00:${hex(i >> 8)}:${hex(i)}:01`,
    (i) => `ip,nw_dst=10.${i % 256}.${(i >> 8) % 256}.0/24`,
    (i) => `ip,nw_dst=10.${i % 256}.0.0/16`,
    (i) => `ip,nw_src=172.16.${i % 256}.${(i >> 8) % 256}`,
    (i) => `tcp,tp_dst=${1000 + i}`,
    (i) => `udp,tp_dst=${2000 + i}`,
    (i) => `dl_src=02:00:00:${hex(i >> 8)}:${hex(i)}:02`,
  ],
  [
    (i) => `reg0=${i}`,
    (i) => `ip,nw_dst=192.168.${i % 256}.${(i >> 8) % 256}`,
    (i) => `ip,nw_src=10.${i % 256}.0.0/16`,
    (i) => `tcp,nw_dst=10.0.${i % 256}.0/24,tp_dst=80`,
    (i) => `in_port=${(i % 4) + 1},ip,nw_src=10.1.${i % 256}.${(i >> 8) % 256}`,
    (i) => `udp,tp_src=${3000 + i}`,
    (i) => `metadata=${i}`,
  ],
  [
    (i) => `ip,nw_dst=10.2.${i % 256}.${(i >> 8) % 256}`,
    (i) => `tcp,tp_src=${4000 + i}`,
    (i) => `dl_dst=50:54:00:00:${hex(i)}:${hex(i >> 8)}`,
    (i) => `ip,nw_tos=${(i % 63) * 4}`,
    (i) => `ip,nw_src=192.168.${i % 256}.0/24`,
    (i) => `reg1=${i}`,
  ],
];

function hex(n: number): string {
  return (n & 0xff).toString(16).padStart(2, "0");
}

/** Builds the switch and a set of packets that mostly miss into lower priorities. */
export function buildPipeline(): { of: Ofproto; flows: Uint32Array[] } {
  const of = new Ofproto();
  const b = of.addBridge("br0");
  for (let p = 1; p <= 4; p++) of.addPort("br0", { name: `p${p}`, ofport: p, type: "dummy" });
  let n = 0;
  const perTable = [4000, 3000, 3000];
  for (let t = 0; t < 3; t++) {
    const masks = TABLE_MASKS[t]!;
    const next = t < 2 ? `resubmit(,${t + 1})` : "output:2";
    for (let i = 0; i < perTable[t]!; i++, n++) {
      const m = masks[i % masks.length]!(Math.floor(i / masks.length));
      const act = i % 5 === 0 ? `mod_dl_src:02:00:00:00:00:0${t + 1},${next}` : next;
      b.addFlow(`table=${t},priority=${100 + (i % 50)},${m},actions=${act}`, 0);
    }
    b.addFlow(`table=${t},priority=0,actions=${next}`, 0);
  }
  if (n !== N_RULES) throw new Error(`pipeline has ${n} rules, expected ${N_RULES}`);
  const flows: Uint32Array[] = [];
  for (let i = 0; i < N_FLOWS; i++) {
    const proto = i % 2 ? "tcp" : "udp";
    const text = `in_port=${(i % 4) + 1},${proto},dl_src=02:00:00:00:${hex(i)}:02,dl_dst=50:54:00:00:${hex(i >> 2)}:01,nw_src=10.${i % 7}.${i % 256}.${(i * 7) % 256},nw_dst=10.${i % 256}.${(i >> 3) % 256}.${i % 200},nw_ttl=64,tp_src=${4000 + (i % 500)},tp_dst=${1000 + (i % 700)}`;
    flows.push(parseMatch(text).key);
  }
  return { of, flows };
}

export const benchmarks: Figure[] = [
  {
    name: "ofproto.xlate_per_s",
    unit: "translations/s",
    async measure() {
      const { of, flows } = buildPipeline();
      const b = of.bridge("br0")!;
      let i = 0;
      const batch = 64;
      return rate(() => {
        for (let k = 0; k < batch; k++) {
          const r = xlate(of, b, flows[i++ & (N_FLOWS - 1)]!);
          if (r.mask[K.W_IN_PORT] !== 0xffff) throw new Error("megaflow lost in_port");
        }
      }, batch);
    },
  },
];
