/**
 * What a voice session reads from its agent (with the client's allowed overrides merged in): the
 * audio formats of both directions, the voice, the silence that ends a user's turn, and whether
 * the call is recorded. Text sessions read it too and ignore it.
 */
import { type AudioFormat, getAudioFormat, parseAudioFormat } from "../../audio/audio-format.js";
import { silenceWindowForEagerness } from "./turn-detector.js";

type Json = Record<string, unknown>;

/** The format both directions use when the agent names none (upstream's default). */
export const DEFAULT_AUDIO_FORMAT = "pcm_16000";

/** A voice session's settings. */
export interface VoiceSettings {
  /** `asr.user_input_audio_format`: what the client's `user_audio_chunk`s hold. */
  inputFormat: AudioFormat;
  /** `tts.agent_output_audio_format`: what the server's `audio` events hold. */
  outputFormat: AudioFormat;
  /** `tts.voice_id`, passed to the TTS provider as its voice ("" when the agent names none). */
  voiceId: string;
  /** The silence (ms) after the user's last speech that ends their turn, from `turn.turn_eagerness`. */
  silenceWindowMs: number;
  /** `platform_settings.privacy.record_voice` is not `false`: the call's audio is kept. */
  recordVoice: boolean;
}

const isObject = (value: unknown): value is Json =>
  typeof value === "object" && value !== null && !Array.isArray(value);

function valueAt(root: unknown, ...path: string[]): unknown {
  let node = root;
  for (const key of path) {
    if (!isObject(node) || !Object.hasOwn(node, key)) return undefined;
    node = node[key];
  }
  return node;
}

const FORMAT_NAMES = "pcm_8000, pcm_16000, pcm_22050, pcm_24000, pcm_44100, pcm_48000 or ulaw_8000";

/**
 * Reads one direction's format. A name the client sent (an override) that is not supported is
 * refused; one only the agent has falls back to the default (the agent's settings are not the
 * client's fault, and the metadata frame tells the client which format is used).
 */
function readFormat(config: Json, override: Json | undefined, path: [string, string]): AudioFormat | string {
  const sent = valueAt(override, ...path);
  const value = valueAt(config, ...path);
  if (typeof value === "string") {
    const format = parseAudioFormat(value);
    if (format) return format;
    if (sent !== undefined)
      return `override_error: ${path.join(".")} "${value.slice(0, 20)}" is not supported; use ${FORMAT_NAMES}`;
  }
  return getAudioFormat(DEFAULT_AUDIO_FORMAT);
}

/**
 * The voice settings of a session from the agent's merged `conversation_config`, the client's
 * override (to tell its values from the agent's) and the agent's `platform_settings`; a string is
 * the reason the session is refused.
 */
export function readVoiceSettings(
  config: Json,
  override: Json | undefined,
  platformSettings: Json | null,
): VoiceSettings | string {
  const inputFormat = readFormat(config, override, ["asr", "user_input_audio_format"]);
  if (typeof inputFormat === "string") return inputFormat;
  const outputFormat = readFormat(config, override, ["tts", "agent_output_audio_format"]);
  if (typeof outputFormat === "string") return outputFormat;
  const voiceId = valueAt(config, "tts", "voice_id");
  const eagerness = valueAt(config, "turn", "turn_eagerness");
  return {
    inputFormat,
    outputFormat,
    voiceId: typeof voiceId === "string" ? voiceId : "",
    silenceWindowMs: silenceWindowForEagerness(typeof eagerness === "string" ? eagerness : undefined),
    recordVoice: valueAt(platformSettings, "privacy", "record_voice") !== false,
  };
}
