/**
 * The providers' streaming HTTP client (src/providers/http/stream-post.ts) where undici's own
 * behaviour would otherwise show: an abort while the connection is still being opened,
 * connections going back to the pool when an answer's end arrives after its last event, and the
 * speech providers' calls sharing the pool.
 */
import { type ChildProcess, spawn } from "node:child_process";
import { createServer, type Server } from "node:http";
import { connect, type Socket } from "node:net";
import { afterEach, describe, expect, it } from "vitest";
import { OpenAiCompatibleSpeechToText } from "../../src/providers/asr/openai-compatible/openai-compatible-speech-to-text.js";
import { streamPost } from "../../src/providers/http/stream-post.js";
import { OpenAiCompatibleStreamingChatModel } from "../../src/providers/llm/openai-compatible/openai-compatible-streaming-chat-model.js";
import { OpenAiCompatibleTextToSpeech } from "../../src/providers/tts/openai-compatible/openai-compatible-text-to-speech.js";

const cleanups: (() => void)[] = [];
afterEach(() => {
  for (const cleanup of cleanups.splice(0)) cleanup();
});

/**
 * A listener that never accepts: a child process listens with the smallest backlog and then
 * blocks its event loop, and a few connections fill the backlog, so the next connect hangs.
 */
async function unansweredListener(): Promise<number> {
  const child: ChildProcess = spawn(
    process.execPath,
    [
      "-e",
      `const s = require("node:net").createServer();
       s.listen({ port: 0, host: "127.0.0.1", backlog: 0 }, () => {
         process.stdout.write(String(s.address().port) + "\\n");
         setTimeout(() => Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, 60000), 50);
       });`,
    ],
    { stdio: ["ignore", "pipe", "inherit"] },
  );
  cleanups.push(() => child.kill("SIGKILL"));
  const port = await new Promise<number>((resolve) =>
    child.stdout?.once("data", (data: Buffer) => resolve(Number(data.toString().trim()))),
  );
  await new Promise((resolve) => setTimeout(resolve, 200));
  const fillers: Socket[] = Array.from({ length: 8 }, () => connect(port, "127.0.0.1").on("error", () => {}));
  cleanups.push(() => {
    for (const socket of fillers) socket.destroy();
  });
  return port;
}

describe("streamPost", () => {
  it("gives up as soon as the caller aborts, even while the connection is being opened", async () => {
    const port = await unansweredListener();
    const controller = new AbortController();
    const reason = new Error("the caller's deadline");
    setTimeout(() => controller.abort(reason), 300);
    const started = performance.now();
    const outcome = await streamPost(`http://127.0.0.1:${port}/chat/completions`, {
      headers: { "content-type": "application/json" },
      body: "{}",
      signal: controller.signal,
    }).then(
      () => "answered",
      (error: unknown) => error,
    );
    expect(outcome).toBe(reason);
    // undici alone waits for its connect timeout (10 s).
    expect(performance.now() - started).toBeLessThan(3_000);
  });
});

describe("the streaming model's connections", () => {
  it("go back to the pool when the end of the body arrives after [DONE]", async () => {
    let connections = 0;
    const server: Server = createServer((request, response) => {
      request.resume();
      request.on("end", () => {
        response.writeHead(200, { "content-type": "text/event-stream" });
        response.write(
          `data: ${JSON.stringify({ id: "c", object: "chat.completion.chunk", created: 0, model: "m", choices: [{ index: 0, delta: { content: "Hi" }, finish_reason: "stop" }] })}\n\ndata: [DONE]\n\n`,
        );
        // The end of the chunked body comes in a write of its own, a little later.
        setTimeout(() => response.end(), 5);
      });
    });
    server.on("connection", () => {
      connections += 1;
    });
    await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
    cleanups.push(() => server.close());
    const port = (server.address() as { port: number }).port;
    const model = new OpenAiCompatibleStreamingChatModel({
      baseUrl: `http://127.0.0.1:${port}`,
      model: "m",
      apiKey: undefined,
      timeoutMs: 5_000,
      firstTokenTimeoutMs: 5_000,
      modelMap: new Map(),
    });
    for (let i = 0; i < 10; i += 1) {
      const parts: unknown[] = [];
      for await (const chunk of model.streamChat(
        { messages: [{ role: "user", content: "Hi" }] },
        new AbortController().signal,
      ))
        parts.push(chunk);
      expect(parts.length).toBeGreaterThan(0);
      // The next call starts once this answer's end has arrived (as turns of a session do).
      await new Promise((resolve) => setTimeout(resolve, 20));
    }
    expect(connections).toBeLessThanOrEqual(2);
  });
});

describe("the speech providers' connections", () => {
  it("are kept alive and shared by the text-to-speech and speech-to-text calls, errors included", async () => {
    let connections = 0;
    const server: Server = createServer((request, response) => {
      const parts: Buffer[] = [];
      request.on("data", (part: Buffer) => parts.push(part));
      request.on("end", () => {
        if (request.url === "/v1/audio/transcriptions") {
          response.writeHead(200, { "content-type": "application/json" });
          response.end(JSON.stringify({ text: "hello" }));
        } else if ((JSON.parse(Buffer.concat(parts).toString()) as { voice: string }).voice === "nobody") {
          response.writeHead(400, { "content-type": "application/json" });
          response.end(JSON.stringify({ error: { message: "unknown voice" } }));
        } else {
          response.writeHead(200, { "content-type": "audio/pcm" });
          response.end(Buffer.alloc(4800));
        }
      });
    });
    server.on("connection", () => {
      connections += 1;
    });
    await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
    cleanups.push(() => server.close());
    const baseUrl = `http://127.0.0.1:${(server.address() as { port: number }).port}/v1`;
    const limits = { timeoutMs: 5_000, firstByteTimeoutMs: 5_000 };
    const tts = new OpenAiCompatibleTextToSpeech({
      baseUrl,
      model: "tts-1",
      apiKey: undefined,
      sampleRate: 24_000,
      responseFormat: "pcm",
      ...limits,
    });
    const asr = new OpenAiCompatibleSpeechToText({
      baseUrl,
      model: "whisper-1",
      apiKey: undefined,
      ...limits,
    });
    for (let i = 0; i < 5; i += 1) {
      let samples = 0;
      for await (const chunk of tts.synthesize("Hello.", { voice: "alloy" })) samples += chunk.samples.length;
      expect(samples).toBe(2400);
      expect((await asr.transcribe(new Uint8Array(44), {})).text).toBe("hello");
      const refused = tts.synthesize("Hello.", { voice: "nobody" })[Symbol.asyncIterator]().next();
      await expect(refused).rejects.toThrow("HTTP 400: unknown voice");
    }
    expect(connections).toBeLessThanOrEqual(2);
  });
});
