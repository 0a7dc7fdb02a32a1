import { createHmac } from "node:crypto";
import { existsSync, readdirSync, readFileSync } from "node:fs";
import net from "node:net";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { setFlagsFromString } from "node:v8";
import { runInNewContext } from "node:vm";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { signWebhookBody } from "../../src/ingest/webhook-signature.js";
import { BACKENDS } from "../support/backends.js";
import { startTestServer, type TestServer } from "../support/test-server.js";

const FIXTURES = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "../fixtures");
const EXAMPLE = readFileSync(path.join(FIXTURES, "post-call-transcription-webhook.json"), "utf8");
const SECRET = "wsec_hostile_0123456789";
const WEBHOOK = "/ingest/v1/webhooks/elevenlabs";
const MIB = 1024 * 1024;
const BIG = 64 * MIB;
/** One reused chunk: the client never holds more than this of the body it sends. */
const CHUNK = Buffer.alloc(MIB, "A");

const now = () => Math.floor(Date.now() / 1000);

/** A full garbage collection, so memory samples count what is held, not garbage not yet collected. */
const collectGarbage = (() => {
  setFlagsFromString("--expose-gc");
  return runInNewContext("gc") as () => void;
})();

/** A body of `size` bytes, produced chunk by chunk: `prefix`, then `A`s, then `suffix`. */
function* bodyChunks(size: number, prefix = "", suffix = ""): Generator<Buffer> {
  const head = Buffer.from(prefix);
  const tail = Buffer.from(suffix);
  yield head;
  let left = size - head.length - tail.length;
  while (left > 0) {
    const n = Math.min(left, CHUNK.length);
    yield n === CHUNK.length ? CHUNK : CHUNK.subarray(0, n);
    left -= n;
  }
  yield tail;
}

/** The signature of a generated body, computed as it is generated (never held whole). */
function signChunks(chunks: Iterable<Buffer>, secret: string, t: number): string {
  const mac = createHmac("sha256", secret).update(`${t}.`, "utf8");
  for (const chunk of chunks) mac.update(chunk);
  return `t=${t},v0=${mac.digest("hex")}`;
}

/** What a raw upload saw: how much of the body it had handed over when the answer came, and the answer. */
interface RawUpload {
  sentBeforeAnswer: number;
  total: number;
  status: number;
  headers: Record<string, string>;
  body: string;
  /** How far the RSS of this process (the server runs in it) rose while the body was being sent. */
  peakRssGrowth: number;
  /** How far the memory held by Buffers rose meanwhile (RSS keeps pages an earlier test freed); sampled after a GC. */
  peakBufferGrowth: number;
}

/**
 * Sends a request over a raw socket, writing the body chunk by chunk with backpressure, and stops
 * writing as soon as any answer arrives (a client that reads while it writes).
 */
async function rawUpload(
  server: TestServer,
  headers: Record<string, string>,
  chunks: Iterable<Buffer>,
  total: number,
  chunked = false,
): Promise<RawUpload> {
  const { hostname, port } = new URL(server.url);
  const socket = net.connect({ host: hostname, port: Number(port) });
  await new Promise<void>((resolve, reject) => socket.once("connect", resolve).once("error", reject));
  socket.on("error", () => {});
  let received = Buffer.alloc(0);
  let closed = false;
  let wake: () => void = () => {};
  const answered = () => received.length > 0 || closed;
  socket.on("data", (d: Buffer) => {
    received = Buffer.concat([received, d]);
    wake();
  });
  socket.on("close", () => {
    closed = true;
    wake();
  });
  const head = Object.entries({
    host: `${hostname}:${port}`,
    ...headers,
    ...(chunked ? { "transfer-encoding": "chunked" } : { "content-length": String(total) }),
  })
    .map(([k, v]) => `${k}: ${v}\r\n`)
    .join("");
  socket.write(`POST ${WEBHOOK} HTTP/1.1\r\n${head}\r\n`);
  collectGarbage();
  const baseline = process.memoryUsage();
  let peak = baseline.rss;
  let peakBuffers = baseline.arrayBuffers;
  let samples = 0;
  const sample = () => {
    // Every 8 MiB, after a collection: a held body shows, garbage does not.
    if (samples++ % 8 !== 0) return;
    collectGarbage();
    const usage = process.memoryUsage();
    peak = Math.max(peak, usage.rss);
    peakBuffers = Math.max(peakBuffers, usage.arrayBuffers);
  };
  let sent = 0;
  let sentBeforeAnswer = -1;
  for (const chunk of chunks) {
    if (answered()) break;
    sample();
    if (chunk.length === 0) continue;
    const wire = chunked
      ? Buffer.concat([Buffer.from(`${chunk.length.toString(16)}\r\n`), chunk, Buffer.from("\r\n")])
      : chunk;
    const flushed = socket.write(wire);
    sent += chunk.length;
    if (!flushed) {
      await new Promise<void>((resolve) => {
        wake = resolve;
        socket.once("drain", resolve);
      });
      socket.removeAllListeners("drain");
    }
  }
  if (!answered() && chunked) socket.write("0\r\n\r\n");
  // Whatever happened, wait for a complete answer (or the close).
  for (;;) {
    const text = received.toString("latin1");
    const end = text.indexOf("\r\n\r\n");
    if (end >= 0) {
      if (sentBeforeAnswer < 0) sentBeforeAnswer = sent;
      const length = Number(/\r\ncontent-length: *(\d+)/i.exec(text.slice(0, end + 2))?.[1] ?? "0");
      if (received.length >= end + 4 + length) break;
    }
    if (closed) break;
    await new Promise<void>((resolve) => {
      wake = resolve;
    });
  }
  samples = 0;
  sample();
  socket.destroy();
  const text = received.toString("utf8");
  const end = text.indexOf("\r\n\r\n");
  const lines = text.slice(0, end).split("\r\n");
  const responseHeaders: Record<string, string> = {};
  for (const line of lines.slice(1)) {
    const colon = line.indexOf(":");
    responseHeaders[line.slice(0, colon).toLowerCase()] = line.slice(colon + 1).trim();
  }
  return {
    sentBeforeAnswer: sentBeforeAnswer < 0 ? sent : sentBeforeAnswer,
    total,
    status: Number(lines[0]?.split(" ")[1] ?? 0),
    headers: responseHeaders,
    body: text.slice(end + 4),
    peakRssGrowth: peak - baseline.rss,
    peakBufferGrowth: peakBuffers - baseline.arrayBuffers,
  };
}

/** The files left in the server's temporary folder (where webhook bodies are spooled). */
function tempFiles(server: TestServer): string[] {
  const dir = path.join(server.storage.dataDir, "tmp");
  return existsSync(dir) ? readdirSync(dir, { recursive: true }).map(String) : [];
}

describe.each(BACKENDS)("webhook bodies are authenticated before they are read (%s)", (backend) => {
  let server: TestServer;
  beforeAll(async () => {
    server = await startTestServer(backend, { OPENCONVAI_WEBHOOK_SECRETS: SECRET });
  });
  afterAll(async () => server?.stop());

  const refusals: [string, string | undefined][] = [
    ["no signature", undefined],
    ["a malformed signature", "v0=abc"],
    ["a stale signature", `t=${now() - 3600},v0=${"0".repeat(64)}`],
    ["a signature from the future", `t=${now() + 3600},v0=${"0".repeat(64)}`],
  ];
  for (const [name, signature] of refusals) {
    it(`refuses a 64 MiB body with ${name} before it has been sent, without holding it`, async () => {
      const headers: Record<string, string> = { "content-type": "application/json" };
      if (signature) headers["elevenlabs-signature"] = signature;
      const upload = await rawUpload(server, headers, bodyChunks(BIG), BIG);
      expect(upload.status).toBe(401);
      expect(JSON.parse(upload.body)).toMatchObject({ detail: { status: "invalid_signature" } });
      expect(upload.sentBeforeAnswer).toBeLessThan(upload.total);
      expect(upload.headers.connection).toBe("close");
      expect(upload.peakRssGrowth).toBeLessThan(BIG / 2);
      expect(upload.peakBufferGrowth).toBeLessThan(BIG / 4);
    });
  }

  it("refuses a chunked body with no signature before it has been sent", async () => {
    const upload = await rawUpload(
      server,
      { "content-type": "application/json" },
      bodyChunks(BIG),
      BIG,
      true,
    );
    expect(upload.status).toBe(401);
    expect(upload.sentBeforeAnswer).toBeLessThan(upload.total);
  });

  it("refuses a 64 MiB body with a wrong signature after streaming it, without holding it or keeping a file", async () => {
    const headers = {
      "content-type": "application/json",
      "elevenlabs-signature": `t=${now()},v0=${"0".repeat(64)}`,
    };
    const upload = await rawUpload(server, headers, bodyChunks(BIG), BIG);
    expect(upload.status).toBe(401);
    expect(JSON.parse(upload.body)).toEqual({
      detail: { status: "invalid_signature", message: "The webhook signature does not match." },
    });
    expect(upload.peakRssGrowth).toBeLessThan(BIG / 2);
    expect(upload.peakBufferGrowth).toBeLessThan(BIG / 4);
    expect(tempFiles(server)).toEqual([]);
  });

  it("applies a large body with a valid signature, and keeps no file", async () => {
    const doc = JSON.parse(EXAMPLE) as { data: Record<string, unknown> };
    doc.data.conversation_id = "conv_hostile_big_valid";
    const json = JSON.stringify(doc);
    // A large envelope: the document, then a long extra key the receiver ignores.
    const prefix = `${json.slice(0, -1)},"padding":"`;
    const suffix = `"}`;
    const size = 24 * MIB;
    const t = now();
    const signature = signChunks(bodyChunks(size, prefix, suffix), SECRET, t);
    const upload = await rawUpload(
      server,
      { "content-type": "application/json", "elevenlabs-signature": signature },
      bodyChunks(size, prefix, suffix),
      size,
    );
    expect(upload.status).toBe(200);
    expect(JSON.parse(upload.body)).toMatchObject({
      status: "stored",
      conversation_id: "conv_hostile_big_valid",
    });
    const stored = await server.client.conversationalAi.conversations.get("conv_hostile_big_valid");
    expect(stored.agentId).toBe("xyz");
    expect(tempFiles(server)).toEqual([]);
  });

  it("removes the spooled file when the client goes away mid-body", async () => {
    const { hostname, port } = new URL(server.url);
    const socket = net.connect({ host: hostname, port: Number(port) });
    await new Promise<void>((resolve) => socket.once("connect", resolve));
    socket.on("error", () => {});
    socket.write(
      `POST ${WEBHOOK} HTTP/1.1\r\nhost: x\r\ncontent-type: application/json\r\n` +
        `elevenlabs-signature: t=${now()},v0=${"0".repeat(64)}\r\ncontent-length: ${BIG}\r\n\r\n`,
    );
    for (let i = 0; i < 4; i += 1) {
      if (!socket.write(CHUNK)) await new Promise((resolve) => socket.once("drain", resolve));
    }
    // The body is being spooled: its file exists until the request ends, however it ends.
    while (tempFiles(server).length === 0) await new Promise((resolve) => setTimeout(resolve, 20));
    socket.destroy();
    while (tempFiles(server).length > 0) await new Promise((resolve) => setTimeout(resolve, 20));
    expect(tempFiles(server)).toEqual([]);
    expect((await fetch(`${server.url}/healthz`)).status).toBe(200);
  });

  it("still applies a small signed body", async () => {
    const doc = JSON.parse(EXAMPLE) as { data: Record<string, unknown> };
    doc.data.conversation_id = "conv_hostile_small_valid";
    const body = JSON.stringify(doc);
    const response = await fetch(`${server.url}${WEBHOOK}`, {
      method: "POST",
      headers: {
        "content-type": "application/json",
        "elevenlabs-signature": signWebhookBody(body, SECRET, now()),
      },
      body,
    });
    expect(response.status).toBe(200);
    expect(tempFiles(server)).toEqual([]);
  });
});

describe("webhook bodies over the limit", () => {
  let server: TestServer;
  beforeAll(async () => {
    server = await startTestServer("sqlite", {
      OPENCONVAI_WEBHOOK_SECRETS: SECRET,
      OPENCONVAI_MAX_JSON_BYTES: "1024",
      OPENCONVAI_MAX_AUDIO_BYTES: "1024",
    });
  });
  afterAll(async () => server?.stop());

  it("refuses a chunked body with a well-formed signature once it passes the limit, keeping no file", async () => {
    const headers = {
      "content-type": "application/json",
      "elevenlabs-signature": `t=${now()},v0=${"0".repeat(64)}`,
    };
    const upload = await rawUpload(server, headers, bodyChunks(BIG), BIG, true);
    expect(upload.status).toBe(413);
    expect(JSON.parse(upload.body)).toEqual({
      detail: {
        status: "payload_too_large",
        message:
          "The webhook body is larger than the limit of 2390 bytes. Send a smaller one (docs/operations.md lists the limits).",
      },
    });
    expect(upload.headers.connection).toBe("close");
    expect(upload.sentBeforeAnswer).toBeLessThan(upload.total);
    expect(upload.peakRssGrowth).toBeLessThan(BIG / 2);
    expect(upload.peakBufferGrowth).toBeLessThan(BIG / 4);
    expect(tempFiles(server)).toEqual([]);
  });

  it("refuses a body that announces more than the limit before reading it", async () => {
    const headers = {
      "content-type": "application/json",
      "elevenlabs-signature": `t=${now()},v0=${"0".repeat(64)}`,
    };
    const upload = await rawUpload(server, headers, bodyChunks(BIG), BIG);
    expect(upload.status).toBe(413);
    expect(upload.headers.connection).toBe("close");
    expect(upload.sentBeforeAnswer).toBeLessThan(upload.total);
  });
});
