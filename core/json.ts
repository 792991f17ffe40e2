import { NotSerializableError, PayloadTooDeepError, PayloadTooLargeError } from "./errors";

export type Json = null | boolean | number | string | Json[] | { [key: string]: Json };

/** Cloudflare Workflows' limit for params, event payloads and step results. */
export const MAX_PAYLOAD_BYTES = 1024 * 1024;

/**
 * How deeply arrays and objects may nest in a value the engine stores. Every
 * walk over user data (this module's check, workerd's RPC serializer, the
 * JSON of an event stream) recurses, and a few thousand levels overflow a
 * stack: the bound is checked before anything walks the value.
 */
export const MAX_JSON_DEPTH = 100;

function describe(value: unknown): string {
  if (value === undefined) return "undefined";
  if (typeof value === "number") return String(value);
  if (typeof value === "bigint") return "a bigint";
  if (typeof value === "function") return "a function";
  if (typeof value === "symbol") return "a symbol";
  const ctor = (value as object).constructor?.name;
  return ctor ? `a ${ctor}` : "an object without a prototype";
}

function isPlainObject(value: object): boolean {
  const proto = Object.getPrototypeOf(value);
  return proto === Object.prototype || proto === null;
}

function check(value: unknown, what: string, path: string, seen: Set<object>, depth: number, maxDepth: number): void {
  switch (typeof value) {
    case "string":
    case "boolean":
      return;
    case "number":
      if (!Number.isFinite(value)) throw new NotSerializableError(what, path, describe(value));
      return;
    case "object": {
      if (value === null) return;
      if (seen.has(value)) throw new NotSerializableError(what, path, "a circular reference");
      if (depth >= maxDepth) throw new PayloadTooDeepError(what, path, maxDepth);
      seen.add(value);
      if (Array.isArray(value)) {
        for (let i = 0; i < value.length; i++) {
          const item: unknown = value[i];
          if (item === undefined) throw new NotSerializableError(what, `${path}[${i}]`, i in value ? "undefined" : "a hole in a sparse array");
          check(item, what, `${path}[${i}]`, seen, depth + 1, maxDepth);
        }
      } else if (isPlainObject(value)) {
        for (const [key, item] of Object.entries(value)) {
          if (item !== undefined) check(item, what, `${path}.${key}`, seen, depth + 1, maxDepth);
        }
      } else {
        throw new NotSerializableError(what, path, describe(value));
      }
      seen.delete(value);
      return;
    }
    default:
      throw new NotSerializableError(what, path, describe(value));
  }
}

/**
 * Throws what `toJson` would for a value JSON cannot carry, without copying
 * it or bounding its size: for a value checked often and stored elsewhere,
 * as a machine's context is in snapshots. Given the value it replaces (one
 * checked before), it walks only the top-level values that are not the
 * previous ones, so a large value that a change left in place costs nothing.
 */
export function assertPlainJson(value: unknown, what: string, maxDepth = MAX_JSON_DEPTH, previous?: unknown): void {
  if (typeof value !== "object" || value === null || Array.isArray(value) || !isPlainObject(value) || typeof previous !== "object" || previous === null || !isPlainObject(previous)) {
    return check(value, what, what, new Set(), 0, maxDepth);
  }
  const before = previous as Record<string, unknown>;
  for (const [key, item] of Object.entries(value)) {
    if (item !== undefined && (!Object.hasOwn(before, key) || before[key] !== item)) check(item, what, `${what}.${key}`, new Set([value]), 1, maxDepth);
  }
}

/**
 * Returns the value exactly as it will read back from the log (a JSON copy),
 * or throws a typed error naming the first part that JSON cannot carry.
 * Live execution always continues from this copy, so a live run and a replay
 * see the same value. `undefined` stays `undefined` (stored as absent).
 */
export function toJson(value: unknown, what: string, limit = MAX_PAYLOAD_BYTES, maxDepth = MAX_JSON_DEPTH): Json | undefined {
  if (value === undefined) return undefined;
  check(value, what, what, new Set(), 0, maxDepth);
  const text = JSON.stringify(value);
  const bytes = utf8Length(text);
  if (bytes > limit) throw new PayloadTooLargeError(what, bytes, limit);
  return JSON.parse(text) as Json;
}

const encoder = new TextEncoder();

export function utf8Length(text: string): number {
  return encoder.encode(text).byteLength;
}

/**
 * How deeply the arrays and objects of a JSON text nest, counted without
 * parsing or recursing (brackets inside strings do not count), stopping as
 * soon as it passes `max`. Run before `JSON.parse` on text from outside.
 */
export function jsonTextDepth(text: string, max = MAX_JSON_DEPTH): number {
  let depth = 0;
  let deepest = 0;
  let inString = false;
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (inString) {
      if (c === 0x5c) i++; // a backslash escapes the next character
      else if (c === 0x22) inString = false;
    } else if (c === 0x22) inString = true;
    else if (c === 0x5b || c === 0x7b) {
      if (++depth > deepest && (deepest = depth) > max) return deepest;
    } else if (c === 0x5d || c === 0x7d) depth--;
  }
  return deepest;
}

/** Parses JSON text from outside once its nesting is known to be within bounds; throws `payload.too_deep` otherwise. */
export function parseBoundedJson(text: string, what: string, maxDepth = MAX_JSON_DEPTH): unknown {
  if (jsonTextDepth(text, maxDepth) > maxDepth) throw new PayloadTooDeepError(what, what, maxDepth);
  return JSON.parse(text) as unknown;
}
