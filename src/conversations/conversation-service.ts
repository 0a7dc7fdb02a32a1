import type { Readable } from "node:stream";
import { ValidationFailed, type ValidationIssue } from "../api/api-error.js";
import { audioBlobKey } from "../blobs/blob-keys.js";
import type { BlobStore } from "../blobs/blob-store.js";
import {
  buildConversationRecord,
  type ConversationDoc,
  type ConversationRecord,
} from "../domain/conversation.js";
import type { Database, UpsertOutcome } from "../store/store.js";
import { checkConversationDocument, prepareIncomingDocument } from "./document-validator.js";

/** The outcome of checking one incoming document: a record ready to write, or what is wrong with it. */
export type CheckedDocument =
  | { ok: true; record: ConversationRecord }
  | { ok: false; issues: ValidationIssue[] };

/** Validates a document (the path id wins over the body's) and builds its record. */
export function checkIncomingDocument(
  doc: unknown,
  conversationId: string | undefined,
  locPrefix: (string | number)[] = ["body"],
): CheckedDocument {
  if (doc === null || typeof doc !== "object" || Array.isArray(doc)) {
    return {
      ok: false,
      issues: [{ loc: locPrefix, msg: "Input should be a valid dictionary or object", type: "dict_type" }],
    };
  }
  const prepared = prepareIncomingDocument(doc as ConversationDoc, conversationId);
  const issues = checkConversationDocument(prepared, locPrefix);
  if (typeof prepared.conversation_id === "string" && prepared.conversation_id.length === 0) {
    issues.push({
      loc: [...locPrefix, "conversation_id"],
      msg: "String should have at least 1 character",
      type: "string_too_short",
    });
  }
  return issues.length > 0 ? { ok: false, issues } : { ok: true, record: buildConversationRecord(prepared) };
}

/** Writes conversations and their audio: the one path every way in (HTTP, import, seed) goes through. */
export class IngestService {
  constructor(
    private readonly db: Database,
    private readonly blobs: BlobStore,
  ) {}

  /** Validates and upserts one document; throws a 422 and writes nothing when it is invalid. */
  async putConversation(conversationId: string, body: unknown): Promise<UpsertOutcome> {
    const checked = checkIncomingDocument(body, conversationId);
    if (!checked.ok) throw new ValidationFailed(checked.issues);
    const [outcome] = await this.db.conversations.upsertConversations([checked.record]);
    return outcome ?? "created";
  }

  /** Upserts records in one transaction. */
  async putRecords(records: readonly ConversationRecord[]): Promise<UpsertOutcome[]> {
    return this.db.conversations.upsertConversations(records);
  }

  /**
   * Stores a conversation's audio. The bytes go to the blob store first (atomically), then the
   * conversation row points at them. Returns false, keeping nothing, for an unknown conversation.
   */
  async putAudio(conversationId: string, body: Readable | Buffer, contentType: string): Promise<boolean> {
    if (!(await this.db.conversations.getConversation(conversationId))) return false;
    const key = audioBlobKey(conversationId);
    const size = await this.blobs.put(key, body);
    const ok =
      (await this.db.conversations.setAudio(conversationId, { blobKey: key, contentType, size })) !==
      undefined;
    if (!ok) await this.blobs.delete(key);
    return ok;
  }
}
