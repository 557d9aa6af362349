// The dispute controls of the order page (contract section 9.6), kept in their own module: the
// case in words, who files and when (or why not), the reason's guidance, the last error in
// words, the countered-fee sentence and confirmation of Submit, the compliance fee
// acknowledgement, Visa Compelling Evidence 3.0 for a fraud dispute (whether it applies, the
// earlier orders as links, what Stripe says is missing), and Accept with its confirmation. order.js calls these from its dispute
// section; every value from Stripe is shown as text (dom.js's `h` never parses markup).

import { describe, postJson, SignedOut } from './api.js';
import { h, toast } from './dom.js';
import { dateTime, money } from './format.js';

/** What Stripe's case types mean to a seller. */
const CASE = {
  inquiry: 'Inquiry (the bank asks for information; no money has moved yet)',
  chargeback: 'Chargeback (the bank took the money back pending your answer)',
  compliance: 'Compliance (a card-network rule dispute: filing costs a network fee)',
  block: 'Block',
  resolution: 'Resolution',
};

/** What evidence each of Stripe's reasons needs, in a sentence each. */
export const REASON_GUIDANCE = {
  fraudulent: 'The cardholder says they did not make this payment: show who bought and downloaded it (email, IP address, downloads) and any earlier undisputed purchases by the same customer.',
  unrecognized: 'The cardholder does not recognise the charge: show the order confirmation and the downloads so they can tell it was theirs.',
  product_not_received: 'The customer says they never received it: show the delivery email reached them and every download of the file.',
  product_unacceptable: 'The customer says the product was not as described: show what was promised, that it was delivered, and your refund policy.',
  duplicate: 'The customer says they were charged twice: show this is a separate order with its own download.',
  credit_not_processed: 'The customer says a promised refund never came: show your refund policy and why no refund was owed, or that it was made.',
  subscription_canceled: 'The customer says they canceled: show this was a one-time purchase with nothing to cancel.',
  noncompliant: 'The network says a card rule was broken: answer only if you can show the rule was followed; filing costs a network fee.',
  general: 'Explain the purchase and its delivery in your own words, with the confirmation email and downloads.',
};

/** Submitting counters the dispute; Stripe charges a fee for that (not in Mexico and Japan). */
export const COUNTERED_FEE = 'Submitting counters the dispute: Stripe charges a dispute countered fee, which it returns if you win (not charged to businesses in Mexico and Japan).';

const SKIPPED = {
  setting_off: 'Automatic filing is off in your settings: submit it yourself before the deadline.',
  no_strong_evidence: 'Not filed automatically: the customer has not downloaded the product since the email went out (your setting files only on strong evidence). Submit it yourself if you want to answer.',
  past_due: 'The deadline passed before anything was submitted.',
};

/** Whether the dispute is a compliance case (a network fee to acknowledge before submitting). */
export function isCompliance(dispute) {
  return dispute.reason === 'noncompliant' || dispute.case_type === 'compliance';
}

/** The case in words. */
export function caseName(dispute) {
  if (!dispute.case_type) return null;
  return CASE[dispute.case_type] || dispute.case_type;
}

/** Who files this dispute and when, or why nobody will. */
export function whoFiles(dispute, stripeConfigured = true) {
  const ev = dispute.evidence || {};
  if (ev.accepted_at) return `You accepted this dispute ${dateTime(ev.accepted_at)}.`;
  if (ev.submitted_at) {
    return ev.submitted_by === 'auto'
      ? `Submitted automatically ${dateTime(ev.submitted_at)}, before the deadline, under your setting.`
      : `You submitted it ${dateTime(ev.submitted_at)}.`;
  }
  if (!stripeConfigured) return 'Filing to Stripe is not available on this server: answer it in your Stripe dashboard.';
  if (isCompliance(dispute)) return 'Compliance disputes are never filed automatically: only you can decide to pay the network fee.';
  if (dispute.auto_submit_at) return `Leenkies will submit this evidence ${dateTime(dispute.auto_submit_at)} unless you submit or accept first.`;
  if (dispute.auto_submit_skipped) return SKIPPED[dispute.auto_submit_skipped] || dispute.auto_submit_skipped;
  return 'Leenkies drafts the evidence and plans its filing at the next sweep (within 15 minutes).';
}

/** The last error, in words (Stripe's own message, kept as text). */
export function lastError(dispute) {
  const e = dispute.evidence && dispute.evidence.last_error;
  return e ? `The last attempt to reach Stripe failed: ${e}. It is tried again automatically until the deadline.` : null;
}

/** Stripe's CE 3.0 missing pieces in words; a newer one is shown as Stripe spells it. */
const CE3_ACTIONS = {
  missing_prior_undisputed_transactions: 'two earlier undisputed purchases on the same card',
  missing_disputed_transaction_description: "the disputed purchase's description",
  missing_merchandise_or_services: 'whether the purchase was merchandise or services',
};

/**
 * Visa Compelling Evidence 3.0 of a fraud dispute (`ce3`, contract 9.5), or null when it does
 * not apply: whether two earlier orders qualify (links to them), and what Stripe says is missing.
 */
export function ce3Row(dispute) {
  const ce3 = dispute.ce3;
  if (!ce3) return null;
  const orders = ce3.qualifying_orders || [];
  const parts = [];
  if (orders.length >= 2) {
    parts.push('Applies: the same buyer paid with this card before, with no dispute: ');
    orders.slice(0, 2).forEach((id, i) => {
      if (i > 0) parts.push(' and ');
      parts.push(h('a', { href: `/dashboard/orders/${encodeURIComponent(id)}`, class: 'order-link' }, id));
    });
    parts.push('. The evidence sends them to Visa with this dispute.');
  } else {
    parts.push('Does not apply: fewer than two earlier undisputed orders on this card (120 to 365 days before) share the buyer\'s IP, device or account.');
  }
  const missing = (ce3.required_actions || []).map((a) => CE3_ACTIONS[a] || a);
  if (missing.length) parts.push(` Stripe says it is missing: ${missing.join('; ')}.`);
  if (ce3.status) parts.push(` Stripe's eligibility: ${ce3.status}.`);
  return ['Compelling Evidence 3.0', h('span', { class: 'ce3' }, ...parts)];
}

/** Rows for the dispute's description list: case, who files, guidance, CE 3.0, late submission. */
export function disputeRows(dispute) {
  const rows = [];
  const kind = caseName(dispute);
  if (kind) rows.push(['Case', kind]);
  if (dispute.network_reason_code) rows.push(['Network reason code', dispute.network_reason_code]);
  rows.push(['Filing', whoFiles(dispute)]);
  rows.push(['What helps', REASON_GUIDANCE[dispute.reason] || REASON_GUIDANCE.general]);
  const ce3 = ce3Row(dispute);
  if (ce3) rows.push(ce3);
  if (dispute.submitted_late) rows.push(['Late', 'Stripe says the last submission reached it after the due date.']);
  const error = lastError(dispute);
  if (error) rows.push(['Last error', h('span', { class: 'result-bad', role: 'alert' }, error)]);
  return rows;
}

/** The confirmation asked before Submit. */
export function submitConfirmation(dispute) {
  return `Submit this evidence to Stripe? Once submitted it goes to the card issuer and cannot be changed. ${COUNTERED_FEE}`
    + (isCompliance(dispute) ? ' This is a compliance dispute: the card network also charges its fee.' : '');
}

/** The compliance fee acknowledgement (a checkbox), or null for any other dispute. */
export function feeAcknowledgement(dispute) {
  if (!isCompliance(dispute)) return null;
  const box = h('input', { type: 'checkbox', id: `fee-${dispute.id}` });
  const element = h('p', {}, box, ' ', h('label', { for: box.id },
    'I accept the card network\'s compliance fee for filing this dispute.'));
  return { element, acknowledged: () => box.checked };
}

/** Accept: closes the dispute in Stripe after the seller confirms the loss. */
export function acceptButton(order, dispute, result, done) {
  const button = h('button', { type: 'button', class: 'btn' }, 'Accept the dispute');
  button.addEventListener('click', async () => {
    const amount = money(dispute.amount, order.currency);
    if (!window.confirm(`You accept the loss of ${amount}. Stripe closes the dispute and no evidence can be sent afterwards.`)) return;
    button.disabled = true;
    result.classList.remove('result-bad');
    result.textContent = 'Closing the dispute in Stripe…';
    try {
      await postJson(`/orders/${encodeURIComponent(order.order_id)}/disputes/${encodeURIComponent(dispute.id)}/accept`);
      result.textContent = 'Dispute accepted: closed in Stripe.';
      toast(result.textContent);
      done();
    } catch (e) {
      if (e instanceof SignedOut) return;
      result.textContent = describe(e);
      result.classList.add('result-bad');
    } finally {
      button.disabled = false;
    }
  });
  return button;
}
