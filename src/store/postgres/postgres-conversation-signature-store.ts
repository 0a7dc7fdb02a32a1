import type pg from "pg";
import type { ConversationSignatureStore } from "../conversation-signature-store.js";

/** The signing key and spent single-use signatures of signed conversation URLs, in PostgreSQL. */
export class PostgresConversationSignatureStore implements ConversationSignatureStore {
  constructor(private readonly pool: pg.Pool) {}

  async getSigningKey(candidate: Buffer): Promise<Buffer> {
    // The insert loses quietly to a key another node stored first; then whichever key is stored is
    // read (a separate statement: a CTE's SELECT would not see a row another node committed).
    await this.pool.query(
      "INSERT INTO conversation_signature_key (id, secret, created_at) VALUES (1, $1, $2) ON CONFLICT (id) DO NOTHING",
      [candidate, Math.floor(Date.now() / 1000)],
    );
    const result = await this.pool.query<{ secret: Buffer }>(
      "SELECT secret FROM conversation_signature_key WHERE id = 1",
    );
    return (result.rows[0] as { secret: Buffer }).secret;
  }

  async claimNonce(nonce: string, expiresAtUnixSecs: number): Promise<boolean> {
    // The primary key decides: of concurrent claims from any node, exactly one inserts a row.
    const result = await this.pool.query(
      "INSERT INTO spent_conversation_signatures (nonce, expires_at) VALUES ($1, $2) ON CONFLICT (nonce) DO NOTHING",
      [nonce, expiresAtUnixSecs],
    );
    return result.rowCount === 1;
  }

  async pruneSpentNonces(beforeUnixSecs: number): Promise<number> {
    const result = await this.pool.query("DELETE FROM spent_conversation_signatures WHERE expires_at < $1", [
      beforeUnixSecs,
    ]);
    return result.rowCount ?? 0;
  }
}
