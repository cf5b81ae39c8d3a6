/**
 * Building DOM nodes without HTML strings: every value becomes a text node or an
 * attribute set through the DOM, so nothing the API or a person typed is ever parsed
 * as markup.
 */

export type Child = Node | string | number | bigint | null | undefined | false;

export interface Props {
  readonly id?: string;
  readonly class?: string;
  readonly attrs?: Readonly<Record<string, string | boolean>>;
  readonly on?: { readonly [K in keyof HTMLElementEventMap]?: (event: HTMLElementEventMap[K]) => void };
}

export function h<K extends keyof HTMLElementTagNameMap>(
  tag: K,
  props: Props = {},
  ...children: Child[]
): HTMLElementTagNameMap[K] {
  const el = document.createElement(tag);
  if (props.id !== undefined) el.id = props.id;
  if (props.class !== undefined) el.className = props.class;
  for (const [name, value] of Object.entries(props.attrs ?? {})) {
    if (value === true) el.setAttribute(name, "");
    else if (value !== false) el.setAttribute(name, value);
  }
  for (const [type, handler] of Object.entries(props.on ?? {})) {
    el.addEventListener(type, handler as EventListener);
  }
  append(el, children);
  return el;
}

export function append(parent: Node, children: readonly Child[]): void {
  for (const child of children) {
    if (child === null || child === undefined || child === false) continue;
    parent.appendChild(child instanceof Node ? child : document.createTextNode(String(child)));
  }
}

/** Replace an element's content with `children`, all as text or built nodes. */
export function fill(parent: Element, ...children: Child[]): void {
  parent.replaceChildren();
  append(parent, children);
}

export function byId<T extends HTMLElement = HTMLElement>(id: string): T {
  const el = document.getElementById(id);
  if (el === null) throw new Error(`the page has no #${id}`);
  return el as T;
}

/** Move focus to a message or heading so that keyboard and screen-reader users land on it. */
export function focusOn(el: HTMLElement): void {
  if (!el.hasAttribute("tabindex")) el.setAttribute("tabindex", "-1");
  el.focus();
}

/**
 * A scrolling box (a wide table on a phone) must be reachable by keyboard to be scrolled;
 * it joins the tab order only while its content is actually wider than it.
 */
export function focusableWhileScrolling(box: HTMLElement, label: string): void {
  box.setAttribute("role", "region");
  box.setAttribute("aria-label", label);
  const update = (): void => {
    if (box.scrollWidth > box.clientWidth) box.setAttribute("tabindex", "0");
    else box.removeAttribute("tabindex");
  };
  new ResizeObserver(update).observe(box);
  new MutationObserver(update).observe(box, { childList: true, subtree: true });
  update();
}
