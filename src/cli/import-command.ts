import type { Command } from "commander";

/** `openconvai import FILE|-`: bulk-loads NDJSON conversations. */
export function registerImportCommand(_program: Command): void {}
