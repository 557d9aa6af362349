//! The orders CSV, one definition for `GET /orders/export.csv` and the export jobs: the header,
//! one row per order, and formula neutralising.
//!
//! Cells are quoted by the `csv` crate; a cell that a spreadsheet would run as a formula (starting
//! with `=`, `+`, `-`, `@`, tab or CR) is prefixed with `'`, since customer emails and product names
//! come from outside; and every cell goes through the display-text sanitiser (`crate::text`).

use crate::money::major_units;
use crate::order::view::OrderView;
use crate::order::OrderRecord;

pub const HEADER: [&str; 17] = [
    "order_id",
    "reference",
    "created_at",
    "customer_email",
    "product_id",
    "product_name",
    "amount",
    "currency",
    "payment_status",
    "refunded_amount",
    "failure_category",
    "failure_code",
    "dispute_status",
    "fulfillment_status",
    // The amounts in the major unit (`25.00`, `1000`, `1.500`) and the charge's billing name, so
    // a spreadsheet reads what Stripe's own export shows.
    "amount_decimal",
    "refunded_decimal",
    "customer_name",
];

/// Neutralises spreadsheet formula injection: a cell starting with one of OWASP's "CSV Injection"
/// characters (`=`, `+`, `-`, `@`, tab 0x09, carriage return 0x0D) gets a leading `'`, which
/// Excel, LibreOffice and Google Sheets show as text. Every other first character is safe: a
/// spreadsheet starts a formula only at one of those; separators, quotes and line feeds inside a
/// cell cannot open a new cell because the `csv` crate quotes such cells (RFC 4180); and the
/// characters that come after the first one are never evaluated on their own.
pub fn neutralise(cell: &str) -> String {
    match cell.chars().next() {
        Some('=' | '+' | '-' | '@' | '\t' | '\r') => format!("'{cell}"),
        _ => cell.to_owned(),
    }
}

fn row(record: &OrderRecord) -> [String; 17] {
    let v = OrderView::of(record);
    let opt = |o: Option<String>| o.unwrap_or_default();
    let currency = v.currency.clone().unwrap_or_default();
    let amount_decimal = v
        .amount
        .map(|a| major_units(a, &currency))
        .unwrap_or_default();
    let refunded_decimal = major_units(v.refunded_amount, &currency);
    let customer_name = record
        .facts
        .customer_name
        .as_ref()
        .map(|r| r.value.clone())
        .unwrap_or_default();
    [
        v.order_id,
        opt(v.reference),
        v.created_at,
        opt(v.customer_email),
        opt(v.product_id),
        opt(v.product_name),
        v.amount.map(|a| a.to_string()).unwrap_or_default(),
        opt(v.currency),
        v.payment_status.as_str().to_owned(),
        v.refunded_amount.to_string(),
        opt(v.failure.as_ref().map(|f| f.category.clone())),
        opt(v.failure.and_then(|f| f.code)),
        opt(v.dispute.map(|d| d.status)),
        v.fulfillment.status,
        amount_decimal,
        refunded_decimal,
        customer_name,
    ]
}

/// Renders rows (and the header first when asked) as CSV bytes, appended to `out`.
pub fn render_into(
    out: &mut Vec<u8>,
    header: bool,
    records: &[OrderRecord],
) -> Result<(), ::csv::Error> {
    let mut w = ::csv::Writer::from_writer(out);
    if header {
        w.write_record(HEADER)?;
    }
    for record in records {
        // Display text first (bidirectional controls out), then formulas: a cell that starts
        // with a control before `=` is neutralised too.
        w.write_record(
            row(record)
                .iter()
                .map(|c| neutralise(&crate::text::display_text(c))),
        )?;
    }
    w.flush()?;
    Ok(())
}

/// Renders rows (and the header first when asked) as CSV bytes.
pub fn render(header: bool, records: &[OrderRecord]) -> Result<Vec<u8>, ::csv::Error> {
    let mut out = Vec::new();
    render_into(&mut out, header, records)?;
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::{neutralise, render};
    use crate::order::facts::Reg;
    use crate::order::OrderRecord;

    #[test]
    fn given_bidi_controls_in_order_text_when_rendered_then_removed_joiners_kept_and_formulas_still_neutralised(
    ) {
        // GIVEN an order whose product name hides a formula behind an override, and whose
        // reference is a Hindi name with the zero-width joiner
        let mut order = OrderRecord::new("acct_1", "pi_1");
        order.facts.product_name = Some(Reg::new(0, 1, "\u{202E}=HYPERLINK(\"x\")".into()));
        order.facts.product_id = Some(Reg::new(0, 1, "Invoice \u{202E}fdp.exe".into()));
        order.facts.reference = Some(Reg::new(0, 1, "\u{915}\u{94d}\u{200D}\u{937}".into()));
        // WHEN rendered
        let csv = String::from_utf8(render(false, &[order]).unwrap()).unwrap();
        // THEN no bidirectional control is left, the formula is neutralised, the joiner kept
        assert!(!csv.chars().any(crate::text::is_bidi_control), "{csv}");
        assert!(csv.contains("'=HYPERLINK"), "{csv}");
        assert!(csv.contains("Invoice fdp.exe"), "{csv}");
        assert!(csv.contains("\u{915}\u{94d}\u{200D}\u{937}"), "{csv}");
    }

    #[test]
    fn given_formula_like_cells_when_neutralised_then_prefixed_and_others_untouched() {
        for (cell, want) in [
            ("=1+1", "'=1+1"),
            ("+1", "'+1"),
            ("-1", "'-1"),
            ("@x", "'@x"),
            ("\tx", "'\tx"),
            ("\rx", "'\rx"),
            ("\t=1+1", "'\t=1+1"),
            ("\r\n=1+1", "'\r\n=1+1"),
            ("\n=1+1", "\n=1+1"),
            ("a=b", "a=b"),
            ("", ""),
            ("jordan@example.com", "jordan@example.com"),
        ] {
            assert_eq!(neutralise(cell), want, "{cell:?}");
        }
    }
}
