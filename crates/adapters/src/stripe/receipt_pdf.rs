//! The order confirmation as a PDF, for Stripe's `receipt` evidence field.
//!
//! Written with `pdf-writer` (typst's PDF writer: maintained, no unsafe code, four small
//! dependencies): A4 pages of labelled lines in Helvetica, one of the standard fonts every PDF
//! reader has, so nothing is embedded and a receipt is a few kilobytes (Stripe accepts up to
//! 5 MB). Deterministic: no creation date, no random document id, so the same order gives the
//! same bytes, and so the same upload idempotency key.

use leenkies_domain::evidence::build::ReceiptDocument;
use pdf_writer::{Content, Finish, Name, Pdf, Rect, Ref, Str};

const PAGE_WIDTH: f32 = 595.0;
const PAGE_HEIGHT: f32 = 842.0;
const MARGIN: f32 = 56.0;
const FONT_SIZE: f32 = 10.0;
const TITLE_SIZE: f32 = 16.0;
const LEADING: f32 = 14.0;
/// Characters per wrapped line at 10 pt Helvetica on A4 with these margins (average glyphs).
const WRAP: usize = 88;
/// Width of the label column, in characters.
const LABEL_WIDTH: usize = 18;

/// Renders the receipt. Text the font cannot encode is shown as `?`.
pub fn render(doc: &ReceiptDocument) -> Vec<u8> {
    let lines = layout(doc);
    let per_page = ((PAGE_HEIGHT - 2.0 * MARGIN - 2.0 * LEADING) / LEADING) as usize;
    let pages: Vec<&[String]> = if lines.is_empty() {
        vec![&[]]
    } else {
        lines.chunks(per_page.max(1)).collect()
    };

    let catalog = Ref::new(1);
    let tree = Ref::new(2);
    let font = Ref::new(3);
    let bold = Ref::new(4);
    let page_ids: Vec<Ref> = (0..pages.len())
        .map(|i| Ref::new(5 + 2 * i as i32))
        .collect();
    let font_name = Name(b"F1");
    let bold_name = Name(b"F2");

    let mut pdf = Pdf::new();
    pdf.catalog(catalog).pages(tree);
    pdf.pages(tree)
        .kids(page_ids.iter().copied())
        .count(pages.len() as i32);
    pdf.type1_font(font)
        .base_font(Name(b"Helvetica"))
        .encoding_predefined(Name(b"WinAnsiEncoding"));
    pdf.type1_font(bold)
        .base_font(Name(b"Helvetica-Bold"))
        .encoding_predefined(Name(b"WinAnsiEncoding"));

    for (i, (page_id, page_lines)) in page_ids.iter().zip(pages).enumerate() {
        let content_id = Ref::new(page_id.get() + 1);
        let mut page = pdf.page(*page_id);
        page.parent(tree)
            .media_box(Rect::new(0.0, 0.0, PAGE_WIDTH, PAGE_HEIGHT))
            .contents(content_id);
        {
            // Each writer finishes its dictionary when dropped: fonts, then resources.
            let mut resources = page.resources();
            let mut fonts = resources.fonts();
            fonts.pair(font_name, font);
            fonts.pair(bold_name, bold);
        }
        page.finish();

        let mut content = Content::new();
        content.begin_text();
        let mut y = PAGE_HEIGHT - MARGIN;
        if i == 0 {
            content.set_font(bold_name, TITLE_SIZE);
            content.next_line(MARGIN, y);
            content.show(Str(&win_ansi(&doc.title)));
            y -= 2.0 * LEADING;
            content.end_text();
            content.begin_text();
        }
        content.set_font(font_name, FONT_SIZE);
        content.set_leading(LEADING);
        content.next_line(MARGIN, y);
        for line in page_lines {
            content.show(Str(&win_ansi(line)));
            content.next_line_using_leading();
        }
        content.end_text();
        pdf.stream(content_id, &content.finish());
    }
    pdf.finish()
}

/// Labelled lines, values wrapped under their label; a line without a label (an email's body,
/// a policy's text) is wrapped across the whole width.
fn layout(doc: &ReceiptDocument) -> Vec<String> {
    let mut out = Vec::new();
    for (label, value) in &doc.lines {
        if label.is_empty() {
            out.extend(wrap(value, WRAP));
            continue;
        }
        let chunks = wrap(value, WRAP - LABEL_WIDTH);
        for (i, chunk) in chunks.iter().enumerate() {
            let head = if i == 0 {
                format!("{label}:")
            } else {
                String::new()
            };
            out.push(format!("{head:<LABEL_WIDTH$}{chunk}"));
        }
    }
    out
}

/// Splits at spaces where possible, else hard at `width` characters.
fn wrap(text: &str, width: usize) -> Vec<String> {
    let mut lines = Vec::new();
    let mut current = String::new();
    for word in text.split(' ') {
        let mut word = word.to_owned();
        while word.chars().count() > width {
            if !current.is_empty() {
                lines.push(std::mem::take(&mut current));
            }
            let head: String = word.chars().take(width).collect();
            word = word.chars().skip(width).collect();
            lines.push(head);
        }
        let needed =
            current.chars().count() + usize::from(!current.is_empty()) + word.chars().count();
        if needed > width && !current.is_empty() {
            lines.push(std::mem::take(&mut current));
        }
        if !current.is_empty() {
            current.push(' ');
        }
        current.push_str(&word);
    }
    if !current.is_empty() || lines.is_empty() {
        lines.push(current);
    }
    lines
}

/// Text in the standard fonts' WinAnsi encoding (Windows-1252); anything else becomes `?`.
fn win_ansi(text: &str) -> Vec<u8> {
    text.chars()
        .map(|c| match c {
            ' '..='~' => c as u8,
            '\u{a0}'..='\u{ff}' => c as u32 as u8,
            '€' => 0x80,
            '‚' => 0x82,
            '„' => 0x84,
            '…' => 0x85,
            '‘' => 0x91,
            '’' => 0x92,
            '“' => 0x93,
            '”' => 0x94,
            '•' => 0x95,
            '–' => 0x96,
            '—' => 0x97,
            '™' => 0x99,
            _ => b'?',
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn given_long_values_when_wrapped_then_no_line_is_wider_and_nothing_is_lost() {
        let text = format!("{} {}", "word ".repeat(40).trim(), "x".repeat(150));
        let lines = wrap(&text, 70);
        assert!(lines.iter().all(|l| l.chars().count() <= 70), "{lines:?}");
        assert_eq!(lines.join(" ").replace(' ', ""), text.replace(' ', ""));
    }

    #[test]
    fn given_text_outside_win_ansi_then_question_marks_not_garbage() {
        assert_eq!(win_ansi("Café – 25 €"), b"Caf\xe9 \x96 25 \x80".to_vec());
        assert_eq!(win_ansi("日本\n"), b"???".to_vec());
    }
}
