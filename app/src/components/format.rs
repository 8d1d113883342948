//! Numbers as people read them. A missing ratio (zero denominator) shows as "—".

pub const NONE: &str = "—";

/// 0.625 → `62.5 %`.
pub fn percent(value: Option<f64>) -> String {
    match value {
        Some(v) if v.is_finite() => format!("{:.1} %", v * 100.0),
        _ => NONE.into(),
    }
}

/// 27.99 → `28.0`.
pub fn one_decimal(v: f64) -> String {
    format!("{v:.1}")
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
    }
}
