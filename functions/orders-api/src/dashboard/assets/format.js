// Words and numbers a seller reads: amounts in major units by Stripe's currency table, dates and
// numbers in the browser's language (`Intl`) and the seller's time zone, named on every time,
// and every status and reason of the contract in plain words.

// Stripe's zero-decimal currencies: the API amount is already in major units.
const ZERO_DECIMAL = new Set(['bif', 'clp', 'djf', 'gnf', 'jpy', 'kmf', 'krw', 'mga', 'pyg',
  'rwf', 'ugx', 'vnd', 'vuv', 'xaf', 'xof', 'xpf']);
// Three-decimal currencies: 1000 minor units to the major unit.
const THREE_DECIMAL = new Set(['bhd', 'jod', 'kwd', 'omr', 'tnd']);
// Special case: ISK stays two-decimal in the API (100 = 1 króna) but is charged in whole krónur,
// so it is divided by 100 and shown without decimals.
const WHOLE_UNITS_SHOWN = new Set(['isk']);

/** Minor-unit exponent Stripe uses for a currency's API amounts. */
export function exponent(currency) {
  const c = String(currency || '').toLowerCase();
  if (ZERO_DECIMAL.has(c)) return 0;
  if (THREE_DECIMAL.has(c)) return 3;
  return 2;
}

/** 2500 usd → "$25.00"; 1000 jpy → "¥1,000"; 1234560 kwd → "KWD 1,234.560". */
export function money(amount, currency) {
  if (amount === null || amount === undefined) return '—';
  const code = String(currency || '').toLowerCase();
  const exp = exponent(code);
  const shown = WHOLE_UNITS_SHOWN.has(code) ? 0 : exp;
  const major = amount / 10 ** exp;
  if (/^[a-z]{3}$/.test(code)) {
    try {
      return new Intl.NumberFormat(undefined, {
        style: 'currency', currency: code.toUpperCase(),
        minimumFractionDigits: shown, maximumFractionDigits: shown,
      }).format(major);
    } catch { /* an unknown code: fall through to the plain form */ }
  }
  const n = new Intl.NumberFormat(undefined, {
    minimumFractionDigits: shown, maximumFractionDigits: shown,
  }).format(major);
  return code ? `${n} ${code.toUpperCase()}` : n;
}

// `undefined`: the browser's own language and time zone; every time names its zone.
const DATE = new Intl.DateTimeFormat(undefined, {
  year: 'numeric', month: 'short', day: 'numeric', hour: 'numeric', minute: '2-digit', timeZoneName: 'short',
});
const DAY = new Intl.DateTimeFormat(undefined, { dateStyle: 'long' });
const SHORT_DAY = new Intl.DateTimeFormat(undefined, { dateStyle: 'medium' });

function parse(iso) {
  const d = iso ? new Date(iso) : null;
  return d && !Number.isNaN(d.getTime()) ? d : null;
}

/** "May 8, 2026, 8:00 AM UTC" in the browser's language and time zone. */
export function dateTime(iso) {
  const d = parse(iso);
  return d ? DATE.format(d) : '\u2014';
}

/** "May 8, 2026" (the purchase date in an email subject). */
export function day(iso) {
  const d = parse(iso);
  return d ? DAY.format(d) : '';
}

/** "May 8, 2026" in the short form of the browser's language. */
export function shortDay(iso) {
  const d = parse(iso);
  return d ? SHORT_DAY.format(d) : '';
}

/** A count in the browser's language ("1,234"). */
export function count(n) {
  return new Intl.NumberFormat(undefined).format(n);
}

/** "3 days 4 hours left", "5 hours left", "overdue by 2 days"; `short`: whole days only when a
 * day or more is left ("3 days left"). */
export function timeLeft(iso, now = Date.now(), { short = false } = {}) {
  const d = parse(iso);
  if (!d) return '';
  const ms = d.getTime() - now;
  const abs = Math.abs(ms);
  const days = Math.floor(abs / 86400000);
  const hours = Math.floor((abs % 86400000) / 3600000);
  const minutes = Math.floor((abs % 3600000) / 60000);
  const plural = (n, w) => `${n} ${w}${n === 1 ? '' : 's'}`;
  let span;
  if (days > 0) span = hours > 0 && !short ? `${plural(days, 'day')} ${plural(hours, 'hour')}` : plural(days, 'day');
  else if (hours > 0) span = plural(hours, 'hour');
  else span = plural(Math.max(minutes, 1), 'minute');
  return ms >= 0 ? `${span} left` : `overdue by ${span}`;
}

/** The Status cell's words for `payment_status` (contract section 8). */
export const PAYMENT_STATUS = {
  succeeded: 'Succeeded',
  failed: 'Failed',
  pending: 'Pending',
  canceled: 'Canceled',
  refunded: 'Refunded',
  partially_refunded: 'Partially refunded',
};

/** Badge tone per status: the words carry the meaning, the colour only helps. */
export const STATUS_TONE = {
  succeeded: 'ok', failed: 'bad', pending: 'wait', canceled: 'muted',
  refunded: 'info', partially_refunded: 'info', disputed: 'warn',
};

export function paymentStatus(status) {
  return PAYMENT_STATUS[status] || humanize(status);
}

/** The seed's words for the five failure categories. */
export const FAILURE_REASON = {
  insufficient_funds: 'Insufficient funds',
  card_declined: 'Card declined',
  expired_card: 'Expired card',
  incorrect_card_details: 'Incorrect card details',
  fraud_blocked: 'Fraud prevention',
};

export function failureReason(category) {
  return FAILURE_REASON[category] || 'Card declined';
}

/** What each failure means for the customer's next try. */
export const FAILURE_HINT = {
  insufficient_funds: 'The card did not have enough funds or credit for this payment.',
  card_declined: 'The card issuer declined the payment without giving a more precise reason.',
  expired_card: 'The card has expired.',
  incorrect_card_details: 'The card number, expiry date, CVC or postal code was entered incorrectly.',
  fraud_blocked: 'Stripe\u2019s fraud prevention blocked this payment as too risky.',
};

const DISPUTE_STATUS = {
  warning_needs_response: 'Inquiry: needs response',
  warning_under_review: 'Inquiry: under review',
  warning_closed: 'Inquiry closed',
  needs_response: 'Needs response',
  under_review: 'Under review',
  won: 'Won',
  lost: 'Lost',
  prevented: 'Prevented',
};

export function disputeStatus(status) {
  return DISPUTE_STATUS[status] || humanize(status);
}

export const OPEN_DISPUTE = new Set(['warning_needs_response', 'needs_response']);
export const CLOSED_DISPUTE = new Set(['won', 'lost', 'prevented', 'warning_closed']);

const DISPUTE_REASON = {
  bank_cannot_process: 'Bank cannot process',
  check_returned: 'Check returned',
  credit_not_processed: 'Credit not processed',
  customer_initiated: 'Customer initiated',
  debit_not_authorized: 'Debit not authorized',
  duplicate: 'Duplicate',
  fraudulent: 'Fraudulent',
  general: 'General',
  incorrect_account_details: 'Incorrect account details',
  insufficient_funds: 'Insufficient funds',
  product_not_received: 'Product not received',
  product_unacceptable: 'Product unacceptable',
  subscription_canceled: 'Subscription canceled',
  unrecognized: 'Unrecognized',
};

export function disputeReason(reason) {
  return reason ? (DISPUTE_REASON[reason] || humanize(reason)) : 'Not given';
}

const REFUND_STATUS = {
  pending: 'Pending', succeeded: 'Succeeded', failed: 'Failed', canceled: 'Canceled',
  requires_action: 'Requires action',
};

export function refundStatus(status) {
  return REFUND_STATUS[status] || humanize(status);
}

const FULFILLMENT = {
  pending: 'Not sent yet',
  sending: 'Sending',
  sent: 'Sent',
  skipped: 'Not sent: access was revoked before delivery',
  failed: 'Failed to send',
};

export function fulfillmentStatus(status) {
  return FULFILLMENT[status] || humanize(status);
}

const DELIVERY = {
  sent: 'Accepted by the mail service',
  delivered: 'Delivered to the customer\u2019s mail server',
  delayed: 'Delivery delayed',
  bounced: 'Bounced',
  complained: 'Marked as spam by the customer',
  rejected: 'Rejected by the mail service',
};

export function deliveryStatus(status) {
  return DELIVERY[status] || humanize(status);
}

export const DELIVERY_FAILED = new Set(['bounced', 'complained', 'rejected']);

const ATTENTION = {
  refund_failed: 'A refund failed: the money did not reach the customer',
  dispute_needs_response: 'A dispute needs your response',
  early_fraud_warning: 'The card network warned of fraud on this payment: refunding it in Stripe now usually costs less than a dispute later',
  efw_refund_failed: 'The automatic refund after a fraud warning failed: it is retried; you can also refund it in Stripe',
  fulfillment_blocked: 'Delivery is waiting for the customer\u2019s email or the product from the storefront',
  fulfillment_failed: 'The delivery email could not be sent',
  delivery_failed: 'The delivery email did not reach the customer: send the link to a corrected address (Delivery, below)',
  product_changed: 'The store now names another product than the emailed link delivers: check what was bought, and resend the link if needed',
};

export function attention(code) {
  return ATTENTION[code] || humanize(code);
}

/** `payment_succeeded` → "Payment succeeded". */
export function humanize(code) {
  const s = String(code || '').replace(/[_.]+/g, ' ').trim();
  return s ? s[0].toUpperCase() + s.slice(1) : '—';
}
