/**
 * Renders a recording as one mono PCM buffer: one track, or both summed. The sum saturates at
 * the 16-bit limits (`saturating-add.ts`), so loud overlaps clip rather than wrap.
 */

import type { CallRecording } from "./call-recording.js";
import { type RecordingTracks, renderTrack } from "./track-segments.js";

/** What to render: the user track, the agent track, or both mixed. */
export type MixdownTrack = "mix" | "user" | "agent";

/**
 * The recording as a new `Int16Array` of `recording.durationSamples` samples at
 * `recording.sampleRate` (silence where nothing was written). The array owns its buffer, so it
 * can be handed to `encodeMp3` without a copy. This runs on the calling thread (about 20 ms per
 * 5 minutes for "mix"); `encodeRecordingMp3` mixes in the encoder's thread instead.
 */
export function mixdown(recording: CallRecording, track: MixdownTrack): Int16Array {
  return mixTracks(recording.viewTracks(), track);
}

/** `mixdown` over tracks as plain data (`CallRecording.viewTracks` / `takeTracks`). */
export function mixTracks(tracks: RecordingTracks, track: MixdownTrack): Int16Array {
  const out = new Int16Array(tracks.durationSamples);
  if (track !== "agent") renderTrack(out, tracks.user, false);
  if (track !== "user") renderTrack(out, tracks.agent, track === "mix");
  return out;
}
