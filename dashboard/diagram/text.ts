/** Font size of every label, in SVG units; the renderer and the size estimate below must agree. */
export const FONT_SIZE = 12;

/**
 * How wide a label is drawn, without a DOM to measure it: 0.62 em a
 * character covers the widest common sans-serif digits and capitals, so a
 * box sized by it holds its text in the fonts a browser picks.
 */
export function textWidth(text: string): number {
  return Math.ceil(text.length * FONT_SIZE * 0.62);
}

const UNITS: [string, number][] = [
  ["h", 3_600_000],
  ["min", 60_000],
  ["s", 1000],
  ["ms", 1],
];

/** A delay in milliseconds as a person reads it: 86 400 000 is "24 h", 90 000 is "1 min 30 s", 0 is "0 ms". */
export function readableDelay(ms: number): string {
  const parts: string[] = [];
  let rest = Math.round(ms);
  for (const [unit, size] of UNITS) {
    const count = Math.floor(rest / size);
    if (count > 0) parts.push(`${count} ${unit}`);
    rest -= count * size;
  }
  return parts.length ? parts.join(" ") : "0 ms";
}

/** Text made safe for SVG markup, in elements and in double-quoted attributes. */
export function escapeXml(text: string): string {
  return text.replace(/&/g, "&amp;").replace(/</g, "&lt;").replace(/>/g, "&gt;").replace(/"/g, "&quot;").replace(/'/g, "&#39;");
}
