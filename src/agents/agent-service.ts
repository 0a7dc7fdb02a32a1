import { randomBytes } from "node:crypto";
import { InvalidInputError } from "../domain/errors.js";
import { foldForSearch } from "../domain/search-fold.js";
import type { AgentChange, AgentRow, AgentStore } from "../store/agent-store.js";
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
import { compileSchemaCheck, type SchemaCheck } from "./schema-check.js";

/** Keys of an update body that describe the request, not the agent: not stored. */
const UPDATE_ONLY_KEYS = ["version_description"] as const;

const checkDocument = compileSchemaCheck(agentDocumentSchema);
const checkDuplicateBody = compileSchemaCheck(duplicateBodySchema);

/**
 * How many attempts a PATCH makes. Each merges and checks outside the write transaction, and is
 * done again if another writer changed the agent meanwhile; the last merges and checks inside the
 * transaction, so that a PATCH always finishes.
 */
const UPDATE_ATTEMPTS = 5;

/** Thrown inside the write transaction when the agent is no longer what was merged and checked. */
class AgentChangedMeanwhile extends Error {}

/** The lower-case letters and digits upstream's agent ids are made of. */
const ID_ALPHABET = "0123456789abcdefghjkmnpqrstvwxyz";

/** A new agent id in upstream's shape (`agent_` and 28 lower-case letters and digits). */
export function newAgentId(): string {
  const bytes = randomBytes(28);
  let id = "agent_";
  for (const byte of bytes) id += ID_ALPHABET[byte % ID_ALPHABET.length];
  return id;
}

/** Throws the 422 of a body that fails the check, naming every problem under `body` (at most MAX_ISSUES). */
function check(schemaCheck: SchemaCheck, value: unknown): void {
  const issues = schemaCheck(value, ["body"]);
  if (issues.length > 0) throw new InvalidInputError(issues);
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
    check(checkDocument, doc);
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
   * Merges an update body into the agent (mergeAgentPatch) and checks the result as a whole. The
   * merge and the check run before the write transaction, which only writes them if the agent is
   * still what was merged (else they are done again): no lock is held while a body is checked.
   * Returns the agent as written; undefined if there is none. Invalid: InvalidInputError, nothing
   * written.
   */
  async updateAgent(agentId: string, body: unknown): Promise<AgentRow | undefined> {
    const patch = withoutKeys(requireObject(body), [...SERVER_OWNED_KEYS, ...UPDATE_ONLY_KEYS]);
    for (let attempt = 1; attempt < UPDATE_ATTEMPTS; attempt++) {
      const read = await this.store.getAgent(agentId);
      if (!read) return undefined;
      const change = this.mergeChecked(read, patch);
      try {
        return await this.store.updateAgent(agentId, (current) => {
          if (current.json !== read.json) throw new AgentChangedMeanwhile();
          return change;
        });
      } catch (error) {
        if (!(error instanceof AgentChangedMeanwhile)) throw error;
      }
    }
    // Changed under every attempt: merged and checked in the transaction, against what it holds.
    return this.store.updateAgent(agentId, (current) => this.mergeChecked(current, patch));
  }

  /** The change that writes `patch` merged into an agent; InvalidInputError if the result is invalid. */
  private mergeChecked(current: AgentRow, patch: AgentDocument): AgentChange {
    const doc = mergeAgentPatch(parseAgentDocument(current), patch) as AgentDocument;
    check(checkDocument, doc);
    return {
      json: JSON.stringify(doc),
      searchName: foldForSearch(agentName(doc)),
      updatedAtUnixSecs: this.nowSecs(),
    };
  }

  /** Copies an agent under a new id (and the body's name, when given); undefined if there is none. */
  async duplicateAgent(agentId: string, body: unknown): Promise<AgentRow | undefined> {
    const request = requireObject(body ?? {});
    check(checkDuplicateBody, request);
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
