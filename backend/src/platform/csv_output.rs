//! CSV exports that are safe to open in a spreadsheet: a cell that starts like a formula
//! (`=`, `+`, `-`, `@`, tab, carriage return) is prefixed with `'` so it is shown, not run (OWASP).

use crate::platform::error::{Error, Result};

/// Neutralises a cell that a spreadsheet would read as a formula.
pub fn safe_cell(value: &str) -> std::borrow::Cow<'_, str> {
    match value.chars().next() {
        Some('=' | '+' | '-' | '@' | '\t' | '\r') => format!("'{value}").into(),
        _ => value.into(),
    }
}

/// Writes a header and rows as CSV (RFC 4180 quoting, formula-safe cells — header cells too:
/// they can come from an uploaded file), UTF-8 with a BOM so spreadsheet programs pick the right
/// encoding.
pub fn to_csv<H, R, I, S>(header: &[H], rows: R) -> Result<Vec<u8>>
where
    H: AsRef<str>,
    R: IntoIterator<Item = I>,
    I: IntoIterator<Item = S>,
    S: AsRef<str>,
{
    let mut out = Vec::from("\u{feff}".as_bytes());
    {
        let mut w = csv::Writer::from_writer(&mut out);
        w.write_record(header.iter().map(|h| safe_cell(h.as_ref()).into_owned())).map_err(csv_err)?;
        for row in rows {
            let cells: Vec<String> = row.into_iter().map(|c| safe_cell(c.as_ref()).into_owned()).collect();
            w.write_record(&cells).map_err(csv_err)?;
        }
        w.flush().map_err(|e| Error::Internal(format!("csv: {e}")))?;
    }
    Ok(out)
}

fn csv_err(e: csv::Error) -> Error {
    Error::Internal(format!("csv: {e}"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn formulas_are_defused_and_quoting_is_rfc4180() {
        let bytes = to_csv(
            &["name", "note"],
            vec![
                vec!["=cmd|' /C calc'!A0", "plain"],
                vec!["+1", "-2"],
                vec!["@SUM(A1)", "a,b \"q\"\nline"],
                vec!["ok", ""],
            ],
        )
        .unwrap();
        let text = String::from_utf8(bytes).unwrap();
        assert_eq!(
            text,
            "\u{feff}name,note\n'=cmd|' /C calc'!A0,plain\n'+1,'-2\n'@SUM(A1),\"a,b \"\"q\"\"\nline\"\nok,\n"
        );
    }

    #[test]
    fn header_cells_from_an_upload_are_defused_too() {
        let header = ["=HYPERLINK(\"http://evil.example\",\"x\")".to_owned(), "email".to_owned()];
        let text = String::from_utf8(to_csv(&header, [["a", "b"]]).unwrap()).unwrap();
        assert_eq!(text, "\u{feff}\"'=HYPERLINK(\"\"http://evil.example\"\",\"\"x\"\")\",email\na,b\n");
    }
}
