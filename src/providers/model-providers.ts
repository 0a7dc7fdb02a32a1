import type { AiConfig } from "../config/ai-config.js";
import { OpenAiCompatibleSpeechToText } from "./asr/openai-compatible/openai-compatible-speech-to-text.js";
import type { SpeechToText } from "./asr/speech-to-text.js";
import type { EmbeddingsModel } from "./embeddings/embeddings-model.js";
import { OpenAiCompatibleEmbeddingsModel } from "./embeddings/openai-compatible/openai-compatible-embeddings-model.js";
import type { ChatModel } from "./llm/chat-model.js";
import { OpenAiCompatibleChatModel } from "./llm/openai-compatible/openai-compatible-chat-model.js";
import { OpenAiCompatibleStreamingChatModel } from "./llm/openai-compatible/openai-compatible-streaming-chat-model.js";
import type { StreamingChatModel } from "./llm/streaming-chat-model.js";
import { OpenAiCompatibleTextToSpeech } from "./tts/openai-compatible/openai-compatible-text-to-speech.js";
import type { TextToSpeech } from "./tts/text-to-speech.js";

/** The configured model providers, by kind; a kind that is not configured is undefined. */
export interface ModelProviders {
  /** Set when an embeddings provider is configured: semantic search and the indexer run. */
  embeddings: EmbeddingsModel | undefined;
  /** Set when a chat model is configured: analysis runs. */
  llm: ChatModel | undefined;
  /** Set when a chat model is configured: live conversations' agents speak with it (same provider as `llm`). */
  chat: StreamingChatModel | undefined;
  /** Set when a speech-to-text provider is configured (`OPENCONVAI_ASR_BASE_URL`): live conversations hear the user with it. */
  speechToText?: SpeechToText | undefined;
  /** Set when a text-to-speech provider is configured (`OPENCONVAI_TTS_BASE_URL`): live conversations' agents speak with it. */
  textToSpeech?: TextToSpeech | undefined;
}

/** Builds the providers a configuration names (every one speaks the OpenAI-compatible HTTP API today). */
export function createModelProviders(config: AiConfig): ModelProviders {
  return {
    embeddings: config.embeddings ? new OpenAiCompatibleEmbeddingsModel(config.embeddings) : undefined,
    llm: config.llm ? new OpenAiCompatibleChatModel(config.llm) : undefined,
    chat: config.llm ? new OpenAiCompatibleStreamingChatModel(config.llm) : undefined,
    speechToText: config.asr ? new OpenAiCompatibleSpeechToText(config.asr) : undefined,
    textToSpeech: config.tts ? new OpenAiCompatibleTextToSpeech(config.tts) : undefined,
  };
}
