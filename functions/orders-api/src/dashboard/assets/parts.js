// Small building blocks the order page and the settings page share: a titled card, a list of
// facts, and the disclosure that keeps Stripe's raw codes, SMTP replies and ids out of the
// sentences (shown on demand, never in the way).

import { h } from './dom.js';

/** A card with an `h2`, labelled by it (a landmark region named `title`). */
export function section(title, ...content) {
  const id = `s-${title.toLowerCase().replace(/[^a-z]+/g, '-')}`;
  return h('section', { class: 'card', 'aria-labelledby': id, id: `${id}-card` }, h('h2', { id }, title), content);
}

/** `[term, value…]` pairs as a definition list; null pairs are left out. */
export function dl(pairs) {
  return h('dl', { class: 'facts' }, pairs.filter(Boolean).map(([term, ...value]) =>
    h('div', { class: 'fact' }, h('dt', {}, term), h('dd', {}, value))));
}

/**
 * The raw side of a sentence: `[label, value]` pairs (ids, codes, SMTP replies) inside a
 * `<details>`, or null when there is nothing.
 */
export function raw(pairs, summary = 'Details') {
  const kept = pairs.filter((p) => p && p[1] !== null && p[1] !== undefined && p[1] !== '');
  if (kept.length === 0) return null;
  return h('details', { class: 'raw' }, h('summary', {}, summary),
    h('dl', {}, kept.map(([k, v]) => [h('dt', {}, k), h('dd', { class: 'mono' }, v)])));
}

/** A link to the seller's Stripe Dashboard, in a new tab. */
export function stripeLink(href, text) {
  return href ? h('a', { href, class: 'stripe-link', target: '_blank', rel: 'noopener noreferrer' }, text,
    h('span', { class: 'sr-only' }, ' (opens in a new tab)')) : null;
}
