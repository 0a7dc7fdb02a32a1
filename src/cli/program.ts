import { readFileSync } from "node:fs";
import { Command, CommanderError } from "commander";
import { registerBlobsCommand } from "./blobs-command.js";
import { registerExportCommand } from "./export-command.js";
import { registerImportCommand } from "./import-command.js";
import { registerKeysCommand } from "./keys-command.js";
import { registerSeedCommand } from "./seed-command.js";
import { registerServeCommand } from "./serve-command.js";
import { registerSyncCommand } from "./sync-command.js";
import { registerWebhooksCommand } from "./webhooks-command.js";

/** The exit code of a usage error: an unknown command or option, a missing argument. */
export const USAGE_EXIT_CODE = 2;

/** The version in package.json, which sits two folders up from both src/cli/ and dist/cli/. */
export function readPackageVersion(): string {
  const text = readFileSync(new URL("../../package.json", import.meta.url), "utf8");
  return (JSON.parse(text) as { version: string }).version;
}

const HELP_FOOTER = `
Serve the API with \`openconvai serve\` (in a clone: \`npm start\`). In a clone, run commands as
\`npx openconvai <command>\`; \`npm link\` once puts \`openconvai\` on your PATH.`;

/**
 * Builds the `openconvai` command line with every command registered. Nothing is parsed or run:
 * the bin entry parses process.argv, and a test can parse arguments of its own. Usage errors and
 * help throw a CommanderError (exitOverride) rather than exiting, so the caller picks the exit code
 * (`exitCodeFor`).
 */
export function buildProgram(): Command {
  const program = new Command()
    .name("openconvai")
    .description("Self-hosted server for the ElevenLabs Agents Conversations API.")
    .version(readPackageVersion(), "-v, --version", "print the version")
    .showHelpAfterError()
    .exitOverride()
    .addHelpText("after", HELP_FOOTER);
  registerServeCommand(program);
  registerImportCommand(program);
  registerExportCommand(program);
  registerSyncCommand(program);
  registerSeedCommand(program);
  registerKeysCommand(program);
  registerWebhooksCommand(program);
  registerBlobsCommand(program);
  return program;
}

/**
 * Runs the command line on arguments (without `node` and the script): a bare call prints the help
 * on stdout; anything else is parsed and run.
 */
export async function runProgram(args: readonly string[], program: Command = buildProgram()): Promise<void> {
  if (args.length === 0) {
    program.outputHelp();
    return;
  }
  await program.parseAsync([...args], { from: "user" });
}

/**
 * The exit code for what commander threw: 0 after `--help` or `--version`, the usage exit code for
 * an unknown command or option, a missing argument, a missing subcommand; undefined for anything
 * that is not commander's.
 */
export function exitCodeFor(error: unknown): number | undefined {
  if (!(error instanceof CommanderError)) return undefined;
  return error.exitCode === 0 ? 0 : USAGE_EXIT_CODE;
}
