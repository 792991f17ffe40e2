import { activePaths, layoutGraph, machineGraph, dagGraph, renderSvg, type DiagramLayout, type StateValue } from "../diagram";
import { fill, h } from "../dom";
import type { DagShape, MachineJson } from "../inspect-socket";

/** How much one press of + or − (or one notch of the wheel) zooms. */
const ZOOM_STEP = 1.25;

interface ViewBox {
  x: number;
  y: number;
  width: number;
  height: number;
}

/** What the diagram shows: a machine with its state value, or a DAG with each task's state. */
export type DiagramSubject = { kind: "machine"; definition: MachineJson; value: unknown } | { kind: "dag"; name: string; shape: DagShape; taskStates: Record<string, string>; run?: true };

/**
 * The elkjs diagram of dashboard/diagram in a panel, zoomed and panned by
 * changing the SVG's viewBox (buttons, the wheel, dragging), so any graph
 * fits and none is clipped. The layout is computed once per definition; a
 * move only lights other boxes, and keeps the user's zoom.
 */
export class DiagramPanel {
  private layout: { of: unknown; done: Promise<DiagramLayout> } | undefined;
  private svgElement: SVGSVGElement | undefined;
  private view: ViewBox | undefined;
  private fitted: ViewBox | undefined;
  private turns = 0;
  /** The SVG last put on the page: a live update that lights the same boxes changes nothing, and a 1,000-task graph is costly to parse again. */
  private drawnText = "";
  private readonly canvas = h("div", { class: "diagram-canvas", id: "diagram-canvas" });

  constructor(readonly host: HTMLElement) {
    const button = (id: string, label: string, title: string, act: () => void) => {
      const element = h("button", { type: "button", class: "small", id, title, "aria-label": title }, label);
      element.addEventListener("click", act);
      return element;
    };
    fill(
      host,
      h(
        "div",
        { class: "tools diagram-tools" },
        button("zoom-in", "+", "Zoom in", () => this.zoom(1 / ZOOM_STEP)),
        button("zoom-out", "−", "Zoom out", () => this.zoom(ZOOM_STEP)),
        button("zoom-fit", "fit", "Fit the whole diagram", () => this.fit()),
      ),
      this.canvas,
    );
    this.canvas.append(h("p", { class: "muted" }, "Connecting to the live inspector…"));
    this.canvas.addEventListener("wheel", (event) => this.wheel(event), { passive: false });
    this.canvas.addEventListener("pointerdown", (event) => this.drag(event));
  }

  /** Draws the subject, laying it out only when its definition changed; a draw that a later one overtook is dropped. */
  async draw(subject: DiagramSubject): Promise<void> {
    const turn = ++this.turns;
    const of = subject.kind === "machine" ? subject.definition : subject.shape;
    if (this.layout?.of !== of) {
      const graph = subject.kind === "machine" ? machineGraph(subject.definition) : dagGraph(subject.shape, subject.name, subject.run ? "run" : "tasks");
      this.layout = { of, done: layoutGraph(graph) };
      this.view = undefined;
    }
    const layout = await this.layout.done;
    if (turn !== this.turns) return;
    const text = subject.kind === "machine" ? machineSvg(layout, subject.value) : dagSvg(layout, subject.taskStates);
    if (text === this.drawnText) return;
    this.drawnText = text;
    const parsed = new DOMParser().parseFromString(text, "image/svg+xml").documentElement;
    const element = document.importNode(parsed, true) as unknown as SVGSVGElement;
    // The panel sizes it (CSS); the viewBox says which part of the diagram it shows.
    element.removeAttribute("width");
    element.removeAttribute("height");
    this.svgElement = element;
    this.fitted = layout.viewBox;
    this.show(this.view ?? this.fitted);
    this.canvas.replaceChildren(element);
  }

  private show(view: ViewBox): void {
    this.view = view;
    this.svgElement?.setAttribute("viewBox", [view.x, view.y, view.width, view.height].map((n) => Math.round(n * 10) / 10).join(" "));
  }

  fit(): void {
    if (this.fitted) this.show(this.fitted);
  }

  /** Zooms by `factor` (below 1 is closer) about a point of the diagram, its middle unless given. */
  zoom(factor: number, about?: { x: number; y: number }): void {
    const view = this.view;
    if (!view) return;
    const center = about ?? { x: view.x + view.width / 2, y: view.y + view.height / 2 };
    this.show({ x: center.x - (center.x - view.x) * factor, y: center.y - (center.y - view.y) * factor, width: view.width * factor, height: view.height * factor });
  }

  /** Diagram units per screen pixel (the SVG keeps its aspect ratio, so the larger of the two). */
  private scale(): number {
    const box = this.svgElement?.getBoundingClientRect();
    if (!box || !this.view || !box.width || !box.height) return 1;
    return Math.max(this.view.width / box.width, this.view.height / box.height);
  }

  private wheel(event: WheelEvent): void {
    if (!this.view || !this.svgElement) return;
    event.preventDefault();
    const point = this.svgElement.getScreenCTM()?.inverse();
    const about = point ? new DOMPoint(event.clientX, event.clientY).matrixTransform(point) : undefined;
    // A pinch on a touchpad arrives as a wheel event with ctrlKey; both zoom.
    this.zoom(event.deltaY > 0 ? ZOOM_STEP : 1 / ZOOM_STEP, about && { x: about.x, y: about.y });
  }

  private drag(event: PointerEvent): void {
    if (!this.view || event.button !== 0) return;
    const start = { x: event.clientX, y: event.clientY, view: this.view, scale: this.scale() };
    this.canvas.setPointerCapture(event.pointerId);
    this.canvas.classList.add("dragging");
    const move = (moved: PointerEvent) =>
      this.show({ ...start.view, x: start.view.x - (moved.clientX - start.x) * start.scale, y: start.view.y - (moved.clientY - start.y) * start.scale });
    const end = () => {
      this.canvas.classList.remove("dragging");
      this.canvas.removeEventListener("pointermove", move);
      this.canvas.removeEventListener("pointerup", end);
      this.canvas.removeEventListener("pointercancel", end);
    };
    this.canvas.addEventListener("pointermove", move);
    this.canvas.addEventListener("pointerup", end);
    this.canvas.addEventListener("pointercancel", end);
  }
}

/** A machine's statechart with the states its value names lit (as machineDiagram draws it, on a layout made once). */
function machineSvg(layout: DiagramLayout, value: unknown): string {
  const paths = value === undefined || value === null ? [] : activePaths(value as StateValue);
  return renderSvg(layout, {
    active: new Set(["state:", ...paths.map((path) => `state:${path}`)]),
    idPrefix: "statechart",
    description: paths.length ? `Active states: ${paths.join(", ")}.` : undefined,
  });
}

/** A DAG's task graph, each task's state a class on its box, the running ones lit (as dagDiagram draws it). */
function dagSvg(layout: DiagramLayout, taskStates: Record<string, string>): string {
  const states = Object.entries(taskStates);
  const running = states.filter(([, state]) => state === "running").map(([name]) => name);
  return renderSvg(layout, {
    active: new Set(running.map((name) => `task:${name}`)),
    classes: new Map(states.map(([name, state]) => [`task:${name}`, state])),
    idPrefix: "dag",
    description: running.length ? `Running: ${running.join(", ")}.` : undefined,
  });
}
