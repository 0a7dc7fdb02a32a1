import { type Command, InvalidArgumentError, Option } from "commander";
import type { Config } from "../config/config.js";
import { NotFoundError } from "../domain/errors.js";
import type { Services } from "../main.js";
import {
  type DeliveryLog,
  type DeliverySummary,
  parseSince,
  type RedeliverSelection,
  SINCE_FORMS,
} from "../webhooks-out/delivery-log.js";
import { type StorageFlags, suggestCommand, withServices, withStorageOptions } from "./cli-context.js";

/** `--limit`: a whole number from 1 to 100000, or a usage error (exit 2). */
function parseLimit(raw: string): number {
  const n = Number(raw);
  if (!Number.isInteger(n) || n < 1 || n > 100_000) throw new InvalidArgumentError("must be 1 to 100000.");
  return n;
}

/** `--since`: checked here (a usage error when it is no time), read again by the delivery log. */
function checkSince(raw: string): string {
  if (parseSince(raw, Date.now()) === undefined) throw new InvalidArgumentError(`must be ${SINCE_FORMS}.`);
  return raw;
}

const iso = (unixSecs: number) => new Date(unixSecs * 1000).toISOString();

/** A time for the table: to the second, in UTC. */
const shortIso = (unixSecs: number) => iso(unixSecs).replace(".000Z", "Z");

/**
 * Says when the running server sends what was queued: a command cannot wake the server's sender
 * (its delivery log's `notify` reaches no one), so the server's next poll does.
 */
function whenSent(config: Config): string {
  return `The running server sends them at its next poll, within OPENCONVAI_WEBHOOK_POLL_MS (${config.webhooksOut.pollMs} ms here).`;
}

/** Cuts a cell to `max` characters, on one line. */
function cell(text: string, max: number): string {
  const line = text.replace(/\s+/g, " ");
  return line.length > max ? `${line.slice(0, max - 1)}…` : line;
}

/** The last answer of a delivery, in a few words: its status code, its error, or both. */
function lastOutcome(d: DeliverySummary): string {
  const parts = [d.last_status_code === null ? "" : String(d.last_status_code), d.last_error ?? ""];
  return parts.filter((p) => p !== "").join(" ") || "-";
}

/** Deliveries as a table with a header row, columns padded to their widest cell. */
function renderTable(rows: readonly DeliverySummary[]): string {
  const header = ["TIME", "DELIVERY", "EVENT", "CONVERSATION", "STATUS", "ATTEMPTS", "LAST"];
  const cells = rows.map((d) => [
    shortIso(d.created_at_unix),
    d.delivery_id,
    d.event_type,
    cell(d.conversation_id ?? "-", 40),
    d.next_attempt_at_unix === undefined
      ? d.status
      : `${d.status} (next ${shortIso(d.next_attempt_at_unix).slice(11)})`,
    `${d.attempts}/${d.max_attempts}`,
    cell(lastOutcome(d), 80),
  ]);
  const widths = header.map((h, i) => Math.max(h.length, ...cells.map((c) => (c[i] ?? "").length)));
  const line = (c: readonly string[]) =>
    c
      .map((text, i) => (i === c.length - 1 ? text : text.padEnd(widths[i] ?? 0)))
      .join("  ")
      .trimEnd();
  return `${[header, ...cells].map(line).join("\n")}\n`;
}

/** The flags of `webhooks deliveries`, as commander hands them over. */
interface DeliveriesFlags extends StorageFlags {
  failed?: boolean;
  pending?: boolean;
  since?: string;
  webhook?: string;
  conversation?: string;
  limit: number;
  json?: boolean;
}

/** The flags of `webhooks redeliver`. */
interface RedeliverFlags extends StorageFlags {
  failed?: boolean;
  since?: string;
  webhook?: string;
}

/**
 * `openconvai webhooks …`: both sides of webhooks. Incoming (the ElevenLabs webhook receiver):
 * `received-failed` (alias `failed`), its dead letters, and `received-pending` (alias `pending`),
 * audio waiting for its transcription. Outgoing (the post-call webhooks this server sends):
 * `deliveries`, the delivery log, and `redeliver`, which queues deliveries again.
 */
export function registerWebhooksCommand(program: Command): void {
  const webhooks = program
    .command("webhooks")
    .description("webhooks received (received-failed, received-pending) and sent (deliveries, redeliver)");
  registerReceivedCommands(webhooks);
  registerDeliveriesCommand(webhooks);
  registerRedeliverCommand(webhooks);
}

/** The incoming side: what the ElevenLabs webhook receiver could not apply, or holds. */
function registerReceivedCommands(webhooks: Command): void {
  withStorageOptions(
    webhooks
      .command("received-failed")
      .alias("failed")
      .description(
        "incoming (the ElevenLabs webhook receiver): list dead letters, deliveries with an unknown event type or a payload that could not be applied, kept as received",
      )
      .addOption(
        new Option("--limit <n>", "how many to list, oldest first").argParser(parseLimit).default(1000),
      )
      .option("--json", "print each dead letter as one JSON line, with its conversation_id and body"),
  ).action(async (flags: StorageFlags & { limit: number; json?: boolean }) =>
    withServices(flags, async ({ db }) => {
      const letters = await db.webhooks.listDeadLetters(flags.limit);
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
      .command("received-pending")
      .alias("pending")
      .description(
        "incoming (the ElevenLabs webhook receiver): list audio received by webhook whose transcription has not arrived yet",
      )
      .addOption(
        new Option("--limit <n>", "how many to list, oldest first").argParser(parseLimit).default(1000),
      ),
  ).action(async (flags: StorageFlags & { limit: number }) =>
    withServices(flags, async ({ db }) => {
      const pending = await db.webhooks.listPendingAudio(flags.limit);
      for (const p of pending) {
        process.stdout.write(`${iso(p.receivedAtUnixSecs)}\t${p.conversationId}\t${p.audio.size} bytes\n`);
      }
      if (pending.length === 0) process.stderr.write("No audio is waiting for its transcription.\n");
    }),
  );
}

/** `webhooks deliveries`: the outgoing delivery log, newest first. */
function registerDeliveriesCommand(webhooks: Command): void {
  withStorageOptions(
    webhooks
      .command("deliveries")
      .description(
        "outgoing (the post-call webhooks this server sends): list deliveries, newest first, with their attempts and last answer",
      )
      .addOption(new Option("--failed", "only deliveries that failed for good").conflicts("pending"))
      .option("--pending", "only deliveries waiting for their next attempt")
      .addOption(
        new Option("--since <time>", `only deliveries queued since: ${SINCE_FORMS}`).argParser(checkSince),
      )
      .option("--webhook <id>", "only deliveries to this webhook")
      .option("--conversation <id>", "only deliveries about this conversation")
      .addOption(new Option("--limit <n>", "how many to list").argParser(parseLimit).default(50))
      .option("--json", "print each delivery as one JSON line, as the API lists it"),
  ).action(async (flags: DeliveriesFlags) =>
    withServices(flags, async (services) => {
      const page = await services.webhooksOut.deliveries.list({
        ...(flags.failed ? { status: "failed" as const } : {}),
        ...(flags.pending ? { status: "pending" as const } : {}),
        ...(flags.since !== undefined ? { since: flags.since } : {}),
        ...(flags.webhook !== undefined ? { webhookId: flags.webhook } : {}),
        ...(flags.conversation !== undefined ? { conversationId: flags.conversation } : {}),
        pageSize: flags.limit,
      });
      if (page.deliveries.length === 0) {
        process.stderr.write("No webhook deliveries match.\n");
        return;
      }
      if (flags.json) {
        for (const d of page.deliveries) process.stdout.write(`${JSON.stringify(d)}\n`);
      } else {
        process.stdout.write(renderTable(page.deliveries));
      }
      if (page.has_more) {
        process.stderr.write(`These are the newest ${flags.limit}; pass a larger --limit to see more.\n`);
      }
    }),
  );
}

/** `webhooks redeliver ID` / `webhooks redeliver --failed --since T`: queues deliveries again. */
function registerRedeliverCommand(webhooks: Command): void {
  withStorageOptions(
    webhooks
      .command("redeliver")
      .description(
        "outgoing (the post-call webhooks this server sends): queue a delivery again by id, or every delivery matching --failed, --since and --webhook (at least one)",
      )
      .argument("[delivery_id]", "the delivery to send again (its id stays: receivers drop duplicates by it)")
      .option("--failed", "every delivery that failed for good")
      .addOption(
        new Option("--since <time>", `every delivery queued since: ${SINCE_FORMS}`).argParser(checkSince),
      )
      .option("--webhook <id>", "every delivery to this webhook"),
  ).action(async (deliveryId: string | undefined, flags: RedeliverFlags, command: Command) => {
    const filtered = flags.failed === true || flags.since !== undefined || flags.webhook !== undefined;
    if (deliveryId !== undefined && filtered) {
      command.error("error: give a delivery id or filters (--failed, --since, --webhook), not both");
    }
    if (deliveryId === undefined && !filtered) {
      command.error(
        "error: give a delivery id, or at least one filter (--failed, --since, --webhook): a replay of every delivery is refused",
      );
    }
    await withServices(flags, async (services) => {
      const log = services.webhooksOut.deliveries;
      if (deliveryId !== undefined) {
        await redeliverOne(services, log, deliveryId);
        return;
      }
      const selection: RedeliverSelection = {
        ...(flags.failed ? { status: "failed" as const } : {}),
        ...(flags.since !== undefined ? { since: flags.since } : {}),
        ...(flags.webhook !== undefined ? { webhookId: flags.webhook } : {}),
      };
      const { redelivered } = await log.redeliverMatching(selection);
      if (redelivered === 0) {
        process.stderr.write("No webhook deliveries match: nothing was queued.\n");
        return;
      }
      process.stderr.write(
        `Queued ${redelivered} ${redelivered === 1 ? "delivery" : "deliveries"} again. ${whenSent(services.config)}\n`,
      );
    });
  });
}

/** Queues one delivery again, saying why not when it is unknown (exit 1) or cancelled (exit 1). */
async function redeliverOne(services: Services, log: DeliveryLog, deliveryId: string): Promise<void> {
  const list = suggestCommand(services.config, ["webhooks", "deliveries"]);
  let status: string;
  try {
    status = (await log.get(deliveryId)).status;
  } catch (error) {
    if (!(error instanceof NotFoundError)) throw error;
    process.stderr.write(`No webhook delivery ${deliveryId}. See ${list}.\n`);
    process.exitCode = 1;
    return;
  }
  const { redelivered } = await log.redeliver(deliveryId);
  if (redelivered === 0) {
    process.stderr.write(
      `Delivery ${deliveryId} is ${status} (its webhook was deleted): it cannot be sent again.\n`,
    );
    process.exitCode = 1;
    return;
  }
  process.stderr.write(
    `Queued delivery ${deliveryId} again. ${whenSent(services.config).replace("them", "it")}\n`,
  );
}
