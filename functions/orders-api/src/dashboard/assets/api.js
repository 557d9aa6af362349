// The only way the page talks to the API: same-origin paths, the seller's bearer token, and every
// error turned into words. A 401 forgets the token and returns the page to sign-in.

import { clearToken, token } from './auth.js';

export class ApiError extends Error {
  constructor(status, code, message) {
    super(message);
    this.status = status;
    this.code = code;
  }
}

/** Thrown after a 401 (or with no token): the app shows the sign-in screen. */
export class SignedOut extends Error {}

let signedOutHandler = () => {};
export function onSignedOut(handler) {
  signedOutHandler = handler;
}

function words(status, code, message) {
  if (code === 'stripe_not_configured') {
    return 'Stripe is not connected on this server (no Stripe API key is configured), so nothing was sent to Stripe.';
  }
  if (code === 'prefix_too_short') return 'Type at least two characters of the customer\u2019s email.';
  switch (status) {
    case 400: return message ? `The request was not accepted: ${message}` : 'The request was not accepted.';
    case 403: return 'You are not allowed to do this.';
    case 404: return 'Not found in your account.';
    case 409: return message ? `Not possible right now: ${message}` : 'Not possible in the order\u2019s current state.';
    case 429: return message ? `Too many attempts: ${message}` : 'Too many attempts. Try again later.';
    case 502: return message ? `Stripe refused or failed: ${message}` : 'Stripe refused or failed. Nothing was recorded as sent.';
    case 503: return 'The orders service is not answering right now. The page will try again in a moment.';
    default: return `The server had a problem (${status}). Try again in a moment.`;
  }
}

/**
 * fetch() for the API. `path` must be a same-origin absolute path: the token never goes to
 * another host.
 */
export async function request(path, { method = 'GET', json, accept = 'application/json', headers: extra = {} } = {}) {
  if (typeof path !== 'string' || !path.startsWith('/') || path.startsWith('//')) {
    throw new Error('API paths are same-origin');
  }
  const bearer = token();
  if (!bearer) {
    signedOutHandler('none');
    throw new SignedOut();
  }
  const headers = { ...extra, Authorization: `Bearer ${bearer}`, Accept: accept };
  if (json !== undefined) headers['Content-Type'] = 'application/json';
  let response;
  try {
    response = await fetch(path, {
      method,
      headers,
      body: json === undefined ? undefined : JSON.stringify(json),
      cache: 'no-store',
      credentials: 'omit',
      referrerPolicy: 'no-referrer',
    });
  } catch {
    throw new ApiError(0, 'network', 'Cannot reach the orders API. Check your connection; the page keeps trying.');
  }
  if (response.status === 401) {
    clearToken();
    signedOutHandler('rejected');
    throw new SignedOut();
  }
  if (!response.ok) {
    const body = await response.json().catch(() => null);
    const code = body && body.error && typeof body.error.code === 'string' ? body.error.code : '';
    const message = body && body.error && typeof body.error.message === 'string' ? body.error.message : '';
    throw new ApiError(response.status, code, words(response.status, code, message));
  }
  return response;
}

export async function getJson(path) {
  return (await request(path)).json();
}

export async function postJson(path, json, headers = {}) {
  const response = await request(path, { method: 'POST', json, headers });
  return response.status === 204 ? null : response.json().catch(() => null);
}

/** The message to show for any error a view catches. */
export function describe(error) {
  if (error instanceof ApiError) return error.message;
  return 'Something went wrong in the page. Reload to try again.';
}
