/** Test signals for the recording suites: tones and energy measured over windows. */

/** A sine tone of `seconds` at `rate`, peak `amplitude`. */
export function tone(hz: number, seconds: number, rate: number, amplitude = 8000): Int16Array {
  const out = new Int16Array(Math.round(seconds * rate));
  for (let i = 0; i < out.length; i++)
    out[i] = Math.round(amplitude * Math.sin((2 * Math.PI * hz * i) / rate));
  return out;
}

/** The root-mean-square level of `samples` between two times in seconds. */
export function rms(samples: ArrayLike<number>, rate: number, fromSec: number, toSec: number): number {
  const from = Math.max(0, Math.round(fromSec * rate));
  const to = Math.min(samples.length, Math.round(toSec * rate));
  if (to <= from) return 0;
  let sum = 0;
  for (let i = from; i < to; i++) sum += (samples[i] as number) ** 2;
  return Math.sqrt(sum / (to - from));
}
