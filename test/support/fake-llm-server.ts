/**
 * A small local OpenAI-compatible chat-completions server for tests: `POST /v1/chat/completions`,
 * streamed (`text/event-stream`) when the request says `stream: true`, a plain `chat.completion`
 * JSON answer otherwise. What it answers is scripted per request.
 *
 * ```ts
 * const llm = await startFakeLlmServer((body) => ({ text: ["Hel", "lo!"], usage: { promptTokens: 9, completionTokens: 2 } }));
 * // OPENCONVAI_LLM_BASE_URL=llm.url (it ends in /v1)
 * llm.requests;                  // the JSON bodies received, in order
 * llm.setReply(() => ({ toolCalls: [{ name: "end_call", arguments: {} }] }));
 * llm.setReply(() => ({ status: 500 }));                         // an OpenAI-style error answer
 * llm.setReply(() => ({ text: ["slow"], firstChunkDelayMs: 5_000 })); // for timeouts
 * await llm.close();
 * ```
 *
 * A streamed answer is what real providers send: a first chunk with `delta.role`, one chunk per
 * text piece, each tool call as a first fragment (id, name, empty arguments) followed by its
 * arguments in small pieces (`argumentFragmentSize` characters), a chunk with the
 * `finish_reason`, a usage chunk (`choices: []`) only when the request asked for it with
 * `stream_options.include_usage`, then `data: [DONE]`. `rawData` sends given payloads instead.
 */
import { createServer, type IncomingMessage, type Server, type ServerResponse } from "node:http";

/** A tool call the fake model makes. */
export interface FakeToolCall {
  /** Defaults to `call_<n>`. */
  id?: string;
  name: string;
  /** An object is sent as its JSON text; a string is sent as it is (to test malformed arguments). */
  arguments: Record<string, unknown> | string;
}

/** What the fake answers to one request. */
export interface FakeLlmScript {
  /** Answer this HTTP status with an OpenAI error body (`{error: {message, type}}`) instead of a completion. */
  status?: number;
  /** The error body's message (default "fake provider error"). */
  errorMessage?: string;
  /** The text, one streamed chunk per piece (joined in a non-streamed answer). */
  text?: readonly string[];
  toolCalls?: readonly FakeToolCall[];
  /** Token counts reported (streamed only when the request asks with `stream_options.include_usage`). */
  usage?: { promptTokens: number; completionTokens: number };
  /** The model named in the answer (default: the request's). */
  model?: string;
  /** `finish_reason` (default `tool_calls` when there are tool calls, else `stop`). */
  finishReason?: string;
  /** Characters of arguments per streamed tool-call fragment (default 7). */
  argumentFragmentSize?: number;
  /** Wait before the status line and first chunk (or before the JSON answer). */
  firstChunkDelayMs?: number;
  /** Wait between streamed chunks. */
  chunkDelayMs?: number;
  /** Stream these `data:` payloads verbatim instead (no `[DONE]` added). */
  rawData?: readonly string[];
}

/** Decides the answer to a request from its JSON body (and the request, for its headers). */
export type FakeLlmReply = (body: Record<string, unknown>, request: IncomingMessage) => FakeLlmScript;

/** A running fake provider. */
export interface FakeLlmServer {
  /** The base URL, ending in `/v1` (what `OPENCONVAI_LLM_BASE_URL` takes). */
  url: string;
  /** The JSON bodies of the chat-completion requests received, in order. */
  requests: Record<string, unknown>[];
  /** The `Authorization` header of each request, in the same order. */
  authorizations: (string | undefined)[];
  /** How many streamed answers the client closed before their end. */
  disconnects: () => number;
  /** Replaces the function that scripts the answers. */
  setReply(reply: FakeLlmReply): void;
  close(): Promise<void>;
}

/** Waits `ms`, or less when the response closes first (so a closed server leaves no timers behind). */
function wait(ms: number, response: ServerResponse): Promise<void> {
  return new Promise<void>((resolve) => {
    const done = () => {
      clearTimeout(timer);
      response.off("close", done);
      resolve();
    };
    const timer = setTimeout(done, ms);
    response.on("close", done);
  });
}

async function readJson(request: IncomingMessage): Promise<Record<string, unknown>> {
  const parts: Buffer[] = [];
  for await (const part of request) parts.push(part as Buffer);
  const text = Buffer.concat(parts).toString("utf8");
  return text ? (JSON.parse(text) as Record<string, unknown>) : {};
}

function toolCallId(call: FakeToolCall, index: number): string {
  return call.id ?? `call_${index}`;
}

function argumentsText(call: FakeToolCall): string {
  return typeof call.arguments === "string" ? call.arguments : JSON.stringify(call.arguments);
}

function finishReason(script: FakeLlmScript): string {
  return script.finishReason ?? (script.toolCalls?.length ? "tool_calls" : "stop");
}

/** The `data:` payloads of a streamed answer, in order. */
function streamPayloads(script: FakeLlmScript, body: Record<string, unknown>): string[] {
  if (script.rawData) return [...script.rawData];
  const model = script.model ?? String(body.model ?? "fake-model");
  const base = { id: "chatcmpl-fake", object: "chat.completion.chunk", created: 0, model };
  const chunk = (delta: object, finish: string | null = null) =>
    JSON.stringify({ ...base, choices: [{ index: 0, delta, finish_reason: finish }] });
  const out = [chunk({ role: "assistant", content: "" })];
  for (const piece of script.text ?? []) out.push(chunk({ content: piece }));
  const size = script.argumentFragmentSize ?? 7;
  for (const [index, call] of (script.toolCalls ?? []).entries()) {
    const first = {
      index,
      id: toolCallId(call, index),
      type: "function",
      function: { name: call.name, arguments: "" },
    };
    out.push(chunk({ tool_calls: [first] }));
    const args = argumentsText(call);
    for (let at = 0; at < args.length; at += size) {
      out.push(chunk({ tool_calls: [{ index, function: { arguments: args.slice(at, at + size) } }] }));
    }
  }
  out.push(chunk({}, finishReason(script)));
  const options = body.stream_options as { include_usage?: unknown } | undefined;
  if (script.usage && options?.include_usage === true) {
    const usage = {
      prompt_tokens: script.usage.promptTokens,
      completion_tokens: script.usage.completionTokens,
      total_tokens: script.usage.promptTokens + script.usage.completionTokens,
    };
    out.push(JSON.stringify({ ...base, choices: [], usage }));
  }
  out.push("[DONE]");
  return out;
}

/** A non-streamed `chat.completion` answer. */
function completionBody(script: FakeLlmScript, body: Record<string, unknown>): object {
  const toolCalls = (script.toolCalls ?? []).map((call, index) => ({
    id: toolCallId(call, index),
    type: "function",
    function: { name: call.name, arguments: argumentsText(call) },
  }));
  return {
    id: "chatcmpl-fake",
    object: "chat.completion",
    created: 0,
    model: script.model ?? String(body.model ?? "fake-model"),
    choices: [
      {
        index: 0,
        finish_reason: finishReason(script),
        message: {
          role: "assistant",
          content: script.text ? script.text.join("") : toolCalls.length ? null : "",
          ...(toolCalls.length ? { tool_calls: toolCalls } : {}),
        },
      },
    ],
    ...(script.usage
      ? {
          usage: {
            prompt_tokens: script.usage.promptTokens,
            completion_tokens: script.usage.completionTokens,
            total_tokens: script.usage.promptTokens + script.usage.completionTokens,
          },
        }
      : {}),
  };
}

async function answer(script: FakeLlmScript, body: Record<string, unknown>, response: ServerResponse) {
  let closed = false;
  response.on("close", () => {
    closed = !response.writableFinished;
  });
  if (script.firstChunkDelayMs) await wait(script.firstChunkDelayMs, response);
  if (closed) return true;
  if (script.status !== undefined) {
    response.writeHead(script.status, { "content-type": "application/json" });
    const message = script.errorMessage ?? "fake provider error";
    response.end(JSON.stringify({ error: { message, type: "fake_error" } }));
    return false;
  }
  if (body.stream !== true) {
    response.writeHead(200, { "content-type": "application/json" });
    response.end(JSON.stringify(completionBody(script, body)));
    return false;
  }
  response.writeHead(200, { "content-type": "text/event-stream", "cache-control": "no-cache" });
  for (const [index, payload] of streamPayloads(script, body).entries()) {
    if (index > 0 && script.chunkDelayMs) await wait(script.chunkDelayMs, response);
    if (closed) return true;
    response.write(`data: ${payload}\n\n`);
  }
  response.end();
  return false;
}

/** Starts the fake on a free port of 127.0.0.1; `reply` scripts each answer (default: the text "Hello."). */
export async function startFakeLlmServer(
  reply: FakeLlmReply = () => ({ text: ["Hello."] }),
): Promise<FakeLlmServer> {
  let current = reply;
  let disconnects = 0;
  const requests: Record<string, unknown>[] = [];
  const authorizations: (string | undefined)[] = [];
  const server: Server = createServer((request, response) => {
    void (async () => {
      if (request.method !== "POST" || request.url !== "/v1/chat/completions") {
        response.writeHead(404, { "content-type": "application/json" });
        response.end(JSON.stringify({ error: { message: `no route ${request.method} ${request.url}` } }));
        return;
      }
      const body = await readJson(request);
      requests.push(body);
      authorizations.push(request.headers.authorization);
      if (await answer(current(body, request), body, response)) disconnects += 1;
    })().catch((error: unknown) => {
      if (!response.headersSent) response.writeHead(500, { "content-type": "application/json" });
      response.end(JSON.stringify({ error: { message: `fake server failed: ${(error as Error).message}` } }));
    });
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const { port } = server.address() as { port: number };
  return {
    url: `http://127.0.0.1:${port}/v1`,
    requests,
    authorizations,
    disconnects: () => disconnects,
    setReply: (next) => {
      current = next;
    },
    close: () =>
      new Promise<void>((resolve, reject) => {
        server.closeAllConnections();
        server.close((error) => (error ? reject(error) : resolve()));
      }),
  };
}
