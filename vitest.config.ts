import { defineConfig } from "vitest/config";

export default defineConfig({
  test: {
    include: ["src/**/*.test.ts", "test/**/*.test.ts"],
    testTimeout: 30_000,
    hookTimeout: 60_000,
    // Suites share one PostgreSQL server; each uses its own schema, so files may run in parallel.
    pool: "forks",
    // Once per run, before the files: the note that the PostgreSQL suites do not run.
    globalSetup: ["test/support/global-setup.ts"],
  },
});
