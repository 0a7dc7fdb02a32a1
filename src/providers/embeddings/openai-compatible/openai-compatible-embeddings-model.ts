import type { EmbeddingsConfig } from "../../../config/ai-config.js";
import { postJson } from "../../post-json.js";
import { ProviderError } from "../../provider-error.js";
import { type EmbeddingsModel, MAX_EMBEDDING_BATCH } from "../embeddings-model.js";

/** Turns texts into vectors through an OpenAI-compatible `/v1/embeddings` endpoint. */
export class OpenAiCompatibleEmbeddingsModel implements EmbeddingsModel {
  private readonly url: string;

  constructor(private readonly config: EmbeddingsConfig) {
    this.url = /\/embeddings$/.test(config.url) ? config.url : `${config.url}/embeddings`;
  }

  /** The model vectors are made with (stored with them, so a model change re-embeds). */
  get model(): string {
    return this.config.model;
  }

  /** Embeds up to MAX_EMBEDDING_BATCH texts; vectors come back in the order of the texts, unit length. */
  async embed(texts: readonly string[]): Promise<Float32Array[]> {
    if (texts.length === 0) return [];
    if (texts.length > MAX_EMBEDDING_BATCH)
      throw new Error(`at most ${MAX_EMBEDDING_BATCH} texts per request`);
    const answer = await postJson(
      this.url,
      { model: this.config.model, input: texts, encoding_format: "float" },
      { apiKey: this.config.apiKey, timeoutMs: 60_000, what: "embeddings" },
    );
    const data = (answer as { data?: unknown } | null)?.data;
    if (!Array.isArray(data) || data.length !== texts.length) {
      throw new ProviderError(
        `The embeddings provider answered ${Array.isArray(data) ? data.length : "no"} vectors for ${texts.length} texts.`,
        false,
      );
    }
    const vectors: Float32Array[] = new Array(texts.length);
    let dimensions: number | undefined;
    data.forEach((item, position) => {
      const entry = item as { embedding?: unknown; index?: unknown } | null;
      const index = typeof entry?.index === "number" ? entry.index : position;
      const embedding = entry?.embedding;
      if (
        !Array.isArray(embedding) ||
        embedding.length === 0 ||
        !embedding.every((v) => typeof v === "number" && Number.isFinite(v)) ||
        !Number.isInteger(index) ||
        index < 0 ||
        index >= texts.length ||
        (dimensions !== undefined && embedding.length !== dimensions)
      ) {
        throw new ProviderError("The embeddings provider answered a malformed vector.", false);
      }
      dimensions = embedding.length;
      vectors[index] = normalize(Float32Array.from(embedding as number[]));
    });
    if (vectors.some((v) => v === undefined)) {
      throw new ProviderError("The embeddings provider skipped some texts.", false);
    }
    return vectors;
  }
}

/** Scales a vector to unit length (a zero vector stays zero), so a dot product is the cosine. */
function normalize(vector: Float32Array): Float32Array {
  let sum = 0;
  for (const v of vector) sum += v * v;
  const norm = Math.sqrt(sum);
  if (norm > 0) for (let i = 0; i < vector.length; i++) vector[i] = (vector[i] as number) / norm;
  return vector;
}
