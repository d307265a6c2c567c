/**
 * The benchmark contract shared by every module: a benchmark file
 * `bench/<module>.bench.ts` exports `benchmarks`, a list of figures; `npm run bench --
 * [PREFIX]` runs those whose names start with PREFIX and prints one JSON object per
 * line: {"name", "value", "unit", "node", "cores"}.
 *
 * Rates are measured with tinybench (warm-up, then repeated timed calls); a figure
 * that is not a rate (bytes per flow, seconds to start) is computed by its own
 * `measure` function. Nothing here asserts a target: benchmarks report, tests assert.
 */
import os from "node:os";
import { Bench } from "tinybench";

export interface Figure {
  /** `<module>.<figure>`, e.g. `packet.extract_mpps`. */
  readonly name: string;
  readonly unit: string;
  /** Produces the value; may take seconds. */
  measure(): Promise<number> | number;
}

export interface FigureResult {
  name: string;
  value: number;
  unit: string;
  node: string;
  cores: number;
}

export function result(figure: Figure, value: number): FigureResult {
  return {
    name: figure.name,
    value: Math.round(value * 1000) / 1000,
    unit: figure.unit,
    node: process.version,
    cores: os.availableParallelism(),
  };
}

/**
 * Calls `fn` repeatedly for about `timeMs` after a warm-up and returns
 * `itemsPerCall * calls per second / scale` (scale 1e6 gives "M items/s").
 */
export async function rate(
  fn: () => void,
  itemsPerCall: number,
  scale = 1,
  timeMs = 1000,
): Promise<number> {
  const bench = new Bench({ time: timeMs, warmup: true, warmupTime: 200 });
  bench.add("x", fn);
  await bench.run();
  const task = bench.tasks[0];
  const hz = task?.result && "throughput" in task.result ? task.result.throughput.mean : 0;
  if (!hz) throw new Error(`benchmark produced no result: ${String(task?.result?.state)}`);
  return (hz * itemsPerCall) / scale;
}
