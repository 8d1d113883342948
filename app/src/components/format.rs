//! Numbers as people read them. A missing ratio (zero denominator) shows as "—".

pub const NONE: &str = "—";

/// 0.625 → `62.5 %`; 12.5 → `1,250.0 %`.
pub fn percent(value: Option<f64>) -> String {
    match value {
        Some(v) if v.is_finite() => format!("{} %", one_decimal(v * 100.0)),
        _ => NONE.into(),
    }
}

/// 27.99 → `28.0`; 1234.56 → `1,234.6` (thousands grouped like [`thousands`]).
pub fn one_decimal(v: f64) -> String {
    if !v.is_finite() {
        return NONE.into();
    }
    let tenths = (v * 10.0).round() as i64;
    let sign = if tenths < 0 { "-" } else { "" };
    format!("{sign}{}.{}", thousands((tenths / 10).abs()), (tenths % 10).abs())
}

/// 12345 → `12,345`.
pub fn thousands(n: i64) -> String {
    let digits = n.unsigned_abs().to_string();
    let mut out = String::new();
    for (i, c) in digits.chars().enumerate() {
        if i > 0 && (digits.len() - i) % 3 == 0 {
            out.push(',');
        }
        out.push(c);
    }
    if n < 0 {
        format!("-{out}")
    } else {
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn formats() {
        assert_eq!(percent(Some(0.625)), "62.5 %");
        assert_eq!(percent(None), "—");
        assert_eq!(percent(Some(f64::INFINITY)), "—");
        assert_eq!(thousands(1_234_567), "1,234,567");
        assert_eq!(thousands(-1200), "-1,200");
        assert_eq!(one_decimal(27.96), "28.0");
        assert_eq!(one_decimal(1234.56), "1,234.6");
        assert_eq!(one_decimal(-0.04), "0.0");
        assert_eq!(one_decimal(-1200.25), "-1,200.3");
        assert_eq!(percent(Some(12.5)), "1,250.0 %");
        assert_eq!(percent(Some(-1.0)), "-100.0 %");
    }
}
