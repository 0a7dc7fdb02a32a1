/** One chat message sent to the model. */
export interface ChatMessage {
  role: "system" | "user";
  content: string;
}

/** The JSON schema an answer is asked to follow, named as structured-output APIs want it. */
export interface AnswerSchema {
  name: string;
  schema: object;
}

/** A chat model that answers in JSON: what post-call analysis asks of an LLM. */
export interface ChatModel {
  /**
   * Sends the messages and returns the answer parsed as JSON. The schema is asked for, not
   * guaranteed, so the caller checks the answer; a failed call or an answer that is not JSON
   * throws a ProviderError.
   */
  completeJson(messages: readonly ChatMessage[], schema: AnswerSchema): Promise<unknown>;
}
