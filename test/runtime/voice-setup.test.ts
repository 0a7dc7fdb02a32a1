import { describe, expect, it } from "vitest";
import type { AgentConfig } from "../../src/agents/agent-service.js";
import type { InitiationClientData } from "../../src/runtime/client-frames.js";
import { prepareSession, type SessionSetup } from "../../src/runtime/session-setup.js";

const IDS = { conversationId: "conv_unit", startMs: 0 };

function agentWith(
  conversationConfig: Record<string, unknown>,
  platformSettings: Record<string, unknown> | null = null,
): AgentConfig {
  return { agentId: "agent_unit", name: "Unit", conversationConfig, platformSettings };
}

function init(override?: Record<string, unknown>): InitiationClientData {
  return {
    type: "conversation_initiation_client_data",
    ...(override ? { conversation_config_override: override } : {}),
  };
}

function setupOf(agent: AgentConfig, frame = init()): SessionSetup {
  const prepared = prepareSession(agent, frame, IDS);
  if (!prepared.ok) throw new Error(prepared.reason);
  return prepared.setup;
}

describe("a voice session's settings", () => {
  it("defaults to pcm_16000 both ways, the normal silence window, and recording", () => {
    const { voice } = setupOf(agentWith({}));
    expect(voice.inputFormat.name).toBe("pcm_16000");
    expect(voice.outputFormat.name).toBe("pcm_16000");
    expect(voice.silenceWindowMs).toBe(800);
    expect(voice.recordVoice).toBe(true);
    expect(voice.voiceId).toBe("");
  });

  it("reads the agent's formats, voice, eagerness and privacy", () => {
    const { voice } = setupOf(
      agentWith(
        {
          asr: { user_input_audio_format: "ulaw_8000" },
          tts: { agent_output_audio_format: "pcm_24000", voice_id: "alloy" },
          turn: { turn_eagerness: "patient" },
        },
        { privacy: { record_voice: false } },
      ),
    );
    expect(voice.inputFormat.name).toBe("ulaw_8000");
    expect(voice.outputFormat.name).toBe("pcm_24000");
    expect(voice.voiceId).toBe("alloy");
    expect(voice.silenceWindowMs).toBe(1200);
    expect(voice.recordVoice).toBe(false);
  });

  it("takes a client's format override only where the agent allows it, and refuses an unknown format", () => {
    const override = { tts: { agent_output_audio_format: "ulaw_8000" } };
    const refused = prepareSession(agentWith({}), init(override), IDS);
    expect(refused.ok).toBe(false);
    if (!refused.ok) expect(refused.reason).toMatch(/^override_error: tts\.agent_output_audio_format/);
    const allowed = {
      overrides: { conversation_config_override: { tts: { agent_output_audio_format: true } } },
    };
    expect(setupOf(agentWith({}, allowed), init(override)).voice.outputFormat.name).toBe("ulaw_8000");
    const unknown = prepareSession(
      agentWith({}, allowed),
      init({ tts: { agent_output_audio_format: "mp3_44100" } }),
      IDS,
    );
    expect(unknown.ok).toBe(false);
    if (!unknown.ok) expect(unknown.reason).toMatch(/not supported; use pcm_8000/);
  });

  it("falls back to pcm_16000 when the agent itself names a format this server does not speak", () => {
    const { voice } = setupOf(agentWith({ tts: { agent_output_audio_format: "mp3_44100_128" } }));
    expect(voice.outputFormat.name).toBe("pcm_16000");
  });
});
