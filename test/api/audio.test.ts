import { existsSync } from "node:fs";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { audioBlobKey } from "../../src/blobs/blob-keys.js";
import { buildConversation } from "../fixtures/conversations.js";
import { BACKENDS } from "../support/backends.js";
import { catchSdkError } from "../support/catch-sdk-error.js";
import { putAudio, putConversation } from "../support/put-conversations.js";
import { createRecordingClient, type RecordingClient } from "../support/recording-client.js";
import { startTestServer, type TestServer } from "../support/test-server.js";
import { expectWireModel } from "../support/wire-schemas.js";

/** Deterministic "audio": 1000 bytes that differ from position to position. */
const AUDIO = Uint8Array.from({ length: 1000 }, (_, i) => (i * 37 + 11) % 256);

async function readAll(stream: ReadableStream<Uint8Array>): Promise<Uint8Array> {
  return new Uint8Array(await new Response(stream).arrayBuffer());
}

describe.each(BACKENDS)("conversation audio on %s", (backend) => {
  let server: TestServer;
  let sdk: RecordingClient;

  beforeAll(async () => {
    server = await startTestServer(backend);
    sdk = createRecordingClient(server);
    for (const id of ["conv_audio", "conv_silent", "conv_replaced", "conv_audio_deleted"]) {
      expect((await putConversation(server, buildConversation({ id }))).status).toBe(201);
    }
    expect((await putAudio(server, "conv_audio", AUDIO, "audio/wav")).status).toBe(200);
  });
  afterAll(async () => {
    await server?.stop();
  });

  /** Where the filesystem blob store keeps a conversation's audio. */
  const blobPath = (id: string) => path.join(server.storage.dataDir, "blobs", audioBlobKey(id));

  const getAudio = (id: string, headers: Record<string, string> = {}) =>
    sdk.client.conversationalAi.conversations.audio.get(id, { headers }).withRawResponse();

  describe("PUT /ingest/v1/conversations/{id}/audio", () => {
    it("stores the audio and answers with the document, now with has_audio", async () => {
      const response = await putAudio(server, "conv_replaced", AUDIO.slice(0, 10), "audio/mpeg");
      expect(response.status).toBe(200);
      const body = (await response.json()) as Record<string, unknown>;
      expectWireModel("GetConversationResponseModel", body);
      expect(body).toMatchObject({ conversation_id: "conv_replaced", has_audio: true });
      expect((await sdk.client.conversationalAi.conversations.get("conv_replaced")).hasAudio).toBe(true);
      expect((await sdk.client.conversationalAi.conversations.get("conv_silent")).hasAudio).toBe(false);
    });

    it("replaces earlier audio, content type included", async () => {
      const replacement = AUDIO.slice(100, 400);
      expect((await putAudio(server, "conv_replaced", replacement, "audio/ogg; codecs=opus")).status).toBe(
        200,
      );
      const { data, rawResponse } = await getAudio("conv_replaced");
      expect(rawResponse.headers.get("content-type")).toBe("audio/ogg");
      expect(await readAll(data)).toEqual(replacement);
    });

    it("keeps the audio when the document is replaced", async () => {
      const doc = buildConversation({ id: "conv_replaced", agentId: "agent_new_version" });
      const response = await putConversation(server, doc);
      expect(response.status).toBe(200);
      expect(await response.json()).toMatchObject({ agent_id: "agent_new_version", has_audio: true });
      const { data } = await getAudio("conv_replaced");
      expect(await readAll(data)).toEqual(AUDIO.slice(100, 400));
    });

    it("answers 404 conversation_not_found for an unknown conversation and stores nothing", async () => {
      const response = await putAudio(server, "conv_unknown", AUDIO, "audio/mpeg");
      expect(response.status).toBe(404);
      expect(await response.json()).toEqual({
        detail: { status: "conversation_not_found", message: expect.stringContaining("conv_unknown") },
      });
      expect(existsSync(blobPath("conv_unknown"))).toBe(false);
      // The conversation arriving later still has no audio.
      expect((await putConversation(server, buildConversation({ id: "conv_unknown" }))).status).toBe(201);
      expect((await sdk.client.conversationalAi.conversations.get("conv_unknown")).hasAudio).toBe(false);
    });

    it("refuses an empty body with a 422", async () => {
      const response = await putAudio(server, "conv_silent", new Uint8Array(0), "audio/mpeg");
      expect(response.status).toBe(422);
      const body = await response.json();
      expectWireModel("HttpValidationError", body);
      expect(body).toEqual({ detail: [{ loc: ["body"], msg: expect.any(String), type: "missing" }] });
      expect((await sdk.client.conversationalAi.conversations.get("conv_silent")).hasAudio).toBe(false);
    });
  });

  describe("GET /v1/convai/conversations/{id}/audio", () => {
    it("serves the bytes with their content type, length and Accept-Ranges", async () => {
      const { data, rawResponse } = await getAudio("conv_audio");
      expect(rawResponse.status).toBe(200);
      expect(rawResponse.headers.get("content-type")).toBe("audio/wav");
      expect(rawResponse.headers.get("content-length")).toBe("1000");
      expect(rawResponse.headers.get("accept-ranges")).toBe("bytes");
      expect(await readAll(data)).toEqual(AUDIO);
    });

    const ranges: { range: string; start: number; end: number }[] = [
      { range: "bytes=0-9", start: 0, end: 9 },
      { range: "bytes=990-", start: 990, end: 999 },
      { range: "bytes=-5", start: 995, end: 999 },
      { range: "bytes=500-500", start: 500, end: 500 },
      // An end past the last byte is clamped to it.
      { range: "bytes=900-5000", start: 900, end: 999 },
    ];
    it.each(ranges)("answers Range: $range with 206 and just those bytes", async ({ range, start, end }) => {
      const { data, rawResponse } = await getAudio("conv_audio", { range });
      expect(rawResponse.status).toBe(206);
      expect(rawResponse.headers.get("content-range")).toBe(`bytes ${start}-${end}/1000`);
      expect(rawResponse.headers.get("content-length")).toBe(String(end - start + 1));
      expect(rawResponse.headers.get("content-type")).toBe("audio/wav");
      expect(await readAll(data)).toEqual(AUDIO.slice(start, end + 1));
    });

    it.each(["pages=1-2", "bytes=0-1,5-6"])(
      "ignores Range: %s and serves the whole recording",
      async (range) => {
        const { data, rawResponse } = await getAudio("conv_audio", { range });
        expect(rawResponse.status).toBe(200);
        expect(rawResponse.headers.get("content-length")).toBe("1000");
        expect(await readAll(data)).toEqual(AUDIO);
      },
    );

    it.each(["bytes=1000-", "bytes=1000-1001", "bytes=9-3", "bytes=-0", "bytes=abc", "bytes=1-2-3"])(
      "answers Range: %s with 416 and the size",
      async (range) => {
        const error = await catchSdkError(() => getAudio("conv_audio", { range }));
        expect(error.statusCode).toBe(416);
        expect(error.body).toEqual({
          detail: { status: "range_not_satisfiable", message: expect.any(String) },
        });
        expect(error.rawResponse?.headers.get("content-range")).toBe("bytes */1000");
      },
    );

    it("answers 404 audio_not_found for a conversation without audio", async () => {
      const error = await catchSdkError(() => getAudio("conv_silent"));
      expect(error.statusCode).toBe(404);
      expect(error.body).toEqual({ detail: { status: "audio_not_found", message: expect.any(String) } });
    });

    it("answers 404 conversation_not_found for an unknown conversation", async () => {
      const error = await catchSdkError(() => getAudio("conv_nope"));
      expect(error.statusCode).toBe(404);
      expect(error.body).toMatchObject({ detail: { status: "conversation_not_found" } });
    });
  });

  it("DELETE of the conversation removes its audio blob", async () => {
    expect((await putAudio(server, "conv_audio_deleted", AUDIO, "audio/mpeg")).status).toBe(200);
    const blob = blobPath("conv_audio_deleted");
    expect(existsSync(blob)).toBe(true);
    await sdk.client.conversationalAi.conversations.delete("conv_audio_deleted");
    expect(existsSync(blob)).toBe(false);
    expect((await catchSdkError(() => getAudio("conv_audio_deleted"))).statusCode).toBe(404);
    // A new conversation under the same id starts without audio.
    expect((await putConversation(server, buildConversation({ id: "conv_audio_deleted" }))).status).toBe(201);
    expect((await sdk.client.conversationalAi.conversations.get("conv_audio_deleted")).hasAudio).toBe(false);
  });
});
