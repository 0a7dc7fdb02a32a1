/**
 * What the server sends on the agent WebSocket: every server-to-client message the official
 * clients understand, each a `type` plus an object under a type-specific key (snake_case, as on
 * the wire).
 */

/** The audio formats a session can fix for both directions. */
export type AudioFormat =
  | "pcm_8000"
  | "pcm_16000"
  | "pcm_22050"
  | "pcm_24000"
  | "pcm_44100"
  | "pcm_48000"
  | "ulaw_8000";

/** A server-side tool call or its result, as `agent_tool_request` / `agent_tool_response` carry it. */
export interface AgentToolEvent {
  tool_name: string;
  tool_call_id: string;
  tool_type: string;
  event_id: number;
}

/** Every message the server can send. */
export type ServerFrame =
  | {
      type: "conversation_initiation_metadata";
      conversation_initiation_metadata_event: {
        conversation_id: string;
        agent_output_audio_format: AudioFormat;
        user_input_audio_format: AudioFormat;
      };
    }
  | {
      type: "audio";
      audio_event: {
        audio_base_64: string;
        event_id: number;
        alignment?: { chars: string[]; char_start_times_ms: number[]; char_durations_ms: number[] };
      };
    }
  | {
      type: "agent_response";
      agent_response_event: {
        agent_response: string;
        event_id: number;
        attachments?: { url: string; name: string; mime_type?: string }[];
      };
    }
  | {
      type: "agent_response_correction";
      agent_response_correction_event: {
        original_agent_response: string;
        corrected_agent_response: string;
        event_id: number;
      };
    }
  | {
      type: "agent_chat_response_part";
      text_response_part: { text: string; type: "start" | "delta" | "stop"; event_id: number };
    }
  | { type: "user_transcript"; user_transcription_event: { user_transcript: string; event_id: number } }
  | {
      type: "tentative_user_transcript";
      tentative_user_transcription_event: { user_transcript: string; event_id: number };
    }
  | { type: "interruption"; interruption_event: { event_id: number } }
  | { type: "ping"; ping_event: { event_id: number; ping_ms?: number | null } }
  | { type: "vad_score"; vad_score_event: { vad_score: number } }
  | {
      type: "client_tool_call";
      client_tool_call: {
        tool_name: string;
        tool_call_id: string;
        parameters: Record<string, unknown>;
        event_id: number;
      };
    }
  | { type: "agent_tool_request"; agent_tool_request: AgentToolEvent }
  | {
      type: "agent_tool_response";
      agent_tool_response: AgentToolEvent & { is_error: boolean; is_called: boolean };
    }
  | { type: "asr_initiation_metadata"; asr_initiation_metadata_event: Record<string, unknown> }
  | { type: "agent_typing"; agent_typing_event: { is_typing: boolean; duration_ms?: number } }
  | {
      type: "error";
      error_event: {
        code: 1000 | 1002 | 1008 | 1011;
        message?: string;
        error_type?: string;
        reason?: string;
      };
    };

/** Close codes the server uses: normal end, operational failure, bad input or auth, internal crash. */
export const CloseCode = {
  normal: 1000,
  /** The server is stopping (upstream never sends it; the official clients report it as an error). */
  goingAway: 1001,
  operational: 1002,
  policy: 1008,
  internal: 1011,
} as const;

/** A close code the server uses. */
export type CloseCode = (typeof CloseCode)[keyof typeof CloseCode];

/** Close reasons must fit a close frame (123 bytes); longer ones are cut at a character boundary. */
export function fitCloseReason(reason: string): string {
  const bytes = Buffer.from(reason, "utf8");
  if (bytes.length <= 123) return reason;
  let cut = bytes.subarray(0, 120).toString("utf8");
  if (cut.endsWith("\uFFFD")) cut = cut.slice(0, -1);
  return `${cut}...`;
}

/** The first frame of every session: the conversation's id and the audio formats of both directions. */
export function initiationMetadataFrame(
  conversationId: string,
  output: AudioFormat = "pcm_16000",
  input: AudioFormat = output,
): ServerFrame {
  return {
    type: "conversation_initiation_metadata",
    conversation_initiation_metadata_event: {
      conversation_id: conversationId,
      agent_output_audio_format: output,
      user_input_audio_format: input,
    },
  };
}

/** A piece of the agent's speech in the session's output format, with the characters it spells. */
export function audioFrame(
  audioBase64: string,
  eventId: number,
  alignment?: { chars: string[]; char_start_times_ms: number[]; char_durations_ms: number[] },
): ServerFrame {
  return {
    type: "audio",
    audio_event: { audio_base_64: audioBase64, event_id: eventId, ...(alignment ? { alignment } : {}) },
  };
}

/** The voice activity detector's speech probability (0..1) for the latest user audio. */
export function vadScoreFrame(score: number): ServerFrame {
  return { type: "vad_score", vad_score_event: { vad_score: score } };
}

/** What the user said in their last turn, as speech recognition heard it. */
export function userTranscriptFrame(text: string, eventId: number): ServerFrame {
  return { type: "user_transcript", user_transcription_event: { user_transcript: text, event_id: eventId } };
}

/** The result of the system tool `tool_name` (e.g. `end_call`) called as `toolCallId` in the agent turn `eventId`. */
export function systemToolResponseFrame(
  toolName: string,
  eventId: number,
  toolCallId = `toolu_${eventId}`,
): ServerFrame {
  return {
    type: "agent_tool_response",
    agent_tool_response: {
      tool_name: toolName,
      tool_call_id: toolCallId,
      tool_type: "system",
      event_id: eventId,
      is_error: false,
      is_called: true,
    },
  };
}

/** One piece of a streamed agent turn: its start, a piece of text, or its stop. */
export function responsePartFrame(
  text: string,
  type: "start" | "delta" | "stop",
  eventId: number,
): ServerFrame {
  return { type: "agent_chat_response_part", text_response_part: { text, type, event_id: eventId } };
}

/** The whole text of an agent turn, after its streamed parts. */
export function agentResponseFrame(text: string, eventId: number): ServerFrame {
  return { type: "agent_response", agent_response_event: { agent_response: text, event_id: eventId } };
}

/** The agent turn `eventId` was interrupted: nothing more is sent for it. */
export function interruptionFrame(eventId: number): ServerFrame {
  return { type: "interruption", interruption_event: { event_id: eventId } };
}

/** What an interrupted agent turn was meant to say, and what of it the client actually received. */
export function agentResponseCorrectionFrame(
  original: string,
  corrected: string,
  eventId: number,
): ServerFrame {
  return {
    type: "agent_response_correction",
    agent_response_correction_event: {
      original_agent_response: original,
      corrected_agent_response: corrected,
      event_id: eventId,
    },
  };
}

/** Asks the client to run one of its tools (`clientTools[tool_name]`) and, maybe, answer with its result. */
export function clientToolCallFrame(
  toolName: string,
  toolCallId: string,
  parameters: Record<string, unknown>,
  eventId: number,
): ServerFrame {
  return {
    type: "client_tool_call",
    client_tool_call: { tool_name: toolName, tool_call_id: toolCallId, parameters, event_id: eventId },
  };
}

/** Tells the client the server started a tool call of type `toolType` (e.g. a webhook). */
export function agentToolRequestFrame(
  toolName: string,
  toolCallId: string,
  toolType: string,
  eventId: number,
): ServerFrame {
  return {
    type: "agent_tool_request",
    agent_tool_request: {
      tool_name: toolName,
      tool_call_id: toolCallId,
      tool_type: toolType,
      event_id: eventId,
    },
  };
}

/** Tells the client how a server-side tool call ended. */
export function agentToolResponseFrame(
  toolName: string,
  toolCallId: string,
  toolType: string,
  eventId: number,
  isError: boolean,
): ServerFrame {
  return {
    type: "agent_tool_response",
    agent_tool_response: {
      tool_name: toolName,
      tool_call_id: toolCallId,
      tool_type: toolType,
      event_id: eventId,
      is_error: isError,
      is_called: true,
    },
  };
}

/** An error the session reports before it closes with `code` (`error_type` is upstream's name for it). */
export function errorFrame(code: 1000 | 1002 | 1008 | 1011, errorType: string, message: string): ServerFrame {
  return { type: "error", error_event: { code, error_type: errorType, message } };
}
