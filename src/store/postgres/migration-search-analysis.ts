/**
 * Schema version 4: message embeddings (semantic search) and per-agent analysis settings.
 *
 * The same tables as SQLite's. Vectors are `real[]`, compared in the server process (pgvector is
 * not required). Embeddings belong to their conversation (ON DELETE CASCADE).
 */
export const postgresSearchAnalysisMigration = `
  CREATE TABLE message_embeddings (
    conversation_id TEXT COLLATE "C" NOT NULL REFERENCES conversations (conversation_id) ON DELETE CASCADE,
    transcript_index INTEGER NOT NULL,
    chunk INTEGER NOT NULL,
    chunk_text TEXT NOT NULL,
    vector REAL[] NOT NULL,
    PRIMARY KEY (conversation_id, transcript_index, chunk)
  );

  CREATE TABLE embedding_state (
    conversation_id TEXT COLLATE "C" PRIMARY KEY REFERENCES conversations (conversation_id) ON DELETE CASCADE,
    model TEXT NOT NULL,
    source_updated_at BIGINT NOT NULL,
    text_hash TEXT NOT NULL,
    embedded_at BIGINT NOT NULL
  );

  CREATE TABLE analysis_settings (
    agent_id TEXT COLLATE "C" PRIMARY KEY,
    settings TEXT NOT NULL,
    updated_at BIGINT NOT NULL
  );
  `;
