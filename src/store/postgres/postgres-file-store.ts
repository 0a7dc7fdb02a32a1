import type pg from "pg";
import { type FileDbRow, toFile } from "../db-rows.js";
import type { ConversationFileRow, ConversationFileStore } from "../file-store.js";
import { toPgText } from "./pg-text.js";

/** Uploaded conversation files in PostgreSQL (rows go with their conversation: ON DELETE CASCADE). */
export class PostgresConversationFileStore implements ConversationFileStore {
  constructor(private readonly pool: pg.Pool) {}

  async insertFile(file: ConversationFileRow): Promise<ConversationFileRow | undefined> {
    // Inserts only when the conversation exists, in one statement. A conversation deleted at the
    // same moment makes the foreign key fail: that is the same answer, "no such conversation".
    try {
      const result = await this.pool.query(
        `INSERT INTO conversation_files (file_id, conversation_id, blob_key, file_name, content_type, size, created_at)
         SELECT $1, conversation_id, $2, $3, $4, $5, $6 FROM conversations WHERE conversation_id = $7`,
        [
          file.fileId,
          file.blobKey,
          file.fileName,
          file.contentType,
          file.size,
          file.createdAtUnixSecs,
          file.conversationId,
        ].map(toPgText),
      );
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
}
