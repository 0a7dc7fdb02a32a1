import type BetterSqlite3 from "better-sqlite3";
import { type FileDbRow, toFile } from "../db-rows.js";
import { buildInsertFileSql } from "../file-sql.js";
import type { ConversationFileRow, ConversationFileStore } from "../file-store.js";
import { sqliteListDialect } from "./sqlite-list-dialect.js";

/** Uploaded conversation files in SQLite (rows go with their conversation: ON DELETE CASCADE). */
export class SqliteConversationFileStore implements ConversationFileStore {
  private readonly statements;

  constructor(private readonly db: BetterSqlite3.Database) {
    this.statements = {
      get: db.prepare("SELECT * FROM conversation_files WHERE conversation_id = ? AND file_id = ?"),
      delete: db.prepare(
        "DELETE FROM conversation_files WHERE conversation_id = ? AND file_id = ? RETURNING *",
      ),
    };
  }

  async insertFile(file: ConversationFileRow): Promise<ConversationFileRow | undefined> {
    const { sql, params } = buildInsertFileSql(file, sqliteListDialect);
    const result = this.db.prepare(sql).run(...params);
    return result.changes > 0 ? file : undefined;
  }

  async getFile(conversationId: string, fileId: string): Promise<ConversationFileRow | undefined> {
    const row = this.statements.get.get(conversationId, fileId) as FileDbRow | undefined;
    return row ? toFile(row) : undefined;
  }

  async deleteFile(conversationId: string, fileId: string): Promise<ConversationFileRow | undefined> {
    const row = this.statements.delete.get(conversationId, fileId) as FileDbRow | undefined;
    return row ? toFile(row) : undefined;
  }

  async scanFiles(afterFileId: string | null, limit: number): Promise<ConversationFileRow[]> {
    const rows = this.db
      .prepare(
        "SELECT * FROM conversation_files WHERE @after IS NULL OR file_id > @after ORDER BY file_id LIMIT @limit",
      )
      .all({ after: afterFileId, limit }) as FileDbRow[];
    return rows.map(toFile);
  }
}
