import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import type { TestProject } from "vitest/node";
import { buildConsole, PROJECT_ROOT } from "../../scripts/build.mjs";

/** The line a run without PostgreSQL prints once, naming where the test setup is described. */
export const POSTGRES_NOTE =
  "note: OPENCONVAI_TEST_POSTGRES_URL is not set, so the PostgreSQL suites do not run (see DEVELOPERS.md, Tests).\n";

declare module "vitest" {
  export interface ProvidedContext {
    /** The console built from this checkout's console/ for this run (what the console tests serve). */
    consoleDir: string;
  }
}

/**
 * Vitest's global setup: runs once per `vitest run`, before any test file, so a note about the
 * whole run is printed once rather than once per file. It also builds the console from the
 * sources being tested (into a temporary folder, so dist/ is never half-written under a running
 * server), unless OPENCONVAI_TEST_CONSOLE_DIR names one already built.
 */
export default function setup(project: TestProject): () => void {
  if (!process.env.OPENCONVAI_TEST_POSTGRES_URL && !process.env.OPENCONVAI_TEST_QUIET) {
    process.stderr.write(POSTGRES_NOTE);
  }
  const given = process.env.OPENCONVAI_TEST_CONSOLE_DIR;
  if (given) {
    project.provide("consoleDir", path.resolve(given));
    return () => {};
  }
  const dir = mkdtempSync(path.join(tmpdir(), "openconvai-console-"));
  if (!buildConsole(PROJECT_ROOT, dir)) {
    rmSync(dir, { recursive: true, force: true });
    throw new Error(
      "The console (console/) did not build; the errors are above. Fix them, then run the tests again.",
    );
  }
  project.provide("consoleDir", dir);
  return () => rmSync(dir, { recursive: true, force: true });
}
