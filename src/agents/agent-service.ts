import { randomBytes } from "node:crypto";
import { Ajv, type ValidateFunction } from "ajv";
import { toValidationIssues } from "../conversations/validation-issues.js";
import { InvalidInputError } from "../domain/errors.js";
import { foldForSearch } from "../domain/search-fold.js";
import type { AgentRow, AgentStore } from "../store/agent-store.js";
import {
  type AgentDocument,
  agentName,
  isJsonObject,
  mergeAgentPatch,
  parseAgentDocument,
  SERVER_OWNED_KEYS,
  withoutKeys,
} from "./agent-document.js";
import { agentDocumentSchema, duplicateBodySchema } from "./agent-schema.js";

/** Keys of an update body that describe the request, not the agent: not stored. */
const UPDATE_ONLY_KEYS = ["version_description"] as const;

// Strict: bodies are JSON, checked as the SDK will read them back (no coercion).
const ajv = new Ajv({ strict: false, allErrors: true, validateFormats: false });
const validateDocument = ajv.compile(agentDocumentSchema);
const validateDuplicateBody = ajv.compile(duplicateBodySchema);

/** The lower-case letters and digits upstream's agent ids are made of. */
const ID_ALPHABET = "0123456789abcdefghjkmnpqrstvwxyz";

/** A new agent id in upstream's shape (`agent_` and 28 lower-case letters and digits). */
export function newAgentId(): string {
  const bytes = randomBytes(28);
  let id = "agent_";
  for (const byte of bytes) id += ID_ALPHABET[byte % ID_ALPHABET.length];
  return id;
}

/** Throws the 422 of a body that fails `validate`, naming every problem under `body`. */
function check(validate: ValidateFunction, value: unknown): void {
  if (!validate(value))
    throw new InvalidInputError(toValidationIssues(validate.errors ?? [], ["body"], "strict"));
}

/** Refuses a body that is not a JSON object. */
function requireObject(body: unknown): Record<string, unknown> {
  if (isJsonObject(body)) return body;
  throw new InvalidInputError([
    { loc: ["body"], msg: "Input should be a valid dictionary or object", type: "dict_type" },
  ]);
}

/** What the live session and post-call analysis read of an agent. */
export interface AgentConfig {
  agentId: string;
  name: string;
  /** `conversation_config` as stored (snake_case, the SDK's ConversationalConfig). */
  conversationConfig: Record<string, unknown>;
  /** `platform_settings` as stored, or null when the agent has none. */
  platformSettings: Record<string, unknown> | null;
}

/** The Agents API: checks what comes in, stores it as sent, and reads it back; undefined is "no such agent". */
export class AgentService {
  constructor(
    private readonly store: AgentStore,
    private readonly now: () => number = Date.now,
  ) {}

  private nowSecs(): number {
    return Math.floor(this.now() / 1000);
  }

  /** Creates an agent from a create body; returns it as stored. Invalid: InvalidInputError, nothing written. */
  async createAgent(body: unknown): Promise<AgentRow> {
    const doc = withoutKeys(requireObject(body), SERVER_OWNED_KEYS);
    check(validateDocument, doc);
    return this.insert(doc);
  }

  private insert(doc: AgentDocument): Promise<AgentRow> {
    return this.store.createAgent({
      agentId: newAgentId(),
      json: JSON.stringify(doc),
      searchName: foldForSearch(agentName(doc)),
      createdAtUnixSecs: this.nowSecs(),
    });
  }

  /** The stored agent; undefined if there is none. */
  getAgent(agentId: string): Promise<AgentRow | undefined> {
    return this.store.getAgent(agentId);
  }

  /** What the runtime and analysis read of an agent; undefined if there is none. */
  async getAgentConfig(agentId: string): Promise<AgentConfig | undefined> {
    const row = await this.store.getAgent(agentId);
    if (!row) return undefined;
    const doc = parseAgentDocument(row);
    return {
      agentId,
      name: agentName(doc),
      conversationConfig: isJsonObject(doc.conversation_config) ? doc.conversation_config : {},
      platformSettings: isJsonObject(doc.platform_settings) ? doc.platform_settings : null,
    };
  }

  /** A page of agents newest first, after `beforeSeq`; `search` matches names, folded. */
  listAgents(beforeSeq: number | null, limit: number, search: string | undefined): Promise<AgentRow[]> {
    const searchName = search ? foldForSearch(search) : null;
    return this.store.listAgents({ beforeSeq, limit, searchName });
  }

  /**
   * Merges an update body into the agent (mergeAgentPatch) and checks the result as a whole, in one
   * transaction. Returns the agent as written; undefined if there is none. Invalid: InvalidInputError,
   * nothing written.
   */
  async updateAgent(agentId: string, body: unknown): Promise<AgentRow | undefined> {
    const patch = withoutKeys(requireObject(body), [...SERVER_OWNED_KEYS, ...UPDATE_ONLY_KEYS]);
    return this.store.updateAgent(agentId, (current) => {
      const doc = mergeAgentPatch(parseAgentDocument(current), patch) as AgentDocument;
      check(validateDocument, doc);
      return {
        json: JSON.stringify(doc),
        searchName: foldForSearch(agentName(doc)),
        updatedAtUnixSecs: this.nowSecs(),
      };
    });
  }

  /** Copies an agent under a new id (and the body's name, when given); undefined if there is none. */
  async duplicateAgent(agentId: string, body: unknown): Promise<AgentRow | undefined> {
    const request = requireObject(body ?? {});
    check(validateDuplicateBody, request);
    const source = await this.store.getAgent(agentId);
    if (!source) return undefined;
    const doc = parseAgentDocument(source);
    return this.insert(typeof request.name === "string" ? { ...doc, name: request.name } : doc);
  }

  /** Removes an agent; undefined if there was none. */
  deleteAgent(agentId: string): Promise<AgentRow | undefined> {
    return this.store.deleteAgent(agentId);
  }
}
