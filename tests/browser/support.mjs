// Helpers for the browser tests: start leenkies-local, deliver Stripe events through the signed
// webhook (signed here with Node's own HMAC, independent of the Rust signer), mint tokens with the
// binary's `token` subcommand, and build synthetic events from the shared fixtures.

import { spawn, execFileSync } from 'node:child_process';
import crypto from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

export const HERE = path.dirname(fileURLToPath(import.meta.url));
export const ROOT = path.resolve(HERE, '../..');
export const BIN = process.env.LEENKIES_BIN || path.join(ROOT, 'target/debug/leenkies-local');
export const SHARED = process.env.LEENKIES_SHARED || path.join(ROOT, '../shared');
export const EVENTS = path.join(SHARED, 'fixtures/stripe/events');
export const WEBHOOK_SECRET = 'whsec_browser_tests_only';
export const JWT_SECRET = 'browser-tests-jwt-secret-not-the-dev-one';

export const SELLER_A = 'acct_1QHx4R8cKdV3nWpT';
export const SELLER_B = 'acct_1QJm7E4fTqZ2sLxN';

function env() {
  return { ...process.env, STRIPE_WEBHOOK_SECRET: WEBHOOK_SECRET, LEENKIES_JWT_SECRET: JWT_SECRET, RUST_LOG: 'info' };
}

/** Starts the runner on a free port; resolves once it prints `listening on`. */
export async function startServer(storeArgs, extraEnv = {}) {
  const outbox = fs.mkdtempSync(path.join(os.tmpdir(), 'leenkies-browser-outbox-'));
  const child = spawn(BIN, ['--addr', '127.0.0.1:0', '--outbox', outbox, ...storeArgs], {
    env: { ...env(), ...extraEnv }, stdio: ['ignore', 'pipe', 'pipe'],
  });
  let log = '';
  const collect = (d) => { log += d.toString(); };
  child.stdout.on('data', collect);
  child.stderr.on('data', collect);
  const addr = await new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`leenkies-local did not start:\n${log}`)), 60000);
    const check = () => {
      const m = log.match(/listening on http:\/\/(\S+)/);
      if (m) { clearTimeout(timer); resolve(m[1]); }
    };
    child.stdout.on('data', check);
    child.on('exit', (code) => { clearTimeout(timer); reject(new Error(`leenkies-local exited ${code}:\n${log}`)); });
  });
  return {
    addr,
    base: `http://${addr}`,
    outbox,
    log: () => log,
    async stop() {
      if (child.exitCode === null) {
        child.kill('SIGTERM');
        await new Promise((r) => { child.once('exit', r); setTimeout(r, 5000); });
      }
      fs.rmSync(outbox, { recursive: true, force: true });
    },
  };
}

export const FAKE_STRIPE_BIN = process.env.FAKE_STRIPE_BIN || path.join(path.dirname(BIN), 'fake-stripe');
/** The key the fake Stripe accepts (`FAKE_STRIPE_KEY` in tests/support/fake_stripe.rs). */
export const FAKE_STRIPE_KEY = 'sk_test_leenkies_fake_platform_key';

/**
 * Starts the fake Stripe API (`tests/bin/fake_stripe.rs`) with the given connected accounts.
 * `env` is what leenkies-local needs to call it; `control` reads what it received and scripts it.
 */
export async function startFakeStripe(accounts) {
  const args = accounts.flatMap((a) => ['--account', a]);
  const child = spawn(FAKE_STRIPE_BIN, args, { env: process.env, stdio: ['ignore', 'pipe', 'pipe'] });
  let log = '';
  child.stdout.on('data', (d) => { log += d.toString(); });
  child.stderr.on('data', (d) => { log += d.toString(); });
  const [base, control] = await new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`fake-stripe did not start:\n${log}`)), 30000);
    const check = () => {
      const api = log.match(/listening on (http:\/\/\S+)/);
      const ctl = log.match(/control on (http:\/\/\S+)/);
      if (api && ctl) { clearTimeout(timer); resolve([api[1], ctl[1]]); }
    };
    child.stdout.on('data', check);
    child.on('exit', (code) => { clearTimeout(timer); reject(new Error(`fake-stripe exited ${code}:\n${log}`)); });
  });
  const call = async (method, p, body) => {
    const r = await fetch(`${control}${p}`, {
      method, headers: body ? { 'content-type': 'application/json' } : {}, body: body ? JSON.stringify(body) : undefined,
    });
    if (!r.ok) throw new Error(`fake-stripe ${method} ${p}: ${r.status}`);
    return r.status === 204 ? null : r.json();
  };
  return {
    base,
    env: { STRIPE_API_KEY: FAKE_STRIPE_KEY, STRIPE_API_BASE: base, STRIPE_FILES_BASE: base },
    addDispute: (account, id, status = 'needs_response') => call('POST', '/_fake/disputes', { account, id, status }),
    failNext: (status, n) => call('POST', '/_fake/fail', { status, n }),
    addCharge: (account, id, amount) => call('POST', '/_fake/charges', { account, id, amount }),
    refunds: () => call('GET', '/_fake/refunds'),
    requests: () => call('GET', '/_fake/requests'),
    files: () => call('GET', '/_fake/files'),
    dispute: async (account, id) => {
      const r = await fetch(`${control}/_fake/disputes/${encodeURIComponent(account)}/${encodeURIComponent(id)}`);
      return r.status === 404 ? null : r.json();
    },
    async stop() {
      if (child.exitCode === null) {
        child.kill('SIGTERM');
        await new Promise((r) => { child.once('exit', r); setTimeout(r, 5000); });
      }
    },
  };
}

/** `leenkies-local token --seller …`: [token, sign-in address]. */
export function mintToken(addr, seller, ttl) {
  const args = ['--addr', addr, 'token', '--seller', seller];
  if (ttl) args.push('--ttl', String(ttl));
  const out = execFileSync(BIN, args, { env: env(), stdio: ['ignore', 'pipe', 'pipe'] }).toString();
  const [token, address] = out.trim().split('\n');
  return { token, address };
}

/** An HS256 token signed with another key, or already expired: the API must refuse it. */
export function badToken(seller, { expired = false } = {}) {
  const b64 = (o) => Buffer.from(JSON.stringify(o)).toString('base64url');
  const now = Math.floor(Date.now() / 1000);
  const body = `${b64({ alg: 'HS256', typ: 'JWT' })}.${b64({ sub: seller, exp: expired ? now - 600 : now + 3600 })}`;
  const key = expired ? JWT_SECRET : 'some-other-key';
  return `${body}.${crypto.createHmac('sha256', key).update(body).digest('base64url')}`;
}

/** Posts one event body (exact bytes) with a valid Stripe-Signature. */
export async function deliver(base, body) {
  const bytes = typeof body === 'string' ? body : JSON.stringify(body);
  const t = Math.floor(Date.now() / 1000);
  const v1 = crypto.createHmac('sha256', WEBHOOK_SECRET).update(`${t}.${bytes}`).digest('hex');
  const r = await fetch(`${base}/webhooks/stripe`, {
    method: 'POST', headers: { 'content-type': 'application/json', 'stripe-signature': `t=${t},v1=${v1}` }, body: bytes,
  });
  if (r.status !== 200) throw new Error(`webhook answered ${r.status}: ${await r.text()}`);
}

export function fixture(name) {
  return fs.readFileSync(path.join(EVENTS, name), 'utf8');
}

export async function deliverFixtures(base, names) {
  for (const n of names) await deliver(base, fixture(n));
}

export function fixtureNames(filter = () => true) {
  return fs.readdirSync(EVENTS).filter((n) => n.startsWith('ord_') && n.endsWith('.json')).sort().filter(filter);
}

let counter = 0;
function id(prefix) {
  counter += 1;
  return `${prefix}${crypto.randomBytes(6).toString('hex')}${String(counter).padStart(4, '0')}`;
}

/** A `payment_intent.succeeded` (or `.payment_failed`) from the fixture, with new ids and values. */
export function paymentEvent({ account, email, product, amount = 2500, currency = 'usd', created, failed = null, livemode = false, storeName = null }) {
  const e = JSON.parse(fixture(failed ? 'ord_1003__01__payment_intent.payment_failed.json' : 'ord_1001__01__payment_intent.succeeded.json'));
  const pi = id('pi_3Test');
  e.id = id('evt_3Test');
  e.account = account;
  e.created = created + 5;
  e.livemode = livemode;
  const o = e.data.object;
  o.id = pi;
  o.amount = amount;
  o.currency = currency;
  o.created = created;
  o.receipt_email = email;
  o.metadata = { ...o.metadata, product_id: 'prod_test', product_name: product, order_id: id('ord_') };
  if (storeName) o.metadata.store_name = storeName;
  o.latest_charge = id('ch_3Test');
  if (failed) {
    o.last_payment_error = { ...o.last_payment_error, ...failed, charge: o.latest_charge };
  }
  return { pi, event: e };
}

/** A `charge.dispute.created` for `pi`, due in `dueInDays`. */
export function disputeEvent({ account, pi, amount = 2500, created, dueInDays = 5, status = 'needs_response', livemode = false }) {
  const e = JSON.parse(fixture('ord_2012__02__charge.dispute.created.json'));
  e.id = id('evt_3Dsp');
  e.account = account;
  e.created = created;
  e.livemode = livemode;
  const o = e.data.object;
  o.id = id('dp_1Test');
  o.payment_intent = pi;
  o.charge = id('ch_3Dsp');
  o.amount = amount;
  o.created = created;
  o.status = status;
  o.evidence_details = { ...o.evidence_details, due_by: Math.floor(Date.now() / 1000) + dueInDays * 86400 + 3 * 3600 };
  return e;
}

/**
 * A stand-in OAuth 2.0 issuer on loopback: `/authorize` redirects back with a code bound to the
 * PKCE challenge; `/token` checks the verifier (S256), the client and the redirect URI the way a
 * real issuer does, then answers an ID token the runner accepts (HS256, `sub` = the seller).
 */
export async function startIssuer({ clientId, seller }) {
  const http = await import('node:http');
  const codes = new Map();
  const seen = { authorize: [], token: [] };
  const server = http.createServer(async (req, res) => {
    const url = new URL(req.url, 'http://issuer');
    if (req.method === 'GET' && url.pathname === '/authorize') {
      const q = Object.fromEntries(url.searchParams);
      seen.authorize.push(q);
      if (q.response_type !== 'code' || q.client_id !== clientId || q.code_challenge_method !== 'S256' || !q.code_challenge) {
        res.writeHead(400).end('bad authorize request');
        return;
      }
      const code = crypto.randomBytes(12).toString('hex');
      codes.set(code, q);
      const back = new URL(q.redirect_uri);
      back.searchParams.set('code', code);
      back.searchParams.set('state', q.state);
      res.writeHead(302, { location: back.toString() }).end();
      return;
    }
    if (req.method === 'POST' && url.pathname === '/token') {
      let body = '';
      for await (const chunk of req) body += chunk;
      const f = Object.fromEntries(new URLSearchParams(body));
      seen.token.push(f);
      const cors = { 'access-control-allow-origin': req.headers.origin || '*', 'content-type': 'application/json' };
      const grant = codes.get(f.code);
      codes.delete(f.code);
      const challenge = f.code_verifier ? crypto.createHash('sha256').update(f.code_verifier).digest('base64url') : '';
      if (!grant || f.grant_type !== 'authorization_code' || f.client_id !== clientId
        || f.redirect_uri !== grant.redirect_uri || challenge !== grant.code_challenge) {
        res.writeHead(400, cors).end(JSON.stringify({ error: 'invalid_grant' }));
        return;
      }
      const b64 = (o) => Buffer.from(JSON.stringify(o)).toString('base64url');
      const now = Math.floor(Date.now() / 1000);
      const unsigned = `${b64({ alg: 'HS256', typ: 'JWT' })}.${b64({ sub: seller, aud: clientId, exp: now + 3600, iat: now })}`;
      const idToken = `${unsigned}.${crypto.createHmac('sha256', JWT_SECRET).update(unsigned).digest('base64url')}`;
      res.writeHead(200, cors).end(JSON.stringify({ id_token: idToken, access_token: 'opaque-access', token_type: 'Bearer', expires_in: 3600 }));
      return;
    }
    res.writeHead(404).end();
  });
  await new Promise((r) => server.listen(0, '127.0.0.1', r));
  const base = `http://127.0.0.1:${server.address().port}`;
  return { base, seen, close: () => new Promise((r) => server.close(r)) };
}

/** A `radar.early_fraud_warning.created` for `pi` (actionable). */
export function fraudWarningEvent({ account, pi, created }) {
  return {
    id: id('evt_3Efw'), object: 'event', type: 'radar.early_fraud_warning.created', created, livemode: false, account,
    api_version: '2025-03-31.basil',
    data: { object: { id: id('issfr_1Test'), object: 'radar.early_fraud_warning', actionable: true, charge: id('ch_3Efw'),
      payment_intent: pi, created, fraud_type: 'made_with_stolen_card' } },
  };
}

/** A `checkout.session.completed` that needed no payment (a free product): an order keyed `cs_…`. */
export function freeCheckoutEvent({ account, email, product, created }) {
  const e = JSON.parse(fixture('ord_1001__01__checkout.session.completed.json'));
  e.id = id('evt_3Free');
  e.account = account;
  e.created = created;
  const o = e.data.object;
  o.id = id('cs_test_Free');
  o.payment_intent = null;
  o.payment_status = 'no_payment_required';
  o.amount_total = 0;
  o.created = created;
  o.customer_details = { ...o.customer_details, email };
  o.metadata = { ...o.metadata, product_id: 'prod_free', product_name: product, order_id: id('ord_') };
  return { cs: o.id, event: e };
}
