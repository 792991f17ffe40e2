import { InvalidLocationHintError } from "./errors";

/** The regions a Durable Object can be asked to start near; Cloudflare's create() takes exactly these. */
export const LOCATION_HINTS = ["wnam", "weur", "enam", "eeur", "apac", "apac-ne", "apac-se", "oc", "sam", "afr", "me"] as const;

export type LocationHint = (typeof LOCATION_HINTS)[number];

export function assertLocationHint(hint: unknown): asserts hint is LocationHint | undefined {
  if (hint !== undefined && !(LOCATION_HINTS as readonly unknown[]).includes(hint)) throw new InvalidLocationHintError(hint, LOCATION_HINTS);
}
