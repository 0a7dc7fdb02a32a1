/**
 * Checking a body against a plain JSON Schema (no `$ref`, no unions: agent-schema.ts) at a cost
 * bounded by what is reported, not by how much is wrong. A stop-at-first-error pass decides; only
 * a failing value is walked again to list its issues, the way document-validator.ts lists those of
 * a conversation: a large value is checked part by part (a list item by item) and the walk stops
 * at MAX_ISSUES, so a body holding millions of bad values costs about what one holding a hundred
 * does (Ajv's all-errors mode would build an error for each, then copy its growing error list).
 */
import { Ajv, type ValidateFunction } from "ajv";
import { holdsAtMost } from "../conversations/parse-json.js";
import {
  type IssueLocation,
  limitIssues,
  MAX_ISSUES,
  toValidationIssues,
} from "../conversations/validation-issues.js";
import type { ValidationIssue } from "../domain/errors.js";

type Schema = Record<string, unknown>;

/** A check of one value: its issues (strict, under the prefix given), at most MAX_ISSUES; empty when valid. */
export type SchemaCheck = (value: unknown, prefix: IssueLocation) => ValidationIssue[];

// Strict: bodies are JSON, checked as the SDK will read them back (no coercion).
const fastAjv = new Ajv({ strict: false, allErrors: false, validateFormats: false });
const detailedAjv = new Ajv({ strict: false, allErrors: true, validateFormats: false });
const detailedValidators = new WeakMap<Schema, ValidateFunction>();

/**
 * How many values a value may hold to be checked whole by the all-errors validator (its errors are
 * then at most about this many); a larger one is checked part by part.
 */
const CHECK_WHOLE_VALUES = 2000;

/** The all-errors validator of a schema or a part of one, compiled the first time a value fails there. */
function detailedValidator(schema: Schema): ValidateFunction {
  let validate = detailedValidators.get(schema);
  if (!validate) {
    validate = detailedAjv.compile(schema);
    detailedValidators.set(schema, validate);
  }
  return validate;
}

/** Whether a value is a JSON object (not an array, not null). */
function isObject(value: unknown): value is Record<string, unknown> {
  return value !== null && typeof value === "object" && !Array.isArray(value);
}

/** The schema of a key of an object (its property, or the schema of a map's entries); undefined if none. */
function keySchema(schema: Schema, key: string): Schema | undefined {
  const properties = schema.properties;
  if (isObject(properties) && Object.hasOwn(properties, key)) return properties[key] as Schema;
  return isObject(schema.additionalProperties) ? schema.additionalProperties : undefined;
}

/** Whether an issue is located at or under one of the keys (just below `prefix`). */
function isUnder(issue: ValidationIssue, prefix: IssueLocation, keys: ReadonlySet<string>): boolean {
  return issue.loc.length > prefix.length && keys.has(String(issue.loc[prefix.length]));
}

/**
 * Lists what is wrong with `data` under `schema`. A value holding at most CHECK_WHOLE_VALUES values
 * is checked whole. A larger list is checked as an empty list (its own type), then item by item; a
 * larger object without the keys its schema describes (the rest, and what is required), then each
 * of those keys' values on its own, in order. Either way the walk stops at MAX_ISSUES.
 */
function collectIssues(schema: Schema, data: unknown, prefix: IssueLocation): ValidationIssue[] {
  if (holdsAtMost(data, CHECK_WHOLE_VALUES)) return checkWhole(schema, data, prefix);
  if (Array.isArray(data) && isObject(schema.items)) {
    const issues = checkWhole(schema, [], prefix);
    if (issues.length > 0) return issues;
    for (const [i, item] of data.entries()) {
      if (issues.length >= MAX_ISSUES) break;
      issues.push(...collectIssues(schema.items, item, [...prefix, i]));
    }
    return limitIssues(issues);
  }
  if (!isObject(data) || !(isObject(schema.properties) || isObject(schema.additionalProperties))) {
    // Nothing inside is described: the check is of the value's own kind, a few errors at most.
    return checkWhole(schema, data, prefix);
  }
  const described = Object.keys(data).filter((key) => keySchema(schema, key) !== undefined);
  const apart = new Set(described);
  const rest = Object.fromEntries(Object.entries(data).filter(([key]) => !apart.has(key)));
  // A key checked apart is there: the "missing" its absence from `rest` reports is dropped.
  const issues = checkWhole(schema, rest, prefix).filter((issue) => !isUnder(issue, prefix, apart));
  for (const key of described) {
    if (issues.length >= MAX_ISSUES) break;
    issues.push(...collectIssues(keySchema(schema, key) as Schema, data[key], [...prefix, key]));
  }
  return limitIssues(issues);
}

/** The issues of a value checked whole by the all-errors validator. */
function checkWhole(schema: Schema, data: unknown, prefix: IssueLocation): ValidationIssue[] {
  const validate = detailedValidator(schema);
  return validate(data) ? [] : toValidationIssues(validate.errors ?? [], prefix, "strict");
}

/**
 * Compiles a check of values against a plain JSON Schema: a valid value costs one stop-at-first-error
 * pass; a failing one gets its issues listed (every problem, at most MAX_ISSUES) at a bounded cost.
 */
export function compileSchemaCheck(schema: Schema): SchemaCheck {
  const validate = fastAjv.compile(schema);
  return (value, prefix) => (validate(value) ? [] : collectIssues(schema, value, prefix));
}
