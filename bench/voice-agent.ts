/**
 * The voice scenario's agent (a greeting, pcm_16000 both ways, `turn_eagerness: "eager"`,
 * `record_voice: true`), created over the API, and the PostgreSQL schema it runs in on that backend.
 */
import pg from "pg";
import type { LiveServer } from "./live-processes.js";

const AGENT = {
  name: "bench voice agent",
  conversation_config: {
    agent: {
      first_message: "Hello! How can I help?",
      language: "en",
      prompt: { prompt: "You are the benchmark's agent. Answer in one short sentence." },
    },
    asr: { user_input_audio_format: "pcm_16000" },
    tts: { agent_output_audio_format: "pcm_16000", voice_id: "alloy" },
    turn: { turn_eagerness: "eager" },
  },
  platform_settings: { privacy: { record_voice: true } },
};

/** Recreates the schema `bench_voice` and returns the URL that selects it. */
export async function freshPostgresSchema(databaseUrl: string): Promise<string> {
  const admin = new pg.Client({ connectionString: databaseUrl });
  await admin.connect();
  await admin.query("DROP SCHEMA IF EXISTS bench_voice CASCADE");
  await admin.query("CREATE SCHEMA bench_voice");
  await admin.end();
  const url = new URL(databaseUrl);
  url.searchParams.set("options", "-c search_path=bench_voice,public");
  return url.toString();
}

/** Creates the voice agent; returns its id. */
export async function createAgent(server: LiveServer): Promise<string> {
  const response = await fetch(`${server.url}/v1/convai/agents/create`, {
    method: "POST",
    headers: { "xi-api-key": server.apiKey, "content-type": "application/json" },
    body: JSON.stringify(AGENT),
    signal: AbortSignal.timeout(10_000),
  });
  const body = (await response.json()) as { agent_id?: string };
  if (!response.ok || !body.agent_id)
    throw new Error(`creating the voice agent failed: ${response.status} ${JSON.stringify(body)}`);
  return body.agent_id;
}
