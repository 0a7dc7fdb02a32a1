import type BetterSqlite3 from "better-sqlite3";
import type { ConversationSignatureStore } from "../conversation-signature-store.js";

/** The signing key and spent single-use signatures of signed conversation URLs, in SQLite. */
export class SqliteConversationSignatureStore implements ConversationSignatureStore {
  private readonly statements;

  constructor(db: BetterSqlite3.Database) {
    this.statements = {
      insertKey: db.prepare(
        "INSERT INTO conversation_signature_key (id, secret, created_at) VALUES (1, ?, ?) ON CONFLICT (id) DO NOTHING",
      ),
      getKey: db.prepare("SELECT secret FROM conversation_signature_key WHERE id = 1"),
      claim: db.prepare(
        "INSERT INTO spent_conversation_signatures (nonce, expires_at) VALUES (?, ?) ON CONFLICT (nonce) DO NOTHING",
      ),
      prune: db.prepare("DELETE FROM spent_conversation_signatures WHERE expires_at < ?"),
    };
  }

  async getSigningKey(candidate: Buffer): Promise<Buffer> {
    this.statements.insertKey.run(candidate, Math.floor(Date.now() / 1000));
    const row = this.statements.getKey.get() as { secret: Buffer };
    return row.secret;
  }

  async claimNonce(nonce: string, expiresAtUnixSecs: number): Promise<boolean> {
    // The primary key decides: of two claims (any process on this file), one inserts a row.
    return this.statements.claim.run(nonce, expiresAtUnixSecs).changes === 1;
  }

  async pruneSpentNonces(beforeUnixSecs: number): Promise<number> {
    return this.statements.prune.run(beforeUnixSecs).changes;
  }
}
