import { randomUUID } from "node:crypto";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { openDatabase } from "../../src/store/open-database.js";
import type { Database } from "../../src/store/store.js";

/** A database backend the suites run against. */
export type Backend = "sqlite" | "postgres";

/**
 * The PostgreSQL server for the suites. Unset, the PostgreSQL suites are reported as skipped
 * (and global-setup.ts says so once per run); .ci/run sets it, so CI always runs them.
 */
export const POSTGRES_TEST_URL = process.env.OPENCONVAI_TEST_POSTGRES_URL;

/** The backends to loop every behaviour suite over. */
export const BACKENDS: Backend[] = POSTGRES_TEST_URL ? ["sqlite", "postgres"] : ["sqlite"];

/** A fresh, empty place to store things: a temp data dir, and for PostgreSQL a schema of its own. */
export interface TestStorage {
  dataDir: string;
  /** Set for PostgreSQL: a URL whose search_path is a fresh schema. */
  databaseUrl: string | undefined;
  open(): Promise<Database>;
  cleanup(): Promise<void>;
}

/** Creates isolated storage for one suite. */
export function createTestStorage(backend: Backend): TestStorage {
  const dataDir = mkdtempSync(path.join(tmpdir(), "openconvai-test-"));
  let databaseUrl: string | undefined;
  if (backend === "postgres") {
    if (!POSTGRES_TEST_URL) throw new Error("OPENCONVAI_TEST_POSTGRES_URL is not set");
    const schema = `t_${randomUUID().replace(/-/g, "").slice(0, 16)}`;
    const url = new URL(POSTGRES_TEST_URL);
    url.searchParams.set("options", `-c search_path=${schema},public`);
    databaseUrl = url.toString();
  }
  return {
    dataDir,
    databaseUrl,
    open: () => openDatabase({ dataDir, databaseUrl }),
    cleanup: async () => {
      rmSync(dataDir, { recursive: true, force: true });
      if (databaseUrl) {
        const { dropTestSchema } = await import("./postgres-schema.js");
        await dropTestSchema(databaseUrl);
      }
    },
  };
}
