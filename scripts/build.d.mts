// Types for scripts/build.mjs (plain JavaScript so that it runs before anything is compiled).

/** The stamp a successful build leaves, relative to the project root; its mtime is when the build began. */
export declare const BUILD_STAMP: string;
/** The project the script belongs to. */
export declare const PROJECT_ROOT: string;
/** Why the build in `root` is out of date, or undefined when it is current. */
export declare function findStaleBuildReason(root: string): string | undefined;
/** Writes the build stamp with its mtime at `startedAtMs`. */
export declare function writeBuildStamp(root: string, startedAtMs: number): void;
/** Compiles `root` with tsc, makes the bin executable and stamps the build; false if tsc failed. */
export declare function buildProject(root: string): boolean;

/** Where the console is built to (relative to the project root). */
export declare const CONSOLE_OUT: string;

/** Builds the console (console/) with Vite into `outDir` (default dist/console); false if Vite failed. */
export declare function buildConsole(root: string, outDir?: string): boolean;
