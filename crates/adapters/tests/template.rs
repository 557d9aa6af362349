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
