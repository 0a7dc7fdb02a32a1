import { describe, expect, it } from "vitest";
import { analysisSettingsFromAgent, resolveAnalysisSettings } from "./agent-analysis-settings.js";
import type { AnalysisSettings } from "./analysis-settings.js";

describe("analysisSettingsFromAgent", () => {
  it("maps evaluation.criteria and data_collection in upstream's shapes", () => {
    const settings = analysisSettingsFromAgent({
      evaluation: {
        criteria: [
          {
            id: "solved",
            name: "Solved",
            type: "prompt",
            conversation_goal_prompt: "The problem is solved.",
            scope: "conversation",
            use_knowledge_base: false,
          },
          { id: "no_goal", name: "No goal" },
          { id: "solved", name: "Again", conversation_goal_prompt: "A duplicate id." },
        ],
      },
      data_collection: {
        order_id: { type: "string", description: "The order number." },
        city: { type: "string", description: "The city.", enum: ["Paris", "Rome"] },
        count: { type: "integer", name: "Item count" },
        flag: { type: "boolean" },
        from_variable: { type: "string", dynamic_variable: "user_name" },
        fixed: { type: "number", constant_value: 3 },
        system: { type: "string", is_system_provided: true },
        omitted: { type: "string", is_omitted: true },
        odd_type: { type: "date", description: "Not a type analysis knows." },
      },
    });
    expect(settings).toEqual({
      evaluation_criteria: [
        { id: "solved", name: "Solved", conversation_goal_prompt: "The problem is solved." },
      ],
      data_collection: {
        order_id: { type: "string", description: "The order number." },
        city: { type: "string", description: "The city.", enum: ["Paris", "Rome"] },
        count: { type: "integer", description: "Item count" },
        flag: { type: "boolean", description: "flag" },
      },
    });
  });

  it("gives empty settings for an agent without platform settings or analysis", () => {
    const empty = { evaluation_criteria: [], data_collection: {} };
    expect(analysisSettingsFromAgent(null)).toEqual(empty);
    expect(analysisSettingsFromAgent({ evaluation: null, data_collection: null })).toEqual(empty);
  });

  it("keeps within the limits of the ingest settings: they all go into the prompt", () => {
    const criteria = Array.from({ length: 40 }, (_, i) => ({
      id: `c${i}`,
      name: `C${i}`,
      conversation_goal_prompt: "x".repeat(1500),
    }));
    const fields = Object.fromEntries(
      Array.from({ length: 60 }, (_, i) => [`f${i}`, { type: "string", description: "d" }]),
    );
    const settings = analysisSettingsFromAgent({ evaluation: { criteria }, data_collection: fields });
    expect(settings.evaluation_criteria).toHaveLength(30);
    expect(settings.evaluation_criteria[0]?.conversation_goal_prompt).toHaveLength(1000);
    expect(Object.keys(settings.data_collection)).toHaveLength(50);
  });
});

describe("resolveAnalysisSettings", () => {
  const ingest: AnalysisSettings = {
    evaluation_criteria: [{ id: "ingest_only", conversation_goal_prompt: "From the ingest route." }],
    data_collection: {},
  };
  const store = {
    getAnalysisSettings: async (agentId: string) => (agentId === "" ? undefined : JSON.stringify(ingest)),
    putAnalysisSettings: async () => "created" as const,
    listAnalysisSettings: async () => [],
  };
  const agents = {
    getAgentConfig: async (agentId: string) =>
      agentId === "agent_here" ? { platformSettings: { evaluation: { criteria: [] } } } : undefined,
  };

  it("uses an agent served here, even one without criteria, over the ingest settings", async () => {
    const resolved = await resolveAnalysisSettings({ agents, analysisSettings: store }, "agent_here");
    expect(resolved).toEqual({ settings: { evaluation_criteria: [], data_collection: {} }, origin: "agent" });
  });

  it("uses the ingest settings for an agent that lives elsewhere, or when no agents are given", async () => {
    const elsewhere = await resolveAnalysisSettings({ agents, analysisSettings: store }, "agent_elsewhere");
    expect(elsewhere).toEqual({ settings: ingest, origin: "ingest" });
    const noAgents = await resolveAnalysisSettings({ analysisSettings: store }, "agent_here");
    expect(noAgents.origin).toBe("ingest");
  });
});
