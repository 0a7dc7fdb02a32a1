/** One stored SIP log message: its place in the conversation's log and its wire JSON (SipLogMessage). */
export interface SipMessageRow {
  position: number;
  json: string;
}

/** The SIP signalling log of conversations' phone calls, as it arrived through ingest. */
export interface SipMessageStore {
  /**
   * Replaces a conversation's SIP log with these messages (wire JSON, in log order) in one
   * transaction and returns how many were written; undefined (nothing written) if the conversation
   * does not exist.
   */
  replaceSipMessages(conversationId: string, messages: readonly string[]): Promise<number | undefined>;
  /** Messages in log order after `afterPosition` (exclusive) when given; at most `limit`. */
  listSipMessages(
    conversationId: string,
    afterPosition: number | null,
    limit: number,
  ): Promise<SipMessageRow[]>;
  /** Ids of conversations with SIP messages, in id order, after `afterConversationId` when given; at most `limit`. */
  listSipConversationIds(afterConversationId: string | null, limit: number): Promise<string[]>;
}
