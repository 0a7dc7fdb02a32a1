import { type ChildProcess, spawn } from "node:child_process";
import { writeFileSync } from "node:fs";
import path from "node:path";
import { fileURLToPath } from "node:url";
import Database from "better-sqlite3";
import pg from "pg";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import type { ListQuery } from "../src/domain/list-query.js";
import type { Database as Store } from "../src/store/store.js";
import { syntheticConversation } from "./fixtures/synthetic-conversations.js";
import { BACKENDS, createTestStorage, type TestStorage } from "./support/backends.js";
import { listQuery } from "./support/list-query.js";
import { queryTestDatabase } from "./support/postgres-schema.js";
import { runCli } from "./support/run-cli.js";

const REPO = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "..");

/** Conversations in the input; the import is killed long before it could write them all. */
const TOTAL = 10_000;
/** The importer's batch: one transaction. */
const BATCH = 1000;

/** Every id the list returns for a query, page by page. */
async function listedIds(store: Store, query: Partial<ListQuery>): Promise<string[]> {
  const ids: string[] = [];
  let cursor: ListQuery["cursor"] = null;
  for (;;) {
    const page = await store.conversations.listConversations(listQuery({ ...query, pageSize: 500, cursor }));
    for (const item of page.items)
      ids.push((JSON.parse(item.listItemJson) as { conversation_id: string }).conversation_id);
    if (!page.hasMore || !page.nextCursor) return ids;
    cursor = page.nextCursor;
  }
}

/** Runs statements on one connection and returns the last one's rows. */
async function queryAll(url: string, statements: string[]): Promise<unknown[]> {
  const client = new pg.Client({ connectionString: url });
  await client.connect();
  try {
    let rows: unknown[] = [];
    for (const sql of statements) rows = (await client.query(sql)).rows;
    return rows;
  } finally {
    await client.end();
  }
}

/** Waits until a condition holds, checking every few milliseconds. */
async function waitFor(condition: () => Promise<boolean>, timeoutMs = 60_000): Promise<void> {
  const until = Date.now() + timeoutMs;
  while (!(await condition())) {
    if (Date.now() > until) throw new Error("timed out waiting");
    await new Promise((r) => setTimeout(r, 5));
  }
}

describe.each(BACKENDS)("an import killed while it writes (%s)", (backend) => {
  let storage: TestStorage;
  const docs = Array.from({ length: TOTAL }, (_, i) => syntheticConversation(i, 4));
  const byId = new Map(docs.map((d) => [d.conversation_id as string, d]));
  const ndjson = `${docs.map((d) => JSON.stringify(d)).join("\n")}\n`;
  /** The folded search text holds the transcript's messages and the summary. */
  const mentions = (doc: Record<string, unknown>, word: string) =>
    (doc.transcript as { message: string }[]).some((t) => t.message.toLowerCase().includes(word));

  beforeEach(() => {
    storage = createTestStorage(backend);
  });
  afterEach(async () => {
    await storage.cleanup();
  });

  /** Starts `openconvai import -` on the test storage; stdin stays open, so the import cannot end by itself. */
  function startImport(): { child: ChildProcess; done: Promise<NodeJS.Signals | null> } {
    const env: NodeJS.ProcessEnv = { ...process.env };
    delete env.DATABASE_URL;
    delete env.OPENCONVAI_DATA;
    if (storage.databaseUrl) env.DATABASE_URL = storage.databaseUrl;
    const child = spawn(
      process.execPath,
      ["--import", "tsx", "src/cli/bin.ts", "import", "-", "--data", storage.dataDir],
      { cwd: REPO, env, stdio: ["pipe", "ignore", "ignore"] },
    );
    child.stdin?.on("error", () => undefined);
    const done = new Promise<NodeJS.Signals | null>((resolve, reject) => {
      child.on("error", reject);
      child.on("close", (_code, signal) => resolve(signal));
    });
    return { child, done };
  }

  it("leaves whole batches of whole conversations, and list, search, facets and GET agree", async () => {
    const run = startImport();
    run.child.stdin?.write(ndjson);
    // Killed as soon as a batch is committed: the next ones are being written (PostgreSQL writes two at once).
    let store = await storage.open();
    try {
      await waitFor(async () => (await store.conversations.countConversations()) >= BATCH);
    } finally {
      run.child.kill("SIGKILL");
      await store.close();
    }
    expect(await run.done).toBe("SIGKILL");

    store = await storage.open();
    try {
      const count = await store.conversations.countConversations();
      expect(count).toBeGreaterThanOrEqual(BATCH);
      expect(count).toBeLessThan(TOTAL);
      // Each batch is one transaction: none is there in part.
      expect(count % BATCH).toBe(0);

      const listed = await listedIds(store, {});
      expect(listed).toHaveLength(count);
      expect(new Set(listed).size).toBe(count);
      for (const id of listed) {
        const stored = await store.conversations.getConversation(id);
        expect(stored, id).toBeDefined();
        const doc = JSON.parse(stored?.json ?? "{}") as Record<string, unknown>;
        const input = byId.get(id) as Record<string, unknown>;
        expect(doc.conversation_id).toBe(id);
        expect(doc.transcript).toEqual(input.transcript);
        expect(doc.metadata).toMatchObject({
          start_time_unix_secs: (input.metadata as Record<string, unknown>).start_time_unix_secs,
        });
      }
      const stored = listed.map((id) => byId.get(id) as Record<string, unknown>);

      // The search index holds exactly the stored conversations: every one for a word of the
      // summary, the right ones for a word of some messages.
      expect((await listedIds(store, { search: "late order" })).sort()).toEqual([...listed].sort());
      const word = "wonderful";
      const expected = stored.filter((d) => mentions(d, word)).map((d) => d.conversation_id as string);
      expect(expected.length).toBeGreaterThan(0);
      expect((await listedIds(store, { search: word })).sort()).toEqual(expected.sort());

      // Facet rows and the column indexes agree with the documents.
      const pro = stored.filter(
        (d) =>
          (d.conversation_initiation_client_data as { dynamic_variables: { plan: string } }).dynamic_variables
            .plan === "pro",
      );
      expect(
        (await listedIds(store, { dynamicVariables: [{ key: "plan", op: "eq", values: ["pro"] }] })).sort(),
      ).toEqual(pro.map((d) => d.conversation_id as string).sort());
      const agent3 = stored.filter((d) => d.agent_id === "agent_3").map((d) => d.conversation_id as string);
      expect((await listedIds(store, { agentId: "agent_3" })).sort()).toEqual(agent3.sort());
    } finally {
      await store.close();
    }

    // Below the store: the engine's own checks of every index.
    if (backend === "sqlite") {
      const raw = new Database(path.join(storage.dataDir, "openconvai.sqlite"));
      try {
        expect(raw.pragma("integrity_check", { simple: true })).toBe("ok");
        raw.exec("INSERT INTO conversation_text (conversation_text) VALUES ('integrity-check')");
        const counts = raw
          .prepare(
            "SELECT (SELECT count(*) FROM conversations) AS rows, (SELECT count(*) FROM conversation_text) AS texts, " +
              "(SELECT count(*) FROM facets WHERE seq NOT IN (SELECT seq FROM conversations)) AS orphans",
          )
          .get();
        expect(counts).toMatchObject({ texts: (counts as { rows: number }).rows, orphans: 0 });
      } finally {
        raw.close();
      }
    } else {
      const url = storage.databaseUrl as string;
      const [orphans] = await queryTestDatabase(
        url,
        "SELECT count(*)::int AS n FROM facets WHERE seq NOT IN (SELECT seq FROM conversations)",
      );
      expect(orphans?.n).toBe(0);
      // The trigram index and a scan of the table find the same rows.
      const count = "SELECT count(*)::int AS n FROM conversations WHERE search_text LIKE '%wonderful%'";
      const viaIndex = await queryAll(url, ["SET enable_seqscan = off", `EXPLAIN ${count}`]);
      expect(JSON.stringify(viaIndex)).toContain("conversations_search");
      const indexed = await queryAll(url, ["SET enable_seqscan = off", count]);
      const scanned = await queryAll(url, [
        "SET enable_bitmapscan = off",
        "SET enable_indexscan = off",
        count,
      ]);
      expect(indexed).toEqual(scanned);
    }

    // The same import again finishes the job: nothing is duplicated.
    const file = path.join(storage.dataDir, "all.ndjson");
    writeFileSync(file, ndjson);
    const env: Record<string, string> = storage.databaseUrl ? { DATABASE_URL: storage.databaseUrl } : {};
    const again = await runCli(["import", file, "--data", storage.dataDir], { env });
    expect(again.stderr).toMatch(/ 0 bad lines;/);
    store = await storage.open();
    try {
      expect(await store.conversations.countConversations()).toBe(TOTAL);
      expect(await listedIds(store, { search: "late order" })).toHaveLength(TOTAL);
    } finally {
      await store.close();
    }
  }, 180_000);
});
