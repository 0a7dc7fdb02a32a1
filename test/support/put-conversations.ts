import type { TestServer } from "./test-server.js";

/** Ingests one document under its `conversation_id` (raw PUT: ingest is not part of the SDK). */
export async function putConversation(
  server: TestServer,
  doc: Record<string, unknown>,
  conversationId: string = String(doc.conversation_id),
): Promise<Response> {
  return server.fetch(`/ingest/v1/conversations/${encodeURIComponent(conversationId)}`, {
    method: "PUT",
    headers: { "content-type": "application/json" },
    body: JSON.stringify(doc),
  });
}

/** Ingests documents, a few at a time, and fails on the first one the server does not accept. */
export async function putConversations(
  server: TestServer,
  docs: readonly Record<string, unknown>[],
): Promise<void> {
  const parallel = 16;
  for (let i = 0; i < docs.length; i += parallel) {
    const responses = await Promise.all(
      docs.slice(i, i + parallel).map((doc) => putConversation(server, doc)),
    );
    for (const [j, response] of responses.entries()) {
      if (response.status !== 201 && response.status !== 200) {
        throw new Error(
          `ingest of ${String(docs[i + j]?.conversation_id)} answered ${response.status}: ${await response.text()}`,
        );
      }
    }
  }
}

/** Uploads audio bytes for a conversation (raw PUT). */
export async function putAudio(
  server: TestServer,
  conversationId: string,
  bytes: Uint8Array,
  contentType: string,
): Promise<Response> {
  return server.fetch(`/ingest/v1/conversations/${encodeURIComponent(conversationId)}/audio`, {
    method: "PUT",
    headers: { "content-type": contentType },
    body: bytes,
  });
}
