// The timeline of an order's page as sentences with formatted amounts and dates ("Refund of
// $25.00 succeeded"); what the API recorded word for word (ids, Stripe's codes, SMTP replies)
// stays in a disclosure under each entry.

import { h } from './dom.js';
import { dateTime, disputeStatus, failureReason, humanize, money, refundStatus } from './format.js';
import { raw, section } from './parts.js';

/** The status after `id: ` in a dispute entry's detail. */
function afterColon(detail) {
  const i = String(detail || '').lastIndexOf(': ');
  return i >= 0 ? detail.slice(i + 2).trim() : '';
}

/** Why a warned order was not refunded, from the words the backend writes (never Stripe's). */
function efwWhy(detail) {
  if (detail.includes('(efw_auto_refund: off)')) return 'your rule is off';
  if (detail.includes('downloaded the product')) return 'the customer downloaded the product';
  if (detail.includes('no longer marks')) return 'Stripe no longer marks it actionable';
  if (detail.includes('already refunded')) return 'the order was already refunded in full';
  if (detail.includes('already disputed')) return 'the payment is already disputed';
  return 'see the detail';
}

/** The sentence for one entry, from its kind and the order (never from untrusted codes alone). */
export function sentence(order, t) {
  const kind = String(t.kind || '');
  const detail = String(t.detail || '');
  const amount = money(order.amount, order.currency);
  if (kind === 'payment_succeeded') return order.amount !== null && order.amount !== undefined ? `Payment of ${amount} succeeded` : 'Payment succeeded';
  if (kind === 'payment_failed') {
    const category = detail.split(/[\s(]/)[0];
    return `A payment attempt failed: ${failureReason(category)}`;
  }
  if (kind === 'checkout_completed') return 'Checkout completed; waiting for the payment';
  if (kind.startsWith('refund_')) {
    const minor = Number.parseInt(afterColon(detail), 10);
    const what = Number.isFinite(minor) ? `Refund of ${money(minor, order.currency)}` : 'A refund';
    return `${what} ${refundStatus(kind.slice('refund_'.length)).toLowerCase()}`;
  }
  if (kind.startsWith('dispute_')) {
    const status = afterColon(detail);
    const words = status ? disputeStatus(status) : '';
    switch (kind) {
      case 'dispute_created': return `Dispute opened${words ? `: ${words}` : ''}`;
      case 'dispute_closed': return `Dispute closed${words ? `: ${words}` : ''}`;
      case 'dispute_funds_withdrawn': return 'The disputed amount was withdrawn from your balance';
      case 'dispute_funds_reinstated': return 'The disputed amount was returned to your balance';
      default: return `Dispute updated${words ? `: ${words}` : ''}`;
    }
  }
  switch (kind) {
    case 'email_sent': return 'Download link emailed to the customer';
    case 'email_resent': {
      // A resend to a corrected address names it (`… sent again to <address> at the seller's …`).
      const to = detail.match(/ again to (\S+@\S+) at /);
      return `Download link sent again${to ? ` to ${to[1]}` : ''} at your request`;
    }
    case 'email_delivered': return 'The customer\u2019s mail server accepted the email';
    case 'email_bounced': return 'The email bounced';
    case 'email_complained': return 'The customer marked the email as spam';
    case 'email_rejected': return 'The mail service refused the email';
    case 'email_delayed': return 'The email was delayed';
    case 'evidence_saved': return 'Evidence draft saved to Stripe';
    case 'evidence_submitted': return 'Evidence submitted to Stripe';
    case 'early_fraud_warning_created': return 'Stripe flagged the payment with an early fraud warning';
    case 'early_fraud_warning_updated': return 'Stripe updated the early fraud warning';
    case 'efw_refund_requested': return detail.includes('never downloaded')
      ? 'Refunded in full automatically after an early fraud warning: never downloaded (your rule)'
      : 'Refunded in full automatically after an early fraud warning (your rule)';
    case 'early_fraud_warning_decided': return `Early fraud warning not refunded automatically: ${efwWhy(detail)}`;
    default: return humanize(kind);
  }
}

export function timeline(order) {
  const list = order.timeline || [];
  return section('Timeline', list.length === 0 ? h('p', {}, 'Nothing recorded yet.')
    : h('ol', { class: 'timeline' }, list.map((t) => h('li', {},
      h('time', { datetime: t.at }, dateTime(t.at)),
      h('span', { class: 'kind' }, `${sentence(order, t)}.`),
      raw([['Recorded as', t.kind], ['Detail', t.detail]])))));
}
