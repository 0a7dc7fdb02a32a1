/**
 * A streaming sample-rate converter for 16-bit mono PCM, by linear interpolation.
 *
 * Streaming: the resampler keeps its read position (an exact fraction, so it never drifts) and the
 * last input sample across `push` calls, so cutting the input into chunks of any size gives the
 * same output, sample for sample, as pushing it whole: no clicks or gaps at chunk boundaries.
 *
 * Trade-off: linear interpolation is cheap (a multiply-add per output sample, no latency, no
 * look-ahead) and plenty for speech going to ASR or to a phone line, but it is a weak low-pass
 * filter. Upsampling softens the highest frequencies a little; downsampling does not remove what
 * lies above the new Nyquist frequency, so e.g. 8–12 kHz content at 24 kHz folds back into a
 * 16 kHz output as faint aliasing. Speech carries little energy there. If music or wide-band
 * fidelity ever matters, replace the body with a windowed-sinc/polyphase filter behind the same
 * interface.
 */

/** A stateful converter from one sample rate to another. */
export interface Resampler {
  /**
   * Converts the next chunk of the stream; the result may be empty when the chunk is short. It is
   * written into `into` when that is given and long enough for any output of the chunk (the
   * result is then a view of it), else into a new array; the identity returns `samples` itself.
   */
  push(samples: Int16Array, into?: Int16Array): Int16Array;
  /**
   * Ends the stream: returns the samples still owed (the tail held back for interpolation), so
   * the whole output has round(input length × to / from) samples (±1 for very short streams).
   * The resampler then starts a new stream.
   */
  flush(): Int16Array;
}

/** The highest sample rate accepted (well above any session format). */
export const MAX_SAMPLE_RATE = 384_000;

const EMPTY = new Int16Array(0);

function greatestCommonDivisor(a: number, b: number): number {
  while (b !== 0) [a, b] = [b, a % b];
  return a;
}

function checkRate(label: string, rate: number): void {
  if (!Number.isInteger(rate) || rate <= 0 || rate > MAX_SAMPLE_RATE) {
    throw new RangeError(
      `${label} must be a whole number of Hz between 1 and ${MAX_SAMPLE_RATE}, got ${rate}; pass a format's sampleRate.`,
    );
  }
}

/**
 * A resampler from `fromRate` to `toRate` Hz. When the rates are equal it is the identity: `push`
 * returns the very array it was given (no copy) and `flush` returns nothing.
 */
export function createResampler(fromRate: number, toRate: number): Resampler {
  checkRate("fromRate", fromRate);
  checkRate("toRate", toRate);
  if (fromRate === toRate) return { push: (samples) => samples, flush: () => EMPTY };

  // Output sample k sits at input position k × from / to. With the ratio reduced, that position is
  // tracked exactly as an integer index plus a remainder in [0, to).
  const divisor = greatestCommonDivisor(fromRate, toRate);
  const from = fromRate / divisor;
  const to = toRate / divisor;

  let last = 0; // the last sample of the previous chunk, read at index -1
  let index = 0; // integer part of the next output's position, relative to the next chunk (≥ -1)
  let remainder = 0; // fractional part of that position, in units of 1/to
  let received = 0; // input samples in this stream
  let emitted = 0; // output samples in this stream

  return {
    push(samples, into) {
      const n = samples.length;
      if (n === 0) return EMPTY;
      const at = (i: number): number => (i < 0 ? last : (samples[i] as number));
      const most = Math.ceil(((n + 1) * to) / from) + 1;
      const out = into && into.length >= most ? into : new Int16Array(most);
      let count = 0;
      // An output needs the sample at `index`, and the next one too when it falls between two.
      while ((remainder === 0 ? index : index + 1) < n) {
        const a = at(index);
        out[count++] = remainder === 0 ? a : Math.round(a + ((at(index + 1) - a) * remainder) / to);
        remainder += from;
        index += Math.floor(remainder / to);
        remainder %= to;
      }
      last = samples[n - 1] as number;
      index -= n;
      received += n;
      emitted += count;
      return out.subarray(0, count);
    },
    flush() {
      const owed = Math.round((received * to) / from) - emitted;
      // What is owed lies past the last input sample (or between it and a sample that never
      // came): hold the last value rather than invent one.
      const tail = owed > 0 ? new Int16Array(owed).fill(last) : EMPTY;
      last = 0;
      index = 0;
      remainder = 0;
      received = 0;
      emitted = 0;
      return tail;
    },
  };
}

/**
 * Converts a whole signal that arrived in pieces (a synthesis as it streamed) into one array: the
 * pieces are not joined first, and each one's output is written in place, so a sentence of speech
 * costs one new array rather than three (see docs/design-notes.md, "Memory outside the heap").
 * The result may be a view of a slightly longer array; with equal rates and a single piece, it is
 * that piece.
 */
export function resamplePieces(pieces: readonly Int16Array[], fromRate: number, toRate: number): Int16Array {
  let total = 0;
  for (const piece of pieces) total += piece.length;
  if (fromRate === toRate) {
    if (pieces.length === 1) return pieces[0] as Int16Array;
    const joined = new Int16Array(total);
    let at = 0;
    for (const piece of pieces) {
      joined.set(piece, at);
      at += piece.length;
    }
    return joined;
  }
  const resampler = createResampler(fromRate, toRate);
  // Room for the most any push can write (as `push` reckons it), plus the flushed tail.
  let room = Math.round((total * toRate) / fromRate) + 1;
  for (const piece of pieces) room += Math.ceil(((piece.length + 1) * toRate) / fromRate) + 2;
  const out = new Int16Array(room);
  let at = 0;
  for (const piece of pieces) {
    const part = resampler.push(piece, out.subarray(at));
    if (part.buffer !== out.buffer) out.set(part, at);
    at += part.length;
  }
  const tail = resampler.flush();
  out.set(tail, at);
  return out.subarray(0, at + tail.length);
}
