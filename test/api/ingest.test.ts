import type { ElevenLabs } from "@elevenlabs/elevenlabs-js";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { buildConversation } from "../fixtures/conversations.js";
import { BACKENDS } from "../support/backends.js";
import { putConversation } from "../support/put-conversations.js";
import { createRecordingClient, type RecordingClient } from "../support/recording-client.js";
import { startTestServer, type TestServer } from "../support/test-server.js";
import { expectWireModel } from "../support/wire-schemas.js";

const NO_AUDIO = {
  has_audio: false,
  has_user_audio: false,
  has_response_audio: false,
  has_auxiliary_audio: false,
};

describe.each(BACKENDS)("PUT /ingest/v1/conversations/{id} on %s", (backend) => {
  let server: TestServer;
  let sdk: RecordingClient;

  beforeAll(async () => {
    server = await startTestServer(backend);
    sdk = createRecordingClient(server);
  });
  afterAll(async () => {
    await server?.stop();
  });

  async function listIds(request: ElevenLabs.conversationalAi.ConversationsListRequest): Promise<string[]> {
    const page = await sdk.client.conversationalAi.conversations.list({ pageSize: 100, ...request });
    return page.conversations.map((c) => c.conversationId);
  }

  it("creates with 201 and answers with the stored document, which GET then serves", async () => {
    const doc = buildConversation({ id: "conv_new", agentId: "agent_ingest" });
    const response = await putConversation(server, doc);
    expect(response.status).toBe(201);
    expect(response.headers.get("content-type")).toMatch(/^application\/json/);
    const body = await response.json();
    expect(body).toStrictEqual({ ...doc, ...NO_AUDIO });
    expectWireModel("GetConversationResponseModel", body);

    const fetched = await sdk.client.conversationalAi.conversations.get("conv_new");
    expect(fetched.conversationId).toBe("conv_new");
    expect(fetched.agentId).toBe("agent_ingest");
    expect(sdk.lastBody()).toStrictEqual(body);
  });

  it("replaces with 200, and the list index follows the new document", async () => {
    const first = buildConversation({
      id: "conv_replace",
      agentId: "agent_before",
      tagIds: ["tag_before"],
      messages: ["the word zebracorn is here"],
    });
    expect((await putConversation(server, first)).status).toBe(201);
    expect(await listIds({ agentId: "agent_before" })).toEqual(["conv_replace"]);

    const second = buildConversation({
      id: "conv_replace",
      agentId: "agent_after",
      tagIds: ["tag_after"],
      messages: ["now it says unicornfish"],
    });
    const response = await putConversation(server, second);
    expect(response.status).toBe(200);
    expect(await response.json()).toStrictEqual({ ...second, ...NO_AUDIO });

    const fetched = await server.fetch("/v1/convai/conversations/conv_replace");
    expect(await fetched.json()).toStrictEqual({ ...second, ...NO_AUDIO });
    expect(await listIds({ agentId: "agent_before" })).toEqual([]);
    expect(await listIds({ agentId: "agent_after" })).toEqual(["conv_replace"]);
    expect(await listIds({ tagIds: "tag_before" })).toEqual([]);
    expect(await listIds({ tagIds: "tag_after" })).toEqual(["conv_replace"]);
    expect(await listIds({ search: "zebracorn" })).toEqual([]);
    expect(await listIds({ search: "unicornfish" })).toEqual(["conv_replace"]);
  });

  it("stores under the path id when the body names another conversation", async () => {
    const doc = buildConversation({ id: "conv_in_body" });
    const response = await putConversation(server, doc, "conv_in_path");
    expect(response.status).toBe(201);
    expect(((await response.json()) as { conversation_id: string }).conversation_id).toBe("conv_in_path");
    expect((await sdk.client.conversationalAi.conversations.get("conv_in_path")).conversationId).toBe(
      "conv_in_path",
    );
    expect((await server.fetch("/v1/convai/conversations/conv_in_body")).status).toBe(404);
  });

  it("accepts a document without conversation_id: the path supplies it", async () => {
    const { conversation_id: _, ...doc } = buildConversation({ id: "conv_no_id_in_body" });
    const response = await putConversation(server, doc, "conv_no_id_in_body");
    expect(response.status).toBe(201);
    expect(await response.json()).toStrictEqual({
      ...doc,
      conversation_id: "conv_no_id_in_body",
      ...NO_AUDIO,
    });
  });

  it("ignores has_* flags in the body: the server owns them", async () => {
    const doc = {
      ...buildConversation({ id: "conv_flags" }),
      has_audio: true,
      has_user_audio: true,
      has_response_audio: true,
      has_auxiliary_audio: true,
    };
    const body = await (await putConversation(server, doc)).json();
    expect(body).toMatchObject(NO_AUDIO);
    expect(await (await server.fetch("/v1/convai/conversations/conv_flags")).json()).toMatchObject(NO_AUDIO);
  });

  it("serves ids with slashes, spaces and non-ASCII characters", async () => {
    const id = "conv/ü 1?x=y#z";
    const response = await putConversation(server, buildConversation({ id }));
    expect(response.status).toBe(201);
    const fetched = await sdk.client.conversationalAi.conversations.get(id);
    expect(fetched.conversationId).toBe(id);
    expect(await listIds({})).toContain(id);
  });

  it("accepts ids up to 512 characters, also when percent-encoding makes the path much longer", async () => {
    const id = "日".repeat(512);
    expect((await putConversation(server, buildConversation({ id }))).status).toBe(201);
    expect((await sdk.client.conversationalAi.conversations.get(id)).conversationId).toBe(id);
  });

  describe("an invalid document", () => {
    const cases: { name: string; doc: unknown; issue: { loc: (string | number)[]; type: string } }[] = [
      {
        name: "a missing required key",
        doc: (() => {
          const { agent_id: _, ...rest } = buildConversation({ id: "conv_bad" });
          return rest;
        })(),
        issue: { loc: ["body", "agent_id"], type: "missing" },
      },
      {
        name: "a wrong type deep inside",
        doc: (() => {
          const doc = buildConversation({ id: "conv_bad" });
          (doc.metadata as Record<string, unknown>).start_time_unix_secs = "yesterday";
          return doc;
        })(),
        issue: { loc: ["body", "metadata", "start_time_unix_secs"], type: "float_type" },
      },
      {
        name: "a transcript entry without a role",
        doc: {
          ...buildConversation({ id: "conv_bad" }),
          transcript: [{ message: "hi", time_in_call_secs: 0 }],
        },
        issue: { loc: ["body", "transcript", 0, "role"], type: "missing" },
      },
      {
        name: "a tool call without params_as_json",
        doc: {
          ...buildConversation({ id: "conv_bad" }),
          transcript: [
            {
              role: "agent",
              time_in_call_secs: 0,
              tool_calls: [{ request_id: "r", tool_name: "t", tool_has_been_called: true }],
            },
          ],
        },
        issue: { loc: ["body", "transcript", 0, "tool_calls", 0, "params_as_json"], type: "missing" },
      },
      {
        name: "an array",
        doc: [buildConversation({ id: "conv_bad" })],
        issue: { loc: ["body"], type: "dict_type" },
      },
      { name: "a string", doc: "conversation", issue: { loc: ["body"], type: "dict_type" } },
    ];

    it.each(cases)("is refused with upstream's 422 and nothing is written: $name", async ({ doc, issue }) => {
      const response = await server.fetch("/ingest/v1/conversations/conv_bad", {
        method: "PUT",
        headers: { "content-type": "application/json" },
        body: JSON.stringify(doc),
      });
      expect(response.status).toBe(422);
      const body = (await response.json()) as { detail: { loc: unknown[]; msg: string; type: string }[] };
      expectWireModel("HttpValidationError", body);
      expect(body.detail).toContainEqual({ loc: issue.loc, msg: expect.any(String), type: issue.type });
      expect((await server.fetch("/v1/convai/conversations/conv_bad")).status).toBe(404);
      expect(await listIds({})).not.toContain("conv_bad");
    });

    it("leaves the stored version of an existing conversation untouched", async () => {
      const good = buildConversation({ id: "conv_keep", agentId: "agent_keep" });
      expect((await putConversation(server, good)).status).toBe(201);
      const { status: _, ...bad } = buildConversation({ id: "conv_keep", agentId: "agent_changed" });
      const response = await putConversation(server, bad);
      expect(response.status).toBe(422);
      expect(await (await server.fetch("/v1/convai/conversations/conv_keep")).json()).toStrictEqual({
        ...good,
        ...NO_AUDIO,
      });
      expect(await listIds({ agentId: "agent_changed" })).toEqual([]);
      expect(await listIds({ agentId: "agent_keep" })).toEqual(["conv_keep"]);
    });
  });
});
