import type pg from "pg";
import { type KeyDbRow, toApiKeyRow } from "../db-rows.js";
import type { ApiKeyRow, KeyStore } from "../store.js";

/** API keys in PostgreSQL. */
export class PostgresKeyStore implements KeyStore {
  constructor(private readonly pool: pg.Pool) {}

  async insertKey(key: ApiKeyRow): Promise<void> {
    await this.pool.query(
      "INSERT INTO api_keys (id, name, prefix, hash, created_at, revoked_at) VALUES ($1, $2, $3, $4, $5, $6)",
      [key.id, key.name, key.prefix, key.hash, key.createdAtUnixSecs, key.revokedAtUnixSecs],
    );
  }

  async listKeys(): Promise<ApiKeyRow[]> {
    const result = await this.pool.query<KeyDbRow>("SELECT * FROM api_keys ORDER BY created_at, id");
    return result.rows.map(toApiKeyRow);
  }

  async revokeKey(idOrPrefix: string, atUnixSecs: number): Promise<number> {
    const result = await this.pool.query(
      "UPDATE api_keys SET revoked_at = $1 WHERE (id = $2 OR prefix = $2) AND revoked_at IS NULL",
      [atUnixSecs, idOrPrefix],
    );
    return result.rowCount ?? 0;
  }

  async findActiveKeyByHash(hash: string): Promise<ApiKeyRow | undefined> {
    const result = await this.pool.query<KeyDbRow>(
      "SELECT * FROM api_keys WHERE hash = $1 AND revoked_at IS NULL",
      [hash],
    );
    const row = result.rows[0];
    return row ? toApiKeyRow(row) : undefined;
  }
}
