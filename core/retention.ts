import { toMilliseconds, type Duration } from "./durations";
import { DurableMachinesError, InvalidRetentionError, show } from "./errors";
import type { Ending } from "./state";

/** How long a finished instance is kept, as Cloudflare's `create()` takes it. */
export interface RetentionOptions {
  /** For an instance that completed. */
  successRetention?: Duration;
  /** For an instance that errored or was terminated. */
  errorRetention?: Duration;
}

/** Retention in milliseconds, as an instance's first record keeps it. */
export interface Retention {
  successMs: number;
  errorMs: number;
}

const DAY_MS = 86_400_000;

/** Cloudflare's workerd engine keeps a finished instance 30 days unless told otherwise; so do we. */
export const DEFAULT_RETENTION: Retention = { successMs: 30 * DAY_MS, errorMs: 30 * DAY_MS };

/** Far enough to mean "keep it", near enough that the deletion time is still a valid alarm date. */
const MAX_RETENTION_MS = 100 * 365 * DAY_MS;

/** Checks `retention` options and fills what they leave out from `fallback`; refuses what Cloudflare refuses, and unknown keys. */
export function resolveRetention(options: unknown, fallback: Retention = DEFAULT_RETENTION): Retention {
  if (options === undefined) return fallback;
  if (typeof options !== "object" || options === null || Array.isArray(options)) throw new InvalidRetentionError(`retention must be an object, not ${show(options)}.`);
  const { successRetention, errorRetention, ...unknown } = options as Record<string, unknown>;
  const extra = Object.keys(unknown);
  if (extra.length) throw new InvalidRetentionError(`retention has no option ${extra.map((key) => `"${key}"`).join(", ")}.`);
  return {
    successMs: successRetention === undefined ? fallback.successMs : retentionMs("successRetention", successRetention),
    errorMs: errorRetention === undefined ? fallback.errorMs : retentionMs("errorRetention", errorRetention),
  };
}

function retentionMs(option: string, value: unknown): number {
  let ms = Number.NaN;
  if (typeof value === "number" && Number.isInteger(value)) ms = value;
  if (typeof value === "string") {
    try {
      ms = toMilliseconds(value);
    } catch (error) {
      if (!(error instanceof DurableMachinesError)) throw error;
    }
  }
  if (!(ms > 0)) throw new InvalidRetentionError(`retention.${option} ${show(value)} is not a duration above 0.`);
  if (ms > MAX_RETENTION_MS) throw new InvalidRetentionError(`retention.${option} ${show(value)} is longer than 100 years.`);
  return ms;
}

/** When a finished instance is deleted: `successRetention` after it completed, `errorRetention` after it errored or was terminated. */
export function expiresAt(ending: Ending, endedAt: number, retention: Retention): number {
  return endedAt + (ending.status === "complete" ? retention.successMs : retention.errorMs);
}
