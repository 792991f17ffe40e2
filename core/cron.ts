/**
 * The cron expressions Cloudflare's Cron Triggers accept (its parser is
 * `saffron`): five fields, each `*`, a value, a range `a-b`, a step `a/n`,
 * `a-b/n` or `* /n`, or a list of those; month and weekday names; and the
 * Quartz forms `L`, `LW`, `L-n`, `nW` for the day of the month, `dL` and
 * `d#n` for the weekday. Only checked, never evaluated: Cloudflare decides
 * when a trigger fires.
 */

interface Field {
  name: string;
  min: number;
  max: number;
  names?: readonly string[];
  /** The Quartz forms the field takes alone, besides the common syntax. */
  special?: (text: string, value: (text: string) => number | undefined) => boolean;
  hint: string;
}

const MONTHS = ["JAN", "FEB", "MAR", "APR", "MAY", "JUN", "JUL", "AUG", "SEP", "OCT", "NOV", "DEC"];
/** Cloudflare counts weekdays from 1 = Sunday. */
const WEEKDAYS = ["SUN", "MON", "TUE", "WED", "THU", "FRI", "SAT"];

const FIELDS: readonly Field[] = [
  { name: "minute", min: 0, max: 59, hint: "0-59" },
  { name: "hour", min: 0, max: 23, hint: "0-23" },
  {
    name: "day of month",
    min: 1,
    max: 31,
    special: (text, value) => {
      const last = /^L(?:-(\d+))?W?$/.exec(text);
      if (last) return last[1] === undefined || (Number(last[1]) >= 1 && Number(last[1]) <= 30);
      const weekday = /^(\d+)W$/.exec(text);
      return weekday !== null && value(weekday[1]!) !== undefined;
    },
    hint: "1-31, L, LW, L-n or nW",
  },
  { name: "month", min: 1, max: 12, names: MONTHS, hint: "1-12 or JAN-DEC" },
  {
    name: "day of week",
    min: 1,
    max: 7,
    names: WEEKDAYS,
    special: (text, value) => {
      if (text === "L") return true;
      const last = /^([^#]+)L$/i.exec(text);
      if (last) return value(last[1]!) !== undefined;
      const nth = /^([^#]+)#(\d+)$/.exec(text);
      return nth !== null && value(nth[1]!) !== undefined && Number(nth[2]) >= 1 && Number(nth[2]) <= 5;
    },
    hint: "1-7 (1 = Sunday) or SUN-SAT, dL or d#n",
  },
];

const ITEM = /^(\*|[A-Za-z0-9]+)(?:-([A-Za-z0-9]+))?(?:\/(\d+))?$/;

function valueOf(field: Field, text: string): number | undefined {
  const named = field.names?.indexOf(text.toUpperCase()) ?? -1;
  if (named >= 0) return named + field.min;
  if (!/^\d+$/.test(text)) return undefined;
  const value = Number(text);
  return value >= field.min && value <= field.max ? value : undefined;
}

function validItem(field: Field, text: string): boolean {
  const match = ITEM.exec(text);
  if (!match) return false;
  const [, start, end, step] = match;
  if (start !== "*" && valueOf(field, start!) === undefined) return false;
  if (end !== undefined && valueOf(field, end) === undefined) return false;
  return step === undefined || (Number(step) >= 1 && Number(step) <= field.max - field.min);
}

function validField(field: Field, text: string): boolean {
  if (text === "*") return true;
  if (field.special?.(text, (value) => valueOf(field, value))) return true;
  return text.split(",").every((item) => validItem(field, item));
}

/** Why `expression` is not a cron expression Cloudflare accepts, or undefined when it is one. */
export function cronProblem(expression: unknown): string | undefined {
  if (typeof expression !== "string") return `a schedule is a cron string like "*/5 * * * *", not ${typeof expression}.`;
  const parts = expression.trim().split(/\s+/);
  if (parts.length !== FIELDS.length) {
    return `"${expression}" has ${parts.length} field${parts.length === 1 ? "" : "s"}; a cron expression has 5 (minute hour day-of-month month day-of-week), like "*/5 * * * *".`;
  }
  const index = FIELDS.findIndex((field, i) => !validField(field, parts[i]!));
  if (index < 0) return undefined;
  const field = FIELDS[index]!;
  return `in "${expression}", the ${field.name} field "${parts[index]}" is not valid: use ${field.hint}, "*", a range a-b, a step a/n or */n, or a list of those.`;
}

/** The form two expressions are compared in: Cloudflare hands `scheduled()` the cron as configured, spacing and case aside. */
export function normalizeCron(expression: string): string {
  return expression.trim().split(/\s+/).join(" ").toUpperCase();
}
