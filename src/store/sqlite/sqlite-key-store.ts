import type BetterSqlite3 from "better-sqlite3";
import { type KeyDbRow, toApiKeyRow } from "../db-rows.js";
import type { ApiKeyRow, KeyStore } from "../store.js";

/** API keys in SQLite. */
export class SqliteKeyStore implements KeyStore {
  constructor(private readonly db: BetterSqlite3.Database) {}

  async insertKey(key: ApiKeyRow): Promise<void> {
    this.db
      .prepare(
        "INSERT INTO api_keys (id, name, prefix, hash, created_at, revoked_at) VALUES (?, ?, ?, ?, ?, ?)",
      )
      .run(key.id, key.name, key.prefix, key.hash, key.createdAtUnixSecs, key.revokedAtUnixSecs);
  }

  async listKeys(): Promise<ApiKeyRow[]> {
    const rows = this.db.prepare("SELECT * FROM api_keys ORDER BY created_at, id").all() as KeyDbRow[];
    return rows.map(toApiKeyRow);
  }

  async revokeKey(idOrPrefix: string, atUnixSecs: number): Promise<number> {
    return this.db
      .prepare("UPDATE api_keys SET revoked_at = ? WHERE (id = ? OR prefix = ?) AND revoked_at IS NULL")
      .run(atUnixSecs, idOrPrefix, idOrPrefix).changes;
  }

  async findActiveKeyByHash(hash: string): Promise<ApiKeyRow | undefined> {
    const row = this.db.prepare("SELECT * FROM api_keys WHERE hash = ? AND revoked_at IS NULL").get(hash) as
      | KeyDbRow
      | undefined;
    return row ? toApiKeyRow(row) : undefined;
  }
}
