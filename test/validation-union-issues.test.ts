import { describe, expect, it } from "vitest";
import { checkIncomingDocument } from "../src/conversations/document-validator.js";
import { MAX_ISSUES } from "../src/conversations/validation-issues.js";
import type { ValidationIssue } from "../src/domain/errors.js";
import { buildRichConversation } from "./fixtures/conversations.js";

/** The issues of a document (none when it is valid). */
function issuesOf(doc: Record<string, unknown>): ValidationIssue[] {
  const checked = checkIncomingDocument(doc, undefined);
  return checked.ok ? [] : checked.issues;
}

const locs = (issues: ValidationIssue[]) => issues.map((i) => i.loc);

describe("one issue per problem, without the noise of unions", () => {
  it("reports an optional model of the wrong kind once, without a 'should be None' beside it", () => {
    const doc = buildRichConversation("conv_nullable");
    doc.analysis = 7;
    expect(issuesOf(doc)).toEqual([
      { loc: ["body", "analysis"], msg: "Input should be a valid dictionary or object", type: "dict_type" },
    ]);
  });

  it("reports a tool result that matches no member with the issues of the closest member only", () => {
    const doc = buildRichConversation("conv_union");
    const turn = (doc.transcript as Record<string, unknown>[])[0] as Record<string, unknown>;
    turn.tool_results = [{ request_id: "req_1", tool_name: "lookup", result_value: "{}", is_error: false }];
    expect(issuesOf(doc)).toEqual([
      {
        loc: ["body", "transcript", 0, "tool_results", 0, "tool_has_been_called"],
        msg: "Field required",
        type: "missing",
      },
    ]);
  });

  it("reports a tagged union without its tag as the missing tag only", () => {
    const doc = buildRichConversation("conv_tag");
    (doc.metadata as Record<string, unknown>).phone_call = { direction: "inbound" };
    expect(locs(issuesOf(doc))).toEqual([["body", "metadata", "phone_call", "type"]]);
  });

  it("lists a number that is not finite together with the schema's issues", () => {
    const doc = buildRichConversation("conv_finite");
    (doc.metadata as Record<string, unknown>).call_duration_secs = Number.POSITIVE_INFINITY;
    delete doc.status;
    expect(issuesOf(doc).map(({ loc, type }) => ({ loc, type }))).toEqual([
      { loc: ["body", "metadata", "call_duration_secs"], type: "finite_number" },
      { loc: ["body", "status"], type: "missing" },
    ]);
  });

  it("lists at most the cap for thousands of problems nested in a map and a list", () => {
    const doc = buildRichConversation("conv_nested_many");
    const results = Object.fromEntries(Array.from({ length: 3000 }, (_, i) => [`field_${i}`, {}]));
    doc.analysis = { ...(doc.analysis as object), data_collection_results: results };
    (doc.metadata as Record<string, unknown>).warnings = Array.from({ length: 3000 }, () => 1);
    const issues = issuesOf(doc);
    expect(issues).toHaveLength(MAX_ISSUES);
    const where = new Set(issues.map((i) => JSON.stringify(i.loc.slice(0, 3))));
    for (const at of where) {
      expect([
        JSON.stringify(["body", "analysis", "data_collection_results"]),
        JSON.stringify(["body", "metadata", "warnings"]),
      ]).toContain(at);
    }
  });

  it("still accepts the document each of these started from", () => {
    expect(issuesOf(buildRichConversation("conv_valid"))).toEqual([]);
  });
});
