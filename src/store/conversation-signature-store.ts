/**
 * What signed conversation URLs need from the database: one signing key every node of a
 * deployment shares, and the single-use signatures already spent (so a spent one is refused by
 * every node, not just the one that saw it).
 */
export interface ConversationSignatureStore {
  /**
   * The deployment's signing key. The first call on a database stores `candidate` (a fresh random
   * key) and returns it; every later call, on any node, returns the key stored then. Atomic: two
   * nodes starting together end up with the same key.
   */
  getSigningKey(candidate: Buffer): Promise<Buffer>;
  /**
   * Marks a single-use signature's nonce as spent, atomically across nodes: true for the first
   * claim, false if it was claimed before. `expiresAtUnixSecs` says when the record may be pruned.
   */
  claimNonce(nonce: string, expiresAtUnixSecs: number): Promise<boolean>;
  /** Forgets spent nonces whose signatures expired before this time; returns how many. */
  pruneSpentNonces(beforeUnixSecs: number): Promise<number>;
}
