//! The runner's keys as a user meets them (contract section 6): `leenkies-local` started without
//! `STRIPE_WEBHOOK_SECRET`, `LEENKIES_JWT_SECRET` or `DOWNLOAD_SIGNING_KEY` makes random keys
//! at its first start in a file outside the repository and says where; `token` and `send-event`
//! read the same file; a restart keeps them; and nothing signed with the keys that used to be
//! written in the code (the old dev defaults) is accepted.

use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use leenkies_domain::clock::now_secs;
use leenkies_domain::stripe::signature::sign;
use leenkies_domain::tokens::{DownloadClaims, DownloadKey};

const BIN: &str = env!("CARGO_BIN_EXE_leenkies-local");
const SELLER: &str = "acct_1QHx4R8cKdV3nWpT";
/// The keys once written in `crates/local/src/settings.rs`: what anyone with the code knew.
const OLD_DEV_WEBHOOK_SECRET: &str = "whsec_leenkies_local_dev_secret";
const OLD_DEV_JWT_SECRET: &str = "leenkies-local-dev-jwt-secret";
const OLD_DEV_DOWNLOAD_KEY: &str = "leenkies-local-dev-download-key";

/// A command with the keys' variables removed and the keys file in `dir`.
fn command(dir: &Path) -> Command {
    let mut c = Command::new(BIN);
    for name in [
        "STRIPE_WEBHOOK_SECRET",
        "LEENKIES_JWT_SECRET",
        "DOWNLOAD_SIGNING_KEY",
        "JWT_ISSUER",
        "JWT_AUDIENCE",
        "PUBLIC_BASE_URL",
        "STRIPE_API_KEY",
    ] {
        c.env_remove(name);
    }
    c.env("LEENKIES_KEYS_FILE", dir.join("keys/local-keys.json"))
        .env("RUST_LOG", "warn")
        .current_dir(dir);
    c
}

struct Runner {
    child: Child,
    addr: String,
    said: Vec<String>,
}

impl Runner {
    fn start(dir: &Path, addr: &str, env: &[(&str, &str)]) -> Self {
        let mut c = command(dir);
        c.envs(env.iter().copied());
        let mut child = c
            .args(["--addr", addr, "--outbox"])
            .arg(dir.join("outbox"))
            .arg("--exports-dir")
            .arg(dir.join("exports"))
            .stdout(Stdio::piped())
            .stderr(Stdio::from(
                std::fs::File::create(dir.join("runner.log")).unwrap(),
            ))
            .spawn()
            .expect("leenkies-local starts");
        let mut lines = BufReader::new(child.stdout.take().unwrap()).lines();
        let mut said = Vec::new();
        let addr = loop {
            let line = lines
                .next()
                .expect("leenkies-local said where it listens")
                .unwrap();
            said.push(line.clone());
            if let Some(addr) = line.strip_prefix("listening on http://") {
                break addr.to_owned();
            }
        };
        // The lines said right after `listening` (the notes) arrive at once.
        let (tx, rx) = std::sync::mpsc::channel();
        // Keeps reading to the end: a closed pipe would fail the runner's next log line.
        std::thread::spawn(move || {
            for line in lines.map_while(Result::ok) {
                let _ = tx.send(line);
            }
        });
        while let Ok(line) = rx.recv_timeout(Duration::from_millis(300)) {
            said.push(line);
        }
        Self { child, addr, said }
    }

    fn said(&self, needle: &str) -> bool {
        self.said.iter().any(|l| l.contains(needle))
    }

    fn url(&self, path: &str) -> String {
        format!("http://{}{path}", self.addr)
    }

    fn stop(self) {}
}

impl Drop for Runner {
    // Also when an assertion fails: no runner outlives its test.
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn token(dir: &Path) -> String {
    let out = command(dir)
        .args(["token", "--seller", SELLER])
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8(out.stdout)
        .unwrap()
        .lines()
        .next()
        .unwrap()
        .to_owned()
}

fn hs256(secret: &str) -> String {
    let claims = serde_json::json!({"sub": SELLER, "iat": now_secs(), "exp": now_secs() + 600});
    jsonwebtoken::encode(
        &jsonwebtoken::Header::default(),
        &claims,
        &jsonwebtoken::EncodingKey::from_secret(secret.as_bytes()),
    )
    .unwrap()
}

fn event_file(dir: &Path) -> PathBuf {
    let now = now_secs();
    let body = serde_json::json!({
        "id": "evt_keys_1", "object": "event", "type": "payment_intent.succeeded",
        "created": now, "livemode": false, "account": SELLER,
        "data": {"object": {"id": "pi_keys1", "object": "payment_intent", "amount": 2500,
            "currency": "usd", "status": "succeeded", "created": now,
            "receipt_email": "jordan.lee@example.com",
            "metadata": {"product_id": "prod_keys", "product_name": "Keys Pack"}}}
    });
    let path = dir.join("event.json");
    std::fs::write(&path, serde_json::to_vec(&body).unwrap()).unwrap();
    path
}

fn download_path(dir: &Path) -> String {
    let deadline = Instant::now() + Duration::from_secs(20);
    loop {
        let emails: Vec<_> = std::fs::read_dir(dir.join("outbox"))
            .map(|d| d.filter_map(Result::ok).map(|e| e.path()).collect())
            .unwrap_or_default();
        if let Some(eml) = emails.first() {
            let text = std::fs::read_to_string(eml).unwrap();
            let link = text
                .split_whitespace()
                .find(|w| w.contains("/downloads/"))
                .map(|w| w.trim_matches(|c: char| c == '<' || c == '>' || c == '"'))
                .expect("a download link");
            return link[link.find("/downloads/").unwrap()..].to_owned();
        }
        assert!(Instant::now() < deadline, "no delivery email");
        std::thread::sleep(Duration::from_millis(100));
    }
}

#[tokio::test]
async fn given_no_keys_in_the_environment_when_started_then_random_keys_outside_the_repository_serve_and_the_old_dev_keys_open_nothing(
) {
    // GIVEN no key in the environment and an empty keys folder
    let dir = tempfile::tempdir().unwrap();
    // A connection per request: a restarted runner must not meet a connection of the old one.
    let http = reqwest::Client::builder()
        .pool_max_idle_per_host(0)
        .build()
        .unwrap();
    // WHEN the runner starts
    let runner = Runner::start(dir.path(), "127.0.0.1:0", &[]);
    // THEN it made the keys file, and says where, and which webhook secret it verifies with
    let keys_path = dir.path().join("keys/local-keys.json");
    let keys: serde_json::Value =
        serde_json::from_slice(&std::fs::read(&keys_path).expect("the keys file")).unwrap();
    assert!(
        runner.said(&keys_path.display().to_string()),
        "{:?}",
        runner.said
    );
    assert!(
        runner.said("made now with random keys"),
        "{:?}",
        runner.said
    );
    let webhook_secret = keys["webhook_secret"].as_str().unwrap().to_owned();
    assert!(runner.said(&webhook_secret));
    assert!(!runner.said(keys["jwt_secret"].as_str().unwrap()));
    assert!(!runner.said(keys["download_key"].as_str().unwrap()));
    // AND it listens on loopback, so it says nothing about other peers
    assert!(!runner.said("loopback peers"), "{:?}", runner.said);

    // WHEN `token` mints a seller token THEN the runner accepts it
    let minted = token(dir.path());
    let orders = http
        .get(runner.url("/orders"))
        .bearer_auth(&minted)
        .send()
        .await
        .unwrap();
    assert_eq!(orders.status().as_u16(), 200);
    // AND a token signed with the old dev key is refused
    let old = http
        .get(runner.url("/orders"))
        .bearer_auth(hs256(OLD_DEV_JWT_SECRET))
        .send()
        .await
        .unwrap();
    assert_eq!(old.status().as_u16(), 401);

    // WHEN `send-event` posts an event THEN the runner verifies it (200) and delivers
    let event = event_file(dir.path());
    let sent = command(dir.path())
        .args(["send-event", "--url", &runner.url("")])
        .arg(&event)
        .output()
        .unwrap();
    assert!(
        sent.status.success(),
        "{}",
        String::from_utf8_lossy(&sent.stderr)
    );
    // AND the same event signed with the old dev secret is refused
    let body = std::fs::read(&event).unwrap();
    let forged = http
        .post(runner.url("/webhooks/stripe"))
        .header(
            "stripe-signature",
            sign(OLD_DEV_WEBHOOK_SECRET, now_secs(), &body),
        )
        .body(body)
        .send()
        .await
        .unwrap();
    assert_eq!(forged.status().as_u16(), 400);

    // WHEN the emailed link is opened THEN it serves; a link signed with the old dev key does not
    let path = download_path(dir.path());
    let served = http.get(runner.url(&path)).send().await.unwrap();
    assert_eq!(served.status().as_u16(), 200);
    let old_link = DownloadKey::new(OLD_DEV_DOWNLOAD_KEY).sign(&DownloadClaims {
        seller_id: SELLER.into(),
        order_id: "pi_keys1".into(),
        product_id: "prod_keys".into(),
    });
    let refused = http
        .get(runner.url(&format!("/downloads/{old_link}")))
        .send()
        .await
        .unwrap();
    assert_eq!(refused.status().as_u16(), 403);
    runner.stop();

    // WHEN it starts again THEN it keeps the same keys: the token still opens, and the link
    // still verifies (404, not 403: the embedded store forgot the order, the key did not)
    let again = Runner::start(dir.path(), "127.0.0.1:0", &[]);
    assert!(again.said("made at an earlier start"), "{:?}", again.said);
    let orders = http
        .get(again.url("/orders"))
        .bearer_auth(&minted)
        .send()
        .await
        .unwrap();
    assert_eq!(orders.status().as_u16(), 200);
    let verified = http.get(again.url(&path)).send().await.unwrap();
    assert_eq!(verified.status().as_u16(), 404);
    again.stop();
}

#[tokio::test]
async fn given_a_listen_address_beyond_loopback_when_started_then_it_says_ses_events_answer_loopback_only(
) {
    // GIVEN keys in the environment (no file needed) and an address on every interface
    let dir = tempfile::tempdir().unwrap();
    let given = [
        ("STRIPE_WEBHOOK_SECRET", "whsec_test_given"),
        ("LEENKIES_JWT_SECRET", "given-jwt-secret-0123456789abcdef"),
        (
            "DOWNLOAD_SIGNING_KEY",
            "given-download-key-0123456789abcdef",
        ),
    ];
    let runner = Runner::start(dir.path(), "0.0.0.0:0", &given);
    // THEN it says so at start, and made no keys file
    assert!(
        runner.said("answers only loopback peers"),
        "{:?}",
        runner.said
    );
    assert!(!dir.path().join("keys").exists());
    runner.stop();
}
