/**
 * Building the page with the DOM, never with HTML strings: text is always
 * text (nothing to escape), and no `style` attribute is ever written, which
 * the page's Content-Security-Policy would refuse.
 */
type Attributes = Record<string, string | number | boolean | undefined>;
export type Child = Node | string | number | false | null | undefined | readonly Child[];

/**
 * An element with attributes (`class`, `data-*`, `title`…; `true` sets an
 * empty attribute, `false` and `undefined` leave it out) and children.
 */
export function h<K extends keyof HTMLElementTagNameMap>(tag: K, attributes: Attributes = {}, ...children: Child[]): HTMLElementTagNameMap[K] {
  const element = document.createElement(tag);
  for (const [name, value] of Object.entries(attributes)) {
    if (name === "style") throw new Error("the dashboard's CSP refuses style attributes: use a class, or place() through the CSSOM");
    if (value === undefined || value === false) continue;
    element.setAttribute(name, value === true ? "" : String(value));
  }
  append(element, children);
  return element;
}

/** An SVG element (the DAG's arrows). */
export function svg<K extends keyof SVGElementTagNameMap>(tag: K, attributes: Attributes = {}, ...children: Child[]): SVGElementTagNameMap[K] {
  const element = document.createElementNS("http://www.w3.org/2000/svg", tag);
  for (const [name, value] of Object.entries(attributes)) if (value !== undefined && value !== false) element.setAttribute(name, String(value));
  append(element, children);
  return element;
}

function append(parent: Element, children: readonly Child[]): void {
  for (const child of children) {
    if (child === false || child === null || child === undefined) continue;
    if (Array.isArray(child)) append(parent, child);
    else parent.append(child instanceof Node ? child : String(child));
  }
}

/** Replaces an element's children. */
export function fill(parent: Element, ...children: Child[]): void {
  parent.replaceChildren();
  append(parent, children);
}

/** The element with this id, checked to be of the expected type: the page's HTML and this code must agree. */
export function byId<T extends HTMLElement>(id: string, type: new () => T): T {
  const element = document.getElementById(id);
  if (!(element instanceof type)) throw new Error(`the dashboard's page has no ${type.name} #${id}`);
  return element;
}

/** Positions and sizes an element through the CSSOM, which the CSP allows (a style attribute it refuses). */
export function place(element: HTMLElement | SVGElement, box: { left?: number; top?: number; width?: number; height?: number }): void {
  for (const [property, value] of Object.entries(box)) if (value !== undefined) element.style.setProperty(property, `${value}px`);
}
