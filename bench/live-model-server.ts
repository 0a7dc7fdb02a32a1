/**
 * The live benchmark's model: a small OpenAI-compatible chat-completions server, run as its own
 * process, that answers every request at once. A streamed request (`"stream": true`) gets SSE
 * `data: {chat.completion.chunk}` lines and `data: [DONE]`; any other gets one completion. The
 * streamed reply names the benchmark token of the last user message (`lt-<session>-<turn>`); the
 * other is a post-call analysis that fits (no criteria, no data points). The
 * server records, per token, its own time: from the request's arrival to the last byte handed
 * to the socket, so the benchmark can take it out of the latency it measures.
 *
 *   node --import tsx bench/live-model-server.ts      (prints its port on stdout)
 *   GET /timings → {"<token>": ms, …}                 (what it recorded)
 */
import { createServer, type IncomingMessage, type ServerResponse } from "node:http";

/** A benchmark token in a user message: `lt-<session>-<turn>` (bench/live-client.ts writes them). */
const LIVE_TOKEN = /lt-\d+-\d+/g;

const MAX_BODY_BYTES = 4 * 1024 * 1024;
/** The answer to a request that is not streamed (post-call analysis asks that way): a valid analysis. */
const ANALYSIS = JSON.stringify({
  transcript_summary: "A benchmark conversation.",
  call_summary_title: "Benchmark",
  call_successful: "success",
  evaluation_criteria_results: {},
  data_collection_results: {},
});
const timings: Record<string, number> = {};
let requests = 0;

/** The text of the last user message of a chat-completions body ("" when there is none). */
function lastUserText(body: Record<string, unknown>): string {
  const messages = Array.isArray(body.messages) ? (body.messages as Record<string, unknown>[]) : [];
  for (let i = messages.length - 1; i >= 0; i--) {
    const message = messages[i];
    if (message?.role !== "user") continue;
    const content = message.content;
    if (typeof content === "string") return content;
    if (Array.isArray(content))
      return content.map((part) => (typeof part?.text === "string" ? part.text : "")).join(" ");
  }
  return "";
}

/** The benchmark token the reply is for: the last one in the last user message. */
function tokenOf(body: Record<string, unknown>): string | undefined {
  return lastUserText(body).match(LIVE_TOKEN)?.at(-1);
}

function chunk(model: string, delta: Record<string, unknown>, finishReason: string | null): string {
  return `data: ${JSON.stringify({
    id: "chatcmpl-bench",
    object: "chat.completion.chunk",
    created: 0,
    model,
    choices: [{ index: 0, delta, finish_reason: finishReason }],
  })}\n\n`;
}

/** The whole streamed answer, as one string written at once. */
function streamedAnswer(model: string, words: string[], includeUsage: boolean): string {
  let out = chunk(model, { role: "assistant", content: "" }, null);
  for (const word of words) out += chunk(model, { content: word }, null);
  out += chunk(model, {}, "stop");
  if (includeUsage)
    out += `data: ${JSON.stringify({
      id: "chatcmpl-bench",
      object: "chat.completion.chunk",
      created: 0,
      model,
      choices: [],
      usage: { prompt_tokens: 10, completion_tokens: words.length, total_tokens: 10 + words.length },
    })}\n\n`;
  return `${out}data: [DONE]\n\n`;
}

function answer(request: IncomingMessage, response: ServerResponse, text: string, arrived: number): void {
  let body: Record<string, unknown> = {};
  try {
    body = JSON.parse(text) as Record<string, unknown>;
  } catch {
    response.writeHead(400, { "content-type": "application/json" });
    response.end('{"error":{"message":"invalid JSON"}}');
    return;
  }
  requests += 1;
  const token = tokenOf(body);
  const model = typeof body.model === "string" ? body.model : "bench";
  const words = ["Noted ", token ?? "(no token)", ", thanks."];
  if (body.stream === true) {
    const options = body.stream_options as Record<string, unknown> | undefined;
    response.writeHead(200, {
      "content-type": "text/event-stream",
      "cache-control": "no-cache",
      connection: request.headers.connection === "close" ? "close" : "keep-alive",
    });
    response.end(streamedAnswer(model, words, options?.include_usage === true));
  } else {
    const reply = JSON.stringify({
      id: "chatcmpl-bench",
      object: "chat.completion",
      created: 0,
      model,
      choices: [{ index: 0, finish_reason: "stop", message: { role: "assistant", content: ANALYSIS } }],
      usage: { prompt_tokens: 10, completion_tokens: 3, total_tokens: 13 },
    });
    response.writeHead(200, { "content-type": "application/json" });
    response.end(reply);
  }
  if (token && body.stream === true) timings[token] = performance.now() - arrived;
}

const server = createServer((request, response) => {
  const arrived = performance.now();
  if (request.method === "GET" && request.url === "/timings") {
    response.writeHead(200, { "content-type": "application/json" });
    response.end(JSON.stringify({ requests, timings }));
    return;
  }
  if (request.method !== "POST") {
    response.writeHead(404, { "content-type": "application/json" });
    response.end('{"error":{"message":"POST a chat completion"}}');
    return;
  }
  const chunks: Buffer[] = [];
  let size = 0;
  request.on("data", (data: Buffer) => {
    size += data.length;
    if (size > MAX_BODY_BYTES) request.destroy();
    else chunks.push(data);
  });
  request.on("end", () => answer(request, response, Buffer.concat(chunks).toString("utf8"), arrived));
});
server.keepAliveTimeout = 60_000;
server.listen(0, "127.0.0.1", () => {
  process.stdout.write(`${(server.address() as { port: number }).port}\n`);
});
process.on("SIGTERM", () => {
  server.closeAllConnections();
  server.close(() => process.exit(0));
});
