import type { DiagramLayout, PlacedEdge, PlacedNode, Point } from "./layout";
import { LINE_HEIGHT } from "./layout";
import { escapeXml, FONT_SIZE } from "./text";

export interface RenderOptions {
  /** Ids of nodes drawn lit (class "active"): the states a state value names, the tasks running. */
  active?: ReadonlySet<string>;
  /** A class per node id besides its kind, such as a DAG task's "done" or "failed". */
  classes?: ReadonlyMap<string, string>;
  /** Prefix of the ids inside the SVG (title, arrowhead), unique per diagram on a page. */
  idPrefix?: string;
  /** Said after the title to a screen reader, such as which states are active. */
  description?: string;
}

const round = (n: number) => Math.round(n * 10) / 10;

function pathOf(points: readonly Point[]): string {
  return points.map((p, n) => `${n ? "L" : "M"}${round(p.x)} ${round(p.y)}`).join(" ");
}

/**
 * The look is in presentation attributes, which a page's CSS overrides by
 * class (the dashboard's content security policy refuses style attributes
 * and inline style sheets, and presentation attributes are neither).
 */
function drawNode(placed: PlacedNode, lit: boolean, extra: string | undefined): string {
  const { node, x, y, width, height } = placed;
  const classes = ["node", node.kind, node.region ? "region" : "", lit ? "active" : "", extra ?? ""].filter(Boolean).join(" ");
  const stroke = lit ? "#4263eb" : "#868e96";
  const strokeWidth = lit ? 2 : 1;
  const attrs = `class="${escapeXml(classes)}" data-id="${escapeXml(node.id)}" data-kind="${node.kind}" data-path="${escapeXml(node.path)}"${lit ? ' data-active="true"' : ""}`;
  if (node.kind === "initial") {
    return `<g ${attrs}><circle cx="${round(x + width / 2)}" cy="${round(y + height / 2)}" r="${round(width / 2)}" fill="#495057"/></g>`;
  }
  const shapes = [
    `<rect x="${round(x)}" y="${round(y)}" width="${round(width)}" height="${round(height)}" rx="${node.kind === "history" ? round(height / 2) : 6}" fill="${lit ? "#edf2ff" : node.region ? "none" : "#ffffff"}" fill-opacity="${node.children.length && !lit ? 0.6 : 1}" stroke="${stroke}" stroke-width="${strokeWidth}"${node.region ? ' stroke-dasharray="6 4"' : ""}/>`,
  ];
  // A final state has a second border inside the first, as in UML and Stately.
  if (node.kind === "final") shapes.push(`<rect x="${round(x + 3)}" y="${round(y + 3)}" width="${round(width - 6)}" height="${round(height - 6)}" rx="4" fill="none" stroke="${stroke}" stroke-width="${strokeWidth}"/>`);
  const text = [node.label, ...node.details].map(
    (line, n) => `<text x="${round(x + 12)}" y="${round(y + 18 + n * LINE_HEIGHT)}" font-size="${n ? FONT_SIZE - 1 : FONT_SIZE}"${n ? ' fill="#495057"' : ' font-weight="600"'} class="${n ? "detail" : "title"}">${escapeXml(line)}</text>`,
  );
  return `<g ${attrs}>${shapes.join("")}${text.join("")}</g>`;
}

function drawEdge(placed: PlacedEdge, prefix: string): string {
  const { edge, points, label } = placed;
  const attrs = `class="edge ${edge.kind}" data-id="${escapeXml(edge.id)}" data-kind="${edge.kind}" data-transition="${escapeXml(edge.transition)}" data-source="${escapeXml(edge.source)}" data-target="${escapeXml(edge.target)}"`;
  const color = edge.kind === "error" ? "#e03131" : "#868e96";
  const line = `<path d="${pathOf(points)}" fill="none" stroke="${color}" stroke-width="1.5"${edge.kind === "always" ? ' stroke-dasharray="4 3"' : ""} marker-end="url(#${prefix}-arrow)"/>`;
  const text = label
    ? `<rect class="label-back" x="${round(label.x)}" y="${round(label.y)}" width="${round(label.width)}" height="${round(label.height)}" rx="3" fill="#f8f9fa" stroke="${color}" stroke-width="0.5"/>` +
      `<text class="label" x="${round(label.x + label.width / 2)}" y="${round(label.y + label.height / 2)}" font-size="${FONT_SIZE - 1}" text-anchor="middle" dominant-baseline="central">${escapeXml(label.text)}</text>`
    : "";
  return `<g ${attrs}>${line}${text}</g>`;
}

/**
 * The laid-out diagram as an SVG document fragment: accessible as one image
 * (role="img" with a title and description), every label real text, the
 * viewBox covering all of it so a page can zoom and pan by changing it.
 */
export function renderSvg(layout: DiagramLayout, options: RenderOptions = {}): string {
  const prefix = options.idPrefix ?? "diagram";
  const active = options.active ?? new Set<string>();
  const { x, y, width, height } = layout.viewBox;
  const described = options.description !== undefined;
  const labelledBy = `${prefix}-title${described ? ` ${prefix}-desc` : ""}`;
  const nodes = layout.nodes.map((placed) => drawNode(placed, active.has(placed.node.id), options.classes?.get(placed.node.id))).join("");
  const edges = layout.edges.map((placed) => drawEdge(placed, prefix)).join("");
  return (
    `<svg xmlns="http://www.w3.org/2000/svg" class="diagram" role="img" aria-labelledby="${labelledBy}" viewBox="${x} ${y} ${width} ${height}" width="${width}" height="${height}" font-family="system-ui, sans-serif">` +
    `<title id="${prefix}-title">${escapeXml(layout.graph.title)}</title>` +
    (described ? `<desc id="${prefix}-desc">${escapeXml(options.description!)}</desc>` : "") +
    `<defs><marker id="${prefix}-arrow" viewBox="0 0 8 8" refX="7" refY="4" markerWidth="7" markerHeight="7" orient="auto-start-reverse"><path d="M0 0 L8 4 L0 8 z" fill="#868e96"/></marker></defs>` +
    `<g class="nodes">${nodes}</g><g class="edges">${edges}</g></svg>`
  );
}
