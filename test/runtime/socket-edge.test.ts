import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import { WebSocket } from "ws";
import { MAX_FRAME_BYTES } from "../../src/api/runtime/conversation-socket.js";
import { BACKENDS } from "../support/backends.js";
import { startTestServer, type TestServer } from "../support/test-server.js";

/** The init frame the official client sends in text mode. */
const INIT = {
  type: "conversation_initiation_client_data",
  conversation_config_override: { agent: {}, tts: {}, conversation: { text_only: true } },
  source_info: { source: "js_sdk", version: "test" },
};

/** A raw socket with every frame it received and how it closed. */
interface RawSocket {
  socket: WebSocket;
  frames: Record<string, unknown>[];
  closed: Promise<{ code: number; reason: string }>;
  opened: Promise<void>;
}

describe.each(BACKENDS)("the agent WebSocket's edge on %s", (backend) => {
  let server: TestServer;
  let agentId: string;
  const sockets: WebSocket[] = [];

  beforeAll(async () => {
    server = await startTestServer(backend);
    agentId = (
      await server.client.conversationalAi.agents.create({
        conversationConfig: { agent: { firstMessage: "" } },
      })
    ).agentId;
  });
  afterEach(() => {
    for (const socket of sockets.splice(0)) socket.terminate();
  });
  afterAll(async () => {
    await server?.stop();
  });

  const connect = (
    protocols: string[] = ["convai"],
    query = `agent_id=${agentId}`,
    headers: Record<string, string> = {},
  ): RawSocket => {
    const url = `${server.url.replace(/^http/, "ws")}/v1/convai/conversation?${query}`;
    const socket = new WebSocket(url, protocols, { headers });
    sockets.push(socket);
    const frames: Record<string, unknown>[] = [];
    socket.on("message", (data) => frames.push(JSON.parse(data.toString()) as Record<string, unknown>));
    const closed = new Promise<{ code: number; reason: string }>((resolve) =>
      socket.on("close", (code, reason) => resolve({ code, reason: reason.toString() })),
    );
    const opened = new Promise<void>((resolve, reject) => {
      socket.on("open", () => resolve());
      socket.on("error", reject);
    });
    return { socket, frames, closed, opened };
  };
  /** Resolves with the first frame of a type (checking those already received). */
  const frameOf = (raw: RawSocket, type: string) =>
    new Promise<Record<string, unknown>>((resolve) => {
      const check = () => {
        const found = raw.frames.find((f) => f.type === type);
        if (found) resolve(found);
        return found;
      };
      if (!check()) raw.socket.on("message", () => void check());
    });

  it("selects the convai subprotocol when offered, and the metadata is the first frame", async () => {
    const raw = connect(["convai", "bearer.x"]);
    await raw.opened;
    expect(raw.socket.protocol).toBe("convai");
    raw.socket.send(JSON.stringify(INIT));
    const metadata = await frameOf(raw, "conversation_initiation_metadata");
    expect(raw.frames[0]).toBe(metadata);
    expect(metadata.conversation_initiation_metadata_event).toEqual({
      conversation_id: expect.stringMatching(/^conv_/),
      agent_output_audio_format: "pcm_16000",
      user_input_audio_format: "pcm_16000",
    });
  });

  it("accepts a client that offers no subprotocol", async () => {
    const raw = connect([]);
    await raw.opened;
    expect(raw.socket.protocol).toBe("");
    raw.socket.send(JSON.stringify(INIT));
    await frameOf(raw, "conversation_initiation_metadata");
  });

  it("closes with 1008 on malformed JSON, naming the problem", async () => {
    const raw = connect();
    await raw.opened;
    raw.socket.send("{not json");
    expect(await raw.closed).toEqual({ code: 1008, reason: expect.stringMatching(/JSON/) });
  });

  it("closes with 1008 on an unknown message type after the session started", async () => {
    const raw = connect();
    await raw.opened;
    raw.socket.send(JSON.stringify(INIT));
    await frameOf(raw, "conversation_initiation_metadata");
    raw.socket.send(JSON.stringify({ type: "teleport" }));
    expect(await raw.closed).toEqual({
      code: 1008,
      reason: expect.stringMatching(/unknown message type "teleport"/),
    });
  });

  it("closes with 1008 when the first frame is not the init frame", async () => {
    const raw = connect();
    await raw.opened;
    raw.socket.send(JSON.stringify({ type: "user_message", text: "hi" }));
    expect(await raw.closed).toEqual({
      code: 1008,
      reason: expect.stringMatching(/conversation_initiation_client_data first/),
    });
  });

  it("closes with 1008 when agent_id is missing", async () => {
    const raw = connect(["convai"], "");
    expect(await raw.closed).toEqual({ code: 1008, reason: expect.stringMatching(/agent_id is required/) });
  });

  it("closes a frame over the size limit with 1009", async () => {
    const raw = connect();
    await raw.opened;
    raw.socket.send(JSON.stringify({ type: "user_message", text: "x".repeat(MAX_FRAME_BYTES) }));
    expect((await raw.closed).code).toBe(1009);
  });

  it("refuses an override the server cannot honour yet with 1008 naming it", async () => {
    const raw = connect();
    await raw.opened;
    raw.socket.send(
      JSON.stringify({ ...INIT, conversation_config_override: { agent: { first_message: "Hi" }, tts: {} } }),
    );
    expect(await raw.closed).toEqual({ code: 1008, reason: expect.stringMatching(/agent\.first_message/) });
  });

  it("starts a session with an enable_auth agent when a valid xi-api-key header is sent, and refuses a wrong one", async () => {
    const privateAgent = (
      await server.client.conversationalAi.agents.create({
        conversationConfig: { agent: { firstMessage: "" } },
        platformSettings: { auth: { enableAuth: true } },
      })
    ).agentId;
    const allowed = connect(["convai"], `agent_id=${privateAgent}`, { "xi-api-key": server.apiKey });
    await allowed.opened;
    allowed.socket.send(JSON.stringify(INIT));
    await frameOf(allowed, "conversation_initiation_metadata");
    const refused = connect(["convai"], `agent_id=${privateAgent}`, { "xi-api-key": "oc_wrong" });
    expect(await refused.closed).toEqual({ code: 1008, reason: expect.stringMatching(/xi-api-key/) });
  });

  it("answers a plain HTTP GET with 426 in upstream's envelope", async () => {
    const response = await fetch(`${server.url}/v1/convai/conversation?agent_id=${agentId}`);
    expect(response.status).toBe(426);
    const body = (await response.json()) as { detail: { status: string; message: string } };
    expect(body.detail.message).toMatch(/WebSocket/);
  });
});
