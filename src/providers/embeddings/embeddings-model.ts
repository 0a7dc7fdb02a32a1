/** Most texts passed to one `embed` call. */
export const MAX_EMBEDDING_BATCH = 64;

/** Turns texts into vectors: what semantic search and the embedding indexer ask of a provider. */
export interface EmbeddingsModel {
  /** The model vectors are made with (stored with them, so a model change re-embeds). */
  readonly model: string;
  /**
   * Embeds up to MAX_EMBEDDING_BATCH texts; vectors come back in the order of the texts, unit
   * length, so a dot product is their cosine. A failed call throws a ProviderError.
   */
  embed(texts: readonly string[]): Promise<Float32Array[]>;
}
