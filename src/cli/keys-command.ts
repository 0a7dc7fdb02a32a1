import type { Command } from "commander";
import type { RevokeOutcome } from "../auth/api-keys.js";
import { MIN_PARTIAL_REFERENCE } from "../auth/key-reference.js";
import type { ApiKeyRow } from "../store/store.js";
import { suggestCommand, withServices, withStorageOptions } from "./cli-context.js";

/** `openconvai keys create|list|revoke`: API keys, stored hashed. */
export function registerKeysCommand(program: Command): void {
  const keys = program.command("keys").description("manage API keys");
  withStorageOptions(keys.command("create").description("create a key and print it (last line of stdout)"))
    .option("--name <name>", "a label for the key", "cli")
    .action(async (flags) =>
      withServices(flags, async ({ keys: service }) => {
        const { row, secret } = await service.create(flags.name);
        process.stderr.write(`Created key ${row.id} (${row.name}). It is shown only once:\n`);
        process.stdout.write(`${secret}\n`);
      }),
    );
  withStorageOptions(keys.command("list").description("list keys (never their secrets)")).action(
    async (flags) =>
      withServices(flags, async ({ config, keys: service }) => {
        const rows = await service.list();
        for (const k of rows) {
          const state =
            k.revokedAtUnixSecs === null
              ? "active"
              : `revoked ${new Date(k.revokedAtUnixSecs * 1000).toISOString()}`;
          process.stdout.write(
            `${k.id}\t${k.prefix}…\t${k.name}\t${new Date(k.createdAtUnixSecs * 1000).toISOString()}\t${state}\n`,
          );
        }
        if (rows.length === 0) {
          process.stderr.write(
            `No keys yet. Create one with ${suggestCommand(config, ["keys", "create"])}.\n`,
          );
        }
      }),
  );
  withStorageOptions(
    keys
      .command("revoke")
      .description(
        "revoke a key by id, by the prefix `keys list` shows (with or without the …), by the start of either, or by the full key",
      )
      .argument("<key>", "id, prefix, or full key"),
  ).action(async (reference: string, flags) =>
    withServices(flags, async ({ config, keys: service }) =>
      reportRevocation(await service.revokeByReference(reference), suggestCommand(config, ["keys", "list"])),
    ),
  );
}

/** One line per key for a message: id, prefix and name, never a secret. */
function describeKeys(rows: readonly ApiKeyRow[]): string {
  return rows.map((k) => `  ${k.id}\t${k.prefix}…\t${k.name}\n`).join("");
}

/** Says what `keys revoke` did, and sets the exit code: 1 nothing matched, 2 the reference can't pick one. */
function reportRevocation(outcome: RevokeOutcome, listCommand: string): void {
  const see = `See ${listCommand}.`;
  switch (outcome.status) {
    case "revoked":
      process.stderr.write(
        `Revoked key ${outcome.key.id} (${outcome.key.prefix}…, ${outcome.key.name}). ` +
          "Running servers stop accepting it within 5 seconds.\n",
      );
      return;
    case "already-revoked":
      process.stderr.write(`Already revoked, nothing to do:\n${describeKeys(outcome.keys)}`);
      return;
    case "ambiguous":
      process.stderr.write(
        `That matches ${outcome.candidates.length} active keys; nothing was revoked. ` +
          `Give the id or more of the prefix:\n${describeKeys(outcome.candidates)}`,
      );
      process.exitCode = 2;
      return;
    case "too-short":
      process.stderr.write(
        `Too short to pick a key: give the id, the prefix \`keys list\` shows, or at least ${MIN_PARTIAL_REFERENCE} characters of either. ${see}\n`,
      );
      process.exitCode = 2;
      return;
    case "not-found":
      process.stderr.write(`No key matches. Give its id, its prefix or the full key. ${see}\n`);
      process.exitCode = 1;
      return;
  }
}
