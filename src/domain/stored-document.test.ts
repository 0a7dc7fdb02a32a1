import { describe, expect, it } from "vitest";
import { type AudioFlags, renderStoredDocument, SERVED_TAILS } from "./stored-document.js";

const JSON_TEXT = '{"conversation_id":"c1","status":"done"}';

const COMBINATIONS: AudioFlags[] = [false, true].flatMap((hasAudio) =>
  [false, true].flatMap((hasUserAudio) =>
    [false, true].map((hasResponseAudio) => ({ hasAudio, hasUserAudio, hasResponseAudio })),
  ),
);

describe("the served has_* keys", () => {
  it.each(COMBINATIONS)("renders %o, and the served tail of its index is the same text", (flags) => {
    const text = renderStoredDocument(JSON_TEXT, flags);
    const index = (flags.hasAudio ? 4 : 0) + (flags.hasUserAudio ? 2 : 0) + (flags.hasResponseAudio ? 1 : 0);
    expect(JSON_TEXT.slice(0, -1) + SERVED_TAILS[index]).toBe(text);
    expect(JSON.parse(text)).toEqual({
      conversation_id: "c1",
      status: "done",
      has_audio: flags.hasAudio,
      has_user_audio: flags.hasUserAudio,
      has_response_audio: flags.hasResponseAudio,
      has_auxiliary_audio: false,
    });
  });

  it("reads missing speaker flags as false (audio that arrived as one file)", () => {
    expect(JSON.parse(renderStoredDocument(JSON_TEXT, { hasAudio: true }))).toMatchObject({
      has_audio: true,
      has_user_audio: false,
      has_response_audio: false,
    });
  });

  it("serves an empty stored object with the keys alone", () => {
    expect(JSON.parse(renderStoredDocument("{}", { hasAudio: false }))).toEqual({
      has_audio: false,
      has_user_audio: false,
      has_response_audio: false,
      has_auxiliary_audio: false,
    });
  });
});
