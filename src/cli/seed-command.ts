import type { Command } from "commander";
import { loadDemoConversations, loadDemoDefinitions } from "../ingest/demo-conversations.js";
import { suggestCommand, withServices, withStorageOptions } from "./cli-context.js";

/** "1 tag", "8 topics". */
function plural(n: number, word: string): string {
  return `${n} ${word}${n === 1 ? "" : "s"}`;
}

function text(value: unknown): string {
  return typeof value === "string" ? value : "";
}

/** `openconvai seed --demo`: loads demo conversations with audio, and the tags and topics they refer to. */
export function registerSeedCommand(program: Command): void {
  withStorageOptions(
    program
      .command("seed")
      .description("load sample data")
      .option(
        "--demo",
        "load a dozen demo conversations with audio, their tags and topics (seeding again replaces them)",
      ),
  ).action(async (flags: { data?: string; databaseUrl?: string; demo?: boolean }) => {
    if (!flags.demo) {
      process.stderr.write("openconvai seed: say what to load: `npx openconvai seed --demo`.\n");
      process.exitCode = 2;
      return;
    }
    await withServices(flags, async ({ config, db, conversations: service, keys }) => {
      const now = Math.floor(Date.now() / 1000);
      // Tags and topics first: a conversation never refers to one that is not there.
      const definitions = await loadDemoDefinitions(
        { tags: db.tags, topics: db.topics, agents: db.agents },
        now,
      );
      const { conversations } = await loadDemoConversations(service, now);
      const created = conversations.filter((c) => c.outcome === "created").length;
      const audioBytes = conversations.reduce((sum, c) => sum + c.audioBytes, 0);
      const where = db.kind === "sqlite" ? `SQLite in ${config.dataDir}` : "PostgreSQL";
      const lines = [
        `Loaded ${conversations.length} demo conversations with audio into ${where} ` +
          `(${created} created, ${conversations.length - created} replaced; ${Math.round(audioBytes / 1024)} KiB of MP3), ` +
          `${plural(definitions.tags, "tag")} (${definitions.tagsCreated} created) and ` +
          `${plural(definitions.topics, "topic")} of the demo agents:`,
        "",
      ];
      for (const { doc } of conversations) {
        const metadata = doc.metadata as Record<string, unknown>;
        const analysis = doc.analysis as Record<string, unknown>;
        lines.push(
          `  ${text(doc.conversation_id)}  ${text(doc.agent_name).padEnd(30)} ${text(metadata.main_language).padEnd(3)}` +
            `${text(analysis.call_successful).padEnd(8)} ${text(analysis.call_summary_title)}`,
        );
      }
      const keyHint = (await keys.hasActiveKey())
        ? `use your API key, or make one with ${suggestCommand(config, ["keys", "create"])}`
        : "the first start prints an API key";
      lines.push(
        "",
        `Next: start the server with ${suggestCommand(config, ["serve"])} (${keyHint}), then:`,
        "",
        `  curl -H "xi-api-key: $KEY" 'http://${config.host}:${config.port}/v1/convai/conversations?page_size=5'`,
        "",
      );
      process.stderr.write(`${lines.join("\n")}\n`);
    });
  });
}
