// The orders list (contract section 8): newest first, email search and status filter kept in the
// address (bookmarkable), more pages through `next_cursor`, the CSV export of the current view,
// and the notices for what needs the seller. Refreshed every 5 s while the tab is visible.

import { describe, getJson, request, SignedOut } from './api.js';
import { h, replace, toast } from './dom.js';
import {
  dateTime, disputeStatus, failureReason, money, OPEN_DISPUTE, paymentStatus, STATUS_TONE, timeLeft,
} from './format.js';
import { poll } from './poll.js';

const PAGE = 25;
/** The most rows one refresh re-reads (the API's `limit` maximum). */
const REFRESH_MAX = 100;

const STATUS_OPTIONS = [
  ['', 'All statuses'],
  ['succeeded', 'Succeeded'],
  ['failed', 'Failed'],
  ['pending', 'Pending'],
  ['canceled', 'Canceled'],
  ['refunded', 'Refunded'],
  ['partially_refunded', 'Partially refunded'],
  ['disputed', 'Disputed'],
];

export const LIST_QUERY_KEY = 'leenkies.listQuery';

function filtersFromAddress() {
  const q = new URLSearchParams(location.search);
  const status = q.get('status') || '';
  const limit = Number.parseInt(q.get('limit') || '', 10);
  return {
    email: (q.get('email') || '').trim(),
    status: STATUS_OPTIONS.some(([v]) => v === status) ? status : '',
    // Rows per page (`?limit=` 1–100, as the API takes it); 25 by default.
    limit: limit >= 1 && limit <= REFRESH_MAX ? limit : undefined,
  };
}

function query(filters, extra = {}) {
  const q = new URLSearchParams();
  if (filters.email) q.set('email', filters.email);
  if (filters.status) q.set('status', filters.status);
  if (filters.limit) q.set('limit', String(filters.limit));
  for (const [k, v] of Object.entries(extra)) if (v !== undefined && v !== null) q.set(k, String(v));
  const s = q.toString();
  return s ? `?${s}` : '';
}

export function badge(tone, text) {
  return h('span', { class: `badge badge-${tone}` }, text);
}

export function statusBadges(order) {
  const badges = [badge(STATUS_TONE[order.payment_status] || 'muted', paymentStatus(order.payment_status))];
  if (order.disputes && order.disputes.length > 0) badges.push(badge('warn', 'Disputed'));
  return badges;
}

function orderHref(id) {
  return `/dashboard/orders/${encodeURIComponent(id)}`;
}

function row(order) {
  const failed = order.payment_status === 'failed' && order.failure;
  const dispute = order.dispute;
  const refunded = order.refunded_amount > 0 && order.payment_status === 'partially_refunded';
  return h('tr', { role: 'row', dataset: { orderId: order.order_id } },
    h('td', { role: 'cell', 'data-label': 'Date', class: 'c-date' }, dateTime(order.created_at)),
    h('td', { role: 'cell', 'data-label': 'Customer', class: 'c-customer' },
      h('a', { href: orderHref(order.order_id), class: 'order-link' },
        order.customer_email || 'No email yet'),
      order.reference ? h('span', { class: 'sub' }, order.reference) : null),
    h('td', { role: 'cell', 'data-label': 'Product', class: 'c-product' },
      order.product_name || order.product_id || '—'),
    h('td', { role: 'cell', 'data-label': 'Amount', class: 'c-amount num' },
      money(order.amount, order.currency),
      refunded ? h('span', { class: 'sub' }, `${money(order.refunded_amount, order.currency)} refunded`) : null),
    h('td', { role: 'cell', 'data-label': 'Status', class: 'c-status' },
      h('span', { class: 'badges' }, statusBadges(order)),
      failed ? h('span', { class: 'reason' }, failureReason(order.failure.category)) : null,
      dispute && OPEN_DISPUTE.has(dispute.status)
        ? h('span', { class: 'reason reason-warn' }, disputeStatus(dispute.status)) : null),
  );
}

/** Renders the list into `main`; returns the view's `destroy`. */
export function listView(main) {
  const filters = filtersFromAddress();
  sessionStorage.setItem(LIST_QUERY_KEY, query(filters));
  let orders = [];
  let cursor = null;
  let generation = 0;
  let loadedOnce = false;
  const rows = new Map(); // order_id → { key, tr }

  const search = h('input', {
    id: 'email-search', type: 'search', class: 'input', value: filters.email,
    placeholder: 'name@example.com', autocomplete: 'off', spellcheck: 'false',
    'aria-describedby': 'email-search-hint',
  });
  const status = h('select', { id: 'status-filter', class: 'input' },
    STATUS_OPTIONS.map(([value, label]) => h('option', { value, selected: value === filters.status }, label)));
  const exportButton = h('button', { type: 'button', class: 'btn' }, 'Export CSV');
  const count = h('p', { class: 'sub', id: 'orders-count', role: 'status' });
  const notices = h('div', { class: 'notices', id: 'notices' });
  const error = h('div', { class: 'alert alert-bad', role: 'alert', hidden: true });
  const tbody = h('tbody', { role: 'rowgroup' });
  const table = h('table', { class: 'orders', role: 'table', 'aria-describedby': 'orders-count' },
    h('caption', { class: 'sr-only' }, 'Orders, newest first'),
    h('thead', { role: 'rowgroup' }, h('tr', { role: 'row' },
      ['Date', 'Customer', 'Product', 'Amount', 'Status'].map((c) =>
        h('th', { scope: 'col', role: 'columnheader', class: c === 'Amount' ? 'num' : null }, c)))),
    tbody);
  const empty = h('div', { class: 'empty', hidden: true });
  const more = h('button', { type: 'button', class: 'btn', hidden: true }, 'Load more orders');
  const loading = h('p', { class: 'loading', role: 'status' }, 'Loading orders…');

  replace(main, h('section', { class: 'page' },
    h('div', { class: 'page-head' },
      h('div', {}, h('h1', { tabindex: '-1' }, 'Orders'), count),
      exportButton),
    notices,
    h('form', { class: 'toolbar', role: 'search', onsubmit: (e) => e.preventDefault() },
      h('div', { class: 'field grow' },
        h('label', { for: 'email-search' }, 'Search by customer email'),
        search,
        h('span', { class: 'hint', id: 'email-search-hint' }, 'The whole address or its beginning, any case')),
      h('div', { class: 'field' }, h('label', { for: 'status-filter' }, 'Payment status'), status)),
    error,
    loading,
    h('div', { class: 'table-wrap' }, table),
    empty,
    h('div', { class: 'more' }, more)));

  const showError = (message) => {
    error.hidden = !message;
    error.textContent = message || '';
  };

  const render = (painted) => {
    const seen = new Set();
    const trs = [];
    for (const order of orders) {
      if (seen.has(order.order_id)) continue;
      seen.add(order.order_id);
      const key = JSON.stringify(order);
      let entry = rows.get(order.order_id);
      if (!entry || entry.key !== key) {
        entry = { key, tr: row(order) };
        rows.set(order.order_id, entry);
      }
      trs.push(entry.tr);
    }
    for (const id of [...rows.keys()]) if (!seen.has(id)) rows.delete(id);
    // Only touch the DOM when the order of rows changed or a row was rebuilt.
    const current = [...tbody.children];
    if (current.length !== trs.length || current.some((tr, i) => tr !== trs[i])) tbody.replaceChildren(...trs);
    loading.hidden = true;
    table.hidden = trs.length === 0;
    more.hidden = !cursor;
    const filtered = filters.email || filters.status;
    count.textContent = trs.length === 0 ? ''
      : `${trs.length}${cursor ? '+' : ''} order${trs.length === 1 ? '' : 's'}${filtered ? ' matching' : ''}, newest first`;
    if (trs.length === 0) {
      replace(empty, filtered
        ? [h('h2', {}, 'No orders match'),
          h('p', {}, filters.email ? `No order has a customer email starting with \u201c${filters.email}\u201d` : 'No order has this status',
            filters.email && filters.status ? ' and this status.' : '.'),
          h('button', { type: 'button', class: 'btn', onclick: () => navigate('/dashboard') }, 'Clear search')]
        : [h('h2', {}, 'No orders yet'),
          h('p', {}, 'Orders appear here as soon as Stripe tells us about a checkout, usually within seconds. Failed payments show up too, with the reason.')]);
      empty.hidden = false;
    } else {
      empty.hidden = true;
    }
    if (painted) {
      requestAnimationFrame(() => performance.mark('leenkies:rows-painted'));
    }
  };

  const load = async ({ append = false } = {}) => {
    const mine = generation;
    const n = orders.length;
    const page = filters.limit || PAGE;
    const limit = append ? page : Math.min(REFRESH_MAX, Math.max(page, n));
    const body = await getJson(`/orders${query({ ...filters, limit: undefined }, { limit, cursor: append ? cursor : undefined })}`);
    if (mine !== generation) return;
    if (append) {
      orders = orders.concat(body.orders);
      cursor = body.next_cursor;
    } else if (n > REFRESH_MAX) {
      // Beyond the first 100 rows the last state read is kept; the cursor still continues the tail.
      const fresh = new Set(body.orders.map((o) => o.order_id));
      orders = body.orders.concat(orders.slice(REFRESH_MAX).filter((o) => !fresh.has(o.order_id)));
    } else {
      orders = body.orders;
      cursor = body.next_cursor;
    }
    showError('');
    render(!loadedOnce);
    loadedOnce = true;
  };

  const refresh = async () => {
    try {
      await load();
    } catch (e) {
      if (e instanceof SignedOut) return;
      showError(loadedOnce ? `Could not refresh the list: ${describe(e)} Showing what was last loaded.` : describe(e));
      loading.hidden = true;
      throw e;
    }
  };

  const renderNotices = async () => {
    const [failures, disputes] = await Promise.allSettled([
      getJson('/stats/failures?days=30'), getJson('/stats/disputes')]);
    const items = [];
    if (disputes.status === 'fulfilled' && disputes.value.needs_response.length > 0) {
      const list = disputes.value.needs_response;
      const first = list[0];
      items.push(h('div', { class: 'notice notice-warn', role: 'region', 'aria-label': 'Disputes needing a response' },
        h('strong', {}, `${list.length} dispute${list.length === 1 ? ' needs' : 's need'} your response`),
        h('p', {}, first.evidence_due_by
          ? `The nearest evidence is due ${dateTime(first.evidence_due_by)} (${timeLeft(first.evidence_due_by)}).`
          : 'Stripe has not given a due date yet.',
        ' Without a response the card issuer decides against you.'),
        h('a', { href: orderHref(first.order_id) }, 'Respond to the most urgent dispute')));
    }
    if (failures.status === 'fulfilled' && failures.value.suspected_configuration_issue) {
      const f = failures.value;
      items.push(h('div', { class: 'notice notice-bad', role: 'region', 'aria-label': 'Possible configuration problem' },
        h('strong', {}, 'Failed payments may point to a configuration problem'),
        h('p', {}, `${f.distinct_customers} different customers had a failed payment in the last ${f.days} days. `,
          'Failed payments from several different customers can mean a problem in your Stripe setup or your checkout flow, not in their cards: look at the error details of these payments in your Stripe dashboard.'),
        h('a', { href: `/dashboard${query({ status: 'failed', email: '' })}` }, 'Show failed payments')));
    }
    replace(notices, items);
    if (failures.status === 'rejected' && !(failures.reason instanceof SignedOut)
      && disputes.status === 'rejected') throw failures.reason;
  };

  const apply = () => {
    filters.email = search.value.trim();
    filters.status = status.value;
    const q = query(filters);
    history.replaceState(history.state, '', `/dashboard${q}`);
    sessionStorage.setItem(LIST_QUERY_KEY, q);
    generation += 1;
    orders = [];
    cursor = null;
    loadedOnce = false;
    loading.hidden = false;
    if (filters.email.length === 1) {
      // The API refuses one-character prefixes; wait for the second.
      loading.hidden = true;
      tbody.replaceChildren();
      rows.clear();
      table.hidden = true;
      more.hidden = true;
      count.textContent = '';
      empty.hidden = true;
      showError('Type at least two characters of the customer\u2019s email.');
      return;
    }
    refresh().catch(() => {});
  };

  let debounce = null;
  search.addEventListener('input', () => {
    clearTimeout(debounce);
    debounce = setTimeout(apply, 250);
  });
  search.addEventListener('keydown', (e) => {
    if (e.key === 'Enter') {
      clearTimeout(debounce);
      apply();
    }
  });
  status.addEventListener('change', apply);
  more.addEventListener('click', async () => {
    more.disabled = true;
    try {
      await load({ append: true });
    } catch (e) {
      if (!(e instanceof SignedOut)) showError(describe(e));
    } finally {
      more.disabled = false;
    }
  });
  exportButton.addEventListener('click', async () => {
    exportButton.disabled = true;
    try {
      const response = await request(`/orders/export.csv${query({ ...filters, limit: undefined })}`, { accept: 'text/csv' });
      const url = URL.createObjectURL(await response.blob());
      const a = h('a', { href: url, download: 'orders.csv', hidden: true });
      document.body.append(a);
      a.click();
      a.remove();
      setTimeout(() => URL.revokeObjectURL(url), 10000);
      toast('orders.csv downloaded');
    } catch (e) {
      if (!(e instanceof SignedOut)) showError(`Export failed: ${describe(e)}`);
    } finally {
      exportButton.disabled = false;
    }
  });

  apply();
  const rowsPoll = poll(refresh, { every: 5000 });
  renderNotices().catch(() => {});
  const noticesPoll = poll(renderNotices, { every: 30000, max: 120000 });
  return () => {
    generation += 1;
    rowsPoll.stop();
    noticesPoll.stop();
  };
}

/** Set by app.js: client-side navigation. */
let navigate = (href) => location.assign(href);
export function setNavigate(fn) {
  navigate = fn;
}
