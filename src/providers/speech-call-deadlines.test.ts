import { describe, expect, it } from "vitest";
import { ProviderError } from "./provider-error.js";
import { SpeechCallDeadlines } from "./speech-call-deadlines.js";

const NAMES = { provider: "text-to-speech (TTS)", firstByteSetting: "FIRST", totalSetting: "TOTAL" };

/** The message `failure` builds for `error` while no limit has passed. */
function failureMessage(error: unknown): string {
  const deadlines = new SpeechCallDeadlines(undefined, 60_000, 60_000, NAMES);
  try {
    const failure = deadlines.failure(error, "The provider could not be reached");
    expect(failure).toBeInstanceOf(ProviderError);
    return (failure as ProviderError).message;
  } finally {
    deadlines.dispose();
  }
}

describe("SpeechCallDeadlines.failure", () => {
  it("names the error code of the error or of its cause", () => {
    const refused = Object.assign(new Error("connect ECONNREFUSED 10.0.0.1:443"), { code: "ECONNREFUSED" });
    expect(failureMessage(new TypeError("fetch failed", { cause: refused }))).toBe(
      "The provider could not be reached (ECONNREFUSED).",
    );
    const reset = Object.assign(new Error("read ECONNRESET https://host/v1"), { code: "ECONNRESET" });
    expect(failureMessage(reset)).toBe("The provider could not be reached (ECONNRESET).");
  });

  it("never copies a message that may hold a URL or a secret", () => {
    const leaky = new TypeError(
      "Request cannot be constructed from a URL that includes credentials: https://apikey:sk-live-SECRET@tts.example.com/v1/audio/speech",
    );
    const message = failureMessage(leaky);
    expect(message).not.toContain("SECRET");
    expect(message).not.toContain("tts.example.com");
    expect(message).toBe("The provider could not be reached (TypeError).");
  });

  it("keeps a short plain message without a code", () => {
    expect(failureMessage(new Error("terminated"))).toBe("The provider could not be reached (terminated).");
    expect(failureMessage(undefined)).toBe("The provider could not be reached (unknown error).");
  });
});
