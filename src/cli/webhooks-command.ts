import type { Command } from "commander";
import { withServices, withStorageOptions } from "./cli-context.js";

function parseLimit(raw: string): number {
  const n = Number(raw);
  if (!Number.isInteger(n) || n < 1 || n > 100_000)
    throw new Error(`--limit must be 1 to 100000, got "${raw}"`);
  return n;
}

const iso = (unixSecs: number) => new Date(unixSecs * 1000).toISOString();

/** `openconvai webhooks failed|pending`: webhook deliveries that could not be applied, and audio waiting for its conversation. */
export function registerWebhooksCommand(program: Command): void {
  const webhooks = program.command("webhooks").description("inspect webhook deliveries");
  withStorageOptions(
    webhooks
      .command("failed")
      .description(
        "list dead letters: deliveries with an unknown event type or a payload that could not be applied, kept as received",
      )
      .option("--limit <n>", "how many to list, oldest first", "1000")
      .option("--json", "print each dead letter as one JSON line, with its conversation_id and body"),
  ).action(async (flags: { data?: string; databaseUrl?: string; limit: string; json?: boolean }) =>
    withServices(flags, async ({ db }) => {
      const letters = await db.webhooks.listDeadLetters(parseLimit(flags.limit));
      for (const l of letters) {
        if (flags.json) {
          process.stdout.write(
            `${JSON.stringify({ received_at: iso(l.receivedAtUnixSecs), type: l.type, conversation_id: l.conversationId ?? null, body_sha256: l.bodySha256, reason: l.reason, body: l.body })}\n`,
          );
        } else {
          process.stdout.write(
            `${iso(l.receivedAtUnixSecs)}\t${l.type}\t${l.bodySha256.slice(0, 16)}\t${l.reason}\n`,
          );
        }
      }
      if (letters.length === 0) process.stderr.write("No failed webhook deliveries.\n");
    }),
  );
  withStorageOptions(
    webhooks
      .command("pending")
      .description("list audio received by webhook whose transcription has not arrived yet")
      .option("--limit <n>", "how many to list, oldest first", "1000"),
  ).action(async (flags: { data?: string; databaseUrl?: string; limit: string }) =>
    withServices(flags, async ({ db }) => {
      const pending = await db.webhooks.listPendingAudio(parseLimit(flags.limit));
      for (const p of pending) {
        process.stdout.write(`${iso(p.receivedAtUnixSecs)}\t${p.conversationId}\t${p.audio.size} bytes\n`);
      }
      if (pending.length === 0) process.stderr.write("No audio is waiting for its transcription.\n");
    }),
  );
}
