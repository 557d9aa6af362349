// Links to the seller's own Stripe Dashboard, where refunds are made and disputes are answered
// in full: `dashboard.stripe.com/<account>/[test/]payments/<pi>` and `…/disputes/<id>`.
// `test/` for a test-mode order (the order's `livemode`); none for an order without a
// PaymentIntent (a free `cs_…` order has no payment in Stripe to show).

const DASHBOARD = 'https://dashboard.stripe.com/';

function base(order) {
  // Events without a connected account belong to the platform itself: its Dashboard has no
  // account segment.
  const account = order.seller_id && order.seller_id !== 'platform' ? `${encodeURIComponent(order.seller_id)}/` : '';
  return `${DASHBOARD}${account}${order.livemode ? '' : 'test/'}`;
}

function hasPayment(order) {
  return typeof order.order_id === 'string' && order.order_id.startsWith('pi_');
}

/** The payment in Stripe, or null. */
export function paymentUrl(order) {
  return hasPayment(order) ? `${base(order)}payments/${encodeURIComponent(order.order_id)}` : null;
}

/** The seller's failed payments in Stripe (where their error details are), in the mode of
 * `order` (one of the seller's orders), or null without one. */
export function failedPaymentsUrl(order) {
  return order ? `${base(order)}payments?status[0]=failed` : null;
}

/** A dispute of the order in Stripe, or null. */
export function disputeUrl(order, dispute) {
  return hasPayment(order) && dispute && dispute.id ? `${base(order)}disputes/${encodeURIComponent(dispute.id)}` : null;
}
