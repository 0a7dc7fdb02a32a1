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
  format: AudioFormat = "pcm_16000",
): ServerFrame {
  return {
    type: "conversation_initiation_metadata",
    conversation_initiation_metadata_event: {
      conversation_id: conversationId,
      agent_output_audio_format: format,
      user_input_audio_format: format,
    },
  };
}

/** The result of the system tool `tool_name` (e.g. `end_call`), called by the agent under `eventId`. */
export function systemToolResponseFrame(toolName: string, eventId: number): ServerFrame {
  return {
    type: "agent_tool_response",
    agent_tool_response: {
      tool_name: toolName,
      tool_call_id: `toolu_${eventId}`,
      tool_type: "system",
      event_id: eventId,
      is_error: false,
      is_called: true,
    },
  };
}
