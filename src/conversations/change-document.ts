import { conversationNotFound, ValidationFailed } from "../api/api-error.js";
import type { ConversationDoc, ConversationRecord } from "../domain/conversation.js";
import type { Database } from "../store/store.js";
import { checkIncomingDocument } from "./conversation-service.js";

/**
 * Changes a stored conversation document in one transaction: reads it, lets `change` edit it,
 * validates the result like ingest does and rebuilds its record (index columns, facets, search
 * text), so the list filters see the change. A change that leaves the document invalid throws a
 * 422 and writes nothing; an unknown conversation throws a 404.
 */
export async function changeConversationDocument(
  db: Database,
  conversationId: string,
  change: (doc: ConversationDoc) => void,
): Promise<ConversationRecord> {
  const record = await db.conversations.updateConversation(conversationId, (json) => {
    const doc = JSON.parse(json) as ConversationDoc;
    change(doc);
    const checked = checkIncomingDocument(doc, conversationId);
    if (!checked.ok) throw new ValidationFailed(checked.issues);
    return checked.record;
  });
  if (!record) throw conversationNotFound(conversationId);
  return record;
}
