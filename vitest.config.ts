/**
 * vitest configuration. Tests import the TypeScript sources directly; `npm test`
 * builds dist/ first because interop suites run the compiled `ovsim` as a user would.
 * Forked workers keep one suite's daemons and sockets out of another's process.
 */
import { defineConfig } from "vitest/config";
export default defineConfig({
  test: {
    include: ["test/**/*.test.ts"],
    testTimeout: 60_000,
    hookTimeout: 60_000,
    pool: "forks",
  },
});
