import type { LlmConfig } from "../../../config/ai-config.js";
import { postJson } from "../../post-json.js";
import { ProviderError } from "../../provider-error.js";
import type { AnswerSchema, ChatMessage, ChatModel } from "../chat-model.js";

/** Most tokens the model may answer with. */
export const MAX_COMPLETION_TOKENS = 4096;

/** A provider that does not do structured output answers 4xx naming the response format. */
const STRUCTURED_OUTPUT_REFUSED = /HTTP 4\d\d\b[\s\S]*(response_format|json_schema)/i;

/** Asks an OpenAI-compatible `/chat/completions` endpoint for a JSON answer. */
export class OpenAiCompatibleChatModel implements ChatModel {
  constructor(private readonly config: LlmConfig) {}

  /** The model asked. */
  get model(): string {
    return this.config.model;
  }

  /**
   * Sends the messages with structured output on (`response_format: {type: "json_schema"}` with
   * the given schema); a provider that refuses it is asked again with `{type: "json_object"}`
   * (the schema is in the prompt as well). Returns the answer parsed as JSON; a missing or
   * non-JSON answer is a ProviderError.
   */
  async completeJson(messages: readonly ChatMessage[], schema: AnswerSchema): Promise<unknown> {
    const ask = (responseFormat: object) =>
      postJson(
        `${this.config.baseUrl}/chat/completions`,
        {
          model: this.config.model,
          messages,
          temperature: 0,
          max_tokens: MAX_COMPLETION_TOKENS,
          response_format: responseFormat,
        },
        { apiKey: this.config.apiKey, timeoutMs: this.config.timeoutMs, what: "LLM" },
      );
    let answer: unknown;
    try {
      answer = await ask({
        type: "json_schema",
        json_schema: { name: schema.name, schema: schema.schema, strict: false },
      });
    } catch (error) {
      if (!(error instanceof ProviderError) || !STRUCTURED_OUTPUT_REFUSED.test(error.message)) throw error;
      answer = await ask({ type: "json_object" });
    }
    const choice = (answer as { choices?: { message?: { content?: unknown } }[] } | null)?.choices?.[0];
    const content = choice?.message?.content;
    if (typeof content !== "string" || content.trim() === "") {
      throw new ProviderError("The LLM answered no message content.", false);
    }
    // Some models wrap JSON in a Markdown code fence even in JSON mode.
    const text = content
      .trim()
      .replace(/^```(?:json)?\s*/i, "")
      .replace(/\s*```$/, "");
    try {
      return JSON.parse(text) as unknown;
    } catch (error) {
      throw new ProviderError("The LLM's answer is not valid JSON.", false, { cause: error });
    }
  }
}
