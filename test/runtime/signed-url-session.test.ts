/**
 * Signed URLs end to end: the official client connects with `signedUrl` (from the SDK's
 * getSignedUrl) to an agent with enable_auth; a tampered, an expired and a reused single-use
 * signature are each refused with 1008 and a reason; a single-use signature fixes the id of the
 * conversation it starts.
 */
import { SessionConnectionError, type TextConversation } from "@elevenlabs/client";
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import { createConversationSignature } from "../../src/runtime/conversation-signature.js";
import { BACKENDS } from "../support/backends.js";
import { startTestServer, type TestServer } from "../support/test-server.js";
import { startTextSession } from "./text-session.js";

describe.each(BACKENDS)("signed URLs with the official client on %s", (backend) => {
  let server: TestServer;
  let agentId: string;
  const open: TextConversation[] = [];

  beforeAll(async () => {
    server = await startTestServer(backend);
    const created = await server.client.conversationalAi.agents.create({
      conversationConfig: { agent: { firstMessage: "Signed in." } },
      platformSettings: { auth: { enableAuth: true } },
    });
    agentId = created.agentId;
  });
  afterEach(async () => {
    for (const conversation of open.splice(0)) await conversation.endSession().catch(() => undefined);
  });
  afterAll(async () => {
    await server?.stop();
  });

  const signedUrl = async (includeConversationId = false) =>
    (await server.client.conversationalAi.conversations.getSignedUrl({ agentId, includeConversationId }))
      .signedUrl;
  const refusal = async (url: string): Promise<SessionConnectionError> => {
    const error = await startTextSession(server.url, agentId, { signedUrl: url }).then(
      (session) => {
        open.push(session.conversation);
        throw new Error("the session started");
      },
      (caught: unknown) => caught,
    );
    expect(error).toBeInstanceOf(SessionConnectionError);
    return error as SessionConnectionError;
  };

  it("starts a session with an enable_auth agent through a signed URL", async () => {
    const session = await startTextSession(server.url, agentId, { signedUrl: await signedUrl() });
    open.push(session.conversation);
    const first = await session.waitFor("message", (m) => m.role === "agent");
    expect(first.message).toBe("Signed in.");
  });

  it("refuses a tampered signature with 1008", async () => {
    const url = new URL(await signedUrl());
    const signature = url.searchParams.get("conversation_signature") ?? "";
    const last = signature.at(-1) === "A" ? "B" : "A";
    url.searchParams.set("conversation_signature", `${signature.slice(0, -1)}${last}`);
    const error = await refusal(url.toString());
    expect(error.closeCode).toBe(1008);
    expect(error.closeReason).toMatch(/Authentication failed: bad signature/);
  });

  it("refuses an expired signature with 1008", async () => {
    const issued = await createConversationSignature(server.server.services.db.conversationSignatures, {
      agentId,
      includeConversationId: false,
      now: Date.now() - 16 * 60 * 1000,
    });
    const url = new URL(await signedUrl());
    url.searchParams.set("conversation_signature", issued.signature);
    const error = await refusal(url.toString());
    expect(error.closeCode).toBe(1008);
    expect(error.closeReason).toMatch(/expired/);
  });

  it("fixes the conversation id of a single-use signature, and refuses its reuse with 1008", async () => {
    const issued = await createConversationSignature(server.server.services.db.conversationSignatures, {
      agentId,
      includeConversationId: true,
    });
    const url = new URL(await signedUrl());
    url.searchParams.set("conversation_signature", issued.signature);
    const session = await startTextSession(server.url, agentId, { signedUrl: url.toString() });
    open.push(session.conversation);
    await session.waitFor("message", (m) => m.role === "agent");
    expect(issued.conversationId).toMatch(/^conv_/);
    expect(session.conversation.getId()).toBe(issued.conversationId);
    const again = await refusal(url.toString());
    expect(again.closeCode).toBe(1008);
    expect(again.closeReason).toMatch(/already used/);
  });
});
