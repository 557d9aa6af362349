//! The dashboard page as the orders API serves it (contract section 8): the page at
//! `/dashboard` and every deep link, its compiled-in assets, the public sign-in settings, and
//! the headers that keep it safe. What the page does in a browser is tested in `tests/browser/`.

use std::sync::Arc;

use crate::common::*;
use axum::body::Body;
use axum::http::{Request, StatusCode};
use leenkies_domain::memory_store::MemoryStore;
use orders_api::dashboard::config::DashboardConfig;
use orders_api::dashboard::{content_security_policy, page_weight, ASSETS};
use orders_api::router;

fn assert_safe_headers(r: &Resp, what: &str) {
    let csp = r
        .header("content-security-policy")
        .unwrap_or_else(|| panic!("{what}: no CSP"));
    assert!(!csp.contains("unsafe-inline"), "{what}: {csp}");
    assert!(!csp.contains("unsafe-eval"), "{what}: {csp}");
    assert!(csp.contains("script-src 'self'"), "{what}: {csp}");
    assert!(csp.contains("frame-ancestors 'none'"), "{what}: {csp}");
    assert!(csp.contains("default-src 'none'"), "{what}: {csp}");
    assert_eq!(r.header("referrer-policy"), Some("no-referrer"), "{what}");
    assert_eq!(
        r.header("x-content-type-options"),
        Some("nosniff"),
        "{what}"
    );
}

#[tokio::test]
async fn given_no_token_when_dashboard_then_the_page_with_safe_headers() {
    // GIVEN the API with no orders
    let app = app(Arc::new(MemoryStore::new()));
    // WHEN the page is fetched without any token (it holds no data)
    let r = get(&app, "/dashboard", None).await;
    // THEN the HTML page, with its module entry, and the safety headers
    assert_eq!(r.status, StatusCode::OK);
    assert!(r.header("content-type").unwrap().starts_with("text/html"));
    assert!(r
        .text()
        .contains(r#"<script type="module" src="/dashboard/assets/app.js">"#));
    assert!(!r.text().contains("<script>"), "no inline script");
    assert_safe_headers(&r, "/dashboard");
}

#[tokio::test]
async fn given_deep_links_when_fetched_then_the_same_page() {
    let app = app(Arc::new(MemoryStore::new()));
    let page = get(&app, "/dashboard", None).await.text();
    for path in [
        "/dashboard/",
        "/dashboard/orders/pi_3QMpFn8cKdV3nWpT2DksRg19",
        "/dashboard/orders/cs_test_free",
        "/dashboard/callback?code=x&state=y",
        "/dashboard/anything/else",
    ] {
        let r = get(&app, path, None).await;
        assert_eq!(r.status, StatusCode::OK, "{path}");
        assert_eq!(r.text(), page, "{path}");
        assert_safe_headers(&r, path);
    }
}

#[tokio::test]
async fn given_the_module_graph_when_every_reference_is_fetched_then_all_served() {
    // GIVEN every asset the page and its modules reference
    let app = app(Arc::new(MemoryStore::new()));
    let index = get(&app, "/dashboard", None).await.text();
    let mut referenced: Vec<String> = index
        .split("/dashboard/assets/")
        .skip(1)
        .map(|s| s.split('"').next().unwrap().to_owned())
        .collect();
    for asset in ASSETS.iter().filter(|a| a.name.ends_with(".js")) {
        for part in asset.body.split("from './").skip(1) {
            referenced.push(part.split('\'').next().unwrap().to_owned());
        }
    }
    referenced.sort();
    referenced.dedup();
    assert!(referenced.len() >= 8, "{referenced:?}");
    // WHEN each is fetched THEN it is served with its type; nothing is referenced that is missing
    for name in &referenced {
        let r = get(&app, &format!("/dashboard/assets/{name}"), None).await;
        assert_eq!(r.status, StatusCode::OK, "{name}");
        let ct = r.header("content-type").unwrap();
        if name.ends_with(".js") {
            assert!(ct.starts_with("text/javascript"), "{name}: {ct}");
        }
        assert_safe_headers(&r, name);
    }
    // AND an unknown asset is a 404, never the page (a script tag would get HTML)
    let r = get(&app, "/dashboard/assets/nope.js", None).await;
    assert_eq!(r.status, StatusCode::NOT_FOUND);
    assert_eq!(r.error_code(), "not_found");
}

#[tokio::test]
async fn given_an_etag_when_revalidated_then_304() {
    let app = app(Arc::new(MemoryStore::new()));
    let first = get(&app, "/dashboard/assets/app.js", None).await;
    let etag = first.header("etag").unwrap().to_owned();
    assert_eq!(first.header("cache-control"), Some("no-cache"));
    let request = Request::get("/dashboard/assets/app.js")
        .header("if-none-match", &etag)
        .body(Body::empty())
        .unwrap();
    let again = send(&app, request).await;
    assert_eq!(again.status, StatusCode::NOT_MODIFIED);
    assert!(again.body.is_empty());
}

#[test]
fn the_page_builds_markup_from_data_only_as_text() {
    // Every value from Stripe or the storefront reaches the page as a text node (dom.js): no
    // module may parse markup or evaluate strings.
    for asset in ASSETS.iter().filter(|a| a.name.ends_with(".js")) {
        for banned in [
            "innerHTML",
            "outerHTML",
            "insertAdjacentHTML",
            "document.write",
            "eval(",
            "new Function",
            "DOMParser",
            "createContextualFragment",
        ] {
            assert!(!asset.body.contains(banned), "{} uses {banned}", asset.name);
        }
    }
}

#[test]
fn the_page_fetches_nothing_from_another_host() {
    // No CDN, no external font: no absolute http(s) URL in the page's own files. The one
    // exception is where the seller's Stripe Dashboard is linked (stripe.js builds those links,
    // opened by the seller, never fetched: the CSP's connect-src stays this origin).
    for asset in ASSETS.iter() {
        let mut body = asset.body.replace("http://www.w3.org/2000/svg", "");
        if asset.name == "stripe.js" {
            body = body.replacen("'https://dashboard.stripe.com/'", "", 1);
        }
        assert!(
            !body.contains("http://") && !body.contains("https://") && !body.contains("//cdn"),
            "{} names another host",
            asset.name
        );
    }
    assert!(
        page_weight() < 150_000,
        "page weight {} bytes",
        page_weight()
    );
}

#[tokio::test]
async fn given_no_oauth_when_config_then_public_null_oauth() {
    let app = app(Arc::new(MemoryStore::new()));
    let r = get(&app, "/dashboard/config.json", None).await;
    assert_eq!(r.status, StatusCode::OK);
    assert_eq!(r.json(), serde_json::json!({"oauth": null}));
    assert_safe_headers(&r, "config.json");
}

#[tokio::test]
async fn given_oauth_settings_when_config_then_served_and_the_token_origin_allowed_by_csp() {
    // GIVEN a deployment with a Cognito app client
    let config = DashboardConfig::from_lookup(|k| {
        match k {
            "DASHBOARD_OAUTH_AUTHORIZE_URL" => Some("https://auth.example.com/oauth2/authorize"),
            "DASHBOARD_OAUTH_TOKEN_URL" => Some("https://auth.example.com/oauth2/token"),
            "DASHBOARD_OAUTH_CLIENT_ID" => Some("client123"),
            _ => None,
        }
        .map(str::to_owned)
    })
    .unwrap();
    let app = router(state(Arc::new(MemoryStore::new())).with_dashboard(config.clone()));
    // WHEN the page asks for its settings
    let r = get(&app, "/dashboard/config.json", None).await;
    let body = r.json();
    // THEN it gets the PKCE client (no secret exists to leak), and only that origin is added
    assert_eq!(body["oauth"]["client_id"], "client123");
    assert_eq!(body["oauth"]["redirect_path"], "/dashboard/callback");
    assert_eq!(body["oauth"]["bearer"], "id_token");
    let csp = r.header("content-security-policy").unwrap();
    assert!(
        csp.contains("connect-src 'self' https://auth.example.com;"),
        "{csp}"
    );
    assert_eq!(content_security_policy(&config), csp);
    assert!(
        !content_security_policy(&DashboardConfig::default()).contains("https://"),
        "without OAuth the page may fetch its own origin only"
    );
}

#[tokio::test]
async fn given_the_dashboard_routes_when_the_api_is_called_without_token_then_still_401() {
    // The public page must not open the data routes.
    let app = app(Arc::new(MemoryStore::new()));
    for path in ["/orders", "/stats/disputes", "/stats/failures"] {
        assert_eq!(
            get(&app, path, None).await.status,
            StatusCode::UNAUTHORIZED,
            "{path}"
        );
    }
}
