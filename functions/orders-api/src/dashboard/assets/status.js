// One main status per order, the same in the list and on its page, and the small flags for what
// needs the seller (contract section 8, amended): the first that applies of Needs response,
// Disputed, Dispute lost / Dispute won (the newest dispute's outcome), else the payment's word.
// A won dispute never reads as a standing problem; a disputed order never shows a bare green
// Succeeded.

import { h } from './dom.js';
import { failureReason, paymentStatus, STATUS_TONE } from './format.js';

const NEEDS_RESPONSE = new Set(['needs_response', 'warning_needs_response']);
const CLOSED = new Set(['won', 'lost', 'prevented', 'warning_closed']);

export function badge(tone, text, extra = '') {
  return h('span', { class: `badge badge-${tone}${extra}` }, text);
}

/** `{key, word, tone}` of the order's main status. */
export function mainStatus(order) {
  const disputes = order.disputes || [];
  if (disputes.some((d) => NEEDS_RESPONSE.has(d.status))) return { key: 'needs_response', word: 'Needs response', tone: 'warn' };
  // Under review, or a status Stripe added since: the dispute still stands.
  if (disputes.some((d) => !CLOSED.has(d.status))) return { key: 'disputed', word: 'Disputed', tone: 'warn' };
  const newest = order.dispute;
  if (newest && newest.status === 'lost') return { key: 'dispute_lost', word: 'Dispute lost', tone: 'bad' };
  if (newest && newest.status === 'won') return { key: 'dispute_won', word: 'Dispute won', tone: 'ok' };
  const ps = order.payment_status;
  return { key: ps, word: paymentStatus(ps), tone: STATUS_TONE[ps] || 'muted' };
}

/** The newest email's failed delivery in two words, or null. */
function deliveryFlag(order) {
  const d = order.fulfillment && order.fulfillment.delivery;
  const status = d ? d.status : '';
  if (status === 'complained') return 'Marked as spam';
  if (status === 'rejected') return 'Email rejected';
  return 'Email bounced';
}

/** The small flags beside the main status: `[{word, tone}]`. */
export function flags(order, main = mainStatus(order)) {
  const out = [];
  const ps = order.payment_status;
  // Beside a dispute's word, the payment's own word when it says more than "paid".
  if (main.key !== ps && ps !== 'succeeded') out.push({ word: paymentStatus(ps), tone: 'muted' });
  if (main.key === ps && order.dispute && order.dispute.status === 'warning_closed') out.push({ word: 'Inquiry closed', tone: 'muted' });
  if (main.key === ps && order.dispute && order.dispute.status === 'prevented') out.push({ word: 'Dispute prevented', tone: 'muted' });
  const attention = new Set(order.attention || []);
  if (attention.has('delivery_failed')) out.push({ word: deliveryFlag(order), tone: 'bad' });
  if (attention.has('refund_failed') || attention.has('efw_refund_failed')) out.push({ word: 'Refund failed', tone: 'bad' });
  if (order.early_fraud_warning || attention.has('early_fraud_warning')) out.push({ word: 'Fraud warning', tone: 'bad' });
  if (attention.has('fulfillment_failed')) out.push({ word: 'Email not sent', tone: 'bad' });
  if (attention.has('fulfillment_blocked')) out.push({ word: 'Delivery waiting', tone: 'wait' });
  return out;
}

/** The main status badge, then the flags (small), then a failed payment's reason. */
export function statusBadges(order) {
  const main = mainStatus(order);
  const out = [badge(main.tone, main.word, ' badge-main')];
  for (const f of flags(order, main)) out.push(badge(f.tone, f.word, ' badge-flag'));
  return out;
}

/** Why a failed payment failed, in the seed's words, or null. */
export function failedBecause(order) {
  return order.payment_status === 'failed' && order.failure ? failureReason(order.failure.category) : null;
}
