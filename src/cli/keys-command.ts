import type { Command } from "commander";
import { withServices, withStorageOptions } from "./cli-context.js";

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
      withServices(flags, async ({ keys: service }) => {
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
        if (rows.length === 0)
          process.stderr.write("No keys yet. Create one with `openconvai keys create`.\n");
      }),
  );
  withStorageOptions(
    keys.command("revoke").description("revoke a key by id or prefix").argument("<id-or-prefix>"),
  ).action(async (idOrPrefix: string, flags) =>
    withServices(flags, async ({ keys: service }) => {
      const n = await service.revoke(idOrPrefix);
      if (n === 0) {
        process.stderr.write(`No active key matches "${idOrPrefix}". See \`openconvai keys list\`.\n`);
        process.exitCode = 1;
        return;
      }
      process.stderr.write(`Revoked ${n} key(s). Running servers stop accepting it within 5 seconds.\n`);
    }),
  );
}
