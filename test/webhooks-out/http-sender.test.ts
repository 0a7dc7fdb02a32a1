/**
 * One delivery attempt over real HTTP, against a local receiver: the headers and body sent, how
 * each kind of answer comes back (2xx, 5xx, 429 with Retry-After, 4xx, a redirect that is not
 * followed), a dropped connection and a silent receiver, a big answer read only 1 KiB, the
 * refusal of private addresses, and a streamed (chunked) body.
 */
import { once } from "node:events";
import { createServer, type IncomingMessage, type Server, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";
import { afterAll, beforeAll, beforeEach, describe, expect, it } from "vitest";
import type { RequestBody } from "../../src/webhooks-out/delivery-body.js";
import { sendWebhook, type WebhookRequest } from "../../src/webhooks-out/http-sender.js";

/** A request as the receiver got it. */
interface Received {
  method: string;
  path: string;
  headers: IncomingMessage["headers"];
  body: Buffer;
}

let server: Server;
let base: string;
let received: Received[] = [];
const routes = new Map<string, (req: IncomingMessage, res: ServerResponse, body: Buffer) => void>();

beforeAll(async () => {
  server = createServer((req, res) => {
    const path = req.url ?? "/";
    const route = routes.get(path);
    // The silent receiver answers nothing and reads nothing.
    if (path === "/silent") return;
    const chunks: Buffer[] = [];
    req.on("data", (chunk: Buffer) => chunks.push(chunk));
    req.on("end", () => {
      const body = Buffer.concat(chunks);
      received.push({ method: req.method ?? "", path, headers: req.headers, body });
      if (route) route(req, res, body);
      else res.end("ok");
    });
  });
  server.listen(0, "127.0.0.1");
  await once(server, "listening");
  base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;

  routes.set("/unavailable", (_req, res) => {
    res.statusCode = 503;
    res.end("try later");
  });
  routes.set("/slow-down", (_req, res) => {
    res.writeHead(429, { "Retry-After": "120" });
    res.end();
  });
  routes.set("/bad", (_req, res) => {
    res.statusCode = 400;
    res.end('{"error":"bad payload"}');
  });
  routes.set("/moved", (_req, res) => {
    res.writeHead(302, { Location: "/elsewhere" });
    res.end();
  });
  routes.set("/drop", (req) => {
    req.socket.destroy();
  });
  routes.set("/big", (_req, res) => {
    res.writeHead(200, { "Content-Type": "text/plain" });
    const piece = "x".repeat(64 * 1024);
    // 16 MiB if it were all read; the sender reads one KiB and lets go.
    let left = 256;
    const write = (): void => {
      while (left > 0) {
        left--;
        if (!res.write(piece)) {
          res.once("drain", write);
          return;
        }
      }
      res.end();
    };
    res.on("error", () => {});
    write();
  });
});

afterAll(async () => {
  server.closeAllConnections();
  await new Promise((resolve) => server.close(resolve));
});

beforeEach(() => {
  received = [];
});

const BODY = Buffer.from('{"type":"post_call_transcription","event_timestamp":1760000000,"data":{"x":"é"}}');

function request(path: string, change: Partial<WebhookRequest> = {}): WebhookRequest {
  return {
    url: `${base}${path}`,
    body: { kind: "bytes", bytes: BODY },
    signature: "t=1760000000,v0=abc",
    deliveryId: "dlv_1",
    attempt: 3,
    requestHeaders: {},
    timeoutMs: 5000,
    allowPrivate: true,
    ...change,
  };
}

describe("sending one webhook attempt", () => {
  it("POSTs the body with the delivery's headers, and the webhook's own that don't clash", async () => {
    const result = await sendWebhook(
      request("/ok", {
        requestHeaders: {
          Authorization: "Bearer receiver-token",
          "X-Team": "support",
          "user-agent": "spoofed",
          "ElevenLabs-Signature": "t=1,v0=forged",
          "OpenConvAI-Delivery-Id": "other",
          "Content-Type": "text/plain",
        },
      }),
    );
    expect(result).toMatchObject({ statusCode: 200, error: null, responseHead: "ok" });
    expect(result.latencyMs).toBeGreaterThanOrEqual(0);
    expect(received).toHaveLength(1);
    const [got] = received;
    expect(got?.method).toBe("POST");
    expect(got?.body.equals(BODY)).toBe(true);
    expect(got?.headers).toMatchObject({
      "content-type": "application/json",
      "content-length": String(BODY.length),
      "elevenlabs-signature": "t=1760000000,v0=abc",
      "user-agent": "openconvai",
      "openconvai-delivery-id": "dlv_1",
      "openconvai-delivery-attempt": "3",
      authorization: "Bearer receiver-token",
      "x-team": "support",
    });
  });

  it("hands back a 503 as a status, with what the receiver said", async () => {
    expect(await sendWebhook(request("/unavailable"))).toMatchObject({
      statusCode: 503,
      error: null,
      responseHead: "try later",
    });
  });

  it("reads a 429's Retry-After", async () => {
    const result = await sendWebhook(request("/slow-down"));
    expect(result).toMatchObject({ statusCode: 429, error: null, retryAfterMs: 120_000 });
  });

  it("hands back a 400 with the start of its body", async () => {
    expect(await sendWebhook(request("/bad"))).toMatchObject({
      statusCode: 400,
      responseHead: '{"error":"bad payload"}',
    });
  });

  it("does not follow a redirect", async () => {
    const result = await sendWebhook(request("/moved"));
    expect(result).toMatchObject({ statusCode: 302, error: null });
    expect(received.map((r) => r.path)).toEqual(["/moved"]);
  });

  it("reports a connection the receiver drops as an error", async () => {
    const result = await sendWebhook(request("/drop"));
    expect(result.statusCode).toBeNull();
    expect(result.error).toMatch(/^the connection failed: .*(socket hang up|ECONNRESET)/);
    expect(result.responseHead).toBeNull();
    expect(result.final).toBeUndefined();
  });

  it("gives up on a receiver that never answers after the timeout", async () => {
    const result = await sendWebhook(request("/silent", { timeoutMs: 300 }));
    expect(result).toMatchObject({ statusCode: null, error: "timed out after 300 ms", responseHead: null });
    expect(result.latencyMs).toBeGreaterThanOrEqual(290);
    expect(result.latencyMs).toBeLessThan(3000);
  });

  it("reads only the first KiB of a big answer", async () => {
    const result = await sendWebhook(request("/big"));
    expect(result.statusCode).toBe(200);
    expect(result.responseHead).toBe("x".repeat(1024));
  });

  it("refuses a private or loopback address unless allowed, without connecting", async () => {
    const port = (server.address() as AddressInfo).port;
    const urls = [
      `${base}/ok`,
      `http://localhost:${port}/ok`,
      `http://[::1]:${port}/ok`,
      `http://[::ffff:127.0.0.1]:${port}/ok`,
      `http://[::127.0.0.1]:${port}/ok`,
      `http://[64:ff9b::10.0.0.1]:${port}/ok`,
      `http://169.254.169.254/latest/meta-data/`,
    ];
    for (const url of urls) {
      const result = await sendWebhook(request("/ok", { url, allowPrivate: false }));
      expect(result.statusCode).toBeNull();
      expect(result.error).toMatch(/private or loopback address .*OPENCONVAI_WEBHOOK_ALLOW_PRIVATE=true/);
      expect(result.final).toBe(true);
    }
    expect(received).toHaveLength(0);
  });

  it("sends a streamed body chunked, byte for byte", async () => {
    const pieces = [
      Buffer.from('{"data":{"full_audio":"'),
      Buffer.from("QUJD".repeat(50_000)),
      Buffer.from('"}}'),
    ];
    const body: RequestBody = {
      kind: "stream",
      open: async function* () {
        yield* pieces;
      },
    };
    const result = await sendWebhook(request("/audio", { body }));
    expect(result).toMatchObject({ statusCode: 200, error: null });
    const [got] = received;
    expect(got?.headers["transfer-encoding"]).toBe("chunked");
    expect(got?.headers["content-length"]).toBeUndefined();
    expect(got?.body.equals(Buffer.concat(pieces))).toBe(true);
  });

  it("fails the attempt when a streamed body can't be read, and the receiver never gets a whole body", async () => {
    const body: RequestBody = {
      kind: "stream",
      open: async function* () {
        yield Buffer.from('{"data":"');
        throw new Error("the conversation's audio changed while it was being sent");
      },
    };
    const result = await sendWebhook(request("/audio", { body }));
    expect(result).toMatchObject({
      statusCode: null,
      error: "the body could not be sent: the conversation's audio changed while it was being sent",
    });
    expect(received).toHaveLength(0);
  });

  it("refuses a URL that is not http(s), and a header Node can't send, as final", async () => {
    expect(await sendWebhook(request("/ok", { url: "ftp://example.com/x" }))).toMatchObject({
      statusCode: null,
      final: true,
    });
    const result = await sendWebhook(request("/ok", { requestHeaders: { "X-Bad": "a\r\nInjected: yes" } }));
    expect(result).toMatchObject({ statusCode: null, final: true });
    expect(received).toHaveLength(0);
  });
});
