// The peer: what a team would write with Node and the official `stripe` library.
// POST /webhooks/stripe: raw body, stripe.webhooks.constructEvent (HMAC-SHA256 check + JSON.parse),
// an in-memory Map keyed by event id (duplicates acknowledged without a write), 200 JSON.
// Usage: STRIPE_WEBHOOK_SECRET=whsec_… node server.js [port]
'use strict';
const http = require('http');
const Stripe = require('stripe');

const stripe = new Stripe('sk_test_peer_never_calls_the_api');
const secret = process.env.STRIPE_WEBHOOK_SECRET;
const port = Number(process.argv[2] || 3100);
const MAX_BODY = 512 * 1024;
const events = new Map();

function reply(res, status, body) {
  const json = JSON.stringify(body);
  res.writeHead(status, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(json) });
  res.end(json);
}

http.createServer((req, res) => {
  if (req.method !== 'POST' || req.url !== '/webhooks/stripe') return reply(res, 404, { error: 'not found' });
  const chunks = [];
  let size = 0;
  req.on('data', (chunk) => { size += chunk.length; if (size <= MAX_BODY) chunks.push(chunk); });
  req.on('end', () => {
    if (size > MAX_BODY) return reply(res, 413, { error: 'payload too large' });
    let event;
    try {
      event = stripe.webhooks.constructEvent(Buffer.concat(chunks), req.headers['stripe-signature'], secret);
    } catch (err) {
      return reply(res, 400, { error: err.message });
    }
    const object = event.data && event.data.object;
    const duplicate = events.has(event.id);
    if (!duplicate) events.set(event.id, { type: event.type, object: object && object.id, created: event.created });
    reply(res, 200, { received: true, outcome: duplicate ? 'duplicate' : 'applied', event_id: event.id });
  });
}).listen(port, '127.0.0.1', () => console.log(`listening on http://127.0.0.1:${port}`));
