// The seller dashboard in a real browser (Debian's Chromium, driven by playwright-core), against
// leenkies-local with every event delivered through the signed webhook: on the embedded store,
// and on DynamoDB Local when DYNAMODB_ENDPOINT is set (REQUIRE_DYNAMODB=1 makes that mandatory).
//
// Also measured, never asserted as timings: first rows painted with 25 and 100 orders, and the
// page's own weight. Screenshots (1440 × 900 and 390 × 844) of the code under test go to
// SCREENSHOT_DIR (default docs/screenshots: written on every run, so they never go stale).

import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { createRequire } from 'node:module';
import { chromium } from 'playwright-core';
import {
  badToken, deliver, deliverFixtures, disputeEvent, fixture, fixtureNames, fraudWarningEvent, freeCheckoutEvent, HERE,
  mintToken, paymentEvent, ROOT, SELLER_A, SELLER_B, startIssuer, startServer,
} from './support.mjs';

const require = createRequire(import.meta.url);
const AXE = fs.readFileSync(require.resolve('axe-core/axe.min.js'), 'utf8');
const CHROMIUM = process.env.CHROMIUM || '/usr/bin/chromium';
const SHOTS = process.env.SCREENSHOT_DIR || path.join(ROOT, 'docs/screenshots');
const OUT = path.join(HERE, 'out');
const SELLER_C = 'acct_1BrowserPerf00100'; // 100 orders: paging and the measurements
const SELLER_H = 'acct_1BrowserHostile01'; // hostile storefront values
// Persian (with U+200C) and an emoji family (joined by U+200D): must reach the page unchanged.
const PERSIAN_EMOJI = '\u0645\u06cc\u200c\u062e\u0648\u0627\u0647\u0645 \u{1F468}\u200d\u{1F469}\u200d\u{1F467}';
const SELLER_D = 'acct_1BrowserStatus001'; // one order per main status, flags, live mode, a free order
const SELLER_E = 'acct_1BrowserEmpty0001'; // no orders at all
const SELLER_S = 'acct_1BrowserSettings1'; // settings saved through the page
/** The two widths every page is checked at. */
const SIZES = [{ name: 'desktop', width: 1440, height: 900 }, { name: 'phone', width: 390, height: 844 }];

/** The main status by the contract's rule (section 8, amended), written apart from the page's. */
function expectedMain(o) {
  const ds = o.disputes;
  if (ds.some((d) => ['needs_response', 'warning_needs_response'].includes(d.status))) return 'Needs response';
  if (ds.some((d) => ['under_review', 'warning_under_review'].includes(d.status))) return 'Disputed';
  if (o.dispute && o.dispute.status === 'lost') return 'Dispute lost';
  if (o.dispute && o.dispute.status === 'won') return 'Dispute won';
  return STATUS_WORD[o.payment_status];
}

/** Stripe ids, decline codes and SMTP replies: never in a sentence, only inside a disclosure. */
const RAW = /\b(pi|ch|re|du|dp|evt|cs|py|issfr|txn)_[A-Za-z0-9]{6,}|\b\d{3} \d\.\d\.\d\b|smtp;|generic_decline|insufficient_funds|card_declined|needs_response|under_review|<[0-9a-f-]{20,}@/;

/** The text a seller sees on the page, closed disclosures left out (innerText skips them). */
async function visibleText(page) {
  return page.locator('main').innerText();
}

const STORES = [{ name: 'memory', args: [] }];
if (process.env.DYNAMODB_ENDPOINT) {
  STORES.push({ name: 'dynamodb', args: ['--dynamodb-endpoint', process.env.DYNAMODB_ENDPOINT, '--table', `leenkies-browser-${Date.now()}`] });
} else if (process.env.REQUIRE_DYNAMODB) {
  throw new Error('REQUIRE_DYNAMODB is set but DYNAMODB_ENDPOINT is not');
}

const STATUS_WORD = {
  succeeded: 'Succeeded', failed: 'Failed', pending: 'Pending', canceled: 'Canceled',
  refunded: 'Refunded', partially_refunded: 'Partially refunded',
};
const REASON_WORD = {
  insufficient_funds: 'Insufficient funds', card_declined: 'Card declined', expired_card: 'Expired card',
  incorrect_card_details: 'Incorrect card details', fraud_blocked: 'Fraud prevention',
};

let browser;
const measurements = {};

before(async () => {
  browser = await chromium.launch({
    executablePath: CHROMIUM,
    // A fresh profile per launch (playwright makes a temporary user-data-dir).
    args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-background-networking',
      '--disable-component-update', '--disable-sync', '--no-first-run'],
  });
  fs.mkdirSync(SHOTS, { recursive: true });
});

after(async () => {
  if (browser) await browser.close();
  fs.mkdirSync(OUT, { recursive: true });
  fs.writeFileSync(path.join(OUT, 'measurements.json'), `${JSON.stringify(measurements, null, 2)}\n`);
  for (const [store, m] of Object.entries(measurements)) {
    console.log(`measure ${store}: ${JSON.stringify(m)}`);
  }
});

async function api(server, token, p) {
  const r = await fetch(`${server.base}${p}`, { headers: { authorization: `Bearer ${token}` } });
  assert.equal(r.status, 200, `${p}: ${r.status}`);
  return r.json();
}

/** A context that records every request, so the token's reach can be checked. */
async function newContext(server, { width = 1440, height = 900, ...opts } = {}) {
  const context = await browser.newContext({ viewport: { width, height }, ...opts });
  const requests = [];
  context.on('request', (r) => requests.push({ url: r.url(), auth: r.headers().authorization || null }));
  const dialogs = [];
  context.on('page', (p) => p.on('dialog', (d) => { dialogs.push(d.message()); d.dismiss().catch(() => {}); }));
  return { context, requests, dialogs };
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

function rowFor(page, orderId) {
  return page.locator(`tbody tr[data-order-id="${orderId}"]`);
}

for (const store of STORES) {
  describe(`dashboard on the ${store.name} store`, () => {
    let server;
    let a; // seller A's token and sign-in address
    let disputedPi;
    let hostile;
    let longEmailPi;
    const d = {}; // seller D's orders by what they show
    const m = (measurements[store.name] = {});

    before(async () => {
      server = await startServer(store.args);
      // Seller A: the seed's orders, except what the freshness tests deliver later.
      const later = new Set(['ord_1009__02__charge.refunded.json', 'ord_1009__03__refund.created.json',
        'ord_2012__04__charge.dispute.updated.json', 'ord_2012__05__charge.dispute.closed.won.json',
        'ord_2012__06__charge.dispute.funds_reinstated.json']);
      await deliverFixtures(server.base, fixtureNames((n) => !later.has(n)));
      // An open dispute for seller A, due in 5 days.
      const now = Math.floor(Date.now() / 1000);
      const paid = paymentEvent({ account: SELLER_A, email: 'casey.ng@example.com', product: 'Lightroom Presets Vol. 2', amount: 4900, created: now - 20 * 86400 });
      disputedPi = paid.pi;
      await deliver(server.base, paid.event);
      await deliver(server.base, disputeEvent({ account: SELLER_A, pi: paid.pi, amount: 4900, created: now - 2 * 86400 }));
      // Hostile storefront values for seller H.
      const h1 = paymentEvent({ account: SELLER_H, email: `o'hara+"quoted"@example.com`, product: '<img src=x onerror=alert(1)>', created: now - 3600 });
      const h2 = paymentEvent({ account: SELLER_H, email: 'x@example.com', product: '</td><script>window.__pwned=1</script>', created: now - 7200,
        failed: { message: '<b>bold</b><img src=y onerror=alert(2)>', decline_code: 'insufficient_funds' } });
      // A name that reads "Invoice exe.pdf" through a right-to-left override, and names that need
      // the zero-width (non-)joiner to be spelled right: Persian, and an emoji family.
      const h3 = paymentEvent({ account: SELLER_H, email: 'bidi@example.com', product: 'Invoice \u202Efdp.exe', created: now - 10800 });
      const h4 = paymentEvent({ account: SELLER_H, email: 'fa@example.com', product: PERSIAN_EMOJI, created: now - 14400 });
      hostile = { ok: h1.pi, failed: h2.pi, bidi: h3.pi, joined: h4.pi };
      // Seller A: a customer email and product name far longer than a cell.
      const long = paymentEvent({ account: SELLER_A, email: 'maximiliana.vandenberg-oppenheimer.orders@an-extremely-long-domain-example.co.uk',
        product: 'The Complete Cinematic Colour Grading Masterclass Bundle with Every LUT and Preset Ever Made', amount: 12900, created: now - 40 * 86400 });
      longEmailPi = long.pi;
      await deliver(server.base, long.event);
      // Seller D: one order per main status, the flags, a live-mode order and a free one.
      for (const [key, status] of [['needs', 'needs_response'], ['inquiry_open', 'warning_needs_response'], ['review', 'under_review'],
        ['won', 'won'], ['lost', 'lost'], ['inquiry_closed', 'warning_closed'], ['prevented', 'prevented']]) {
        const p = paymentEvent({ account: SELLER_D, email: `${key}@example.com`, product: `Course ${key}`, amount: 3000, created: now - 10 * 86400 });
        d[key] = p.pi;
        await deliver(server.base, p.event);
        await deliver(server.base, disputeEvent({ account: SELLER_D, pi: p.pi, amount: 3000, created: now - 86400, status }));
      }
      const efw = paymentEvent({ account: SELLER_D, email: 'efw@example.com', product: 'Course efw', created: now - 5 * 86400 });
      d.efw = efw.pi;
      await deliver(server.base, efw.event);
      await deliver(server.base, fraudWarningEvent({ account: SELLER_D, pi: efw.pi, created: now - 4 * 86400 }));
      const live = paymentEvent({ account: SELLER_D, email: 'live@example.com', product: 'Course live', created: now - 3 * 86400, livemode: true });
      d.live = live.pi;
      await deliver(server.base, live.event);
      const mailed = paymentEvent({ account: SELLER_D, email: 'ana.souza@example.com.br', product: 'Lightroom Presets Vol. 2', amount: 4900,
        created: now - 6 * 86400, storeName: 'Lumen Presets' });
      d.mailed = mailed.pi;
      await deliver(server.base, mailed.event);
      const free = freeCheckoutEvent({ account: SELLER_D, email: 'free@example.com', product: 'Free sampler', created: now - 2 * 86400 });
      d.free = free.cs;
      await deliver(server.base, free.event);
      await deliver(server.base, h1.event);
      await deliver(server.base, h2.event);
      await deliver(server.base, h3.event);
      await deliver(server.base, h4.event);
      // Seller C: 100 orders, amounts in three kinds of currency.
      for (let i = 0; i < 100; i += 1) {
        const currency = i % 10 === 0 ? 'jpy' : i % 10 === 1 ? 'kwd' : 'eur';
        await deliver(server.base, paymentEvent({ account: SELLER_C, email: `buyer${String(i).padStart(3, '0')}@example.com`, product: `Preset ${i}`,
          amount: currency === 'jpy' ? 1000 : currency === 'kwd' ? 1234560 : 1990, currency, created: now - 86400 * 30 + i * 60 }).event);
      }
      a = mintToken(server.addr, SELLER_A);
    });

    after(async () => {
      if (!server) return;
      // No token in any log line of the runner, whatever happened.
      const log = server.log();
      await server.stop();
      assert.ok(!log.includes(a.token), 'a seller token reached the runner\u2019s log');
      assert.ok(log.includes('/dashboard'), 'the runner prints the dashboard address');
    });

    test('the token subcommand prints a token and the sign-in address', () => {
      assert.match(a.token, /^[\w-]+\.[\w-]+\.[\w-]+$/);
      assert.equal(a.address, `http://${server.addr}/dashboard#token=${a.token}`);
    });

    test('/ redirects to the dashboard; no token gives the sign-in screen, never a broken page', async () => {
      const { context } = await newContext(server);
      const page = await context.newPage();
      const response = await page.goto(`${server.base}/`);
      assert.equal(new URL(page.url()).pathname, '/dashboard');
      const headers = response.headers();
      assert.ok(!headers['content-security-policy'].includes('unsafe-inline'));
      assert.match(headers['content-security-policy'], /frame-ancestors 'none'/);
      assert.equal(headers['referrer-policy'], 'no-referrer');
      await page.getByRole('heading', { name: 'Sign in to your orders' }).waitFor();
      assert.equal(await page.locator('table').count(), 0);
      // An expired token in the address: the sign-in screen says so.
      await page.goto(`${server.base}/dashboard#token=${badToken(SELLER_A, { expired: true })}`);
      await page.getByText('Your session has expired').waitFor();
      assert.equal(new URL(page.url()).hash, '');
      await checkBothWidths(page, 'sign-in', store);
      await context.close();
    });

    test('sign-in from the address; the list shows every order with the contract\u2019s words', async () => {
      const { context, requests } = await newContext(server);
      const page = await context.newPage();
      const t0 = Date.now();
      await page.goto(a.address);
      await page.locator('tbody tr').first().waitFor();
      m.first_rows_wall_ms_seed = Date.now() - t0;
      // The token left the address bar at once, and is kept for the tab.
      assert.equal(new URL(page.url()).hash, '');
      for (const header of ['Date', 'Customer', 'Product', 'Amount', 'Status']) {
        await page.getByRole('columnheader', { name: header }).waitFor();
      }
      const { orders } = await api(server, a.token, '/orders?limit=100');
      assert.equal(await page.locator('tbody tr').count(), orders.length);
      const shown = await page.locator('tbody tr').evaluateAll((trs) => trs.map((tr) => tr.dataset.orderId));
      assert.deepEqual(shown, orders.map((o) => o.order_id), 'newest first, as the API lists them');
      for (const o of orders) {
        const status = rowFor(page, o.order_id).locator('td').nth(4);
        const text = await status.innerText();
        assert.equal(await status.locator('.badge-main').innerText(), expectedMain(o), `${o.order_id}: ${text}`);
        if (o.payment_status === 'failed') assert.ok(text.includes(REASON_WORD[o.failure.category]), `${o.order_id}: ${text}`);
        const href = await rowFor(page, o.order_id).locator('a').first().getAttribute('href');
        assert.equal(href, `/dashboard/orders/${o.order_id}`);
      }
      assert.equal(await rowFor(page, 'pi_3QMpFn8cKdV3nWpT2DksRg19').locator('td').nth(3).innerText(), '$25.00');
      // Another seller's orders never appear.
      assert.equal(await rowFor(page, 'pi_3QL4S94fTqZ2sLxN0OMFqGB5').count(), 0);
      // What needs the seller: the open dispute, with its due date.
      const notice = page.getByRole('region', { name: 'Disputes needing a response' });
      await notice.waitFor();
      assert.match(await notice.innerText(), /1 dispute needs your response[\s\S]*left/);
      assert.equal(await notice.getByRole('link', { name: 'Respond' }).getAttribute('href'), `/dashboard/orders/${disputedPi}`);
      // The token went only to this origin, in a header, never in a URL.
      for (const r of requests) {
        assert.ok(r.url.startsWith(server.base), `request to another origin: ${r.url}`);
        assert.ok(!r.url.includes(a.token.slice(-20)), `token in a URL: ${r.url}`);
      }
      assert.ok(requests.some((r) => r.auth === `Bearer ${a.token}`));
      await checkBothWidths(page, 'list', store);
      await context.close();
    });

    test('search by email (prefix, any case) and the status filter, both bookmarkable', async () => {
      const { context } = await newContext(server);
      const page = await context.newPage();
      await page.goto(a.address);
      await page.locator('tbody tr').first().waitFor();
      const search = page.getByRole('searchbox', { name: /email/i });
      await search.fill('JORDAN.L');
      await page.waitForFunction(() => [...document.querySelectorAll('tbody tr .order-link')].every((l) => l.textContent === 'jordan.lee@example.com')
        && document.querySelectorAll('tbody tr').length === 2);
      assert.equal(new URL(page.url()).searchParams.get('email'), 'JORDAN.L');
      const status = page.getByLabel(/status/i);
      await status.selectOption('failed');
      await page.waitForFunction(() => document.querySelectorAll('tbody tr').length === 1);
      assert.match(await page.locator('tbody tr').innerText(), /Failed/);
      // Bookmark: loading the same address again shows the same view (the token is per tab).
      const bookmark = page.url();
      await page.goto('about:blank');
      await page.goto(bookmark);
      await page.locator('tbody tr').first().waitFor();
      assert.equal(await page.locator('tbody tr').count(), 1);
      assert.equal(await page.getByRole('searchbox', { name: /email/i }).inputValue(), 'JORDAN.L');
      assert.equal(await page.getByLabel(/status/i).inputValue(), 'failed');
      // Disputed is a status too.
      await page.goto(`${server.base}/dashboard?status=disputed`);
      await page.locator('tbody tr').first().waitFor();
      assert.deepEqual(await page.locator('tbody tr').evaluateAll((trs) => trs.map((t) => t.dataset.orderId)), [disputedPi]);
      // No match: a real empty state.
      await page.goto(`${server.base}/dashboard?email=nobody-here`);
      await page.getByRole('heading', { name: 'No orders match' }).waitFor();
      await context.close();
    });

    test('the CSV export downloads orders.csv for the current filter', async () => {
      const { context } = await newContext(server, { acceptDownloads: true });
      const page = await context.newPage();
      await page.goto(a.address);
      await page.goto(`${server.base}/dashboard?status=failed`);
      await page.locator('tbody tr').first().waitFor();
      const rows = await page.locator('tbody tr').count();
      const [download] = await Promise.all([page.waitForEvent('download'), page.getByRole('button', { name: 'Export CSV' }).click()]);
      assert.equal(download.suggestedFilename(), 'orders.csv');
      const csv = fs.readFileSync(await download.path(), 'utf8').trim().split('\n');
      assert.match(csv[0], /order_id/);
      assert.equal(csv.length - 1, rows);
      assert.ok(csv.slice(1).every((l) => l.includes('failed')));
      await context.close();
    });

    test('paging through next_cursor, and amounts by Stripe\u2019s currency table', async () => {
      const { context } = await newContext(server);
      const page = await context.newPage();
      const c = mintToken(server.addr, SELLER_C);
      await page.goto(c.address);
      await page.locator('tbody tr').nth(24).waitFor();
      assert.equal(await page.locator('tbody tr').count(), 25);
      const more = page.getByRole('button', { name: 'Load more orders' });
      for (let n = 50; n <= 100; n += 25) {
        await more.click();
        await page.locator('tbody tr').nth(n - 1).waitFor();
      }
      await page.waitForFunction(() => document.querySelector('.more button').hidden);
      assert.equal(await page.locator('tbody tr').count(), 100);
      const ids = await page.locator('tbody tr').evaluateAll((trs) => trs.map((t) => t.dataset.orderId));
      assert.equal(new Set(ids).size, 100, 'no order twice');
      const text = await page.locator('tbody').innerText();
      assert.ok(text.includes('\u00a51,000'), 'zero-decimal yen');
      assert.ok(text.includes('KWD') && text.includes('1,234.560'), 'three-decimal dinar');
      assert.ok(text.includes('\u20ac19.90'), 'two-decimal euro');
      if (store.name === 'memory') m.api_calls_per_minute_visible_list = (await countCalls(page, 10000)) * 6;
      await context.close();
      // Measured (not asserted): navigation → first rows painted, cold cache, median of 3.
      m.first_rows_painted_ms_25 = await medianPaint(`${server.base}/dashboard#token=${c.token}`, 25);
      m.first_rows_painted_ms_100 = await medianPaint(`${server.base}/dashboard?limit=100#token=${c.token}`, 100);
      m.page_weight_bytes = await pageWeight(`${server.base}/dashboard#token=${c.token}`);
    });

    test('a failed order explains itself; the email is a mailto link and can be copied', async () => {
      const { context } = await newContext(server, { permissions: ['clipboard-read', 'clipboard-write'] });
      const page = await context.newPage();
      await page.goto(a.address);
      const failed = 'pi_3QAGxV8cKdV3nWpT1i3KeUtp';
      await rowFor(page, failed).locator('a').click();
      await page.waitForURL(`**/dashboard/orders/${failed}`);
      const region = page.getByRole('region', { name: 'Why the payment failed' });
      await region.waitFor();
      const words = await region.innerText();
      assert.match(words, /Payment failed: Insufficient funds/);
      assert.match(words, /Nothing was charged/);
      assert.match(words, /Nothing was delivered/);
      assert.match(words, /No action is needed/);
      assert.match(words, /retry with another card/);
      const mail = page.locator('a[href^="mailto:"]');
      const href = decodeURIComponent(await mail.getAttribute('href'));
      assert.ok(href.startsWith('mailto:sam.rivera@example.net?subject='), href);
      assert.match(href, /Maya Sans Font Family/);
      assert.match(href, /2026/);
      await page.getByRole('button', { name: 'Copy customer email' }).click();
      assert.equal(await page.evaluate(() => navigator.clipboard.readText()), 'sam.rivera@example.net');
      await page.getByRole('heading', { name: 'Timeline' }).waitFor();
      await checkBothWidths(page, 'order-failed', store, { raw: true });
      await context.close();
    });

    test('refunds show amount and status; a failed refund says so', async () => {
      const { context } = await newContext(server);
      const page = await context.newPage();
      await page.goto(a.address);
      await page.goto(`${server.base}/dashboard/orders/pi_3QJPMb8cKdV3nWpT0fgBDTNm`);
      const refunds = page.getByRole('region', { name: 'Refunds' });
      await refunds.waitFor();
      assert.match(await refunds.innerText(), /Failed[\s\S]*The refund failed/);
      await page.getByText('A refund failed: the money did not reach the customer').waitFor();
      await context.close();
    });

    test('Resend download link sends the delivery email again (contract section 10)', async () => {
      const { context } = await newContext(server);
      const page = await context.newPage();
      await page.goto(a.address);
      await page.goto(`${server.base}/dashboard/orders/pi_3QMpFn8cKdV3nWpT2DksRg19`);
      const delivery = page.getByRole('region', { name: 'Delivery', exact: true });
      await delivery.getByRole('button', { name: 'Resend download link' }).click();
      await delivery.locator('.result').filter({ hasText: /Sent again|resend/i }).waitFor();
      assert.match(await delivery.locator('.result').innerText(), /^Sent again/);
      await context.close();
    });

    test('a bounced email reads Bounced with SES\u2019s answer and asks the seller to act (contract section 10)', async () => {
      // GIVEN SES reports a bounce for every email of the order (the first and any resend), the
      // way EventBridge delivers it, through leenkies-local's POST /local/ses-events
      const orderId = 'pi_3QMpFn8cKdV3nWpT2DksRg19';
      const order = await api(server, a.token, `/orders/${orderId}`);
      const ids = [order.fulfillment.message_id, ...(order.fulfillment.resends || []).map((r) => r.message_id)].filter(Boolean);
      assert.ok(ids.length > 0, 'the order has sent emails');
      const bounce = JSON.parse(fs.readFileSync(path.join(HERE, '../fixtures/ses/bounce.json'), 'utf8'));
      for (const id of ids) {
        bounce.detail.mail.messageId = id;
        const r = await fetch(`${server.base}/local/ses-events`, {
          method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(bounce),
        });
        assert.equal(r.status, 200, `ses event for ${id}`);
      }
      const bounced = await api(server, a.token, `/orders/${orderId}`);
      assert.equal(bounced.fulfillment.delivery.status, 'bounced');
      assert.ok(bounced.attention.includes('delivery_failed'), JSON.stringify(bounced.attention));
      // WHEN the seller opens the order
      const { context } = await newContext(server);
      const page = await context.newPage();
      await page.goto(a.address);
      await page.goto(`${server.base}/dashboard/orders/${orderId}`);
      // THEN the page says the link did not reach the customer, in words, and what to do
      const notice = page.getByRole('region', { name: 'Delivery failed' });
      await notice.waitFor();
      const words = await notice.innerText();
      assert.match(words, /did not reach the customer/);
      assert.match(words, /bounced/i);
      assert.match(words, /resend the link/);
      const delivery = page.getByRole('region', { name: 'Delivery', exact: true });
      assert.match(await delivery.innerText(), /Bounced/);
      // AND SES's own answer is there, inside the disclosure only
      const disclosure = delivery.locator('details.raw');
      assert.ok((await disclosure.textContent()).includes(bounced.fulfillment.delivery.detail));
      assert.ok(!(await visibleText(page)).includes(bounced.fulfillment.delivery.detail), 'the SMTP reply outside the disclosure');
      // AND the status says it at a glance: a flag beside the main status
      await page.locator('.order-head .badge-flag', { hasText: 'Email bounced' }).waitFor();
      // AND the main action is to send to a corrected address; the same address stays possible
      const to = delivery.getByRole('button', { name: 'Resend to this address' });
      assert.match(await to.getAttribute('class'), /btn-primary/);
      assert.ok(await delivery.getByRole('button', { name: 'Resend to the same address' }).isEnabled());
      await checkBothWidths(page, 'order-bounced', store, { raw: true });
      await disclosure.locator('summary').click();
      assert.ok((await visibleText(page)).includes(bounced.fulfillment.delivery.detail), 'the SMTP reply on demand');
      // WHEN the seller sends it to a mistyped address, THEN nothing is sent and the page says why
      const before = (await api(server, a.token, `/orders/${orderId}`)).fulfillment.resends.length;
      await delivery.getByLabel('Send the link to a corrected address').fill('jordan.lee@@example');
      await to.click();
      await delivery.locator('.result').filter({ hasText: /not one plain email address/ }).waitFor();
      assert.equal((await api(server, a.token, `/orders/${orderId}`)).fulfillment.resends.length, before);
      // WHEN the seller sends it to the address the customer gave
      await delivery.getByLabel('Send the link to a corrected address').fill('jordan.lee@example.org');
      await to.click();
      await delivery.locator('.result').filter({ hasText: 'Sent again to jordan.lee@example.org.' }).waitFor();
      // THEN the new email went there, the order keeps Stripe's address, and the page says so
      const after = await api(server, a.token, `/orders/${orderId}`);
      assert.equal(after.customer_email, 'jordan.lee@example.com');
      assert.equal(after.fulfillment.resends.length, before + 1);
      assert.equal(after.fulfillment.resends.at(-1).recipient, 'jordan.lee@example.org');
      const mails = fs.readdirSync(server.outbox).map((f) => fs.readFileSync(path.join(server.outbox, f), 'utf8'));
      assert.ok(mails.some((m) => /^To: .*jordan\.lee@example\.org/m.test(m)), 'an email to the corrected address');
      await delivery.getByText(/Sent again to jordan\.lee@example\.org on /).waitFor({ timeout: 20000 });
      await page.getByRole('region', { name: 'Timeline' }).locator('.kind', { hasText: /sent again to jordan\.lee@example\.org/ }).waitFor();
      const evidence = await api(server, a.token, `/orders/${orderId}/evidence`);
      assert.ok(JSON.stringify(evidence).includes('jordan.lee@example.org'), 'the evidence names the resend\u2019s recipient');
      await context.close();
    });

    test('a disputed order: status, reason, amount, due date with time left, and the evidence', async () => {
      const { context, requests } = await newContext(server);
      const page = await context.newPage();
      await page.goto(a.address);
      await page.goto(`${server.base}/dashboard/orders/${disputedPi}`);
      const disputes = page.getByRole('region', { name: 'Disputes' });
      await disputes.waitFor();
      // The deadline comes first, above everything else, with a jump to the dispute.
      const deadline = page.getByRole('region', { name: 'Dispute deadline' });
      assert.match(await deadline.innerText(), /Respond by .*\d[\s\S]*5 days \d+ hours? left/);
      const box = await deadline.boundingBox();
      assert.ok(box.y < 200, `the deadline starts at ${box.y}px`);
      await deadline.getByRole('link', { name: 'Go to the dispute' }).click();
      await page.waitForFunction(() => {
        const r = document.querySelector('.dispute').getBoundingClientRect();
        return r.top >= -1 && r.top < window.innerHeight / 2;
      });
      assert.equal(new URL(page.url()).pathname, `/dashboard/orders/${disputedPi}`, 'the jump stays on the page');
      const order = await api(server, a.token, `/orders/${disputedPi}`);
      assert.equal(order.livemode, false);
      assert.equal(await disputes.getByRole('link', { name: /View dispute in Stripe/ }).getAttribute('href'),
        `https://dashboard.stripe.com/${SELLER_A}/test/disputes/${order.dispute.id}`);
      const text = await disputes.innerText();
      assert.match(text, /Needs response/);
      assert.match(text, /Product not received/);
      assert.match(text, /\$49\.00/);
      assert.match(text, /5 days \d+ hours? left/);
      await page.getByRole('region', { name: 'Evidence' }).waitFor();
      await page.getByLabel('Your statement (optional)').fill('Delivered by email; downloaded twice.');
      // Submitting asks first; dismissing sends nothing.
      const before = requests.length;
      await page.getByRole('button', { name: 'Submit to Stripe' }).click();
      await page.waitForTimeout(300);
      assert.ok(!requests.slice(before).some((r) => r.url.includes('/evidence') && r.url.includes('/disputes/')), 'sent without confirmation');
      // Saving a draft answers in words, whatever this server supports.
      await page.getByRole('button', { name: 'Save draft to Stripe' }).click();
      await page.waitForFunction(() => [...document.querySelectorAll('.evidence .result')].some((r) => r.textContent.length > 10
        && !r.textContent.endsWith('\u2026')));
      assert.equal(await page.getByLabel('Your statement (optional)').inputValue(), 'Delivered by email; downloaded twice.');
      await checkBothWidths(page, 'order-disputed', store, { raw: true });
      await context.close();
    });

    test('fresh without a reload: a refund turns the row to Refunded within 10 s', async () => {
      const { context } = await newContext(server);
      const page = await context.newPage();
      await page.goto(a.address);
      const pi = 'pi_3QqekS8cKdV3nWpT1ZAC7TCN';
      await rowFor(page, pi).waitFor();
      assert.match(await rowFor(page, pi).innerText(), /Succeeded/);
      const t0 = Date.now();
      await deliverFixtures(server.base, ['ord_1009__02__charge.refunded.json', 'ord_1009__03__refund.created.json']);
      await page.waitForFunction((id) => /Refunded/.test(document.querySelector(`tbody tr[data-order-id="${id}"]`)?.innerText || ''), pi, { timeout: 20000 });
      m.list_fresh_after_webhook_ms = Date.now() - t0;
      await rowFor(page, pi).locator('a').click();
      await page.getByRole('region', { name: 'Refunds' }).waitFor();
      await page.getByRole('region', { name: 'Timeline' }).getByText(/Refund of \$\d+\.\d\d succeeded/).waitFor();
      await checkBothWidths(page, 'order-refunded', store, { raw: true });
      await context.close();
    });

    test('fresh without a reload: a won dispute shows on an open order page within 10 s', async () => {
      const { context } = await newContext(server);
      const page = await context.newPage();
      const b = mintToken(server.addr, SELLER_B);
      await page.goto(b.address);
      await page.goto(`${server.base}/dashboard/orders/pi_3QL4S94fTqZ2sLxN0OMFqGB5`);
      await page.getByRole('region', { name: 'Disputes' }).getByText('Needs response').first().waitFor();
      const t0 = Date.now();
      await deliverFixtures(server.base, ['ord_2012__04__charge.dispute.updated.json', 'ord_2012__05__charge.dispute.closed.won.json',
        'ord_2012__06__charge.dispute.funds_reinstated.json']);
      await page.getByRole('region', { name: 'Disputes' }).getByText('Won', { exact: true }).waitFor({ timeout: 20000 });
      m.order_fresh_after_webhook_ms = Date.now() - t0;
      await page.getByText('Withdrawn, then returned to you').waitFor();
      await context.close();
    });

    test('one main status with small flags, the same in the list and on the order page', async () => {
      const { context } = await newContext(server);
      const page = await context.newPage();
      const dTok = mintToken(server.addr, SELLER_D);
      await page.goto(dTok.address);
      const { orders } = await api(server, dTok.token, '/orders?limit=100');
      await rowFor(page, d.free).waitFor();
      const byId = Object.fromEntries(orders.map((o) => [o.order_id, o]));
      const main = async (id) => rowFor(page, id).locator('.badge-main').innerText();
      const flagsOf = async (id) => rowFor(page, id).locator('.badge-flag').allInnerTexts();
      for (const o of orders) assert.equal(await main(o.order_id), expectedMain(o), o.order_id);
      assert.equal(await main(d.needs), 'Needs response');
      assert.equal(await main(d.inquiry_open), 'Needs response');
      assert.equal(await main(d.review), 'Disputed');
      assert.equal(await main(d.lost), 'Dispute lost');
      assert.equal(await main(d.won), 'Dispute won');
      // A won dispute never reads as a standing problem; a disputed order is never a bare green Succeeded.
      assert.match(await rowFor(page, d.won).locator('.badge-main').getAttribute('class'), /badge-ok/);
      assert.deepEqual(await flagsOf(d.won), []);
      assert.equal(await main(d.inquiry_closed), 'Succeeded');
      assert.deepEqual(await flagsOf(d.inquiry_closed), ['Inquiry closed']);
      assert.deepEqual(await flagsOf(d.prevented), ['Dispute prevented']);
      assert.deepEqual(await flagsOf(d.efw), ['Fraud warning']);
      assert.equal(byId[d.efw].early_fraud_warning, true);
      // The same words on the order's page.
      await rowFor(page, d.review).click();
      await page.waitForURL(`**/dashboard/orders/${d.review}`);
      assert.equal(await page.locator('.order-head .badge-main').innerText(), 'Disputed');
      await page.goto(`${server.base}/dashboard/orders/${d.efw}`);
      await page.locator('.order-head .badge-flag', { hasText: 'Fraud warning' }).waitFor();
      // The fraud warning says what to do, with the way to do it.
      const facts = page.getByRole('region', { name: 'Order details' });
      assert.match(await facts.innerText(), /refund it in Stripe/);
      await context.close();
    });

    test('links to the payment and the dispute in the seller\u2019s Stripe Dashboard: test/ for test mode, none without a PaymentIntent', async () => {
      const { context } = await newContext(server);
      const page = await context.newPage();
      const dTok = mintToken(server.addr, SELLER_D);
      await page.goto(dTok.address);
      const link = () => page.getByRole('link', { name: /View payment in Stripe/ });
      await page.goto(`${server.base}/dashboard/orders/${d.needs}`);
      assert.equal(await link().getAttribute('href'), `https://dashboard.stripe.com/${SELLER_D}/test/payments/${d.needs}`);
      assert.equal(await link().getAttribute('target'), '_blank');
      const needs = await api(server, dTok.token, `/orders/${d.needs}`);
      assert.equal(needs.livemode, false);
      assert.equal(await page.getByRole('link', { name: /View dispute in Stripe/ }).getAttribute('href'),
        `https://dashboard.stripe.com/${SELLER_D}/test/disputes/${needs.dispute.id}`);
      await page.goto(`${server.base}/dashboard/orders/${d.live}`);
      assert.equal(await link().getAttribute('href'), `https://dashboard.stripe.com/${SELLER_D}/payments/${d.live}`);
      assert.equal((await api(server, dTok.token, `/orders/${d.live}`)).livemode, true);
      await page.goto(`${server.base}/dashboard/orders/${d.free}`);
      await page.getByRole('heading', { level: 1, name: 'Free sampler' }).waitFor();
      assert.equal(await page.locator('a[href^="https://dashboard.stripe.com/"]').count(), 0, 'no Stripe link for a cs_ order');
      await context.close();
    });

    test('the whole row opens the order; long text is cut on one line, in full on hover', async () => {
      const { context } = await newContext(server);
      const page = await context.newPage();
      await page.goto(a.address);
      const long = await api(server, a.token, `/orders/${longEmailPi}`);
      for (const size of SIZES) {
        await page.setViewportSize({ width: size.width, height: size.height });
        const r = rowFor(page, longEmailPi);
        await r.waitFor();
        const email = r.locator('.order-link');
        assert.equal(await email.getAttribute('title'), long.customer_email);
        const cut = await email.evaluate((el) => ({
          ellipsis: getComputedStyle(el).textOverflow, over: el.scrollWidth > el.clientWidth,
          lines: Math.round(el.getBoundingClientRect().height / parseFloat(getComputedStyle(el).lineHeight)),
        }));
        assert.deepEqual(cut, { ellipsis: 'ellipsis', over: true, lines: 1 }, `email at ${size.name}`);
        const product = r.locator('.c-product .cell');
        assert.equal(await product.getAttribute('title'), long.product_name);
        assert.equal(await product.evaluate((el) => getComputedStyle(el).whiteSpace), 'nowrap');
        // Every row of the list stays one line per cell: no row taller than its neighbours.
        const heights = await page.locator('tbody tr').evaluateAll((trs) => trs.map((t) => Math.round(t.getBoundingClientRect().height)));
        assert.ok(Math.max(...heights) - Math.min(...heights) <= 2, `${size.name} row heights ${heights}`);
      }
      // A click on the product (not the link) opens the order.
      await page.setViewportSize({ width: 1440, height: 900 });
      await rowFor(page, longEmailPi).locator('.c-product').click();
      await page.waitForURL(`**/dashboard/orders/${longEmailPi}`);
      await page.getByRole('heading', { level: 1, name: long.product_name }).waitFor();
      await context.close();
    });

    test('the list comes first: at most a third of the first screen before the first order, at both widths', async () => {
      const { context } = await newContext(server);
      const page = await context.newPage();
      await page.goto(a.address);
      await page.getByRole('region', { name: 'Disputes needing a response' }).waitFor();
      for (const size of SIZES) {
        await page.setViewportSize({ width: size.width, height: size.height });
        await page.waitForTimeout(100);
        const top = await page.locator('tbody tr').first().evaluate((el) => el.getBoundingClientRect().top);
        m[`first_order_top_px_${size.name}`] = Math.round(top);
        assert.ok(top <= size.height / 3, `${size.name}: the first order starts at ${top}px of ${size.height}`);
        // Each notice is one line with its action.
        for (const n of await page.locator('.notice-line').all()) {
          const h = await n.evaluate((el) => el.getBoundingClientRect().height);
          assert.ok(h < 44, `${size.name}: a notice ${h}px high`);
        }
        // The first button on a phone is not a full-width Export CSV.
        const exportWidth = await page.getByRole('button', { name: 'Export CSV' }).evaluate((el) => el.getBoundingClientRect().width);
        assert.ok(exportWidth < size.width / 2, `Export CSV is ${exportWidth}px wide`);
      }
      // A search is not the place for the notices.
      await page.goto(`${server.base}/dashboard?status=failed`);
      await page.locator('tbody tr').first().waitFor();
      assert.equal(await page.locator('.notice-line').filter({ visible: true }).count(), 0);
      await context.close();
    });

    test('dates and numbers follow the browser\u2019s language, and times name the zone', async () => {
      const { context } = await newContext(server, { locale: 'de-DE', timezoneId: 'Asia/Tokyo' });
      const page = await context.newPage();
      await page.goto(a.address);
      const id = 'pi_3QMpFn8cKdV3nWpT2DksRg19';
      await rowFor(page, id).waitFor();
      const o = await api(server, a.token, `/orders/${id}`);
      const want = new Intl.DateTimeFormat('de-DE', {
        year: 'numeric', month: 'short', day: 'numeric', hour: 'numeric', minute: '2-digit', timeZoneName: 'short', timeZone: 'Asia/Tokyo',
      }).format(new Date(o.created_at));
      assert.equal(await rowFor(page, id).locator('.c-date .cell').getAttribute('title'), want);
      assert.match(want, /GMT\+9|JST/);
      assert.equal(await rowFor(page, id).locator('.c-amount').innerText(), '25,00\u00a0$');
      await context.close();
    });

    test('an error shows at the top of the list with Retry; "nothing found" too; an empty store says what to expect', async () => {
      const { context } = await newContext(server);
      const page = await context.newPage();
      // GIVEN the orders API fails (a server error) for the list
      let failing = true;
      const isList = (url) => url.pathname === '/orders';
      await page.route(isList, (route) => (failing
        ? route.fulfill({ status: 500, contentType: 'application/json', body: '{"error":{"code":"internal","message":"boom"}}' })
        : route.continue()));
      await page.goto(a.address);
      // THEN the error is at the top, in words, with Retry, at both widths
      const alert = page.locator('#list-message [role="alert"]');
      await alert.waitFor();
      assert.match(await alert.innerText(), /server had a problem \(500\)/);
      for (const size of SIZES) {
        await page.setViewportSize({ width: size.width, height: size.height });
        const top = await alert.evaluate((el) => el.getBoundingClientRect().top);
        assert.ok(top < size.height / 3, `${size.name}: the error starts at ${top}px`);
      }
      await page.setViewportSize({ width: 1440, height: 900 });
      await checkBothWidths(page, 'error', store);
      failing = false;
      // WHEN the seller retries, THEN the orders show and the error is gone
      await alert.getByRole('button', { name: 'Retry' }).click();
      await page.locator('tbody tr').first().waitFor();
      assert.equal(await alert.count(), 0);
      // Nothing found: at the top too, with a way back.
      await page.goto(`${server.base}/dashboard?email=nobody-here`);
      const empty = page.locator('#list-message').getByRole('heading', { name: 'No orders match' });
      await empty.waitFor();
      assert.ok((await empty.boundingBox()).y < 300);
      // An empty store.
      const e = mintToken(server.addr, SELLER_E);
      await page.goto(e.address);
      await page.getByRole('heading', { name: 'No orders yet' }).waitFor();
      await checkBothWidths(page, 'empty', store);
      await context.close();
    });

    test('the customer\u2019s delivery email reads like a receipt, at both widths, in Chromium', async () => {
      // GIVEN the email the runner sent for a paid order of a named store (the outbox file)
      const file = await waitForEmail(server.outbox, d.mailed);
      const { html, text } = mimeParts(fs.readFileSync(path.join(server.outbox, file), 'utf8'));
      // THEN the text part says the same as the HTML part, the store's name first
      assert.ok(text.startsWith('Lumen Presets\n'), text);
      for (const words of ['Lightroom Presets Vol. 2', 'Bought on ', 'Download your file', '/downloads/', 'If the link does not work', 'Order reference']) {
        assert.ok(text.includes(words), `${words} in the text part`);
        assert.ok(html.includes(words), `${words} in the HTML part`);
      }
      // WHEN the HTML part is rendered as a mail client would (no scripts, no network)
      const context = await browser.newContext({ javaScriptEnabled: true, offline: true });
      const page = await context.newPage();
      await page.setContent(html);
      // THEN the store comes first, one clear button, the link as text too
      const firstLine = await page.locator('main p').first().innerText();
      assert.equal(firstLine, 'Lumen Presets');
      const button = page.getByRole('link', { name: 'Download your file' });
      assert.equal(await button.count(), 1);
      const href = await button.getAttribute('href');
      assert.match(href, /\/downloads\//);
      await page.getByText(href, { exact: true }).waitFor();
      assert.match(await page.locator('main').innerText(), /Bought on [A-Z][a-z]+ \d{1,2}, \d{4}/);
      for (const size of SIZES) {
        await page.setViewportSize({ width: size.width, height: size.height });
        const overflow = await page.evaluate(() => document.documentElement.scrollWidth - window.innerWidth);
        assert.ok(overflow <= 0, `${size.name}: the email scrolls sideways by ${overflow}px`);
        if (store.name !== 'memory') continue;
        await axeCheck(page, `delivery email at ${size.name}`);
        await page.screenshot({ path: path.join(SHOTS, `email-${size.name}.png`), fullPage: true });
      }
      await context.close();
    });

    test('the Settings page reads and saves every field of GET/PUT /settings', async () => {
      const { context } = await newContext(server);
      const page = await context.newPage();
      const s = mintToken(server.addr, SELLER_S);
      await page.goto(s.address);
      await page.getByRole('link', { name: 'Settings' }).click();
      await page.waitForURL('**/dashboard/settings');
      // GIVEN nothing saved: the defaults of contract section 11
      const save = page.getByRole('button', { name: 'Save settings' });
      await save.waitFor();
      assert.ok(await page.getByRole('radio', { name: /When the evidence is strong/ }).isChecked());
      assert.equal(await page.getByLabel('Hours before the deadline').inputValue(), '48');
      assert.ok(await page.getByRole('radio', { name: /No, I decide/ }).isChecked());
      assert.equal(await page.getByLabel('Send notifications to').inputValue(), '');
      for (const box of await page.getByRole('checkbox').all()) assert.ok(await box.isChecked());
      await checkBothWidths(page, 'settings', store);
      // WHEN the seller changes every field and saves
      await page.getByRole('radio', { name: /^Always/ }).check();
      await page.getByLabel('Hours before the deadline').fill('72');
      await page.getByLabel('Refund policy text').fill('Full refund within 14 days if the files were not downloaded.');
      await page.getByLabel('How the customer saw the policy').fill('Shown next to the Buy button.');
      await page.getByRole('radio', { name: /never downloaded/ }).check();
      await page.getByLabel('Send notifications to').fill('owner@lumen.example');
      await page.getByRole('checkbox', { name: /Failed payments suggest/ }).uncheck();
      await save.click();
      await page.locator('.settings .result', { hasText: /^Saved/ }).waitFor();
      // THEN the API holds exactly that
      const saved = await api(server, s.token, '/settings');
      assert.deepEqual(saved, {
        dispute_auto_submit: 'always', dispute_auto_submit_hours: 72,
        refund_policy: 'Full refund within 14 days if the files were not downloaded.',
        refund_policy_disclosure: 'Shown next to the Buy button.', efw_auto_refund: 'not_downloaded',
        notify_email: 'owner@lumen.example',
        notify: { dispute: true, delivery_failed: true, failure_pattern: false, early_fraud_warning: true },
      });
      // AND a reload shows it
      await page.reload();
      await save.waitFor();
      assert.ok(await page.getByRole('radio', { name: /^Always/ }).isChecked());
      assert.equal(await page.getByLabel('Hours before the deadline').inputValue(), '72');
      // WHEN a value is out of range or refused by the server, THEN nothing is saved and the page says which
      await page.getByLabel('Hours before the deadline').fill('200');
      await save.click();
      await page.locator('.settings .result', { hasText: /24 to 168/ }).waitFor();
      await page.getByLabel('Hours before the deadline').fill('72');
      await page.getByLabel('Send notifications to').fill('not an address');
      await save.click();
      await page.locator('.settings .result', { hasText: /^Not saved: .*notify_email/ }).waitFor();
      assert.deepEqual(await api(server, s.token, '/settings'), saved);
      await context.close();
    });

    test('a 401 from the API returns the page to sign-in', async () => {
      const { context } = await newContext(server);
      const page = await context.newPage();
      await page.goto(a.address);
      await page.locator('tbody tr').first().waitFor();
      // The token stops being accepted (here: replaced by one signed with another key).
      await page.evaluate((t) => sessionStorage.setItem('leenkies.token', t), badToken(SELLER_A));
      await page.getByRole('heading', { name: 'Sign in to your orders' }).waitFor({ timeout: 20000 });
      assert.equal(await page.locator('table').count(), 0);
      assert.equal(await page.evaluate(() => sessionStorage.getItem('leenkies.token')), null);
      await context.close();
    });

    test('hostile storefront values render as text, never as markup', async () => {
      const { context, dialogs } = await newContext(server);
      const page = await context.newPage();
      const hTok = mintToken(server.addr, SELLER_H);
      await page.goto(hTok.address);
      await rowFor(page, hostile.ok).waitFor();
      assert.equal(await rowFor(page, hostile.ok).locator('td').nth(2).innerText(), '<img src=x onerror=alert(1)>');
      assert.equal(await rowFor(page, hostile.ok).locator('a').innerText(), `o'hara+"quoted"@example.com`);
      assert.equal(await rowFor(page, hostile.failed).locator('td').nth(2).innerText(), '</td><script>window.__pwned=1</script>');
      // The override is gone and each value is isolated (dir="auto"); joiners are kept.
      const bidiCell = rowFor(page, hostile.bidi).locator('td').nth(2);
      assert.equal(await bidiCell.innerText(), 'Invoice fdp.exe');
      // The element that holds the product's text (the cell's one-line span) is the isolate.
      assert.equal(await bidiCell.evaluate((td) => {
        const text = document.createTreeWalker(td, NodeFilter.SHOW_TEXT).nextNode();
        return text.parentElement.closest('[dir]')?.getAttribute('dir');
      }), 'auto');
      assert.equal(await rowFor(page, hostile.joined).locator('td').nth(2).innerText(), PERSIAN_EMOJI);
      await page.goto(`${server.base}/dashboard/orders/${hostile.failed}`);
      await page.getByRole('region', { name: 'Why the payment failed' }).getByText('<b>bold</b><img src=y onerror=alert(2)>').first().waitFor();
      await page.goto(`${server.base}/dashboard/orders/${hostile.ok}`);
      await page.getByRole('heading', { level: 1, name: '<img src=x onerror=alert(1)>' }).waitFor();
      const mail = await page.locator('a[href^="mailto:"]').getAttribute('href');
      assert.equal(decodeURIComponent(mail.split('?')[0]), `mailto:o'hara+"quoted"@example.com`);
      await page.waitForTimeout(200);
      assert.equal(await page.locator('img[src="x"], img[src="y"], b').count(), 0);
      assert.equal(await page.evaluate(() => window.__pwned), undefined);
      assert.deepEqual(dialogs, []);
      await context.close();
    });
  });
}

describe('leenkies-local --demo: a sample store a newcomer sees at once (memory store)', () => {
  test('the printed sign-in address opens a store with every state the page has', async () => {
    // GIVEN the runner started with --demo
    const server = await startServer(['--demo']);
    try {
      // THEN it printed the sample store's sign-in address
      let address = null;
      for (let i = 0; i < 100 && !address; i += 1) {
        address = server.log().match(/sign in at (http:\/\/\S+\/dashboard#token=\S+)/);
        if (!address) await new Promise((r) => setTimeout(r, 50));
      }
      assert.ok(address, server.log().split('\n').filter((l) => !l.startsWith('{')).join('\n'));
      // WHEN a newcomer opens it
      const { context } = await newContext(server);
      const page = await context.newPage();
      await page.goto(address[1]);
      await page.locator('tbody tr').nth(24).waitFor();
      for (let n = 50; n <= 75; n += 25) {
        await page.getByRole('button', { name: 'Load more orders' }).click();
        await page.locator('tbody tr').nth(Math.min(n, 60) - 1).waitFor();
      }
      await page.waitForFunction(() => document.querySelector('.more button').hidden);
      assert.equal(await page.locator('tbody tr').count(), 60, 'dozens of orders');
      // THEN dozens of orders, every main status, each failure reason, the flags, several currencies
      const text = await page.locator('tbody').innerText();
      for (const words of ['Succeeded', 'Failed', 'Refunded', 'Partially refunded', 'Needs response', 'Dispute won', 'Dispute lost',
        'Refund failed', 'Fraud warning', ...Object.values(REASON_WORD)]) {
        assert.ok(text.includes(words), `the sample shows ${words}`);
      }
      for (const money of [/\$\d/, /\u20ac\d/, /\u00a3\d/, /R\$/, /\u00a5\d/, /KWD/]) assert.match(text, money);
      // AND the bounce reached its order (SES's event after the email went out)
      await page.waitForFunction(() => document.querySelector('tbody').innerText.includes('Email bounced'), null, { timeout: 20000 });
      // AND the notices point at what needs the seller
      await page.getByRole('region', { name: 'Disputes needing a response' }).waitFor();
      await page.evaluate(() => window.scrollTo(0, 0));
      await checkBothWidths(page, 'demo-list', { name: 'memory' });
      await context.close();
    } finally {
      await server.stop();
    }
  });
});

describe('sign-in with OAuth 2.0 + PKCE against a stand-in issuer (memory store)', () => {
  test('Sign in → issuer → callback: the code and token leave the address, the list shows', async () => {
    const issuer = await startIssuer({ clientId: 'dashboard-client', seller: SELLER_A });
    const server = await startServer([], {
      DASHBOARD_OAUTH_AUTHORIZE_URL: `${issuer.base}/authorize`,
      DASHBOARD_OAUTH_TOKEN_URL: `${issuer.base}/token`,
      DASHBOARD_OAUTH_CLIENT_ID: 'dashboard-client',
      DASHBOARD_OAUTH_SCOPES: 'openid email',
    });
    try {
      await deliver(server.base, fixture('ord_1001__01__payment_intent.succeeded.json'));
      const { context, requests } = await newContext(server);
      const page = await context.newPage();
      const response = await page.goto(`${server.base}/dashboard?status=succeeded`);
      assert.match(response.headers()['content-security-policy'], new RegExp(`connect-src 'self' ${issuer.base};`));
      await page.getByRole('button', { name: 'Sign in', exact: true }).click();
      await page.locator('tbody tr').first().waitFor();
      // Back where the seller started, with nothing of the exchange left in the address.
      const url = new URL(page.url());
      assert.equal(url.pathname, '/dashboard');
      assert.equal(url.search, '?status=succeeded');
      assert.equal(url.hash, '');
      assert.equal(issuer.seen.authorize[0].redirect_uri, `${server.base}/dashboard/callback`);
      assert.equal(issuer.seen.authorize[0].scope, 'openid email');
      assert.equal(issuer.seen.token.length, 1);
      // The bearer went to the API only; the issuer got the code, never the token.
      for (const r of requests.filter((x) => x.auth)) assert.ok(r.url.startsWith(server.base), r.url);
      await context.close();
    } finally {
      await server.stop();
      await issuer.close();
    }
  });
});

/**
 * The page at 1440 × 900 and 390 × 844: axe-core finds no critical or serious violation, no code
 * or id shows outside a disclosure (`raw`), and on the memory store the screenshots of the code
 * under test are written (the first screen and the whole page).
 */
async function checkBothWidths(page, name, store, { raw = false } = {}) {
  await page.evaluate(() => document.getElementById('toast').classList.remove('show'));
  for (const size of SIZES) {
    await page.setViewportSize({ width: size.width, height: size.height });
    await page.waitForTimeout(150);
    if (raw) {
      const text = await visibleText(page);
      const found = text.match(RAW);
      assert.equal(found, null, `${name} at ${size.name}: a code or id outside a disclosure: ${found && found[0]}`);
    }
    if (store.name !== 'memory') continue;
    await axeCheck(page, `${name} at ${size.name}`);
    await page.screenshot({ path: path.join(SHOTS, `${name}-${size.name}.png`), fullPage: true });
  }
  await page.setViewportSize({ width: 1440, height: 900 });
}

/** The outbox file of `orderId`'s first email, once the runner wrote it. */
async function waitForEmail(outbox, orderId) {
  for (let i = 0; i < 100; i += 1) {
    const found = fs.readdirSync(outbox).filter((f) => f.endsWith(`-${orderId}.eml`)).sort();
    if (found.length > 0) return found[0];
    await new Promise((r) => setTimeout(r, 100));
  }
  throw new Error(`no email for ${orderId} in ${outbox}`);
}

/** The text and HTML parts of a multipart/alternative message (8bit, as the outbox writes it). */
function mimeParts(eml) {
  const boundary = eml.match(/boundary="([^"]+)"/)[1];
  const parts = eml.split(`--${boundary}`).slice(1, -1);
  const body = (type) => {
    const part = parts.find((p) => new RegExp(`Content-Type: ${type}`, 'i').test(p));
    return part.slice(part.indexOf('\r\n\r\n') + 4).replace(/\r\n/g, '\n').replace(/\n$/, '');
  };
  return { text: body('text/plain'), html: body('text/html') };
}

async function medianPaint(address, rows) {
  const times = [];
  for (let i = 0; i < 3; i += 1) {
    const context = await browser.newContext({ viewport: { width: 1280, height: 900 } });
    const page = await context.newPage();
    await page.goto(address);
    await page.locator('tbody tr').nth(rows - 1).waitFor();
    await page.waitForFunction(() => performance.getEntriesByName('leenkies:rows-painted').length > 0);
    times.push(await page.evaluate(() => performance.getEntriesByName('leenkies:rows-painted')[0].startTime));
    await context.close();
  }
  return Math.round(times.sort((x, y) => x - y)[1]);
}

/** The page's own bytes as served to a cold cache: the HTML, its CSS, modules and icon. */
async function pageWeight(address) {
  const context = await browser.newContext();
  const page = await context.newPage();
  const bodies = [];
  page.on('response', (r) => {
    const p = new URL(r.url()).pathname;
    if (p === '/dashboard' || p.startsWith('/dashboard/assets/')) bodies.push(r.body().then((b) => b.length));
  });
  await page.goto(address);
  await page.locator('tbody tr').first().waitFor();
  const sizes = await Promise.all(bodies);
  await context.close();
  return { total: sizes.reduce((x, y) => x + y, 0), files: sizes.length };
}

/** API calls the open page makes in `ms` (the cost of freshness per tab). */
async function countCalls(page, ms) {
  let n = 0;
  const count = (r) => {
    const u = new URL(r.url());
    if (u.pathname.startsWith('/orders') || u.pathname.startsWith('/stats')) n += 1;
  };
  page.on('request', count);
  await page.waitForTimeout(ms);
  page.off('request', count);
  return n;
}
