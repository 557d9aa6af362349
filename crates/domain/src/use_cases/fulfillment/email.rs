//! What the delivery email says (contract sections 7 and 10): [`compose`] builds it. Product
//! names, references and addresses come from Stripe metadata that customers and sellers
//! control, so nothing reaches a header with a line break or control character in it, and
//! everything in the HTML body is escaped.

use crate::clock::rfc3339;
use crate::order::OrderRecord;
use crate::ports::OutgoingEmail;
use crate::store_identity::StoreIdentity;
use crate::text::recipient;

/// Why an email cannot be composed for an order.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ComposeError {
    #[error("the order has no customer email")]
    NoRecipient,
    #[error("the customer email is not a single plain address")]
    InvalidRecipient,
    #[error("the order has no product")]
    NoProduct,
}

/// Longest product name kept in a subject line, in characters.
const SUBJECT_PRODUCT_MAX: usize = 150;

/// `{PUBLIC_BASE_URL}/downloads/{token}`.
pub fn download_link(public_base_url: &str, token: &str) -> String {
    format!(
        "{}/downloads/{token}",
        public_base_url.trim_end_matches('/')
    )
}

/// The version of [`compose`]'s template, recorded with each email sent, so dispute evidence
/// can render the email again as the customer received it ([`compose_version`]). Move it on with
/// any change of the wording, keeping the older versions renderable.
pub const TEMPLATE_VERSION: u32 = 2;

/// The delivery email as template `version` wrote it (an unknown version: today's), so the
/// evidence of an email sent before the wording changed shows the words the customer read.
/// Version 1: the product table; version 2: the receipt.
pub fn compose_version(
    version: u32,
    order: &OrderRecord,
    link: &str,
    store: &StoreIdentity,
) -> Result<OutgoingEmail, ComposeError> {
    match version {
        1 => compose_v1(order, link, store),
        _ => compose(order, link, store),
    }
}

/// The delivery email for an order, written as a receipt from the seller's store: the store's
/// name first (the storefront's `store_name`, else the account's `business_profile.name`, else
/// no name and a neutral sentence: never an account id), the product and the purchase date in
/// words, one clear download button with the link also as text, what to do if the link fails
/// (reply to the store: `Reply-To` is the seller's support address when known), and the order's
/// reference and id. Subject `Your download: <product>`; the text part says the same as the HTML.
pub fn compose(
    order: &OrderRecord,
    link: &str,
    store: &StoreIdentity,
) -> Result<OutgoingEmail, ComposeError> {
    compose_to(order, link, store, None)
}

/// [`compose`], addressed to `to` (a corrected address the seller gave for a resend) instead of
/// the order's customer email when given.
pub fn compose_to(
    order: &OrderRecord,
    link: &str,
    store: &StoreIdentity,
    to: Option<&str>,
) -> Result<OutgoingEmail, ComposeError> {
    let facts = &order.facts;
    let seller = store.name_for(facts.store_name());
    let reply_to = store.support_email.as_deref().and_then(recipient);
    let to = recipient(
        to.or(facts.customer_email())
            .ok_or(ComposeError::NoRecipient)?,
    )
    .ok_or(ComposeError::InvalidRecipient)?;
    let product = single_line(facts.product_name().ok_or(ComposeError::NoProduct)?);
    let thanks = match &seller {
        Some(name) => format!("Thank you for your purchase from {name}."),
        None => "Thank you for your purchase.".to_owned(),
    };
    let heading = seller.clone().unwrap_or_else(|| "Your order".to_owned());
    let order_id = single_line(&order.order_id);
    let reference = facts.reference().map(single_line);
    let date = date_in_words(facts.created_at());
    let link = single_line(link);
    // Where a customer turns when the link fails: a reply reaches the seller only with a
    // `Reply-To`; without one, the store is named (or described) instead.
    let help = match (&reply_to, &seller) {
        (Some(_), _) => "If the link does not work, reply to this email and the store will send you a new one.".to_owned(),
        (None, Some(name)) => format!("If the link does not work, contact {name} where you bought it, with the reference below, and they will send you a new one."),
        (None, None) => "If the link does not work, contact the store where you bought it, with the reference below, and they will send you a new one.".to_owned(),
    };

    let subject_product: String = product.chars().take(SUBJECT_PRODUCT_MAX).collect();
    let subject = format!("Your download: {subject_product}");

    let reference_line = reference
        .as_deref()
        .map(|r| format!("Order reference: {r}\n"))
        .unwrap_or_default();
    let text = format!(
        "{heading}\n\
         \n\
         {thanks}\n\
         \n\
         {product}\n\
         Bought on {date}\n\
         \n\
         Download your file:\n\
         {link}\n\
         \n\
         {help}\n\
         \n\
         {reference_line}\
         Order: {order_id}\n\
         \n\
         This link is for you alone: please do not share it.\n"
    );

    let (heading_h, thanks_h, product_h, order_h, link_h, help_h) = (
        html_escape(&heading),
        html_escape(&thanks),
        html_escape(&product),
        html_escape(&order_id),
        html_escape(&link),
        html_escape(&help),
    );
    let reference_row = reference
        .as_deref()
        .map(|r| {
            format!(
                "<tr><td style=\"padding:2px 16px 2px 0;color:#4b5563\">Order reference</td><td style=\"padding:2px 0;font-weight:600\">{}</td></tr>\n",
                html_escape(r)
            )
        })
        .unwrap_or_default();
    // Inline styles only (mail clients drop style sheets), a single column that fits a phone,
    // text colours at WCAG AA contrast, and a real link as the button.
    let html = format!(
        "<!DOCTYPE html>\n\
         <html lang=\"en\"><head><meta charset=\"utf-8\">\
         <meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\
         <title>Your download: {product_h}</title></head>\n\
         <body style=\"margin:0;padding:0;background:#f6f7fb;font-family:-apple-system,'Segoe UI',Roboto,Helvetica,Arial,sans-serif;color:#111827\">\n\
         <main style=\"max-width:560px;margin:0 auto;padding:24px 16px\">\n\
         <p style=\"margin:0 0 16px;font-size:20px;font-weight:700\">{heading_h}</p>\n\
         <div style=\"background:#ffffff;border:1px solid #e5e7eb;border-radius:12px;padding:24px\">\n\
         <h1 style=\"margin:0 0 8px;font-size:22px;line-height:1.3\">Your download is ready</h1>\n\
         <p style=\"margin:0 0 20px;font-size:16px;line-height:1.5\">{thanks_h}</p>\n\
         <p style=\"margin:0;font-size:18px;font-weight:700;line-height:1.4\">{product_h}</p>\n\
         <p style=\"margin:4px 0 24px;font-size:15px;color:#4b5563\">Bought on {date}</p>\n\
         <p style=\"margin:0 0 24px\"><a href=\"{link_h}\" style=\"display:inline-block;background:#4338ca;color:#ffffff;text-decoration:none;font-weight:700;font-size:16px;padding:12px 24px;border-radius:8px\">Download your file</a></p>\n\
         <p style=\"margin:0 0 4px;font-size:14px;color:#4b5563\">Or copy this link into your browser:</p>\n\
         <p style=\"margin:0 0 20px;font-size:14px;word-break:break-all\"><a href=\"{link_h}\" style=\"color:#4338ca\">{link_h}</a></p>\n\
         <p style=\"margin:0 0 20px;font-size:15px;line-height:1.5\">{help_h}</p>\n\
         <table role=\"presentation\" style=\"border-collapse:collapse;font-size:14px\">\n\
         {reference_row}\
         <tr><td style=\"padding:2px 16px 2px 0;color:#4b5563\">Order</td><td style=\"padding:2px 0;word-break:break-all\">{order_h}</td></tr>\n\
         </table>\n\
         </div>\n\
         <p style=\"margin:16px 0 0;font-size:13px;color:#4b5563\">This link is for you alone: please do not share it.</p>\n\
         </main>\n\
         </body></html>\n"
    );

    Ok(OutgoingEmail {
        to,
        reply_to,
        subject: header_safe(&subject),
        text,
        html,
        order_id: order.order_id.clone(),
        seller_id: order.seller_id.clone(),
        about: crate::ports::EmailAbout::Customer,
    })
}

/// The purchase day in words, as the customer reads a receipt: `May 8, 2026` (UTC).
pub fn date_in_words(secs: i64) -> String {
    const MONTHS: [&str; 12] = [
        "January",
        "February",
        "March",
        "April",
        "May",
        "June",
        "July",
        "August",
        "September",
        "October",
        "November",
        "December",
    ];
    let day = purchase_date(secs);
    let mut parts = day.split('-');
    let (Some(y), Some(m), Some(d)) = (parts.next(), parts.next(), parts.next()) else {
        return day;
    };
    match (m.parse::<usize>(), d.parse::<u32>()) {
        (Ok(m @ 1..=12), Ok(d)) => format!("{} {d}, {y}", MONTHS[m - 1]),
        _ => day,
    }
}

/// Template version 1 (before the receipt): a product table and the link.
fn compose_v1(
    order: &OrderRecord,
    link: &str,
    store: &StoreIdentity,
) -> Result<OutgoingEmail, ComposeError> {
    let facts = &order.facts;
    let seller = store.name_for(facts.store_name());
    let reply_to = store.support_email.as_deref().and_then(recipient);
    let to = recipient(facts.customer_email().ok_or(ComposeError::NoRecipient)?)
        .ok_or(ComposeError::InvalidRecipient)?;
    let product = single_line(facts.product_name().ok_or(ComposeError::NoProduct)?);
    let thanks = match &seller {
        Some(name) => format!("Thank you for your purchase from {name}."),
        None => "Thank you for your purchase.".to_owned(),
    };
    let order_id = single_line(&order.order_id);
    let reference = facts.reference().map(single_line);
    let date = purchase_date(facts.created_at());
    let link = single_line(link);

    let subject_product: String = product.chars().take(SUBJECT_PRODUCT_MAX).collect();
    let subject = format!("Your download: {subject_product}");

    let reference_line = reference
        .as_deref()
        .map(|r| format!("Reference: {r}\n"))
        .unwrap_or_default();
    let text = format!(
        "{thanks}\n\
         \n\
         Product: {product}\n\
         Purchased: {date}\n\
         Order: {order_id}\n\
         {reference_line}\
         \n\
         Download your file here:\n\
         {link}\n\
         \n\
         This link is for you alone: please do not share it.\n"
    );

    let (thanks_h, product_h, order_h, link_h) = (
        html_escape(&thanks),
        html_escape(&product),
        html_escape(&order_id),
        html_escape(&link),
    );
    let reference_row = reference
        .as_deref()
        .map(|r| {
            format!(
                "<tr><th align=\"left\">Reference</th><td>{}</td></tr>\n",
                html_escape(r)
            )
        })
        .unwrap_or_default();
    let html = format!(
        "<!DOCTYPE html>\n\
         <html><head><meta charset=\"utf-8\"><title>Your download: {product_h}</title></head>\n\
         <body>\n\
         <p>{thanks_h}</p>\n\
         <table>\n\
         <tr><th align=\"left\">Product</th><td>{product_h}</td></tr>\n\
         <tr><th align=\"left\">Purchased</th><td>{date}</td></tr>\n\
         <tr><th align=\"left\">Order</th><td>{order_h}</td></tr>\n\
         {reference_row}\
         </table>\n\
         <p><a href=\"{link_h}\">Download your file</a></p>\n\
         <p>Or copy this link: {link_h}</p>\n\
         <p>This link is for you alone: please do not share it.</p>\n\
         </body></html>\n"
    );

    Ok(OutgoingEmail {
        to,
        reply_to,
        subject: header_safe(&subject),
        text,
        html,
        order_id: order.order_id.clone(),
        seller_id: order.seller_id.clone(),
        about: crate::ports::EmailAbout::Customer,
    })
}

/// The RFC 3339 date (`YYYY-MM-DD`, UTC) of a Unix time.
pub fn purchase_date(secs: i64) -> String {
    rfc3339(secs).chars().take(10).collect()
}

/// A value fit for a header: the display-text sanitiser's one line ([`crate::text::one_line`]:
/// bidirectional controls, control characters and Unicode line separators removed, surrounding
/// blanks trimmed). Removing rather than replacing means an injected `\r\nBcc: x` can only
/// ever end up as harmless text on the same line.
pub fn header_safe(value: &str) -> String {
    crate::text::one_line(value)
}

/// Like [`header_safe`], for text in a body line: keeps the layout of the body intact.
fn single_line(value: &str) -> String {
    header_safe(value)
}

/// Escapes text for HTML element content and quoted attribute values.
pub fn html_escape(value: &str) -> String {
    let mut out = String::with_capacity(value.len());
    for c in value.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            _ => out.push(c),
        }
    }
    out
}

/// The error text with the recipient's address replaced, so that it can be logged and stored.
pub fn redact(error: &str, recipient: &str) -> String {
    if recipient.is_empty() {
        error.to_owned()
    } else {
        error.replace(recipient, "<recipient>")
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::order::facts::Reg;
    use crate::store_identity::STORE_NAME_MAX;

    fn paid() -> OrderRecord {
        let mut r = OrderRecord::new("acct_A", "pi_1");
        r.version = 2;
        let f = &mut r.facts;
        f.pi_created = Some(1_778_227_200);
        f.succeeded_at = Some(1_778_227_249);
        f.amount = Some(Reg::new(0, 1, 2500));
        f.customer_email = Some(Reg::new(0, 1, "jordan.lee@example.com".into()));
        f.product_id = Some(Reg::new(0, 1, "prod_lut_pack".into()));
        f.product_name = Some(Reg::new(0, 1, "Cinematic LUT Pack".into()));
        f.reference = Some(Reg::new(0, 1, "ord_1001".into()));
        r
    }

    fn store() -> StoreIdentity {
        StoreIdentity {
            name: Some("Lumen Presets".into()),
            support_email: Some("help@lumen.example".into()),
        }
    }

    #[test]
    fn given_a_paid_order_when_composed_then_the_email_names_everything() {
        // GIVEN / WHEN
        let link = download_link("https://shop.example/", "abc.def");
        let email = compose(&paid(), &link, &store()).unwrap();
        // THEN
        assert_eq!(link, "https://shop.example/downloads/abc.def");
        assert_eq!(email.to, "jordan.lee@example.com");
        assert_eq!(email.subject, "Your download: Cinematic LUT Pack");
        for body in [&email.text, &email.html] {
            for needle in [
                "Lumen Presets",
                "Cinematic LUT Pack",
                "Bought on May 8, 2026",
                "reply to this email",
                "pi_1",
                "ord_1001",
                "Thank you for your purchase from Lumen Presets.",
                "https://shop.example/downloads/abc.def",
            ] {
                assert!(body.contains(needle), "{needle} missing from {body}");
            }
        }
        assert_eq!(
            (email.order_id.as_str(), email.seller_id.as_str()),
            ("pi_1", "acct_A")
        );
    }

    #[test]
    fn given_hostile_metadata_when_composed_then_no_header_injection_and_no_markup() {
        // GIVEN a product name with a header injection and markup
        let mut order = paid();
        order.facts.product_name = Some(Reg::new(
            0,
            1,
            "Pack\r\nBcc: victim@evil.example\u{0}<script>alert(1)</script>\u{2028}".into(),
        ));
        order.facts.reference = Some(Reg::new(0, 1, "<b>ref</b>\"'&".into()));
        // WHEN
        let email = compose(&order, "https://x.example/downloads/t", &store()).unwrap();
        // THEN the subject is one line without control characters
        assert!(!email.subject.chars().any(|c| c.is_control()));
        assert!(!email.subject.contains('\u{2028}'));
        assert!(email.subject.starts_with("Your download: PackBcc: victim"));
        // AND the HTML carries no markup from the metadata
        assert!(!email.html.contains("<script>"));
        assert!(email.html.contains("&lt;script&gt;"));
        assert!(email
            .html
            .contains("&lt;b&gt;ref&lt;/b&gt;&quot;&#39;&amp;"));
        // AND the text body keeps its lines
        assert!(email
            .text
            .contains("\n\nPackBcc: victim@evil.example<script>alert(1)</script>\nBought on "));
    }

    #[test]
    fn given_bidi_controls_in_the_product_and_store_names_when_composed_then_removed_and_joiners_kept(
    ) {
        // GIVEN a product named to read "Invoice exe.pdf", and a store whose Persian name needs
        // the zero-width non-joiner
        let mut order = paid();
        order.facts.product_name = Some(Reg::new(0, 1, "Invoice \u{202E}fdp.exe".into()));
        let persian = "\u{641}\u{631}\u{648}\u{634}\u{6af}\u{627}\u{647}\u{200C}\u{647}\u{627}";
        order.facts.store_name = Some(Reg::new(0, 1, format!("\u{2067}{persian}\u{2069}")));
        // WHEN
        let email = compose(&order, "https://x.example/downloads/t", &store()).unwrap();
        // THEN no bidirectional control reaches the subject, the text or the HTML
        for part in [&email.subject, &email.text, &email.html] {
            assert!(!part.chars().any(crate::text::is_bidi_control), "{part}");
        }
        assert!(
            email.subject.contains("Invoice fdp.exe"),
            "{}",
            email.subject
        );
        // AND the store's name is spelled as written, its joiner kept
        assert!(email.text.contains(persian), "{}", email.text);
        assert!(email.html.contains(persian));
    }

    #[test]
    fn given_store_names_when_composed_then_the_store_speaks_never_an_account_id() {
        // GIVEN the storefront's store name with quotes, accents and an injected line
        let mut order = paid();
        order.facts.store_name = Some(Reg::new(
            0,
            1,
            "Zoë's \"Café\"\r\nBcc: x@evil.example".into(),
        ));
        let email = compose(&order, "l", &store()).unwrap();
        // THEN it wins over the account's profile, on one line, escaped in HTML
        assert!(email
            .text
            .contains("Thank you for your purchase from Zoë's \"Café\"Bcc: x@evil.example."));
        assert!(email.html.contains("Zoë&#39;s &quot;Café&quot;Bcc"));
        assert!(!email.text.contains("Lumen"));
        // AND replies go to the seller's support address
        assert_eq!(email.reply_to.as_deref(), Some("help@lumen.example"));
        // GIVEN no name anywhere THEN a neutral sentence, no account id, no Reply-To
        let email = compose(&paid(), "l", &StoreIdentity::default()).unwrap();
        assert!(email
            .text
            .starts_with("Your order\n\nThank you for your purchase.\n"));
        assert!(email.text.contains("contact the store where you bought it"));
        assert!(!email.text.contains("acct_A") && !email.html.contains("acct_A"));
        assert_eq!(email.reply_to, None);
        // AND a support address that could add recipients or headers is not used
        let hostile = StoreIdentity {
            name: Some("  ".into()),
            support_email: Some("a@b.example, c@d.example".into()),
        };
        let email = compose(&paid(), "l", &hostile).unwrap();
        assert_eq!(email.reply_to, None);
        assert!(email
            .text
            .starts_with("Your order\n\nThank you for your purchase.\n"));
    }

    #[test]
    fn given_hostile_profiles_when_read_then_the_name_is_one_line_and_only_a_plain_address_replies()
    {
        // GIVEN a name with quotes, accents and an injected header line
        let id = StoreIdentity::from_profile(
            Some("  Zoë's \"Café\"\r\nBcc: x@evil.example  "),
            Some(" help@lumen.example "),
        );
        // THEN it stays on one line with its quotes and accents
        assert_eq!(
            id.name.as_deref(),
            Some("Zoë's \"Café\"Bcc: x@evil.example")
        );
        assert_eq!(id.support_email.as_deref(), Some("help@lumen.example"));
        // AND a long name is bounded, a blank one is none
        let long = StoreIdentity::from_profile(Some(&"é".repeat(500)), None);
        assert_eq!(long.name.map(|n| n.chars().count()), Some(STORE_NAME_MAX));
        assert_eq!(
            StoreIdentity::from_profile(Some(" \r\n\t"), None).name,
            None
        );
        // AND an address that could add a header or a recipient, or is no address, is dropped
        for bad in [
            "help@lumen.example\r\nBcc: x@evil.example",
            "help@lumen.example\n",
            "a@b.example, c@d.example",
            "Lumen <help@lumen.example>",
            "help@localhost",
            "help@lumen.",
            "",
        ] {
            assert_eq!(
                StoreIdentity::from_profile(None, Some(bad)).support_email,
                None,
                "{bad:?}"
            );
        }
    }

    #[test]
    fn given_a_long_product_name_when_composed_then_the_subject_is_bounded() {
        let mut order = paid();
        order.facts.product_name = Some(Reg::new(0, 1, "é".repeat(1000)));
        let email = compose(&order, "l", &StoreIdentity::default()).unwrap();
        assert_eq!(
            email.subject.chars().count(),
            "Your download: ".len() + SUBJECT_PRODUCT_MAX
        );
    }

    #[test]
    fn given_recipients_when_checked_then_only_one_plain_address_passes() {
        assert_eq!(
            recipient(" a.b@example.com\r\n").as_deref(),
            Some("a.b@example.com")
        );
        for bad in [
            "",
            "nobody",
            "a@b.com, c@d.com",
            "a@b.com;c@d.com",
            "Eve <eve@x.com>",
            "a@b@c",
            "@b.com",
            "a@",
            "a b@c.com",
        ] {
            assert_eq!(recipient(bad), None, "{bad}");
        }
    }

    #[test]
    fn given_orders_without_details_when_composed_then_errors() {
        let mut no_email = paid();
        no_email.facts.customer_email = None;
        assert_eq!(
            compose(&no_email, "l", &StoreIdentity::default()),
            Err(ComposeError::NoRecipient)
        );
        let mut bad = paid();
        bad.facts.customer_email = Some(Reg::new(0, 1, "a@b.com,c@d.com".into()));
        assert_eq!(
            compose(&bad, "l", &StoreIdentity::default()),
            Err(ComposeError::InvalidRecipient)
        );
        let mut no_product = paid();
        no_product.facts.product_id = None;
        no_product.facts.product_name = None;
        assert_eq!(
            compose(&no_product, "l", &StoreIdentity::default()),
            Err(ComposeError::NoProduct)
        );
    }

    #[test]
    fn given_an_error_naming_the_recipient_when_redacted_then_the_address_is_gone() {
        assert_eq!(
            redact("Illegal address: jo@x.com", "jo@x.com"),
            "Illegal address: <recipient>"
        );
    }

    #[test]
    fn given_a_paid_order_when_composed_then_it_reads_like_a_receipt_in_both_parts() {
        // GIVEN a paid order of a named store with a support address
        let email = compose(&paid(), "https://shop.example/downloads/abc.def", &store()).unwrap();
        // THEN the store's name comes first in both parts
        assert!(email.text.starts_with("Lumen Presets\n"));
        let body = &email.html[email.html.find("<body").unwrap()..];
        let first_text = body
            .split('>')
            .find(|p| !p.trim().is_empty() && !p.trim_start().starts_with('<'));
        assert!(
            first_text.is_some_and(|t| t.starts_with("Lumen Presets")),
            "{body}"
        );
        // AND one download button, whose link is also given as text
        assert_eq!(email.html.matches(">Download your file</a>").count(), 1);
        assert_eq!(
            email
                .html
                .matches("href=\"https://shop.example/downloads/abc.def\"")
                .count(),
            2
        );
        // AND the text part says the same things, in the same order
        let order = [
            "Lumen Presets",
            "Thank you for your purchase from Lumen Presets.",
            "Cinematic LUT Pack",
            "Bought on May 8, 2026",
            "https://shop.example/downloads/abc.def",
            "If the link does not work, reply to this email",
            "ord_1001",
            "pi_1",
            "please do not share it",
        ];
        for part in [&email.text, &email.html] {
            let mut at = 0;
            for needle in order {
                let found = part[at..].find(needle).map(|i| i + at);
                assert!(
                    found.is_some(),
                    "{needle} missing or out of order in {part}"
                );
                at = found.unwrap_or(at);
            }
        }
    }

    #[test]
    fn given_unix_times_when_put_in_words_then_month_day_year_in_utc() {
        assert_eq!(date_in_words(1_778_227_200), "May 8, 2026");
        assert_eq!(date_in_words(0), "January 1, 1970");
        assert_eq!(date_in_words(1_798_761_599), "December 31, 2026");
    }

    #[test]
    fn given_an_email_of_template_1_when_rendered_again_then_in_its_own_wording() {
        // GIVEN / WHEN the same order rendered by version 1 and by today's template
        let old = compose_version(1, &paid(), "l", &store()).unwrap();
        let now = compose_version(TEMPLATE_VERSION, &paid(), "l", &store()).unwrap();
        // THEN each says what its version said: the table then, the receipt now
        assert!(old
            .text
            .starts_with("Thank you for your purchase from Lumen Presets.\n"));
        assert!(old
            .text
            .contains("Product: Cinematic LUT Pack\nPurchased: 2026-05-08\n"));
        assert!(now.text.starts_with("Lumen Presets\n"));
        assert!(now.text.contains("Bought on May 8, 2026"));
        assert_eq!(old.subject, now.subject);
    }
}
