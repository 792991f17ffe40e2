import { InvalidDurationError } from "./errors";

/** Milliseconds, or a count and a unit: "10 seconds", "1 hour", "2.5 days". */
export type Duration = number | `${number} ${DurationUnit}` | `${number} ${DurationUnit}s`;

export type DurationUnit = "millisecond" | "second" | "minute" | "hour" | "day" | "week" | "month" | "year";

const UNIT_MS: Record<DurationUnit, number> = {
  millisecond: 1,
  second: 1000,
  minute: 60_000,
  hour: 3_600_000,
  day: 86_400_000,
  week: 604_800_000,
  month: 2_592_000_000,
  year: 31_536_000_000,
};

const PATTERN = /^(\d+(?:\.\d+)?) +([a-z]+?)s?$/;

/**
 * Cloudflare's second engine (the one in workerd) rejects unknown units;
 * its older local engine read them as milliseconds, so "1 h" slept 1 ms.
 * We reject them.
 */
export function toMilliseconds(duration: unknown): number {
  if (typeof duration === "number") {
    if (Number.isFinite(duration) && duration >= 0) return duration;
    throw new InvalidDurationError(duration);
  }
  if (typeof duration === "string") {
    const match = PATTERN.exec(duration.trim().toLowerCase());
    const unit = match?.[2] as DurationUnit | undefined;
    if (match && unit && Object.hasOwn(UNIT_MS, unit)) return Number(match[1]) * UNIT_MS[unit];
  }
  throw new InvalidDurationError(duration);
}
