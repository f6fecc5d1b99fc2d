// A few DOM helpers: elements are built with text nodes only (never HTML from data), and lists are
// kept by key so a re-render updates what changed without losing focus, selection or scroll.

type Attrs = Record<string, string | number | boolean | undefined | null | ((e: Event) => void)>;
type Child = Node | string | number | null | undefined | false;

export function h<K extends keyof HTMLElementTagNameMap>(tag: K, attrs: Attrs = {}, ...children: Child[]): HTMLElementTagNameMap[K] {
  const el = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs)) {
    if (v === undefined || v === null || v === false) continue;
    if (typeof v === 'function') el.addEventListener(k.replace(/^on/, ''), v);
    else if (k === 'class') el.className = String(v);
    else if (k === 'value' || k === 'checked') (el as unknown as Record<string, unknown>)[k] = v;
    else el.setAttribute(k, v === true ? '' : String(v));
  }
  append(el, ...children);
  return el;
}

export function append(el: Node, ...children: Child[]) {
  for (const c of children) {
    if (c === null || c === undefined || c === false) continue;
    el.appendChild(typeof c === 'string' || typeof c === 'number' ? document.createTextNode(String(c)) : c);
  }
}

/** Sets text only when it changed (a streaming bubble keeps its selection between frames). */
export function setText(el: Element, text: string) {
  if (el.textContent !== text) el.textContent = text;
}

export function setData(el: HTMLElement, key: string, value: string) {
  if (el.dataset[key] !== value) el.dataset[key] = value;
}

/**
 * Keeps `parent`'s children in the order of `keys`, making missing ones with `make` and updating
 * each with `update`; children whose key is gone are removed.
 */
export function syncList<T>(parent: HTMLElement, items: readonly T[], keyOf: (t: T) => string, make: (t: T) => HTMLElement, update: (el: HTMLElement, t: T) => void) {
  const existing = new Map<string, HTMLElement>();
  for (const child of Array.from(parent.children) as HTMLElement[]) {
    if (child.dataset.key) existing.set(child.dataset.key, child);
  }
  let cursor: Element | null = parent.firstElementChild;
  const keep = new Set<string>();
  for (const item of items) {
    const key = keyOf(item);
    keep.add(key);
    let el = existing.get(key);
    if (!el) {
      el = make(item);
      el.dataset.key = key;
    }
    update(el, item);
    if (el !== cursor) parent.insertBefore(el, cursor);
    else cursor = cursor.nextElementSibling;
  }
  for (const [key, el] of existing) if (!keep.has(key)) el.remove();
}

export function clear(el: Element) {
  while (el.firstChild) el.removeChild(el.firstChild);
}

export const fmtCost = (usd: number) => (usd === 0 ? '$0' : usd < 0.01 ? `$${usd.toFixed(4)}` : `$${usd.toFixed(2)}`);
export const fmtTokens = (n: number) => (n >= 10_000 ? `${(n / 1000).toFixed(1)}k` : String(n));
