/**
 * Schema version 15: every message embedding gets a label, a unique integer never reused, which
 * the semantic search's approximate nearest-neighbour index (src/search/ann/) keys its vectors by.
 *
 * The table was WITHOUT ROWID; it is rebuilt as a rowid table whose `label` is an
 * `INTEGER PRIMARY KEY AUTOINCREMENT` (AUTOINCREMENT: a deleted row's label is never handed out
 * again, so an index that still holds it can never mistake it for a new row). The rows are copied
 * in one statement, in key order; the old key stays unique through an index.
 */
export const sqliteEmbeddingLabelsMigration = `
  CREATE TABLE message_embeddings_labelled (
    label INTEGER PRIMARY KEY AUTOINCREMENT,
    conversation_id TEXT NOT NULL REFERENCES conversations (conversation_id) ON DELETE CASCADE,
    transcript_index INTEGER NOT NULL,
    chunk INTEGER NOT NULL,
    chunk_text TEXT NOT NULL,
    vector BLOB NOT NULL
  );

  INSERT INTO message_embeddings_labelled (conversation_id, transcript_index, chunk, chunk_text, vector)
    SELECT conversation_id, transcript_index, chunk, chunk_text, vector FROM message_embeddings
    ORDER BY conversation_id, transcript_index, chunk;

  DROP TABLE message_embeddings;

  ALTER TABLE message_embeddings_labelled RENAME TO message_embeddings;

  CREATE UNIQUE INDEX message_embeddings_key ON message_embeddings (conversation_id, transcript_index, chunk);
  `;
