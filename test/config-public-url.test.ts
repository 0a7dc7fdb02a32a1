import { describe, expect, it } from "vitest";
import { resolveConfig } from "../src/config/config.js";
import { ConfigError } from "../src/config/config-error.js";

const withPublicUrl = (value: string) => resolveConfig({}, { OPENCONVAI_PUBLIC_URL: value });

describe("OPENCONVAI_PUBLIC_URL", () => {
  it("is unset by default (signed URLs take their origin from the request)", () => {
    expect(resolveConfig({}, {}).publicUrl).toBeUndefined();
    expect(resolveConfig({}, { OPENCONVAI_PUBLIC_URL: "" }).publicUrl).toBeUndefined();
  });

  it("takes an http(s) origin, with a port or a trailing slash", () => {
    expect(withPublicUrl("https://convai.example.com").publicUrl).toBe("https://convai.example.com");
    expect(withPublicUrl("https://convai.example.com/").publicUrl).toBe("https://convai.example.com");
    expect(withPublicUrl("http://10.0.0.5:8787").publicUrl).toBe("http://10.0.0.5:8787");
    expect(withPublicUrl("HTTPS://Convai.Example.com:443").publicUrl).toBe("https://convai.example.com");
  });

  it("refuses what is not an http(s) origin, naming the setting and an example", () => {
    for (const value of [
      "convai.example.com",
      "wss://convai.example.com",
      "ftp://convai.example.com",
      "https://convai.example.com/openconvai",
      "https://convai.example.com?x=1",
      "https://convai.example.com/#top",
      "https://user:secret@convai.example.com",
    ]) {
      expect(() => withPublicUrl(value), value).toThrow(ConfigError);
      expect(() => withPublicUrl(value), value).toThrow(
        /OPENCONVAI_PUBLIC_URL.*https:\/\/convai\.example\.com/,
      );
    }
  });
});
