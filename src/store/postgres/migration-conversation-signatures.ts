/**
 * Signed conversation URLs, the same tables as SQLite's: the signing key every node shares (one
 * row) and the nonces of single-use signatures already spent, kept until their signature expires.
 */
export const postgresConversationSignaturesMigration = `
  CREATE TABLE conversation_signature_key (
    id INTEGER PRIMARY KEY CHECK (id = 1),
    secret BYTEA NOT NULL,
    created_at BIGINT NOT NULL
  );
  CREATE TABLE spent_conversation_signatures (
    nonce TEXT COLLATE "C" PRIMARY KEY,
    expires_at BIGINT NOT NULL
  );
  CREATE INDEX spent_conversation_signatures_expiry ON spent_conversation_signatures (expires_at);
  `;
