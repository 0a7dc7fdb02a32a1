/**
 * Schema version 16: every message embedding gets a label, a unique integer never reused, which
 * the semantic search's approximate nearest-neighbour index (src/search/ann/) keys its vectors by.
 *
 * An identity column (its sequence never hands a value out twice); adding it fills the existing
 * rows in the same statement (one table rewrite, no loop), and a unique index serves the index's
 * catch-up (`label > watermark`) and its look-ups by label.
 */
export const postgresEmbeddingLabelsMigration = `
  ALTER TABLE message_embeddings ADD COLUMN label BIGINT GENERATED ALWAYS AS IDENTITY;

  CREATE UNIQUE INDEX message_embeddings_label ON message_embeddings (label);
  `;
