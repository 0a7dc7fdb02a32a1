/**
 * Signed conversation URLs: the signing key every node shares (one row) and the nonces of
 * single-use signatures already spent, kept until their signature expires.
 */
export const sqliteConversationSignaturesMigration = `
  CREATE TABLE conversation_signature_key (
    id INTEGER PRIMARY KEY CHECK (id = 1),
    secret BLOB NOT NULL,
    created_at INTEGER NOT NULL
  );
  CREATE TABLE spent_conversation_signatures (
    nonce TEXT PRIMARY KEY,
    expires_at INTEGER NOT NULL
  ) WITHOUT ROWID;
  CREATE INDEX spent_conversation_signatures_expiry ON spent_conversation_signatures (expires_at);
  `;
