//! Money on screen: dollars typed by people, cents everywhere else.

/// `"150"`, `"150.5"`, `"$1,250.00"` → cents. The message says what to fix.
pub fn parse_dollars(raw: &str) -> Result<i64, String> {
    let cleaned: String = raw.trim().trim_start_matches('$').chars().filter(|c| *c != ',').collect();
    if cleaned.is_empty() {
        return Ok(0);
    }
    let bad = || format!("{raw:?} is not an amount in dollars (e.g. 150 or 150.00).");
    let (whole, frac) = cleaned.split_once('.').unwrap_or((&cleaned, ""));
    if whole.is_empty() && frac.is_empty() || frac.len() > 2 || !whole.chars().chain(frac.chars()).all(|c| c.is_ascii_digit()) {
        return Err(bad());
    }
    let whole: i64 = if whole.is_empty() { 0 } else { whole.parse().map_err(|_| bad())? };
    let frac: i64 = format!("{frac:0<2}").parse().map_err(|_| bad())?;
    whole.checked_mul(100).and_then(|c| c.checked_add(frac)).ok_or_else(bad)
}

/// 1234567 → `$12,345.67`.
pub fn format_cents(cents: i64) -> String {
    let sign = if cents < 0 { "-" } else { "" };
    let cents = cents.unsigned_abs();
    let dollars = (cents / 100).to_string();
    let mut grouped = String::new();
    for (i, c) in dollars.chars().enumerate() {
        if i > 0 && (dollars.len() - i) % 3 == 0 {
            grouped.push(',');
        }
        grouped.push(c);
    }
    format!("{sign}${grouped}.{:02}", cents % 100)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn dollars_parse_to_cents() {
        assert_eq!(parse_dollars("150"), Ok(15_000));
        assert_eq!(parse_dollars("150.5"), Ok(15_050));
        assert_eq!(parse_dollars(" $1,250.07 "), Ok(125_007));
        assert_eq!(parse_dollars(""), Ok(0));
        for bad in ["abc", "1.234", "-5", "1.2.3", "."] {
            assert!(parse_dollars(bad).is_err(), "{bad:?}");
        }
    }

    #[test]
    fn cents_format_with_grouping() {
        assert_eq!(format_cents(1_234_567), "$12,345.67");
        assert_eq!(format_cents(5), "$0.05");
        assert_eq!(format_cents(-100_000), "-$1,000.00");
    }
}
