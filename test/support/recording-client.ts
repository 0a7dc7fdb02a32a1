import { ElevenLabsClient } from "@elevenlabs/elevenlabs-js";
import type { TestServer } from "./test-server.js";

/** An SDK client that also keeps the raw JSON body of the last response it parsed. */
export interface RecordingClient {
  client: ElevenLabsClient;
  /** The last JSON response body, exactly as the server sent it (parsed, not yet mapped by the SDK). */
  lastBody(): unknown;
}

/**
 * Builds an SDK client for a test server whose fetch keeps a copy of every JSON body, so a test
 * can both let the SDK parse a response and check the wire body against the upstream schema.
 */
export function createRecordingClient(server: TestServer, apiKey: string = server.apiKey): RecordingClient {
  let last: unknown;
  const recordingFetch: typeof fetch = async (input, init) => {
    const response = await fetch(input, init);
    last = undefined;
    if ((response.headers.get("content-type") ?? "").includes("json")) {
      const text = await response.clone().text();
      last = text.length > 0 ? JSON.parse(text) : undefined;
    }
    return response;
  };
  return {
    client: new ElevenLabsClient({ apiKey, baseUrl: server.url, maxRetries: 0, fetch: recordingFetch }),
    lastBody: () => last,
  };
}
