// One order's page (contract sections 8–10), put together from what each part shows: the head
// (amount, one status, the link to Stripe) with a dispute's deadline first, what needs the
// seller, why a payment failed, the order's facts, refunds, disputes, delivery, evidence and the
// timeline. Refreshed every 5 s while visible; a part is rebuilt only when its data changed, so a
// statement being typed is never lost.

import { describe, getJson, SignedOut } from './api.js';
import { h, replace } from './dom.js';
import { delivery } from './order-delivery.js';
import { disputes } from './order-disputes.js';
import { evidenceSection } from './order-evidence.js';
import { deadlineBanner, header } from './order-head.js';
import { attentionPanel, details, failurePanel, refunds } from './order-payment.js';
import { timeline } from './order-timeline.js';
import { poll } from './poll.js';


/** Renders order `id` into `main`; returns the view's `destroy`. */
export function orderView(main, id) {
  const path = `/orders/${encodeURIComponent(id)}`;
  const statements = new Map();
  // What the parts may ask of the page (re-read soon after an action).
  const ctx = { refreshSoon: () => {} };
  const parts = new Map(); // section name → { key, el }
  const container = h('div', { class: 'page order' });
  const error = h('div', { class: 'alert alert-bad', role: 'alert', hidden: true });
  let order = null;
  let ev = null;
  let evError = '';
  let evFor = '';
  let stopped = false;
  replace(main, error, container, h('p', { class: 'loading', role: 'status', id: 'order-loading' }, 'Loading the order…'));

  // [name, column, key of its data, build]: the top spans the page; on a wide screen the order's
  // parts and its records sit side by side, on a phone they follow each other.
  const layout = () => [
    ['deadline', 'top', () => JSON.stringify(order.disputes.map((d) => [d.id, d.status, d.evidence_due_by])), () => deadlineBanner(order)],
    ['header', 'top', () => JSON.stringify([order.product_name, order.product_id, order.order_id, order.amount, order.currency, order.payment_status,
      order.disputes, order.attention, order.early_fraud_warning, order.fulfillment.delivery, order.livemode, order.customer_email, order.created_at]), () => header(order)],
    ['attention', 'top', () => JSON.stringify([order.attention, order.disputes.map((d) => d.status)]), () => attentionPanel(order, { disputeBanner: Boolean(deadlineBanner(order)) })],
    ['failure', 'top', () => JSON.stringify([order.failure, order.payment_status]), () => failurePanel(order)],
    ['disputes', 'main', () => JSON.stringify([order.disputes, order.customer_email, order.product_name, ev && ev.downloads.length, ev && ev.confirmation_email]), () => disputes(order, ev, statements, ctx)],
    ['delivery', 'main', () => JSON.stringify([order.fulfillment, order.attention, order.access_revoked, order.payment_status]), () => delivery(order, ctx)],
    ['details', 'main', () => JSON.stringify(order), () => details(order)],
    ['refunds', 'main', () => JSON.stringify(order.refunds), () => refunds(order)],
    ['evidence', 'side', () => JSON.stringify([ev, evError, order.payment_status, order.disputes.length]), () => evidenceSection(order, ev, evError)],
    ['timeline', 'side', () => JSON.stringify(order.timeline), () => timeline(order)],
  ];

  const columns = { top: h('div', { class: 'order-top' }), main: h('div', { class: 'order-main' }), side: h('div', { class: 'order-side' }) };
  container.append(columns.top, h('div', { class: 'order-cols' }, columns.main, columns.side));

  const render = () => {
    const loading = document.getElementById('order-loading');
    if (loading) loading.remove();
    document.title = `${order.product_name || order.order_id} · Order · Leenkies`;
    const els = { top: [], main: [], side: [] };
    for (const [name, column, key, build] of layout()) {
      const k = key();
      let part = parts.get(name);
      if (!part || part.key !== k) {
        part = { key: k, el: build() };
        parts.set(name, part);
      }
      if (part.el) els[column].push(part.el);
    }
    for (const [column, list] of Object.entries(els)) {
      const el = columns[column];
      const current = [...el.children];
      if (current.length !== list.length || current.some((x, i) => x !== list[i])) el.replaceChildren(...list);
    }
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
  ctx.refreshSoon = () => setTimeout(() => poller.now(), 300);
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
