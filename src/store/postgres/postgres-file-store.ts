import type pg from "pg";
import { type FileDbRow, toFile } from "../db-rows.js";
import { buildInsertFileSql } from "../file-sql.js";
import type { ConversationFileRow, ConversationFileStore } from "../file-store.js";
import { toPgText } from "./pg-text.js";
import { postgresListDialect } from "./postgres-list-dialect.js";

/** Uploaded conversation files in PostgreSQL (rows go with their conversation: ON DELETE CASCADE). */
export class PostgresConversationFileStore implements ConversationFileStore {
  constructor(private readonly pool: pg.Pool) {}

  async insertFile(file: ConversationFileRow): Promise<ConversationFileRow | undefined> {
    // A conversation deleted at the same moment makes the foreign key fail: that is the same
    // answer, "no such conversation".
    try {
      const { sql, params } = buildInsertFileSql(file, postgresListDialect);
      const result = await this.pool.query(sql, params.map(toPgText));
      return (result.rowCount ?? 0) > 0 ? file : undefined;
    } catch (error) {
      if ((error as { code?: string }).code === "23503") return undefined;
      throw error;
    }
  }

  async getFile(conversationId: string, fileId: string): Promise<ConversationFileRow | undefined> {
    const result = await this.pool.query<FileDbRow>(
      "SELECT * FROM conversation_files WHERE conversation_id = $1 AND file_id = $2",
      [toPgText(conversationId), toPgText(fileId)],
    );
    const row = result.rows[0];
    return row ? toFile(row) : undefined;
  }

  async deleteFile(conversationId: string, fileId: string): Promise<ConversationFileRow | undefined> {
    const result = await this.pool.query<FileDbRow>(
      "DELETE FROM conversation_files WHERE conversation_id = $1 AND file_id = $2 RETURNING *",
      [toPgText(conversationId), toPgText(fileId)],
    );
    const row = result.rows[0];
    return row ? toFile(row) : undefined;
  }

  async scanFiles(afterFileId: string | null, limit: number): Promise<ConversationFileRow[]> {
    const result = await this.pool.query<FileDbRow>(
      "SELECT * FROM conversation_files WHERE $1::text IS NULL OR file_id > $1 ORDER BY file_id LIMIT $2",
      [toPgText(afterFileId), limit],
    );
    return result.rows.map(toFile);
  }
}
