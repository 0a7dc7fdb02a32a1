import { readdirSync } from "node:fs";
import http from "node:http";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { audioBlobKey } from "../../src/blobs/blob-keys.js";
import { signWebhookBody } from "../../src/ingest/webhook-signature.js";
import { buildConversation } from "../fixtures/conversations.js";
import { HOSTILE_IDS } from "../fixtures/hostile-ids.js";
import { BACKENDS } from "../support/backends.js";
import { startTestServer, type TestServer } from "../support/test-server.js";

const SECRET = "wsec_hostile_audio_0123";
const WEBHOOK = "/ingest/v1/webhooks/elevenlabs";
/** A guard against a download that never ends (a wrong Content-Length): it is not a speed limit. */
const HANG_GUARD_MS = 10_000;

/** Deterministic bytes of a given length, different per seed. */
function bytesOf(length: number, seed: number): Buffer {
  return Buffer.from(Array.from({ length }, (_, i) => (i * 31 + seed * 7 + 3) % 256));
}

/** A path segment for any id: percent-encoded, dots too. */
function segment(id: string): string {
  return encodeURIComponent(id).replaceAll(".", "%2E");
}

/** What a raw request got: status, headers and the whole body. */
interface RawResponse {
  status: number;
  headers: http.IncomingHttpHeaders;
  body: Buffer;
  json(): unknown;
}

/**
 * Sends a request with its path exactly as given: fetch resolves "%2E" and "%2E%2E" segments as
 * "." and "..", as URLs do, but a client on the wire need not. A response that never ends (a body
 * shorter than its Content-Length) fails after HANG_GUARD_MS.
 */
function rawRequest(
  server: TestServer,
  method: string,
  pathAndQuery: string,
  headers: Record<string, string> = {},
  body?: Buffer | string,
): Promise<RawResponse> {
  const url = new URL(server.url);
  return new Promise((resolve, reject) => {
    const request = http.request(
      {
        host: url.hostname,
        port: url.port,
        method,
        path: pathAndQuery,
        headers: { "xi-api-key": server.apiKey, ...headers },
        agent: false,
      },
      (response) => {
        const chunks: Buffer[] = [];
        response.on("data", (chunk: Buffer) => chunks.push(chunk));
        response.on("error", reject);
        response.on("aborted", () => reject(new Error("the response was cut short")));
        response.on("end", () => {
          const all = Buffer.concat(chunks);
          resolve({
            status: response.statusCode ?? 0,
            headers: response.headers,
            body: all,
            json: () => JSON.parse(all.toString("utf8")),
          });
        });
      },
    );
    request.setTimeout(HANG_GUARD_MS, () => request.destroy(new Error("the response never ended")));
    request.on("error", reject);
    request.end(body);
  });
}

describe.each(BACKENDS)("hostile audio on %s", (backend) => {
  let server: TestServer;

  beforeAll(async () => {
    server = await startTestServer(backend, {
      OPENCONVAI_WEBHOOK_SECRETS: SECRET,
      OPENCONVAI_WEBHOOK_TOLERANCE_SECS: "600",
    });
  });
  afterAll(async () => {
    await server?.stop();
  });

  const putDoc = (id: string) =>
    rawRequest(
      server,
      "PUT",
      `/ingest/v1/conversations/${segment(id)}`,
      { "content-type": "application/json" },
      JSON.stringify(buildConversation({ id })),
    );
  const putAudio = (id: string, bytes: Buffer, type: string) =>
    rawRequest(
      server,
      "PUT",
      `/ingest/v1/conversations/${segment(id)}/audio`,
      { "content-type": type },
      bytes,
    );
  const postSigned = (body: string) =>
    fetch(`${server.url}${WEBHOOK}`, {
      method: "POST",
      headers: {
        "content-type": "application/json",
        "ElevenLabs-Signature": signWebhookBody(body, SECRET, Math.floor(Date.now() / 1000)),
      },
      body,
    });
  const webhookAudio = (id: string, bytes: Buffer) =>
    postSigned(
      JSON.stringify({
        type: "post_call_audio",
        event_timestamp: Math.floor(Date.now() / 1000),
        data: {
          agent_id: "agent_1",
          conversation_id: id,
          full_audio: bytes.toString("base64"),
          n: Math.random(),
        },
      }),
    );
  const webhookTranscription = (id: string) =>
    postSigned(
      JSON.stringify({
        type: "post_call_transcription",
        event_timestamp: Math.floor(Date.now() / 1000),
        data: buildConversation({ id }),
      }),
    );

  /** GETs the audio and reads the whole body; a body shorter than its Content-Length fails here. */
  async function download(id: string, headers: Record<string, string> = {}) {
    const response = await rawRequest(
      server,
      "GET",
      `/v1/convai/conversations/${segment(id)}/audio`,
      headers,
    );
    return {
      status: response.status,
      type: response.headers["content-type"],
      length: response.headers["content-length"],
      range: response.headers["content-range"],
      body: response.body,
    };
  }

  /** The recordings kept in the conversation's audio folder. */
  const storedRecordings = (id: string): string[] => {
    try {
      return readdirSync(path.join(server.storage.dataDir, "blobs", audioBlobKey(id)));
    } catch {
      return [];
    }
  };

  it("never re-attaches pending webhook audio over audio uploaded later (finding 3)", async () => {
    const id = "conv_pending_then_put";
    const pending = bytesOf(3438, 1);
    const uploaded = bytesOf(1883, 2);
    expect(((await (await webhookAudio(id, pending)).json()) as { status: string }).status).toBe(
      "audio_pending",
    );
    expect((await putDoc(id)).status).toBe(201);
    expect((await putAudio(id, uploaded, "audio/wav")).status).toBe(200);
    expect((await webhookTranscription(id)).status).toBe(200);

    const whole = await download(id);
    expect(whole.status).toBe(200);
    expect(whole.length).toBe(String(uploaded.length));
    expect(whole.type).toBe("audio/wav");
    expect(whole.body.equals(uploaded)).toBe(true);

    const ranged = await download(id, { range: "bytes=0-" });
    expect(ranged.status).toBe(206);
    expect(ranged.range).toBe(`bytes 0-${uploaded.length - 1}/${uploaded.length}`);
    expect(ranged.body.equals(uploaded)).toBe(true);

    // The superseded pending recording is gone, record and bytes.
    const stillPending = await server.server.services.db.webhooks.listPendingAudio(100);
    expect(stillPending.map((p) => p.conversationId)).not.toContain(id);
    expect(storedRecordings(id)).toHaveLength(1);
  });

  it("attaches pending webhook audio when nothing newer came, with its own size", async () => {
    const id = "conv_pending_attached";
    const pending = bytesOf(2222, 3);
    expect((await webhookAudio(id, pending)).status).toBe(200);
    expect((await webhookTranscription(id)).status).toBe(200);
    const got = await download(id);
    expect(got.length).toBe(String(pending.length));
    expect(got.type).toBe("audio/mpeg");
    expect(got.body.equals(pending)).toBe(true);
  });

  it("ends concurrent PUT audio and webhook audio with one whole winner, and keeps one recording (finding 3)", async () => {
    const id = "conv_audio_race";
    expect((await putDoc(id)).status).toBe(201);
    for (let round = 0; round < 15; round++) {
      const viaPut = bytesOf(1000 + round * 13, round);
      const viaWebhook = bytesOf(3000 + round * 17, round + 100);
      const [put, hook] = await Promise.all([
        putAudio(id, viaPut, "audio/wav"),
        webhookAudio(id, viaWebhook),
      ]);
      expect([put.status, hook.status]).toEqual([200, 200]);
      const got = await download(id);
      expect(got.length).toBe(String(got.body.length));
      const winner = got.type === "audio/wav" ? viaPut : viaWebhook;
      expect(got.type).toMatch(/^audio\/(wav|mpeg)$/);
      expect(got.body.equals(winner)).toBe(true);
      expect(storedRecordings(id)).toHaveLength(1);
    }
  });

  it("replacing audio keeps one recording and deleting the conversation removes it", async () => {
    const id = "conv_audio_replaced_twice";
    expect((await putDoc(id)).status).toBe(201);
    for (const [i, length] of [500, 700, 300].entries()) {
      expect((await putAudio(id, bytesOf(length, i), "audio/ogg")).status).toBe(200);
      expect(storedRecordings(id)).toHaveLength(1);
    }
    expect((await download(id)).body.equals(bytesOf(300, 2))).toBe(true);
    expect((await rawRequest(server, "DELETE", `/v1/convai/conversations/${id}`)).status).toBe(200);
    expect(storedRecordings(id)).toEqual([]);
  });

  it.each(HOSTILE_IDS)("uploads and downloads audio and files for the id %j (findings 5, 6)", async (id) => {
    expect((await putDoc(id)).status).toBe(201);
    const first = bytesOf(777, 5);
    expect((await putAudio(id, first, "audio/mpeg")).status).toBe(200);
    expect((await download(id)).body.equals(first)).toBe(true);

    const second = bytesOf(555, 6);
    const hook = await webhookAudio(id, second);
    expect(hook.status).toBe(200);
    expect(((await hook.json()) as { status: string }).status).toBe("stored");
    expect(storedRecordings(id)).toHaveLength(1);
    const got = await download(id);
    expect(got.length).toBe(String(second.length));
    expect(got.body.equals(second)).toBe(true);

    const form = new FormData();
    form.append("file", new File([Buffer.from("hello, file")], "note.txt", { type: "text/plain" }));
    const encoded = new Response(form);
    const upload = await rawRequest(
      server,
      "POST",
      `/v1/convai/conversations/${segment(id)}/files`,
      { "content-type": encoded.headers.get("content-type") ?? "" },
      Buffer.from(await encoded.arrayBuffer()),
    );
    expect(upload.status).toBe(200);
    const { file_id: fileId } = upload.json() as { file_id: string };
    const removed = await rawRequest(
      server,
      "DELETE",
      `/v1/convai/conversations/${segment(id)}/files/${fileId}`,
    );
    expect(removed.status).toBe(200);
    expect((await rawRequest(server, "DELETE", `/v1/convai/conversations/${segment(id)}`)).status).toBe(200);
    expect(storedRecordings(id)).toEqual([]);
  });

  it("keeps audio uploads working for other conversations after the id '.' (finding 5)", async () => {
    expect((await putDoc("conv_after_dot")).status).toBe(201);
    expect((await putAudio("conv_after_dot", bytesOf(100, 9), "audio/mpeg")).status).toBe(200);
    expect((await webhookAudio("conv_after_dot_pending", bytesOf(100, 10))).status).toBe(200);
  });
});
