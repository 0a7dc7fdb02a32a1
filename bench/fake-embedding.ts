/** Dimensions of the benchmark's toy embeddings. */
export const FAKE_EMBEDDING_DIMENSIONS = 64;

/**
 * A deterministic toy embedding: the text's words (lowercased runs of letters and digits) hashed
 * into 64 buckets, L2-normalised. Texts that share words point the same way. The bench's embeddings
 * server answers with it, and the bench computes the same vectors in process to seed the database
 * and to find the exact nearest neighbours.
 */
export function fakeEmbedding(text: string): Float32Array {
  const vector = new Float32Array(FAKE_EMBEDDING_DIMENSIONS);
  for (const word of text.toLowerCase().match(/[\p{L}\p{N}]+/gu) ?? []) {
    let h = 7;
    for (let i = 0; i < word.length; i++) h = (h * 31 + word.charCodeAt(i)) % FAKE_EMBEDDING_DIMENSIONS;
    vector[h] = (vector[h] as number) + 1;
  }
  let norm = 0;
  for (const v of vector) norm += v * v;
  if (norm === 0) {
    // No words: a fixed direction rather than a zero vector (which has no direction).
    vector[0] = 1;
    return vector;
  }
  const scale = 1 / Math.sqrt(norm);
  for (let i = 0; i < vector.length; i++) vector[i] = (vector[i] as number) * scale;
  return vector;
}
