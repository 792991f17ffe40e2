import SuperJSON from "superjson";
import { NotSerializableError, PayloadTooLargeError, text } from "../errors";
import { MAX_PAYLOAD_BYTES, utf8Length, type Json } from "../json";

/**
 * A value as a code-first step or run() may return it on Cloudflare (what
 * structured clone carries: Date, Map, Set, BigInt, RegExp, typed arrays,
 * undefined inside objects…), stored as plain JSON plus superjson's metadata
 * (a stable, documented format), so the log stays JSON and replay hands
 * back the same kinds of values.
 */
export interface Structured {
  json: Json;
  meta?: Json;
}

function refuseUnclonable(value: unknown, what: string, path: string, seen: Set<object>): void {
  if (typeof value === "function") throw new NotSerializableError(what, path, "a function");
  if (typeof value === "symbol") throw new NotSerializableError(what, path, "a symbol");
  if (typeof value !== "object" || value === null) return;
  if (seen.has(value)) throw new NotSerializableError(what, path, "a circular reference");
  if (value instanceof ReadableStream) throw new NotSerializableError(what, path, "a ReadableStream, which a step may return only as its whole output");
  seen.add(value);
  if (value instanceof Map) for (const [key, item] of value) refuseUnclonable(item, what, `${path}.get(${text(key)})`, seen);
  else if (value instanceof Set) for (const item of value) refuseUnclonable(item, what, `${path} (a Set)`, seen);
  else if (!ArrayBuffer.isView(value)) for (const [key, item] of Object.entries(value)) refuseUnclonable(item, what, Array.isArray(value) ? `${path}[${key}]` : `${path}.${key}`, seen);
  seen.delete(value);
}

/**
 * The most bytes of superjson's metadata (the path and type of every Date, Map, BigInt… in a value) one stored value
 * keeps. The metadata is the engine's, not the user's, so the 1 MiB limit does not count it; it shares the value's
 * record, a row SQLite caps at 2 MB, so it is bounded apart: 1 MiB of value and this much metadata leave that row
 * about 160 KB for the rest of the record.
 */
export const MAX_META_BYTES = 768 * 1024;

/**
 * Undefined stays undefined (nothing is stored); anything structured clone would refuse is refused with where it is.
 * The size counted against `limit` is the user's value as JSON (superjson's `json`), as params are counted, not the
 * `{ json, meta }` it is stored in.
 */
export function toStructured(value: unknown, what: string, limit = MAX_PAYLOAD_BYTES): Structured | undefined {
  if (value === undefined) return undefined;
  refuseUnclonable(value, what, what, new Set());
  const { json, meta } = SuperJSON.serialize(value);
  const bytes = utf8Length(JSON.stringify(json));
  if (bytes > limit) throw new PayloadTooLargeError(what, bytes, limit);
  if (meta === undefined) return { json: json as Json };
  const metaBytes = utf8Length(JSON.stringify(meta));
  if (metaBytes > MAX_META_BYTES) throw new PayloadTooLargeError(`the type annotations of ${what} (where its Dates, Maps, Sets, BigInts… are)`, metaBytes, MAX_META_BYTES);
  return { json: json as Json, meta: meta as Json };
}

/** How Cloudflare's engine writes a value into its log's JSON: BigInt and binary data as placeholders. */
function cloudflareReplacer(_key: string, value: unknown): unknown {
  if (typeof value === "bigint") return `[BigInt(${value})]`;
  if (value instanceof ArrayBuffer) return `[ArrayBuffer(${value.byteLength} bytes)]`;
  if (ArrayBuffer.isView(value) && !(value instanceof DataView)) return `[${value.constructor.name}(${value.byteLength} bytes)]`;
  return value;
}

/**
 * A stored value as Cloudflare's `status().output` shows it: a JSON copy, so a Date is its ISO string, a Map, a Set
 * or a RegExp is `{}`, an undefined property is left out, and BigInt and binary data read "[BigInt(10)]" and
 * "[Uint8Array(2 bytes)]".
 */
export function jsonCopy(stored: { output?: Json; meta?: Json }): Json | undefined {
  const value = fromStructured(stored);
  return value === undefined ? undefined : (JSON.parse(JSON.stringify(value, cloudflareReplacer)) as Json);
}

/** The value back from where it is stored: an `output` and, when it was more than JSON, its `meta`. */
export function fromStructured(stored: { output?: Json; meta?: Json }): unknown {
  if (stored.output === undefined) return undefined;
  return stored.meta === undefined ? stored.output : SuperJSON.deserialize({ json: stored.output, meta: stored.meta } as never);
}
