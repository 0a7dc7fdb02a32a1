/**
 * The migrations that label message embeddings (SQLite schema version 15, PostgreSQL 16): every
 * row of a database with embeddings gets a distinct label, its key, text and vector unchanged;
 * and a label is never handed out again once its row is deleted.
 */
import path from "node:path";
import BetterSqlite3 from "better-sqlite3";
import { describe, expect, it } from "vitest";
import { buildConversationRecord } from "../src/domain/conversation-record.js";
import { SQLITE_FILE_NAME } from "../src/store/sqlite/sqlite-database.js";
import type { Database } from "../src/store/store.js";
import { BASE_START_TIME, buildConversation } from "./fixtures/conversations.js";
import { BACKENDS, type Backend, createTestStorage, type TestStorage } from "./support/backends.js";
import { queryTestDatabase } from "./support/postgres-schema.js";

const MODEL = "m";
const IDS = ["conv_a", "conv_b", "conv_c"];
const CHUNKS = 400;

async function storeEmbeddings(db: Database): Promise<void> {
  for (const [i, id] of IDS.entries()) {
    await db.conversations.putConversation(
      buildConversationRecord(buildConversation({ id, startTime: BASE_START_TIME + i })),
    );
  }
  for (const item of await db.messageSearch.findPendingEmbeddings(MODEL, 10)) {
    const rows = Array.from({ length: CHUNKS }, (_, chunk) => ({
      transcriptIndex: chunk % 7,
      chunk,
      chunkText: `${item.conversationId} ${chunk}`,
      vector: Float32Array.from([chunk, 1, -chunk - 1]),
    }));
    await db.messageSearch.replaceEmbeddings(
      item.conversationId,
      { model: MODEL, updatedAt: item.updatedAt, textHash: "h" },
      rows,
    );
  }
}

/** Puts the embeddings table back as it was before the labels, at the version before the migration. */
async function rewind(backend: Backend, storage: TestStorage): Promise<void> {
  if (backend === "sqlite") {
    const db = new BetterSqlite3(path.join(storage.dataDir, SQLITE_FILE_NAME));
    db.exec(`
      CREATE TABLE old_embeddings (
        conversation_id TEXT NOT NULL REFERENCES conversations (conversation_id) ON DELETE CASCADE,
        transcript_index INTEGER NOT NULL,
        chunk INTEGER NOT NULL,
        chunk_text TEXT NOT NULL,
        vector BLOB NOT NULL,
        PRIMARY KEY (conversation_id, transcript_index, chunk)
      ) WITHOUT ROWID;
      INSERT INTO old_embeddings SELECT conversation_id, transcript_index, chunk, chunk_text, vector FROM message_embeddings;
      DROP TABLE message_embeddings;
      DELETE FROM sqlite_sequence WHERE name = 'message_embeddings';
      ALTER TABLE old_embeddings RENAME TO message_embeddings;
      UPDATE schema_version SET version = 14;
    `);
    db.close();
  } else {
    const url = storage.databaseUrl ?? "";
    await queryTestDatabase(url, "ALTER TABLE message_embeddings DROP COLUMN label");
    await queryTestDatabase(url, "UPDATE schema_version SET version = 15");
  }
}

describe.each(BACKENDS)("the embedding-labels migration on %s", (backend) => {
  it("labels every embedding of an existing database once, and never reuses a label", async () => {
    const storage = createTestStorage(backend);
    try {
      let db = await storage.open();
      await storeEmbeddings(db);
      await db.close();
      await rewind(backend, storage);

      db = await storage.open();
      try {
        const vectors = await db.messageSearch.scanLabelledVectors(MODEL, 0, 100_000);
        expect(vectors.length).toBe(IDS.length * CHUNKS);
        const labels = vectors.map((v) => v.label);
        expect(new Set(labels).size).toBe(labels.length);
        expect(await db.messageSearch.highestEmbeddingLabel()).toBe(Math.max(...labels));
        // Key, text and vector unchanged, found by label.
        const found = await db.messageSearch.findChunksByLabel(MODEL, labels.slice(0, 50), {});
        expect(found.length).toBe(50);
        for (const row of found) {
          expect(row.chunkText).toBe(`${row.conversationId} ${row.chunk}`);
          expect(row.transcriptIndex).toBe(row.chunk % 7);
          expect([...row.vector]).toEqual([row.chunk, 1, -row.chunk - 1]);
        }
        // Deleting the conversation holding the highest label, then embedding one anew: higher labels only.
        const highest = Math.max(...labels);
        const owner = (await db.messageSearch.findChunksByLabel(MODEL, [highest], {}))[0]
          ?.conversationId as string;
        await db.conversations.deleteConversation(owner);
        expect(await db.messageSearch.findLabelledVectors(MODEL, [highest])).toEqual([]);
        await db.conversations.putConversation(
          buildConversationRecord(buildConversation({ id: "conv_new", startTime: BASE_START_TIME + 9 })),
        );
        const pending = (await db.messageSearch.findPendingEmbeddings(MODEL, 10)).find(
          (p) => p.conversationId === "conv_new",
        );
        await db.messageSearch.replaceEmbeddings(
          "conv_new",
          { model: MODEL, updatedAt: pending?.updatedAt ?? 0, textHash: "h" },
          [{ transcriptIndex: 0, chunk: 0, chunkText: "new", vector: Float32Array.from([1, 2, 3]) }],
        );
        const added = await db.messageSearch.scanLabelledVectors(MODEL, highest, 10);
        expect(added.length).toBe(1);
        expect(added[0]?.label).toBeGreaterThan(highest);
      } finally {
        await db.close();
      }
    } finally {
      await storage.cleanup();
    }
  });
});
