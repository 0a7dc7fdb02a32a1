import { ElevenLabsClient } from "@elevenlabs/elevenlabs-js";
import pino from "pino";
import { resolveConfig } from "../../src/config/config.js";
import { type RunningServer, startServer } from "../../src/main.js";
import { type Backend, createTestStorage, type TestStorage } from "./backends.js";

/** A listening openconvai on a free port, with a key and an SDK client pointed at it. */
export interface TestServer {
  url: string;
  apiKey: string;
  client: ElevenLabsClient;
  server: RunningServer;
  storage: TestStorage;
  /** Sends a raw request with the key (for what the SDK cannot express). */
  fetch(pathAndQuery: string, init?: RequestInit): Promise<Response>;
  stop(): Promise<void>;
}

/** Starts a server on the given backend with fresh storage. */
export async function startTestServer(
  backend: Backend,
  env: Record<string, string> = {},
): Promise<TestServer> {
  const storage = createTestStorage(backend);
  const apiKey = `oc_test_${Math.random().toString(36).slice(2)}`;
  const config = resolveConfig(
    { host: "127.0.0.1", port: "0", data: storage.dataDir, databaseUrl: storage.databaseUrl },
    { ...env, OPENCONVAI_BOOTSTRAP_KEY: apiKey },
  );
  const server = await startServer(config, pino({ level: "silent" }));
  const client = new ElevenLabsClient({ apiKey, baseUrl: server.url, maxRetries: 0 });
  return {
    url: server.url,
    apiKey,
    client,
    server,
    storage,
    fetch: (pathAndQuery, init = {}) =>
      fetch(`${server.url}${pathAndQuery}`, {
        ...init,
        headers: { "xi-api-key": apiKey, ...(init.headers as Record<string, string> | undefined) },
      }),
    stop: async () => {
      await server.stop();
      await storage.cleanup();
    },
  };
}
