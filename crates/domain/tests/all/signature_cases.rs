//! The 22 `Stripe-Signature` cases of the shared fixtures, each with its own `now`.

use leenkies_domain::stripe::signature::{verify, SigningSecrets};
use serde_json::Value;

#[test]
fn given_each_shared_signature_case_when_verified_then_the_expected_verdict() {
    let path = leenkies_fixtures::shared_stripe().join("signature-cases.json");
    let doc: Value = serde_json::from_slice(&std::fs::read(path).unwrap()).unwrap();
    let cases = doc["cases"].as_array().unwrap();
    assert_eq!(cases.len(), 22);
    let mut wrong = Vec::new();
    for case in cases {
        // GIVEN the case's secret, header, payload and clock
        let secrets = SigningSecrets::from_csv(case["secret"].as_str().unwrap());
        let verdict = verify(
            case["header"].as_str().unwrap(),
            case["payload"].as_str().unwrap().as_bytes(),
            &secrets,
            case["now"].as_i64().unwrap(),
            case["tolerance_seconds"].as_i64().unwrap(),
        );
        // THEN valid cases pass and invalid ones fail
        let valid = case["expected"] == "valid";
        if verdict.is_ok() != valid {
            wrong.push(format!(
                "{}: expected {}, got {verdict:?}",
                case["id"], case["expected"]
            ));
        }
    }
    assert!(wrong.is_empty(), "{}", wrong.join("\n"));
}
