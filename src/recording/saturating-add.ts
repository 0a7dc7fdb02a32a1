/**
 * Sample-wise addition of 16-bit PCM that saturates at the 16-bit limits. A plain store into an
 * `Int16Array` wraps (32767 + 1 becomes −32768), which turns a loud overlap into full-scale
 * noise; saturating turns it into ordinary clipping.
 */

/** Adds `source` into `target` from `targetOffset` on, clamping each sum to −32768…32767. */
export function addSaturating(target: Int16Array, source: Int16Array, targetOffset = 0): void {
  const count = Math.min(source.length, target.length - targetOffset);
  for (let i = 0; i < count; i++) {
    const sum = (target[targetOffset + i] as number) + (source[i] as number);
    target[targetOffset + i] = Math.min(32767, Math.max(-32768, sum));
  }
}
