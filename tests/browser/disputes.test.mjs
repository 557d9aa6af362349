// The disputes the backend answers by itself, seen by a seller in a real browser (Debian's
// Chromium, playwright-core), against leenkies-local sweeping every second and the fake Stripe API
// (`tests/bin/fake_stripe.rs`, its own process): a dispute drafted to Stripe with nobody clicking,
// its planned automatic submission shown; Accept with its confirmation (one close in Stripe); and
// a second dispute that arrives inside the seller's lead time, filed by the next sweep (one
// submission, shown as automatic); and an early fraud warning refunded once by the seller's rule,
// the page saying it was automatic. Contract sections 9.1, 9.3, 9.4, 9.6 and 12.
//
// On the embedded store, and on DynamoDB Local when DYNAMODB_ENDPOINT is set (REQUIRE_DYNAMODB=1
// makes that mandatory). Every event goes through the signed webhook. No sleeps: every wait is
// for what the page, the API or the fake Stripe shows, bounded.

import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { createRequire } from 'node:module';
import { chromium } from 'playwright-core';
import {
  deliver, disputeEvent, fixture, fraudWarningEvent, mintToken, paymentEvent, ROOT, SELLER_A, startFakeStripe,
  startServer,
} from './support.mjs';

const require = createRequire(import.meta.url);
const AXE = fs.readFileSync(require.resolve('axe-core/axe.min.js'), 'utf8');
const CHROMIUM = process.env.CHROMIUM || '/usr/bin/chromium';
const SHOTS = process.env.SCREENSHOT_DIR || path.join(ROOT, 'docs/screenshots');
const SIZES = [{ name: 'desktop', width: 1440, height: 900 }, { name: 'phone', width: 390, height: 844 }];
const STORES = [{ name: 'memory', args: [] }];
if (process.env.DYNAMODB_ENDPOINT) {
  STORES.push({ name: 'dynamodb', args: ['--dynamodb-endpoint', process.env.DYNAMODB_ENDPOINT, '--table', `leenkies-disputes-${Date.now()}`] });
} else if (process.env.REQUIRE_DYNAMODB) {
  throw new Error('REQUIRE_DYNAMODB is set but DYNAMODB_ENDPOINT is not');
}
/** The seller's default lead time (contract section 11: `dispute_auto_submit_hours`). */
const LEAD_HOURS = 48;
const COUNTERED_FEE = 'Submitting counters the dispute: Stripe charges a dispute countered fee, which it returns if you win';

let browser;
before(async () => {
  browser = await chromium.launch({
    executablePath: CHROMIUM,
    args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-background-networking',
      '--disable-component-update', '--disable-sync', '--no-first-run'],
  });
});
after(async () => { if (browser) await browser.close(); });

async function until(what, check, ms = 20000) {
  const t0 = Date.now();
  for (;;) {
    const value = await check();
    if (value) return value;
    if (Date.now() - t0 > ms) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

async function axeCheck(page, what) {
  // Through the DevTools protocol, not a script tag: the page's CSP forbids inline scripts.
  const violations = await page.evaluate(async (source) => {
    // eslint-disable-next-line no-eval
    (0, eval)(source);
    const result = await window.axe.run(document, { resultTypes: ['violations'] });
    return result.violations.map((v) => ({ id: v.id, impact: v.impact, nodes: v.nodes.length, help: v.help }));
  }, AXE);
  const bad = violations.filter((v) => v.impact === 'critical' || v.impact === 'serious');
  assert.deepEqual(bad, [], `${what}: ${JSON.stringify(bad)}`);
}

/** At 1440 × 900 and 390 × 844: the dispute still readable, axe clean; screenshots on memory. */
async function checkBothWidths(page, disputes, name, store) {
  await page.evaluate(() => document.getElementById('toast')?.classList.remove('show'));
  for (const size of SIZES) {
    await page.setViewportSize({ width: size.width, height: size.height });
    await disputes.getByRole('button', { name: 'Accept the dispute' }).first().waitFor();
    await axeCheck(page, `${name} at ${size.name}`);
    if (store.name === 'memory') {
      fs.mkdirSync(SHOTS, { recursive: true });
      await page.screenshot({ path: path.join(SHOTS, `${name}-${size.name}.png`), fullPage: true });
    }
  }
  await page.setViewportSize({ width: 1440, height: 900 });
}

/**
 * A paid order of seller A, its delivery email sent and its link followed once (strong evidence),
 * then disputed with `due_by` at `dueBy` (unix seconds); the dispute exists on Stripe first.
 */
async function disputedOrder(server, stripe, dueBy) {
  const now = Math.floor(Date.now() / 1000);
  const paid = paymentEvent({ account: SELLER_A, email: 'riley.park@example.com', product: 'Film Emulation Presets', amount: 3900, created: now - 10 * 86400 });
  await deliver(server.base, paid.event);
  const charge = JSON.parse(fixture('ord_1001__01__charge.succeeded.json'));
  charge.id = `evt_ch_${paid.pi}`;
  charge.account = SELLER_A;
  charge.created = now - 10 * 86400 + 6;
  Object.assign(charge.data.object, {
    id: paid.event.data.object.latest_charge, payment_intent: paid.pi, amount: 3900, receipt_email: 'riley.park@example.com', metadata: {},
  });
  await deliver(server.base, charge);
  const eml = await until('the delivery email', () => fs.readdirSync(server.outbox).find((f) => f.endsWith(`-${paid.pi}.eml`)));
  const text = fs.readFileSync(path.join(server.outbox, eml), 'utf8').replace(/=\r?\n/g, '');
  const link = text.match(/https?:\/\/[^\s"<>]+\/downloads\/[\w.-]+/);
  assert.ok(link, 'a download link in the email');
  const dl = await fetch(link[0], { headers: { 'user-agent': 'Mozilla/5.0 (Browser disputes test)' } });
  assert.equal(dl.status, 200);
  await dl.arrayBuffer();
  const dispute = disputeEvent({ account: SELLER_A, pi: paid.pi, amount: 3900, created: now - 3600 });
  dispute.data.object.evidence_details.due_by = dueBy;
  const disputeId = dispute.data.object.id;
  await stripe.addDispute(SELLER_A, disputeId);
  await deliver(server.base, dispute);
  return { pi: paid.pi, disputeId, dueBy };
}

async function orderJson(server, token, pi) {
  const r = await fetch(`${server.base}/orders/${pi}`, { headers: { authorization: `Bearer ${token}` } });
  assert.equal(r.status, 200);
  return r.json();
}

/** The fake Stripe's accepted (not replayed) calls on one dispute: [updates, closes]. */
async function callsOn(stripe, disputeId) {
  const seen = (await stripe.requests()).filter((r) => r.path.startsWith(`/v1/disputes/${disputeId}`));
  const ok = seen.filter((r) => r.status === 200 && !r.replayed);
  return { seen, updates: ok.filter((r) => !r.path.endsWith('/close')), closes: ok.filter((r) => r.path.endsWith('/close')) };
}

for (const store of STORES) {
  describe(`disputes the backend answers, on the order page, ${store.name} store`, () => {
    let stripe;
    let server;
    let a;
    let accepted;

    before(async () => {
      stripe = await startFakeStripe([SELLER_A]);
      server = await startServer(store.args, { ...stripe.env, SWEEP_INTERVAL_SECONDS: '1' });
      a = mintToken(server.addr, SELLER_A);
    });

    after(async () => {
      if (server) await server.stop();
      if (stripe) await stripe.stop();
    });

    test('a dispute drafted by the backend shows its planned submission; Accept after confirming closes it once', async () => {
      // GIVEN a delivered, downloaded order disputed with the evidence due in 6 days
      const order = await disputedOrder(server, stripe, Math.floor(Date.now() / 1000) + 6 * 86400 + 3 * 3600);
      accepted = order;
      // WHEN a sweep runs (nobody clicks)
      const drafted = await until('the draft and its planned submission', async () => {
        const d = (await orderJson(server, a.token, order.pi)).disputes[0];
        return d.evidence && d.evidence.saved_at && d.auto_submit_at ? d : null;
      });
      // THEN the draft reached Stripe once, not filed, as seller A
      let onStripe = await stripe.dispute(SELLER_A, order.disputeId);
      assert.deepEqual([onStripe.status, onStripe.submission_count, onStripe.updates], ['needs_response', 0, 1], 'one draft, submit false');
      assert.ok(onStripe.evidence.customer_email_address, 'the evidence went with the draft');
      let calls = await callsOn(stripe, order.disputeId);
      assert.equal(calls.updates.length, 1, JSON.stringify(calls.seen));
      assert.ok(calls.seen.every((r) => r.account === SELLER_A && r.idempotency_key), JSON.stringify(calls.seen));
      // AND the order plans the automatic submission at the due date minus the lead time
      assert.equal(Date.parse(drafted.auto_submit_at), (order.dueBy - LEAD_HOURS * 3600) * 1000, drafted.auto_submit_at);
      assert.equal(drafted.evidence.submitted_at, null);
      assert.equal(drafted.evidence.submitted_by, null);

      // WHEN the seller opens the order
      const context = await browser.newContext({ viewport: { width: 1440, height: 900 } });
      const page = await context.newPage();
      const dialogs = [];
      page.on('dialog', (d) => { dialogs.push(d.message()); d.accept().catch(() => {}); });
      await page.goto(`${server.base}/dashboard#token=${a.token}`);
      await page.goto(`${server.base}/dashboard/orders/${order.pi}`);
      const disputes = page.getByRole('region', { name: 'Disputes' });
      // THEN it shows the draft saved, who files and when, and the countered fee next to Submit
      await disputes.getByText(/^Draft saved to Stripe .*\d/).waitFor({ timeout: 15000 });
      const filing = disputes.getByText(/^Leenkies will submit this evidence .*\d.* unless you submit or accept first\.$/);
      await filing.waitFor();
      const form = disputes.locator('.evidence').filter({ has: page.getByRole('button', { name: 'Submit to Stripe' }) });
      assert.match(await form.locator('.hint').filter({ hasText: COUNTERED_FEE }).innerText(), /returns if you win/);
      assert.equal(await disputes.getByText(/Submitted automatically|You submitted it/).count(), 0);
      await checkBothWidths(page, disputes, 'order-dispute-drafted', store);

      // WHEN the seller accepts the dispute and confirms the loss
      await disputes.getByRole('button', { name: 'Accept the dispute' }).click();
      // THEN the page asked with the amount, and shows the dispute accepted
      await disputes.getByText(/^You accepted this dispute .*\d/).waitFor({ timeout: 15000 });
      assert.equal(dialogs.length, 1, JSON.stringify(dialogs));
      assert.match(dialogs[0], /^You accept the loss of \$39\.00\./);
      await filing.waitFor({ state: 'detached' });
      // AND Stripe closed it exactly once, as seller A; the order keeps no planned submission
      calls = await callsOn(stripe, order.disputeId);
      assert.equal(calls.closes.length, 1, JSON.stringify(calls.seen));
      assert.equal(calls.closes[0].account, SELLER_A);
      onStripe = await stripe.dispute(SELLER_A, order.disputeId);
      assert.equal(onStripe.submission_count, 0);
      const after = (await orderJson(server, a.token, order.pi)).disputes[0];
      assert.ok(after.evidence.accepted_at, JSON.stringify(after));
      assert.equal(after.auto_submit_at, null, 'an accepted dispute has no planned submission');

      await context.close();
    });

    test('a dispute arriving inside the lead time is filed by the next sweep, shown as automatic', async () => {
      // GIVEN a delivered, downloaded order disputed with the evidence due in 24 hours (inside 48)
      const order = await disputedOrder(server, stripe, Math.floor(Date.now() / 1000) + 24 * 3600);
      // WHEN the sweeps run (nobody clicks)
      await until('the automatic submission on Stripe', async () => (await stripe.dispute(SELLER_A, order.disputeId)).submission_count >= 1);
      // THEN the page says it was submitted automatically, without any dialog
      const context = await browser.newContext({ viewport: { width: 1440, height: 900 } });
      const page = await context.newPage();
      const dialogs = [];
      page.on('dialog', (d) => { dialogs.push(d.message()); d.dismiss().catch(() => {}); });
      await page.goto(`${server.base}/dashboard#token=${a.token}`);
      await page.goto(`${server.base}/dashboard/orders/${order.pi}`);
      const disputes = page.getByRole('region', { name: 'Disputes' });
      await disputes.getByText(/^Submitted automatically .*\d.*, before the deadline, under your setting\.$/).waitFor({ timeout: 15000 });
      await disputes.getByText(/^Submitted to Stripe .*\d/).waitFor();
      assert.equal(await disputes.getByRole('button', { name: 'Submit to Stripe' }).count(), 0);
      assert.equal(dialogs.length, 0);
      await axeCheck(page, 'automatically submitted dispute');
      const shown = (await orderJson(server, a.token, order.pi)).disputes[0];
      assert.equal(shown.evidence.submitted_by, 'auto');
      assert.equal(shown.auto_submit_at, null, 'nothing left to plan once submitted');
      assert.ok(shown.evidence.submitted_at);
      // AND Stripe got exactly one submission (a draft before it at most), as seller A
      const onStripe = await stripe.dispute(SELLER_A, order.disputeId);
      assert.equal(onStripe.submission_count, 1);
      assert.equal(onStripe.status, 'under_review');
      const calls = await callsOn(stripe, order.disputeId);
      assert.ok(calls.updates.length >= 1 && calls.updates.length <= 2, JSON.stringify(calls.seen));
      assert.equal(onStripe.updates, calls.updates.length);
      assert.equal(calls.closes.length, 0);
      assert.ok(calls.seen.every((r) => r.account === SELLER_A), JSON.stringify(calls.seen));
      // AND the accepted dispute was never filed by the sweeps that ran meanwhile
      assert.equal((await stripe.dispute(SELLER_A, accepted.disputeId)).submission_count, 0);
      await context.close();
    });

    test('a dispute rate over the networks\u2019 limit this month is a notice above the list', async () => {
      // GIVEN this month's two sales, both disputed as chargebacks (the tests above): the
      // seller's rate is far past every program's threshold (contract section 12)
      const rates = (await (await fetch(`${server.base}/stats/disputes`, {
        headers: { authorization: `Bearer ${a.token}` },
      })).json()).rates;
      assert.equal(rates.current.all.level, 'over', JSON.stringify(rates.current));
      // WHEN the seller opens the list
      const context = await browser.newContext({ viewport: { width: 1440, height: 900 } });
      const page = await context.newPage();
      await page.goto(`${server.base}/dashboard#token=${a.token}`);
      // THEN one compact notice says so, in words, with a way to the disputes
      const notice = page.getByRole('region', { name: 'Dispute rate' });
      await notice.waitFor({ timeout: 15000 });
      assert.match(await notice.innerText(), /dispute rate this month is .*%.*at or over/);
      assert.ok(await notice.getByRole('link', { name: 'Show disputes' }).isVisible());
      await axeCheck(page, 'dispute rate notice');
      await context.close();
    });
    test('an early fraud warning under the rule always is refunded once by the backend, and the page says so', async () => {
      // GIVEN the seller's rule refunds every warned order, and a paid order whose charge Stripe has
      const put = await fetch(`${server.base}/settings`, {
        method: 'PUT',
        headers: { authorization: `Bearer ${a.token}`, 'content-type': 'application/json' },
        body: JSON.stringify({ efw_auto_refund: 'always' }),
      });
      assert.equal(put.status, 200);
      const now = Math.floor(Date.now() / 1000);
      const paid = paymentEvent({ account: SELLER_A, email: 'sam.ortiz@example.com', product: 'Lightroom Presets', amount: 2500, created: now - 7200 });
      const charge = paid.event.data.object.latest_charge;
      await stripe.addCharge(SELLER_A, charge, 2500);
      await deliver(server.base, paid.event);
      // WHEN Stripe warns of fraud on it, and the warning arrives twice
      const warning = fraudWarningEvent({ account: SELLER_A, pi: paid.pi, created: now - 60 });
      warning.data.object.charge = charge;
      await deliver(server.base, warning);
      await deliver(server.base, warning);
      // THEN the sweep refunds the whole charge once, as seller A, fraudulent, keyed by the warning
      const refunds = await until('the automatic refund on Stripe', async () => {
        const list = await stripe.refunds();
        return list.length ? list : null;
      });
      assert.equal(refunds.length, 1, JSON.stringify(refunds));
      assert.deepEqual([refunds[0].account, refunds[0].charge, refunds[0].amount, refunds[0].reason], [SELLER_A, charge, 2500, 'fraudulent']);
      assert.equal(refunds[0].idempotency_key, `efw-refund:${warning.data.object.id}:0`);
      // WHEN Stripe's refund reaches the webhook like any refund
      const refunded = JSON.parse(fixture('ord_1009__02__charge.refunded.json'));
      refunded.id = `evt_ref_${paid.pi}`;
      refunded.account = SELLER_A;
      refunded.created = now;
      Object.assign(refunded.data.object, { id: charge, payment_intent: paid.pi, amount: 2500, amount_refunded: 2500, metadata: {} });
      await deliver(server.base, refunded);
      // THEN the order is Refunded and its page says the refund was automatic, after the warning
      const context = await browser.newContext({ viewport: { width: 1440, height: 900 } });
      const page = await context.newPage();
      await page.goto(`${server.base}/dashboard#token=${a.token}`);
      await page.goto(`${server.base}/dashboard/orders/${paid.pi}`);
      await page.getByText('Refunded in full automatically after an early fraud warning (your rule).').waitFor({ timeout: 15000 });
      const shown = await orderJson(server, a.token, paid.pi);
      assert.equal(shown.payment_status, 'refunded');
      assert.ok(!shown.attention.includes('efw_refund_failed'), JSON.stringify(shown.attention));
      // AND later sweeps never refund it again
      await new Promise((r) => setTimeout(r, 2500));
      assert.equal((await stripe.refunds()).length, 1);
      await axeCheck(page, 'order refunded after an early fraud warning');
      await context.close();
    });
  });
}
