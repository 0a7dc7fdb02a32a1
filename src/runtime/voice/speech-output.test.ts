import { describe, expect, it } from "vitest";
import { decodeToPcm } from "../../audio/audio-codec.js";
import { getAudioFormat } from "../../audio/audio-format.js";
import type { TextToSpeech } from "../../providers/tts/text-to-speech.js";
import { CallRecording } from "../../recording/call-recording.js";
import type { AudioAlignment } from "./alignment.js";
import { AUDIO_CHUNK_MS, SpeechError, SpeechOutput } from "./speech-output.js";

interface Sent {
  bytes: Uint8Array;
  eventId: number;
  alignment: AudioAlignment;
}

function outputWith(format = getAudioFormat("pcm_16000"), tts?: TextToSpeech) {
  const sent: Sent[] = [];
  let now = 0;
  const recording = new CallRecording();
  const output = new SpeechOutput({
    format,
    voiceId: "v",
    ...(tts ? { tts } : {}),
    sendAudio: (audio, eventId, alignment) =>
      sent.push({ bytes: Buffer.from(audio, "base64"), eventId, alignment }),
    nowMs: () => now,
    recording,
  });
  return { output, sent, recording, at: (ms: number) => (now = ms) };
}

const spelled = (sent: Sent[]) => sent.map((s) => s.alignment.chars.join("")).join("");

describe("SpeechOutput", () => {
  it("speaks each sentence as it completes, in 100 ms events that spell the reply", async () => {
    const { output, sent } = outputWith();
    output.begin(7);
    output.text("Hello there. How");
    expect(sent.length).toBe(0); // "Hello there." waits for the next word to be sure it ended
    output.text(" are you?");
    await new Promise((resolve) => setImmediate(resolve));
    expect(spelled(sent)).toBe("Hello there.");
    await output.finish();
    expect(spelled(sent)).toBe("Hello there. How are you?");
    expect(sent.every((s) => s.eventId === 7)).toBe(true);
    expect(sent[0]?.bytes.length).toBe((16_000 * AUDIO_CHUNK_MS * 2) / 1000);
    for (const s of sent) expect(s.bytes.length % 2).toBe(0);
  });

  it("says how much of the reply was heard when interrupted, and cuts the recording there", async () => {
    const { output, sent, recording, at } = outputWith(getAudioFormat("ulaw_8000"));
    output.begin(1);
    output.text("one two three four five six seven eight.");
    await output.finish();
    expect(decodeToPcm(getAudioFormat("ulaw_8000"), sent[0]?.bytes ?? new Uint8Array()).length).toBe(800);
    at(700);
    const cut = output.interrupt(700);
    expect(cut.heardText).toMatch(/^one two/);
    expect(cut.heardText.length).toBeLessThan(cut.fullText.length);
    expect(cut.fullText).toBe("one two three four five six seven eight.");
    expect(output.playingAt(701)).toBe(false);
    expect(recording.durationMs).toBeLessThanOrEqual(701);
  });

  it("counts only the new reply's text when an earlier one was still playing", async () => {
    const { output, at } = outputWith();
    output.begin(1);
    output.text("First reply here.");
    await output.finish();
    at(200);
    output.begin(2);
    output.text("Second one.");
    await output.finish();
    const cut = output.interrupt(200 + 17 * 65 + 300);
    expect(cut.fullText).toBe("Second one.");
    expect(cut.heardText).toBe("Second");
  });

  it("reports a provider failure as a SpeechError, and sends nothing after an interruption", async () => {
    const failing: TextToSpeech = {
      // biome-ignore lint/correctness/useYield: it fails before the first chunk
      async *synthesize() {
        throw new Error("voice not found");
      },
    };
    const { output } = outputWith(undefined, failing);
    output.begin(1);
    output.text("Hello.");
    await expect(output.finish()).rejects.toBeInstanceOf(SpeechError);
    const { output: quiet, sent } = outputWith();
    quiet.begin(1);
    quiet.interrupt(0);
    quiet.text("Never said. At all.");
    await quiet.finish();
    expect(sent).toHaveLength(0);
  });
});
