/**
 * A local webhook receiver for tests: a real HTTP server that keeps every request (headers, raw
 * body, arrival time), answers each one as its script says (a status, a Retry-After, a dropped
 * connection, no answer at all) and verifies deliveries with the official SDK's `constructEvent`.
 */
import { createServer, type IncomingMessage, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { ElevenLabsClient } from "@elevenlabs/elevenlabs-js";

/** How the receiver answers one request. */
export type Answer = { status: number; retryAfter?: string; body?: string } | { drop: true } | { hang: true };

/** A request as it arrived. */
export interface ReceivedRequest {
  atMs: number;
  path: string;
  headers: IncomingMessage["headers"];
  /** The raw body, as sent. */
  body: string;
  /** How it was answered. */
  answer: Answer;
}

export interface WebhookReceiver {
  url: string;
  requests: ReceivedRequest[];
  /** Answers for the next requests, in order; when they run out, `fallback` answers. */
  script: Answer[];
  fallback: Answer;
  /** The requests answered 2xx, verified with the SDK's constructEvent (throws on a bad signature). */
  verified(secret: string): Promise<{ request: ReceivedRequest; event: Record<string, unknown> }[]>;
  close(): Promise<void>;
}

const sdk = new ElevenLabsClient({ apiKey: "unused", baseUrl: "http://127.0.0.1:1" });

/** Verifies one request with the official SDK, as a receiver would. */
export async function constructEvent(
  request: ReceivedRequest,
  secret: string,
): Promise<Record<string, unknown>> {
  const header = request.headers["elevenlabs-signature"];
  return (await sdk.webhooks.constructEvent(request.body, String(header), secret)) as Record<string, unknown>;
}

/** Starts a receiver on 127.0.0.1 on a free port. */
export async function startWebhookReceiver(): Promise<WebhookReceiver> {
  const requests: ReceivedRequest[] = [];
  const hanging: IncomingMessage[] = [];
  const receiver: WebhookReceiver = {
    url: "",
    requests,
    script: [],
    fallback: { status: 200 },
    verified: async (secret) => {
      const out = [];
      for (const request of requests) {
        if (!("status" in request.answer) || request.answer.status >= 300) continue;
        out.push({ request, event: await constructEvent(request, secret) });
      }
      return out;
    },
    close: async () => {
      for (const request of hanging) request.socket.destroy();
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
  const server: Server = createServer((request, response) => {
    const chunks: Buffer[] = [];
    request.on("data", (chunk: Buffer) => chunks.push(chunk));
    request.on("end", () => {
      const answer = receiver.script.shift() ?? receiver.fallback;
      requests.push({
        atMs: Date.now(),
        path: request.url ?? "",
        headers: request.headers,
        body: Buffer.concat(chunks).toString("utf8"),
        answer,
      });
      if ("drop" in answer) {
        request.socket.destroy();
        return;
      }
      if ("hang" in answer) {
        hanging.push(request);
        return;
      }
      const headers: Record<string, string> = { "content-type": "text/plain" };
      if (answer.retryAfter !== undefined) headers["retry-after"] = answer.retryAfter;
      response.writeHead(answer.status, headers);
      response.end(answer.body ?? "ok");
    });
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", () => resolve()));
  receiver.url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/hooks`;
  return receiver;
}
