import type BetterSqlite3 from "better-sqlite3";
import { sqliteAgentsMigration } from "./migration-agents.js";
import { sqliteConversationResourceMigration } from "./migration-conversation-resource.js";
import { sqliteConversationSignaturesMigration } from "./migration-conversation-signatures.js";
import { sqliteConversationStatsMigration } from "./migration-conversation-stats.js";
import { sqliteEmbeddingLabelsMigration } from "./migration-embedding-labels.js";
import { sqliteIngestMigration } from "./migration-ingest.js";
import { sqliteLiveSessionsMigration } from "./migration-live-sessions.js";
import { sqliteRecordingTracksMigration } from "./migration-recording-tracks.js";
import { sqliteRetentionMigration } from "./migration-retention.js";
import { sqliteSearchAnalysisMigration } from "./migration-search-analysis.js";
import { sqliteSearchFoldMigration } from "./migration-search-fold.js";
import { sqliteSessionHeartbeatsMigration } from "./migration-session-heartbeats.js";
import { sqliteTracePushMigration } from "./migration-trace-push.js";
import { sqliteWebhooksOutMigration } from "./migration-webhooks-out.js";

/** Version 1: conversations, facets, full-text search, API keys. */
const initialSchema = `
  CREATE TABLE conversations (
    seq INTEGER PRIMARY KEY,
    conversation_id TEXT NOT NULL UNIQUE,
    sort_key INTEGER NOT NULL UNIQUE,
    agent_id TEXT NOT NULL,
    status TEXT NOT NULL,
    start_time REAL NOT NULL,
    duration REAL NOT NULL,
    call_successful TEXT NOT NULL,
    user_id TEXT,
    branch_id TEXT,
    version_id TEXT,
    main_language TEXT,
    initiation_source TEXT,
    text_only INTEGER,
    rating REAL,
    has_feedback_comment INTEGER NOT NULL,
    parent_conversation_id TEXT,
    conversation_product TEXT,
    doc TEXT NOT NULL,
    list_item TEXT NOT NULL,
    transcript_summary TEXT,
    eval_results TEXT,
    data_results TEXT,
    audio_key TEXT,
    audio_type TEXT,
    audio_size INTEGER,
    updated_at INTEGER NOT NULL
  );
  CREATE INDEX conversations_start ON conversations (start_time, conversation_id);
  CREATE INDEX conversations_agent_start ON conversations (agent_id, start_time, conversation_id);
  CREATE INDEX conversations_user_start ON conversations (user_id, start_time, conversation_id) WHERE user_id IS NOT NULL;
  CREATE INDEX conversations_branch_start ON conversations (branch_id, start_time) WHERE branch_id IS NOT NULL;
  CREATE INDEX conversations_version_start ON conversations (version_id, start_time) WHERE version_id IS NOT NULL;
  CREATE INDEX conversations_parent ON conversations (parent_conversation_id) WHERE parent_conversation_id IS NOT NULL;

  CREATE TABLE facets (
    seq INTEGER NOT NULL,
    kind TEXT NOT NULL,
    key TEXT NOT NULL,
    value TEXT NOT NULL,
    num REAL,
    PRIMARY KEY (seq, kind, key, value)
  ) WITHOUT ROWID;
  CREATE INDEX facets_lookup ON facets (kind, key, value, seq);

  -- Keyed by conversations.sort_key, so the index can be walked in start-time order. detail=none
  -- halves the write cost; LIKE '%…%' still uses the trigram index and checks the text.
  CREATE VIRTUAL TABLE conversation_text USING fts5 (body, tokenize = 'trigram', detail = none);

  CREATE TABLE api_keys (
    id TEXT PRIMARY KEY,
    name TEXT NOT NULL,
    prefix TEXT NOT NULL,
    hash TEXT NOT NULL UNIQUE,
    created_at INTEGER NOT NULL,
    revoked_at INTEGER
  );
  `;

/** A migration: SQL to run, or a step that needs this process (a function SQL calls). */
export type SqliteMigration = string | ((db: BetterSqlite3.Database) => void);

/** SQLite schema migrations, in order; migration n brings the schema to version n + 1. */
export const sqliteMigrations: readonly SqliteMigration[] = [
  initialSchema,
  // 2: tags, feedback, files, SIP messages
  sqliteConversationResourceMigration,
  // 3: webhook deliveries, sync state
  sqliteIngestMigration,
  // 4: message embeddings, analysis settings
  sqliteSearchAnalysisMigration,
  // 5: the search text folded for search in every script
  sqliteSearchFoldMigration,
  // 6: agents
  sqliteAgentsMigration,
  // 7: signed conversation URLs (the shared signing key, spent single-use signatures)
  sqliteConversationSignaturesMigration,
  // 8: live sessions (which node serves which conversation, for recovery after a crash)
  sqliteLiveSessionsMigration,
  // 9: each speaker's track of a live call's recording
  sqliteRecordingTracksMigration,
  // 10: outgoing webhooks (the workspace's endpoints and ConvAI settings, the outbox, the delivery log)
  sqliteWebhooksOutMigration,
  // 11: the overview statistics' daily rollups, the dirty days and the triggers that mark them
  sqliteConversationStatsMigration,
  // 12: the trace push queue (finished conversations waiting for the OpenTelemetry collector)
  sqliteTracePushMigration,
  // 13: retention (when each agent's privacy settings took effect, how far their deletions have gone)
  sqliteRetentionMigration,
  // 14: live sessions' heartbeats (a node's sessions are recovered by any node once they stop)
  sqliteSessionHeartbeatsMigration,
  // 15: a label on every message embedding (the key of the semantic search's ANN index)
  sqliteEmbeddingLabelsMigration,
];
