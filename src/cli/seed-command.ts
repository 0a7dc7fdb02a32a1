import type { Command } from "commander";
import { loadDemoConversations } from "../ingest/demo-conversations.js";
import { withServices, withStorageOptions } from "./cli-context.js";

function text(value: unknown): string {
  return typeof value === "string" ? value : "";
}

/** `openconvai seed --demo`: loads demo conversations with audio. */
export function registerSeedCommand(program: Command): void {
  withStorageOptions(
    program
      .command("seed")
      .description("load sample data")
      .option("--demo", "load a dozen demo conversations with audio (seeding again replaces them)"),
  ).action(async (flags: { data?: string; databaseUrl?: string; demo?: boolean }) => {
    if (!flags.demo) {
      process.stderr.write("openconvai seed: say what to load: `openconvai seed --demo`.\n");
      process.exitCode = 2;
      return;
    }
    await withServices(flags, async ({ config, db, conversations: service, keys }) => {
      const { conversations } = await loadDemoConversations(service, Math.floor(Date.now() / 1000));
      const created = conversations.filter((c) => c.outcome === "created").length;
      const audioBytes = conversations.reduce((sum, c) => sum + c.audioBytes, 0);
      const where = db.kind === "sqlite" ? `SQLite in ${config.dataDir}` : "PostgreSQL";
      const lines = [
        `Loaded ${conversations.length} demo conversations with audio into ${where} ` +
          `(${created} created, ${conversations.length - created} replaced; ${Math.round(audioBytes / 1024)} KiB of MP3):`,
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
      const dataFlag = db.kind === "sqlite" && flags.data ? ` --data ${JSON.stringify(flags.data)}` : "";
      const keyHint = (await keys.hasActiveKey())
        ? "use your API key, or make one with `openconvai keys create`"
        : "the first start prints an API key";
      lines.push(
        "",
        `Next: start the server with \`openconvai serve${dataFlag}\` (${keyHint}), then:`,
        "",
        `  curl -H "xi-api-key: $KEY" 'http://${config.host}:${config.port}/v1/convai/conversations?page_size=5'`,
        "",
      );
      process.stderr.write(`${lines.join("\n")}\n`);
    });
  });
}
