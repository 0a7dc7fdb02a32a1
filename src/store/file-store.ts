/** A file uploaded for a conversation: its bytes live in the blob store under `blobKey`. */
export interface ConversationFileRow {
  fileId: string;
  conversationId: string;
  blobKey: string;
  fileName: string | null;
  contentType: string;
  size: number;
  createdAtUnixSecs: number;
}

/** Files uploaded for conversations (metadata; the bytes are in the blob store). */
export interface ConversationFileStore {
  /** Records an uploaded file and returns it; undefined (nothing written) if the conversation does not exist. */
  insertFile(file: ConversationFileRow): Promise<ConversationFileRow | undefined>;
  /** The file of a conversation; undefined if there is none. */
  getFile(conversationId: string, fileId: string): Promise<ConversationFileRow | undefined>;
  /** Removes a file's row and returns it (its blob is the caller's to delete); undefined if there is none. */
  deleteFile(conversationId: string, fileId: string): Promise<ConversationFileRow | undefined>;
  /** Every file in file_id order, after `afterFileId` when given; at most `limit`. */
  scanFiles(afterFileId: string | null, limit: number): Promise<ConversationFileRow[]>;
}
