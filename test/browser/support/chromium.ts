/**
 * Headless Chromium for the browser tests, driven by playwright-core (which downloads no browser:
 * it runs the system's). The flags are those the protocol probe used: no sandbox (CI runs as
 * root), fake media devices that need no permission prompt, audio that may start without a user
 * gesture, and optionally a WAV file looped as the microphone.
 */
import { existsSync } from "node:fs";
import { type Browser, chromium } from "playwright-core";

/** Where Debian's `chromium` package puts the browser; `OPENCONVAI_TEST_CHROMIUM` points elsewhere. */
export const CHROMIUM_PATH = process.env.OPENCONVAI_TEST_CHROMIUM ?? "/usr/bin/chromium";

/** How long launching may take before the test fails (a cold start on a busy machine is a few seconds). */
const LAUNCH_TIMEOUT_MS = 20_000;

/** The command-line flags every test browser gets. */
export const CHROMIUM_ARGS: readonly string[] = [
  "--no-sandbox",
  "--disable-gpu",
  "--disable-background-networking",
  "--disable-component-update",
  "--disable-sync",
  "--no-first-run",
  "--use-fake-ui-for-media-stream",
  "--use-fake-device-for-media-stream",
  "--autoplay-policy=no-user-gesture-required",
];

/** What a test browser is launched with. */
export interface ChromiumOptions {
  /** An absolute path to a WAV file the fake microphone loops (see fake-mic.ts). */
  fakeMicWav?: string;
}

/**
 * Launches headless Chromium. Throws (so the suite fails, never skips) when the browser is not
 * installed, saying how to install it.
 */
export async function launchChromium(options: ChromiumOptions = {}): Promise<Browser> {
  if (!existsSync(CHROMIUM_PATH)) {
    throw new Error(
      `Chromium is not installed at ${CHROMIUM_PATH}. Install it with ` +
        "`apt-get install -y --no-install-recommends chromium` (as root; .ci/run does this), " +
        "or set OPENCONVAI_TEST_CHROMIUM to a Chromium binary, then run the tests again.",
    );
  }
  const args = [...CHROMIUM_ARGS];
  if (options.fakeMicWav) args.push(`--use-file-for-fake-audio-capture=${options.fakeMicWav}`);
  return chromium.launch({ executablePath: CHROMIUM_PATH, headless: true, args, timeout: LAUNCH_TIMEOUT_MS });
}

/** Closes a browser launched by `launchChromium`, if there is one (for afterAll after a failed launch). */
export async function closeChromium(browser: Browser | undefined): Promise<void> {
  await browser?.close();
}
