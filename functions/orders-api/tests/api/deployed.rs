//! What is served is what is deployed: the orders API's route table ([`orders_api::routes::table`])
//! against the `HttpApi` events of `OrdersApiFunction` in `template.yaml`, both ways, with the
//! access each one grants. A route added to the table but not to the template would answer API
//! Gateway's own `404` once deployed; an event without a route would send callers to this
//! function's `404`. Either fails here, naming the route.

use std::collections::BTreeSet;
use std::path::PathBuf;

use orders_api::routes::{table, Access};
use yaml_rust2::{Yaml, YamlLoader};

/// (method, path in API Gateway's syntax, public?) for one route or one event.
type Deployed = (String, String, bool);

fn template() -> Yaml {
    let path = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../template.yaml");
    let text = std::fs::read_to_string(&path)
        .unwrap_or_else(|e| panic!("cannot read {}: {e}", path.display()));
    YamlLoader::load_from_str(&text)
        .unwrap_or_else(|e| panic!("{} is not valid YAML: {e}", path.display()))
        .remove(0)
}

/// The `HttpApi` events of one function of the template.
fn events(doc: &Yaml, function: &str) -> BTreeSet<Deployed> {
    let events = doc["Resources"][function]["Properties"]["Events"]
        .as_hash()
        .unwrap_or_else(|| panic!("{function} has no Events"));
    events
        .values()
        .filter(|event| event["Type"].as_str() == Some("HttpApi"))
        .map(|event| {
            let props = &event["Properties"];
            (
                props["Method"].as_str().expect("Method").to_uppercase(),
                props["Path"].as_str().expect("Path").to_owned(),
                props["Auth"]["Authorizer"].as_str() == Some("NONE"),
            )
        })
        .collect()
}

/// axum's catch-all `{*rest}` is API Gateway's greedy `{proxy+}`; a trailing slash is not a
/// route of its own in an HTTP API (`/dashboard/` reaches the `/dashboard` route).
fn gateway_path(axum_path: &str) -> String {
    match axum_path.find("{*") {
        Some(at) => format!("{}{{proxy+}}", &axum_path[..at]),
        None if axum_path.len() > 1 => axum_path.trim_end_matches('/').to_owned(),
        None => axum_path.to_owned(),
    }
}

/// Whether an event's path serves a route's path: the same, or a greedy `{proxy+}` over it.
fn serves(event_path: &str, route_path: &str) -> bool {
    event_path == route_path
        || event_path
            .strip_suffix("{proxy+}")
            .is_some_and(|prefix| route_path.starts_with(prefix) && route_path.len() > prefix.len())
}

fn routes() -> BTreeSet<Deployed> {
    table()
        .iter()
        .map(|r| {
            (
                r.method.as_str().to_owned(),
                gateway_path(&r.path),
                r.access == Access::Public,
            )
        })
        .collect()
}

#[test]
fn given_the_route_table_when_compared_with_the_template_then_every_route_is_deployed_with_its_access(
) {
    // GIVEN the template's events and the served routes
    let doc = template();
    let events = events(&doc, "OrdersApiFunction");
    // WHEN each route looks for an event that serves it
    let missing: Vec<String> = routes()
        .into_iter()
        .filter(|(method, path, public)| {
            !events
                .iter()
                .any(|(m, p, pb)| m == method && serves(p, path) && pb == public)
        })
        .map(|(method, path, public)| {
            format!(
                "{method} {path} ({})",
                if public {
                    "Auth: Authorizer: NONE"
                } else {
                    "the default JWT authorizer"
                }
            )
        })
        .collect();
    // THEN none is missing
    assert!(
        missing.is_empty(),
        "routes served by orders-api but not deployed by template.yaml's OrdersApiFunction \
         (add an HttpApi event for each): {missing:#?}"
    );
}

#[test]
fn given_the_template_when_compared_with_the_route_table_then_every_event_has_its_route() {
    // GIVEN the template's events and the served routes
    let doc = template();
    let routes = routes();
    // WHEN each event looks for the route it sends callers to
    let orphans: Vec<String> = events(&doc, "OrdersApiFunction")
        .into_iter()
        .filter(|(method, path, public)| {
            !routes
                .iter()
                .any(|(m, p, pb)| m == method && serves(path, p) && pb == public)
        })
        .map(|(method, path, public)| format!("{method} {path} (public: {public})"))
        .collect();
    // THEN none is an orphan
    assert!(
        orphans.is_empty(),
        "template.yaml deploys these to orders-api, but its route table has no such route \
         with that access: {orphans:#?}"
    );
}

#[test]
fn given_the_comparison_when_a_route_is_missing_then_it_is_named() {
    // GIVEN an event set without the export-jobs route
    let routes = routes();
    let created = ("POST".to_owned(), "/orders/exports".to_owned(), false);
    assert!(
        routes.contains(&created),
        "the table serves POST /orders/exports"
    );
    // WHEN the greedy and exact matches are asked about it
    // THEN a greedy path covers only what lies under it, and an exact path only itself
    assert!(serves("/dashboard/{proxy+}", "/dashboard/assets/{name}"));
    assert!(!serves("/dashboard/{proxy+}", "/dashboard"));
    assert!(!serves("/orders", "/orders/exports"));
    assert!(serves("/orders/exports", "/orders/exports"));
}

#[test]
fn given_the_table_when_documented_then_every_api_route_is_in_the_openapi_document_with_its_access()
{
    // GIVEN the document the API serves
    let doc = serde_json::to_value(orders_api::routes::openapi::document()).expect("json");
    // WHEN each route of the table is looked up in it
    for route in table() {
        let op = &doc["paths"][&route.path][route.method.as_str().to_lowercase()];
        match route.operation {
            // THEN an API route is there, secured exactly when it needs a token
            Some(_) => {
                assert!(op.is_object(), "{} {} missing", route.method, route.path);
                let secured = op["security"].as_array().is_some_and(|s| !s.is_empty());
                assert_eq!(
                    secured,
                    route.access != Access::Public,
                    "{} {}: security does not match its access",
                    route.method,
                    route.path
                );
            }
            // AND a page route is not
            None => assert!(op.is_null(), "{} is not API", route.path),
        }
    }
}

#[tokio::test]
async fn given_every_route_that_needs_a_token_when_called_without_one_then_401() {
    // GIVEN the API on an empty store
    let app = crate::common::app(std::sync::Arc::new(
        leenkies_domain::memory_store::MemoryStore::new(),
    ));
    for route in table().into_iter().filter(|r| r.access != Access::Public) {
        // WHEN the route is called with its parameters filled in and no token
        let uri = route
            .path
            .replace("{order_id}", "pi_1")
            .replace("{dispute_id}", "dp_1")
            .replace("{id}", "exp_1");
        let request = axum::http::Request::builder()
            .method(route.method.clone())
            .uri(&uri)
            .header("content-type", "application/json")
            .body(axum::body::Body::from("{}"))
            .expect("request");
        let response = crate::common::send(&app, request).await;
        // THEN the handler refuses it as unauthenticated, whatever it would do with a token
        assert_eq!(
            response.status.as_u16(),
            401,
            "{} {} answered without a token",
            route.method,
            route.path
        );
    }
}
