// The dashboard's entry: takes the token out of the address first, loads the sign-in settings,
// then routes `/dashboard` (the list), `/dashboard/orders/{id}` (an order) and
// `/dashboard/settings` in the page.

import { clearToken, finishOAuth, setToken, startOAuth, takeTokenFromFragment, tokenState } from './auth.js';
import { onSignedOut } from './api.js';
import { h, replace } from './dom.js';
import { listView } from './list.js';
import { setNavigate } from './nav.js';
import { orderView } from './order.js';
import { settingsView } from './settings.js';

// Before anything else: `#token=…` leaves the address bar.
takeTokenFromFragment();

const main = document.getElementById('main');
const signOut = document.getElementById('signout');
let destroy = () => {};
let config = { oauth: null };

const SIGN_IN_REASON = {
  expired: 'Your session has expired. Sign in again to continue.',
  rejected: 'You were signed out: the orders API did not accept your sign-in (it may have expired).',
  malformed: 'The sign-in link was not a valid token. Sign in again.',
  signedout: 'You are signed out.',
};

function signInView(reason) {
  destroy();
  destroy = () => {};
  signOut.hidden = true;
  document.title = 'Sign in · Leenkies';
  const tokenInput = h('input', { id: 'token-input', type: 'password', class: 'input', autocomplete: 'off', spellcheck: 'false' });
  const returnTo = location.pathname + location.search;
  const oauth = config.oauth;
  replace(main, h('section', { class: 'signin card' },
    h('h1', { tabindex: '-1' }, 'Sign in to your orders'),
    SIGN_IN_REASON[reason] ? h('p', { class: 'alert alert-warn', role: 'alert' }, SIGN_IN_REASON[reason]) : null,
    oauth
      ? [h('p', {}, 'Sign in with your seller account to see your orders.'),
        h('button', { type: 'button', class: 'btn btn-primary', onclick: () => startOAuth(oauth, returnTo).catch(() => {
          replace(main, h('p', { class: 'alert alert-bad', role: 'alert' }, 'This browser cannot start the sign-in (it needs a secure https page).'));
        }) }, 'Sign in')]
      : [h('p', {}, 'This dashboard signs in with a seller token. On the machine that runs leenkies-local:'),
        h('pre', {}, h('code', {}, 'leenkies-local token --seller acct_…')),
        h('p', {}, 'then open the sign-in address it prints.')],
    h('details', { class: 'paste' },
      h('summary', {}, 'Paste a token instead'),
      h('form', { class: 'field', onsubmit: (e) => {
        e.preventDefault();
        const value = tokenInput.value.trim();
        if (!value) return;
        setToken(value);
        tokenInput.value = '';
        route();
      } },
      h('label', { for: 'token-input' }, 'Seller token (JWT)'),
      tokenInput,
      h('button', { type: 'submit', class: 'btn' }, 'Sign in with this token')))));
  const heading = main.querySelector('h1');
  if (heading) heading.focus({ preventScroll: true });
}

async function callback() {
  if (!config.oauth) return navigate('/dashboard', true);
  replace(main, h('p', { class: 'loading', role: 'status' }, 'Signing you in…'));
  try {
    navigate(await finishOAuth(config.oauth), true);
  } catch (e) {
    signInView(null);
    main.querySelector('section').prepend(h('p', { class: 'alert alert-bad', role: 'alert' }, e.message));
  }
}

function route() {
  destroy();
  destroy = () => {};
  const path = location.pathname.replace(/\/+$/, '') || '/dashboard';
  if (path === '/dashboard/callback') return callback();
  const state = tokenState();
  if (state !== 'ok') {
    if (state !== 'none') clearToken();
    return signInView(state === 'none' ? null : state);
  }
  signOut.hidden = false;
  for (const link of document.querySelectorAll('.topnav a')) {
    const here = link.getAttribute('href') === (path === '/dashboard/settings' ? '/dashboard/settings' : '/dashboard');
    if (here) link.setAttribute('aria-current', 'page');
    else link.removeAttribute('aria-current');
  }
  if (path === '/dashboard/settings') {
    document.title = 'Settings · Leenkies';
    destroy = settingsView(main);
    window.scrollTo(0, 0);
    return;
  }
  const match = path.match(/^\/dashboard\/orders\/([^/]+)$/);
  if (match) {
    let id;
    try {
      id = decodeURIComponent(match[1]);
    } catch {
      id = match[1];
    }
    destroy = orderView(main, id);
  } else {
    document.title = 'Orders · Leenkies';
    destroy = listView(main);
  }
  window.scrollTo(0, 0);
}

function navigate(href, replaceEntry = false) {
  if (replaceEntry) history.replaceState(null, '', href);
  else history.pushState(null, '', href);
  route();
}

setNavigate((href) => navigate(href));

// In-page navigation for the dashboard's own links; anything else is a normal link.
document.addEventListener('click', (e) => {
  if (e.defaultPrevented || e.button !== 0 || e.metaKey || e.ctrlKey || e.shiftKey || e.altKey) return;
  const a = e.target instanceof Element ? e.target.closest('a[href]') : null;
  if (!a || a.target || a.hasAttribute('download')) return;
  const url = new URL(a.href, location.href);
  if (url.origin !== location.origin || !url.pathname.startsWith('/dashboard')) return;
  // A jump within this page (`#…`) scrolls; it is not a new view.
  if (url.hash && url.pathname === location.pathname && url.search === location.search) return;
  e.preventDefault();
  navigate(url.pathname + url.search);
});
window.addEventListener('popstate', route);
// A sign-in address opened in a tab that already shows the page changes only the fragment.
window.addEventListener('hashchange', () => {
  if (new URLSearchParams(location.hash.slice(1)).has('token')) {
    takeTokenFromFragment();
    route();
  }
});

onSignedOut((reason) => signInView(reason === 'none' ? null : reason));

signOut.addEventListener('click', () => {
  clearToken();
  const logout = config.oauth && config.oauth.logout_url;
  if (logout) {
    const url = new URL(logout);
    url.searchParams.set('client_id', config.oauth.client_id);
    url.searchParams.set('logout_uri', `${location.origin}/dashboard`);
    location.assign(url.toString());
    return;
  }
  history.replaceState(null, '', '/dashboard');
  signInView('signedout');
});

async function start() {
  const settings = fetch('/dashboard/config.json', { cache: 'no-store', credentials: 'omit' })
    .then((r) => (r.ok ? r.json() : config))
    // Without settings the page still signs in with a token in the address.
    .catch(() => config);
  // Signed in: show the orders at once; the settings only matter for the sign-in screen.
  const early = tokenState() === 'ok' && location.pathname !== '/dashboard/callback';
  if (early) route();
  config = await settings;
  if (!early) route();
}

start();
