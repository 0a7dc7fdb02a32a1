/**
 * The second architecture pass of `npm run lint`: no import cycle between the top-level entries of
 * src/ (src/api, src/store, src/main.ts, …), however deep inside them the imports go.
 *
 * dependency-cruiser's folder-scope rule compares the folders that files sit in, so an import into a
 * subfolder (src/search -> src/providers/embeddings/…) is not seen as an edge to src/providers; and
 * its --collapse option applies after the rules are checked. So this pass asks dependency-cruiser
 * for the graph collapsed to the top level and looks for a cycle in it (docs/design-notes.md).
 */
import { cruise, type ICruiseResult } from "dependency-cruiser";

const TOP_LEVEL = "^src/[^/]+";

/** The edges between top-level entries of src/, as dependency-cruiser resolves the imports. */
async function topLevelGraph(): Promise<Map<string, Set<string>>> {
  const { output } = await cruise(["src"], {
    includeOnly: "^src/",
    exclude: { path: "\\.test\\.ts$" },
    collapse: TOP_LEVEL,
    tsPreCompilationDeps: true,
  });
  const result = output as ICruiseResult;
  const graph = new Map<string, Set<string>>();
  for (const module of result.modules) {
    const targets = graph.get(module.source) ?? new Set<string>();
    for (const dependency of module.dependencies) {
      if (dependency.resolved !== module.source) targets.add(dependency.resolved);
    }
    graph.set(module.source, targets);
  }
  return graph;
}

/** A cycle in the graph, as the list of its nodes (first = last), or undefined when there is none. */
function findCycle(graph: Map<string, Set<string>>): string[] | undefined {
  const state = new Map<string, "open" | "done">();
  const path: string[] = [];
  const visit = (node: string): string[] | undefined => {
    if (state.get(node) === "done") return undefined;
    if (state.get(node) === "open") return [...path.slice(path.indexOf(node)), node];
    state.set(node, "open");
    path.push(node);
    for (const next of graph.get(node) ?? []) {
      const cycle = visit(next);
      if (cycle) return cycle;
    }
    path.pop();
    state.set(node, "done");
    return undefined;
  };
  for (const node of graph.keys()) {
    const cycle = visit(node);
    if (cycle) return cycle;
  }
  return undefined;
}

const graph = await topLevelGraph();
if (graph.size === 0) {
  process.stderr.write(
    "no-top-folder-cycle: dependency-cruiser found no modules under src/; check the path.\n",
  );
  process.exit(1);
}
const cycle = findCycle(graph);
if (cycle) {
  process.stderr.write(
    `  error no-top-folder-cycle: ${cycle.join(" → ")}\n` +
      "    These top-level entries of src/ import each other in a cycle. Decide which one is lower and move\n" +
      "    the shared piece there, or wire the two together in the composition root (src/main.ts).\n",
  );
  process.exit(1);
}
process.stdout.write(
  `no-top-folder-cycle: ${graph.size} top-level entries of src/, no cycle between them.\n`,
);
