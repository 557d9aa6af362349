//! Display text from outside (Stripe's objects, the storefront's metadata, a seller's Stripe
//! profile): the one sanitiser every place that shows it uses — the email's headers and body and
//! the store's name in it ([`one_line`], through `fulfillment::header_safe`), the CSV and the
//! order as the API and the page show it ([`display_text`]).
//!
//! The bidirectional embedding, override and isolate controls (U+202A–U+202E, U+2066–U+2069)
//! are removed: with them a product named `Invoice \u{202E}fdp.exe` reads "Invoice exe.pdf" in a
//! mail sent from the platform's address. The zero-width joiner and non-joiner (U+200D, U+200C)
//! and the implicit marks (U+200E, U+200F, U+061C) are kept: Persian, Indic and emoji names need
//! the joiners to be spelled right, and the marks cannot reorder text beyond their own run. The
//! page also isolates each value it shows (`dir="auto"`), so a right-to-left name cannot
//! reorder the text around it.

use std::borrow::Cow;

/// U+202A–U+202E (LRE, RLE, PDF, LRO, RLO) and U+2066–U+2069 (LRI, RLI, FSI, PDI).
pub fn is_bidi_control(c: char) -> bool {
    matches!(c, '\u{202A}'..='\u{202E}' | '\u{2066}'..='\u{2069}')
}

/// `text` without bidirectional controls; borrowed when there were none.
pub fn display_text(text: &str) -> Cow<'_, str> {
    if text.chars().any(is_bidi_control) {
        Cow::Owned(text.chars().filter(|c| !is_bidi_control(*c)).collect())
    } else {
        Cow::Borrowed(text)
    }
}

/// [`display_text`] as an owned string (for the views).
pub fn shown(text: &str) -> String {
    display_text(text).into_owned()
}

/// Text fit for one line of a mail header or body: [`display_text`], and control characters (CR,
/// LF, tab, NUL, DEL, C1) and Unicode line and paragraph separators removed, surrounding blanks
/// trimmed. Removing rather than replacing means an injected `\r\nBcc: x` can only ever end up
/// as harmless text on the same line.
pub fn one_line(text: &str) -> String {
    text.chars()
        .filter(|c| {
            !c.is_control() && !matches!(c, '\u{2028}' | '\u{2029}') && !is_bidi_control(*c)
        })
        .collect::<String>()
        .trim()
        .to_owned()
}

/// The customer address as one plain `local@domain` address, or `None` when it could smuggle in
/// more (a comma or semicolon adds recipients, angle brackets and quotes change the display
/// form) or is not an address at all.
pub fn recipient(email: &str) -> Option<String> {
    let email = one_line(email);
    let forbidden = |c: char| c.is_whitespace() || ",;<>\"()[]\\:".contains(c);
    let (local, domain) = email.split_once('@')?;
    let plain = !email.is_empty()
        && email.len() <= 254
        && !local.is_empty()
        && !domain.is_empty()
        && !domain.contains('@')
        && !email.chars().any(forbidden);
    plain.then_some(email)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Strings that try to reorder what the reader sees.
    const ATTACKS: [(&str, &str); 6] = [
        ("Invoice \u{202E}fdp.exe", "Invoice fdp.exe"),
        ("\u{202D}Pack\u{202C}", "Pack"),
        ("a\u{202A}b\u{202B}c", "abc"),
        ("\u{2066}x\u{2069}\u{2067}y\u{2068}z", "xyz"),
        ("=\u{202E}1+1", "=1+1"),
        ("\u{202E}\u{202E}\u{202E}", ""),
    ];

    /// Names that must reach the reader exactly as written.
    const MUST_SURVIVE: [&str; 8] = [
        // Persian with the zero-width non-joiner (می‌خواهم).
        "\u{645}\u{6cc}\u{200C}\u{62e}\u{648}\u{627}\u{647}\u{645}",
        // Hindi conjunct with the joiner (क्‍ष), and Malayalam chillu with ZWJ.
        "\u{915}\u{94d}\u{200D}\u{937}",
        "\u{d28}\u{d4d}\u{200D}",
        // Emoji sequences joined by ZWJ: family, rainbow flag, woman technologist.
        "\u{1F468}\u{200D}\u{1F469}\u{200D}\u{1F467}",
        "\u{1F3F3}\u{FE0F}\u{200D}\u{1F308}",
        "\u{1F469}\u{1F3FD}\u{200D}\u{1F4BB}",
        // Hebrew and Arabic with the implicit marks, which are kept.
        "\u{5e9}\u{5dc}\u{5d5}\u{5dd}\u{200F} 2.0",
        "\u{645}\u{631}\u{62d}\u{628}\u{627}\u{61C} LUT",
    ];

    #[test]
    fn given_bidi_attacks_when_shown_then_the_controls_are_gone_and_the_rest_kept() {
        for (attack, want) in ATTACKS {
            assert_eq!(display_text(attack), want, "{attack:?}");
            assert_eq!(one_line(attack), want.trim(), "{attack:?}");
            assert!(!one_line(attack).chars().any(is_bidi_control));
        }
    }

    #[test]
    fn given_persian_indic_and_emoji_names_when_shown_then_unchanged_joiners_and_all() {
        for name in MUST_SURVIVE {
            assert!(matches!(display_text(name), Cow::Borrowed(_)), "{name}");
            assert_eq!(one_line(name), name);
        }
    }

    #[test]
    fn given_header_injection_when_made_one_line_then_no_line_break_survives() {
        assert_eq!(
            one_line(" Pack\r\nBcc: x@evil.example\u{2028}\u{0}\u{85} "),
            "PackBcc: x@evil.example"
        );
    }
}
