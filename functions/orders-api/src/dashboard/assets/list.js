// The orders list (contract section 8): newest first, email search and status filter kept in the
// address (bookmarkable), more pages through `next_cursor`, the CSV export of the current view.
// The list comes first: a compact head, one-line notices (unfiltered view only), the search, then
// errors, results and "nothing found" at the top of the rows, with Retry. Refreshed every 5 s
// while the tab is visible. Rows: list-rows.js; notices: notices.js.

import { describe, getJson, request, SignedOut } from './api.js';
import { h, replace, toast } from './dom.js';
import { count as formatCount } from './format.js';
import { row } from './list-rows.js';
import { LIST_QUERY_KEY, navigate } from './nav.js';
import { renderNotices } from './notices.js';
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

function statusLabel(value) {
  const found = STATUS_OPTIONS.find(([v]) => v === value);
  return found ? found[1].toLowerCase() : value;
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
    placeholder: 'Customer email', autocomplete: 'off', spellcheck: 'false',
    'aria-describedby': 'email-search-hint',
  });
  const status = h('select', { id: 'status-filter', class: 'input' },
    STATUS_OPTIONS.map(([value, label]) => h('option', { value, selected: value === filters.status }, label)));
  const exportButton = h('button', { type: 'button', class: 'btn btn-small' }, 'Export CSV');
  const count = h('p', { class: 'sub count', id: 'orders-count', role: 'status' });
  const notices = h('div', { class: 'notices', id: 'notices' });
  // Errors, results and "nothing found": at the top of the rows, where the eye is.
  const message = h('div', { class: 'list-message', id: 'list-message', hidden: true });
  const tbody = h('tbody', { role: 'rowgroup' });
  const table = h('table', { class: 'orders', role: 'table', 'aria-describedby': 'orders-count' },
    h('caption', { class: 'sr-only' }, 'Orders, newest first'),
    h('colgroup', {}, ['date', 'customer', 'product', 'amount', 'status'].map((c) => h('col', { class: `col-${c}` }))),
    h('thead', { role: 'rowgroup' }, h('tr', { role: 'row' },
      ['Date', 'Customer', 'Product', 'Amount', 'Status'].map((c) =>
        h('th', { scope: 'col', role: 'columnheader', class: c === 'Amount' ? 'num' : null }, c)))),
    tbody);
  const more = h('button', { type: 'button', class: 'btn', hidden: true }, 'Load more orders');
  const loading = h('p', { class: 'loading', role: 'status' }, 'Loading orders\u2026');

  replace(main, h('section', { class: 'page list-page' },
    h('div', { class: 'page-head' },
      h('div', { class: 'title-line' }, h('h1', { tabindex: '-1' }, 'Orders'), count),
      exportButton),
    notices,
    h('form', { class: 'toolbar', role: 'search', onsubmit: (e) => e.preventDefault() },
      h('div', { class: 'field grow' },
        h('label', { for: 'email-search', class: 'sr-only' }, 'Search by customer email'),
        search,
        h('span', { class: 'sr-only', id: 'email-search-hint' }, 'The whole address or its beginning, any case')),
      h('div', { class: 'field' }, h('label', { for: 'status-filter', class: 'sr-only' }, 'Payment status'), status)),
    message,
    loading,
    h('div', { class: 'table-wrap' }, table),
    h('div', { class: 'more' }, more)));

  const filtered = () => Boolean(filters.email || filters.status);

  /** An error with Retry, or null to clear it. */
  const showError = (text, retry) => {
    if (!text) {
      if (message.dataset.kind === 'error') {
        message.hidden = true;
        message.dataset.kind = '';
      }
      return;
    }
    message.dataset.kind = 'error';
    replace(message, h('div', { class: 'alert alert-bad', role: 'alert' },
      h('span', {}, text),
      retry ? h('button', { type: 'button', class: 'btn btn-small', onclick: retry }, 'Retry') : null));
    message.hidden = false;
  };

  const showEmpty = () => {
    message.dataset.kind = 'empty';
    replace(message, h('div', { class: 'empty' }, filtered()
      ? [h('h2', {}, 'No orders match'),
        h('p', {}, filters.email ? `No order has a customer email starting with \u201c${filters.email}\u201d` : `No ${statusLabel(filters.status)} orders`,
          filters.email && filters.status ? ` and the status ${statusLabel(filters.status)}.` : '.'),
        h('button', { type: 'button', class: 'btn', onclick: () => navigate('/dashboard') }, 'Clear search')]
      : [h('h2', {}, 'No orders yet'),
        h('p', {}, 'Orders appear here as soon as Stripe tells us about a checkout, usually within seconds. Failed payments show up too, with the reason.')]));
    message.hidden = false;
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
    const n = `${formatCount(trs.length)}${cursor ? '+' : ''}`;
    count.textContent = trs.length === 0 ? ''
      : filtered() ? `${n} matching` : `${n} order${trs.length === 1 ? '' : 's'}`;
    if (trs.length === 0) showEmpty();
    else if (message.dataset.kind === 'empty') {
      message.hidden = true;
      message.dataset.kind = '';
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

  let rowsPoll = null;
  const retry = () => {
    replace(message, h('p', { class: 'loading', role: 'status' }, 'Trying again\u2026'));
    if (rowsPoll) rowsPoll.now();
    else refresh().catch(() => {});
  };

  const refresh = async () => {
    try {
      await load();
    } catch (e) {
      if (e instanceof SignedOut) return;
      showError(loadedOnce ? `Could not refresh the list: ${describe(e)} Showing what was last loaded.` : describe(e), retry);
      loading.hidden = true;
      throw e;
    }
  };

  const apply = () => {
    filters.email = search.value.trim();
    filters.status = status.value;
    const q = query(filters);
    history.replaceState(history.state, '', `/dashboard${q}`);
    sessionStorage.setItem(LIST_QUERY_KEY, q);
    notices.hidden = filtered();
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
      message.dataset.kind = 'hint';
      replace(message, h('p', { class: 'alert alert-warn', role: 'status' }, 'Type at least two characters of the customer\u2019s email.'));
      message.hidden = false;
      return;
    }
    if (message.dataset.kind === 'hint') message.hidden = true;
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
      if (!(e instanceof SignedOut)) showError(describe(e), () => more.click());
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
      if (!(e instanceof SignedOut)) showError(`Export failed: ${describe(e)}`, () => exportButton.click());
    } finally {
      exportButton.disabled = false;
    }
  });

  apply();
  rowsPoll = poll(refresh, { every: 5000 });
  // The seller's Stripe account and mode, for the notices' link to Stripe: an order says them
  // (the token's claim may be named otherwise).
  const noticesTask = () => renderNotices(notices, () => orders[0] || null);
  noticesTask().catch(() => {});
  const noticesPoll = poll(noticesTask, { every: 30000, max: 120000 });
  return () => {
    generation += 1;
    rowsPoll.stop();
    noticesPoll.stop();
  };
}
