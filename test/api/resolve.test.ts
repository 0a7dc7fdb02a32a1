import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { deriveReferenceConversationId } from "../../src/domain/conversation-reference.js";
import { buildConversation } from "../fixtures/conversations.js";
import { BACKENDS } from "../support/backends.js";
import { catchSdkError } from "../support/catch-sdk-error.js";
import { putConversations } from "../support/put-conversations.js";
import { createRecordingClient, type RecordingClient } from "../support/recording-client.js";
import { startTestServer, type TestServer } from "../support/test-server.js";
import { expectWireModel } from "../support/wire-schemas.js";

const SLACK_THREAD = "https://acme.slack.com/archives/C0123ABC/p1712345678123456";
const ZENDESK_TICKET = "https://acme.zendesk.com/agent/tickets/4711";

/** A conversation that records where it came from, as upstream's async channels do. */
function asyncConversation(id: string, agentId: string, system: string, link: string, startTime: number) {
  const doc = buildConversation({ id, agentId, startTime });
  (doc.metadata as Record<string, unknown>).async_metadata = {
    delivery_status: "success",
    delivery_timestamp: startTime + 5,
    external_system: system,
    external_id: "ext-1",
    external_link: link,
  };
  return doc;
}

describe.each(BACKENDS)("GET /v1/convai/conversations/resolve on %s", (backend) => {
  let server: TestServer;
  let sdk: RecordingClient;
  const derivedId = deriveReferenceConversationId("agent_zd", "zendesk:acme.zendesk.com/99");

  beforeAll(async () => {
    server = await startTestServer(backend);
    sdk = createRecordingClient(server);
    await putConversations(server, [
      asyncConversation("conv_slack", "agent_slack", "slack", SLACK_THREAD, 1_700_000_100),
      asyncConversation("conv_zendesk_old", "agent_zd", "zendesk", ZENDESK_TICKET, 1_700_000_100),
      asyncConversation("conv_zendesk_new", "agent_zd", "zendesk", `${ZENDESK_TICKET}/`, 1_700_000_200),
      buildConversation({ id: derivedId, agentId: "agent_zd" }),
    ]);
  });
  afterAll(async () => {
    await server?.stop();
  });

  const resolve = (agentId: string, reference: string) =>
    sdk.client.conversationalAi.conversations.resolve({ agentId, reference });

  it("resolves a Slack message URL to the conversation that records it", async () => {
    const conversation = await resolve("agent_slack", `${SLACK_THREAD}?cid=C0123ABC`);
    expectWireModel("GetConversationResponseModel", sdk.lastBody());
    expect(conversation.conversationId).toBe("conv_slack");
    expect(conversation.metadata.asyncMetadata?.externalLink).toBe(SLACK_THREAD);
  });

  it("resolves a Zendesk ticket URL to the newest conversation that records it", async () => {
    expect((await resolve("agent_zd", ZENDESK_TICKET)).conversationId).toBe("conv_zendesk_new");
  });

  it("falls back to the id derived from the agent and the reference", async () => {
    expect((await resolve("agent_zd", "https://acme.zendesk.com/agent/tickets/99")).conversationId).toBe(
      derivedId,
    );
  });

  it("answers 404 for another agent or an unknown reference, 422 for a reference that is no Slack or Zendesk URL", async () => {
    for (const [agentId, reference] of [
      ["agent_other", SLACK_THREAD],
      ["agent_slack", "https://acme.slack.com/archives/C0123ABC/p1700000000000000"],
      ["agent_slack", "https://acme.zendesk.com/agent/tickets/99"],
    ] as const) {
      const error = await catchSdkError(() => resolve(agentId, reference));
      expect(error.statusCode).toBe(404);
      expect(error.body).toMatchObject({ detail: { status: "conversation_not_found" } });
    }
    const invalid = await catchSdkError(() => resolve("agent_slack", "https://example.com/page"));
    expect(invalid.statusCode).toBe(422);
    expect(invalid.body).toMatchObject({ detail: [{ loc: ["query", "reference"], type: "value_error" }] });
    const missing = await server.fetch("/v1/convai/conversations/resolve?agent_id=agent_slack");
    expect(missing.status).toBe(422);
    expect(await missing.json()).toEqual({
      detail: [{ loc: ["query", "reference"], msg: "Field required", type: "missing" }],
    });
  });

  it("stops resolving once the conversation is deleted", async () => {
    await sdk.client.conversationalAi.conversations.delete("conv_slack");
    expect((await catchSdkError(() => resolve("agent_slack", SLACK_THREAD))).statusCode).toBe(404);
  });
});
