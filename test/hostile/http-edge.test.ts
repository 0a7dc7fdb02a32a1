import { randomUUID } from "node:crypto";
import net from "node:net";
import pino from "pino";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { resolveConfig } from "../../src/config/config.js";
import { ConfigError } from "../../src/config/config-error.js";
import { startServer } from "../../src/main.js";
import { buildConversation } from "../fixtures/conversations.js";
import { BACKENDS, createTestStorage } from "../support/backends.js";
import { putConversations } from "../support/put-conversations.js";
import { startTestServer, type TestServer } from "../support/test-server.js";

const MIB = 1024 * 1024;
const CHUNK = Buffer.alloc(MIB, "A");
const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;

/** An answer read off a raw socket. */
interface RawAnswer {
  status: number;
  headers: Record<string, string>;
  body: string;
  /** Body bytes the client had handed to its socket when the first byte of the answer came. */
  sentBeforeAnswer: number;
}

/**
 * Speaks HTTP/1.1 over a raw socket: writes `head`, then each body piece from `body` (awaiting
 * backpressure, and `pause` between pieces), and stops writing once any answer arrives.
 */
async function rawExchange(
  server: TestServer,
  head: string,
  body: Iterable<Buffer> = [],
  pause?: () => Promise<void>,
): Promise<RawAnswer> {
  const { hostname, port } = new URL(server.url);
  const socket = net.connect({ host: hostname, port: Number(port) });
  await new Promise<void>((resolve, reject) => socket.once("connect", resolve).once("error", reject));
  socket.on("error", () => {});
  let received = Buffer.alloc(0);
  let closed = false;
  let wake: () => void = () => {};
  socket.on("data", (d: Buffer) => {
    received = Buffer.concat([received, d]);
    wake();
  });
  socket.on("close", () => {
    closed = true;
    wake();
  });
  const answered = () => received.length > 0 || closed;
  socket.write(head);
  let sent = 0;
  for (const piece of body) {
    if (answered()) break;
    if (pause) {
      await Promise.race([pause(), new Promise<void>((resolve) => (wake = resolve))]);
      if (answered()) break;
    }
    const flushed = socket.write(piece);
    sent += piece.length;
    if (!flushed) {
      await new Promise<void>((resolve) => {
        wake = resolve;
        socket.once("drain", resolve);
      });
      socket.removeAllListeners("drain");
    }
  }
  const sentBeforeAnswer = sent;
  while (!closed) {
    const text = received.toString("latin1");
    const end = text.indexOf("\r\n\r\n");
    if (end >= 0) {
      const length = Number(/\r\ncontent-length: *(\d+)/i.exec(text.slice(0, end + 2))?.[1] ?? "0");
      if (received.length >= end + 4 + length) break;
    }
    await new Promise<void>((resolve) => (wake = resolve));
  }
  socket.destroy();
  const text = received.toString("utf8");
  const end = text.indexOf("\r\n\r\n");
  const lines = text.slice(0, Math.max(end, 0)).split("\r\n");
  const headers: Record<string, string> = {};
  for (const line of lines.slice(1)) {
    const colon = line.indexOf(":");
    headers[line.slice(0, colon).toLowerCase()] = line.slice(colon + 1).trim();
  }
  return {
    status: Number(lines[0]?.split(" ")[1] ?? 0),
    headers,
    body: end >= 0 ? text.slice(end + 4) : "",
    sentBeforeAnswer,
  };
}

/** `count` one-byte pieces (a body, or a header value, that trickles in). */
function* trickle(count: number, byte = "{"): Generator<Buffer> {
  for (let i = 0; i < count; i += 1) yield Buffer.from(byte);
}

/** `total` bytes in 1 MiB pieces, produced as they are sent. */
function* megabytes(total: number): Generator<Buffer> {
  for (let sent = 0; sent < total; sent += CHUNK.length) yield CHUNK;
}

const wait = (ms: number) => () => new Promise<void>((resolve) => setTimeout(resolve, ms));

/** Upstream's envelope for errors other than 422, with a request id and a closed connection. */
function expectEnvelope(answer: RawAnswer, status: number, code: string): void {
  expect(answer.status).toBe(status);
  expect(JSON.parse(answer.body)).toEqual({ detail: { status: code, message: expect.any(String) } });
  expect(answer.headers["content-type"]).toMatch(/^application\/json/);
  expect(answer.headers["x-request-id"]).toMatch(UUID);
  expect(answer.headers.connection).toBe("close");
}

describe("the framework's own answers (malformed requests)", () => {
  let server: TestServer;
  beforeAll(async () => {
    server = await startTestServer("sqlite", { OPENCONVAI_REQUEST_TIMEOUT_SECS: "1" });
  });
  afterAll(async () => server?.stop());

  it("answers a malformed request line with a 400 in upstream's envelope", async () => {
    const answer = await rawExchange(server, "NOT HTTP AT ALL\r\n\r\n");
    expectEnvelope(answer, 400, "invalid_request");
  });

  it("answers headers over the size limit with a 431 in upstream's envelope", async () => {
    const answer = await rawExchange(
      server,
      `GET /healthz HTTP/1.1\r\nhost: x\r\nx-padding: ${"a".repeat(20_000)}\r\n\r\n`,
    );
    expectEnvelope(answer, 431, "headers_too_large");
  });

  it("answers headers that do not finish in time with a 408 in upstream's envelope", async () => {
    const answer = await rawExchange(
      server,
      "GET /healthz HTTP/1.1\r\nhost: x\r\nx-slow: ",
      trickle(30, "a"),
      wait(400),
    );
    expectEnvelope(answer, 408, "request_timeout");
  });
});

describe.each(BACKENDS)("slow bodies (%s)", (backend) => {
  let server: TestServer;
  beforeAll(async () => {
    server = await startTestServer(backend, {
      OPENCONVAI_REQUEST_TIMEOUT_SECS: "1",
      OPENCONVAI_WEBHOOK_SECRETS: "wsec_slow",
    });
  });
  afterAll(async () => server?.stop());

  it("answers an ingest PUT whose body trickles in slower than the request timeout with a 408", async () => {
    const head =
      "PUT /ingest/v1/conversations/conv_slow HTTP/1.1\r\nhost: x\r\n" +
      `xi-api-key: ${server.apiKey}\r\ncontent-type: application/json\r\ncontent-length: 1000\r\n\r\n`;
    const answer = await rawExchange(server, head, trickle(30), wait(400));
    expectEnvelope(answer, 408, "request_timeout");
    expect(await server.server.services.db.conversations.getConversation("conv_slow")).toBeUndefined();
  });

  it("answers a webhook whose body trickles in slower than the request timeout with a 408", async () => {
    const t = Math.floor(Date.now() / 1000);
    const head =
      "POST /ingest/v1/webhooks/elevenlabs HTTP/1.1\r\nhost: x\r\ncontent-type: application/json\r\n" +
      `elevenlabs-signature: t=${t},v0=${"0".repeat(64)}\r\ncontent-length: 1000\r\n\r\n`;
    const answer = await rawExchange(server, head, trickle(30), wait(400));
    expectEnvelope(answer, 408, "request_timeout");
  });
});

describe.each(BACKENDS)("file uploads that announce more than the limit (%s)", (backend) => {
  let server: TestServer;
  beforeAll(async () => {
    server = await startTestServer(backend);
    await putConversations(server, [buildConversation({ id: "conv_big_file" })]);
  });
  afterAll(async () => server?.stop());

  it("refuses them with a 413 before reading the body, and closes the connection", async () => {
    const boundary = "----hostile";
    const head =
      "POST /v1/convai/conversations/conv_big_file/files HTTP/1.1\r\nhost: x\r\n" +
      `xi-api-key: ${server.apiKey}\r\ncontent-type: multipart/form-data; boundary=${boundary}\r\n` +
      `content-length: ${1024 * MIB}\r\n\r\n`;
    const preamble = Buffer.from(
      `--${boundary}\r\ncontent-disposition: form-data; name="file"; filename="a.txt"\r\n` +
        "content-type: text/plain\r\n\r\n",
    );
    const answer = await rawExchange(server, head, [preamble, ...megabytes(64 * MIB)]);
    expect(answer.status).toBe(413);
    expect(JSON.parse(answer.body)).toEqual({
      detail: {
        status: "payload_too_large",
        message: expect.stringMatching(/file is larger than the limit/),
      },
    });
    expect(answer.headers.connection).toBe("close");
    expect(answer.sentBeforeAnswer).toBeLessThan(20 * MIB);
  });
});

describe("bodies without an API key", () => {
  let server: TestServer;
  beforeAll(async () => {
    server = await startTestServer("sqlite");
  });
  afterAll(async () => server?.stop());

  it("are refused before they are read, and the connection is closed", async () => {
    const head =
      "PUT /ingest/v1/conversations/conv_nokey/audio HTTP/1.1\r\nhost: x\r\n" +
      `content-type: audio/mpeg\r\ncontent-length: ${64 * MIB}\r\n\r\n`;
    const answer = await rawExchange(server, head, megabytes(64 * MIB));
    expectEnvelope(answer, 401, "invalid_api_key");
    expect(answer.sentBeforeAnswer).toBeLessThan(64 * MIB);
  });
});

describe("request ids", () => {
  let server: TestServer;
  beforeAll(async () => {
    server = await startTestServer("sqlite");
  });
  afterAll(async () => server?.stop());

  const idFor = async (given: string) =>
    (await fetch(`${server.url}/healthz`, { headers: { "x-request-id": given } })).headers.get(
      "x-request-id",
    );

  it("echoes a client's id of up to 128 characters of [A-Za-z0-9._:-]", async () => {
    expect(await idFor("req-1.a_b:C")).toBe("req-1.a_b:C");
    expect(await idFor("x".repeat(128))).toBe("x".repeat(128));
  });

  it("replaces a longer id, or one with other characters, by a fresh one", async () => {
    for (const given of ["x".repeat(129), "a b", "a/b", 'a"b', "<script>", "a,b"]) {
      const id = await idFor(given);
      expect(id, given).toMatch(UUID);
    }
  });
});

describe.each(BACKENDS)("a revoked bootstrap key (%s)", (backend) => {
  it("stops the start with a clear message instead of reviving it or crashing", async () => {
    const storage = createTestStorage(backend);
    const secret = `oc_boot_${randomUUID()}`;
    const config = resolveConfig(
      { host: "127.0.0.1", port: "0", data: storage.dataDir, databaseUrl: storage.databaseUrl },
      { OPENCONVAI_BOOTSTRAP_KEY: secret },
    );
    try {
      const first = await startServer(config, pino({ level: "silent" }));
      expect(await first.services.keys.verify(secret)).toBe(true);
      expect(await first.services.keys.revoke(secret.slice(0, 10))).toBe(1);
      await first.stop();

      const restart = startServer(config, pino({ level: "silent" }));
      await expect(restart).rejects.toBeInstanceOf(ConfigError);
      await expect(restart).rejects.toThrow(/OPENCONVAI_BOOTSTRAP_KEY.*revoked/);
      // Nothing was written: the key stays revoked.
      const db = await storage.open();
      try {
        const keys = await db.keys.listKeys();
        expect(keys).toHaveLength(1);
        expect(keys[0]?.revokedAtUnixSecs).not.toBeNull();
      } finally {
        await db.close();
      }
    } finally {
      await storage.cleanup();
    }
  });
});
