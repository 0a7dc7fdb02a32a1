/**
 * Agents in a backup (`agents.ndjson`): one line per agent, oldest first, with its place in the
 * list, its times and its stored document, so a restored server lists and serves it as before.
 */
import { stat } from "node:fs/promises";
import path from "node:path";
import { agentName, isJsonObject, SERVER_OWNED_KEYS } from "../agents/agent-document.js";
import { foldForSearch } from "../domain/search-fold.js";
import type { Database } from "../store/store.js";
import { BadBackupLineError, lineText, lineWhole, readBackupLines } from "./backup-lines.js";
import { BACKUP_PATHS } from "./backup-manifest.js";

const PAGE = 500;

/** Every agent as a backup line, oldest first (a restore that cannot keep a place keeps the order). */
export async function* agentLines(db: Database): AsyncGenerator<unknown> {
  let after: number | null = null;
  for (;;) {
    const page = await db.agents.scanAgents(after, PAGE);
    for (const a of page) {
      yield {
        agent_id: a.agentId,
        seq: a.seq,
        created_at_unix_secs: a.createdAtUnixSecs,
        updated_at_unix_secs: a.updatedAtUnixSecs,
        // The stored text is JSON.stringify's output, so parsing and writing it again gives it back
        // byte for byte on restore.
        document: JSON.parse(a.json) as unknown,
      };
    }
    after = page[page.length - 1]?.seq ?? null;
    if (page.length < PAGE) break;
  }
}

/**
 * Restores `agents.ndjson`; returns how many agents it holds. A backup without the file (written
 * before backups carried agents) restores none. The document is kept as it was stored, not checked
 * again against this version's agent schema; the search name is folded again from its name.
 */
export async function restoreAgents(dir: string, db: Database, signal?: AbortSignal): Promise<number> {
  const file = path.join(dir, BACKUP_PATHS.agents);
  if (!(await stat(file).catch(() => undefined))) return 0;
  let count = 0;
  for await (const { line, value } of readBackupLines(file, signal)) {
    const document = value.document;
    if (!isJsonObject(document)) throw new BadBackupLineError(file, line, "document must be a JSON object");
    if (SERVER_OWNED_KEYS.some((key) => Object.hasOwn(document, key))) {
      throw new BadBackupLineError(file, line, `document must not hold ${SERVER_OWNED_KEYS.join(" or ")}`);
    }
    await db.agents.restoreAgent({
      seq: lineWhole(file, line, value, "seq"),
      agentId: lineText(file, line, value, "agent_id"),
      json: JSON.stringify(document),
      searchName: foldForSearch(agentName(document)),
      createdAtUnixSecs: lineWhole(file, line, value, "created_at_unix_secs"),
      updatedAtUnixSecs: lineWhole(file, line, value, "updated_at_unix_secs"),
    });
    count++;
  }
  return count;
}
