import { ConfigError } from "./config-error.js";

/**
 * Checks that a setting is an http(s) base URL and returns it without trailing slashes. A user
 * name or password is refused (fetch rejects such URLs and would echo them, secret included,
 * in its error) and so are a query and a fragment (paths are appended to a base URL, so they
 * would end up in the wrong place). A value that may hold a secret is never echoed.
 */
export function checkUrl(name: string, value: string): string {
  let url: URL;
  try {
    url = new URL(value);
  } catch {
    throw new ConfigError(`${name} must be an http(s) URL, got ${showValue(value)}.`);
  }
  if (url.protocol !== "http:" && url.protocol !== "https:") {
    throw new ConfigError(`${name} must be an http(s) URL, got ${showValue(value)}.`);
  }
  if (url.username !== "" || url.password !== "") {
    throw new ConfigError(
      `${name} must not include a user name or password: remove them from the URL and put the key in ${keySettingOf(name)}.`,
    );
  }
  if (url.search !== "" || url.hash !== "" || /[?#]/.test(value)) {
    throw new ConfigError(
      `${name} must not have a query (?…) or a fragment (#…): set only the scheme, host and path, e.g. "${url.origin}${url.pathname.replace(/\/+$/, "")}", and put any key in ${keySettingOf(name)}.`,
    );
  }
  return value.replace(/\/+$/, "");
}

/** The API key setting that goes with a URL setting: `OPENCONVAI_TTS_BASE_URL` → `OPENCONVAI_TTS_API_KEY`. */
function keySettingOf(urlSetting: string): string {
  return urlSetting.replace(/_(BASE_)?URL$/, "_API_KEY");
}

/** A raw value quoted for an error message, or a placeholder when it may hold a user name, password or query. */
function showValue(value: string): string {
  return /[@?#]/.test(value) ? "a value that is not shown because it may hold a secret" : `"${value}"`;
}

/** Reads a whole-number setting from `min` to `max`; `fallback` when unset. */
export function readInteger(
  name: string,
  raw: string | undefined,
  fallback: number,
  min: number,
  max: number,
): number {
  if (raw === undefined) return fallback;
  const value = Number(raw);
  if (!/^\d+$/.test(raw.trim()) || value < min || value > max) {
    throw new ConfigError(`${name} must be a whole number from ${min} to ${max}, got "${raw}".`);
  }
  return value;
}
