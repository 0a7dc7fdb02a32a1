/**
 * Encodes a live call's recording for storage: the mix of both speakers, and each speaker's track
 * on its own when that speaker was heard. The MP3 encodes (and the mix) run in the recording
 * module's worker thread; the event loop only copies a speaker's track into one buffer before it
 * is handed over (a memory copy, a few ms per 5 minutes of call).
 */
import type { CallRecording } from "../recording/call-recording.js";
import { mixTracks } from "../recording/mixdown.js";
import { encodeMp3, encodeRecordingMp3 } from "../recording/mp3-encoder.js";

/** A call's recording as MP3: the mix, and each speaker's track when that speaker was heard. */
export interface EncodedRecording {
  mix: Uint8Array;
  user: Uint8Array | undefined;
  agent: Uint8Array | undefined;
}

/**
 * Encodes the tracks one at a time (one worker busy at once, one track's copy held at once), then
 * the mix, which takes the recording's audio: the recording is empty afterwards. Rejects with the
 * signal's reason when it is aborted between encodes, and with the encoder's error otherwise.
 */
export async function encodeCallRecording(
  recording: CallRecording,
  signal?: AbortSignal,
): Promise<EncodedRecording> {
  signal?.throwIfAborted();
  const user = recording.hasUser ? await encodeTrack(recording, "user") : undefined;
  signal?.throwIfAborted();
  const agent = recording.hasAgent ? await encodeTrack(recording, "agent") : undefined;
  signal?.throwIfAborted();
  const { mp3: mix } = await encodeRecordingMp3(recording, "mix");
  signal?.throwIfAborted();
  return { mix, user, agent };
}

/**
 * One speaker's track over the whole call (silence where they did not speak, so it lines up with
 * the mix), encoded in the worker. The copy owns its buffer, which moves to the worker uncopied.
 */
async function encodeTrack(recording: CallRecording, track: "user" | "agent"): Promise<Uint8Array> {
  return encodeMp3(mixTracks(recording.viewTracks(), track), recording.sampleRate);
}
