import { describe, expect, it } from "vitest";
import { type AudioFlags, renderStoredBytes, renderStoredDocument } from "./stored-document.js";

const JSON_TEXT = '{"conversation_id":"c1","status":"done"}';

const COMBINATIONS: AudioFlags[] = [false, true].flatMap((hasAudio) =>
  [false, true].flatMap((hasUserAudio) =>
    [false, true].map((hasResponseAudio) => ({ hasAudio, hasUserAudio, hasResponseAudio })),
  ),
);

describe("the served has_* keys", () => {
  it.each(COMBINATIONS)("renders %o the same from text and from bytes", (flags) => {
    const text = renderStoredDocument(JSON_TEXT, flags);
    expect(renderStoredBytes(Buffer.from(JSON_TEXT), flags).toString("utf8")).toBe(text);
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
    expect(
      JSON.parse(renderStoredBytes(Buffer.from(JSON_TEXT), { hasAudio: true }).toString()),
    ).toMatchObject({
      has_audio: true,
      has_user_audio: false,
      has_response_audio: false,
    });
  });
});
