/**
 * A track's audio as plain data: the written segments by index. This is what crosses to the
 * encoder's worker thread (the segments' buffers transferred, not copied) and what a mixdown
 * renders from, on either thread.
 */

import { addSaturating } from "./saturating-add.js";

/** One track's written segments; positions are sample indexes from the call's start. */
export interface TrackSegments {
  /** Samples per segment (every segment has this length). */
  segmentSamples: number;
  /** One past the last sample holding kept audio (0 when the track is empty). */
  end: number;
  /** The segments that were written, each starting at `index × segmentSamples`. */
  segments: { index: number; samples: Int16Array }[];
}

/** Both tracks of a recording as plain data. */
export interface RecordingTracks {
  sampleRate: number;
  /** The recording's length in samples: where the later track ends. */
  durationSamples: number;
  user: TrackSegments;
  agent: TrackSegments;
}

/** Copies a track into `out` from position 0 (up to `out.length`), or adds it saturating (`add`). */
export function renderTrack(out: Int16Array, track: TrackSegments, add: boolean): void {
  const limit = Math.min(out.length, track.end);
  for (const { index, samples } of track.segments) {
    const base = index * track.segmentSamples;
    if (base >= limit) continue;
    const count = Math.min(samples.length, limit - base);
    const part = count === samples.length ? samples : samples.subarray(0, count);
    if (add) addSaturating(out, part, base);
    else out.set(part, base);
  }
}
