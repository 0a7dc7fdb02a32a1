/**
 * A public agent's Origin allowlist (`platform_settings.auth.allowlist`): a connection from an
 * Origin whose hostname is on it starts (scheme, port and case aside); any other Origin is closed
 * with 1008 and a reason naming it; a connection without an Origin passes unless the agent sets
 * `require_origin_header`; a signed URL or a valid xi-api-key is not subject to the allowlist.
 * Raw `ws` sockets set the Origin (the official client in Node sends none).
 */
import { SessionConnectionError, type TextConversation } from "@elevenlabs/client";
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import { WebSocket } from "ws";
import { BACKENDS } from "../support/backends.js";
import { startTestServer, type TestServer } from "../support/test-server.js";
import { startTextSession } from "./text-session.js";

/** The init frame the official client sends in text mode. */
const INIT = {
  type: "conversation_initiation_client_data",
  conversation_config_override: { agent: {}, tts: {}, conversation: { text_only: true } },
};

/** How a raw connection went: the metadata frame's arrival, or the close code and reason. */
type Outcome = { started: true } | { started: false; code: number; reason: string };

describe.each(BACKENDS)("the agent allowlist on %s", (backend) => {
  let server: TestServer;
  let agentId: string;
  let strictAgentId: string;
  const sockets: WebSocket[] = [];
  const open: TextConversation[] = [];

  beforeAll(async () => {
    server = await startTestServer(backend);
    const create = async (auth: Record<string, unknown>) =>
      (
        await server.client.conversationalAi.agents.create({
          conversationConfig: { agent: { firstMessage: "" } },
          platformSettings: { auth },
        })
      ).agentId;
    agentId = await create({ allowlist: [{ hostname: "App.Example.com" }, { hostname: "localhost:3000" }] });
    strictAgentId = await create({ allowlist: [{ hostname: "app.example.com" }], requireOriginHeader: true });
  });
  afterEach(async () => {
    for (const socket of sockets.splice(0)) socket.terminate();
    for (const conversation of open.splice(0)) await conversation.endSession().catch(() => undefined);
  });
  afterAll(async () => {
    await server?.stop();
  });

  /** Opens a raw socket, sends the init frame and reports whether the session started. */
  const connect = (
    options: { origin?: string; headers?: Record<string, string>; query?: string; agent?: string } = {},
  ): Promise<Outcome> => {
    const query = options.query ?? `agent_id=${options.agent ?? agentId}`;
    const url = `${server.url.replace(/^http/, "ws")}/v1/convai/conversation?${query}`;
    const socket = new WebSocket(url, ["convai"], { origin: options.origin, headers: options.headers });
    sockets.push(socket);
    return new Promise<Outcome>((resolve, reject) => {
      socket.on("open", () => socket.send(JSON.stringify(INIT)));
      socket.on("message", (data) => {
        const frame = JSON.parse(data.toString()) as { type?: string };
        if (frame.type === "conversation_initiation_metadata") resolve({ started: true });
      });
      socket.on("close", (code, reason) => resolve({ started: false, code, reason: reason.toString() }));
      socket.on("error", reject);
    });
  };

  it("starts a session from an Origin whose hostname is on the allowlist (scheme, port, case aside)", async () => {
    expect(await connect({ origin: "https://app.example.com" })).toEqual({ started: true });
    expect(await connect({ origin: "http://APP.example.com:8443" })).toEqual({ started: true });
    expect(await connect({ origin: "http://localhost:5173" })).toEqual({ started: true });
  });

  it("closes a connection from another Origin with 1008 and a reason naming it", async () => {
    expect(await connect({ origin: "https://evil.example" })).toEqual({
      started: false,
      code: 1008,
      reason:
        "Origin https://evil.example is not on this agent's allowlist: add its hostname to platform_settings.auth.allowlist",
    });
    // A hostname that merely ends like an allowed one is another hostname.
    const lookalike = await connect({ origin: "https://app.example.com.evil.example" });
    expect(lookalike).toMatchObject({ started: false, code: 1008 });
    expect(lookalike.started === false && lookalike.reason).toMatch(
      /^Origin https:\/\/app\.example\.com\.ev\.\.\. is not on this agent's allowlist: add its hostname to platform_settings\.auth\.allowlist$/,
    );
    expect(await connect({ origin: "null" })).toMatchObject({ started: false, code: 1008 });
  });

  it("admits a connection without an Origin unless the agent requires one", async () => {
    expect(await connect()).toEqual({ started: true });
    expect(await connect({ agent: strictAgentId })).toEqual({
      started: false,
      code: 1008,
      reason:
        "Origin header required: this agent has an allowlist; connect from an allowed site, a signed URL or an xi-api-key",
    });
    expect(await connect({ agent: strictAgentId, origin: "https://app.example.com" })).toEqual({
      started: true,
    });
  });

  it("does not apply the allowlist to a valid xi-api-key, but does to an invalid one", async () => {
    const origin = "https://evil.example";
    expect(await connect({ origin, headers: { "xi-api-key": server.apiKey } })).toEqual({ started: true });
    expect(await connect({ origin, headers: { "xi-api-key": "oc_not_a_key" } })).toMatchObject({
      started: false,
      code: 1008,
    });
    expect(await connect({ agent: strictAgentId, headers: { "xi-api-key": server.apiKey } })).toEqual({
      started: true,
    });
  });

  it("does not apply the allowlist to a signed URL", async () => {
    const { signedUrl } = await server.client.conversationalAi.conversations.getSignedUrl({
      agentId: strictAgentId,
    });
    const query = new URL(signedUrl).search.slice(1);
    expect(await connect({ query, origin: "https://evil.example" })).toEqual({ started: true });
    expect(await connect({ query })).toEqual({ started: true });
  });

  it("lets the official client (no Origin in Node) connect, and refuses it where an Origin is required", async () => {
    const session = await startTextSession(server.url, agentId);
    open.push(session.conversation);
    expect(session.conversation.getId()).toMatch(/^conv_/);
    const refused = await startTextSession(server.url, strictAgentId).then(
      (started) => {
        open.push(started.conversation);
        throw new Error("the session started");
      },
      (caught: unknown) => caught,
    );
    expect(refused).toBeInstanceOf(SessionConnectionError);
    expect((refused as SessionConnectionError).closeCode).toBe(1008);
    expect((refused as SessionConnectionError).closeReason).toMatch(/^Origin header required/);
  });
});
