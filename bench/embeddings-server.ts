/**
 * A local OpenAI-compatible embeddings server for the semantic-search scenario, in its own
 * process: `POST /v1/embeddings` answers `{data: [{embedding, index}], model, usage}` with
 * bench/fake-embedding.ts's vectors, at once. It prints its port on stdout.
 *
 * The semantic server runs with its indexer off, so only query embeddings (one input each) should
 * arrive. A request with several inputs is an indexer's batch: it is refused with 503 (so the
 * seeded vectors stay as they are) and counted; `GET /stats` returns `{queries, batches}`.
 */
import http from "node:http";
import { fakeEmbedding } from "./fake-embedding.js";

let queries = 0;
let batches = 0;

const server = http.createServer((request, response) => {
  if (request.method === "GET" && request.url === "/stats") {
    response.writeHead(200, { "content-type": "application/json" });
    response.end(JSON.stringify({ queries, batches }));
    return;
  }
  if (request.method !== "POST" || !request.url?.endsWith("/embeddings")) {
    response.writeHead(404).end();
    return;
  }
  const parts: Buffer[] = [];
  request.on("data", (chunk: Buffer) => parts.push(chunk));
  request.on("end", () => {
    let body: { input?: unknown; model?: unknown };
    try {
      body = JSON.parse(Buffer.concat(parts).toString("utf8")) as typeof body;
    } catch {
      response.writeHead(400, { "content-type": "application/json" });
      response.end(JSON.stringify({ error: { message: "invalid JSON" } }));
      return;
    }
    const inputs = typeof body.input === "string" ? [body.input] : body.input;
    if (!Array.isArray(inputs) || !inputs.every((t) => typeof t === "string")) {
      response.writeHead(400, { "content-type": "application/json" });
      response.end(JSON.stringify({ error: { message: "input must be a string or strings" } }));
      return;
    }
    if (inputs.length > 1) {
      batches++;
      response.writeHead(503, { "content-type": "application/json" });
      response.end(JSON.stringify({ error: { message: "the bench embeds queries only" } }));
      return;
    }
    queries++;
    response.writeHead(200, { "content-type": "application/json" });
    response.end(
      JSON.stringify({
        object: "list",
        data: inputs.map((text, index) => ({
          object: "embedding",
          index,
          embedding: Array.from(fakeEmbedding(text as string)),
        })),
        model: body.model ?? "bench-embedding",
        usage: { prompt_tokens: 0, total_tokens: 0 },
      }),
    );
  });
});

server.listen(0, "127.0.0.1", () => {
  const address = server.address();
  process.stdout.write(`${typeof address === "object" && address ? address.port : 0}\n`);
});
process.on("SIGTERM", () => server.close(() => process.exit(0)));
