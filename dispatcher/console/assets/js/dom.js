// DOM helpers: build elements whose text is always set as text (never parsed as markup), find the page's
// data-ref hooks, clone templates, and draw small bars and definition lists.

// An element: `props` are attributes, plus `class`, `text` (set as textContent), `dataset` and `on` (listeners).
// Children are nodes or strings (added as text nodes); null and false are skipped, arrays are flattened.
export function el(tag, props = {}, ...children) {
  return fill(document.createElement(tag), props, children);
}

// An SVG element with attributes `attrs`.
export function svg(tag, attrs = {}) {
  const node = document.createElementNS('http://www.w3.org/2000/svg', tag);
  for (const [name, value] of Object.entries(attrs)) node.setAttribute(name, String(value));
  return node;
}

function fill(node, props, children) {
  for (const [name, value] of Object.entries(props)) {
    if (value === undefined || value === null || value === false) continue;
    if (name === 'class') node.className = value;
    else if (name === 'text') node.textContent = String(value);
    else if (name === 'dataset') Object.assign(node.dataset, value);
    else if (name === 'on') addListeners(node, value);
    else node.setAttribute(name, value === true ? '' : String(value));
  }
  append(node, children);
  return node;
}

function addListeners(node, listeners) {
  for (const [event, listener] of Object.entries(listeners)) node.addEventListener(event, listener);
}

// Appends `children` (nodes, strings, arrays of them) to `node`.
export function append(node, children) {
  for (const child of children.flat(Infinity)) {
    if (child === null || child === undefined || child === false) continue;
    node.append(child instanceof Node ? child : document.createTextNode(String(child)));
  }
  return node;
}

// The element with data-ref="name" under `root` (the document by default); throws when missing.
export function ref(name, root = document) {
  const found = root.querySelector(`[data-ref="${name}"]`);
  if (!found) throw new Error(`missing element data-ref=${name}`);
  return found;
}

// A copy of the first element of the <template data-ref="name">.
export function cloneTemplate(name) {
  return ref(name).content.firstElementChild.cloneNode(true);
}

// A horizontal bar filled to `fraction` (0..1), with `label` as its accessible name and visible text.
export function bar(fraction, label) {
  const clamped = Math.max(0, Math.min(1, Number(fraction) || 0));
  const node = el('div', { class: 'bar', role: 'img', 'aria-label': label },
    el('span', { class: 'bar-fill' }), el('span', { class: 'bar-text', text: label }));
  node.style.setProperty('--fill', `${(clamped * 100).toFixed(1)}%`);
  return node;
}

// A <dl> of [term, value] pairs; a value is a string or a node, pairs whose value is null are left out.
export function definitions(pairs, className = 'facts') {
  const list = el('dl', { class: className });
  for (const [term, value] of pairs) {
    if (value === null || value === undefined) continue;
    list.append(el('div', {}, el('dt', { text: term }), el('dd', {}, value)));
  }
  return list;
}

// Shows `message` in `node` (a hidden-by-default element), or hides it when `message` is empty.
export function showMessage(node, message) {
  node.textContent = message || '';
  node.hidden = !message;
}

// `handler` for an event listener: its rejection is passed to `onError` instead of becoming unhandled.
export function guard(handler, onError) {
  return (event) => {
    Promise.resolve()
      .then(() => handler(event))
      .catch((err) => onError(err));
  };
}
