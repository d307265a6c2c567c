/**
 * sim/ benchmarks: the scheduler's raw event rate and frames across one link.
 *
 * - sim.events_per_s: empty events scheduled (1024 pending at once, spread over
 *   distinct times and priorities) and run to idle, in events/s (target >= 5 M/s).
 * - sim.link_frames_per_s: frames from one endpoint to another across one link
 *   (1 Gbps, 10 us), built, carried, delivered and parsed, in frames/s (target >= 1 M/s).
 */
import { parseIp, Rng, Scheduler, World } from "../sim/index.js";
import { type Figure, rate } from "./harness.js";

const BATCH = 1024;

function eventsPerSecond(): Promise<number> {
  const scheduler = new Scheduler();
  const rng = new Rng(7);
  const delays = new Float64Array(BATCH);
  for (let i = 0; i < BATCH; i++) delays[i] = rng.nextInt(10_000);
  let ran = 0;
  const empty = (): void => {
    ran++;
  };
  return rate(() => {
    for (let i = 0; i < BATCH; i++) scheduler.schedule(delays[i], empty, i, i & 3);
    scheduler.runUntilIdle();
  }, BATCH).then((v) => {
    if (ran === 0) throw new Error("no event ran");
    return v;
  });
}

const FRAMES = 256;

/** h1 sends 64-byte UDP datagrams to a bound socket on h2; one call carries FRAMES. */
function linkFramesPerSecond(): Promise<number> {
  const world = new World({ seed: 1 });
  const h1 = world.endpoint("h1", { vnics: [{ ipv4: "10.0.0.1/24" }] });
  const h2 = world.endpoint("h2", { vnics: [{ ipv4: "10.0.0.2/24" }] });
  world.link(h1.vnics[0], h2.vnics[0], { latency: "10us", bandwidth: "1Gbps" });
  const server = h2.udpSocket().bind(5001);
  let received = 0;
  server.onMessage = () => {
    received++;
  };
  const client = h1.udpSocket().bind(4000);
  const dst = parseIp("10.0.0.2")!;
  const payload = new Uint8Array(64);
  // Resolve ARP before measuring.
  client.sendRaw(payload, 0, 64, dst, 5001, 64, 0);
  world.runUntilIdle();
  return rate(() => {
    for (let i = 0; i < FRAMES; i++) client.sendRaw(payload, 0, 64, dst, 5001, 64, 0);
    world.runUntilIdle();
  }, FRAMES).then((v) => {
    if (received < FRAMES) throw new Error(`only ${received} datagrams arrived`);
    return v;
  });
}

export const benchmarks: Figure[] = [
  { name: "sim.events_per_s", unit: "events/s", measure: eventsPerSecond },
  { name: "sim.link_frames_per_s", unit: "frames/s", measure: linkFramesPerSecond },
];
