import type { ConversationFileRow } from "./file-store.js";
import { createParams, type SqlPlaceholders, type SqlQuery } from "./sql-params.js";

/**
 * Records an uploaded file only when its conversation exists, in one statement: nothing is
 * written (no row changes) when the conversation is unknown.
 */
export function buildInsertFileSql(file: ConversationFileRow, dialect: SqlPlaceholders): SqlQuery {
  const { params, bind } = createParams(dialect);
  const sql = `INSERT INTO conversation_files (file_id, conversation_id, blob_key, file_name, content_type, size, created_at)
    SELECT ${bind(file.fileId)}, conversation_id, ${bind(file.blobKey)}, ${bind(file.fileName)},
      ${bind(file.contentType)}, ${bind(file.size)}, ${bind(file.createdAtUnixSecs)}
    FROM conversations WHERE conversation_id = ${bind(file.conversationId)}`;
  return { sql, params };
}
