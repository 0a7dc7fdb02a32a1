/** The line a run without PostgreSQL prints once, naming where the test setup is described. */
export const POSTGRES_NOTE =
  "note: OPENCONVAI_TEST_POSTGRES_URL is not set, so the PostgreSQL suites do not run (see DEVELOPERS.md, Tests).\n";

/**
 * Vitest's global setup: runs once per `vitest run`, before any test file, so a note about the
 * whole run is printed once rather than once per file.
 */
export default function setup(): void {
  if (!process.env.OPENCONVAI_TEST_POSTGRES_URL && !process.env.OPENCONVAI_TEST_QUIET) {
    process.stderr.write(POSTGRES_NOTE);
  }
}
