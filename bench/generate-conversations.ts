/**
 * Deterministic generator of realistic conversations for the benchmark: 5–80 turns, tool calls
 * and results, analysis, several agents and users, several languages, and start times spread
 * over a year with deliberate ties.
 */

/** A small, fast, seedable PRNG (mulberry32). */
export function createRandom(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** The id of the i-th generated conversation (stable for a seed, so the benchmark can pick ids at random). */
export function conversationIdAt(i: number, seed: number): string {
  let h = (Math.imul(i + 1, 0x9e3779b1) ^ seed) >>> 0;
  h = Math.imul(h ^ (h >>> 16), 0x85ebca6b) >>> 0;
  h = Math.imul(h ^ (h >>> 13), 0xc2b2ae35) >>> 0;
  h = (h ^ (h >>> 16)) >>> 0;
  return `conv_${h.toString(16).padStart(8, "0")}${i.toString(36).padStart(6, "0")}`;
}

/** A word that occurs in about one conversation in a thousand: the "rare word" search scenario. */
export const RARE_WORD = "zephyrquartz";
/** A word that occurs in most conversations: the "common word" search scenario. */
export const COMMON_WORD = "order";

/** Agent ids the generator uses; the first is the busiest. */
export const AGENT_IDS = Array.from(
  { length: 12 },
  (_, i) => `agent_${(i * 7919 + 1000).toString(36)}bench${i}`,
);

const AGENT_NAMES = [
  "Support",
  "Sales",
  "Billing",
  "Bookings",
  "Onboarding",
  "Returns",
  "Concierge",
  "IT Helpdesk",
];
const TOOLS = [
  "lookup_order",
  "create_ticket",
  "check_availability",
  "transfer_to_agent",
  "send_sms",
  "get_weather",
];
const LANGUAGES: { code: string; weight: number; user: string[]; agent: string[] }[] = [
  {
    code: "en",
    weight: 0.7,
    user: [
      "Hi, I'm calling about my order from last week.",
      "Can you check the status of my refund please?",
      "I need to change the delivery address on my order.",
      "The package arrived damaged and I'd like a replacement.",
      "What time does the store open on Sunday?",
      "I was charged twice for the same order.",
      "Could you book a table for four at seven tonight?",
      "My internet has been down since this morning.",
      "Yes, that's right.",
      "No, the other one.",
      "Thanks, that helps a lot.",
    ],
    agent: [
      "Of course, let me look that up for you.",
      "I can see your order here; it shipped on Tuesday.",
      "I've issued the refund; it should arrive in three to five business days.",
      "Could you confirm the email address on the account?",
      "I've created a ticket and our team will follow up by email.",
      "Is there anything else I can help you with today?",
      "I'm transferring you to a specialist now.",
      "Your booking is confirmed for seven o'clock.",
    ],
  },
  {
    code: "es",
    weight: 0.12,
    user: [
      "Hola, quiero saber el estado de mi pedido.",
      "Necesito cambiar la dirección de entrega.",
      "Gracias por la ayuda.",
    ],
    agent: [
      "Claro, déjeme revisar su pedido.",
      "Su reembolso ya está en proceso.",
      "¿Hay algo más en que pueda ayudarle?",
    ],
  },
  {
    code: "ja",
    weight: 0.1,
    user: ["注文の配送状況を確認したいです。", "返金はいつになりますか？", "ありがとうございます。"],
    agent: [
      "かしこまりました。ご注文を確認いたします。",
      "返金手続きは完了しております。",
      "他にご質問はございますか？",
    ],
  },
  {
    code: "de",
    weight: 0.08,
    user: ["Ich möchte meine Bestellung stornieren.", "Wann kommt mein Paket an?", "Vielen Dank."],
    agent: [
      "Gerne, ich prüfe das für Sie.",
      "Ihre Bestellung wurde storniert.",
      "Kann ich sonst noch helfen?",
    ],
  },
];
const TERMINATIONS = [
  "end_call tool was called.",
  "Client disconnected: 1000",
  "Call ended by remote party",
  "max_duration",
];
const STATUSES = ["done", "done", "done", "done", "done", "done", "failed", "processing"];

function pick<T>(random: () => number, items: readonly T[]): T {
  return items[Math.floor(random() * items.length)] as T;
}

function pickLanguage(random: () => number): (typeof LANGUAGES)[number] {
  let r = random();
  for (const language of LANGUAGES) {
    r -= language.weight;
    if (r <= 0) return language;
  }
  return LANGUAGES[0] as (typeof LANGUAGES)[number];
}

/** The time span the generated start times cover, ending at this instant. */
const END_UNIX = 1_790_000_000;
const SPAN_SECS = 365 * 24 * 3600;

/** The start time of the i-th conversation, from a PRNG of its own so neighbours can share it. */
function startTimeOf(i: number, seed: number): number {
  const random = createRandom((Math.imul(seed, 31) ^ Math.imul(i + 7, 2246822519)) >>> 0);
  return END_UNIX - Math.floor(random() * SPAN_SECS);
}

/** Builds the i-th conversation of a seeded set. */
export function generateConversation(i: number, seed: number): Record<string, unknown> {
  const random = createRandom((seed ^ Math.imul(i + 1, 2654435761)) >>> 0);
  const agentId = random() < 0.3 ? (AGENT_IDS[0] as string) : pick(random, AGENT_IDS);
  const language = pickLanguage(random);
  const turns = 5 + Math.floor(random() * 76);
  // One conversation in fifty shares its start second with the one before: ties happen in real data.
  const startTime = startTimeOf(i % 50 === 1 ? i - 1 : i, seed);
  const transcript: Record<string, unknown>[] = [];
  let t = 0;
  const toolNames: string[] = [];
  const rare = random() < 0.001;
  for (let turn = 0; turn < turns; turn++) {
    const role = turn % 2 === 0 ? "agent" : "user";
    let message = pick(random, role === "agent" ? language.agent : language.user);
    if (rare && turn === 1) message = `${message} The reference is ${RARE_WORD}.`;
    const entry: Record<string, unknown> = {
      role,
      message,
      time_in_call_secs: t,
      tool_calls: [],
      tool_results: [],
    };
    if (random() < 0.05) entry.interrupted = true;
    if (role === "agent") {
      entry.agent_metadata = { agent_id: agentId, workflow_node_id: null };
      entry.conversation_turn_metrics = {
        metrics: { convai_llm_service_ttfb: { elapsed_time: Math.round(random() * 800) / 1000 } },
      };
      if (random() < 0.12) {
        const name = pick(random, TOOLS);
        const requestId = `req_${i}_${turn}`;
        const isError = random() < 0.1;
        toolNames.push(name);
        entry.tool_calls = [
          {
            type: "webhook",
            request_id: requestId,
            tool_name: name,
            params_as_json: JSON.stringify({ order_id: `A${(i * 31 + turn) % 100000}` }),
            tool_has_been_called: true,
            tool_details: { type: "webhook", method: "POST", url: `https://api.example.com/${name}` },
          },
        ];
        entry.tool_results = [
          {
            type: "webhook",
            request_id: requestId,
            tool_name: name,
            result_value: isError ? "upstream timeout" : JSON.stringify({ ok: true, eta_days: 3 }),
            is_error: isError,
            tool_has_been_called: true,
            tool_latency_secs: Math.round(random() * 2000) / 1000,
          },
        ];
      }
    }
    transcript.push(entry);
    t += 1 + Math.floor(random() * 12);
  }
  const success = random();
  const callSuccessful = success < 0.7 ? "success" : success < 0.9 ? "failure" : "unknown";
  const rated = random() < 0.2;
  const doc: Record<string, unknown> = {
    agent_id: agentId,
    agent_name: pick(random, AGENT_NAMES),
    conversation_id: conversationIdAt(i, seed),
    status: pick(random, STATUSES),
    user_id: `user_${Math.floor(random() * 50_000)}`,
    branch_id: random() < 0.2 ? `agtbrch_${Math.floor(random() * 4)}` : null,
    version_id: null,
    transcript,
    metadata: {
      start_time_unix_secs: startTime,
      accepted_time_unix_secs: startTime,
      call_duration_secs: t,
      cost: Math.floor(t * 11.5),
      deletion_settings: {
        deletion_time_unix_secs: null,
        delete_audio: false,
        delete_transcript_and_pii: false,
      },
      feedback: rated
        ? {
            type: "rating",
            overall_score: null,
            likes: 0,
            dislikes: 0,
            rating: 1 + Math.floor(random() * 5),
            comment: random() < 0.3 ? "Quick and helpful." : null,
          }
        : { overall_score: null, likes: 0, dislikes: 0 },
      authorization_method: "signed_url",
      charging: { dev_discount: false, tier: "pro", llm_price: Math.round(random() * 1000) / 100000 },
      phone_call:
        random() < 0.3
          ? {
              type: "twilio",
              direction: random() < 0.5 ? "inbound" : "outbound",
              phone_number_id: "phnum_1",
              agent_number: "+15550100",
              external_number: `+1555${String(i % 10000).padStart(4, "0")}`,
              call_sid: `CA${i}`,
              stream_sid: `MZ${i}`,
            }
          : null,
      termination_reason: pick(random, TERMINATIONS),
      main_language: language.code,
      text_only: random() < 0.1,
      conversation_initiation_source: random() < 0.3 ? "twilio" : "react_sdk",
      timezone: "Europe/London",
    },
    analysis: {
      call_successful: callSuccessful,
      transcript_summary: `The caller asked about an ${COMMON_WORD}; the agent ${callSuccessful === "success" ? "resolved it" : "could not resolve it"}.`,
      call_summary_title:
        callSuccessful === "success" ? "Order question resolved" : "Unresolved order question",
      evaluation_criteria_results: {
        resolved: { criteria_id: "resolved", result: callSuccessful, rationale: "Based on the final turns." },
      },
      data_collection_results: {
        order_value: {
          data_collection_id: "order_value",
          value: Math.floor(random() * 500),
          rationale: "Stated by the caller.",
        },
      },
    },
    conversation_initiation_client_data: {
      dynamic_variables: {
        plan: pick(random, ["free", "pro", "enterprise"]),
        system__caller_id: `caller_${i % 997}`,
      },
      source_info: { source: "react_sdk", version: "0.6.1" },
    },
    visited_agents: [{ agent_id: agentId, branch_id: null }],
    has_audio: false,
    has_user_audio: false,
    has_response_audio: false,
    has_auxiliary_audio: false,
    bench_generated: { seed, index: i, tools: toolNames.length },
  };
  return doc;
}
