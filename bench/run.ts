/**
 * `npm run bench -- [PREFIX]`: loads `bench/<module>[-<part>].bench.js` for every module whose
 * figures could start with PREFIX, runs the matching figures one after another, and
 * prints one JSON line per figure (see harness.ts), collecting garbage before each when
 * run with --expose-gc. Exits non-zero if a figure throws.
 */
import { readdirSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath, pathToFileURL } from "node:url";
import { type Figure, result } from "./harness.js";

async function main(prefix: string): Promise<number> {
  const here = dirname(fileURLToPath(import.meta.url));
  const files = readdirSync(here)
    .filter((f) => f.endsWith(".bench.js"))
    .sort();
  let failed = 0;
  for (const file of files) {
    // `<module>.bench.js` or `<module>-<part>.bench.js` holds figures named `<module>.*`.
    const module = file.slice(0, -".bench.js".length).split("-")[0];
    if (!`${module}.`.startsWith(prefix) && !prefix.startsWith(`${module}.`) && prefix !== module)
      continue;
    const loaded = (await import(pathToFileURL(join(here, file)).href)) as {
      benchmarks: readonly Figure[];
    };
    for (const figure of loaded.benchmarks) {
      if (!figure.name.startsWith(prefix)) continue;
      try {
        // Under `node --expose-gc` (npm run bench), collect first: the garbage of the
        // figures before (the 1,000-host world is ~2 GB) must not land in this one's time.
        (globalThis as { gc?: () => void }).gc?.();
        const value = await figure.measure();
        process.stdout.write(`${JSON.stringify(result(figure, value))}\n`);
      } catch (err) {
        failed++;
        process.stderr.write(`${figure.name}: ${(err as Error).stack ?? String(err)}\n`);
      }
    }
  }
  return failed ? 1 : 0;
}

process.exitCode = await main(process.argv[2] ?? "");
