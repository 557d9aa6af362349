// One row of the orders list: one line per cell (long emails and product names end in an
// ellipsis, the full text on hover and on the order's page), the main status with its flags,
// and the whole row opening the order (the customer cell keeps a real link for the keyboard,
// middle-click and assistive tech).

import { h } from './dom.js';
import { dateTime, money, shortDay } from './format.js';
import { navigate, orderHref } from './nav.js';
import { failedBecause, statusBadges } from './status.js';

function cell(text, cls = 'cell') {
  return h('span', { class: cls, title: text }, text);
}

/** Opens the order on a click anywhere in the row, except on a link or while selecting text. */
function openOnClick(e) {
  if (e.defaultPrevented || e.button !== 0 || e.metaKey || e.ctrlKey || e.shiftKey || e.altKey) return;
  if (e.target instanceof Element && e.target.closest('a, button, input, select, textarea')) return;
  const selection = window.getSelection();
  if (selection && selection.type === 'Range' && String(selection).length > 0) return;
  const href = e.currentTarget.dataset.href;
  if (href) navigate(href);
}

export function row(order) {
  const href = orderHref(order.order_id);
  const reason = failedBecause(order);
  const product = order.product_name || order.product_id || '\u2014';
  const email = order.customer_email || 'No email yet';
  const amount = money(order.amount, order.currency);
  const refunded = order.refunded_amount > 0 ? `${money(order.refunded_amount, order.currency)} refunded` : '';
  return h('tr', { role: 'row', class: 'row-link', dataset: { orderId: order.order_id, href }, onclick: openOnClick },
    // The full date and time with its zone; a phone's card shows the day alone (same text, shorter).
    h('td', { role: 'cell', 'data-label': 'Date', class: 'c-date' }, cell(dateTime(order.created_at), 'cell date-long'),
      h('span', { class: 'date-short', 'aria-hidden': 'true' }, shortDay(order.created_at))),
    h('td', { role: 'cell', 'data-label': 'Customer', class: 'c-customer' },
      h('a', { href, class: 'order-link cell', title: email }, email)),
    h('td', { role: 'cell', 'data-label': 'Product', class: 'c-product' }, cell(product)),
    h('td', { role: 'cell', 'data-label': 'Amount', class: 'c-amount num', title: refunded ? `${amount}, ${refunded}` : amount }, amount),
    h('td', { role: 'cell', 'data-label': 'Status', class: 'c-status' },
      h('span', { class: 'badges' }, statusBadges(order),
        reason ? h('span', { class: 'reason' }, reason) : null)),
  );
}
