import type BetterSqlite3 from "better-sqlite3";
import { type FileDbRow, toFile } from "../db-rows.js";
import type { ConversationFileRow, ConversationFileStore } from "../file-store.js";

/** Uploaded conversation files in SQLite (rows go with their conversation: ON DELETE CASCADE). */
export class SqliteConversationFileStore implements ConversationFileStore {
  private readonly statements;

  constructor(db: BetterSqlite3.Database) {
    this.statements = {
      // Inserts only when the conversation exists, in one statement (no foreign-key error to map).
      insert: db.prepare(`INSERT INTO conversation_files
          (file_id, conversation_id, blob_key, file_name, content_type, size, created_at)
        SELECT ?, conversation_id, ?, ?, ?, ?, ? FROM conversations WHERE conversation_id = ?`),
      get: db.prepare("SELECT * FROM conversation_files WHERE conversation_id = ? AND file_id = ?"),
      delete: db.prepare(
        "DELETE FROM conversation_files WHERE conversation_id = ? AND file_id = ? RETURNING *",
      ),
    };
  }

  async insertFile(file: ConversationFileRow): Promise<ConversationFileRow | undefined> {
    const result = this.statements.insert.run(
      file.fileId,
      file.blobKey,
      file.fileName,
      file.contentType,
      file.size,
      file.createdAtUnixSecs,
      file.conversationId,
    );
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
}
