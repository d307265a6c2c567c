import { defineConfig } from "vitest/config";

// Tests import the TypeScript sources directly; `npm test` builds dist/ first
// because interop suites run the compiled `ovsim` binary as a user would.
export default defineConfig({
  test: {
    include: ["test/**/*.test.ts"],
    testTimeout: 60_000,
    hookTimeout: 60_000,
    pool: "forks",
  },
});
