import { spawn } from "node:child_process";
import path from "node:path";
import { fileURLToPath } from "node:url";
import autocannon from "autocannon";
import {
  COMMON_WORD,
  conversationIdAt,
  createRandom,
  generateConversation,
  RARE_WORD,
} from "./generate-conversations.js";
import { checkHealthz, checkHostileSearch, hostileSearchPath, hostileSearchQuery } from "./hostile-search.js";
import type { ServerProcess } from "./server-process.js";

/** What one scenario measured. */
export interface ScenarioResult {
  name: string;
  rps: number;
  p50: number;
  p99: number;
  p999: number;
  non2xx: number;
  errors: number;
  /** How the responses were checked before the load ("20/20 ok"). */
  verified: string;
  /** Mean response body size of the checked sample. */
  bodyBytes: number;
  ceilingRatio?: number;
  /** The server's peak RSS (VmHWM) once this scenario ended: where it rises, this scenario raised it. */
  peakRssAfterMb?: number;
}

const here = path.dirname(fileURLToPath(import.meta.url));
const CONNECTIONS = 10;
const WARMUP_SECONDS = 2;

export interface Scenario {
  name: string;
  /** Builds one request (path, method, headers, body) for the i-th call. */
  request(i: number): {
    path: string;
    method?: "GET" | "PUT";
    headers?: Record<string, string>;
    body?: string;
  };
  /** Checks one response; returns an error text, or undefined when it is right. */
  check(status: number, body: string, path: string): string | undefined;
}

export function json(body: string): Record<string, unknown> | undefined {
  try {
    return JSON.parse(body) as Record<string, unknown>;
  } catch {
    return undefined;
  }
}

/** Runs autocannon for a number of seconds with requests built by a scenario. */
export async function load(
  url: string,
  apiKey: string,
  scenario: Scenario,
  seconds: number,
  connections = CONNECTIONS,
): Promise<autocannon.Result> {
  let i = 0;
  return autocannon({
    url,
    connections,
    duration: seconds,
    headers: { "xi-api-key": apiKey },
    requests: [
      {
        setupRequest: (request) => {
          const r = scenario.request(i++);
          return {
            ...request,
            path: r.path,
            method: r.method ?? "GET",
            headers: { ...request.headers, "xi-api-key": apiKey, ...(r.headers ?? {}) },
            ...(r.body !== undefined ? { body: r.body } : {}),
          } as autocannon.Request;
        },
      },
    ],
  });
}

/** Sends a sample of the scenario's requests and checks each response, so the load never measures fast errors. */
export async function verify(
  url: string,
  apiKey: string,
  scenario: Scenario,
): Promise<{ text: string; bodyBytes: number }> {
  const sample = 20;
  let ok = 0;
  let bytes = 0;
  const failures: string[] = [];
  for (let i = 0; i < sample; i++) {
    const r = scenario.request(1_000_000 + i);
    const response = await fetch(`${url}${r.path}`, {
      method: r.method ?? "GET",
      headers: { "xi-api-key": apiKey, ...(r.headers ?? {}) },
      ...(r.body !== undefined ? { body: r.body } : {}),
    });
    const body = await response.text();
    bytes += Buffer.byteLength(body);
    const problem = scenario.check(response.status, body, r.path);
    if (problem) failures.push(`${r.path}: ${problem}`);
    else ok++;
  }
  if (failures.length > 0)
    throw new Error(`scenario "${scenario.name}" answered wrongly:\n${failures.slice(0, 5).join("\n")}`);
  return { text: `${ok}/${sample} ok`, bodyBytes: Math.round(bytes / sample) };
}

/**
 * Ranked message text search (default sort: by score) for one word: every sample answer must be
 * 200 and (when the word is expected in the data) non-empty, each chunk_text holding the word.
 */
function textSearchScenario(name: string, word: string, nonEmpty: boolean): Scenario {
  return {
    name,
    request: () => ({ path: `/v1/convai/conversations/messages/text-search?text_query=${word}` }),
    check: (status, body) => {
      if (status !== 200) return `status ${status}`;
      const results = json(body)?.results;
      if (!Array.isArray(results)) return "not a search page";
      if (nonEmpty && results.length === 0) return "no results";
      const missing = (results as { chunk_text?: unknown }[]).find(
        (r) => typeof r.chunk_text !== "string" || !r.chunk_text.toLowerCase().includes(word),
      );
      return missing ? `a result without "${word}"` : undefined;
    },
  };
}

/** Checks a sample, warms up, then measures one scenario; fails on any error under load. */
export async function measureScenario(
  url: string,
  apiKey: string,
  scenario: Scenario,
  seconds: number,
): Promise<ScenarioResult> {
  const checked = await verify(url, apiKey, scenario);
  await load(url, apiKey, scenario, WARMUP_SECONDS);
  return toResult(scenario, await load(url, apiKey, scenario, seconds), checked, seconds);
}

/**
 * A scenario's figures from its load; fails on any error or non-2xx response. When not one
 * response completed within the run, its latencies are the run's length (a lower bound) and the
 * row says so, rather than autocannon's zeros.
 */
function toResult(
  scenario: Scenario,
  r: autocannon.Result,
  checked: { text: string; bodyBytes: number },
  seconds: number,
): ScenarioResult {
  if (r.non2xx > 0 || r.errors > 0) {
    throw new Error(
      `scenario "${scenario.name}": ${r.non2xx} non-2xx responses and ${r.errors} errors under load`,
    );
  }
  const none = r.requests.total === 0;
  const bound = seconds * 1000;
  process.stderr.write(
    `${scenario.name}: ${Math.round(r.requests.average)} req/s, p99 ${none ? `> ${bound}` : r.latency.p99} ms\n`,
  );
  return {
    name: scenario.name,
    rps: r.requests.average,
    p50: none ? bound : r.latency.p50,
    p99: none ? bound : r.latency.p99,
    p999: none ? bound : r.latency.p99_9,
    non2xx: r.non2xx,
    errors: r.errors,
    verified: none ? `${checked.text}; no answer completed within the ${seconds} s run` : checked.text,
    bodyBytes: checked.bodyBytes,
  };
}

/** Walks the list with cursors to find the cursor of a deep page. */
async function deepCursor(url: string, apiKey: string, pages: number): Promise<string> {
  let cursor = "";
  for (let p = 0; p < pages; p++) {
    const response = await fetch(
      `${url}/v1/convai/conversations?page_size=100${cursor ? `&cursor=${cursor}` : ""}`,
      {
        headers: { "xi-api-key": apiKey },
      },
    );
    const body = (await response.json()) as { next_cursor: string | null };
    if (!body.next_cursor) break;
    cursor = encodeURIComponent(body.next_cursor);
  }
  return cursor;
}

/** Uploads audio for a sample of conversations (for the Range scenario). */
async function uploadAudio(url: string, apiKey: string, ids: string[]): Promise<void> {
  const bytes = Buffer.alloc(256 * 1024);
  for (let i = 0; i < bytes.length; i++) bytes[i] = (i * 31) & 0xff;
  for (const id of ids) {
    const response = await fetch(`${url}/ingest/v1/conversations/${id}/audio`, {
      method: "PUT",
      headers: { "xi-api-key": apiKey, "content-type": "audio/mpeg" },
      body: bytes,
    });
    if (response.status !== 200)
      throw new Error(`audio upload failed: ${response.status} ${await response.text()}`);
  }
}

/** Builds and runs every scenario against a server holding `count` generated conversations. */
export async function runScenarios(options: {
  server: ServerProcess;
  count: number;
  seed: number;
  seconds: number;
}): Promise<ScenarioResult[]> {
  const { server, count, seed, seconds } = options;
  const { url, apiKey } = server;
  const random = createRandom(seed + 1);
  const randomId = () => conversationIdAt(Math.floor(random() * count), seed);
  const audioIds = Array.from({ length: 100 }, (_, i) =>
    conversationIdAt(Math.floor((i * count) / 100), seed),
  );
  await uploadAudio(url, apiKey, audioIds);
  const deep = await deepCursor(url, apiKey, 50);
  const busyAgent = (generateConversation(0, seed).agent_id as string) ?? "";
  const monthAgo = 1_790_000_000 - 30 * 24 * 3600;

  const isList = (status: number, body: string, nonEmpty = true): string | undefined => {
    if (status !== 200) return `status ${status}`;
    const parsed = json(body);
    if (!parsed || !Array.isArray(parsed.conversations) || typeof parsed.has_more !== "boolean")
      return "not a list page";
    if (nonEmpty && parsed.conversations.length === 0) return "empty page";
    return undefined;
  };
  let ingestCounter = 0;
  const scenarios: Scenario[] = [
    {
      name: "GET details",
      request: () => ({ path: `/v1/convai/conversations/${randomId()}` }),
      check: (status, body, path) => {
        if (status !== 200) return `status ${status}`;
        const parsed = json(body);
        return parsed?.conversation_id === path.split("/").pop() ? undefined : "wrong conversation";
      },
    },
    {
      name: "list first page",
      request: () => ({ path: "/v1/convai/conversations" }),
      check: (status, body) => isList(status, body),
    },
    {
      name: "list agent + time range",
      request: () => ({
        path: `/v1/convai/conversations?agent_id=${busyAgent}&call_start_after_unix=${monthAgo}&call_start_before_unix=1790000000`,
      }),
      check: (status, body) => {
        const problem = isList(status, body);
        if (problem) return problem;
        const items = (json(body)?.conversations ?? []) as {
          agent_id: string;
          start_time_unix_secs: number;
        }[];
        return items.every((c) => c.agent_id === busyAgent && c.start_time_unix_secs > monthAgo)
          ? undefined
          : "filter not applied";
      },
    },
    {
      name: "list deep page (cursor)",
      request: () => ({ path: `/v1/convai/conversations?cursor=${deep}` }),
      check: (status, body) => isList(status, body),
    },
    {
      name: "search rare word",
      request: () => ({ path: `/v1/convai/conversations?search=${RARE_WORD}` }),
      check: (status, body) => isList(status, body, count >= 5000),
    },
    {
      name: "search common word",
      request: () => ({ path: `/v1/convai/conversations?search=${COMMON_WORD}` }),
      check: (status, body) => isList(status, body),
    },
    textSearchScenario("message text search rare word", RARE_WORD, count >= 5000),
    textSearchScenario("message text search common word", COMMON_WORD, true),
    {
      name: "GET audio (Range)",
      request: (i) => ({
        path: `/v1/convai/conversations/${audioIds[i % audioIds.length]}/audio`,
        headers: { range: "bytes=1024-66559" },
      }),
      check: (status, body) =>
        status === 206 && Buffer.byteLength(body, "latin1") > 0 ? undefined : `status ${status}`,
    },
    {
      name: "ingest PUT (mixed 1:4 with GET)",
      request: (i) => {
        if (i % 5 !== 0) return { path: `/v1/convai/conversations/${randomId()}` };
        const n = count + ingestCounter++;
        const doc = generateConversation(n, seed);
        return {
          path: `/ingest/v1/conversations/${doc.conversation_id}`,
          method: "PUT",
          headers: { "content-type": "application/json" },
          body: JSON.stringify(doc),
        };
      },
      check: (status, body) =>
        (status === 200 || status === 201) && json(body)?.conversation_id ? undefined : `status ${status}`,
    },
  ];

  const results: ScenarioResult[] = [];
  const record = (scenario: Scenario, r: autocannon.Result, checked: { text: string; bodyBytes: number }) => {
    results.push({ ...toResult(scenario, r, checked, seconds), peakRssAfterMb: server.peakRssMb() });
  };
  for (const scenario of scenarios) {
    const checked = await verify(url, apiKey, scenario);
    await load(url, apiKey, scenario, WARMUP_SECONDS);
    record(scenario, await load(url, apiKey, scenario, seconds), checked);
  }

  // The hostile search (bench/hostile-search.ts) under load, with /healthz polled at the same time.
  const hostileQuery = hostileSearchQuery(seed);
  const hostile: Scenario = {
    name: "hostile search (16 common words, by score)",
    request: () => ({ path: hostileSearchPath(hostileQuery) }),
    check: checkHostileSearch,
  };
  // The list endpoint's search with the same 16 words: what the hostile search is compared with.
  const listSameWords: Scenario = {
    name: "search (list) with the hostile 16 words",
    request: () => ({ path: `/v1/convai/conversations?search=${encodeURIComponent(hostileQuery)}` }),
    check: (status, body) => isList(status, body),
  };
  const listSameChecked = await verify(url, apiKey, listSameWords);
  await load(url, apiKey, listSameWords, WARMUP_SECONDS);
  record(listSameWords, await load(url, apiKey, listSameWords, seconds), listSameChecked);
  const healthz: Scenario = {
    name: "/healthz during hostile search",
    request: () => ({ path: "/healthz" }),
    check: checkHealthz,
  };
  const hostileChecked = await verify(url, apiKey, hostile);
  const healthzChecked = await verify(url, apiKey, healthz);
  await load(url, apiKey, hostile, WARMUP_SECONDS);
  const [hostileRun, healthzRun] = await Promise.all([
    load(url, apiKey, hostile, seconds),
    load(url, apiKey, healthz, seconds, 1),
  ]);
  record(hostile, hostileRun, hostileChecked);
  record(healthz, healthzRun, healthzChecked);
  return results;
}

/** The ceiling: bench/ceiling-server.ts in its own process, measured exactly like the scenarios. */
export async function measureCeiling(options: {
  bodyBytes: number;
  seconds: number;
}): Promise<{ rps: number }> {
  const child = spawn(
    process.execPath,
    ["--import", "tsx", path.join(here, "ceiling-server.ts"), String(options.bodyBytes)],
    {
      stdio: ["ignore", "pipe", "inherit"],
    },
  );
  try {
    const port = await new Promise<number>((resolve, reject) => {
      child.stdout.once("data", (chunk: Buffer) => resolve(Number(chunk.toString().trim())));
      child.once("exit", (code) => reject(new Error(`ceiling server exited with ${code}`)));
    });
    const scenario: Scenario = { name: "ceiling", request: () => ({ path: "/" }), check: () => undefined };
    await load(`http://127.0.0.1:${port}`, "", scenario, WARMUP_SECONDS);
    const r = await load(`http://127.0.0.1:${port}`, "", scenario, options.seconds);
    return { rps: r.requests.average };
  } finally {
    child.kill("SIGTERM");
  }
}
