import { readdirSync, readFileSync } from "node:fs";
import { dirname, join, relative, resolve } from "node:path";
import { describe, expect, it } from "vitest";

const SRC = resolve(import.meta.dirname, "..", "..", "src");

function sourceFiles(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((entry) => {
    const path = join(dir, entry.name);
    if (entry.isDirectory()) return sourceFiles(path);
    return entry.name.endsWith(".ts") ? [path] : [];
  });
}

// Static imports and re-exports, type-only ones included, and dynamic import("…") of literals.
const SPECIFIER =
  /(?:^|[\s;])(?:import|export)\s[^'"]*?\sfrom\s*["']([^"']+)["']|(?:^|[\s;])import\s*["']([^"']+)["']|\bimport\(\s*["']([^"']+)["']\s*\)/g;

/** src-relative module → the src-relative modules it imports. */
function importGraph(): Map<string, string[]> {
  const graph = new Map<string, string[]>();
  for (const file of sourceFiles(SRC)) {
    const text = readFileSync(file, "utf8");
    const targets: string[] = [];
    for (const match of text.matchAll(SPECIFIER)) {
      const specifier = match[1] ?? match[2] ?? match[3]!;
      if (!specifier.startsWith(".")) continue;
      const target = resolve(dirname(file), specifier.replace(/\.js$/, ".ts"));
      targets.push(relative(SRC, target));
    }
    graph.set(relative(SRC, file), targets);
  }
  return graph;
}

/** Strongly connected components of more than one module, or a module importing itself. */
function cycles(graph: Map<string, string[]>): string[][] {
  let index = 0;
  const indices = new Map<string, number>();
  const low = new Map<string, number>();
  const stack: string[] = [];
  const onStack = new Set<string>();
  const found: string[][] = [];
  const visit = (node: string) => {
    indices.set(node, index);
    low.set(node, index);
    index += 1;
    stack.push(node);
    onStack.add(node);
    for (const next of graph.get(node) ?? []) {
      if (!graph.has(next)) continue;
      if (!indices.has(next)) {
        visit(next);
        low.set(node, Math.min(low.get(node)!, low.get(next)!));
      } else if (onStack.has(next)) {
        low.set(node, Math.min(low.get(node)!, indices.get(next)!));
      }
    }
    if (low.get(node) === indices.get(node)) {
      const component: string[] = [];
      let member: string;
      do {
        member = stack.pop()!;
        onStack.delete(member);
        component.push(member);
      } while (member !== node);
      if (component.length > 1 || (graph.get(node) ?? []).includes(node)) found.push(component);
    }
  };
  for (const node of graph.keys()) if (!indices.has(node)) visit(node);
  return found;
}

const layerOf = (module: string) => (module.includes("/") ? module.split("/")[0]! : module);

/** Which top-level folders each folder must never import from. */
const FORBIDDEN: Record<string, readonly string[]> = {
  routes: ["training", "inference", "adapters", "model", "math"],
  schemas: ["training", "inference", "adapters", "model", "math", "service", "routes", "http"],
  http: ["training", "inference", "adapters", "model", "math", "routes"],
  service: ["routes", "schemas", "http", "commands"],
  inference: ["routes", "schemas", "http", "service", "training", "adapters", "commands"],
  adapters: ["routes", "schemas", "http", "service", "training", "inference", "commands"],
  training: ["routes", "schemas", "http", "service", "commands"],
  model: ["routes", "schemas", "http", "service", "training", "inference", "adapters", "commands"],
};

/** Folders that sit below everything: they import only themselves (and packages). */
const SELF_CONTAINED = ["math", "domain", "io"];

describe("the import graph of src/", () => {
  const graph = importGraph();

  it("is read from every module", () => {
    expect(graph.size).toBeGreaterThan(100);
    expect(graph.get("runtime.ts")).toContain("service/scoring-service.ts");
    expect(graph.get("service/scoring-service.ts")).toContain("inference/engine.ts");
  });

  it("has no cycles, type-only imports included", () => {
    expect(cycles(graph)).toEqual([]);
  });

  it("has no cycles between folders either", () => {
    const folders = new Map<string, string[]>();
    for (const [module, targets] of graph) {
      const layer = layerOf(module);
      const edges = folders.get(layer) ?? [];
      for (const target of targets) if (layerOf(target) !== layer) edges.push(layerOf(target));
      folders.set(layer, edges);
    }
    expect(cycles(folders)).toEqual([]);
  });

  it("finds a cycle when there is one", () => {
    const looped = new Map(graph);
    looped.set("math/linalg.ts", [...(graph.get("math/linalg.ts") ?? []), "runtime.ts"]);
    expect(cycles(looped).length).toBeGreaterThan(0);
  });

  it("keeps every layer to its side", () => {
    const violations: string[] = [];
    for (const [module, targets] of graph) {
      const layer = layerOf(module);
      for (const target of targets) {
        const other = layerOf(target);
        if (other === layer) continue;
        if (FORBIDDEN[layer]?.includes(other) || SELF_CONTAINED.includes(layer)) {
          violations.push(`${module} → ${target}`);
        }
      }
    }
    expect(violations).toEqual([]);
  });
});
