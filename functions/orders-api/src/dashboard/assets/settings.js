// The seller's settings (contract section 11): how disputes are answered by default, the refund
// policy sent as evidence, what an early fraud warning does, and which notifications go where.
// Read with GET /settings, saved whole with PUT /settings; the server's `invalid_settings`
// message names the field, and nothing is saved then.

import { ApiError, describe, getJson, request, SignedOut } from './api.js';
import { h, replace, toast } from './dom.js';

const POLICY_MAX = 5000;
const DISCLOSURE_MAX = 2000;

const NOTIFY = [
  ['dispute', 'A dispute opens, escalates, or is submitted for you'],
  ['delivery_failed', 'A delivery email bounces or is refused'],
  ['failure_pattern', 'Failed payments suggest a problem in your setup (at most once a day)'],
  ['early_fraud_warning', 'The card network warns of fraud on a payment'],
];

function choice(name, legend, value, options, hint) {
  return h('fieldset', { class: 'choice' },
    h('legend', {}, legend),
    hint ? h('p', { class: 'hint' }, hint) : null,
    options.map(([v, label, help]) => h('label', { class: 'radio' },
      h('input', { type: 'radio', name, value: v, checked: v === value }),
      h('span', {}, h('span', { class: 'radio-label' }, label), help ? h('span', { class: 'hint' }, help) : null))));
}

function textarea(id, label, value, max, hint) {
  const counter = h('span', { class: 'hint counter', id: `${id}-count`, 'aria-live': 'polite' });
  const el = h('textarea', { id, class: 'input', rows: '5', maxlength: String(max), 'aria-describedby': `${id}-hint ${id}-count` });
  el.value = value || '';
  const update = () => { counter.textContent = `${el.value.length} of ${max.toLocaleString()} characters`; };
  el.addEventListener('input', update);
  update();
  return [h('div', { class: 'field' }, h('label', { for: id }, label), el,
    h('span', { class: 'hint', id: `${id}-hint` }, hint), counter), el];
}

function form(settings, onSaved) {
  const hours = h('input', { id: 'auto-hours', type: 'number', class: 'input narrow', min: '24', max: '168', step: '1',
    value: String(settings.dispute_auto_submit_hours), 'aria-describedby': 'auto-hours-hint' });
  const [policyField, policy] = textarea('refund-policy', 'Refund policy text', settings.refund_policy, POLICY_MAX,
    'Your refund policy as the customer could read it. Sent to Stripe as a PDF with a dispute\u2019s evidence.');
  const [disclosureField, disclosure] = textarea('refund-disclosure', 'How the customer saw the policy', settings.refund_policy_disclosure, DISCLOSURE_MAX,
    'For example: \u201cShown next to the Buy button and linked in the receipt.\u201d Sent to Stripe as text.');
  const notifyEmail = h('input', { id: 'notify-email', type: 'email', class: 'input', autocomplete: 'email',
    value: settings.notify_email || '', placeholder: 'Your Stripe account\u2019s email', 'aria-describedby': 'notify-email-hint' });
  const notify = settings.notify || {};
  const boxes = NOTIFY.map(([key, label]) => [key, h('input', { type: 'checkbox', id: `notify-${key}`, checked: notify[key] !== false })]);
  const result = h('p', { class: 'result', role: 'status' });
  const save = h('button', { type: 'submit', class: 'btn btn-primary' }, 'Save settings');

  const el = h('form', { class: 'settings', novalidate: true },
    h('section', { class: 'card', 'aria-labelledby': 'set-disputes' },
      h('h2', { id: 'set-disputes' }, 'Disputes'),
      choice('dispute_auto_submit', 'Submit evidence for me before the deadline', settings.dispute_auto_submit, [
        ['strong_evidence', 'When the evidence is strong (recommended)', 'The customer downloaded the product after the email, or the order qualifies for Visa Compelling Evidence 3.0.'],
        ['always', 'Always', 'Every open dispute is answered, whatever the evidence.'],
        ['off', 'Never', 'You submit or accept each dispute yourself. A dispute nobody answers is lost.'],
      ], 'Submitting counters the dispute; where Stripe charges a countered-dispute fee, it is returned if you win.'),
      h('div', { class: 'field' },
        h('label', { for: 'auto-hours' }, 'Hours before the deadline'),
        hours,
        h('span', { class: 'hint', id: 'auto-hours-hint' }, 'Between 24 and 168 hours (7 days). The default is 48.'))),
    h('section', { class: 'card', 'aria-labelledby': 'set-policy' },
      h('h2', { id: 'set-policy' }, 'Refund policy'),
      policyField, disclosureField),
    h('section', { class: 'card', 'aria-labelledby': 'set-efw' },
      h('h2', { id: 'set-efw' }, 'Early fraud warnings'),
      choice('efw_auto_refund', 'Refund a payment the card network warns about', settings.efw_auto_refund, [
        ['off', 'No, I decide', 'The order shows the warning; refund it in Stripe if you choose.'],
        ['not_downloaded', 'Yes, if the product was never downloaded', 'A refund now usually costs less than a dispute later.'],
        ['always', 'Yes, always', 'Refunded in full at once, downloaded or not.'],
      ])),
    h('section', { class: 'card', 'aria-labelledby': 'set-notify' },
      h('h2', { id: 'set-notify' }, 'Notifications'),
      h('div', { class: 'field' },
        h('label', { for: 'notify-email' }, 'Send notifications to'),
        notifyEmail,
        h('span', { class: 'hint', id: 'notify-email-hint' }, 'Leave empty to use your Stripe account\u2019s email.')),
      h('fieldset', { class: 'choice' }, h('legend', {}, 'Email me when'),
        boxes.map(([key, box]) => h('label', { class: 'check', for: box.id }, box,
          h('span', {}, NOTIFY.find(([k]) => k === key)[1]))))),
    h('div', { class: 'actions sticky-actions' }, save, result));

  el.addEventListener('submit', async (e) => {
    e.preventDefault();
    const picked = (name) => {
      const r = el.querySelector(`input[name="${name}"]:checked`);
      return r ? r.value : null;
    };
    const n = Number(hours.value);
    if (!Number.isInteger(n) || n < 24 || n > 168) {
      result.textContent = 'Hours before the deadline: a whole number from 24 to 168.';
      result.classList.add('result-bad');
      hours.focus();
      return;
    }
    const body = {
      dispute_auto_submit: picked('dispute_auto_submit'),
      dispute_auto_submit_hours: n,
      refund_policy: policy.value.trim() ? policy.value : null,
      refund_policy_disclosure: disclosure.value.trim() ? disclosure.value : null,
      efw_auto_refund: picked('efw_auto_refund'),
      notify_email: notifyEmail.value.trim() || null,
      notify: Object.fromEntries(boxes.map(([key, box]) => [key, box.checked])),
    };
    save.disabled = true;
    result.classList.remove('result-bad');
    result.textContent = 'Saving\u2026';
    try {
      const response = await request('/settings', { method: 'PUT', json: body });
      const saved = await response.json();
      result.textContent = 'Saved. The new settings apply from the next event and the next sweep.';
      toast('Settings saved');
      onSaved(saved);
    } catch (err) {
      if (err instanceof SignedOut) return;
      result.textContent = err instanceof ApiError && err.code === 'invalid_settings'
        ? `Not saved: ${err.message.replace(/^The request was not accepted: /, '')}`
        : `Not saved: ${describe(err)}`;
      result.classList.add('result-bad');
    } finally {
      save.disabled = false;
    }
  });
  return el;
}

/** Renders the settings page into `main`; returns the view's `destroy`. */
export function settingsView(main) {
  let stopped = false;
  const body = h('div', {}, h('p', { class: 'loading', role: 'status' }, 'Loading your settings\u2026'));
  const message = h('div', { class: 'list-message', hidden: true });
  replace(main, h('section', { class: 'page settings-page' },
    h('div', { class: 'page-head' }, h('div', { class: 'title-line' }, h('h1', { tabindex: '-1' }, 'Settings'))),
    message, body));
  const load = async () => {
    message.hidden = true;
    try {
      const settings = await getJson('/settings');
      if (stopped) return;
      replace(body, form(settings, () => {}));
    } catch (e) {
      if (e instanceof SignedOut || stopped) return;
      const missing = e instanceof ApiError && (e.status === 404 || e.status === 405);
      replace(body);
      replace(message, h('div', { class: 'alert alert-bad', role: 'alert' },
        h('span', {}, missing ? 'Settings are not available on this server yet.' : `Could not load your settings: ${describe(e)}`),
        missing ? null : h('button', { type: 'button', class: 'btn btn-small', onclick: load }, 'Retry')));
      message.hidden = false;
    }
  };
  load();
  const heading = main.querySelector('h1');
  if (heading) heading.focus({ preventScroll: true });
  return () => { stopped = true; };
}
