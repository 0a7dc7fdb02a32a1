/**
 * Writes an encoded call recording to the blob store: the mix and each speaker's track under new
 * keys of their own in the conversation's audio folder, and says what was written as the
 * `AudioInfo` a row records. If a write fails, the blobs already written are deleted.
 */
import { newAudioBlobKey, newTrackBlobKey } from "../blobs/blob-keys.js";
import type { BlobStore } from "../blobs/blob-store.js";
import { type AudioInfo, MP3_CONTENT_TYPE, SPEAKER_TRACKS } from "../store/audio-info.js";
import type { EncodedRecording } from "./encode-call-recording.js";

/** Stores the mix and the tracks present; returns them as a row's audio. Nothing is kept on failure. */
export async function storeRecordingBlobs(
  blobs: BlobStore,
  conversationId: string,
  encoded: EncodedRecording,
): Promise<AudioInfo> {
  const written: string[] = [];
  const put = async (key: string, bytes: Uint8Array): Promise<number> => {
    written.push(key);
    return blobs.put(key, Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength));
  };
  try {
    const blobKey = newAudioBlobKey(conversationId);
    const audio: AudioInfo = {
      blobKey,
      contentType: MP3_CONTENT_TYPE,
      size: await put(blobKey, encoded.mix),
    };
    for (const track of SPEAKER_TRACKS) {
      const bytes = encoded[track];
      if (!bytes) continue;
      const key = newTrackBlobKey(conversationId, track);
      audio.tracks = { ...audio.tracks, [track]: { blobKey: key, size: await put(key, bytes) } };
    }
    return audio;
  } catch (error) {
    // A failed put leaves nothing at its key (BlobStore.put is atomic); the others go.
    for (const key of written) await blobs.delete(key).catch(() => undefined);
    throw error;
  }
}
