import type { StreamingChatModel } from "../providers/llm/streaming-chat-model.js";
import { ProviderError, ProviderTimeoutError } from "../providers/provider-error.js";
import { type Brain, type BrainContext, BrainError, type BrainOutput } from "./brain.js";
import { buildChatRequest } from "./llm-request.js";

/** How an LlmBrain picks its model. */
export interface LlmBrainOptions {
  /**
   * An agent's `prompt.llm` → the model asked instead (`OPENCONVAI_LLM_MODEL_MAP`); an agent
   * whose `prompt.llm` is not in it gets the provider's configured model.
   */
  modelMap?: ReadonlyMap<string, string>;
}

/**
 * The model-backed agent: it opens with the agent's first message and answers with a streamed
 * chat completion of the agent's prompt (contextual updates added as background), the
 * transcript with its tool calls and results, and the agent's tools. A provider failure throws
 * a BrainError (`llm_timeout` when a time limit passed, else `llm_error`) whose message names no
 * prompt, key or provider detail (the ProviderError is its cause). When `signal` aborts, the
 * HTTP stream is closed and the response ends without an error.
 */
export class LlmBrain implements Brain {
  private readonly modelMap: ReadonlyMap<string, string>;

  constructor(
    private readonly model: StreamingChatModel,
    options: LlmBrainOptions = {},
  ) {
    this.modelMap = options.modelMap ?? new Map();
  }

  /** The agent's first message, its variables filled. */
  openingMessage(context: BrainContext): string {
    return context.firstMessage;
  }

  /** Streams the model's response as text, tool calls and usage, in the order they come. */
  async *respond(context: BrainContext, signal: AbortSignal): AsyncIterable<BrainOutput> {
    if (signal.aborted) return;
    const request = buildChatRequest(context, this.modelMap);
    try {
      for await (const chunk of this.model.streamChat(request, signal)) {
        if (signal.aborted) return;
        if (chunk.type === "text") yield { type: "text", text: chunk.text };
        else if (chunk.type === "tool_call") {
          yield {
            type: "tool_call",
            toolCallId: chunk.toolCall.id,
            toolName: chunk.toolCall.name,
            parameters: chunk.toolCall.arguments,
          };
        } else {
          yield {
            type: "usage",
            usage: {
              model: chunk.usage.model,
              inputTokens: chunk.usage.promptTokens,
              outputTokens: chunk.usage.completionTokens,
            },
          };
        }
      }
    } catch (error) {
      if (signal.aborted) return;
      if (error instanceof ProviderTimeoutError) {
        throw new BrainError("The language model did not answer in time.", "llm_timeout", { cause: error });
      }
      if (error instanceof ProviderError) {
        throw new BrainError("The language model could not answer.", "llm_error", { cause: error });
      }
      throw error;
    }
  }
}
