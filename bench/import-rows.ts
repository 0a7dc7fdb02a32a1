/**
 * The import rows: conversations/s through the real `openconvai import` (dist/cli/bin.js),
 * (a) into an empty database and (b) into the loaded one. The second row imports 20,000 new
 * conversations (generated ids past the loaded ones) and removes them again through the store
 * API, so a later `--reuse` run starts from the same N conversations.
 */
import { execFileSync } from "node:child_process";
import { createWriteStream, existsSync, mkdirSync, rmSync } from "node:fs";
import path from "node:path";
import pg from "pg";
import { openDatabase } from "../src/store/open-database.js";
import { conversationIdAt, generateConversation } from "./generate-conversations.js";

/** One import row of the report. */
export interface ImportRow {
  name: string;
  conversations: number;
  seconds: number;
  /** Conversations per second. */
  rate: number;
  /** What else the row did (e.g. conversations removed after). */
  note?: string;
}

/** New conversations imported into the loaded database. */
export const IMPORT_INTO_LOADED_COUNT = 20_000;
/** The most conversations the "import into empty" row loads. */
export const IMPORT_INTO_EMPTY_MAX = 100_000;
/** Deletes run this many at a time (PostgreSQL answers them in parallel; SQLite one by one). */
const DELETE_CONCURRENCY = 8;

/** Writes conversations `from` … `from + count - 1` of a seeded set as NDJSON (cached). */
export async function writeConversations(
  file: string,
  from: number,
  count: number,
  seed: number,
): Promise<void> {
  if (existsSync(file)) return;
  mkdirSync(path.dirname(file), { recursive: true });
  const temp = `${file}.tmp`;
  const out = createWriteStream(temp);
  for (let i = from; i < from + count; i++) {
    const line = `${JSON.stringify(generateConversation(i, seed))}\n`;
    if (!out.write(line)) await new Promise<void>((resolve) => out.once("drain", () => resolve()));
  }
  await new Promise<void>((resolve, reject) =>
    out.end((error?: Error | null) => (error ? reject(error) : resolve())),
  );
  execFileSync("mv", [temp, file]);
}

/** Loads a file through the real `openconvai import` command; returns the seconds it took. */
export function importFile(
  root: string,
  file: string,
  dataDir: string,
  databaseUrl: string | undefined,
): number {
  const started = performance.now();
  execFileSync(
    process.execPath,
    [path.join(root, "dist", "cli", "bin.js"), "import", file, "--data", dataDir],
    {
      stdio: ["ignore", "ignore", "inherit"],
      env: { ...process.env, ...(databaseUrl ? { DATABASE_URL: databaseUrl } : {}) },
    },
  );
  return (performance.now() - started) / 1000;
}

/** A PostgreSQL URL whose connections use `schema` first. */
export function schemaUrl(databaseUrl: string, schema: string): string {
  const url = new URL(databaseUrl);
  url.searchParams.set("options", `-c search_path=${schema},public`);
  return url.toString();
}

/** Runs one statement on the admin connection. */
async function adminQuery(databaseUrl: string, sql: string): Promise<void> {
  const client = new pg.Client({ connectionString: databaseUrl });
  await client.connect();
  try {
    await client.query(sql);
  } finally {
    await client.end();
  }
}

/**
 * "import into empty": the first `count` conversations (the file holds them) loaded into a fresh
 * empty database (a temporary SQLite data dir, or a temporary PostgreSQL schema), removed after.
 */
export async function importIntoEmpty(options: {
  root: string;
  outDir: string;
  file: string;
  count: number;
  backend: "sqlite" | "postgres";
  adminUrl: string;
}): Promise<ImportRow> {
  const { root, outDir, file, count, backend, adminUrl } = options;
  const dataDir = path.join(outDir, `import-empty-${process.pid}`);
  const schema = `bench_import_empty_${process.pid}`;
  rmSync(dataDir, { recursive: true, force: true });
  mkdirSync(dataDir, { recursive: true });
  if (backend === "postgres") {
    await adminQuery(adminUrl, `DROP SCHEMA IF EXISTS ${schema} CASCADE`);
    await adminQuery(adminUrl, `CREATE SCHEMA ${schema}`);
  }
  try {
    process.stderr.write(`importing ${count} conversations into an empty ${backend} database…\n`);
    const seconds = importFile(
      root,
      file,
      dataDir,
      backend === "postgres" ? schemaUrl(adminUrl, schema) : undefined,
    );
    return { name: "import into empty", conversations: count, seconds, rate: count / seconds };
  } finally {
    rmSync(dataDir, { recursive: true, force: true });
    if (backend === "postgres") await adminQuery(adminUrl, `DROP SCHEMA IF EXISTS ${schema} CASCADE`);
  }
}

/** Deletes conversations `from` … `from + count - 1` through the store API; returns how many existed. */
async function deleteRange(options: {
  dataDir: string;
  databaseUrl: string | undefined;
  seed: number;
  from: number;
  count: number;
}): Promise<number> {
  const db = await openDatabase({ dataDir: options.dataDir, databaseUrl: options.databaseUrl });
  let deleted = 0;
  try {
    for (let i = 0; i < options.count; i += DELETE_CONCURRENCY) {
      const ids = Array.from({ length: Math.min(DELETE_CONCURRENCY, options.count - i) }, (_, j) =>
        conversationIdAt(options.from + i + j, options.seed),
      );
      const gone = await Promise.all(ids.map((id) => db.conversations.deleteConversation(id)));
      deleted += gone.filter((g) => g !== undefined).length;
    }
  } finally {
    await db.close();
  }
  return deleted;
}

/**
 * "import into N": 20,000 new conversations (indices N … N + 19,999 of the same seed, so new ids)
 * imported into the loaded database and timed, then deleted again. Conversations of that range
 * left by an earlier run (the ingest scenario writes indices from N on) are deleted first.
 */
export async function importIntoLoaded(options: {
  root: string;
  outDir: string;
  seed: number;
  count: number;
  dataDir: string;
  databaseUrl: string | undefined;
}): Promise<ImportRow> {
  const { root, outDir, seed, count, dataDir, databaseUrl } = options;
  const file = path.join(outDir, `conversations-${seed}-from-${count}-${IMPORT_INTO_LOADED_COUNT}.ndjson`);
  await writeConversations(file, count, IMPORT_INTO_LOADED_COUNT, seed);
  const range = { dataDir, databaseUrl, seed, from: count, count: IMPORT_INTO_LOADED_COUNT };
  const leftovers = await deleteRange(range);
  if (leftovers > 0) process.stderr.write(`removed ${leftovers} conversations left from an earlier run\n`);
  process.stderr.write(`importing ${IMPORT_INTO_LOADED_COUNT} new conversations into the ${count} loaded…\n`);
  const seconds = importFile(root, file, dataDir, databaseUrl);
  const started = performance.now();
  const removed = await deleteRange(range);
  if (removed !== IMPORT_INTO_LOADED_COUNT)
    throw new Error(
      `import into ${count}: ${removed} of ${IMPORT_INTO_LOADED_COUNT} imported conversations found`,
    );
  const removeSeconds = (performance.now() - started) / 1000;
  process.stderr.write(`removed them again in ${removeSeconds.toFixed(1)} s\n`);
  return {
    name: "import into N",
    conversations: IMPORT_INTO_LOADED_COUNT,
    seconds,
    rate: IMPORT_INTO_LOADED_COUNT / seconds,
    note: `removed again in ${removeSeconds.toFixed(1)} s`,
  };
}
