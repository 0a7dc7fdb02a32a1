#!/usr/bin/env -S node --max-semi-space-size=32 --heap-growing-percent=100
import { ConfigError } from "../config/config-error.js";
import { SchemaTooNewError } from "../store/store.js";
import { exitCodeFor, runProgram, USAGE_EXIT_CODE } from "./program.js";

// The one place argv is read. Commander has already printed a usage error (unknown command or
// option, missing argument) and its help: exit 2. A configuration or schema the command cannot use
// is one line and exit 2; anything else is a bug, shown with its stack.
try {
  await runProgram(process.argv.slice(2));
} catch (error) {
  const commanderExit = exitCodeFor(error);
  if (commanderExit !== undefined) process.exit(commanderExit);
  if (error instanceof ConfigError || error instanceof SchemaTooNewError) {
    process.stderr.write(`openconvai: ${error.message}\n`);
    process.exit(USAGE_EXIT_CODE);
  }
  throw error;
}
