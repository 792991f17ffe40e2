import { DurableMachinesError } from "../../../core/errors";
import { MAX_PAYLOAD_BYTES, parseBoundedJson } from "../../../core/json";
import { ApiError } from "./error-codes";

/**
 * What a body may hold besides its one payload (params, an event's payload):
 * ids, types, keys, retention, whitespace. Bodies are limited as sent, in
 * bytes, so a payload written with every character escaped counts six bytes
 * a character.
 */
const ENVELOPE_BYTES = 64 * 1024;

/** A body about one instance (create, an event, an action, a batch of ids): 1 MiB of payload and the envelope. */
export const BODY_BYTES = MAX_PAYLOAD_BYTES + ENVELOPE_BYTES;

/**
 * A batch create: up to 100 instances, each with up to 1 MiB of params, but
 * no more than 8 MiB in all. Held as text, parsed, then copied once per
 * instance, a body this size stays well inside a Worker's 128 MB; a batch of
 * larger instances is sent as several batches.
 */
export const BATCH_BODY_BYTES = 8 * MAX_PAYLOAD_BYTES;

/**
 * Reads a body as a stream, counting every byte, and stops reading as soon
 * as it passes `limit`: a Content-Length header can only refuse a body early,
 * never admit one. (Hono's bodyLimit middleware admits a body on its
 * Content-Length alone when one is sent, so a body that says 20 bytes and
 * carries 2 MB would pass it; tests/limits.test.ts sends one.)
 */
async function readBytes(request: Request, limit: number): Promise<Uint8Array> {
  const tooLarge = () => new ApiError("payload.too_large", `The request body is over ${limit} bytes, the limit for this route; send less, or large data by reference.`);
  const declared = request.headers.get("content-length");
  if (declared !== null && /^[0-9]+$/.test(declared) && Number(declared) > limit) throw tooLarge();
  if (!request.body) return new Uint8Array(0);
  const reader = request.body.getReader();
  const chunks: Uint8Array[] = [];
  let size = 0;
  for (;;) {
    const { done, value } = await reader.read();
    if (done) break;
    size += value.byteLength;
    if (size > limit) {
      await reader.cancel();
      throw tooLarge();
    }
    chunks.push(value);
  }
  const bytes = new Uint8Array(size);
  let offset = 0;
  for (const chunk of chunks) {
    bytes.set(chunk, offset);
    offset += chunk.byteLength;
  }
  return bytes;
}

const notJson = (why: string) => new ApiError("request.invalid_json", `The request body ${why}; send a JSON object, such as {} when there is nothing to say.`);

/**
 * A request's body as a JSON object, bounded before it is parsed: at most
 * `limit` bytes as sent, valid UTF-8, nesting at most MAX_JSON_DEPTH levels
 * (`payload.too_deep` otherwise, measured without recursing). An empty body
 * is `{}`. Whatever the Content-Type says, the body is read as JSON: curl's
 * `-d` sends JSON as a form.
 */
export async function readJsonObject(request: Request, limit: number): Promise<Record<string, unknown>> {
  const bytes = await readBytes(request, limit);
  let text: string;
  try {
    text = new TextDecoder("utf-8", { fatal: true, ignoreBOM: false }).decode(bytes);
  } catch {
    throw notJson("is not UTF-8 text");
  }
  if (text.trim() === "") return {};
  let value: unknown;
  try {
    value = parseBoundedJson(text, "The request body");
  } catch (error) {
    if (error instanceof DurableMachinesError) throw error;
    throw notJson("is not JSON");
  }
  if (typeof value !== "object" || value === null || Array.isArray(value)) throw notJson(`is ${Array.isArray(value) ? "an array" : value === null ? "null" : `a ${typeof value}`}, not an object`);
  return value as Record<string, unknown>;
}
