import { Writable } from "node:stream";
import pino from "pino";
import { describe, expect, it } from "vitest";
import { resolveConfig } from "../../src/config/config.js";
import { startServer } from "../../src/main.js";
import { createTestStorage } from "../support/backends.js";

/** Starts a server with `env`, and returns the messages it logged while starting. */
async function startupMessages(env: Record<string, string>): Promise<string[]> {
  const storage = createTestStorage("sqlite");
  const lines: string[] = [];
  const output = new Writable({
    write(chunk, _encoding, done) {
      lines.push(String(chunk));
      done();
    },
  });
  const config = resolveConfig({ host: "127.0.0.1", port: "0", data: storage.dataDir }, env);
  const server = await startServer(config, pino({ level: "info" }, output));
  await server.stop();
  await storage.cleanup();
  return lines.map((line) => (JSON.parse(line) as { msg: string }).msg);
}

describe("the start-up log about development modes", () => {
  it("says when the development voice is on, and not when both speech providers are configured", async () => {
    const bare = await startupMessages({});
    expect(bare.some((m) => m.includes("development voice is on"))).toBe(true);
    expect(bare.some((m) => m.includes("the development agent answers"))).toBe(true);
    const configured = await startupMessages({
      OPENCONVAI_ASR_BASE_URL: "http://127.0.0.1:9/v1",
      OPENCONVAI_ASR_MODEL: "whisper-1",
      OPENCONVAI_TTS_BASE_URL: "http://127.0.0.1:9/v1",
      OPENCONVAI_TTS_MODEL: "tts-1",
    });
    expect(configured.some((m) => m.includes("development voice"))).toBe(false);
  });
});
