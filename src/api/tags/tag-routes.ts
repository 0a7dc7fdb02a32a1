import { randomBytes } from "node:crypto";
import type { FastifyInstance } from "fastify";
import type { ConversationService } from "../../conversations/conversation-service.js";
import type { ConversationDoc } from "../../domain/conversation.js";
import { NotFoundError } from "../../domain/errors.js";
import type { ListQuery } from "../../domain/list-query.js";
import type { ConversationStore } from "../../store/store.js";
import type { TagChange, TagRow, TagStore } from "../../store/tag-store.js";
import {
  type ConversationIdParam,
  conversationIdParams,
  ID_SCHEMA,
  idParams,
  integerParam,
} from "../path-params.js";
import { decodeSeqCursor, encodeSeqCursor } from "../seq-cursor.js";

/** What the tag routes use. */
export interface TagRoutesDeps {
  tags: TagStore;
  /** Finds the conversations that carry a tag. */
  conversationStore: ConversationStore;
  /** Assigning and unassigning change the documents' `tag_ids` through the write path. */
  conversations: ConversationService;
}

/** The workspace every tag belongs to: one server is one workspace. */
export const TAG_WORKSPACE_ID = "default";
/** The owner recorded on tags: API keys are not users, so every tag has the same one. */
export const TAG_OWNER_USER_ID = "default";

const TITLE = { type: "string", minLength: 1, maxLength: 200 } as const;
// Nullable as type lists, not anyOf: with type coercion on, an anyOf null branch would turn 0 or "" into null.
const DESCRIPTION = { type: ["string", "null"], maxLength: 2000 } as const;

const tagParams = idParams("tag_id");
const conversationTagParams = idParams("conversation_id", "tag_id");

/** Renders a tag as ConversationTagResponseModel. */
function toWire(tag: TagRow): Record<string, unknown> {
  return {
    tag_id: tag.tagId,
    workspace_id: tag.workspaceId,
    owner_user_id: tag.ownerUserId,
    title: tag.title,
    description: tag.description,
    created_at_unix_secs: tag.createdAtUnixSecs,
  };
}

function tagNotFound(tagIds: readonly string[]): NotFoundError {
  return new NotFoundError(
    "tag",
    tagIds.join(", "),
    tagIds.length === 1 ? `Tag ${tagIds[0]} was not found.` : `Tags ${tagIds.join(", ")} were not found.`,
  );
}

/** A doc's `tag_ids` as strings (the key is optional, and may be null). */
function tagIdsOf(doc: ConversationDoc): string[] {
  return Array.isArray(doc.tag_ids) ? doc.tag_ids.filter((t): t is string => typeof t === "string") : [];
}

/**
 * Removes a tag from every conversation that carries it, one transaction per conversation. The
 * tag filter finds them; each change drops the conversation from the next page, so the loop asks
 * for the first page until it is empty.
 */
async function unassignEverywhere(deps: TagRoutesDeps, tagId: string): Promise<number> {
  const query: ListQuery = {
    pageSize: 100,
    cursor: null,
    direction: "desc",
    anyOf: [{ kind: "tag", values: [tagId] }],
    evaluations: [],
    dataCollection: [],
    dynamicVariables: [],
  };
  let changed = 0;
  const seen = new Set<string>();
  for (;;) {
    const page = await deps.conversationStore.listConversations(query);
    const ids = page.items
      .map((row) => String((JSON.parse(row.listItemJson) as { conversation_id: unknown }).conversation_id))
      .filter((id) => !seen.has(id));
    if (ids.length === 0) return changed;
    for (const id of ids) {
      seen.add(id);
      try {
        await deps.conversations.changeConversation(id, (doc) => {
          doc.tag_ids = tagIdsOf(doc).filter((t) => t !== tagId);
          return doc;
        });
        changed++;
      } catch (error) {
        // Deleted meanwhile: nothing left to unassign.
        if (!(error instanceof NotFoundError)) throw error;
      }
    }
  }
}

/** The workspace's conversation tags (`/v1/convai/tags…`) and their assignment to conversations. */
export async function tagRoutes(app: FastifyInstance, deps: TagRoutesDeps): Promise<void> {
  const { tags, conversations } = deps;

  app.get<{ Querystring: { page_size: number; cursor?: string } }>(
    "/v1/convai/tags",
    {
      schema: {
        querystring: {
          type: "object",
          properties: {
            page_size: integerParam({ minimum: 1, maximum: 100, default: 30 }),
            cursor: { type: "string", maxLength: 256 },
          },
        },
      },
    },
    async (request) => {
      const { page_size: pageSize, cursor } = request.query;
      const before = cursor ? decodeSeqCursor("tag", cursor) : null;
      const rows = await tags.listTags(before, pageSize + 1);
      const hasMore = rows.length > pageSize;
      const page = rows.slice(0, pageSize);
      const last = page[page.length - 1];
      return {
        conversation_tags: page.map(toWire),
        next_cursor: hasMore && last ? encodeSeqCursor("tag", last.seq) : null,
        has_more: hasMore,
      };
    },
  );

  app.post<{ Body: { title: string; description?: string | null } }>(
    "/v1/convai/tags",
    {
      schema: {
        body: {
          type: "object",
          properties: { title: TITLE, description: DESCRIPTION },
          required: ["title"],
        },
      },
    },
    async (request) => {
      const tag = await tags.createTag({
        tagId: `tag_${randomBytes(12).toString("hex")}`,
        title: request.body.title,
        description: request.body.description ?? null,
        ownerUserId: TAG_OWNER_USER_ID,
        workspaceId: TAG_WORKSPACE_ID,
        createdAtUnixSecs: Math.floor(Date.now() / 1000),
      });
      return toWire(tag);
    },
  );

  app.get<{ Params: { tag_id: string } }>(
    "/v1/convai/tags/:tag_id",
    { schema: { params: tagParams } },
    async (request) => {
      const tag = await tags.getTag(request.params.tag_id);
      if (!tag) throw tagNotFound([request.params.tag_id]);
      return toWire(tag);
    },
  );

  app.patch<{
    Params: { tag_id: string };
    Body: { title?: string | null; description?: string | null } | undefined;
  }>(
    "/v1/convai/tags/:tag_id",
    {
      schema: {
        params: tagParams,
        body: {
          type: "object",
          properties: {
            title: { type: ["string", "null"], minLength: 1, maxLength: 200 },
            description: DESCRIPTION,
          },
        },
      },
    },
    async (request) => {
      const body = request.body ?? {};
      const change: TagChange = {};
      // A null title means "leave it" (a tag always has one); a null description clears it.
      if (typeof body.title === "string") change.title = body.title;
      if ("description" in body) change.description = body.description ?? null;
      const tag = await tags.updateTag(request.params.tag_id, change);
      if (!tag) throw tagNotFound([request.params.tag_id]);
      return toWire(tag);
    },
  );

  app.delete<{ Params: { tag_id: string } }>(
    "/v1/convai/tags/:tag_id",
    { schema: { params: tagParams } },
    async (request) => {
      const { tag_id: tagId } = request.params;
      if (!(await tags.getTag(tagId))) throw tagNotFound([tagId]);
      // Unassigned first, so a failure part way leaves the tag in place and DELETE can be
      // retried; then once more after the definition is gone, for assignments made meanwhile.
      await unassignEverywhere(deps, tagId);
      await tags.deleteTag(tagId);
      await unassignEverywhere(deps, tagId);
      return {};
    },
  );

  app.post<{ Params: ConversationIdParam; Body: { tag_ids: string[] } }>(
    "/v1/convai/conversations/:conversation_id/tags",
    {
      schema: {
        params: conversationIdParams,
        body: {
          type: "object",
          properties: { tag_ids: { type: "array", items: ID_SCHEMA, maxItems: 50 } },
          required: ["tag_ids"],
        },
      },
    },
    async (request) => {
      const { conversation_id: id } = request.params;
      const wanted = [...new Set(request.body.tag_ids)];
      const existing = await tags.findExistingTagIds(wanted);
      const unknown = wanted.filter((t) => !existing.has(t));
      if (unknown.length > 0) throw tagNotFound(unknown);
      const record = await conversations.changeConversation(id, (doc) => {
        const current = tagIdsOf(doc);
        doc.tag_ids = [...current, ...wanted.filter((t) => !current.includes(t))];
        return doc;
      });
      return { conversation_id: id, tag_ids: tagIdsOf(JSON.parse(record.json) as ConversationDoc) };
    },
  );

  app.delete<{ Params: { conversation_id: string; tag_id: string } }>(
    "/v1/convai/conversations/:conversation_id/tags/:tag_id",
    { schema: { params: conversationTagParams } },
    async (request) => {
      const { conversation_id: id, tag_id: tagId } = request.params;
      let assigned = false;
      const record = await conversations.changeConversation(id, (doc) => {
        const current = tagIdsOf(doc);
        assigned = current.includes(tagId);
        if (assigned) doc.tag_ids = current.filter((t) => t !== tagId);
        return doc;
      });
      // Unassigning a tag the conversation does not carry is a no-op, unless no such tag exists at all.
      if (!assigned && !(await tags.getTag(tagId))) throw tagNotFound([tagId]);
      return { conversation_id: id, tag_ids: tagIdsOf(JSON.parse(record.json) as ConversationDoc) };
    },
  );
}
