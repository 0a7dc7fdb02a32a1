import type { ElevenLabs, ElevenLabsClient } from "@elevenlabs/elevenlabs-js";

/**
 * Reads `read` again (every 10 ms) until `done` says yes, and returns that value; after
 * `timeoutMs` it returns the last value read, for the caller's assertion to report. For what a
 * session writes after the client saw something (its end, post-call analysis).
 */
export async function eventually<T>(
  read: () => Promise<T>,
  done: (value: T) => boolean,
  timeoutMs = 10_000,
): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await read();
    if (done(value) || Date.now() > deadline) return value;
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
}

/** GETs a conversation with the SDK (which validates every answer) until `done` holds. */
export function readConversationUntil(
  client: ElevenLabsClient,
  id: string,
  done: (conversation: ElevenLabs.GetConversationResponseModel) => boolean,
): Promise<ElevenLabs.GetConversationResponseModel> {
  return eventually(() => client.conversationalAi.conversations.get(id), done);
}
