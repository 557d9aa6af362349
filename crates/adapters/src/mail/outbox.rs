//! The outbox mailer: every email becomes one RFC 5322 file in a folder, for `leenkies-local`
//! and tests (contract section 6): `<unix_ms>-<order_id>.eml` for a customer's email,
//! `<unix_ms>-seller-<kind>.eml` for a seller's notification (section 12).
//!
//! A file is written under a temporary name and then hard-linked to its final name, so a reader
//! never sees half a message, and two emails for one order in the same millisecond never
//! overwrite each other (a duplicate send must stay visible: that is what tests count).

use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};

use async_trait::async_trait;
use base64::engine::general_purpose::STANDARD;
use base64::Engine;
use leenkies_domain::fulfillment::header_safe;
use leenkies_domain::ports::{EmailAbout, MailError, Mailer, OutgoingEmail};
use time::format_description::well_known::Rfc2822;
use time::OffsetDateTime;

/// Distinguishes emails written by this process in the same millisecond.
static SEQUENCE: AtomicU64 = AtomicU64::new(0);

/// The `From` header of every outbox email.
const SENDER: &str = "Leenkies <orders@leenkies.local>";
const MESSAGE_ID_DOMAIN: &str = "outbox.leenkies.local";

#[derive(Debug, Clone)]
pub struct OutboxMailer {
    dir: PathBuf,
}

impl OutboxMailer {
    /// Writes into `dir`, created on the first email if missing.
    pub fn new(dir: impl Into<PathBuf>) -> Self {
        Self { dir: dir.into() }
    }

    pub fn dir(&self) -> &Path {
        &self.dir
    }
}

#[async_trait]
impl Mailer for OutboxMailer {
    async fn send(&self, email: &OutgoingEmail) -> Result<String, MailError> {
        let now = OffsetDateTime::now_utc();
        let mut unix_ms = (now.unix_timestamp_nanos() / 1_000_000) as i64;
        let seq = SEQUENCE.fetch_add(1, Ordering::Relaxed);
        let order = match email.about {
            EmailAbout::Customer => file_safe(&email.order_id),
            EmailAbout::Seller(kind) => format!("seller-{}", kind.as_str()),
        };
        let message_id = format!(
            "{unix_ms}.{}.{seq}.{order}@{MESSAGE_ID_DOMAIN}",
            std::process::id()
        );
        let date = now
            .format(&Rfc2822)
            .map_err(|e| MailError::Rejected(e.to_string()))?;
        let boundary = format!("=_leenkies_{unix_ms}_{}_{seq}", std::process::id());
        let raw = render(SENDER, email, &date, &message_id, &boundary);

        tokio::fs::create_dir_all(&self.dir).await.map_err(io)?;
        let tmp = self.dir.join(format!(
            ".{unix_ms}-{order}.{}.{seq}.tmp",
            std::process::id()
        ));
        tokio::fs::write(&tmp, raw.as_bytes()).await.map_err(io)?;
        // `hard_link` fails when the name exists, unlike `rename`: bump the millisecond instead of
        // overwriting another email.
        let result = loop {
            let target = self.dir.join(format!("{unix_ms}-{order}.eml"));
            match tokio::fs::hard_link(&tmp, &target).await {
                Ok(()) => break Ok(()),
                Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => unix_ms += 1,
                Err(e) => break Err(io(e)),
            }
        };
        let _ = tokio::fs::remove_file(&tmp).await;
        result?;
        tracing::debug!(order_id = %email.order_id, message_id = %message_id, "email written to the outbox");
        Ok(message_id)
    }
}

fn io(e: std::io::Error) -> MailError {
    // A full disk or a permission problem may clear; the handler bounds retries anyway.
    MailError::Transient(format!("outbox write failed: {e}"))
}

/// Order ids are `pi_…`; anything else is reduced to a safe file-name part.
fn file_safe(order_id: &str) -> String {
    let safe: String = order_id
        .chars()
        .filter(|c| c.is_ascii_alphanumeric() || matches!(c, '_' | '-'))
        .take(100)
        .collect();
    if safe.is_empty() {
        "order".to_owned()
    } else {
        safe
    }
}

/// The whole message, CRLF line endings, multipart/alternative with a text and an HTML part.
fn render(
    sender: &str,
    email: &OutgoingEmail,
    date: &str,
    message_id: &str,
    boundary: &str,
) -> String {
    let mut headers = vec![
        format!("From: {}", header_safe(sender)),
        format!("To: {}", header_safe(&email.to)),
        format!("Subject: {}", encode_header(&header_safe(&email.subject))),
        format!("Date: {date}"),
        format!("Message-ID: <{message_id}>"),
        "MIME-Version: 1.0".to_owned(),
        format!("Content-Type: multipart/alternative; boundary=\"{boundary}\""),
    ];
    if let Some(reply_to) = &email.reply_to {
        headers.insert(2, format!("Reply-To: {}", header_safe(reply_to)));
    }
    let mut out = String::new();
    for h in headers {
        out.push_str(&h);
        out.push_str("\r\n");
    }
    out.push_str("\r\n");
    for (kind, body) in [("plain", &email.text), ("html", &email.html)] {
        out.push_str(&format!("--{boundary}\r\n"));
        out.push_str(&format!("Content-Type: text/{kind}; charset=utf-8\r\n"));
        // 8bit keeps the download link greppable (quoted-printable would break it with `=`).
        out.push_str("Content-Transfer-Encoding: 8bit\r\n\r\n");
        out.push_str(&crlf(body));
        if !out.ends_with("\r\n") {
            out.push_str("\r\n");
        }
    }
    out.push_str(&format!("--{boundary}--\r\n"));
    out
}

fn crlf(body: &str) -> String {
    body.replace("\r\n", "\n")
        .replace('\r', "\n")
        .replace('\n', "\r\n")
}

/// ASCII stays as is; anything else becomes RFC 2047 encoded words, folded so that no encoded
/// word exceeds 75 characters.
fn encode_header(value: &str) -> String {
    if value.is_ascii() {
        return value.to_owned();
    }
    let mut words = Vec::new();
    let mut chunk = String::new();
    for c in value.chars() {
        // 45 bytes of UTF-8 → 60 base64 characters + 12 of framing.
        if chunk.len() + c.len_utf8() > 45 {
            words.push(std::mem::take(&mut chunk));
        }
        chunk.push(c);
    }
    if !chunk.is_empty() {
        words.push(chunk);
    }
    words
        .iter()
        .map(|w| format!("=?UTF-8?B?{}?=", STANDARD.encode(w.as_bytes())))
        .collect::<Vec<_>>()
        .join("\r\n ")
}

#[cfg(test)]
mod tests {
    use super::*;

    fn email(order_id: &str) -> OutgoingEmail {
        OutgoingEmail {
            to: "jordan.lee@example.com".into(),
            reply_to: None,
            subject: "Your download: Cinematic LUT Pack".into(),
            text: "Download:\nhttps://x.example/downloads/abc.def\n".into(),
            html: "<p><a href=\"https://x.example/downloads/abc.def\">Download</a></p>".into(),
            order_id: order_id.into(),
            seller_id: "acct_A".into(),
            about: EmailAbout::Customer,
        }
    }

    fn eml_files(dir: &Path) -> Vec<PathBuf> {
        let mut files: Vec<PathBuf> = std::fs::read_dir(dir)
            .unwrap()
            .map(|e| e.unwrap().path())
            .collect();
        files.sort();
        files
    }

    #[tokio::test]
    async fn given_an_email_when_sent_then_one_complete_eml_file_named_by_time_and_order() {
        // GIVEN an outbox folder that does not exist yet
        let root = tempfile::tempdir().unwrap();
        let dir = root.path().join("outbox");
        let mailer = OutboxMailer::new(&dir);
        // WHEN
        let id = mailer.send(&email("pi_1")).await.unwrap();
        // THEN exactly one file, `<unix_ms>-pi_1.eml`, and no temporary file left
        let files = eml_files(&dir);
        assert_eq!(files.len(), 1);
        let name = files[0].file_name().unwrap().to_str().unwrap().to_owned();
        let (ms, rest) = name.split_once('-').unwrap();
        assert!(ms.parse::<u64>().unwrap() > 1_700_000_000_000);
        assert_eq!(rest, "pi_1.eml");
        // AND it is an RFC 5322 message with the headers and both parts
        let raw = std::fs::read_to_string(&files[0]).unwrap();
        let (head, body) = raw.split_once("\r\n\r\n").unwrap();
        for h in [
            "From: Leenkies <orders@leenkies.local>",
            "To: jordan.lee@example.com",
            "Subject: Your download: Cinematic LUT Pack",
            "Date: ",
            &format!("Message-ID: <{id}>"),
            "MIME-Version: 1.0",
            "Content-Type: multipart/alternative; boundary=",
        ] {
            assert!(head.contains(h), "{h} missing from {head}");
        }
        assert!(body.contains("Content-Type: text/plain; charset=utf-8"));
        assert!(body.contains("Content-Type: text/html; charset=utf-8"));
        assert!(body.contains("https://x.example/downloads/abc.def\r\n"));
        assert!(!raw.replace("\r\n", "").contains('\n'), "bare LF in {raw}");
    }

    #[tokio::test]
    async fn given_a_seller_notification_when_sent_then_named_by_its_kind_not_its_order() {
        // GIVEN a dispute notification about order pi_1
        let dir = tempfile::tempdir().unwrap();
        let mut e = email("pi_1");
        e.about = EmailAbout::Seller(leenkies_domain::order::notices::NoticeKind::Dispute);
        // WHEN sent
        OutboxMailer::new(dir.path()).send(&e).await.unwrap();
        // THEN the file is `<unix_ms>-seller-dispute.eml`
        let files = eml_files(dir.path());
        assert_eq!(files.len(), 1);
        let name = files[0].file_name().unwrap().to_str().unwrap().to_owned();
        let (ms, rest) = name.split_once('-').unwrap();
        assert!(ms.parse::<u64>().is_ok());
        assert_eq!(rest, "seller-dispute.eml");
    }

    #[tokio::test]
    async fn given_two_emails_for_one_order_when_sent_at_once_then_both_files_kept() {
        // GIVEN
        let dir = tempfile::tempdir().unwrap();
        let mailer = OutboxMailer::new(dir.path());
        // WHEN the same order is mailed twice in quick succession
        let e = email("pi_1");
        let (a, b) = tokio::join!(mailer.send(&e), mailer.send(&e));
        // THEN two files and two message ids: a duplicate is never hidden by an overwrite
        assert_ne!(a.unwrap(), b.unwrap());
        assert_eq!(eml_files(dir.path()).len(), 2);
    }

    #[tokio::test]
    async fn given_hostile_header_values_when_sent_then_no_extra_header_lines() {
        // GIVEN values that bypassed the domain's sanitising
        let dir = tempfile::tempdir().unwrap();
        let mut e = email("pi_../../x");
        e.subject = "Hi\r\nBcc: evil@x.example".into();
        e.to = "jo@example.com\nBcc: evil@x.example".into();
        // WHEN
        OutboxMailer::new(dir.path()).send(&e).await.unwrap();
        // THEN the file stays in the folder and no header line starts with Bcc
        let files = eml_files(dir.path());
        assert_eq!(files.len(), 1);
        assert!(files[0]
            .file_name()
            .unwrap()
            .to_str()
            .unwrap()
            .ends_with("-pi_x.eml"));
        let raw = std::fs::read_to_string(&files[0]).unwrap();
        assert!(!raw.lines().any(|l| l.starts_with("Bcc:")));
    }

    #[test]
    fn given_a_non_ascii_subject_when_encoded_then_rfc2047_words_that_decode_back() {
        let subject = "Your download: Café Pack ✨ ".repeat(4);
        let encoded = encode_header(&subject);
        let mut decoded = Vec::new();
        for word in encoded.split("\r\n ") {
            assert!(word.len() <= 75, "{word}");
            let b64 = word
                .strip_prefix("=?UTF-8?B?")
                .unwrap()
                .strip_suffix("?=")
                .unwrap();
            decoded.extend(STANDARD.decode(b64).unwrap());
        }
        assert_eq!(String::from_utf8(decoded).unwrap(), subject);
    }
}
