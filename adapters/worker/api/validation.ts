import { z } from "@hono/zod-openapi";
import { ApiError, statusOf, type ErrorCode } from "./error-codes";

/** The code a refused field is answered with, when it is not the default of where the field is (path, query or body). */
const fieldCodes = z.registry<{ code: ErrorCode }>();

/**
 * Marks a schema's refusals with `code`: `event.invalid` for an event's type,
 * `batch.invalid` for a batch's size. A refinement can name its own code
 * instead, as `params: { code }`, when one field fails in two ways.
 */
export function coded<T extends z.ZodType>(schema: T, code: ErrorCode): T {
  fieldCodes.add(schema, { code });
  return schema;
}

export type Part = "path" | "query" | "body";

const DEFAULT_CODE: Record<Part, ErrorCode> = { path: "request.invalid_path", query: "request.invalid_query", body: "request.invalid" };
const WHERE: Record<Part, string> = { path: "Path parameter", query: "Query parameter", body: "Body field" };

/** A schema and what it wraps (optional, default, nullable): a code or description may be on either. */
function layers(schema: z.ZodType): z.ZodType[] {
  const found = [schema];
  let inner = schema;
  while (inner instanceof z.ZodOptional || inner instanceof z.ZodDefault || inner instanceof z.ZodNullable) {
    inner = inner.unwrap() as z.ZodType;
    found.push(inner);
  }
  return found;
}

/** The schema a value at `key` inside `schema` is checked by. */
function child(schema: z.ZodType, key: PropertyKey): z.ZodType | undefined {
  const inner = layers(schema).at(-1)!;
  if (inner instanceof z.ZodObject && typeof key === "string") return Object.hasOwn(inner.shape, key) ? (inner.shape[key] as z.ZodType) : undefined;
  if (inner instanceof z.ZodArray && typeof key === "number") return inner.element as z.ZodType;
  return undefined;
}

/** The innermost code marked along the path of a refused value, and the description of the deepest schema on it that has one. */
function refusalOf(schema: z.ZodType, path: readonly PropertyKey[], part: Part): { code: ErrorCode; description?: string } {
  let code = DEFAULT_CODE[part];
  let description: string | undefined;
  let current: z.ZodType | undefined = schema;
  for (let depth = 0; current; current = depth < path.length ? child(current, path[depth++]!) : undefined) {
    for (const layer of layers(current)) {
      code = fieldCodes.get(layer)?.code ?? code;
      description = layer.description ?? description;
    }
  }
  return { code, ...(description === undefined ? {} : { description }) };
}

/** Zod's account of a problem rarely quotes the value (an unknown key's name, at most); it is cut so none can swell the answer. */
const MAX_PROBLEM_CHARS = 300;

/**
 * Checks a part of a request against its schema and returns the typed value,
 * or throws the first problem as an ApiError: the field's code, where it is,
 * what was wrong and what is expected.
 */
export function validate<T extends z.ZodType>(part: Part, schema: T, value: unknown): z.output<T> {
  const result = schema.safeParse(value);
  if (result.success) return result.data;
  const issue = result.error.issues[0]!;
  const refused = refusalOf(schema, issue.path, part);
  const own = issue.code === "custom" ? (issue.params as { code?: unknown } | undefined)?.code : undefined;
  const code = typeof own === "string" && statusOf(own) !== undefined ? (own as ErrorCode) : refused.code;
  const { description } = refused;
  const name = issue.path.length ? issue.path.map(String).join(".") : undefined;
  const where = name === undefined ? (part === "body" ? "The request body" : `The ${part}`) : `${WHERE[part]} "${name}"`;
  const problem = issue.message.length > MAX_PROBLEM_CHARS ? `${issue.message.slice(0, MAX_PROBLEM_CHARS)}…` : issue.message;
  throw new ApiError(code, `${where}: ${problem}.${description ? ` Expected ${description}.` : ""}`);
}
