import type pg from "pg";
import { postgresAgentsMigration } from "./migration-agents.js";
import { postgresConversationResourceMigration } from "./migration-conversation-resource.js";
import { postgresConversationSignaturesMigration } from "./migration-conversation-signatures.js";
import { postgresConversationStatsMigration } from "./migration-conversation-stats.js";
import { postgresEmbeddingLabelsMigration } from "./migration-embedding-labels.js";
import { postgresIngestMigration } from "./migration-ingest.js";
import { postgresLiveSessionsMigration } from "./migration-live-sessions.js";
import { postgresLongValuesMigration } from "./migration-long-values.js";
import { postgresRecordingTracksMigration } from "./migration-recording-tracks.js";
import { postgresRetentionMigration } from "./migration-retention.js";
import { postgresSearchAnalysisMigration } from "./migration-search-analysis.js";
import { postgresSearchFoldMigration } from "./migration-search-fold.js";
import { postgresSessionHeartbeatsMigration } from "./migration-session-heartbeats.js";
import { postgresTracePushMigration } from "./migration-trace-push.js";
import { postgresWebhooksOutMigration } from "./migration-webhooks-out.js";

/**
 * Version 1: conversations, facets, search text, API keys.
 *
 * The tables mirror the SQLite ones. Differences on purpose: ids that take part in ordering use
 * the "C" collation, so ties sort the same as SQLite's binary order whatever the database locale;
 * the search text is a column with a trigram index instead of an FTS5 table; flags are booleans.
 * The trigram operator class is referenced in `public`, where the extension is created: a schema
 * of its own may be dropped (tests drop theirs) and must not take the extension with it.
 */
const initialSchema = `
  CREATE TABLE conversations (
    seq BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    conversation_id TEXT COLLATE "C" NOT NULL UNIQUE,
    agent_id TEXT NOT NULL,
    status TEXT NOT NULL,
    start_time DOUBLE PRECISION NOT NULL,
    duration DOUBLE PRECISION NOT NULL,
    call_successful TEXT NOT NULL,
    user_id TEXT,
    branch_id TEXT,
    version_id TEXT,
    main_language TEXT,
    initiation_source TEXT,
    text_only BOOLEAN,
    rating DOUBLE PRECISION,
    has_feedback_comment BOOLEAN NOT NULL,
    parent_conversation_id TEXT,
    conversation_product TEXT,
    doc TEXT NOT NULL,
    list_item TEXT NOT NULL,
    transcript_summary TEXT,
    eval_results TEXT,
    data_results TEXT,
    search_text TEXT NOT NULL,
    audio_key TEXT,
    audio_type TEXT,
    audio_size BIGINT,
    updated_at BIGINT NOT NULL
  );
  CREATE INDEX conversations_start ON conversations (start_time, conversation_id);
  CREATE INDEX conversations_agent_start ON conversations (agent_id, start_time, conversation_id);
  CREATE INDEX conversations_user_start ON conversations (user_id, start_time, conversation_id) WHERE user_id IS NOT NULL;
  CREATE INDEX conversations_branch_start ON conversations (branch_id, start_time) WHERE branch_id IS NOT NULL;
  CREATE INDEX conversations_version_start ON conversations (version_id, start_time) WHERE version_id IS NOT NULL;
  CREATE INDEX conversations_parent ON conversations (parent_conversation_id) WHERE parent_conversation_id IS NOT NULL;
  CREATE INDEX conversations_search ON conversations USING gin (search_text public.gin_trgm_ops);

  CREATE TABLE facets (
    seq BIGINT NOT NULL,
    kind TEXT NOT NULL,
    key TEXT NOT NULL,
    value TEXT NOT NULL,
    num DOUBLE PRECISION,
    PRIMARY KEY (seq, kind, key, value)
  );
  CREATE INDEX facets_lookup ON facets (kind, key, value, seq);

  CREATE TABLE api_keys (
    id TEXT COLLATE "C" PRIMARY KEY,
    name TEXT NOT NULL,
    prefix TEXT NOT NULL,
    hash TEXT NOT NULL UNIQUE,
    created_at BIGINT NOT NULL,
    revoked_at BIGINT
  );
  `;

/** A migration: SQL to run, or a step that needs this process (folding text as the server does). */
export type PostgresMigration = string | ((client: pg.PoolClient) => Promise<void>);

/** PostgreSQL schema migrations, in order; migration n brings the schema to version n + 1. */
export const postgresMigrations: readonly PostgresMigration[] = [
  initialSchema,
  // 2: tags, feedback, files, SIP messages
  postgresConversationResourceMigration,
  // 3: webhook deliveries, sync state
  postgresIngestMigration,
  // 4: message embeddings, analysis settings
  postgresSearchAnalysisMigration,
  // 5: indexes that hold a hash of values too long for a btree entry
  postgresLongValuesMigration,
  // 6: the search text folded for search in every script
  postgresSearchFoldMigration,
  // 7: agents
  postgresAgentsMigration,
  // 8: signed conversation URLs (the shared signing key, spent single-use signatures)
  postgresConversationSignaturesMigration,
  // 9: live sessions (which node serves which conversation, for recovery after a crash)
  postgresLiveSessionsMigration,
  // 10: each speaker's track of a live call's recording
  postgresRecordingTracksMigration,
  // 11: outgoing webhooks (the workspace's endpoints, ConvAI settings, the outbox, the delivery log)
  postgresWebhooksOutMigration,
  // 12: the overview statistics' daily rollups, the dirty days and the triggers that mark them
  postgresConversationStatsMigration,
  // 13: the trace push queue (finished conversations waiting for the OpenTelemetry collector)
  postgresTracePushMigration,
  // 14: retention (when each agent's privacy settings took effect, how far their deletions have gone)
  postgresRetentionMigration,
  // 15: live sessions' heartbeats (a node's sessions are recovered by any node once they stop)
  postgresSessionHeartbeatsMigration,
  // 16: a label on every message embedding (the key of the semantic search's ANN index)
  postgresEmbeddingLabelsMigration,
];
