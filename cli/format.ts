/** How tables, times and values read in a terminal. */

const GAP = "  ";
/** A cut column keeps at least this many characters (or its header's), however narrow the terminal. */
const MIN_CUT_WIDTH = 8;

export interface Column {
  header: string;
  /**
   * How the column gives way when the table is wider than the terminal: an
   * id is cut in the middle (its start and its end tell instances apart), text at
   * its end; a column without `cut` keeps its width.
   */
  cut?: "middle" | "end";
}

/** Cuts `text` to `width` characters, marking the cut with "…". */
export function cutText(text: string, width: number, where: "middle" | "end" = "end"): string {
  const chars = [...text];
  if (chars.length <= width) return text;
  if (width <= 1) return "…".slice(0, width);
  if (where === "end") return `${chars.slice(0, width - 1).join("")}…`;
  const head = Math.ceil((width - 1) / 2);
  const tail = width - 1 - head;
  return `${chars.slice(0, head).join("")}…${tail ? chars.slice(-tail).join("") : ""}`;
}

const length = (text: string) => [...text].length;

/**
 * A table with a header row, columns padded to their widest cell and
 * separated by two spaces. When it is wider than `width`, the cuttable
 * columns shrink, widest first, until it fits or each is at its minimum.
 */
export function table(columns: readonly Column[], rows: readonly (readonly string[])[], width: number): string {
  const cells = rows.map((row) => row.map((cell) => cell.replace(/\s+/g, " ")));
  const widths = columns.map((column, i) => Math.max(length(column.header), ...cells.map((row) => length(row[i] ?? ""))));
  const total = () => widths.reduce((sum, w) => sum + w, 0) + GAP.length * (columns.length - 1);
  const floor = (i: number) => Math.max(MIN_CUT_WIDTH, length(columns[i]!.header));
  while (total() > width) {
    let widest = -1;
    for (let i = 0; i < columns.length; i++) {
      if (columns[i]!.cut && widths[i]! > floor(i) && (widest < 0 || widths[i]! > widths[widest]!)) widest = i;
    }
    if (widest < 0) break;
    widths[widest] = Math.max(floor(widest), widths[widest]! - (total() - width));
  }
  const line = (row: readonly string[]) =>
    row
      .map((cell, i) => {
        const cut = cutText(cell, widths[i]!, columns[i]!.cut);
        return i === row.length - 1 ? cut : cut + " ".repeat(widths[i]! - length(cut));
      })
      .join(GAP);
  return [line(columns.map((c) => c.header)), ...cells.map(line)].join("\n") + "\n";
}

/** Label and value pairs, the labels padded to one width: what `describe` prints above its tables. */
export function fields(pairs: readonly (readonly [string, string])[]): string {
  const width = Math.max(...pairs.map(([label]) => length(label)));
  return pairs.map(([label, value]) => `${label}${" ".repeat(width - length(label))}  ${value}`).join("\n") + "\n";
}

const UNITS: readonly [string, number][] = [
  ["d", 86_400_000],
  ["h", 3_600_000],
  ["m", 60_000],
  ["s", 1000],
];

/** A span of milliseconds in its largest unit, and the next one when it is not zero: 450ms, 12s, 3m 5s, 2h, 4d 1h. */
export function duration(ms: number): string {
  if (ms < 1000) return `${Math.max(0, Math.round(ms))}ms`;
  let rest = ms;
  const parts: string[] = [];
  for (const [unit, size] of UNITS) {
    const whole = Math.floor(rest / size);
    rest -= whole * size;
    if (parts.length === 0 && whole === 0) continue;
    if (whole > 0) parts.push(`${whole}${unit}`);
    if (parts.length === 2 || (parts.length === 1 && whole === 0)) break;
  }
  return parts.join(" ");
}

/** When `at` was, seen from `now`: "just now", "12s ago", "3m 5s ago", "in 2h". */
export function relativeTime(at: number, now: number): string {
  const delta = now - at;
  if (Math.abs(delta) < 1000) return "just now";
  return delta > 0 ? `${duration(delta)} ago` : `in ${duration(-delta)}`;
}

/** A value as one line of JSON; undefined as "-". */
export function compact(value: unknown): string {
  return value === undefined ? "-" : JSON.stringify(value);
}
