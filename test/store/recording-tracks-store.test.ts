/**
 * The store's side of a live call's recording, on every backend: a conversation's audio carries
 * each speaker's track (key and size), switched together with the recording, kept by a document
 * write, handed back by a replace and a delete; and a database from before the tracks' columns
 * migrates with its audio intact.
 */
import path from "node:path";
import BetterSqlite3 from "better-sqlite3";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { buildConversationRecord } from "../../src/domain/conversation-record.js";
import type { AudioInfo } from "../../src/store/audio-info.js";
import { postgresRecordingTracksMigration } from "../../src/store/postgres/migration-recording-tracks.js";
import { sqliteRecordingTracksMigration } from "../../src/store/sqlite/migration-recording-tracks.js";
import { SQLITE_FILE_NAME } from "../../src/store/sqlite/sqlite-database.js";
import type { Database } from "../../src/store/store.js";
import { buildConversation } from "../fixtures/conversations.js";
import { BACKENDS, type Backend, createTestStorage, type TestStorage } from "../support/backends.js";
import { queryTestDatabase } from "../support/postgres-schema.js";

const RECORDING: AudioInfo = {
  blobKey: "audio/h/mix",
  contentType: "audio/mpeg",
  size: 5_000_000_000,
  tracks: {
    user: { blobKey: "audio/h/user-1", size: 4_000_000_000 },
    agent: { blobKey: "audio/h/agent-1", size: 7 },
  },
};
const UPLOADED: AudioInfo = { blobKey: "audio/h/uploaded", contentType: "audio/wav", size: 3 };

/** Runs statements on the test database past the store. */
async function runSql(backend: Backend, storage: TestStorage, statements: string[]): Promise<void> {
  if (backend === "postgres") {
    for (const sql of statements) await queryTestDatabase(storage.databaseUrl ?? "", sql);
    return;
  }
  const db = new BetterSqlite3(path.join(storage.dataDir, SQLITE_FILE_NAME));
  try {
    for (const sql of statements) db.exec(sql);
  } finally {
    db.close();
  }
}

describe.each(BACKENDS)("speaker tracks in the %s store", (backend) => {
  let storage: TestStorage;
  let db: Database;

  beforeEach(async () => {
    storage = createTestStorage(backend);
    db = await storage.open();
    await db.conversations.putConversation(buildConversationRecord(buildConversation({ id: "c1" })));
  });
  afterEach(async () => {
    await db?.close();
    await storage?.cleanup();
  });

  it("records the tracks with the recording and reads them back on every read", async () => {
    expect(await db.conversations.setAudio("c1", RECORDING)).toEqual({ replaced: null });
    expect((await db.conversations.getConversation("c1"))?.audio).toEqual(RECORDING);
    expect((await db.conversations.getServedConversationBytes("c1"))?.audio).toEqual(RECORDING);
    expect((await db.conversations.scanConversations(null, 10))[0]?.audio).toEqual(RECORDING);
    const replaced = await db.conversations.putConversation(
      buildConversationRecord(buildConversation({ id: "c1" })),
    );
    expect(replaced).toEqual({ outcome: "replaced", audio: RECORDING });
    expect(await db.conversations.deleteConversation("c1")).toEqual({ audio: RECORDING });
  });

  it("switches the recording and its tracks together, handing back the ones replaced", async () => {
    await db.conversations.setAudio("c1", RECORDING);
    const userOnly: AudioInfo = {
      ...RECORDING,
      blobKey: "audio/h/mix2",
      tracks: { user: { blobKey: "u2", size: 1 } },
    };
    expect(await db.conversations.setAudio("c1", userOnly)).toEqual({ replaced: RECORDING });
    // Audio without tracks clears them: no key left over from the recording.
    expect(await db.conversations.setAudio("c1", UPLOADED)).toEqual({ replaced: userOnly });
    const stored = (await db.conversations.getConversation("c1"))?.audio;
    expect(stored).toEqual(UPLOADED);
    expect(stored).not.toHaveProperty("tracks");
  });

  it("migrates a database from before the tracks, keeping its audio and taking tracks after", async () => {
    await db.conversations.setAudio("c1", UPLOADED);
    await db.close();
    // The conversations table as it was just before the tracks' migration, then that migration
    // itself (the migrations after it stay as they are).
    await runSql(backend, storage, [
      ...["user_audio_key", "user_audio_size", "agent_audio_key", "agent_audio_size"].map(
        (column) => `ALTER TABLE conversations DROP COLUMN ${column}`,
      ),
      backend === "postgres" ? postgresRecordingTracksMigration : sqliteRecordingTracksMigration,
    ]);

    db = await storage.open();
    const stored = (await db.conversations.getConversation("c1"))?.audio;
    expect(stored).toEqual(UPLOADED);
    expect(stored).not.toHaveProperty("tracks");
    expect(await db.conversations.setAudio("c1", RECORDING)).toEqual({ replaced: UPLOADED });
    expect((await db.conversations.getConversation("c1"))?.audio).toEqual(RECORDING);
  });
});
