/**
 * A live call's recording served over the API: the flags of the served document, the mix at
 * `GET …/audio`, each speaker's track at `?track=user|agent` (an extension of ours), Range on a
 * track, the errors, and DELETE removing every blob. The recording is stored the way a live
 * session stores it, through `ConversationService.putRecording`.
 */
import { existsSync, readdirSync } from "node:fs";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { audioBlobKey } from "../../src/blobs/blob-keys.js";
import { buildConversation } from "../fixtures/conversations.js";
import { rms } from "../recording/signals.js";
import { BACKENDS } from "../support/backends.js";
import {
  buildCallRecording,
  CALL_SECONDS,
  decodeCallMp3,
  ENCODER_DELAY,
  FRAME,
  RATE,
  TONE_LEVEL,
  whoSpeaks,
} from "../support/call-recording-fixture.js";
import { catchSdkError } from "../support/catch-sdk-error.js";
import { putAudio, putConversation } from "../support/put-conversations.js";
import { startTestServer, type TestServer } from "../support/test-server.js";

async function readAll(stream: ReadableStream<Uint8Array>): Promise<Uint8Array> {
  return new Uint8Array(await new Response(stream).arrayBuffer());
}

describe.each(BACKENDS)("a live call's recording over the API on %s", (backend) => {
  let server: TestServer;

  beforeAll(async () => {
    server = await startTestServer(backend);
    for (const id of ["conv_call", "conv_user_only", "conv_imported"]) {
      expect((await putConversation(server, buildConversation({ id }))).status).toBe(201);
    }
    const service = server.server.services.conversations;
    expect(await service.putRecording("conv_call", buildCallRecording())).toEqual({
      hasAudio: true,
      hasUserAudio: true,
      hasResponseAudio: true,
    });
    expect(await service.putRecording("conv_user_only", buildCallRecording({ agent: false }))).toEqual({
      hasAudio: true,
      hasUserAudio: true,
      hasResponseAudio: false,
    });
    expect((await putAudio(server, "conv_imported", new Uint8Array([1, 2, 3]), "audio/mpeg")).status).toBe(
      200,
    );
  });
  afterAll(async () => {
    await server?.stop();
  });

  /** The files the filesystem blob store holds for a conversation's audio. */
  const audioFiles = (id: string): string[] => {
    const folder = path.join(server.storage.dataDir, "blobs", audioBlobKey(id));
    return existsSync(folder) ? readdirSync(folder).sort() : [];
  };

  const getAudio = (id: string, options: { track?: string; range?: string } = {}) =>
    server.client.conversationalAi.conversations.audio
      .get(id, {
        headers: options.range ? { range: options.range } : {},
        queryParams: options.track === undefined ? {} : { track: options.track },
      })
      .withRawResponse();

  it("serves the document with has_audio, has_user_audio and has_response_audio by who spoke", async () => {
    const conversations = server.client.conversationalAi.conversations;
    expect(await conversations.get("conv_call")).toMatchObject({
      hasAudio: true,
      hasUserAudio: true,
      hasResponseAudio: true,
    });
    expect(await conversations.get("conv_user_only")).toMatchObject({
      hasAudio: true,
      hasUserAudio: true,
      hasResponseAudio: false,
    });
    // Audio that arrived as one file has no speaker tracks.
    expect(await conversations.get("conv_imported")).toMatchObject({
      hasAudio: true,
      hasUserAudio: false,
      hasResponseAudio: false,
    });
  });

  it("a document written over a recorded call answers with the call's speaker flags (ingest PUT)", async () => {
    const response = await putConversation(server, buildConversation({ id: "conv_call" }));
    expect(response.status).toBe(200);
    expect(await response.json()).toMatchObject({
      has_audio: true,
      has_user_audio: true,
      has_response_audio: true,
    });
  });

  it("GET audio serves the mix as audio/mpeg: the call's length, each speaker where they spoke", async () => {
    const { data, rawResponse } = await getAudio("conv_call");
    expect(rawResponse.status).toBe(200);
    expect(rawResponse.headers.get("content-type")).toBe("audio/mpeg");
    const mp3 = await readAll(data);
    expect(rawResponse.headers.get("content-length")).toBe(String(mp3.byteLength));
    const { samples, sampleRate } = await decodeCallMp3(mp3);
    expect(sampleRate).toBe(RATE);
    expect(samples.length).toBeGreaterThanOrEqual(CALL_SECONDS * RATE - ENCODER_DELAY);
    expect(samples.length).toBeLessThanOrEqual(CALL_SECONDS * RATE + FRAME);
    expect(whoSpeaks(samples)).toEqual({ user: true, agent: true });
    // Nobody speaks between the turns.
    expect(rms(samples, RATE, 1.1, 1.4)).toBeLessThan(TONE_LEVEL / 50);
  });

  it.each([
    { track: "user", expected: { user: true, agent: false } },
    { track: "agent", expected: { user: false, agent: true } },
  ])("GET audio?track=$track serves only that speaker, over the whole call", async ({ track, expected }) => {
    const { data, rawResponse } = await getAudio("conv_call", { track });
    expect(rawResponse.status).toBe(200);
    expect(rawResponse.headers.get("content-type")).toBe("audio/mpeg");
    expect(rawResponse.headers.get("accept-ranges")).toBe("bytes");
    const { samples } = await decodeCallMp3(await readAll(data));
    expect(samples.length).toBeGreaterThanOrEqual(CALL_SECONDS * RATE - ENCODER_DELAY);
    expect(whoSpeaks(samples)).toEqual(expected);
  });

  it("answers Range on a track with 206 and just those bytes of the track", async () => {
    const whole = await readAll((await getAudio("conv_call", { track: "agent" })).data);
    const { data, rawResponse } = await getAudio("conv_call", { track: "agent", range: "bytes=100-299" });
    expect(rawResponse.status).toBe(206);
    expect(rawResponse.headers.get("content-range")).toBe(`bytes 100-299/${whole.byteLength}`);
    expect(rawResponse.headers.get("content-length")).toBe("200");
    expect(await readAll(data)).toEqual(whole.slice(100, 300));
    // Not the mix's bytes: the track is a file of its own.
    const mix = await readAll((await getAudio("conv_call")).data);
    expect(mix.byteLength).not.toBe(0);
    expect(whole).not.toEqual(mix);
  });

  it("answers 404 audio_not_found for a track the conversation does not have", async () => {
    for (const [id, track] of [
      ["conv_user_only", "agent"],
      ["conv_imported", "user"],
    ] as const) {
      const error = await catchSdkError(() => getAudio(id, { track }));
      expect(error.statusCode).toBe(404);
      expect(error.body).toEqual({
        detail: { status: "audio_not_found", message: expect.stringContaining(track) },
      });
    }
    // The whole recording is still there.
    expect((await getAudio("conv_user_only")).rawResponse.status).toBe(200);
  });

  it("answers 404 conversation_not_found for a track of an unknown conversation", async () => {
    const error = await catchSdkError(() => getAudio("conv_nope", { track: "user" }));
    expect(error.statusCode).toBe(404);
    expect(error.body).toMatchObject({ detail: { status: "conversation_not_found" } });
  });

  it.each(["mix", "", "USER", "both"])("answers track=%j with a 422 on the query", async (track) => {
    const error = await catchSdkError(() => getAudio("conv_call", { track }));
    expect(error.statusCode).toBe(422);
    expect(error.body).toEqual({
      detail: [{ loc: ["query", "track"], msg: expect.any(String), type: expect.any(String) }],
    });
  });

  it("answers a repeated track with a 422 on the query", async () => {
    const response = await server.fetch("/v1/convai/conversations/conv_call/audio?track=user&track=agent");
    expect(response.status).toBe(422);
    const { detail } = (await response.json()) as { detail: { loc: unknown[] }[] };
    expect(detail.length).toBeGreaterThan(0);
    for (const issue of detail) expect(issue.loc).toEqual(["query", "track"]);
  });

  it("describes the track parameter in /openapi.json", async () => {
    const spec = (await (await server.fetch("/openapi.json")).json()) as {
      paths: Record<string, Record<string, { parameters?: { name: string; in: string }[] }>>;
    };
    const operation = spec.paths["/v1/convai/conversations/{conversation_id}/audio"]?.get;
    expect(operation?.parameters).toContainEqual(expect.objectContaining({ name: "track", in: "query" }));
  });

  // Last: it deletes the conversation the others read.
  it("DELETE of the conversation removes the recording and both tracks", async () => {
    const files = audioFiles("conv_call");
    expect(files).toHaveLength(3);
    expect(files.filter((name) => name.startsWith("user-"))).toHaveLength(1);
    expect(files.filter((name) => name.startsWith("agent-"))).toHaveLength(1);
    await server.client.conversationalAi.conversations.delete("conv_call");
    expect(audioFiles("conv_call")).toEqual([]);
    expect((await catchSdkError(() => getAudio("conv_call", { track: "user" }))).statusCode).toBe(404);
  });
});
