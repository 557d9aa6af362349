// Sign-in: the seller's token comes from the address fragment (`/dashboard#token=<JWT>`) or from
// the OAuth 2.0 authorization-code flow with PKCE, and is kept for this tab only
// (sessionStorage). It is removed from the address bar at once and only ever sent, as a bearer
// header, to this page's own origin (api.js).

const TOKEN_KEY = 'leenkies.token';
const PKCE_KEY = 'leenkies.pkce';

/** Moves `#token=…` from the address bar into the tab's storage. Runs before anything else. */
export function takeTokenFromFragment() {
  if (!location.hash || location.hash.length < 2) return;
  const params = new URLSearchParams(location.hash.slice(1));
  if (!params.has('token')) return;
  const token = params.get('token').trim();
  // Off the address bar (and so out of history, bookmarks and screenshots) before any request.
  history.replaceState(history.state, '', location.pathname + location.search);
  if (token) sessionStorage.setItem(TOKEN_KEY, token);
}

export function token() {
  return sessionStorage.getItem(TOKEN_KEY);
}

export function setToken(value) {
  sessionStorage.setItem(TOKEN_KEY, value);
}

export function clearToken() {
  sessionStorage.removeItem(TOKEN_KEY);
}

function base64UrlJson(part) {
  const b64 = part.replace(/-/g, '+').replace(/_/g, '/');
  const padded = b64 + '='.repeat((4 - (b64.length % 4)) % 4);
  const bytes = Uint8Array.from(atob(padded), (c) => c.charCodeAt(0));
  return JSON.parse(new TextDecoder().decode(bytes));
}

/**
 * Whether the stored token can still be used: 'none', 'malformed', 'expired' or 'ok'. The API
 * verifies the signature; this only saves a round trip for a token that is plainly over.
 */
export function tokenState(now = Date.now()) {
  const t = token();
  if (!t) return 'none';
  const parts = t.split('.');
  if (parts.length !== 3) return 'malformed';
  try {
    const claims = base64UrlJson(parts[1]);
    if (typeof claims.exp === 'number' && claims.exp * 1000 <= now) return 'expired';
    return 'ok';
  } catch {
    return 'malformed';
  }
}

function base64Url(bytes) {
  let s = '';
  for (const b of new Uint8Array(bytes)) s += String.fromCharCode(b);
  return btoa(s).replace(/\+/g, '-').replace(/\//g, '_').replace(/=+$/, '');
}

function randomString(n = 32) {
  return base64Url(crypto.getRandomValues(new Uint8Array(n)));
}

function redirectUri(oauth) {
  return location.origin + oauth.redirect_path;
}

/** Sends the browser to the issuer (RFC 7636, S256). `returnTo` is where to land afterwards. */
export async function startOAuth(oauth, returnTo) {
  const verifier = randomString(48);
  const state = randomString(24);
  const digest = await crypto.subtle.digest('SHA-256', new TextEncoder().encode(verifier));
  sessionStorage.setItem(PKCE_KEY, JSON.stringify({ verifier, state, returnTo }));
  const url = new URL(oauth.authorize_url);
  url.search = new URLSearchParams({
    response_type: 'code',
    client_id: oauth.client_id,
    redirect_uri: redirectUri(oauth),
    scope: oauth.scope,
    state,
    code_challenge: base64Url(digest),
    code_challenge_method: 'S256',
  }).toString();
  location.assign(url.toString());
}

/**
 * On `/dashboard/callback?code=…&state=…`: checks the state, trades the code for tokens at the
 * token endpoint and keeps the configured one. Returns where to go next, or throws with words.
 */
export async function finishOAuth(oauth) {
  const params = new URLSearchParams(location.search);
  // The code is single-use, but it still leaves the address bar at once.
  history.replaceState(null, '', oauth.redirect_path);
  const saved = JSON.parse(sessionStorage.getItem(PKCE_KEY) || 'null');
  sessionStorage.removeItem(PKCE_KEY);
  if (params.get('error')) {
    throw new Error(`The sign-in service refused: ${params.get('error_description') || params.get('error')}`);
  }
  if (!saved || !params.get('code') || params.get('state') !== saved.state) {
    throw new Error('This sign-in link is not the one this tab started. Start again.');
  }
  let response;
  try {
    response = await fetch(oauth.token_url, {
      method: 'POST',
      headers: { 'Content-Type': 'application/x-www-form-urlencoded' },
      body: new URLSearchParams({
        grant_type: 'authorization_code',
        client_id: oauth.client_id,
        code: params.get('code'),
        redirect_uri: redirectUri(oauth),
        code_verifier: saved.verifier,
      }),
      credentials: 'omit',
      referrerPolicy: 'no-referrer',
    });
  } catch {
    throw new Error('Could not reach the sign-in service. Check your connection and start again.');
  }
  const body = await response.json().catch(() => ({}));
  const value = body[oauth.bearer];
  if (!response.ok || typeof value !== 'string') {
    throw new Error(`The sign-in service did not give a token (${body.error || response.status}). Start again.`);
  }
  setToken(value);
  return saved.returnTo && saved.returnTo.startsWith('/dashboard') ? saved.returnTo : '/dashboard';
}
