// What needs the seller, above the list and compact: one line per notice with its action (the
// disputes awaiting a response with the nearest due date, a dispute rate that is not `ok`, and a
// failure pattern that suggests a configuration problem). Shown on the unfiltered list only: a search is not the place.

import { getJson, SignedOut } from './api.js';
import { h, replace } from './dom.js';
import { dateTime, shortDay, timeLeft } from './format.js';
import { orderHref } from './nav.js';
import { failedPaymentsUrl } from './stripe.js';

/** One line: the words (a shorter form on a phone, so it stays one line) and the actions. */
function line(tone, label, text, short, ...actions) {
  return h('div', { class: `notice-line notice-${tone}`, role: 'region', 'aria-label': label },
    h('span', { class: 'notice-text', title: text },
      h('span', { class: 'long' }, text), h('span', { class: 'short' }, short)),
    h('span', { class: 'notice-actions' }, actions));
}

/** This month's worst dispute-rate line that is not `ok` (contract section 12), or null. */
function worstRate(rates) {
  const month = rates && rates.current;
  if (!month) return null;
  const lines = [
    { key: 'visa', name: 'Visa', program: 'Visa monitoring program' },
    { key: 'mastercard', name: 'Mastercard', program: 'Mastercard monitoring program' },
    { key: 'all', name: 'overall', program: 'all-card guideline' },
  ].map((b) => ({ ...b, ...(month[b.key] || {}) })).filter((b) => b.level === 'over' || b.level === 'watch');
  return lines.find((b) => b.level === 'over') || lines[0] || null;
}

/** Fills `el` with the notices; throws when both sources failed (the poller backs off). */
export async function renderNotices(el, anOrder) {
  const [failures, disputes] = await Promise.allSettled([
    getJson('/stats/failures?days=30'), getJson('/stats/disputes')]);
  const items = [];
  const rate = disputes.status === 'fulfilled' ? worstRate(disputes.value.rates) : null;
  const pct = (x) => `${(x * 100).toLocaleString(undefined, { maximumFractionDigits: 2 })}\u00a0%`;
  const rateWords = rate
    ? `your ${rate.name} dispute rate this month is ${pct(rate.dispute_rate)}: ${rate.level === 'over' ? 'at or over' : 'half way to'} the ${rate.program}'s ${pct(rate.threshold)}`
    : null;
  if (disputes.status === 'fulfilled' && disputes.value.needs_response.length > 0) {
    const list = disputes.value.needs_response;
    const first = list[0];
    const n = list.length;
    const due = first.evidence_due_by
      ? ` \u00b7 due ${shortDay(first.evidence_due_by)}, ${timeLeft(first.evidence_due_by, Date.now(), { short: true })}`
      : '';
    // A rate that is not ok joins this line rather than adding one: the list stays first.
    const text = `${n} dispute${n === 1 ? ' needs' : 's need'} your response${due}${rateWords ? ` \u00b7 ${rateWords}` : ''}`;
    const short = `${n} dispute${n === 1 ? '' : 's'} to answer${first.evidence_due_by
      ? ` \u00b7 ${timeLeft(first.evidence_due_by, Date.now(), { short: true })}` : ''}`;
    const notice = line(rate && rate.level === 'over' ? 'bad' : 'warn', 'Disputes needing a response', text, short,
      h('a', { href: orderHref(first.order_id) }, 'Respond'));
    if (first.evidence_due_by) notice.querySelector('.notice-text').title = `${text}: ${dateTime(first.evidence_due_by)}`;
    items.push(notice);
  } else if (rate) {
    const over = rate.level === 'over';
    items.push(line(over ? 'bad' : 'warn', 'Dispute rate',
      `${rateWords[0].toUpperCase()}${rateWords.slice(1)}. Refunding an unhappy customer costs less than a dispute.`,
      `${rate.name} dispute rate ${pct(rate.dispute_rate)}: ${over ? 'over the limit' : 'watch it'}`,
      h('a', { href: '/dashboard?status=disputed' }, 'Show disputes')));
  }
  if (failures.status === 'fulfilled' && failures.value.suspected_configuration_issue) {
    const f = failures.value;
    const stripe = failedPaymentsUrl(anOrder());
    items.push(line('bad', 'Possible configuration problem',
      `${f.distinct_customers} different customers had a failed payment in ${f.days} days: this can mean a problem in your Stripe setup or checkout, not in their cards. Check the error details in Stripe.`,
      `Failed payments from ${f.distinct_customers} customers: check your setup`,
      h('a', { href: '/dashboard?status=failed' }, 'Show them'),
      stripe ? h('a', { href: stripe, target: '_blank', rel: 'noopener noreferrer', class: 'wide-only' }, 'Open Stripe',
        h('span', { class: 'sr-only' }, ' (opens in a new tab)')) : null));
  }
  replace(el, items);
  if (failures.status === 'rejected' && !(failures.reason instanceof SignedOut)
    && disputes.status === 'rejected') throw failures.reason;
}
