import { ElevenLabsError } from "@elevenlabs/elevenlabs-js";

/** Runs an SDK call that must fail, and returns the ElevenLabsError it threw (status, body, headers). */
export async function catchSdkError(call: () => Promise<unknown>): Promise<ElevenLabsError> {
  try {
    await call();
  } catch (error) {
    if (error instanceof ElevenLabsError) return error;
    throw error;
  }
  throw new Error("the SDK call succeeded, but it was expected to fail");
}
