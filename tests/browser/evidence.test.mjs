// Dispute evidence end to end, as a person does it in a real browser (Debian's Chromium, playwright-core):
// a seller opens a disputed order, reads the evidence, adds a sentence, saves a draft, then
// submits (accepting the confirmation); the fake Stripe API (`tests/bin/fake_stripe.rs`, its own
// process) received exactly one file and one submission on the seller's account, every field
// named as Stripe's published dispute object names it, and the order page says when. Also the
// error paths: Stripe down shows a clear error and records nothing, and the retry succeeds without
// a second file; a dispute Stripe does not know shows Stripe's own message.
//
// On the embedded store, and on DynamoDB Local when DYNAMODB_ENDPOINT is set (REQUIRE_DYNAMODB=1
// makes that mandatory). Every event goes through the signed webhook.

import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { chromium } from 'playwright-core';
import {
  deliver, disputeEvent, fixture, mintToken, paymentEvent, ROOT, SELLER_A, SHARED, startFakeStripe, startServer,
} from './support.mjs';

const CHROMIUM = process.env.CHROMIUM || '/usr/bin/chromium';
const STORES = [{ name: 'memory', args: [] }];
if (process.env.DYNAMODB_ENDPOINT) {
  STORES.push({ name: 'dynamodb', args: ['--dynamodb-endpoint', process.env.DYNAMODB_ENDPOINT, '--table', `leenkies-evidence-${Date.now()}`] });
} else if (process.env.REQUIRE_DYNAMODB) {
  throw new Error('REQUIRE_DYNAMODB is set but DYNAMODB_ENDPOINT is not');
}
/** Stripe's own names for evidence fields: the keys of its published dispute object. */
const STRIPE_EVIDENCE_KEYS = new Set(Object.keys(JSON.parse(
  fs.readFileSync(path.join(SHARED, 'fixtures/stripe/official/dispute.json'), 'utf8')).evidence));
const SENTENCE = 'The customer wrote on 3 May to thank us for the presets.';

// Written on every run from the code under test (docs/screenshots, as dashboard.test.mjs).
const SHOTS = process.env.SCREENSHOT_DIR || path.join(ROOT, 'docs/screenshots');

/** Full-page screenshots at the given widths (`-desktop` for 1440, `-phone` for 390). */
async function screenshot(page, name, widths) {
  fs.mkdirSync(SHOTS, { recursive: true });
  await page.evaluate(() => document.getElementById('toast')?.classList.remove('show'));
  for (const width of widths) {
    await page.setViewportSize({ width, height: width > 500 ? 900 : 844 });
    await page.waitForTimeout(250);
    await page.screenshot({ path: path.join(SHOTS, `${name}-${width > 500 ? 'desktop' : 'phone'}.png`), fullPage: true });
  }
  await page.setViewportSize({ width: 1440, height: 900 });
}

let browser;
before(async () => {
  browser = await chromium.launch({
    executablePath: CHROMIUM,
    args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-background-networking',
      '--disable-component-update', '--disable-sync', '--no-first-run'],
  });
});
after(async () => { if (browser) await browser.close(); });

async function until(what, check, ms = 15000) {
  const t0 = Date.now();
  for (;;) {
    const value = await check();
    if (value) return value;
    if (Date.now() - t0 > ms) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

/** A paid order of seller A, its delivery email sent and its link followed once, then disputed. */
async function disputedOrder(server, stripe, { reason } = {}) {
  const now = Math.floor(Date.now() / 1000);
  const paid = paymentEvent({ account: SELLER_A, email: 'riley.park@example.com', product: 'Film Emulation Presets', amount: 3900, created: now - 10 * 86400 });
  // The storefront's metadata (contract section 2) and the paid charge's billing details.
  Object.assign(paid.event.data.object.metadata, { customer_ip: '203.0.113.77', store_name: 'Riley Film Lab' });
  await deliver(server.base, paid.event);
  const charge = JSON.parse(fixture('ord_1001__01__charge.succeeded.json'));
  charge.id = `evt_ch_${paid.pi}`;
  charge.account = SELLER_A;
  charge.created = now - 10 * 86400 + 6;
  Object.assign(charge.data.object, {
    id: paid.event.data.object.latest_charge, payment_intent: paid.pi, amount: 3900, receipt_email: 'riley.park@example.com',
    metadata: {},
    billing_details: { name: 'Riley Park', email: null, phone: null,
      address: { line1: null, line2: null, city: null, state: 'CA', postal_code: '94107', country: 'US' } },
  });
  await deliver(server.base, charge);
  const eml = await until('the delivery email', () => fs.readdirSync(server.outbox).find((f) => f.endsWith(`-${paid.pi}.eml`)));
  const text = fs.readFileSync(path.join(server.outbox, eml), 'utf8').replace(/=\r?\n/g, '');
  const link = text.match(/https?:\/\/[^\s"<>]+\/downloads\/[\w.-]+/);
  assert.ok(link, 'a download link in the email');
  const dl = await fetch(link[0], { headers: { 'user-agent': 'Mozilla/5.0 (Browser evidence test)' } });
  assert.equal(dl.status, 200);
  await dl.arrayBuffer();
  const dispute = disputeEvent({ account: SELLER_A, pi: paid.pi, amount: 3900, created: now - 86400, dueInDays: 6 });
  if (reason) dispute.data.object.reason = reason;
  const disputeId = dispute.data.object.id;
  await deliver(server.base, dispute);
  return { pi: paid.pi, disputeId, event: dispute, add: () => stripe.addDispute(SELLER_A, disputeId) };
}

async function orderJson(server, token, pi) {
  const r = await fetch(`${server.base}/orders/${pi}`, { headers: { authorization: `Bearer ${token}` } });
  assert.equal(r.status, 200);
  return r.json();
}

for (const store of STORES) {
  describe(`dispute evidence to Stripe from the order page, ${store.name} store`, () => {
    let stripe;
    let server;
    let a;

    before(async () => {
      stripe = await startFakeStripe([SELLER_A]);
      server = await startServer(store.args, { ...stripe.env, SWEEP_INTERVAL_SECONDS: '3600' });
      a = mintToken(server.addr, SELLER_A);
    });

    after(async () => {
      const log = server ? server.log() : '';
      if (server) await server.stop();
      if (stripe) await stripe.stop();
      // The platform's Stripe key never reaches a log line.
      assert.ok(!log.includes(stripe.env.STRIPE_API_KEY), 'the Stripe key reached the runner\u2019s log');
    });

    test('read the evidence, add a sentence, Stripe down then retry, save a draft, submit: one file, one submission', async () => {
      // GIVEN a delivered, downloaded order disputed on seller A's account, the dispute on Stripe
      const order = await disputedOrder(server, stripe);
      await order.add();
      const context = await browser.newContext({ viewport: { width: 1280, height: 900 } });
      const page = await context.newPage();
      const dialogs = [];
      page.on('dialog', (d) => { dialogs.push(d.message()); d.accept().catch(() => {}); });
      await page.goto(`${server.base}/dashboard#token=${a.token}`);
      await page.goto(`${server.base}/dashboard/orders/${order.pi}`);

      // WHEN the seller reads what the order proves and what will be sent
      const evidence = page.getByRole('region', { name: 'Evidence' });
      await evidence.getByText('riley.park@example.com').first().waitFor();
      assert.match(await evidence.innerText(), /Mozilla\/5\.0 \(Browser evidence test\)/);
      const disputes = page.getByRole('region', { name: 'Disputes' });
      await disputes.getByText('What will be sent to Stripe').waitFor();
      const willSend = await disputes.locator('.evidence ul').innerText();
      assert.match(willSend, /Customer email: riley\.park@example\.com/);
      assert.match(willSend, /Access log: 1 download with time, IP and browser/);
      assert.match(willSend, /download link emailed/);

      // WHEN they add a sentence and save a draft while Stripe is down (a stored 500, replayed
      // for every retry of that key, as Stripe replays it)
      const statement = page.getByLabel('Your statement (optional)');
      await statement.fill(SENTENCE);
      await stripe.failNext(500, 1);
      await disputes.getByRole('button', { name: 'Save draft to Stripe' }).click();
      // THEN the page says so in words, and nothing is recorded on either side
      const result = disputes.locator('.evidence .result');
      await result.filter({ hasText: /Nothing was saved or sent/ }).waitFor();
      const failedText = await result.innerText();
      assert.match(failedText, /^Stripe refused or failed: An unknown error occurred\. Nothing was saved or sent/);
      assert.ok(await result.evaluate((el) => el.classList.contains('result-bad')));
      // (the failure itself is kept in words for the page, nothing as saved or sent)
      const failed = (await orderJson(server, a.token, order.pi)).disputes[0].evidence;
      assert.ok(failed === null || (failed.saved_at === null && failed.submitted_at === null), JSON.stringify(failed));
      assert.equal((await stripe.dispute(SELLER_A, order.disputeId)).updates, 0);
      assert.equal(await statement.inputValue(), SENTENCE, 'the sentence survives the failure');

      // WHEN they try again
      await disputes.getByRole('button', { name: 'Save draft to Stripe' }).click();
      // THEN the draft is saved, and the page says when
      await disputes.getByText(/^Draft saved to Stripe .*\d/).waitFor({ timeout: 15000 });
      let staged = await stripe.dispute(SELLER_A, order.disputeId);
      assert.equal(staged.status, 'needs_response', 'a draft is not a submission');
      assert.equal(staged.submission_count, 0);
      assert.ok(staged.evidence.uncategorized_text.startsWith(SENTENCE), staged.evidence.uncategorized_text);
      assert.equal(dialogs.length, 0, 'a draft asks nothing');
      if (store.name === 'memory') await screenshot(page, 'order-evidence-draft', [1440]);

      // WHEN they submit and confirm
      await disputes.getByRole('button', { name: 'Submit to Stripe' }).click();
      // THEN Stripe asked once, and the page says when it was submitted; the buttons are gone
      await disputes.getByText(/^Submitted to Stripe .*\d/).waitFor({ timeout: 15000 });
      assert.equal(dialogs.length, 1);
      assert.match(dialogs[0], /cannot be changed/);
      await disputes.getByText('The evidence is with the card issuer').waitFor();
      assert.equal(await disputes.getByRole('button', { name: 'Submit to Stripe' }).count(), 0);

      // THEN the fake Stripe received each document once (the receipt and the delivery email as
      // sent) and one submission, on seller A's account
      const files = await stripe.files();
      assert.equal(files.length, 2, JSON.stringify(files));
      for (const f of files) assert.deepEqual([f.account, f.purpose], [SELLER_A, 'dispute_evidence']);
      staged = await stripe.dispute(SELLER_A, order.disputeId);
      assert.equal(staged.submission_count, 1);
      assert.equal(staged.status, 'under_review');
      assert.equal(staged.updates, 2, 'one draft, one submission');
      // every field named as Stripe names it, the receipt naming the file uploaded on that account
      for (const field of Object.keys(staged.evidence)) assert.ok(STRIPE_EVIDENCE_KEYS.has(field), field);
      for (const field of ['customer_email_address', 'product_description', 'service_date', 'access_activity_log', 'uncategorized_text', 'receipt']) {
        assert.ok(staged.evidence[field], `${field} sent`);
      }
      assert.deepEqual([staged.evidence.receipt, staged.evidence.customer_communication].sort(),
        files.map((f) => f.id).sort());
      assert.equal(staged.evidence.customer_email_address, 'riley.park@example.com');
      // what the storefront and the charge said of the buyer and the store
      assert.equal(staged.evidence.customer_purchase_ip, '203.0.113.77');
      assert.equal(staged.evidence.customer_name, 'Riley Park');
      assert.equal(staged.evidence.billing_address, 'CA 94107, US');
      assert.match(staged.evidence.product_description, /^Film Emulation Presets, sold by Riley Film Lab: /);
      assert.match(staged.evidence.access_activity_log, /Mozilla\/5\.0 \(Browser evidence test\)/);
      const seen = await stripe.requests();
      assert.ok(seen.every((r) => r.account === SELLER_A), JSON.stringify(seen));
      assert.ok(seen.every((r) => r.idempotency_key), 'every POST carries an Idempotency-Key');
      const accepted = seen.filter((r) => r.path.startsWith('/v1/disputes/') && r.status === 200 && !r.replayed);
      assert.equal(accepted.length, 2);
      // and the order records both times, with timeline entries
      const shown = await orderJson(server, a.token, order.pi);
      // the buyer's IP, name and address are evidence only, not in the order's JSON
      for (const secret of ['203.0.113.77', 'Riley Park', '94107']) assert.ok(!JSON.stringify(shown).includes(secret), secret);
      const ev = shown.disputes[0].evidence;
      assert.ok(ev.saved_at && ev.submitted_at, JSON.stringify(ev));
      const kinds = shown.timeline.map((t) => t.kind);
      assert.ok(kinds.includes('evidence_saved') && kinds.includes('evidence_submitted'), kinds.join());

      // WHEN Stripe then tells the platform the dispute is under review, as it does after a
      // submission (charge.dispute.updated through the signed webhook)
      const updated = structuredClone(order.event);
      updated.id = `${order.event.id}_review`;
      updated.type = 'charge.dispute.updated';
      updated.created = Math.floor(Date.now() / 1000);
      updated.data.object.status = 'under_review';
      await deliver(server.base, updated);
      // THEN the open page shows it without a reload, and the dispute no longer asks for the seller
      await disputes.getByText('Under review').first().waitFor({ timeout: 20000 });
      await page.getByText('A dispute needs your response').waitFor({ state: 'detached', timeout: 20000 });
      assert.equal((await stripe.dispute(SELLER_A, order.disputeId)).submission_count, 1, 'still one submission');
      if (store.name === 'memory') await screenshot(page, 'order-evidence-submitted', [1440, 390]);
      await context.close();
    });

    if (store.name === 'dynamodb') {
      test('after Stripe failed, a restarted server (a cold start) files at its first try, each document once', async () => {
        // GIVEN a save that failed for good while Stripe was down (a stored 500 under its key)
        const order = await disputedOrder(server, stripe);
        await order.add();
        await stripe.failNext(500, 1);
        const url = `/orders/${order.pi}/disputes/${order.disputeId}/evidence`;
        const failed = await fetch(`${server.base}${url}`, {
          method: 'POST', headers: { authorization: `Bearer ${a.token}`, 'content-type': 'application/json' },
          body: JSON.stringify({ submit: false, statement: SENTENCE }),
        });
        assert.equal(failed.status, 502);
        const before = await stripe.requests();
        const failedKey = before.at(-1).idempotency_key;
        const filesBefore = (await stripe.files()).length;
        // WHEN the server is restarted on the same table (nothing of it left in memory) and the
        // seller saves the draft again from the page
        await server.stop();
        server = await startServer(store.args, { ...stripe.env, SWEEP_INTERVAL_SECONDS: '3600' });
        const context = await browser.newContext({ viewport: { width: 1280, height: 900 } });
        const page = await context.newPage();
        await page.goto(`${server.base}/dashboard#token=${a.token}`);
        await page.goto(`${server.base}/dashboard/orders/${order.pi}`);
        const disputes = page.getByRole('region', { name: 'Disputes' });
        await page.getByLabel('Your statement (optional)').fill(SENTENCE);
        await disputes.getByRole('button', { name: 'Save draft to Stripe' }).click();
        await disputes.getByText(/^Draft saved to Stripe .*\d/).waitFor({ timeout: 15000 });
        // THEN the new process used a new key from its first request (the order kept the
        // generation): no replay of the stored failure, and each document uploaded once
        const retry = (await stripe.requests()).slice(before.length);
        assert.deepEqual(retry.map((r) => [r.path.split('/')[2], r.status, r.replayed]),
          [['files', 200, false], ['files', 200, false], ['disputes', 200, false]], JSON.stringify(retry));
        assert.notEqual(retry[0].idempotency_key, failedKey);
        assert.equal((await stripe.files()).length, filesBefore + 2);
        await context.close();
      });
    }

    test('a dispute Stripe does not know shows Stripe\u2019s own message, and nothing is recorded', async () => {
      // GIVEN a disputed order whose dispute is not on seller A's Stripe account
      const order = await disputedOrder(server, stripe, { reason: 'fraudulent' });
      const context = await browser.newContext({ viewport: { width: 1280, height: 900 } });
      const page = await context.newPage();
      await page.goto(`${server.base}/dashboard#token=${a.token}`);
      await page.goto(`${server.base}/dashboard/orders/${order.pi}`);
      const disputes = page.getByRole('region', { name: 'Disputes' });
      // WHEN the seller saves a draft
      await disputes.getByRole('button', { name: 'Save draft to Stripe' }).click();
      // THEN Stripe's refusal in words, and the order records nothing
      const result = disputes.locator('.evidence .result');
      await result.filter({ hasText: /No such dispute/ }).waitFor();
      assert.match(await result.innerText(), new RegExp(`^Stripe refused or failed: No such dispute: '${order.disputeId}'`));
      const refused = (await orderJson(server, a.token, order.pi)).disputes[0].evidence;
      assert.ok(refused === null || (refused.saved_at === null && refused.submitted_at === null), JSON.stringify(refused));
      await context.close();
    });
  });
}
