/**
 * Schema version 4: message embeddings (semantic search) and per-agent analysis settings.
 *
 * Embeddings belong to their conversation (ON DELETE CASCADE). `embedding_state` records, per
 * conversation, the model and the conversation's `updated_at` its rows were made from, so the
 * indexer can find conversations that are new or changed since. Vectors are float32 BLOBs.
 */
export const sqliteSearchAnalysisMigration = `
  CREATE TABLE message_embeddings (
    conversation_id TEXT NOT NULL REFERENCES conversations (conversation_id) ON DELETE CASCADE,
    transcript_index INTEGER NOT NULL,
    chunk INTEGER NOT NULL,
    chunk_text TEXT NOT NULL,
    vector BLOB NOT NULL,
    PRIMARY KEY (conversation_id, transcript_index, chunk)
  ) WITHOUT ROWID;

  CREATE TABLE embedding_state (
    conversation_id TEXT PRIMARY KEY REFERENCES conversations (conversation_id) ON DELETE CASCADE,
    model TEXT NOT NULL,
    source_updated_at INTEGER NOT NULL,
    text_hash TEXT NOT NULL,
    embedded_at INTEGER NOT NULL
  ) WITHOUT ROWID;

  CREATE TABLE analysis_settings (
    agent_id TEXT PRIMARY KEY,
    settings TEXT NOT NULL,
    updated_at INTEGER NOT NULL
  ) WITHOUT ROWID;
  `;
