/**
 * The audio a conversation has in the blob store: one recording (`GET …/audio` serves it) and,
 * for a recording of a live call, each speaker's track on its own.
 */
import type { AudioFlags } from "../domain/stored-document.js";

/** A speaker whose track of a live call's recording is kept on its own. */
export type SpeakerTrack = "user" | "agent";

/** The speakers whose tracks can be asked for, in the order they are stored. */
export const SPEAKER_TRACKS: readonly SpeakerTrack[] = ["user", "agent"];

/** One speaker's track in the blob store; always MP3 (only a live call's recording has tracks). */
export interface TrackBlob {
  blobKey: string;
  size: number;
}

/** The content type of a live call's recording and of every speaker track (MP3). */
export const MP3_CONTENT_TYPE = "audio/mpeg";

/** The audio recording a conversation has in the blob store. */
export interface AudioInfo {
  blobKey: string;
  contentType: string;
  size: number;
  /**
   * Each speaker's track, when the recording is a live call's (`putRecording`) and that speaker
   * spoke; absent for audio that arrived as one file. Replacing the recording replaces these too.
   */
  tracks?: Partial<Record<SpeakerTrack, TrackBlob>>;
}

/** Every blob key the audio names: the recording's, then its tracks'. */
export function audioBlobKeys(audio: AudioInfo): string[] {
  const keys = [audio.blobKey];
  for (const track of SPEAKER_TRACKS) {
    const blob = audio.tracks?.[track];
    if (blob) keys.push(blob.blobKey);
  }
  return keys;
}

/** The served `has_*` flags of a conversation holding this audio (or none). */
export function audioFlagsOf(audio: AudioInfo | null): AudioFlags {
  return {
    hasAudio: audio !== null,
    hasUserAudio: audio?.tracks?.user !== undefined,
    hasResponseAudio: audio?.tracks?.agent !== undefined,
  };
}
