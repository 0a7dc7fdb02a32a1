import http from "node:http";
import { ElevenLabsClient } from "@elevenlabs/elevenlabs-js";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { verifyConversationSignature } from "../../src/runtime/conversation-signature.js";
import { BACKENDS } from "../support/backends.js";
import { catchSdkError } from "../support/catch-sdk-error.js";
import { startTestServer, type TestServer } from "../support/test-server.js";

// biome-ignore lint/suspicious/noExplicitAny: wire bodies are walked freely by the assertions.
type Json = Record<string, any>;

const PATHS = ["/v1/convai/conversation/get-signed-url", "/v1/convai/conversation/get_signed_url"];

/** A GET with exactly these headers (fetch cannot set `Host`), answered as status and parsed JSON. */
function rawGet(
  server: TestServer,
  pathAndQuery: string,
  headers: Record<string, string>,
): Promise<{ status: number; body: Json }> {
  const { hostname, port } = new URL(server.url);
  return new Promise((resolve, reject) => {
    const request = http.get({ hostname, port, path: pathAndQuery, headers }, (response) => {
      let text = "";
      response.setEncoding("utf8");
      response.on("data", (chunk: string) => {
        text += chunk;
      });
      response.on("end", () => resolve({ status: response.statusCode ?? 0, body: JSON.parse(text) as Json }));
    });
    request.on("error", reject);
  });
}

describe.each(BACKENDS)("signed URLs and the WebRTC token endpoint on %s", (backend) => {
  let server: TestServer;
  let publicServer: TestServer;
  let agentId: string;
  let publicAgentId: string;

  beforeAll(async () => {
    server = await startTestServer(backend);
    publicServer = await startTestServer(backend, { OPENCONVAI_PUBLIC_URL: "https://convai.example.com" });
    agentId = (await server.client.conversationalAi.agents.create({ conversationConfig: {} })).agentId;
    publicAgentId = (await publicServer.client.conversationalAi.agents.create({ conversationConfig: {} }))
      .agentId;
  });
  afterAll(async () => {
    await server?.stop();
    await publicServer?.stop();
  });

  const verify = (s: TestServer, url: URL, forAgent = url.searchParams.get("agent_id") ?? "") =>
    verifyConversationSignature(s.server.services.db.conversationSignatures, {
      agentId: forAgent,
      signature: url.searchParams.get("conversation_signature") ?? "",
    });

  it("answers the SDK's getSignedUrl with a ws:// URL to the conversation socket that the server accepts", async () => {
    const { signedUrl } = await server.client.conversationalAi.conversations.getSignedUrl({ agentId });
    const url = new URL(signedUrl);
    // No public URL configured: the origin is the one the client reached (its Host header).
    expect(url.origin).toBe(server.url.replace(/^http:/, "ws:"));
    expect(url.pathname).toBe("/v1/convai/conversation");
    expect([...url.searchParams.keys()]).toEqual(["agent_id", "conversation_signature"]);
    expect(url.searchParams.get("agent_id")).toBe(agentId);
    expect(await verify(server, url)).toEqual({ ok: true });
  });

  it("with includeConversationId, signs a single-use URL that fixes the conversation id", async () => {
    const { signedUrl } = await server.client.conversationalAi.conversations.getSignedUrl({
      agentId,
      includeConversationId: true,
    });
    const url = new URL(signedUrl);
    const first = await verify(server, url);
    expect(first).toEqual({ ok: true, conversationId: expect.stringMatching(/^conv_[0-9a-z]{28}$/) });
    expect(await verify(server, url)).toEqual({ ok: false, reason: "signature already used" });
  });

  it("answers on both spellings of the path, with the same shape", async () => {
    for (const path of PATHS) {
      const response = await server.fetch(`${path}?agent_id=${agentId}&branch_id=b1&environment=staging`);
      expect(response.status, path).toBe(200);
      const body = (await response.json()) as Json;
      expect(Object.keys(body)).toEqual(["signed_url"]);
      expect(await verify(server, new URL(body.signed_url))).toEqual({ ok: true });
    }
  });

  it("takes the origin from the Host header, or from X-Forwarded-Proto and X-Forwarded-Host", async () => {
    const key = { "xi-api-key": server.apiKey };
    const cases: [Record<string, string>, string][] = [
      [{ host: "convai.internal:9000" }, "ws://convai.internal:9000"],
      [{ host: "convai.internal:9000", "x-forwarded-proto": "https" }, "wss://convai.internal:9000"],
      [
        { host: "10.0.0.5:8787", "x-forwarded-proto": "https", "x-forwarded-host": "voice.example.org" },
        "wss://voice.example.org",
      ],
      // Proxies append: the first value is the client-facing one.
      [
        { host: "10.0.0.5", "x-forwarded-proto": "http, https", "x-forwarded-host": "a.example, b.internal" },
        "ws://a.example",
      ],
      // A forwarded host that is no host is not used.
      [{ host: "convai.internal", "x-forwarded-host": "evil.example/path" }, "ws://convai.internal"],
    ];
    for (const path of PATHS) {
      for (const [headers, origin] of cases) {
        const { status, body } = await rawGet(server, `${path}?agent_id=${agentId}`, { ...key, ...headers });
        expect(status, JSON.stringify(headers)).toBe(200);
        expect(new URL(body.signed_url).origin, JSON.stringify(headers)).toBe(origin);
      }
    }
  });

  it("points at OPENCONVAI_PUBLIC_URL when it is set, whatever the request says (https becomes wss)", async () => {
    const { signedUrl } = await publicServer.client.conversationalAi.conversations.getSignedUrl({
      agentId: publicAgentId,
    });
    expect(new URL(signedUrl).origin).toBe("wss://convai.example.com");
    const { body } = await rawGet(publicServer, `${PATHS[1]}?agent_id=${publicAgentId}`, {
      "xi-api-key": publicServer.apiKey,
      host: "10.0.0.5:8787",
      "x-forwarded-proto": "http",
      "x-forwarded-host": "other.example",
    });
    const url = new URL(body.signed_url);
    expect(url.origin).toBe("wss://convai.example.com");
    expect(await verify(publicServer, url)).toEqual({ ok: true });
  });

  it("answers 404 agent_not_found for an unknown agent, on both paths", async () => {
    const error = await catchSdkError(() =>
      server.client.conversationalAi.conversations.getSignedUrl({ agentId: "agent_nobody" }),
    );
    expect(error.statusCode).toBe(404);
    expect((error.body as Json).detail.status).toBe("agent_not_found");
    expect((error.body as Json).detail.message).toMatch(/agent_nobody.*GET \/v1\/convai\/agents/);
    const response = await server.fetch(`${PATHS[1]}?agent_id=agent_nobody`);
    expect(response.status).toBe(404);
    expect(((await response.json()) as Json).detail.status).toBe("agent_not_found");
  });

  it("answers 422 in FastAPI's shape without agent_id, on both paths", async () => {
    for (const path of PATHS) {
      const response = await server.fetch(path);
      expect(response.status, path).toBe(422);
      expect(((await response.json()) as Json).detail).toEqual([
        expect.objectContaining({ loc: ["query", "agent_id"], type: "missing" }),
      ]);
    }
  });

  it("answers 401 without a valid key, on both paths", async () => {
    for (const path of PATHS) {
      const response = await fetch(`${server.url}${path}?agent_id=${agentId}`);
      expect(response.status, path).toBe(401);
      expect(((await response.json()) as Json).detail.status).toBe("invalid_api_key");
    }
    const wrongKey = new ElevenLabsClient({ apiKey: "oc_wrong", baseUrl: server.url, maxRetries: 0 });
    const error = await catchSdkError(() =>
      wrongKey.conversationalAi.conversations.getSignedUrl({ agentId }),
    );
    expect(error.statusCode).toBe(401);
  });

  it("answers the WebRTC token request with 501 webrtc_not_supported saying how to connect instead", async () => {
    const error = await catchSdkError(() =>
      server.client.conversationalAi.conversations.getWebrtcToken({ agentId }),
    );
    expect(error.statusCode).toBe(501);
    const detail = (error.body as Json).detail;
    expect(detail.status).toBe("webrtc_not_supported");
    expect(detail.message).toContain('connectionType: "websocket"');
    expect(detail.message).toContain("GET /v1/convai/conversation/get-signed-url");
    // The browser client reads the message after the status; a "401" in it would be replaced.
    expect(detail.message).not.toContain("401");
  });

  it("answers the token request the browser client makes, with no key, the same way", async () => {
    const response = await fetch(
      `${server.url}/v1/convai/conversation/token?agent_id=${agentId}&source=js_sdk&version=1.25.0`,
    );
    expect(response.status).toBe(501);
    expect(((await response.json()) as Json).detail.status).toBe("webrtc_not_supported");
    const missing = await fetch(`${server.url}/v1/convai/conversation/token`);
    expect(missing.status).toBe(422);
    expect(((await missing.json()) as Json).detail[0]).toMatchObject({ loc: ["query", "agent_id"] });
  });
});
