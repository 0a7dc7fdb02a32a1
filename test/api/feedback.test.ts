import type { ElevenLabs } from "@elevenlabs/elevenlabs-js";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { buildConversation } from "../fixtures/conversations.js";
import { BACKENDS } from "../support/backends.js";
import { catchSdkError } from "../support/catch-sdk-error.js";
import { putConversations } from "../support/put-conversations.js";
import { startTestServer, type TestServer } from "../support/test-server.js";

describe.each(BACKENDS)("POST /v1/convai/conversations/{id}/feedback on %s", (backend) => {
  let server: TestServer;

  beforeAll(async () => {
    server = await startTestServer(backend);
    await putConversations(server, [
      buildConversation({ id: "conv_fb_a", startTime: 1_700_000_300 }),
      buildConversation({ id: "conv_fb_b", startTime: 1_700_000_200 }),
      buildConversation({ id: "conv_fb_c", startTime: 1_700_000_100, rating: 2, comment: "slow" }),
    ]);
  });
  afterAll(async () => {
    await server?.stop();
  });

  const feedbackOf = async (id: string) =>
    (await server.client.conversationalAi.conversations.get(id)).metadata.feedback;
  const listIds = async (request: ElevenLabs.conversationalAi.ConversationsListRequest) =>
    (await server.client.conversationalAi.conversations.list(request)).conversations.map(
      (c) => c.conversationId,
    );

  it("records a thumbs score in metadata.feedback, and the SDK reads it back", async () => {
    const answer = await server.client.conversationalAi.conversations.feedback.create("conv_fb_a", {
      feedback: "like",
    });
    expect(answer).toEqual({});
    const feedback = await feedbackOf("conv_fb_a");
    expect(feedback?.overallScore).toBe("like");
    expect(feedback?.type).toBe("thumbs");
    // The rest of the stored feedback (in-call like counts) is kept.
    expect(feedback?.likes).toBe(0);

    await server.client.conversationalAi.conversations.feedback.create("conv_fb_a", { feedback: "dislike" });
    expect((await feedbackOf("conv_fb_a"))?.overallScore).toBe("dislike");
  });

  it("accepts the SDK's empty call ({}) and an explicit null, which clears the thumbs score", async () => {
    await server.client.conversationalAi.conversations.feedback.create("conv_fb_a");
    expect((await feedbackOf("conv_fb_a"))?.overallScore).toBe("dislike");
    const response = await server.fetch("/v1/convai/conversations/conv_fb_a/feedback", {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify({ feedback: null }),
    });
    expect(response.status).toBe(200);
    expect((await feedbackOf("conv_fb_a"))?.overallScore).toBeUndefined();
  });

  it("takes the browser client's rating form, and the rating and comment filters see it", async () => {
    expect(await listIds({ ratingMin: 4 })).toEqual([]);
    const response = await server.fetch("/v1/convai/conversations/conv_fb_b/feedback", {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify({ rating: 5, comment: "Quick and friendly" }),
    });
    expect(response.status).toBe(200);
    const feedback = await feedbackOf("conv_fb_b");
    expect(feedback).toMatchObject({ type: "rating", rating: 5, comment: "Quick and friendly" });
    expect(await listIds({ ratingMin: 4 })).toEqual(["conv_fb_b"]);
    expect(await listIds({ ratingMax: 3 })).toEqual(["conv_fb_c"]);
    expect(await listIds({ hasFeedbackComment: true })).toEqual(["conv_fb_b", "conv_fb_c"]);

    // Clearing the comment takes the conversation out of the comment filter.
    await server.fetch("/v1/convai/conversations/conv_fb_b/feedback", {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify({ comment: null }),
    });
    expect(await listIds({ hasFeedbackComment: true })).toEqual(["conv_fb_c"]);
    expect(await listIds({ ratingMin: 5 })).toEqual(["conv_fb_b"]);
  });

  it("answers 404 for an unknown conversation", async () => {
    const error = await catchSdkError(() =>
      server.client.conversationalAi.conversations.feedback.create("conv_nope", { feedback: "like" }),
    );
    expect(error.statusCode).toBe(404);
    expect(error.body).toMatchObject({ detail: { status: "conversation_not_found" } });
  });

  it("answers 422 for values outside the model, and writes nothing", async () => {
    const before = await server.fetch("/v1/convai/conversations/conv_fb_c").then((r) => r.json());
    for (const [body, loc] of [
      [{ feedback: "love" }, ["body", "feedback"]],
      [{ rating: 6 }, ["body", "rating"]],
      [{ rating: 0 }, ["body", "rating"]],
      [{ comment: "x".repeat(10_001) }, ["body", "comment"]],
    ] as const) {
      const response = await server.fetch("/v1/convai/conversations/conv_fb_c/feedback", {
        method: "POST",
        headers: { "content-type": "application/json" },
        body: JSON.stringify(body),
      });
      expect(response.status).toBe(422);
      const detail = ((await response.json()) as { detail: { loc: unknown[] }[] }).detail;
      expect(detail.some((issue) => JSON.stringify(issue.loc).startsWith(JSON.stringify(loc)))).toBe(true);
    }
    expect(await server.fetch("/v1/convai/conversations/conv_fb_c").then((r) => r.json())).toEqual(before);
  });
});
