/**
 * One track of a recording: 16-bit PCM kept as a sparse list of fixed-size `Int16Array`
 * segments (one second each), allocated only where audio is written, never past a cap. Long
 * silences before or between the audio cost nothing, and memory grows in 32 KB steps at 16 kHz.
 */

import type { TrackSegments } from "./track-segments.js";

/** Seconds of audio per segment. */
export const SEGMENT_SECONDS = 1;

/** A bounded, segmented PCM track; positions are sample indexes from the call's start. */
export class TrackBuffer {
  private readonly segments: (Int16Array | undefined)[] = [];
  /** The lowest position holding kept audio (Infinity when empty). */
  private start = Number.POSITIVE_INFINITY;
  /** One past the highest position holding kept audio (0 when empty). */
  end = 0;

  constructor(
    private readonly segmentSamples: number,
    private readonly maxSamples: number,
  ) {}

  /** Writes `samples` from `position` on, replacing what was there; returns how many were dropped. */
  write(position: number, samples: Int16Array): number {
    const from = Math.max(0, position);
    const to = Math.min(this.maxSamples, position + samples.length);
    if (to <= from) return samples.length;
    let at = from;
    while (at < to) {
      const index = Math.floor(at / this.segmentSamples);
      const offset = at - index * this.segmentSamples;
      const count = Math.min(to - at, this.segmentSamples - offset);
      const segment = this.segment(index);
      segment.set(samples.subarray(at - position, at - position + count), offset);
      at += count;
    }
    this.start = Math.min(this.start, from);
    this.end = Math.max(this.end, to);
    return samples.length - (to - from);
  }

  /** Drops everything from `position` on: whole segments are freed, a partial one zeroed. */
  clearFrom(position: number): void {
    if (position >= this.end) return;
    if (position <= this.start) {
      this.segments.length = 0;
      this.start = Number.POSITIVE_INFINITY;
      this.end = 0;
      return;
    }
    const first = Math.ceil(position / this.segmentSamples);
    const partial = this.segments[first - 1];
    if (partial && position % this.segmentSamples !== 0) partial.fill(0, position % this.segmentSamples);
    this.segments.length = Math.min(this.segments.length, first);
    this.end = position;
  }

  /** The bytes of PCM held. */
  get bytesHeld(): number {
    let count = 0;
    for (const segment of this.segments) if (segment) count += segment.byteLength;
    return count;
  }

  /** The written segments, by reference (the track keeps them). */
  view(): TrackSegments {
    const segments: TrackSegments["segments"] = [];
    this.segments.forEach((samples, index) => {
      if (samples) segments.push({ index, samples });
    });
    return { segmentSamples: this.segmentSamples, end: this.end, segments };
  }

  /** Hands the written segments over and empties the track. */
  take(): TrackSegments {
    const taken = this.view();
    this.segments.length = 0;
    this.start = Number.POSITIVE_INFINITY;
    this.end = 0;
    return taken;
  }

  private segment(index: number): Int16Array {
    let segment = this.segments[index];
    if (!segment) {
      segment = new Int16Array(this.segmentSamples);
      this.segments[index] = segment;
    }
    return segment;
  }
}
