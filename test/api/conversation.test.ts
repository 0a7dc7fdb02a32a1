import type { ElevenLabs } from "@elevenlabs/elevenlabs-js";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { buildConversation, buildRichConversation } from "../fixtures/conversations.js";
import { BACKENDS } from "../support/backends.js";
import { catchSdkError } from "../support/catch-sdk-error.js";
import { putConversation, putConversations } from "../support/put-conversations.js";
import { createRecordingClient, type RecordingClient } from "../support/recording-client.js";
import { startTestServer, type TestServer } from "../support/test-server.js";
import { expectWireModel } from "../support/wire-schemas.js";

const NO_AUDIO = {
  has_audio: false,
  has_user_audio: false,
  has_response_audio: false,
  has_auxiliary_audio: false,
};

describe.each(BACKENDS)("conversation endpoints on %s", (backend) => {
  let server: TestServer;
  let sdk: RecordingClient;
  const rich = buildRichConversation("conv_rich");
  const chatty = buildConversation({
    id: "conv_chatty",
    agentId: "agent_chatty",
    title: "Opening hours",
    summary: "The user asked when the shop opens.",
    callSuccessful: "failure",
    messages: ["When do you open?", "At nine.", "And on Sundays?", "Closed on Sundays.", "Thanks!"],
    tools: [{ name: "opening_hours" }],
  });
  const bare = buildConversation({ id: "conv_bare", callSuccessful: null, messages: [] });

  beforeAll(async () => {
    server = await startTestServer(backend);
    sdk = createRecordingClient(server);
    await putConversations(server, [rich, chatty, bare]);
  });
  afterAll(async () => {
    await server?.stop();
  });

  describe("GET /v1/convai/conversations/{id}", () => {
    it("round-trips a document losslessly: unknown keys, nulls, unicode, tool calls, analysis", async () => {
      const response = await server.fetch("/v1/convai/conversations/conv_rich");
      expect(response.status).toBe(200);
      expect(response.headers.get("content-type")).toMatch(/^application\/json/);
      expect(await response.json()).toStrictEqual({ ...rich, ...NO_AUDIO });
    });

    it("round-trips text databases find awkward: NUL characters and lone surrogates, in values and keys", async () => {
      const awkward = buildConversation({
        id: "conv_awkward",
        messages: ["before\u0000after", "half a pair: \ud83d!"],
        dynamicVariables: { "nul\u0000key": "nul\u0000value" },
        extra: { "\u0000": ["\udfff", "\u0001\u001f\u007f"] },
      });
      expect((await putConversation(server, awkward)).status).toBe(201);
      const response = await server.fetch("/v1/convai/conversations/conv_awkward");
      expect(await response.json()).toStrictEqual({ ...awkward, ...NO_AUDIO });
      const found = await sdk.client.conversationalAi.conversations.list({ search: "after" });
      expect(found.conversations.map((c) => c.conversationId)).toEqual(["conv_awkward"]);
    });

    it("is parsed by the SDK, which keeps the unknown keys and exposes the known ones", async () => {
      const conversation = await sdk.client.conversationalAi.conversations.get("conv_rich");
      const body = sdk.lastBody();
      expectWireModel("GetConversationResponseModel", body);
      expect(body).toStrictEqual({ ...rich, ...NO_AUDIO });

      expect(conversation.conversationId).toBe("conv_rich");
      expect(conversation.agentName).toBe("Ünïcødé agent — 客服 🤖");
      expect(conversation.hasAudio).toBe(false);
      expect(conversation.metadata.startTimeUnixSecs).toBe(1_739_537_297);
      expect(conversation.metadata.feedback?.comment).toBe("很好 👍");
      const toolTurn = conversation.transcript[2];
      expect(toolTurn?.toolCalls?.map((c) => [c.toolName, c.paramsAsJson, c.toolHasBeenCalled])).toEqual([
        ["lookup_order", '{"order_id":"A-1","tags":["x","ü"]}', true],
        ["show_map", "{}", false],
      ]);
      expect(toolTurn?.toolResults).toHaveLength(2);
      expect(conversation.analysis?.evaluationCriteriaResults?.politeness?.score).toBe(9);
      expect(conversation.analysis?.dataCollectionResults?.items?.value).toEqual(["x", { y: 1 }]);
      expect(conversation.conversationInitiationClientData?.dynamicVariables).toEqual({
        user_name: "Ангелина",
        vip: true,
        visits: 3,
        balance: -12.5,
        note: null,
      });
      // The SDK passes unknown keys through untouched.
      expect((conversation as unknown as Record<string, unknown>).future_top_level_field).toEqual({
        version: 2,
        flags: [true, false],
      });
      expect((conversation.metadata as unknown as Record<string, unknown>).max_safe_integer).toBe(
        9_007_199_254_740_991,
      );
    });

    it("answers format=json like the default", async () => {
      const conversation = await sdk.client.conversationalAi.conversations.get("conv_chatty", {
        format: "json",
      });
      expect(conversation.conversationId).toBe("conv_chatty");
      expect(sdk.lastBody()).toStrictEqual({ ...chatty, ...NO_AUDIO });
    });

    it("answers an unknown id with 404 conversation_not_found", async () => {
      const error = await catchSdkError(() => sdk.client.conversationalAi.conversations.get("conv_nope"));
      expect(error.statusCode).toBe(404);
      expect(error.body).toEqual({
        detail: { status: "conversation_not_found", message: expect.stringContaining("conv_nope") },
      });
    });
  });

  describe("GET /v1/convai/conversations/{id}/summary", () => {
    it("gives title, summary, outcome and the plain chat messages (no tool turns)", async () => {
      const summary = await sdk.client.conversationalAi.conversations.getSummary("conv_chatty");
      const body = sdk.lastBody();
      expectWireModel("GetConversationSummaryResponseModel", body);
      expect(body).toEqual({
        conversation_id: "conv_chatty",
        agent_id: "agent_chatty",
        status: "done",
        call_summary_title: "Opening hours",
        transcript_summary: "The user asked when the shop opens.",
        call_successful: "failure",
        message_count: 5,
        messages: [
          { role: "user", message: "When do you open?" },
          { role: "agent", message: "At nine." },
          { role: "user", message: "And on Sundays?" },
          { role: "agent", message: "Closed on Sundays." },
          { role: "user", message: "Thanks!" },
        ],
        messages_omitted: false,
        note: expect.stringContaining("/v1/convai/conversations/"),
      });
      expect(summary.messageCount).toBe(5);
      expect(summary.messages?.[1]).toEqual({ role: "agent", message: "At nine." });
    });

    it("omits the messages when there are more than max_messages", async () => {
      const summary = await sdk.client.conversationalAi.conversations.getSummary("conv_chatty", {
        maxMessages: 4,
      });
      expectWireModel("GetConversationSummaryResponseModel", sdk.lastBody());
      expect(summary.messageCount).toBe(5);
      expect(summary.messages ?? null).toBeNull();
      expect(summary.messagesOmitted).toBe(true);
    });

    it("keeps the messages when there are exactly max_messages", async () => {
      const summary = await sdk.client.conversationalAi.conversations.getSummary("conv_chatty", {
        maxMessages: 5,
      });
      expect(summary.messages).toHaveLength(5);
      expect(summary.messagesOmitted).toBe(false);
    });

    it("omits the messages of any non-empty conversation with max_messages=0", async () => {
      const summary = await sdk.client.conversationalAi.conversations.getSummary("conv_chatty", {
        maxMessages: 0,
      });
      expect(summary.messages ?? null).toBeNull();
      expect(summary.messagesOmitted).toBe(true);
    });

    it("answers a conversation without analysis or messages with nulls where upstream allows them", async () => {
      const summary = await sdk.client.conversationalAi.conversations.getSummary("conv_bare");
      const body = sdk.lastBody();
      expectWireModel("GetConversationSummaryResponseModel", body);
      expect(body).toMatchObject({
        conversation_id: "conv_bare",
        call_summary_title: null,
        transcript_summary: null,
        call_successful: null,
        message_count: 0,
        messages: [],
        messages_omitted: false,
      });
      expect(summary.messageCount).toBe(0);
    });

    it("keeps unicode messages intact", async () => {
      const summary = await sdk.client.conversationalAi.conversations.getSummary("conv_rich");
      expect(summary.messages?.map((m) => m.message)).toEqual([
        "こんにちは！ご用件をどうぞ。",
        (rich.transcript as { message: string }[])[1]?.message,
        "Your order has shipped.",
      ]);
    });

    it("refuses a negative max_messages with a 422 on the query", async () => {
      const error = await catchSdkError(() =>
        sdk.client.conversationalAi.conversations.getSummary("conv_chatty", { maxMessages: -1 }),
      );
      expect(error.statusCode).toBe(422);
      expect(error.body).toEqual({
        detail: [{ loc: ["query", "max_messages"], msg: expect.any(String), type: "greater_than_equal" }],
      });
    });

    it("answers an unknown id with 404 conversation_not_found", async () => {
      const error = await catchSdkError(() =>
        sdk.client.conversationalAi.conversations.getSummary("conv_nope"),
      );
      expect(error.statusCode).toBe(404);
      expect(error.body).toMatchObject({ detail: { status: "conversation_not_found" } });
    });
  });

  describe("DELETE /v1/convai/conversations/{id}", () => {
    it("removes the conversation and every index entry that could find it", async () => {
      const doomed = buildConversation({
        id: "conv_doomed",
        agentId: "agent_doomed",
        userId: "user_doomed",
        tagIds: ["tag_doomed"],
        tools: [{ name: "doomed_tool" }],
        dynamicVariables: { doomed: "yes" },
        evaluations: { doomed_eval: "success" },
        messages: ["a quokkasaurus walked in"],
      });
      expect((await putConversation(server, doomed)).status).toBe(201);
      const conversations = sdk.client.conversationalAi.conversations;
      const queries: ElevenLabs.conversationalAi.ConversationsListRequest[] = [
        { agentId: "agent_doomed" },
        { userId: "user_doomed" },
        { tagIds: "tag_doomed" },
        { toolNames: "doomed_tool" },
        { dynamicVariableParams: "doomed:eq:yes" },
        { evaluationParams: "doomed_eval:success" },
        { search: "quokkasaurus" },
      ];
      for (const query of queries) {
        expect((await conversations.list(query)).conversations.map((c) => c.conversationId)).toEqual([
          "conv_doomed",
        ]);
      }

      const deleted = await conversations.delete("conv_doomed");
      expect(deleted).toEqual({});

      expect((await catchSdkError(() => conversations.get("conv_doomed"))).statusCode).toBe(404);
      for (const query of queries) expect((await conversations.list(query)).conversations).toEqual([]);
      const all = await conversations.list({ pageSize: 100 });
      expect(all.conversations.map((c) => c.conversationId)).not.toContain("conv_doomed");
    });

    it("answers a second delete, and an unknown id, with 404 conversation_not_found", async () => {
      expect((await putConversation(server, buildConversation({ id: "conv_twice" }))).status).toBe(201);
      await sdk.client.conversationalAi.conversations.delete("conv_twice");
      const error = await catchSdkError(() => sdk.client.conversationalAi.conversations.delete("conv_twice"));
      expect(error.statusCode).toBe(404);
      expect(error.body).toMatchObject({ detail: { status: "conversation_not_found" } });
    });

    it("lets a deleted id be ingested again as a new conversation", async () => {
      const doc = buildConversation({ id: "conv_reborn", tagIds: ["tag_reborn"] });
      expect((await putConversation(server, doc)).status).toBe(201);
      await sdk.client.conversationalAi.conversations.delete("conv_reborn");
      expect((await putConversation(server, doc)).status).toBe(201);
      const listed = await sdk.client.conversationalAi.conversations.list({ tagIds: "tag_reborn" });
      expect(listed.conversations.map((c) => c.conversationId)).toEqual(["conv_reborn"]);
    });
  });
});
