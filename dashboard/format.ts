/** How the dashboard writes times, durations and ids: pure functions, tested in Node (dashboard/tests/format.test.ts). */

const UNITS: readonly [string, number][] = [
  ["d", 86_400_000],
  ["h", 3_600_000],
  ["min", 60_000],
  ["s", 1_000],
  ["ms", 1],
];

/** A duration as its two largest units: "340 ms", "6 s 26 ms", "2 min 5 s", "3 d 4 h". */
export function duration(ms: number): string {
  let left = Math.max(0, Math.round(ms));
  const parts: string[] = [];
  for (const [unit, size] of UNITS) {
    const whole = Math.floor(left / size);
    left -= whole * size;
    if (whole > 0 || parts.length) parts.push(`${whole} ${unit}`);
    if (parts.length === 2) break;
  }
  const shown = parts.filter((part) => !part.startsWith("0 "));
  return shown.length ? shown.join(" ") : "0 ms";
}

const RELATIVE: readonly [Intl.RelativeTimeFormatUnit, number][] = [
  ["day", 86_400_000],
  ["hour", 3_600_000],
  ["minute", 60_000],
  ["second", 1_000],
];

/**
 * One formatter per locale, made once: making an Intl formatter costs far
 * more than using one, and a long log's page writes thousands of dates.
 */
function cached<F>(make: (locale: string | undefined) => F): (locale: string | undefined) => F {
  const made = new Map<string | undefined, F>();
  return (locale) => {
    let formatter = made.get(locale);
    if (formatter === undefined) made.set(locale, (formatter = make(locale)));
    return formatter;
  };
}
const relativeFormat = cached((locale) => new Intl.RelativeTimeFormat(locale, { numeric: "auto" }));
const dateFormat = cached((locale) => new Intl.DateTimeFormat(locale, { dateStyle: "medium", timeStyle: "medium" }));
const clockFormat = cached((locale) => new Intl.DateTimeFormat(locale, { timeStyle: "medium" }));

/** A moment from now's point of view: "just now", "5 minutes ago", "in 2 days". */
export function relativeTime(at: number, now: number, locale?: string): string {
  const delta = at - now;
  if (Math.abs(delta) < 5_000) return "just now";
  const format = relativeFormat(locale);
  for (const [unit, size] of RELATIVE) {
    if (Math.abs(delta) >= size || unit === "second") return format.format(Math.trunc(delta / size), unit);
  }
  return format.format(0, "second");
}

/** The full date and time, with seconds, as the hover text of a relative time. */
export function fullDate(at: number, locale?: string): string {
  return dateFormat(locale).format(at);
}

/** The time of day, with seconds: a log record's time beside the others of its day. */
export function clockTime(at: number, locale?: string): string {
  return clockFormat(locale).format(at);
}

/** Ids longer than this are cut in lists; a UUID (36 characters) is. */
export const LONG_ID = 20;

/** A long id cut to its start and end ("3f2a9c1e…9a1b"), which tell ids apart; a short one whole. */
export function shortId(id: string): string {
  return id.length <= LONG_ID ? id : `${id.slice(0, 8)}…${id.slice(-4)}`;
}

/** A value as indented JSON, or "none". */
export function pretty(value: unknown): string {
  return value === undefined ? "none" : JSON.stringify(value, null, 2);
}

/** A value as one line of JSON, cut to `max` characters. */
export function oneLine(value: unknown, max = 120): string {
  const text = JSON.stringify(value) ?? "";
  return text.length > max ? `${text.slice(0, max - 1)}…` : text;
}

/**
 * Where the list stands, as the explorer says it: "Showing 1–25 of 80". The
 * total comes from the counts, which may run ahead of the rows a moment while
 * a change arrives, so it is never less than what is shown.
 */
export function showing(shown: number, total: number): string {
  const of = Math.max(shown, total).toLocaleString("en");
  return shown === 0 ? `Showing 0 of ${of}` : `Showing 1–${shown.toLocaleString("en")} of ${of}`;
}
