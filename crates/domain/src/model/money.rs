//! Amounts as people read them: Stripe sends integers in the currency's minor unit, and its own
//! table says how many decimals each currency has (zero-decimal `jpy`, three-decimal `kwd`, two
//! for every other one, `isk` and `huf` included: Stripe keeps those two-decimal in the API).

/// Decimals of a currency's API amounts in Stripe's table (any case; unknown codes: 2).
pub fn decimals(currency: &str) -> u32 {
    match currency.to_ascii_lowercase().as_str() {
        "bif" | "clp" | "djf" | "gnf" | "jpy" | "kmf" | "krw" | "mga" | "pyg" | "rwf" | "ugx"
        | "vnd" | "vuv" | "xaf" | "xof" | "xpf" => 0,
        "bhd" | "jod" | "kwd" | "omr" | "tnd" => 3,
        _ => 2,
    }
}

/// The amount in the major unit as a plain decimal number, as a spreadsheet reads it:
/// `2500 usd` → `25.00`, `1000 jpy` → `1000`, `1500 kwd` → `1.500`, `-5 eur` → `-0.05`.
pub fn major_units(amount: i64, currency: &str) -> String {
    let d = decimals(currency);
    let sign = if amount < 0 { "-" } else { "" };
    let abs = amount.unsigned_abs();
    if d == 0 {
        return format!("{sign}{abs}");
    }
    let unit = 10u64.pow(d);
    format!(
        "{sign}{}.{:0width$}",
        abs / unit,
        abs % unit,
        width = d as usize
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn given_stripes_currency_table_when_amounts_are_shown_in_major_units_then_decimals_follow_it()
    {
        assert_eq!(major_units(2500, "usd"), "25.00");
        assert_eq!(major_units(2500, "USD"), "25.00");
        assert_eq!(major_units(1000, "jpy"), "1000");
        assert_eq!(major_units(1500, "kwd"), "1.500");
        assert_eq!(major_units(1234560, "kwd"), "1234.560");
        assert_eq!(major_units(5, "eur"), "0.05");
        assert_eq!(major_units(-5, "eur"), "-0.05");
        assert_eq!(major_units(100, "isk"), "1.00");
        assert_eq!(major_units(0, "usd"), "0.00");
        assert_eq!(major_units(i64::MIN, "usd"), "-92233720368547758.08");
    }
}
