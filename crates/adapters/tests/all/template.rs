//! The table `template.yaml` deploys is the table the code uses: same key schema, attribute
//! definitions, GSI names and keys (projection KEYS_ONLY), billing mode and stream view as
//! `dynamodb::table` (which also creates the local table).
//!
//! Reads `<workspace>/template.yaml` (or `LEENKIES_TEMPLATE`, a path). A missing template fails,
//! unless `LEENKIES_SKIP_TEMPLATE=1` says to skip on purpose.

use std::collections::BTreeSet;
use std::path::PathBuf;

use leenkies_adapters::dynamodb::table;
use yaml_rust2::{Yaml, YamlLoader};

fn template() -> Option<Yaml> {
    let path = std::env::var("LEENKIES_TEMPLATE")
        .map(PathBuf::from)
        .unwrap_or_else(|_| PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../template.yaml"));
    let text = match std::fs::read_to_string(&path) {
        Ok(text) => text,
        Err(_) if std::env::var("LEENKIES_SKIP_TEMPLATE").as_deref() == Ok("1") => {
            eprintln!(
                "SKIPPED: {} not found (LEENKIES_SKIP_TEMPLATE=1)",
                path.display()
            );
            return None;
        }
        Err(e) => panic!(
            "cannot read {}: {e}. The SAM template must sit at the workspace root \
             (or set LEENKIES_TEMPLATE=<path>, or LEENKIES_SKIP_TEMPLATE=1 to skip on purpose)",
            path.display()
        ),
    };
    // yaml-rust2 reads CloudFormation's short tags (!Ref, !Sub, !GetAtt) as plain values.
    let mut docs = YamlLoader::load_from_str(&text)
        .unwrap_or_else(|e| panic!("{} is not valid YAML: {e}", path.display()));
    assert_eq!(docs.len(), 1, "one YAML document expected");
    Some(docs.remove(0))
}

fn text(y: &Yaml) -> &str {
    y.as_str()
        .unwrap_or_else(|| panic!("expected a string, got {y:?}"))
}

/// `KeySchema` as (attribute, key type) pairs.
fn key_schema(y: &Yaml) -> Vec<(String, String)> {
    y.as_vec()
        .unwrap_or_else(|| panic!("KeySchema must be a list, got {y:?}"))
        .iter()
        .map(|k| {
            (
                text(&k["AttributeName"]).to_owned(),
                text(&k["KeyType"]).to_owned(),
            )
        })
        .collect()
}

fn hash_range(hash: &str, range: &str) -> Vec<(String, String)> {
    vec![
        (hash.to_owned(), "HASH".to_owned()),
        (range.to_owned(), "RANGE".to_owned()),
    ]
}

#[test]
fn given_the_sam_template_when_read_then_orders_table_matches_the_rust_definition() {
    let Some(doc) = template() else { return };
    let resource = &doc["Resources"]["OrdersTable"];
    assert_eq!(text(&resource["Type"]), "AWS::DynamoDB::Table");
    let props = &resource["Properties"];

    // THEN the base key is pk/sk
    assert_eq!(
        key_schema(&props["KeySchema"]),
        hash_range(table::PARTITION_KEY, table::SORT_KEY)
    );

    // AND every key attribute is defined, as a string, and nothing else is
    let defined: BTreeSet<(String, String)> = props["AttributeDefinitions"]
        .as_vec()
        .expect("AttributeDefinitions list")
        .iter()
        .map(|a| {
            (
                text(&a["AttributeName"]).to_owned(),
                text(&a["AttributeType"]).to_owned(),
            )
        })
        .collect();
    let expected: BTreeSet<(String, String)> = table::key_attributes()
        .into_iter()
        .map(|a| (a.to_owned(), "S".to_owned()))
        .collect();
    assert_eq!(defined, expected);

    // AND the GSIs are exactly the Rust ones, same keys, projecting their keys only
    let indexes = props["GlobalSecondaryIndexes"]
        .as_vec()
        .expect("GlobalSecondaryIndexes list");
    let names: Vec<&str> = indexes.iter().map(|i| text(&i["IndexName"])).collect();
    let want_names: Vec<&str> = table::INDEXES.iter().map(|i| i.name).collect();
    assert_eq!(names, want_names);
    for index in table::INDEXES {
        let declared = indexes
            .iter()
            .find(|i| text(&i["IndexName"]) == index.name)
            .expect("index declared");
        assert_eq!(
            key_schema(&declared["KeySchema"]),
            hash_range(index.hash, index.range),
            "{}",
            index.name
        );
        assert_eq!(
            text(&declared["Projection"]["ProjectionType"]),
            "KEYS_ONLY",
            "{}",
            index.name
        );
    }

    // AND it is on demand with a stream of old and new images, as `ensure_table` creates it
    assert_eq!(text(&props["BillingMode"]), "PAY_PER_REQUEST");
    assert_eq!(
        text(&props["StreamSpecification"]["StreamViewType"]),
        "NEW_AND_OLD_IMAGES"
    );
}

/// An order as the webhook leaves it after a succeeded payment: email and product known.
fn paid_order() -> leenkies_domain::OrderRecord {
    use leenkies_domain::order::facts::Reg;
    let mut r = leenkies_domain::OrderRecord::new("acct_A", "pi_1");
    r.version = 1;
    let f = &mut r.facts;
    f.pi_created = Some(1_778_227_200);
    f.first_event_at = Some(1_778_227_200);
    f.last_event_at = Some(1_778_227_249);
    f.succeeded_at = Some(1_778_227_249);
    f.amount = Some(Reg::new(0, 1, 2500));
    f.currency = Some(Reg::new(0, 1, "usd".into()));
    f.customer_email = Some(Reg::new(0, 1, "jordan.lee@example.com".into()));
    f.product_id = Some(Reg::new(0, 1, "prod_lut_pack".into()));
    r
}

/// The stream record of `order` as inserted, shaped as Lambda's DynamoDB event.
fn inserted(
    order: &leenkies_domain::OrderRecord,
) -> aws_lambda_events::event::dynamodb::EventRecord {
    let mut record = aws_lambda_events::event::dynamodb::EventRecord::default();
    record.event_name = "INSERT".to_owned();
    record.change.new_image =
        leenkies_adapters::dynamodb::item::order_to_image(order).expect("the item of an order");
    record
}

#[test]
fn given_the_templates_stream_filter_when_evaluated_on_the_adapters_items_then_only_deliverable_orders_pass(
) {
    use leenkies_adapters::dynamodb::stream_filter::{
        matches, passes_fulfillment_filter, FULFILLMENT_FILTERS,
    };
    let Some(doc) = template() else { return };
    // GIVEN the fulfillment function's FilterCriteria as deployed
    let filters = &doc["Resources"]["FulfillmentFunction"]["Properties"]["Events"]["OrdersStream"]
        ["Properties"]["FilterCriteria"]["Filters"];
    let patterns: Vec<serde_json::Value> = filters
        .as_vec()
        .expect("FulfillmentFunction's stream has FilterCriteria.Filters")
        .iter()
        .map(|f| serde_json::from_str(text(&f["Pattern"])).expect("a JSON filter pattern"))
        .collect();
    assert_eq!(
        patterns.len(),
        3,
        "the delivery pattern, the notifications' and the failed payments'"
    );
    let deployed = &patterns[0];
    // AND a deliverable order, and the same order without a customer email (not deliverable)
    let deliverable = inserted(&paid_order());
    let mut no_email = paid_order();
    no_email.facts.customer_email = None;
    let blocked = inserted(&no_email);
    let event = |r| serde_json::to_value(r).expect("a stream record as JSON");

    // WHEN the deployed pattern is evaluated on the records of the adapter's items
    // THEN the deliverable order invokes fulfillment and the blocked one does not
    assert!(matches(deployed, &event(&deliverable)));
    assert!(!matches(deployed, &event(&blocked)));
    // AND the local pump's predicate is these same patterns, with the same verdicts
    let local: Vec<serde_json::Value> = FULFILLMENT_FILTERS
        .iter()
        .map(|p| serde_json::from_str(p).unwrap())
        .collect();
    assert_eq!(
        local, patterns,
        "template.yaml and stream_filter::FULFILLMENT_FILTERS differ"
    );
    assert!(passes_fulfillment_filter(&deliverable));
    assert!(!passes_fulfillment_filter(&blocked));
    // AND the second pattern passes an order owing its seller a notification (an open
    // dispute), deliverable or not, and no other order
    let notify = &patterns[1];
    let mut disputed = no_email.clone();
    disputed.facts.disputes.insert(
        "du_1".to_owned(),
        leenkies_domain::order::facts::DisputeFact {
            state: leenkies_domain::order::facts::Reg::new(0, 1, "needs_response".to_owned()),
            ..Default::default()
        },
    );
    let owing = inserted(&disputed);
    assert!(matches(notify, &event(&owing)));
    assert!(passes_fulfillment_filter(&owing));
    assert!(!matches(notify, &event(&blocked)));
    assert!(!matches(notify, &event(&deliverable)));
    // AND the third passes an order whose payment failed, and no paid order
    let failing = &patterns[2];
    let mut failed = leenkies_domain::OrderRecord::new("acct_A", "pi_failed");
    failed.facts.attempt = Some(leenkies_domain::order::facts::Reg::new(
        0,
        1,
        leenkies_domain::order::facts::AttemptState::Failed,
    ));
    assert_eq!(
        failed.facts.payment_status(),
        leenkies_domain::PaymentStatus::Failed
    );
    let failed = inserted(&failed);
    assert!(matches(failing, &event(&failed)));
    assert!(passes_fulfillment_filter(&failed));
    assert!(!matches(failing, &event(&deliverable)));
}

#[test]
fn given_the_exports_stream_filter_when_evaluated_then_only_job_items_that_need_work_pass() {
    use leenkies_adapters::dynamodb::exports::job_to_image;
    use leenkies_adapters::dynamodb::stream_filter::{matches, EXPORTS_FILTER};
    use leenkies_domain::export::{ExportJob, JobStatus};
    let Some(doc) = template() else { return };
    // GIVEN the exports function's FilterCriteria as deployed
    let filters = &doc["Resources"]["ExportsFunction"]["Properties"]["Events"]["ExportJobs"]
        ["Properties"]["FilterCriteria"]["Filters"];
    let patterns: Vec<serde_json::Value> = filters
        .as_vec()
        .expect("ExportsFunction's stream has FilterCriteria.Filters")
        .iter()
        .map(|f| serde_json::from_str(text(&f["Pattern"])).expect("a JSON filter pattern"))
        .collect();
    assert_eq!(patterns.len(), 1);
    let deployed = &patterns[0];
    let local: serde_json::Value = serde_json::from_str(EXPORTS_FILTER).unwrap();
    assert_eq!(&local, deployed, "template.yaml and EXPORTS_FILTER differ");
    // WHEN evaluated on job items in each status, and on an order item
    let record = |status| {
        let mut job = ExportJob::new("acct_A", "j1", Default::default(), 0);
        job.status = status;
        let mut r = aws_lambda_events::event::dynamodb::EventRecord::default();
        r.event_name = "MODIFY".to_owned();
        r.change.new_image = job_to_image(&job).unwrap();
        serde_json::to_value(r).unwrap()
    };
    // THEN only the jobs that need work invoke the function, and no order does
    assert!(matches(deployed, &record(JobStatus::Queued)));
    assert!(matches(deployed, &record(JobStatus::Running)));
    assert!(!matches(deployed, &record(JobStatus::Succeeded)));
    assert!(!matches(deployed, &record(JobStatus::Failed)));
    let order = serde_json::to_value(inserted(&paid_order())).unwrap();
    assert!(!matches(deployed, &order));
}

/// Every `AWS::Serverless::Function` of the template, by logical id.
fn functions(doc: &Yaml) -> Vec<(String, &Yaml)> {
    doc["Resources"]
        .as_hash()
        .expect("Resources")
        .iter()
        .filter(|(_, r)| r["Type"].as_str() == Some("AWS::Serverless::Function"))
        .map(|(id, r)| (text(id).to_owned(), r))
        .collect()
}

/// The `[[bin]]` names of the Lambda crates under `functions/`.
fn function_binaries() -> BTreeSet<String> {
    let root = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../functions");
    let mut names = BTreeSet::new();
    for entry in std::fs::read_dir(&root).expect("functions/") {
        let manifest = entry.expect("entry").path().join("Cargo.toml");
        let Ok(text) = std::fs::read_to_string(&manifest) else {
            continue;
        };
        let mut in_bin = false;
        for line in text.lines().map(str::trim) {
            if line.starts_with('[') {
                in_bin = line == "[[bin]]";
            } else if let (true, Some(name)) = (in_bin, line.strip_prefix("name = ")) {
                names.insert(name.trim_matches('"').to_owned());
            }
        }
    }
    names
}

#[test]
fn given_the_template_when_its_functions_are_listed_then_they_are_exactly_the_lambda_binaries() {
    let Some(doc) = template() else { return };
    // GIVEN the binaries each function is built from (what infra/package.sh builds)
    let deployed: BTreeSet<String> = functions(&doc)
        .iter()
        .map(|(id, f)| {
            f["Metadata"]["BuildProperties"]["Binary"]
                .as_str()
                .unwrap_or_else(|| panic!("{id} names no Metadata.BuildProperties.Binary"))
                .to_owned()
        })
        .collect();
    // WHEN compared with the binaries of the function crates
    // THEN every Lambda binary is deployed and every deployed binary exists
    assert_eq!(deployed, function_binaries());
}

#[test]
fn given_every_stream_mapping_when_read_then_retries_are_bounded_and_failures_have_a_destination() {
    let Some(doc) = template() else { return };
    let mut mappings = 0;
    for (id, function) in functions(&doc) {
        let Some(events) = function["Properties"]["Events"].as_hash() else {
            continue;
        };
        for (name, event) in events {
            if event["Type"].as_str() != Some("DynamoDB") {
                continue;
            }
            mappings += 1;
            let props = &event["Properties"];
            let what = format!("{id}.{}", text(name));
            // THEN its retries are bounded
            let retries = props["MaximumRetryAttempts"]
                .as_i64()
                .unwrap_or_else(|| panic!("{what}: MaximumRetryAttempts unset (AWS: forever)"));
            assert!((0..=20).contains(&retries), "{what}: {retries} retries");
            // AND a record that still fails goes somewhere an operator sees
            assert!(
                !props["DestinationConfig"]["OnFailure"]["Destination"].is_badvalue(),
                "{what}: no DestinationConfig.OnFailure"
            );
        }
    }
    assert!(mappings >= 2, "the fulfillment and exports stream mappings");
}

/// The route keys (`METHOD /path`) of every HttpApi event in the template.
fn route_keys(doc: &Yaml) -> BTreeSet<String> {
    let mut keys = BTreeSet::new();
    for (_, function) in functions(doc) {
        let Some(events) = function["Properties"]["Events"].as_hash() else {
            continue;
        };
        for event in events.values() {
            if event["Type"].as_str() == Some("HttpApi") {
                let p = &event["Properties"];
                keys.insert(format!("{} {}", text(&p["Method"]), text(&p["Path"])));
            }
        }
    }
    keys
}

#[test]
fn given_the_http_api_when_read_then_the_webhook_and_the_download_links_are_throttled_apart() {
    let Some(doc) = template() else { return };
    let api = &doc["Resources"]["HttpApi"]["Properties"];
    let routes = route_keys(&doc);
    // GIVEN the per-route settings
    let settings = api["RouteSettings"]
        .as_hash()
        .expect("HttpApi.RouteSettings: per-route throttling");
    // THEN the webhook and the public download route each have their own limits, from their own
    // parameters, and every route named there exists (a missing one fails the deploy)
    for (key, parameter) in [
        ("POST /webhooks/stripe", "WebhookRateLimit"),
        ("GET /downloads/{token}", "DownloadRateLimit"),
    ] {
        assert!(routes.contains(key), "{key} is no route: {routes:?}");
        let s = &settings[&Yaml::String(key.to_owned())];
        for limit in ["ThrottlingRateLimit", "ThrottlingBurstLimit"] {
            // yaml-rust2 reads `!Ref X` as the plain value `X`.
            assert_eq!(s[limit].as_str(), Some(parameter), "{key} {limit}");
        }
    }
    for key in settings.keys() {
        assert!(routes.contains(text(key)), "{} is no route", text(key));
    }
    // AND every other route has the API's limit
    assert_eq!(
        api["DefaultRouteSettings"]["ThrottlingRateLimit"].as_str(),
        Some("ApiRateLimit")
    );
}

/// The DynamoDB actions each function's policies allow on the orders table, and whether its
/// writes are held to leading keys.
fn table_actions(function: &Yaml) -> (BTreeSet<String>, Vec<String>) {
    let mut actions = BTreeSet::new();
    let mut conditioned = Vec::new();
    for policy in function["Properties"]["Policies"]
        .as_vec()
        .into_iter()
        .flatten()
    {
        for statement in policy["Statement"].as_vec().into_iter().flatten() {
            let list: Vec<&str> = match &statement["Action"] {
                Yaml::String(a) => vec![a.as_str()],
                Yaml::Array(a) => a.iter().map(text).collect(),
                _ => continue,
            };
            let table: Vec<&str> = list
                .into_iter()
                .filter(|a| a.starts_with("dynamodb:"))
                .collect();
            if table.is_empty() {
                continue;
            }
            let keys = &statement["Condition"]["ForAllValues:StringLike"]["dynamodb:LeadingKeys"];
            for a in table {
                actions.insert(a.to_owned());
                if let Some(keys) = keys.as_vec() {
                    conditioned.extend(keys.iter().map(|k| format!("{a} {}", text(k))));
                }
            }
        }
    }
    (actions, conditioned)
}

#[test]
fn given_each_function_when_its_table_permissions_are_read_then_only_the_actions_it_uses() {
    let Some(doc) = template() else { return };
    let set = |a: &[&str]| {
        a.iter()
            .map(|s| format!("dynamodb:{s}"))
            .collect::<BTreeSet<_>>()
    };
    // What each function's code calls (docs/deploy.md, "Table permissions").
    let expected = [
        (
            "StripeWebhookFunction",
            set(&["GetItem", "PutItem", "UpdateItem"]),
        ),
        (
            "OrdersApiFunction",
            set(&["GetItem", "Query", "BatchGetItem", "PutItem", "UpdateItem"]),
        ),
        (
            "FulfillmentFunction",
            set(&["GetItem", "PutItem", "Query", "BatchGetItem"]),
        ),
        ("SesEventsFunction", set(&["GetItem", "PutItem"])),
        (
            "ReconcileFunction",
            set(&["GetItem", "PutItem", "UpdateItem", "Query", "BatchGetItem"]),
        ),
        (
            "ExportsFunction",
            set(&["GetItem", "Query", "BatchGetItem", "PutItem"]),
        ),
    ];
    let all = functions(&doc);
    for (id, want) in &expected {
        let (_, function) = all
            .iter()
            .find(|(name, _)| name == id)
            .unwrap_or_else(|| panic!("{id} not in the template"));
        let (actions, conditioned) = table_actions(function);
        // THEN exactly these actions: no Scan, no DeleteItem, nothing unused
        assert_eq!(&actions, want, "{id}");
        // AND the internet-facing API writes only a seller's kinds of item, never OPS#
        if *id == "OrdersApiFunction" {
            for write in ["dynamodb:PutItem", "dynamodb:UpdateItem"] {
                let keys: Vec<&String> = conditioned
                    .iter()
                    .filter(|c| c.starts_with(write))
                    .collect();
                assert!(!keys.is_empty(), "{write} is not held to leading keys");
                assert!(keys
                    .iter()
                    .all(|k| !k.contains("OPS#") && !k.ends_with(" *")));
            }
        }
    }
    // AND every function that touches the table is listed here
    for (id, function) in &all {
        let (actions, _) = table_actions(function);
        assert!(
            actions.is_empty() || expected.iter().any(|(name, _)| name == id),
            "{id} has table permissions this test does not know: {actions:?}"
        );
    }
}
