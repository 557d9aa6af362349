// One order's page (contract sections 8–10): who bought what and when, the customer's email as a
// mailto link, the payment and what a failure means, refunds, disputes with the evidence sent to
// Stripe, delivery with a resend, and the timeline. Refreshed every 5 s while visible; a section
// is rebuilt only when its data changed, so a statement being typed is never lost.

import { describe, getJson, postJson, SignedOut } from './api.js';
import { h, replace, toast } from './dom.js';
import {
  attention, CLOSED_DISPUTE, dateTime, day, deliveryStatus, DELIVERY_FAILED, disputeReason,
  disputeStatus, FAILURE_HINT, failureReason, fulfillmentStatus, humanize, money, OPEN_DISPUTE,
  refundStatus, timeLeft,
} from './format.js';
import { badge, LIST_QUERY_KEY, statusBadges } from './list.js';
import { poll } from './poll.js';
import {
  acceptButton, COUNTERED_FEE, disputeRows, feeAcknowledgement, submitConfirmation,
} from './disputes.js';

const STATEMENT_MAX = 20000;

function mailto(order) {
  const product = order.product_name || order.product_id || 'your order';
  const subject = `Your order of ${product} on ${day(order.created_at)}`;
  // The address is percent-encoded too: quotes or `?` in it stay part of the address.
  const to = encodeURIComponent(order.customer_email).replace(/%40/g, '@');
  return `mailto:${to}?subject=${encodeURIComponent(subject)}`;
}

function dl(pairs) {
  return h('dl', { class: 'facts' }, pairs.filter(Boolean).map(([term, ...value]) =>
    h('div', { class: 'fact' }, h('dt', {}, term), h('dd', {}, value))));
}

function section(title, ...content) {
  const id = `s-${title.toLowerCase().replace(/[^a-z]+/g, '-')}`;
  return h('section', { class: 'card', 'aria-labelledby': id }, h('h2', { id }, title), content);
}

async function copy(text) {
  try {
    await navigator.clipboard.writeText(text);
    toast('Email address copied');
  } catch {
    toast('Copy is not available here: select the address and copy it');
  }
}

function failurePanel(order) {
  const f = order.failure;
  if (!f) return null;
  const reason = failureReason(f.category);
  const stripeSays = f.message ? h('p', { class: 'sub' }, 'Stripe\u2019s message: ', h('q', {}, f.message),
    f.code ? ` (code ${f.code})` : '') : null;
  if (order.payment_status !== 'failed') {
    return h('div', { class: 'notice notice-info' },
      h('strong', {}, `An earlier attempt failed: ${reason}`),
      h('p', {}, 'The customer tried again and the latest attempt went through.'), stripeSays);
  }
  return h('div', { class: 'notice notice-bad', role: 'region', 'aria-label': 'Why the payment failed' },
    h('strong', {}, `Payment failed: ${reason}`),
    h('p', {}, FAILURE_HINT[f.category] || ''),
    h('ul', { class: 'plain' },
      h('li', {}, 'Nothing was charged: at most a temporary hold that the customer\u2019s bank releases.'),
      h('li', {}, 'Nothing was delivered: no download link was sent.'),
      h('li', {}, 'No action is needed from you.'),
      h('li', {}, 'The customer can retry with another card, or after sorting it out with their bank.')),
    stripeSays);
}

function header(order) {
  const back = sessionStorage.getItem(LIST_QUERY_KEY) || '';
  return h('div', { class: 'order-head' },
    h('a', { href: `/dashboard${back}`, class: 'back' }, '\u2190 All orders'),
    h('h1', { tabindex: '-1' }, order.product_name || order.product_id || 'Order'),
    h('p', { class: 'sub mono' }, order.order_id, order.reference ? ` \u00b7 ${order.reference}` : ''),
    h('div', { class: 'headline' },
      h('span', { class: 'big-amount' }, money(order.amount, order.currency)),
      h('span', { class: 'badges' }, statusBadges(order))));
}

function attentionPanel(order) {
  if (!order.attention || order.attention.length === 0) return null;
  return h('div', { class: 'notice notice-warn', role: 'region', 'aria-label': 'Needs your attention' },
    h('strong', {}, 'Needs your attention'),
    h('ul', { class: 'plain' }, order.attention.map((a) => h('li', {}, attention(a)))));
}

function details(order) {
  const email = order.customer_email;
  return section('Order details', dl([
    ['Customer', email
      ? h('span', { class: 'email-line' },
        h('a', { href: mailto(order), class: 'mailto' }, email),
        h('button', { type: 'button', class: 'btn btn-small', onclick: () => copy(email),
          'aria-label': 'Copy customer email' }, 'Copy'))
      : 'No email yet'],
    ['Product', order.product_name || order.product_id || '—'],
    ['Purchase date', dateTime(order.created_at)],
    ['Amount', money(order.amount, order.currency)],
    order.refunded_amount > 0 ? ['Refunded', money(order.refunded_amount, order.currency)] : null,
    ['Status', h('span', { class: 'badges' }, statusBadges(order)),
      order.payment_status === 'failed' && order.failure ? ` ${failureReason(order.failure.category)}` : ''],
    order.early_fraud_warning ? ['Fraud warning', 'The card network issued an early fraud warning for this payment.'] : null,
    ['Access', access(order)],
    ['Order id', h('span', { class: 'mono' }, order.order_id)],
    order.reference ? ['Reference', order.reference] : null,
  ]));
}

// What the customer's download link does now: an unpaid order never had one.
function access(order) {
  if (order.access_revoked) return 'Revoked: the download link no longer works';
  if (['succeeded', 'partially_refunded'].includes(order.payment_status)) return 'The download link works';
  return 'No download link: the payment has not succeeded';
}

function refunds(order) {
  const list = order.refunds || [];
  if (list.length === 0) return null;
  const explain = (r) => (r.status === 'failed'
    ? `The refund failed: the money was not returned to the customer${r.failure_reason ? ` (${humanize(r.failure_reason)})` : ''}.`
    : r.status === 'canceled' ? 'The refund was canceled: the money was not returned.' : '');
  const details = list.some((r) => explain(r));
  return section('Refunds', h('div', { class: 'scroll-x' },
    h('table', { class: 'small-table' },
      h('thead', {}, h('tr', {}, ['Amount', 'Status', 'Date', details ? 'Details' : null].filter(Boolean)
        .map((c) => h('th', { scope: 'col' }, c)))),
      h('tbody', {}, list.map((r) => h('tr', {},
        h('td', { class: 'num nowrap' }, money(r.amount, order.currency)),
        h('td', {}, badge(r.status === 'failed' || r.status === 'canceled' ? 'bad'
          : r.status === 'succeeded' ? 'ok' : 'wait', refundStatus(r.status))),
        h('td', { class: 'nowrap' }, dateTime(r.created_at)),
        details ? h('td', {}, explain(r)) : null))))));
}

/** The evidence part of one dispute: what will be sent, the statement, save and submit. */
function evidenceForm(order, dispute, ev, statements) {
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
      refreshSoon();
    } catch (e) {
      if (e instanceof SignedOut) return;
      // A 404 is the dispute not being this seller's (the route exists); a 405 an older server.
      // A 502 records nothing on our side: saying so tells the seller a retry is safe.
      result.textContent = e.status === 405
        ? 'Sending evidence to Stripe is not available on this server yet.'
        : e.status === 502 ? `${describe(e).replace(/\.?$/, '.')} Nothing was recorded; you can try again.`
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
    h('div', { class: 'actions' }, save, submit, acceptButton(order, dispute, result, () => refreshSoon())),
    lines, result);
}

function disputes(order, ev, statements) {
  const list = order.disputes || [];
  if (list.length === 0) return null;
  return section('Disputes', list.map((d) => {
    const open = OPEN_DISPUTE.has(d.status);
    return h('article', { class: `dispute${open ? ' dispute-open' : ''}` },
      h('h3', {}, 'Dispute ', badge(open ? 'warn' : CLOSED_DISPUTE.has(d.status) ? (d.status === 'won' ? 'ok' : 'muted') : 'wait',
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
        ['Dispute id', h('span', { class: 'mono' }, d.id)],
        ...disputeRows(d),
      ]),
      evidenceForm(order, d, ev, statements));
  }));
}

function evidenceSection(order, ev, error) {
  if (error) return section('Evidence', h('p', { class: 'alert alert-bad', role: 'alert' }, error));
  if (!ev) return section('Evidence', h('p', { class: 'loading' }, 'Loading the evidence…'));
  const c = ev.confirmation_email;
  return section('Evidence',
    h('p', { class: 'sub' }, 'What this order proves, as it is sent to Stripe in a dispute.'),
    h('h3', {}, 'Order confirmation'),
    c ? dl([
      ['Recipient', c.recipient || '—'],
      ['Subject', c.subject || '—'],
      ['Sent', dateTime(c.sent_at)],
      ['Message id', h('span', { class: 'mono' }, c.message_id || '—')],
    ]) : h('p', {}, 'No confirmation email has gone out.'),
    h('h3', {}, 'Delivery receipt'),
    h('p', {}, fulfillmentStatus(ev.delivery_receipt.status),
      ev.delivery_receipt.sent_at ? ` ${dateTime(ev.delivery_receipt.sent_at)}` : '',
      ev.delivery_receipt.delivery ? ` \u00b7 ${deliveryStatus(ev.delivery_receipt.delivery.status)}` : ''),
    h('h3', {}, 'Download log'),
    ev.downloads.length === 0 ? h('p', {}, 'The customer has not downloaded the product yet.')
      : h('table', { class: 'small-table' },
        h('thead', {}, h('tr', {}, ['Time', 'IP address', 'Browser'].map((t) => h('th', { scope: 'col' }, t)))),
        h('tbody', {}, ev.downloads.map((d) => h('tr', {},
          h('td', {}, dateTime(d.at)), h('td', { class: 'mono' }, d.ip || '—'), h('td', { class: 'ua' }, d.user_agent || '—'))))));
}

function delivery(order) {
  const f = order.fulfillment || {};
  const d = f.delivery || null;
  const failed = (order.attention || []).includes('delivery_failed') || (d && DELIVERY_FAILED.has(d.status));
  const canResend = f.status === 'sent' && !order.access_revoked
    && ['succeeded', 'partially_refunded'].includes(order.payment_status);
  const unpaid = ['failed', 'pending', 'canceled'].includes(order.payment_status);
  const result = h('p', { class: 'result', role: 'status' });
  const resend = h('button', { type: 'button', class: failed ? 'btn btn-primary' : 'btn', disabled: !canResend, hidden: unpaid },
    'Resend download link');
  resend.addEventListener('click', async () => {
    resend.disabled = true;
    result.textContent = 'Sending the download link again…';
    try {
      // One key per click: a retried request resends once.
      const body = await postJson(`/orders/${encodeURIComponent(order.order_id)}/resend`, {}, { 'Idempotency-Key': crypto.randomUUID() });
      result.textContent = `Sent again${body && body.message_id ? ` (message ${body.message_id})` : ''}.`;
      toast('Download link sent again');
      refreshSoon();
    } catch (e) {
      if (e instanceof SignedOut) return;
      result.textContent = e.status === 404 || e.status === 405
        ? 'This server cannot resend this order\u2019s link (not found in your account, or resending is not offered here yet).'
        : e.status === 429 ? 'This link was already resent 5 times in the last 24 hours. Try again later.'
          : describe(e);
      result.classList.add('result-bad');
    } finally {
      resend.disabled = !canResend;
    }
  });
  return section('Delivery',
    failed ? h('div', { class: 'notice notice-bad', role: 'region', 'aria-label': 'Delivery failed' },
      h('strong', {}, 'The download link did not reach the customer'),
      h('p', {}, d ? `${deliveryStatus(d.status)}${d.detail ? `: ${d.detail}` : ''}. ` : '',
        'Check the address with the customer (reply from your own mail), then resend the link.')) : null,
    dl([
      ['Email', unpaid && f.status === 'pending' ? 'Not sent: the payment has not succeeded' : fulfillmentStatus(f.status),
        f.sent_at ? ` ${dateTime(f.sent_at)}` : ''],
      d ? ['Delivery', badge(DELIVERY_FAILED.has(d.status) ? 'bad' : d.status === 'delivered' ? 'ok' : 'wait', deliveryStatus(d.status)),
        d.at ? ` ${dateTime(d.at)}` : '', d.detail ? h('span', { class: 'sub block' }, d.detail) : null] : null,
      f.message_id ? ['Message id', h('span', { class: 'mono' }, f.message_id)] : null,
    ]),
    h('div', { class: 'actions' }, resend),
    canResend ? null : h('p', { class: 'hint' }, unpaid
      ? 'Nothing is delivered until the payment succeeds.'
      : 'A link can be resent once the first email has gone out, while the order is paid and access is not revoked.'),
    result);
}

function timeline(order) {
  const list = order.timeline || [];
  return section('Timeline', list.length === 0 ? h('p', {}, 'Nothing recorded yet.')
    : h('ol', { class: 'timeline' }, list.map((t) => h('li', {},
      h('time', { datetime: t.at }, dateTime(t.at)),
      h('span', { class: 'kind' }, humanize(t.kind)),
      t.detail ? h('span', { class: 'detail' }, t.detail) : null))));
}

let refreshSoon = () => {};

/** Renders order `id` into `main`; returns the view's `destroy`. */
export function orderView(main, id) {
  const path = `/orders/${encodeURIComponent(id)}`;
  const statements = new Map();
  const parts = new Map(); // section name → { key, el }
  const container = h('div', { class: 'page order' });
  const error = h('div', { class: 'alert alert-bad', role: 'alert', hidden: true });
  let order = null;
  let ev = null;
  let evError = '';
  let evFor = '';
  let stopped = false;
  replace(main, error, container, h('p', { class: 'loading', role: 'status', id: 'order-loading' }, 'Loading the order…'));

  const layout = () => [
    ['header', () => JSON.stringify([order.product_name, order.product_id, order.order_id, order.reference, order.amount, order.currency, order.payment_status, order.disputes.length]), () => header(order)],
    ['attention', () => JSON.stringify(order.attention), () => attentionPanel(order)],
    ['failure', () => JSON.stringify([order.failure, order.payment_status]), () => failurePanel(order)],
    ['details', () => JSON.stringify(order), () => details(order)],
    ['refunds', () => JSON.stringify(order.refunds), () => refunds(order)],
    ['disputes', () => JSON.stringify([order.disputes, order.customer_email, order.product_name, ev && ev.downloads.length, ev && ev.confirmation_email]), () => disputes(order, ev, statements)],
    ['delivery', () => JSON.stringify([order.fulfillment, order.attention, order.access_revoked, order.payment_status]), () => delivery(order)],
    ['evidence', () => JSON.stringify([ev, evError]), () => evidenceSection(order, ev, evError)],
    ['timeline', () => JSON.stringify(order.timeline), () => timeline(order)],
  ];

  const render = () => {
    const loading = document.getElementById('order-loading');
    if (loading) loading.remove();
    document.title = `${order.product_name || order.order_id} · Order · Leenkies`;
    const els = [];
    for (const [name, key, build] of layout()) {
      const k = key();
      let part = parts.get(name);
      if (!part || part.key !== k) {
        part = { key: k, el: build() };
        parts.set(name, part);
      }
      if (part.el) els.push(part.el);
    }
    const current = [...container.children];
    if (current.length !== els.length || current.some((el, i) => el !== els[i])) container.replaceChildren(...els);
  };

  const loadEvidence = async () => {
    try {
      ev = await getJson(`${path}/evidence`);
      evError = '';
    } catch (e) {
      if (e instanceof SignedOut) return;
      evError = `Could not load the evidence: ${describe(e)}`;
    }
  };

  const refresh = async () => {
    try {
      const fresh = await getJson(path);
      if (stopped) return;
      const first = order === null;
      order = fresh;
      error.hidden = true;
      if (evFor !== order.updated_at) {
        evFor = order.updated_at;
        if (first) {
          render();
          await loadEvidence();
        } else {
          await loadEvidence();
        }
      }
      if (stopped) return;
      render();
      if (first) {
        const h1 = container.querySelector('h1');
        if (h1) h1.focus({ preventScroll: true });
        requestAnimationFrame(() => performance.mark('leenkies:order-painted'));
      }
    } catch (e) {
      if (e instanceof SignedOut || stopped) return;
      const loading = document.getElementById('order-loading');
      if (loading) loading.remove();
      error.hidden = false;
      if (e.status === 404) {
        replace(error, h('strong', {}, 'No such order in your account. '),
          'It may belong to another Stripe account, or the link is mistyped. ',
          h('a', { href: '/dashboard' }, 'Back to all orders'));
        throw e;
      }
      error.textContent = order ? `Could not refresh this order: ${describe(e)} Showing what was last loaded.` : describe(e);
      throw e;
    }
  };

  const poller = poll(refresh, { every: 5000 });
  refreshSoon = () => setTimeout(() => poller.now(), 300);
  // Downloads do not change the order itself: re-read the evidence now and then.
  const evidencePoll = poll(async () => {
    if (!order) return;
    await loadEvidence();
    if (!stopped) render();
  }, { every: 30000, max: 120000 });
  refresh().catch(() => {});
  return () => {
    stopped = true;
    poller.stop();
    evidencePoll.stop();
  };
}
