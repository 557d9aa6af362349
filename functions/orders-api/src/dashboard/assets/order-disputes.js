// The disputes of an order's page (contract sections 8 and 9.6): each dispute's status, reason,
// amount and due date with the time left, a link to it in Stripe, and the evidence form (what
// will be sent, the statement, Save draft, Submit). The dispute controls of section 9.6 grow here:
// this module is the order page's one place for disputes.

import { describe, postJson, SignedOut } from './api.js';
import { h, toast } from './dom.js';
import {
  CLOSED_DISPUTE, dateTime, disputeReason, disputeStatus, money, OPEN_DISPUTE, timeLeft,
} from './format.js';
import { disputeAnchor } from './order-head.js';
import { dl, raw, section, stripeLink } from './parts.js';
import { badge } from './status.js';
import { disputeUrl } from './stripe.js';
import {
  acceptButton, COUNTERED_FEE, disputeRows, feeAcknowledgement, submitConfirmation,
} from './disputes.js';

const STATEMENT_MAX = 20000;

/** The evidence part of one dispute: what will be sent, the statement, save and submit. */
function evidenceForm(order, dispute, ev, statements, ctx) {
  const state = dispute.evidence || null;
  const closed = CLOSED_DISPUTE.has(dispute.status);
  const submitted = Boolean(state && state.submitted_at)
    || dispute.status === 'under_review' || dispute.status === 'warning_under_review';
  const lines = [];
  if (state && state.saved_at) lines.push(h('p', {}, `Draft saved to Stripe ${dateTime(state.saved_at)}.`));
  if (state && state.submitted_at) lines.push(h('p', {}, h('strong', {}, `Submitted to Stripe ${dateTime(state.submitted_at)}.`)));
  if (closed) {
    lines.push(h('p', { class: 'sub' }, `This dispute is closed (${disputeStatus(dispute.status)}): no more evidence can be sent.`));
    return h('div', { class: 'evidence' }, lines);
  }
  if (submitted) {
    lines.push(h('p', { class: 'sub' }, 'The evidence is with the card issuer; Stripe tells you the outcome.'));
    return h('div', { class: 'evidence' }, lines);
  }
  const willSend = [
    `Customer email: ${order.customer_email || 'unknown'}`,
    `Product: ${order.product_name || order.product_id || 'unknown'}`,
    `Delivery: ${ev && ev.confirmation_email && ev.confirmation_email.sent_at
      ? `download link emailed ${dateTime(ev.confirmation_email.sent_at)}` : 'no delivery email recorded'}`,
    `Access log: ${ev ? ev.downloads.length : 0} download${ev && ev.downloads.length === 1 ? '' : 's'} with time, IP and browser`,
    'Receipt: a PDF of the order confirmation',
    'Your statement, if you write one',
  ];
  // The statement and the answer line outlive a re-render of the section (the order or its
  // evidence refreshing while Stripe is being called), so neither the seller's text nor Stripe's
  // answer is lost.
  let kept = statements.get(dispute.id);
  if (!kept) {
    kept = {
      textarea: h('textarea', { id: `statement-${dispute.id}`, class: 'input', rows: '5', maxlength: String(STATEMENT_MAX),
        'aria-describedby': `statement-hint-${dispute.id}` }),
      result: h('p', { class: 'result', role: 'status' }),
    };
    statements.set(dispute.id, kept);
  }
  const { textarea, result } = kept;
  const fee = feeAcknowledgement(dispute);
  const send = async (submit, button) => {
    if (submit && !window.confirm(submitConfirmation(dispute))) return;
    button.disabled = true;
    result.classList.remove('result-bad');
    result.textContent = submit ? 'Submitting to Stripe…' : 'Saving the draft to Stripe…';
    try {
      const body = { submit };
      if (textarea.value.trim()) body.statement = textarea.value;
      if (fee && submit) body.fee_acknowledged = fee.acknowledged();
      await postJson(`/orders/${encodeURIComponent(order.order_id)}/disputes/${encodeURIComponent(dispute.id)}/evidence`, body);
      result.textContent = submit ? 'Submitted to Stripe.' : 'Draft saved to Stripe. You can still change it.';
      toast(result.textContent);
      ctx.refreshSoon();
    } catch (e) {
      if (e instanceof SignedOut) return;
      // A 404 is the dispute not being this seller's (the route exists); a 405 an older server.
      // A 502 records nothing on our side: saying so tells the seller a retry is safe.
      result.textContent = e.status === 405
        ? 'Sending evidence to Stripe is not available on this server yet.'
        : e.status === 502 ? `${describe(e).replace(/\.?$/, '.')} Nothing was saved or sent; you can try again.`
          : describe(e);
      result.classList.add('result-bad');
    } finally {
      button.disabled = false;
    }
  };
  const save = h('button', { type: 'button', class: 'btn' }, 'Save draft to Stripe');
  const submit = h('button', { type: 'button', class: 'btn btn-primary' }, 'Submit to Stripe');
  save.addEventListener('click', () => send(false, save));
  submit.addEventListener('click', () => send(true, submit));
  return h('div', { class: 'evidence' },
    h('h4', {}, 'What will be sent to Stripe'),
    h('ul', { class: 'plain' }, willSend.map((l) => h('li', {}, l))),
    h('label', { for: textarea.id }, 'Your statement (optional)'),
    textarea,
    h('span', { class: 'hint', id: `statement-hint-${dispute.id}` },
      'In your own words: what the customer bought and how they received it. At most 20,000 characters.'),
    fee && fee.element,
    h('p', { class: 'hint' }, COUNTERED_FEE),
    h('div', { class: 'actions' }, save, submit, acceptButton(order, dispute, result, () => ctx.refreshSoon())),
    lines, result);
}

export function disputes(order, ev, statements, ctx) {
  const list = order.disputes || [];
  if (list.length === 0) return null;
  return section('Disputes', list.map((d) => {
    const open = OPEN_DISPUTE.has(d.status);
    return h('article', { class: `dispute${open ? ' dispute-open' : ''}`, id: disputeAnchor(d) },
      h('h3', { tabindex: '-1' }, 'Dispute ', badge(open ? 'warn' : CLOSED_DISPUTE.has(d.status) ? (d.status === 'won' ? 'ok' : 'muted') : 'wait',
        disputeStatus(d.status))),
      dl([
        ['Reason', disputeReason(d.reason)],
        ['Amount', money(d.amount, order.currency)],
        ['Evidence due', d.evidence_due_by
          ? [dateTime(d.evidence_due_by), open || !CLOSED_DISPUTE.has(d.status)
            ? h('span', { class: open ? 'due due-open' : 'due' }, ` (${timeLeft(d.evidence_due_by)})`) : '']
          : 'Not given'],
        d.created_at ? ['Opened', dateTime(d.created_at)] : null,
        ['Funds', d.funds_reinstated ? 'Withdrawn, then returned to you'
          : d.funds_withdrawn ? 'Withdrawn from your balance while the dispute is open' : 'Not withdrawn'],
        ...disputeRows(d),
      ]),
      h('p', { class: 'sub' }, stripeLink(disputeUrl(order, d), 'View dispute in Stripe')),
      raw([['Dispute id', d.id], ['Status code', d.status], ['Reason code', d.reason]]),
      evidenceForm(order, d, ev, statements, ctx));
  }));
}

