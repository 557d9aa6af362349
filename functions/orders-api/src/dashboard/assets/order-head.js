// The top of an order's page: the way back, the product, the amount with its one main status and
// flags, when it was bought, the link to the payment in Stripe, and, for a dispute awaiting a
// response, its deadline with a jump to it (the one thing that must not be missed).

import { h } from './dom.js';
import { dateTime, money, timeLeft } from './format.js';
import { LIST_QUERY_KEY } from './nav.js';
import { stripeLink } from './parts.js';
import { statusBadges } from './status.js';
import { paymentUrl } from './stripe.js';

const NEEDS_RESPONSE = new Set(['needs_response', 'warning_needs_response']);

export function header(order) {
  const back = sessionStorage.getItem(LIST_QUERY_KEY) || '';
  const product = order.product_name || order.product_id || 'Order';
  return h('div', { class: 'order-head' },
    h('a', { href: `/dashboard${back}`, class: 'back' }, '\u2190 All orders'),
    h('h1', { tabindex: '-1' }, product),
    h('div', { class: 'headline' },
      h('span', { class: 'big-amount' }, money(order.amount, order.currency)),
      h('span', { class: 'badges' }, statusBadges(order))),
    h('p', { class: 'sub head-meta' },
      `${['failed', 'pending', 'canceled'].includes(order.payment_status) ? 'Checkout' : 'Bought'} ${dateTime(order.created_at)}`,
      order.customer_email ? ` by ${order.customer_email}` : '',
      paymentUrl(order) ? ' \u00b7 ' : '',
      stripeLink(paymentUrl(order), 'View payment in Stripe')));
}

/** The element id of a dispute's article (the jump target). */
export function disputeAnchor(dispute) {
  return `dispute-${String(dispute.id).replace(/[^A-Za-z0-9_-]/g, '')}`;
}

/** The open dispute's deadline at the top, with a jump to the dispute; null when none is open. */
export function deadlineBanner(order) {
  const open = (order.disputes || []).filter((d) => NEEDS_RESPONSE.has(d.status));
  if (open.length === 0) return null;
  const byDue = [...open].sort((a, b) => String(a.evidence_due_by || '~').localeCompare(String(b.evidence_due_by || '~')));
  const d = byDue[0];
  const when = d.evidence_due_by
    ? `Respond by ${dateTime(d.evidence_due_by)} (${timeLeft(d.evidence_due_by)}).`
    : 'Stripe has not given a due date yet.';
  const jump = h('a', { href: `#${disputeAnchor(d)}`, class: 'jump' }, 'Go to the dispute');
  jump.addEventListener('click', (e) => {
    e.preventDefault();
    const target = document.getElementById(disputeAnchor(d));
    if (!target) return;
    target.scrollIntoView({ block: 'start' });
    const heading = target.querySelector('h3');
    if (heading) heading.focus({ preventScroll: true });
  });
  return h('div', { class: 'notice-line notice-warn deadline', role: 'region', 'aria-label': 'Dispute deadline' },
    h('span', { class: 'notice-text wrap' }, h('strong', {}, 'A dispute needs your response. '), when,
      ' Without a response the card issuer decides against you.'),
    h('span', { class: 'notice-actions' }, jump));
}
