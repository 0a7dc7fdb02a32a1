import { readdirSync } from "node:fs";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { buildConversation } from "../fixtures/conversations.js";
import { BACKENDS } from "../support/backends.js";
import { catchSdkError } from "../support/catch-sdk-error.js";
import { putConversations } from "../support/put-conversations.js";
import { createRecordingClient, type RecordingClient } from "../support/recording-client.js";
import { startTestServer, type TestServer } from "../support/test-server.js";
import { expectWireModel } from "../support/wire-schemas.js";

const PNG = new Uint8Array([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a, 1, 2, 3, 4]);

describe.each(BACKENDS)("conversation files on %s", (backend) => {
  let server: TestServer;
  let sdk: RecordingClient;

  beforeAll(async () => {
    // A small limit, so the size check can be tested without megabytes.
    server = await startTestServer(backend, { OPENCONVAI_MAX_FILE_BYTES: "4096" });
    sdk = createRecordingClient(server);
    await putConversations(server, [
      buildConversation({ id: "conv_f1" }),
      buildConversation({ id: "conv_f2" }),
      buildConversation({ id: "conv_used" }),
    ]);
  });
  afterAll(async () => {
    await server?.stop();
  });

  const files = () => sdk.client.conversationalAi.conversations.files;
  /** The uploaded files' blobs on disk (the data dir's blobs/files/…). */
  const storedFiles = (conversationId: string): string[] => {
    try {
      return readdirSync(
        path.join(server.storage.dataDir, "blobs", "files", encodeURIComponent(conversationId)),
      );
    } catch {
      return [];
    }
  };

  it("uploads a file and answers {file_id}; DELETE removes it and answers the same model", async () => {
    const uploaded = await files().create("conv_f1", {
      file: new File([PNG], "photo.png", { type: "image/png" }),
    });
    expectWireModel("ConvAiFileUploadResponseModel", sdk.lastBody());
    expect(uploaded.fileId).toMatch(/^file_/);
    expect(storedFiles("conv_f1")).toEqual([uploaded.fileId]);

    const removed = await files().delete("conv_f1", uploaded.fileId);
    expectWireModel("ConvAiFileUploadResponseModel", sdk.lastBody());
    expect(removed.fileId).toBe(uploaded.fileId);
    expect(storedFiles("conv_f1")).toEqual([]);

    const again = await catchSdkError(() => files().delete("conv_f1", uploaded.fileId));
    expect(again.statusCode).toBe(404);
    expect(again.body).toMatchObject({ detail: { status: "file_not_found" } });
  });

  it("takes the type from the part, or from the name when the part says application/octet-stream", async () => {
    const pdf = await files().create("conv_f1", {
      file: { data: Buffer.from("%PDF-1.4\n"), filename: "terms.pdf" },
    });
    const text = await files().create("conv_f1", {
      file: new File(["hello"], "notes.txt", { type: "text/plain" }),
    });
    expect(storedFiles("conv_f1").sort()).toEqual([pdf.fileId, text.fileId].sort());
  });

  it("refuses types outside the allow-list, empty files and files over the limit; nothing is kept", async () => {
    const before = storedFiles("conv_f2");
    const exe = await catchSdkError(() =>
      files().create("conv_f2", {
        file: new File(["MZ"], "setup.exe", { type: "application/x-msdownload" }),
      }),
    );
    expect(exe.statusCode).toBe(415);
    expect(exe.body).toMatchObject({ detail: { status: "unsupported_media_type" } });

    const unnamed = await catchSdkError(() => files().create("conv_f2", { file: Buffer.from("???") }));
    expect(unnamed.statusCode).toBe(415);

    const big = await catchSdkError(() =>
      files().create("conv_f2", { file: new File([new Uint8Array(5000)], "big.png", { type: "image/png" }) }),
    );
    expect(big.statusCode).toBe(413);
    expect(big.body).toMatchObject({ detail: { status: "payload_too_large" } });

    const empty = await catchSdkError(() =>
      files().create("conv_f2", { file: new File([], "empty.txt", { type: "text/plain" }) }),
    );
    expect(empty.statusCode).toBe(422);
    expect(storedFiles("conv_f2")).toEqual(before);
  });

  it("answers 422 without a `file` part and 404 for unknown conversations and files", async () => {
    const form = new FormData();
    form.append("document", new File(["x"], "x.txt", { type: "text/plain" }));
    const wrongPart = await server.fetch("/v1/convai/conversations/conv_f2/files", {
      method: "POST",
      body: form,
    });
    expect(wrongPart.status).toBe(422);
    expect(await wrongPart.json()).toEqual({
      detail: [{ loc: ["body", "file"], msg: "Field required", type: "missing" }],
    });
    const json = await server.fetch("/v1/convai/conversations/conv_f2/files", {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: "{}",
    });
    expect(json.status).toBe(422);

    const malformed = await server.fetch("/v1/convai/conversations/conv_f2/files", {
      method: "POST",
      headers: { "content-type": "multipart/form-data; boundary=xx" },
      body: "not really multipart",
    });
    expect(malformed.status).toBe(422);
    expect(await malformed.json()).toMatchObject({ detail: [{ loc: ["body"], type: "value_error" }] });

    const unknown = await catchSdkError(() =>
      files().create("conv_nope", { file: new File(["x"], "x.txt", { type: "text/plain" }) }),
    );
    expect(unknown.statusCode).toBe(404);
    expect(unknown.body).toMatchObject({ detail: { status: "conversation_not_found" } });
    expect((await catchSdkError(() => files().delete("conv_nope", "file_x"))).statusCode).toBe(404);
    const noFile = await catchSdkError(() => files().delete("conv_f2", "file_x"));
    expect(noFile.body).toMatchObject({ detail: { status: "file_not_found" } });
  });

  it("refuses to delete a file the transcript already uses (409)", async () => {
    const uploaded = await files().create("conv_used", {
      file: new File(["hi"], "a.txt", { type: "text/plain" }),
    });
    const doc = buildConversation({ id: "conv_used" });
    (doc.transcript as Record<string, unknown>[])[0] = {
      ...(doc.transcript as Record<string, unknown>[])[0],
      file_inputs: [
        {
          file_id: uploaded.fileId,
          original_filename: "a.txt",
          mime_type: "text/plain",
          file_url: "https://x/a.txt",
        },
      ],
    };
    await putConversations(server, [doc]);
    const error = await catchSdkError(() => files().delete("conv_used", uploaded.fileId));
    expect(error.statusCode).toBe(409);
    expect(error.body).toMatchObject({ detail: { status: "file_in_use" } });
  });

  it("deletes a conversation's files (rows and blobs) with the conversation", async () => {
    await files().create("conv_f2", { file: new File(["one"], "1.txt", { type: "text/plain" }) });
    const second = await files().create("conv_f2", {
      file: new File(["two"], "2.txt", { type: "text/plain" }),
    });
    expect(storedFiles("conv_f2")).toHaveLength(2);
    await sdk.client.conversationalAi.conversations.delete("conv_f2");
    expect(storedFiles("conv_f2")).toEqual([]);
    // Same id again: the old files do not come back with it.
    await putConversations(server, [buildConversation({ id: "conv_f2" })]);
    expect((await catchSdkError(() => files().delete("conv_f2", second.fileId))).statusCode).toBe(404);
  });
});
