// The delivery of an order's page (contract sections 7 and 10): the download link's emails as
// sentences (who it went to, when, what the customer's mail server said), SES's raw answer and
// the message ids in a disclosure, and the resend: to the same address, or after a bounce to a
// corrected address the customer gave the seller.

import { describe, postJson, SignedOut } from './api.js';
import { h, toast } from './dom.js';
import { dateTime, DELIVERY_FAILED } from './format.js';
import { raw, section } from './parts.js';
import { badge } from './status.js';

const DELIVERY_SENTENCE = {
  sent: 'The mail service accepted it',
  delivered: 'The customer\u2019s mail server accepted it',
  delayed: 'Delivery is delayed: the mail service keeps trying',
  bounced: 'It bounced: the address may be wrong, or the mailbox full or closed',
  complained: 'The customer marked it as spam',
  rejected: 'The mail service refused to send it',
};

const DELIVERY_WORD = {
  sent: 'Sent', delivered: 'Delivered', delayed: 'Delayed', bounced: 'Bounced', complained: 'Marked as spam', rejected: 'Rejected',
};

/** The emails of the order, oldest first: the first one and every resend that went out. */
function emails(order) {
  const f = order.fulfillment || {};
  const out = [];
  if (f.sent_at) out.push({ at: f.sent_at, to: f.recipient || order.customer_email, message_id: f.message_id, resend: false });
  for (const r of f.resends || []) {
    if (r.sent_at) out.push({ at: r.sent_at, to: r.recipient || order.customer_email, message_id: r.message_id, resend: true });
  }
  return out;
}

function emailLine(order, e) {
  return h('li', {}, `${e.resend ? 'Sent again' : 'Download link emailed'} to `, h('span', { class: 'addr' }, e.to || 'the customer'),
    ` on ${dateTime(e.at)}.`);
}

/** The delivery section's answer line per order, kept while the page lives. */
const answers = new Map();

export function delivery(order, ctx) {
  const f = order.fulfillment || {};
  const d = f.delivery || null;
  const failed = (order.attention || []).includes('delivery_failed') || Boolean(d && DELIVERY_FAILED.has(d.status));
  const canResend = f.status === 'sent' && !order.access_revoked
    && ['succeeded', 'partially_refunded'].includes(order.payment_status);
  const unpaid = ['failed', 'pending', 'canceled'].includes(order.payment_status);
  // The answer line outlives a re-render: a resend changes the order, the page refreshes the
  // section at once, and "Sent again to …" must still be there when it does.
  let result = answers.get(order.order_id);
  if (!result) {
    result = h('p', { class: 'result', role: 'status' });
    answers.set(order.order_id, result);
  }
  const sent = emails(order);

  const send = async (button, email) => {
    button.disabled = true;
    result.classList.remove('result-bad');
    result.textContent = email ? `Sending the download link to ${email}\u2026` : 'Sending the download link again\u2026';
    try {
      // One key per click: a retried request resends once.
      const body = await postJson(`/orders/${encodeURIComponent(order.order_id)}/resend`, email ? { email } : {},
        { 'Idempotency-Key': crypto.randomUUID() });
      result.textContent = email ? `Sent again to ${email}.` : 'Sent again to the customer.';
      if (body && body.message_id) result.dataset.messageId = body.message_id;
      toast('Download link sent again');
      ctx.refreshSoon();
      return true;
    } catch (e) {
      if (e instanceof SignedOut) return false;
      result.textContent = e.code === 'invalid_email'
        ? 'This is not one plain email address (like name@example.com). Nothing was sent.'
        : e.status === 404 || e.status === 405
          ? 'This server cannot resend this order\u2019s link (not found in your account, or resending is not offered here yet).'
          : e.status === 429 ? 'This link was already resent 5 times in the last 24 hours. Try again later.'
            : describe(e);
      result.classList.add('result-bad');
      return false;
    } finally {
      button.disabled = !canResend;
    }
  };

  const resend = h('button', { type: 'button', class: failed ? 'btn' : 'btn btn-primary', disabled: !canResend, hidden: unpaid },
    failed ? 'Resend to the same address' : 'Resend download link');
  resend.addEventListener('click', () => send(resend, null));

  let corrected = null;
  if (failed && canResend) {
    const input = h('input', { id: 'resend-email', type: 'email', class: 'input', autocomplete: 'off', spellcheck: 'false',
      placeholder: 'name@example.com', required: true, 'aria-describedby': 'resend-email-hint' });
    const go = h('button', { type: 'submit', class: 'btn btn-primary' }, 'Resend to this address');
    corrected = h('form', { class: 'resend-to', novalidate: true, onsubmit: async (e) => {
      e.preventDefault();
      const value = input.value.trim();
      if (!value) {
        input.focus();
        return;
      }
      if (await send(go, value)) input.value = '';
    } },
    h('label', { for: 'resend-email' }, 'Send the link to a corrected address'),
    h('div', { class: 'inline' }, input, go),
    h('span', { class: 'hint', id: 'resend-email-hint' },
      'Ask the customer for the right address (from your own mail), then send the link there. The order keeps the address from Stripe.'));
  }

  // A failed delivery is said once, in the notice above; any other state in one line here.
  const status = d && !failed ? h('p', {}, badge(DELIVERY_FAILED.has(d.status) ? 'bad' : d.status === 'delivered' ? 'ok' : 'wait', DELIVERY_WORD[d.status] || 'Unknown'),
    ' ', `${DELIVERY_SENTENCE[d.status] || 'The mail service reported on it'} (${dateTime(d.at)}).`) : null;

  return section('Delivery',
    failed ? h('div', { class: 'notice notice-bad', role: 'region', 'aria-label': 'Delivery failed' },
      h('strong', {}, d && DELIVERY_WORD[d.status] ? `${DELIVERY_WORD[d.status]}: the download link did not reach the customer`
        : 'The download link did not reach the customer'),
      h('p', {}, d ? `${DELIVERY_SENTENCE[d.status] || 'It failed'} (${dateTime(d.at)}). ` : '',
        'Check the address with the customer, then resend the link to the right address.')) : null,
    sent.length > 0
      ? h('ul', { class: 'sentences' }, sent.map((e) => emailLine(order, e)))
      : h('p', {}, unpaid ? 'Nothing is delivered until the payment succeeds.'
        : f.status === 'skipped' ? 'Not sent: access was revoked before delivery.'
          : f.status === 'failed' ? 'The delivery email could not be sent.'
            : 'The download link has not been emailed yet; it goes out automatically.'),
    status,
    raw([
      ['SES reply', d ? d.detail : null],
      ['Reported', d ? d.at : null],
      ...sent.map((e, i) => [i === 0 && !e.resend ? 'Message id (first email)' : `Message id (resend ${i})`, e.message_id]),
    ], 'Mail details'),
    corrected,
    h('div', { class: 'actions' }, resend),
    canResend || unpaid ? null : h('p', { class: 'hint' },
      'A link can be resent once the first email has gone out, while the order is paid and access is not revoked.'),
    result);
}
