/**
 * Checking NDJSON lines: parse, validate and build the record of each line. Pure and
 * synchronous, so it can run on the importer's thread or in a worker (ndjson-check-worker.ts).
 */
import { checkIncomingDocument } from "../conversations/document-validator.js";
import { parseJson } from "../conversations/parse-json.js";
import { limitIssues } from "../conversations/validation-issues.js";
import type { ConversationRecord } from "../domain/conversation.js";
import type { ValidationIssue } from "../domain/errors.js";
import { MAX_ID_LENGTH } from "../domain/id-length.js";

/** A line of input: its bytes without the newline, or null when it is over the size limit. */
export type Line = Uint8Array | null;

/** A line that cannot be imported, and what is wrong with it (issues located under `["line", n]`). */
export interface BadLine {
  line: number;
  issues: ValidationIssue[];
}

/** What checking a run of lines found. */
export interface LinesResult {
  /** Records of the valid lines, in line order (empty when not asked for). */
  records: ConversationRecord[];
  /** The line number of each record, so a record the database refuses can be reported by its line. */
  recordLines: number[];
  valid: number;
  bad: BadLine[];
  blank: number;
}

function isBlank(bytes: Uint8Array): boolean {
  for (let i = 0; i < bytes.length; i++) {
    const b = bytes[i];
    if (b !== 0x20 && b !== 0x09 && b !== 0x0d) return false;
  }
  return true;
}

function checkConversationId(doc: unknown, loc: (string | number)[]): ValidationIssue | undefined {
  if (doc === null || typeof doc !== "object" || Array.isArray(doc)) return undefined;
  const id = (doc as Record<string, unknown>).conversation_id;
  const at = [...loc, "conversation_id"];
  if (id === undefined || id === null) return { loc: at, msg: "Field required", type: "missing" };
  if (typeof id !== "string") return { loc: at, msg: "Input should be a valid string", type: "string_type" };
  if (id.length > MAX_ID_LENGTH) {
    return {
      loc: at,
      msg: `String should have at most ${MAX_ID_LENGTH} characters`,
      type: "string_too_long",
    };
  }
  return undefined;
}

// fatal: invalid UTF-8 makes a bad line rather than silently replaced characters. A leading BOM is dropped.
const utf8 = new TextDecoder("utf-8", { fatal: true });

function checkLine(
  bytes: Uint8Array,
  line: number,
): { ok: true; record: ConversationRecord } | { ok: false; issues: ValidationIssue[] } {
  const loc = ["line", line];
  let doc: unknown;
  try {
    doc = parseJson(utf8.decode(bytes));
  } catch (error) {
    const msg =
      error instanceof SyntaxError
        ? `JSON decode error: ${error.message}`
        : "JSON decode error: invalid UTF-8";
    return { ok: false, issues: [{ loc, msg, type: "json_invalid" }] };
  }
  const idIssue = checkConversationId(doc, loc);
  const checked = checkIncomingDocument(doc, undefined, loc);
  if (checked.ok && !idIssue) return checked;
  const issues = checked.ok ? [] : checked.issues;
  if (!idIssue) return { ok: false, issues };
  // The line's own id comes first (it says which conversation the line is), in place of what the
  // schema said about the same key; every other issue follows, within the cap.
  const at = idIssue.loc.join("\u0000");
  return { ok: false, issues: limitIssues([idIssue, ...issues.filter((i) => i.loc.join("\u0000") !== at)]) };
}

/** Checks lines numbered from `firstLine`; without `buildRecords` it only validates (a strict first pass). */
export function checkLines(
  lines: Line[],
  firstLine: number,
  maxLineBytes: number,
  buildRecords: boolean,
): LinesResult {
  const result: LinesResult = { records: [], recordLines: [], valid: 0, bad: [], blank: 0 };
  for (const [i, bytes] of lines.entries()) {
    const line = firstLine + i;
    if (bytes === null) {
      const msg = `The line is larger than the limit of ${maxLineBytes} bytes (OPENCONVAI_MAX_JSON_BYTES)`;
      result.bad.push({ line, issues: [{ loc: ["line", line], msg, type: "too_long" }] });
    } else if (isBlank(bytes)) {
      result.blank++;
    } else {
      const checked = checkLine(bytes, line);
      if (!checked.ok) result.bad.push({ line, issues: checked.issues });
      else {
        result.valid++;
        if (buildRecords) {
          result.records.push(checked.record);
          result.recordLines.push(line);
        }
      }
    }
  }
  return result;
}
