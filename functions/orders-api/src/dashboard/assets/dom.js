// Building the page from data without ever parsing markup: every value from the API (emails,
// product names, Stripe's messages) becomes a text node, so `<img onerror=…>` shows literally,
// in an element with `dir="auto"` (a bidirectional isolate).

/**
 * h('a', {href: '/x', class: 'link', onclick: fn}, 'text', child…)
 * Attributes are set with setAttribute (never `on…` strings), children are Nodes or text.
 */
export function h(tag, attrs, ...children) {
  const el = document.createElement(tag);
  for (const [key, value] of Object.entries(attrs || {})) {
    if (value === null || value === undefined || value === false) continue;
    if (key.startsWith('on') && typeof value === 'function') {
      el.addEventListener(key.slice(2), value);
    } else if (key === 'class') {
      el.className = value;
    } else if (key === 'dataset') {
      Object.assign(el.dataset, value);
    } else if (key === 'value') {
      el.value = value;
    } else {
      el.setAttribute(key, value === true ? '' : String(value));
    }
  }
  append(el, children);
  return el;
}

function append(el, children) {
  for (const child of children.flat(Infinity)) {
    if (child === null || child === undefined || child === false) continue;
    if (child instanceof Node) {
      el.append(child);
      continue;
    }
    // Text may be in any script (a Persian product name, a Hebrew email): the element takes its
    // direction from its own text and is isolated, so it can never reorder the text around it.
    if (!el.hasAttribute('dir')) el.dir = 'auto';
    el.append(document.createTextNode(String(child)));
  }
}

/** Replaces every child of `el`. */
export function replace(el, ...children) {
  el.replaceChildren();
  append(el, children);
  return el;
}

/** Shows a short message in the polite live region (copy, save, resend…). */
export function toast(message) {
  const el = document.getElementById('toast');
  if (!el) return;
  el.textContent = message;
  el.classList.add('show');
  clearTimeout(toast.timer);
  toast.timer = setTimeout(() => el.classList.remove('show'), 4000);
}
