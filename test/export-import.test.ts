import { mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { PassThrough } from "node:stream";
import { afterEach, describe, expect, it } from "vitest";
import { resolveConfig } from "../src/config/config.js";
import { audioFileName, importAudioDirectory, parseAudioFileName } from "../src/ingest/audio-files.js";
import { loadDemoConversations } from "../src/ingest/demo-conversations.js";
import { exportNdjson } from "../src/ingest/ndjson-exporter.js";
import { importNdjson } from "../src/ingest/ndjson-importer.js";
import { openNdjsonFile } from "../src/ingest/ndjson-source.js";
import { openServices, type Services } from "../src/main.js";
import { BACKENDS, createTestStorage, type TestStorage } from "./support/backends.js";
import { type CliResult, runCli as runCliProcess } from "./support/run-cli.js";

/** Everything in a directory, file name to bytes. */
function readDirectory(dir: string): Map<string, Buffer> {
  return new Map(
    readdirSync(dir)
      .sort()
      .map((name) => [name, readFileSync(path.join(dir, name))]),
  );
}

async function openStorage(storage: TestStorage): Promise<Services> {
  return openServices(resolveConfig({ data: storage.dataDir, databaseUrl: storage.databaseUrl }, {}));
}

/** Exports the services to a string and an audio directory. */
async function exportAll(services: Services, audioDir: string): Promise<string> {
  const out = new PassThrough();
  const chunks: Buffer[] = [];
  out.on("data", (c: Buffer) => chunks.push(c));
  await exportNdjson(services.db.conversations, services.blobs, out, { audioDir, pageSize: 5 });
  out.end();
  return Buffer.concat(chunks).toString("utf8");
}

describe("audio file names", () => {
  it("round-trip ids with any characters, and give the content type back", () => {
    for (const id of ["conv_1", "a.b", ".hidden", "ünï/cödé?&", "x".repeat(200)]) {
      const name = audioFileName(id, "audio/mpeg");
      expect(name.endsWith(".mp3")).toBe(true);
      expect(name.startsWith(".")).toBe(false);
      expect(name).not.toContain("/");
      expect(parseAudioFileName(name)).toEqual({ conversationId: id, contentType: "audio/mpeg" });
    }
    expect(parseAudioFileName(audioFileName("c", "audio/wav"))).toEqual({
      conversationId: "c",
      contentType: "audio/wav",
    });
    expect(parseAudioFileName("notes.txt")).toBeUndefined();
  });
});

describe.each(BACKENDS)("export, import into an empty database, export again (%s)", (backend) => {
  const cleanups: (() => Promise<void>)[] = [];
  afterEach(async () => {
    for (const c of cleanups.splice(0).reverse()) await c();
  });

  it("gives identical NDJSON and identical audio files", async () => {
    const work = mkdtempSync(path.join(tmpdir(), "openconvai-export-"));
    cleanups.push(async () => rmSync(work, { recursive: true, force: true }));
    const first = createTestStorage(backend);
    const second = createTestStorage(backend);
    cleanups.push(first.cleanup, second.cleanup);

    const a = await openStorage(first);
    cleanups.push(() => a.close());
    await loadDemoConversations(a.conversations, 1_760_000_000);
    // One recording in another format, and one conversation without any.
    await a.conversations.putAudio("conv_demo_02", Buffer.from("RIFF....WAVEfmt "), "audio/wav");
    const withoutAudio = (await a.db.conversations.getConversation("conv_demo_03")) as { json: string };
    await a.db.conversations.deleteConversation("conv_demo_03");
    const doc = JSON.parse(withoutAudio.json) as Record<string, unknown>;
    doc.conversation_id = "conv_no_audio";
    await a.conversations.putConversation(doc, { conversationId: "conv_no_audio" });

    const firstExport = await exportAll(a, path.join(work, "audio-1"));
    const ndjson = path.join(work, "export-1.ndjson");
    writeFileSync(ndjson, firstExport);

    const b = await openStorage(second);
    cleanups.push(() => b.close());
    const summary = await importNdjson(await openNdjsonFile(ndjson), b.conversations, {
      maxLineBytes: 16 << 20,
    });
    expect(summary).toMatchObject({ created: 12, replaced: 0, bad: 0 });
    const audio = await importAudioDirectory(path.join(work, "audio-1"), b.conversations);
    expect(audio).toEqual({ loaded: 11, unknownConversation: [], skipped: [] });

    const secondExport = await exportAll(b, path.join(work, "audio-2"));
    expect(secondExport).toBe(firstExport);
    expect(firstExport.split("\n").filter(Boolean)).toHaveLength(12);
    const audio1 = readDirectory(path.join(work, "audio-1"));
    const audio2 = readDirectory(path.join(work, "audio-2"));
    expect([...audio2.keys()]).toEqual([...audio1.keys()]);
    expect(audio1.size).toBe(11);
    expect(audio1.has("conv_demo_02.wav")).toBe(true);
    for (const [name, bytes] of audio1) expect(audio2.get(name)?.equals(bytes), name).toBe(true);
    const stored = await b.db.conversations.getConversation("conv_demo_02");
    expect(stored?.audio?.contentType).toBe("audio/wav");
  });
});

/** Runs the CLI with a data dir (and nothing else) from the environment. */
function runCli(args: string[], dataDir: string): Promise<CliResult> {
  return runCliProcess(args, { env: { OPENCONVAI_DATA: dataDir } });
}

describe("openconvai export and import --audio (CLI, SQLite)", () => {
  it("round-trips through files, and lists failed webhooks", async () => {
    const work = mkdtempSync(path.join(tmpdir(), "openconvai-export-cli-"));
    try {
      const a = path.join(work, "a");
      const b = path.join(work, "b");
      expect((await runCli(["seed", "--demo"], a)).code).toBe(0);
      const first = await runCli(
        ["export", "--out", path.join(work, "1.ndjson"), "--audio", path.join(work, "audio-1")],
        a,
      );
      expect(first.code, first.stderr).toBe(0);
      expect(first.stderr).toMatch(/12 conversations, 12 audio files/);
      const loaded = await runCli(
        ["import", path.join(work, "1.ndjson"), "--audio", path.join(work, "audio-1")],
        b,
      );
      expect(loaded.code, loaded.stderr).toBe(0);
      expect(loaded.stderr).toMatch(/12 recordings loaded/);
      const second = await runCli(["export", "--audio", path.join(work, "audio-2")], b);
      expect(second.code, second.stderr).toBe(0);
      expect(second.stdout).toBe(readFileSync(path.join(work, "1.ndjson"), "utf8"));
      const audio1 = readDirectory(path.join(work, "audio-1"));
      const audio2 = readDirectory(path.join(work, "audio-2"));
      expect([...audio2.keys()]).toEqual([...audio1.keys()]);
      for (const [name, bytes] of audio1) expect(audio2.get(name)?.equals(bytes), name).toBe(true);

      const none = await runCli(["webhooks", "failed"], b);
      expect(none.code).toBe(0);
      expect(none.stdout).toBe("");
      expect(none.stderr).toMatch(/No failed webhook deliveries/);
      const services = await openServices(resolveConfig({ data: b }, {}));
      try {
        await services.db.webhooks.addDeadLetter({
          bodySha256: "ab".repeat(32),
          type: "answering_machine_detection",
          reason: 'Unknown webhook event type "answering_machine_detection".',
          body: '{"type":"answering_machine_detection","data":{}}',
          receivedAtUnixSecs: 1_760_000_000,
        });
      } finally {
        await services.close();
      }
      const failed = await runCli(["webhooks", "failed"], b);
      expect(failed.code).toBe(0);
      expect(failed.stdout).toBe(
        `2025-10-09T08:53:20.000Z\tanswering_machine_detection\t${"ab".repeat(8)}\tUnknown webhook event type "answering_machine_detection".\n`,
      );
      const json = await runCli(["webhooks", "failed", "--json"], b);
      expect(JSON.parse(json.stdout).body).toBe('{"type":"answering_machine_detection","data":{}}');
    } finally {
      rmSync(work, { recursive: true, force: true });
    }
  });
});
