import { createServer, type IncomingMessage, type Server } from "node:http";

/** One request the fake provider received. */
export interface RecordedRequest {
  path: string;
  authorization: string | undefined;
  body: Record<string, unknown>;
}

/** What the fake answers for one request: a status and a JSON body. */
export interface FakeAnswer {
  status?: number;
  body: unknown;
}

/** A small OpenAI-compatible server for tests: it records requests and answers what the test says. */
export interface FakeOpenAi {
  /** The base URL, ending in `/v1`. */
  baseUrl: string;
  requests: RecordedRequest[];
  /** Answers `POST /v1/chat/completions`; defaults to an empty completion. */
  onChat: (request: RecordedRequest) => FakeAnswer;
  /** Answers `POST /v1/embeddings`; defaults to `fakeEmbedding` of every input. */
  onEmbeddings: (request: RecordedRequest) => FakeAnswer;
  close(): Promise<void>;
}

const SYNONYMS: Record<string, string> = {
  money: "refund",
  back: "refund",
  reimbursement: "refund",
  reimburse: "refund",
  refunded: "refund",
  parcel: "package",
  delivery: "package",
  shipment: "package",
};

/**
 * A deterministic toy embedding: words (with a few synonyms folded together) hashed into 64
 * dimensions. Texts that share words, or synonyms, point the same way.
 */
export function fakeEmbedding(text: string): number[] {
  const vector = new Array<number>(64).fill(0);
  for (const raw of text.toLowerCase().match(/[a-z0-9]+/g) ?? []) {
    const word = SYNONYMS[raw] ?? raw;
    let h = 7;
    for (const ch of word) h = (h * 31 + ch.charCodeAt(0)) % 64;
    vector[h] = (vector[h] as number) + 1;
  }
  return vector;
}

/** A chat completion whose message content is the given text (JSON is stringified). */
export function completion(content: unknown): FakeAnswer {
  return {
    body: {
      id: "chatcmpl-test",
      object: "chat.completion",
      choices: [
        {
          index: 0,
          finish_reason: "stop",
          message: {
            role: "assistant",
            content: typeof content === "string" ? content : JSON.stringify(content),
          },
        },
      ],
    },
  };
}

async function readBody(request: IncomingMessage): Promise<Record<string, unknown>> {
  const chunks: Buffer[] = [];
  for await (const chunk of request) chunks.push(chunk as Buffer);
  const text = Buffer.concat(chunks).toString("utf8");
  return text ? (JSON.parse(text) as Record<string, unknown>) : {};
}

/** Starts the fake on a free port of 127.0.0.1. */
export async function startFakeOpenAi(): Promise<FakeOpenAi> {
  const fake: FakeOpenAi = {
    baseUrl: "",
    requests: [],
    onChat: () => completion(""),
    onEmbeddings: (request) => {
      const input = request.body.input as string[];
      return {
        body: {
          object: "list",
          model: request.body.model,
          data: input.map((text, index) => ({ object: "embedding", index, embedding: fakeEmbedding(text) })),
        },
      };
    },
    close: async () => undefined,
  };
  const server: Server = createServer((request, response) => {
    void readBody(request).then((body) => {
      const recorded: RecordedRequest = {
        path: request.url ?? "",
        authorization: request.headers.authorization,
        body,
      };
      fake.requests.push(recorded);
      let answer: FakeAnswer;
      if (request.method === "POST" && recorded.path === "/v1/chat/completions")
        answer = fake.onChat(recorded);
      else if (request.method === "POST" && recorded.path === "/v1/embeddings")
        answer = fake.onEmbeddings(recorded);
      else answer = { status: 404, body: { error: { message: "not found" } } };
      response.writeHead(answer.status ?? 200, { "content-type": "application/json" });
      response.end(JSON.stringify(answer.body));
    });
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const { port } = server.address() as { port: number };
  fake.baseUrl = `http://127.0.0.1:${port}/v1`;
  fake.close = () =>
    new Promise<void>((resolve, reject) => {
      server.closeAllConnections();
      server.close((error) => (error ? reject(error) : resolve()));
    });
  return fake;
}
