import { h } from "../dom";
import type { MachineJson } from "../inspect-socket";

/** The state paths a state value makes active: { a: { b: "c" } } → a, a.b, a.b.c. */
export function activePaths(value: unknown, prefix = ""): string[] {
  const join = (key: string) => (prefix ? `${prefix}.${key}` : key);
  if (typeof value === "string") return [join(value)];
  if (!value || typeof value !== "object") return [];
  return Object.entries(value).flatMap(([key, child]) => [join(key), ...activePaths(child, join(key))]);
}

/** Where a transition goes, as XState's JSON writes it (a string, an array, or objects with `target`). */
function targetOf(transition: unknown): string {
  const first: unknown = ([] as unknown[]).concat(transition)[0];
  if (typeof first === "string") return first;
  const target = first && typeof first === "object" && "target" in first ? (first as { target: unknown }).target : undefined;
  return target ? ([] as unknown[]).concat(target).join(", ") : "(actions)";
}

/**
 * A machine's states as nested boxes, the active ones lit, each with its
 * transitions in words. The elkjs statechart of dashboard/diagram/ replaces
 * this drawing in the instance view's diagram panel when it lands.
 */
export function drawStates(name: string, config: MachineJson, path: string, active: readonly string[]): HTMLElement {
  const here = path || name;
  const children = Object.entries(config.states ?? {}).map(([key, child]) => drawStates(key, child, path ? `${path}.${key}` : key, active));
  const transitions = [
    ...Object.entries(config.on ?? {}).map(([event, target]) => `${event} → ${targetOf(target)}`),
    ...Object.entries(config.after ?? {}).map(([delay, target]) => `after ${delay} → ${targetOf(target)}`),
  ];
  if (config.invoke) {
    const invokes = ([] as { src?: unknown }[]).concat(config.invoke as { src?: unknown }[]);
    transitions.unshift(`invokes ${invokes.map((invoke) => (typeof invoke.src === "string" ? invoke.src : "step")).join(", ")}`);
  }
  const classes = ["state", config.type === "parallel" && "parallel", config.type === "final" && "final", path && active.includes(here) && "active"].filter(Boolean).join(" ");
  return h(
    "div",
    { class: classes, "data-state": here },
    h("div", { class: "name" }, name),
    transitions.length > 0 && h("div", { class: "transitions" }, transitions.join(" · ")),
    children.length > 0 && h("div", { class: "children" }, children),
  );
}
