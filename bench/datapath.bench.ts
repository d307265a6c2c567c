/**
 * Datapath benchmarks (one core, 64-byte frames, batches of 32), see issue 4:
 * - datapath.emc_mpps: EMC-hit forwarding of one flow to one port.
 * - datapath.megaflow{1,8,32}_mpps: EMC off, 100k distinct 5-tuples spread evenly over
 *   1, 8 or 32 subtables (each packet matches in exactly one).
 * - datapath.flow_put_per_s: installing new megaflows (text actions, cached parse).
 * - datapath.bytes_per_megaflow: heap + typed-array bytes per installed megaflow, over
 *   100k megaflows, measured between two full GCs. `node --expose-gc` provides the
 *   collector; without the flag the benchmark turns it on at run time
 *   (v8.setFlagsFromString + vm), so plain `npm run bench -- datapath` works too.
 */
import v8 from "node:v8";
import vm from "node:vm";
import { Dpif, PacketBatch, parseOdpKey } from "../datapath/index.js";
import { buildFrame, FLOW_WORDS, W_NW_SRC } from "../packet/index.js";
import { type Figure, rate } from "./harness.js";

const clock = { nowNs: () => 0 };
const sink = { transmit: (_f: Uint8Array, _o: number, _l: number) => {} };
const MAC1 = Uint8Array.of(0, 0, 0, 0, 0, 1);
const MAC2 = Uint8Array.of(0, 0, 0, 0, 0, 2);

function frame64(src: number, dst: number, sport: number, dport: number): Uint8Array {
  // 14 Ethernet + 20 IPv4 + 20 TCP + 10 payload = 64 bytes.
  return buildFrame({
    eth: { src: MAC1, dst: MAC2 },
    ipv4: { src, dst },
    tcp: { srcPort: sport, dstPort: dport, flags: 0x10 },
    payload: new Uint8Array(10),
  });
}

function newDpif(emcInsertInvProb: number): Dpif {
  const dp = new Dpif({ clock, emcInsertInvProb, upcallQueueDepth: 64 });
  dp.addPort({ name: "p1", type: "netdev", portNo: 1, port: sink });
  dp.addPort({ name: "p2", type: "netdev", portNo: 2, port: sink });
  return dp;
}

async function emcMpps(): Promise<number> {
  const dp = newDpif(1);
  const { key, mask } = parseOdpKey(
    "in_port(1),eth(),eth_type(0x0800),ipv4(dst=10.0.0.2,proto=6,frag=no),tcp(dst=80)",
  );
  dp.flowPut(key, mask, "2");
  const f = frame64(0x0a000001, 0x0a000002, 1234, 80);
  const batch = new PacketBatch();
  for (let i = 0; i < 32; i++) batch.add(f, 0, f.length);
  dp.receiveBatch(1, batch);
  return rate(() => dp.receiveBatch(1, batch), 32, 1e6);
}

async function megaflowMpps(nSubtables: number): Promise<number> {
  const dp = newDpif(0);
  const N = 100_000;
  const frames: Uint8Array[] = [];
  let x = 12345;
  const rnd = () => {
    x ^= x << 13;
    x ^= x >>> 17;
    x ^= x << 5;
    return x >>> 0;
  };
  for (let j = 0; j < N; j++) {
    const st = j % nSubtables;
    const src = rnd();
    frames.push(frame64(src, rnd(), 1024 + (rnd() % 50000), st));
    // Subtable `st` matches tp_dst == st and a /(1+st) prefix of nw_src: disjoint masks,
    // and no packet can match a megaflow of another subtable.
    const prefix = 1 + st;
    const net = (src & (0xffffffff << (32 - prefix))) >>> 0;
    const text = `in_port(1),eth(),eth_type(0x0800),ipv4(src=${net >>> 24}.${(net >>> 16) & 255}.${(net >>> 8) & 255}.${net & 255}/${prefix},proto=6,frag=no),tcp(dst=${st})`;
    const { key, mask } = parseOdpKey(text);
    dp.flowPut(key, mask, "2");
  }
  if (dp.stats().masks !== nSubtables) throw new Error(`expected ${nSubtables} subtables`);
  const batch = new PacketBatch();
  batch.count = 32;
  let next = 0;
  const before = dp.stats().missed;
  const value = await rate(
    () => {
      for (let i = 0; i < 32; i++) {
        const f = frames[next];
        batch.frames[i] = f;
        batch.offsets[i] = 0;
        batch.lengths[i] = f.length;
        next = next + 1 === N ? 0 : next + 1;
      }
      dp.receiveBatch(1, batch);
    },
    32,
    1e6,
  );
  if (dp.stats().missed !== before) throw new Error("megaflow benchmark packets missed");
  return value;
}

async function flowPutPerS(): Promise<number> {
  const dp = newDpif(100);
  const { key, mask } = parseOdpKey(
    "in_port(1),eth(),eth_type(0x0800),ipv4(src=0.0.0.0,dst=10.0.0.2,proto=6,frag=no),tcp(src=1,dst=80)",
  );
  let n = 1;
  return rate(() => {
    for (let i = 0; i < 1000; i++) {
      key[W_NW_SRC] = n++;
      dp.flowPut(key, mask, "2");
    }
  }, 1000);
}

function bytesPerMegaflow(): number {
  let gc = (globalThis as { gc?: () => void }).gc;
  if (!gc) {
    v8.setFlagsFromString("--expose-gc");
    gc = vm.runInNewContext("gc") as () => void;
  }
  const N = 100_000;
  const used = () => {
    gc();
    gc();
    const m = process.memoryUsage();
    return m.heapUsed + m.arrayBuffers;
  };
  const dp = newDpif(100);
  const { key, mask } = parseOdpKey(
    "in_port(1),eth(),eth_type(0x0800),ipv4(src=0.0.0.0,dst=10.0.0.2,proto=6,frag=no),tcp(src=1,dst=80)",
  );
  const actions = dp.parseActionsCached("2");
  dp.flowPut(key, mask, actions);
  const k = new Uint32Array(FLOW_WORDS);
  k.set(key);
  const before = used();
  for (let i = 1; i <= N; i++) {
    k[W_NW_SRC] = i;
    dp.flowPut(k, mask, actions);
  }
  const after = used();
  if (dp.stats().flows !== N + 1) throw new Error("flows were not all installed");
  return (after - before) / N;
}

export const benchmarks: Figure[] = [
  { name: "datapath.emc_mpps", unit: "Mpps", measure: emcMpps },
  { name: "datapath.megaflow1_mpps", unit: "Mpps", measure: () => megaflowMpps(1) },
  { name: "datapath.megaflow8_mpps", unit: "Mpps", measure: () => megaflowMpps(8) },
  { name: "datapath.megaflow32_mpps", unit: "Mpps", measure: () => megaflowMpps(32) },
  { name: "datapath.flow_put_per_s", unit: "flows/s", measure: flowPutPerS },
  { name: "datapath.bytes_per_megaflow", unit: "bytes", measure: bytesPerMegaflow },
];
