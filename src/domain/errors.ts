/**
 * The errors the domain and the services throw. They say what went wrong in the domain's terms;
 * the HTTP layer (src/api/) maps them to upstream's envelopes in one place.
 */

/** One FastAPI-style validation issue, as upstream's 422 bodies carry them. */
export interface ValidationIssue {
  loc: (string | number)[];
  msg: string;
  type: string;
}

/** The kinds of thing a request can name that may not exist. */
export type ResourceKind =
  | "conversation"
  | "audio"
  | "tag"
  | "file"
  | "topics"
  | "evaluation_criterion"
  | "agent"
  | "webhook"
  | "webhook_delivery";

/** Something named by id does not exist. */
export class NotFoundError extends Error {
  constructor(
    readonly kind: ResourceKind,
    readonly id: string,
    message?: string,
  ) {
    // The default reads "Conversation conv_1 was not found."; kinds that need other words pass them.
    super(message ?? `${kind[0]?.toUpperCase()}${kind.slice(1).replaceAll("_", " ")} ${id} was not found.`);
    this.name = "NotFoundError";
  }
}

/** Input (a document, a body) is not valid; `issues` say where and why. Nothing was written. */
export class InvalidInputError extends Error {
  constructor(readonly issues: ValidationIssue[]) {
    super(describeIssues(issues));
    this.name = "InvalidInputError";
  }
}

/** Renders issues as one line of text, for logs and dead letters (`loc.path: msg; …`). */
export function describeIssues(issues: readonly ValidationIssue[]): string {
  return issues.map((i) => `${i.loc.join(".")}: ${i.msg}`).join("; ");
}
