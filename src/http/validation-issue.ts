import type { FastifySchemaValidationError } from "fastify";
import { ProblemError } from "./problem-error.js";

/** The part of a zod issue the problem needs; fastify-type-provider-zod keeps the rest in `params`. */
interface Issue {
  code: string;
  path: readonly PropertyKey[];
  message: string;
  keys?: readonly string[];
  errors?: readonly (readonly Issue[])[];
}

/** ["items", 0, "prompt"] in context "body" → "items[0].prompt"; in "params" → "params.user". */
export function fieldName(context: string | undefined, path: readonly PropertyKey[]): string {
  let field = context === "body" || context === undefined ? "" : context;
  for (const part of path) {
    const name = String(part);
    if (/^\d+$/.test(name)) field += `[${name}]`;
    else field += field.length === 0 ? name : `.${name}`;
  }
  return field.length > 0 ? field : (context ?? "body");
}

function valueAt(input: unknown, path: readonly PropertyKey[]): unknown {
  let value = input;
  for (const part of path) {
    if (typeof value !== "object" || value === null) return undefined;
    value = (value as Record<PropertyKey, unknown>)[part];
  }
  return value;
}

/**
 * How badly a union branch fits `input`: first the keys of the input it does not know, then its
 * issues about keys the input has. A missing key costs nothing here, so an item with `prompt` but
 * no `response` fits the prompt/response branch, whose issue then names `response`.
 */
function misfit(branch: readonly Issue[], input: unknown): [number, number] {
  const present = (key: PropertyKey | undefined) =>
    key !== undefined && typeof input === "object" && input !== null && Object.hasOwn(input, key);
  let unknownKeys = 0;
  let wrongValues = 0;
  for (const issue of branch) {
    if (issue.code === "unrecognized_keys" && issue.path.length === 0) {
      unknownKeys += issue.keys?.length ?? 1;
    } else if (present(issue.path[0])) wrongValues += 1;
  }
  return [unknownKeys, wrongValues];
}

/**
 * A union's issue names only the union ("items[0]: Invalid input"): this follows it into the
 * branch that best fits the input, as deep as unions nest, and names an unknown key itself.
 */
export function deepestIssue(
  issue: Issue,
  input: unknown,
): { path: PropertyKey[]; message: string } {
  let current = issue;
  let path = [...issue.path];
  while (current.code === "invalid_union" && current.errors && current.errors.length > 0) {
    const at = valueAt(input, path);
    let best = current.errors[0]!;
    let bestMisfit = misfit(best, at);
    for (const branch of current.errors.slice(1)) {
      const [keys, values] = misfit(branch, at);
      if (keys < bestMisfit[0] || (keys === bestMisfit[0] && values < bestMisfit[1])) {
        best = branch;
        bestMisfit = [keys, values];
      }
    }
    const first = best[0];
    if (first === undefined) break;
    path = [...path, ...first.path];
    current = first;
  }
  if (current.code === "unrecognized_keys" && current.keys?.length === 1) {
    path = [...path, current.keys[0]!];
  }
  return { path, message: current.message };
}

function issueOf(entry: FastifySchemaValidationError): Issue {
  const path = entry.instancePath
    .split("/")
    .filter((part) => part.length > 0)
    .map((part) => (/^\d+$/.test(part) ? Number(part) : part));
  return { ...(entry.params as object), code: entry.keyword, path, message: entry.message ?? "" };
}

/** A failed schema validation, naming the offending field of `input` in full. */
export function validationProblem(
  entries: readonly FastifySchemaValidationError[],
  context: string | undefined,
  input: unknown,
): ProblemError {
  const named = entries.slice(0, 5).map((entry) => {
    const { path, message } = deepestIssue(issueOf(entry), input);
    return { field: fieldName(context, path), path, message };
  });
  const first = named[0];
  const detail = named.map(({ field, message }) => `${field}: ${message}`).join("; ");
  const code =
    context === "params" && first?.path.length === 1 && first.path[0] === "user"
      ? "INVALID_USER_ID"
      : "INVALID_REQUEST";
  return new ProblemError(code, detail, { field: first?.field ?? fieldName(context, []) });
}
