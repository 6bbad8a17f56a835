/// <reference lib="dom" />
/**
 * A few DOM helpers, so the page needs no framework.
 *
 * Everything is built with `createElement` and `textContent`, never from HTML
 * strings: text from the API (report names, column names, error details) can
 * never become markup, and the Content-Security-Policy can forbid string-to-DOM
 * sinks altogether (`require-trusted-types-for 'script'`).
 *
 * @module
 */

/** A child of {@linkcode h}: a node, text, or nothing (skipped). */
export type Child = Node | string | number | null | undefined | false;

/** Attributes for {@linkcode h}; `false` and `undefined` leave one out, `true` sets it empty. */
export type Attributes = Record<string, string | number | boolean | undefined>;

/**
 * Creates an element with attributes and children.
 *
 * @example
 * ```ts ignore
 * const link = h("a", { href: "#/reports/1", class: "report-link" }, "Open");
 * ```
 */
export function h<K extends keyof HTMLElementTagNameMap>(
  tag: K,
  attributes: Attributes = {},
  ...children: Child[]
): HTMLElementTagNameMap[K] {
  const element = document.createElement(tag);
  for (const [name, value] of Object.entries(attributes)) {
    if (value === undefined || value === false) continue;
    element.setAttribute(name, value === true ? "" : String(value));
  }
  append(element, children);
  return element;
}

/** Appends children to `parent`, skipping empty ones. */
export function append(parent: Node, children: Child[]): void {
  for (const child of children) {
    if (child === null || child === undefined || child === false) continue;
    parent.appendChild(typeof child === "object" ? child : document.createTextNode(String(child)));
  }
}

/** Replaces every child of `parent`. */
export function replaceChildren(parent: Element, ...children: Child[]): void {
  parent.replaceChildren();
  append(parent, children);
}

/**
 * The element with this id, checked to be of the expected class: a missing or
 * different element is a bug in index.html, so it fails loudly at start.
 */
export function byId<T extends HTMLElement>(id: string, type: { new (): T }): T {
  const element = document.getElementById(id);
  if (!(element instanceof type)) {
    throw new Error(`Element #${id} is missing or not a ${type.name}`);
  }
  return element;
}

/**
 * Says `message` through the page's polite live region, so screen readers
 * announce status changes that happen without the user doing anything.
 */
export function announce(message: string): void {
  const region = byId("announcer", HTMLElement);
  // Clearing first makes a repeated message count as a change.
  region.textContent = "";
  requestAnimationFrame(() => {
    region.textContent = message;
  });
}
