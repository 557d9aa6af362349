// The evidence an order holds for a dispute (contract sections 5 and 9): the order confirmation,
// the delivery receipt and the download log, as sent to Stripe. Only where there is something to
// prove: an unpaid order never sent an email.

import { h } from './dom.js';
import { dateTime, deliveryStatus, fulfillmentStatus } from './format.js';
import { dl, raw, section } from './parts.js';

export function evidenceSection(order, ev, error) {
  const unpaid = ['failed', 'pending', 'canceled'].includes(order.payment_status);
  if (unpaid && (order.disputes || []).length === 0) return null;
  if (error) return section('Evidence', h('p', { class: 'alert alert-bad', role: 'alert' }, error));
  if (!ev) return section('Evidence', h('p', { class: 'loading' }, 'Loading the evidence\u2026'));
  const c = ev.confirmation_email;
  const r = ev.delivery_receipt || {};
  return section('Evidence',
    h('p', { class: 'sub' }, 'What this order proves, as it is sent to Stripe in a dispute.'),
    h('h3', {}, 'Order confirmation'),
    c ? [dl([
      ['Recipient', c.recipient || '\u2014'],
      ['Subject', c.subject || '\u2014'],
      ['Sent', dateTime(c.sent_at)],
    ]), raw([['Message id', c.message_id]])] : h('p', {}, 'No confirmation email has gone out yet.'),
    h('h3', {}, 'Delivery receipt'),
    h('p', {}, `${fulfillmentStatus(r.status)}${r.sent_at ? ` ${dateTime(r.sent_at)}` : ''}`,
      r.delivery ? ` \u00b7 ${deliveryStatus(r.delivery.status)}` : '', '.'),
    h('h3', {}, 'Download log'),
    ev.downloads.length === 0 ? h('p', {}, 'The customer has not downloaded the product yet.')
      : h('table', { class: 'small-table' },
        h('thead', {}, h('tr', {}, ['Time', 'IP address', 'Browser'].map((t) => h('th', { scope: 'col' }, t)))),
        h('tbody', {}, ev.downloads.map((d) => h('tr', {},
          h('td', { class: 'nowrap' }, dateTime(d.at)), h('td', { class: 'nowrap' }, d.ip || '\u2014'), h('td', { class: 'ua' }, d.user_agent || '\u2014'))))));
}
