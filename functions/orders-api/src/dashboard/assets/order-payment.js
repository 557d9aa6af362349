// The payment side of an order's page: why a payment failed and what that means, what needs the
// seller (one compact notice), the order's facts, and its refunds. Stripe's codes and ids stay in
// a disclosure; the sentences say what happened.

import { h, toast } from './dom.js';
import {
  attention, dateTime, day, FAILURE_HINT, failureReason, humanize, money, refundStatus,
} from './format.js';
import { dl, raw, section, stripeLink } from './parts.js';
import { badge, statusBadges } from './status.js';
import { paymentUrl } from './stripe.js';

function mailto(order) {
  const product = order.product_name || order.product_id || 'your order';
  const subject = `Your order of ${product} on ${day(order.created_at)}`;
  // The address is percent-encoded too: quotes or `?` in it stay part of the address.
  const to = encodeURIComponent(order.customer_email).replace(/%40/g, '@');
  return `mailto:${to}?subject=${encodeURIComponent(subject)}`;
}

async function copy(text) {
  try {
    await navigator.clipboard.writeText(text);
    toast('Email address copied');
  } catch {
    toast('Copy is not available here: select the address and copy it');
  }
}

export function failurePanel(order) {
  const f = order.failure;
  if (!f) return null;
  const reason = failureReason(f.category);
  const stripeSays = f.message ? h('p', { class: 'sub' }, 'Stripe\u2019s message: ', h('q', {}, f.message)) : null;
  const codes = raw([['Decline code', f.code]], 'Stripe\u2019s code');
  if (order.payment_status !== 'failed') {
    return h('div', { class: 'notice notice-info' },
      h('strong', {}, `An earlier attempt failed: ${reason}`),
      h('p', {}, 'The customer tried again and the latest attempt went through.'), stripeSays, codes);
  }
  return h('div', { class: 'notice notice-bad', role: 'region', 'aria-label': 'Why the payment failed' },
    h('strong', {}, `Payment failed: ${reason}`),
    h('p', {}, FAILURE_HINT[f.category] || ''),
    h('ul', { class: 'plain' },
      h('li', {}, 'Nothing was charged: at most a temporary hold that the customer\u2019s bank releases.'),
      h('li', {}, 'Nothing was delivered: no download link was sent.'),
      h('li', {}, 'No action is needed from you.'),
      h('li', {}, 'The customer can retry with another card, or after sorting it out with their bank.')),
    stripeSays, codes);
}

/** What needs the seller, in one compact notice (the dispute has its own banner above). */
export function attentionPanel(order, { disputeBanner = false } = {}) {
  const items = (order.attention || []).filter((a) => !(disputeBanner && a === 'dispute_needs_response'));
  if (items.length === 0) return null;
  return h('div', { class: 'notice notice-warn compact', role: 'region', 'aria-label': 'Needs your attention' },
    h('strong', {}, 'Needs your attention'),
    h('ul', { class: 'plain' }, items.map((a) => h('li', {}, attention(a)))));
}

// What the customer's download link does now: an unpaid order never had one.
function access(order) {
  if (order.access_revoked) return 'Revoked: the download link no longer works';
  if (['succeeded', 'partially_refunded'].includes(order.payment_status)) return 'The download link works';
  return 'No download link: the payment has not succeeded';
}

export function details(order) {
  const email = order.customer_email;
  const reason = order.payment_status === 'failed' && order.failure ? failureReason(order.failure.category) : '';
  return section('Order details', dl([
    ['Customer', email
      ? h('span', { class: 'email-line' },
        h('a', { href: mailto(order), class: 'mailto' }, email),
        h('button', { type: 'button', class: 'btn btn-small', onclick: () => copy(email),
          'aria-label': 'Copy customer email' }, 'Copy'))
      : 'No email yet'],
    ['Product', order.product_name || order.product_id || '\u2014'],
    ['Purchase date', dateTime(order.created_at)],
    ['Amount', money(order.amount, order.currency)],
    order.refunded_amount > 0 ? ['Refunded', money(order.refunded_amount, order.currency)] : null,
    ['Status', h('span', { class: 'badges' }, statusBadges(order)), reason ? ` ${reason}` : ''],
    order.early_fraud_warning ? ['Fraud warning', h('span', {},
      'The card network warned that this payment may be fraudulent. A refund now usually costs less than a dispute later: refund it in Stripe unless you know the customer. ',
      stripeLink(paymentUrl(order), 'Refund in Stripe'))] : null,
    ['Access', access(order)],
    order.reference ? ['Your reference', order.reference] : null,
  ]),
  raw([
    ['Order id', order.order_id],
    ['Stripe account', order.seller_id],
    ['Mode', order.livemode ? 'live' : 'test'],
    ['Product id', order.product_id],
  ], 'Ids'));
}

export function refunds(order) {
  const list = order.refunds || [];
  if (list.length === 0) return null;
  const explain = (r) => (r.status === 'failed'
    ? 'The refund failed: the money was not returned to the customer.'
    : r.status === 'canceled' ? 'The refund was canceled: the money was not returned.' : '');
  return section('Refunds',
    h('ul', { class: 'sentences' }, list.map((r) => h('li', {},
      badge(r.status === 'failed' || r.status === 'canceled' ? 'bad' : r.status === 'succeeded' ? 'ok' : 'wait', refundStatus(r.status)),
      ' ', h('span', {}, `Refund of ${money(r.amount, order.currency)}`, r.created_at ? `, ${dateTime(r.created_at)}` : '', '.'),
      explain(r) ? h('span', { class: 'sub block' }, explain(r)) : null,
      raw([['Refund id', r.id], ['Failure reason', r.failure_reason ? `${humanize(r.failure_reason)} (${r.failure_reason})` : null]])))),
    paymentUrl(order) ? h('p', { class: 'sub' }, 'Refunds are made in Stripe: ', stripeLink(paymentUrl(order), 'open the payment in Stripe'), '.') : null);
}
