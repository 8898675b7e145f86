// Elements are built with textContent only: nothing the server sends is ever parsed as HTML, so a campaign named
// "<script>…" is just text, and the page needs no inline script or style (the Content-Security-Policy forbids both).

type Child = Node | string | number | null | undefined | false;
type Attributes = Record<string, string | number | boolean | null | undefined | ((event: Event) => void)>;

/** An element with attributes ("on…" keys become listeners; false or null leave the attribute out) and children. */
export function h<K extends keyof HTMLElementTagNameMap>(tag: K, attributes: Attributes = {}, ...children: Child[]): HTMLElementTagNameMap[K] {
  const element = document.createElement(tag);
  for (const [name, value] of Object.entries(attributes)) {
    if (typeof value === "function") {
      element.addEventListener(name.slice(2).toLowerCase(), value);
    } else if (value === true) {
      element.setAttribute(name, "");
    } else if (value !== false && value !== null && value !== undefined) {
      element.setAttribute(name, String(value));
    }
  }
  element.append(...children.filter((child): child is Node | string | number => child !== null && child !== undefined && child !== false).map((c) => (typeof c === "number" ? String(c) : c)));
  return element;
}

/** A labelled form field: the label's for= names the input's id. */
export function field(label: string, input: HTMLInputElement | HTMLSelectElement, hint?: string): HTMLElement {
  const wrapper = h("div", { class: "field" }, h("label", { for: input.id }, label), input);
  if (hint) {
    const hintId = `${input.id}-hint`;
    input.setAttribute("aria-describedby", hintId);
    wrapper.append(h("small", { id: hintId }, hint));
  }
  return wrapper;
}

export function byId<T extends HTMLElement = HTMLElement>(id: string): T {
  const element = document.getElementById(id);
  if (!element) throw new Error(`No element #${id}`);
  return element as T;
}
