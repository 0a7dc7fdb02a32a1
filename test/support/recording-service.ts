/**
 * The set-up the putRecording suites share: a backend's database, a filesystem blob store and the
 * conversation service over them, with `conv_1` stored, per test; and what they read back.
 */
import { existsSync, readdirSync } from "node:fs";
import path from "node:path";
import { afterEach, beforeEach } from "vitest";
import { audioBlobKey } from "../../src/blobs/blob-keys.js";
import { FsBlobStore } from "../../src/blobs/fs/fs-blob-store.js";
import { ConversationService } from "../../src/conversations/conversation-service.js";
import { audioBlobKeys } from "../../src/store/audio-info.js";
import type { Database } from "../../src/store/store.js";
import { buildConversation } from "../fixtures/conversations.js";
import { type Backend, createTestStorage, type TestStorage } from "./backends.js";

/** The flags of audio without speaker tracks, and of a recording with both. */
export const NO_TRACKS = { hasAudio: true, hasUserAudio: false, hasResponseAudio: false };
export const BOTH_TRACKS = { hasAudio: true, hasUserAudio: true, hasResponseAudio: true };

/** What a test gets: set anew before each test of the suite that called `useRecordingService`. */
export interface RecordingServiceContext {
  storage: TestStorage;
  db: Database;
  blobs: FsBlobStore;
  service: ConversationService;
  /** The files the blob store holds in a conversation's audio folder, sorted. */
  audioFiles(id: string): string[];
  /** The blob file names the conversation's row names, sorted. */
  namedFiles(id: string): Promise<string[]>;
}

/** Registers the suite's before/after hooks; read the context's fields inside tests only. */
export function useRecordingService(backend: Backend): RecordingServiceContext {
  const context = {
    audioFiles(id: string): string[] {
      const folder = path.join(context.storage.dataDir, "blobs", audioBlobKey(id));
      return existsSync(folder) ? readdirSync(folder).sort() : [];
    },
    async namedFiles(id: string): Promise<string[]> {
      const audio = (await context.db.conversations.getConversation(id))?.audio;
      return audio
        ? audioBlobKeys(audio)
            .map((key) => path.basename(key))
            .sort()
        : [];
    },
  } as RecordingServiceContext;
  beforeEach(async () => {
    context.storage = createTestStorage(backend);
    context.db = await context.storage.open();
    context.blobs = new FsBlobStore(path.join(context.storage.dataDir, "blobs"));
    context.service = new ConversationService(context.db.conversations, context.blobs);
    await context.service.putConversation(buildConversation({ id: "conv_1" }));
  });
  afterEach(async () => {
    await context.db?.close();
    await context.storage?.cleanup();
  });
  return context;
}
