// In-page navigation shared by every view: the router's `navigate` (set by app.js), the order
// page's address, and the list's last query (the order page's way back to the same view).

/** The list's query string (`?email=…&status=…`) as last shown in this tab. */
export const LIST_QUERY_KEY = 'leenkies.listQuery';

let go = (href) => location.assign(href);

/** Set by app.js: client-side navigation. */
export function setNavigate(fn) {
  go = fn;
}

export function navigate(href) {
  go(href);
}

export function orderHref(id) {
  return `/dashboard/orders/${encodeURIComponent(id)}`;
}
