import { NotSerializableError, PayloadTooLargeError } from "./errors";

export type Json = null | boolean | number | string | Json[] | { [key: string]: Json };

/** Cloudflare Workflows' limit for params, event payloads and step results. */
export const MAX_PAYLOAD_BYTES = 1024 * 1024;

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

function check(value: unknown, what: string, path: string, seen: Set<object>): void {
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
      seen.add(value);
      if (Array.isArray(value)) {
        for (let i = 0; i < value.length; i++) {
          const item: unknown = value[i];
          if (item === undefined) throw new NotSerializableError(what, `${path}[${i}]`, i in value ? "undefined" : "a hole in a sparse array");
          check(item, what, `${path}[${i}]`, seen);
        }
      } else if (isPlainObject(value)) {
        for (const [key, item] of Object.entries(value)) {
          if (item !== undefined) check(item, what, `${path}.${key}`, seen);
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
 * Returns the value exactly as it will read back from the log (a JSON copy),
 * or throws a typed error naming the first part that JSON cannot carry.
 * Live execution always continues from this copy, so a live run and a replay
 * see the same value. `undefined` stays `undefined` (stored as absent).
 */
export function toJson(value: unknown, what: string, limit = MAX_PAYLOAD_BYTES): Json | undefined {
  if (value === undefined) return undefined;
  check(value, what, what, new Set());
  const text = JSON.stringify(value);
  const bytes = utf8Length(text);
  if (bytes > limit) throw new PayloadTooLargeError(what, bytes, limit);
  return JSON.parse(text) as Json;
}

const encoder = new TextEncoder();

export function utf8Length(text: string): number {
  return encoder.encode(text).byteLength;
}
