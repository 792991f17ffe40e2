import { svg } from "../dom";

/** Icons as SVG paths on a 16×16 grid, drawn in the text colour: glyphs such as 🗑 need fonts a machine may lack. */
const PATHS = {
  pause: { fill: "M3 2h3.5v12H3zM9.5 2H13v12H9.5z" },
  resume: { fill: "M4 2l10 6-10 6z" },
  terminate: { fill: "M3 3h10v10H3z" },
  restart: { fill: "M8 3a5 5 0 1 0 5 5h-1.8A3.2 3.2 0 1 1 8 4.8V7l3.5-3L8 1z" },
  delete: { fill: "M5.5 1h5v1.5H14V4H2V2.5h3.5zM3 5h10l-1 10H4z" },
  send: { fill: "M1 7.3L15 1.5 9.8 15 7.6 8.6z" },
  copy: { stroke: "M5 5V2h8v9h-3M2 5h8v9H2z" },
  copied: { stroke: "M2.5 8.5l3.5 3.5 7.5-8" },
} as const;

export type IconName = keyof typeof PATHS;

export function icon(name: IconName): SVGSVGElement {
  const shape: { fill?: string; stroke?: string } = PATHS[name];
  const path = shape.fill
    ? svg("path", { d: shape.fill, fill: "currentColor" })
    : svg("path", { d: shape.stroke, fill: "none", stroke: "currentColor", "stroke-width": 1.6, "stroke-linejoin": "round" });
  return svg("svg", { class: "icon", viewBox: "0 0 16 16", width: 14, height: 14, "aria-hidden": "true", focusable: "false" }, path);
}
