//! Reading CSV files people upload: whatever a spreadsheet saved. Text is UTF-8 (with or without
//! a BOM), UTF-16 with a BOM, or else Windows-1252 (what Excel writes as "CSV" on Windows, a
//! superset of Latin-1); the delimiter is `,`, `;` or a tab, whichever the header line uses most.

use std::{
    fs::File,
    io::{BufRead, BufReader, Read},
    path::Path,
};

use crate::platform::error::{Error, Result};

/// Most columns an uploaded CSV may have (contact lists, personalization leads).
pub const MAX_COLUMNS: usize = 1_000;

/// An email address we would send to: one `@`, something before it, a dotted domain after it,
/// no spaces, at most 254 characters.
pub fn valid_email(email: &str) -> bool {
    let Some((local, domain)) = email.split_once('@') else { return false };
    !local.is_empty()
        && email.len() <= 254
        && !domain.contains('@')
        && domain.contains('.')
        && !domain.starts_with('.')
        && !domain.ends_with('.')
        && !domain.contains("..")
        && email.chars().all(|c| c.is_ascii_graphic() || (!c.is_ascii() && !c.is_whitespace()))
        && !email.contains(['<', '>', '(', ')', ',', ';', ':', '"', '[', ']', '\\'])
}

/// The file's text, decoded.
pub fn decode(bytes: &[u8]) -> String {
    if let Some((enc, bom_len)) = encoding_rs::Encoding::for_bom(bytes) {
        return enc.decode_without_bom_handling(&bytes[bom_len..]).0.into_owned();
    }
    match std::str::from_utf8(bytes) {
        Ok(s) => s.to_owned(),
        Err(_) => encoding_rs::WINDOWS_1252.decode_without_bom_handling(bytes).0.into_owned(),
    }
}

/// `,`, `;` or tab: the one that appears most often in the first line outside quotes.
pub fn sniff_delimiter(text: &str) -> u8 {
    let (mut counts, mut quoted) = ([0usize; 3], false);
    for c in text.chars() {
        match c {
            '\n' | '\r' if !quoted => break,
            '"' => quoted = !quoted,
            ',' if !quoted => counts[0] += 1,
            ';' if !quoted => counts[1] += 1,
            '\t' if !quoted => counts[2] += 1,
            _ => {}
        }
    }
    let best = (0..3).max_by_key(|&i| (counts[i], usize::from(i == 0))).unwrap_or(0);
    [b',', b';', b'\t'][best]
}

/// A header cell reduced to what identifies it: `First Name`, `firstName`, `first_name` and
/// `FIRST-NAME` all become `firstname`.
pub fn header_key(raw: &str) -> String {
    raw.chars().filter(char::is_ascii_alphanumeric).map(|c| c.to_ascii_lowercase()).collect()
}

/// A reader over decoded text: header row, sniffed delimiter, rows of any length (a short or
/// long row is the caller's to judge, not a parse failure).
pub fn reader(text: &str) -> csv::Reader<&[u8]> {
    csv::ReaderBuilder::new().delimiter(sniff_delimiter(text)).flexible(true).has_headers(true).from_reader(text.as_bytes())
}

/// The header cells, or a message saying the file has none.
pub fn headers(rdr: &mut csv::Reader<&[u8]>) -> Result<Vec<String>> {
    let headers = rdr.headers().map_err(|e| Error::invalid(format!("The header row cannot be read: {e}")))?;
    let cells: Vec<String> = headers.iter().map(|h| h.trim().to_owned()).collect();
    if cells.iter().all(String::is_empty) {
        return Err(Error::invalid("The file is empty: the first line must name the columns."));
    }
    Ok(cells)
}

/// Index of the first column whose key is one of `names` (already in [`header_key`] form).
pub fn find_column(headers: &[String], names: &[&str]) -> Option<usize> {
    headers.iter().position(|h| names.contains(&header_key(h).as_str()))
}

// Streaming a file from disk (uploads are never read whole): the delimiter and encoding from
// its first bytes, then records a field at a time.

/// A field's text: UTF-8 as is, otherwise read as Windows-1252 (Excel's "CSV" on Windows).
pub fn field_text(bytes: &[u8]) -> String {
    match std::str::from_utf8(bytes) {
        Ok(s) => s.trim().to_owned(),
        Err(_) => encoding_rs::WINDOWS_1252.decode_without_bom_handling(bytes).0.trim().to_owned(),
    }
}

/// The delimiter and whether a UTF-8 BOM starts the file, from its first 64 KB; UTF-16 and empty
/// files are refused with what to do.
pub fn sniff_file(path: &Path) -> Result<(u8, bool)> {
    let mut head = vec![0u8; 64 * 1024];
    let n = File::open(path).and_then(|mut f| f.read(&mut head)).map_err(|e| Error::Internal(format!("reading the upload: {e}")))?;
    head.truncate(n);
    if head.starts_with(&[0xFF, 0xFE]) || head.starts_with(&[0xFE, 0xFF]) {
        return Err(Error::invalid("The file is UTF-16 text. Save it as \"CSV UTF-8\" (or plain CSV) and upload it again."));
    }
    let bom = head.starts_with(&[0xEF, 0xBB, 0xBF]);
    let text = String::from_utf8_lossy(if bom { &head[3..] } else { &head });
    if text.trim().is_empty() {
        return Err(Error::invalid("The file is empty. Upload a CSV whose first line names the columns."));
    }
    Ok((sniff_delimiter(&text), bom))
}

/// Records of a file on disk, the header included (rows of any length).
pub fn file_reader(path: &Path, delimiter: u8) -> Result<csv::Reader<BufReader<File>>> {
    let file = File::open(path).map_err(|e| Error::Internal(format!("reading the upload: {e}")))?;
    Ok(csv::ReaderBuilder::new().delimiter(delimiter).flexible(true).has_headers(false).from_reader(BufReader::with_capacity(1 << 20, file)))
}

/// Whether the record starting at byte `start` (the file's last) has an odd number of `"`: a
/// quote opened and never closed, which swallowed the rest of the file into one cell.
pub fn unterminated_quote(path: &Path, start: u64) -> Result<bool> {
    use std::io::Seek;
    let mut f = File::open(path).map_err(|e| Error::Internal(format!("{e}")))?;
    f.seek(std::io::SeekFrom::Start(start)).map_err(|e| Error::Internal(format!("{e}")))?;
    let mut quotes = 0u64;
    let mut buf = vec![0u8; 1 << 16];
    loop {
        let n = f.read(&mut buf).map_err(|e| Error::Internal(format!("{e}")))?;
        if n == 0 {
            return Ok(quotes % 2 == 1);
        }
        quotes += buf[..n].iter().filter(|b| **b == b'"').count() as u64;
    }
}

/// Physical line numbers (as an editor shows them) for the byte offsets the csv reader reports,
/// over text in memory (`&[u8]`) or a file read once, front to back. The reader's own count skips
/// blank lines, and it reports a record's start before the line ends it skipped, so those are
/// stepped over first. `\n`, `\r\n` and a lone `\r` each end a line. Offsets must not go backwards.
pub struct LineCounter<R: BufRead> {
    inner: R,
    at: u64,
    line: u64,
    pending_cr: bool,
}

impl<R: BufRead> LineCounter<R> {
    pub fn new(inner: R) -> Self {
        LineCounter { inner, at: 0, line: 1, pending_cr: false }
    }

    fn count(&mut self, b: u8) {
        match b {
            b'\n' => {
                self.line += 1;
                self.pending_cr = false;
            }
            b'\r' => {
                if self.pending_cr {
                    self.line += 1;
                }
                self.pending_cr = true;
            }
            _ => {
                if self.pending_cr {
                    self.line += 1;
                    self.pending_cr = false;
                }
            }
        }
    }

    /// The line where a record starting at byte `offset` begins.
    pub fn line_at(&mut self, offset: u64) -> u64 {
        while self.at < offset {
            let Ok(buf) = self.inner.fill_buf() else { break };
            if buf.is_empty() {
                break;
            }
            let n = buf.len().min((offset - self.at) as usize);
            let chunk = buf[..n].to_vec();
            self.inner.consume(n);
            self.at += n as u64;
            for b in chunk {
                self.count(b);
            }
        }
        loop {
            let next = match self.inner.fill_buf() {
                Ok(buf) => buf.first().copied(),
                Err(_) => None,
            };
            match next {
                Some(b @ (b'\r' | b'\n')) => {
                    self.inner.consume(1);
                    self.at += 1;
                    self.count(b);
                }
                _ => break,
            }
        }
        self.line + u64::from(self.pending_cr)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn encodings_are_decoded() {
        assert_eq!(decode(b"\xEF\xBB\xBFzip\n"), "zip\n");
        assert_eq!(decode("Zoë".as_bytes()), "Zoë");
        assert_eq!(decode(b"Zo\xEB"), "Zoë", "Latin-1 / Windows-1252 byte");
        assert_eq!(decode(b"\xFF\xFEz\x00i\x00p\x00"), "zip", "UTF-16LE with BOM");
    }

    #[test]
    fn delimiters_are_sniffed_outside_quotes() {
        assert_eq!(sniff_delimiter("zip;workspace\n1;2"), b';');
        assert_eq!(sniff_delimiter("zip\tworkspace"), b'\t');
        assert_eq!(sniff_delimiter("\"a;b;c\",d\n"), b',');
        assert_eq!(sniff_delimiter("zip"), b',');
    }

    #[test]
    fn line_numbers_count_every_kind_of_line_end() {
        let text = "a\r\nb\n\nc\rd";
        let mut lines = LineCounter::new(text.as_bytes());
        assert_eq!(lines.line_at(0), 1);
        assert_eq!(lines.line_at(3), 2);
        assert_eq!(lines.line_at(5), 4, "from the blank line before it, the record starts on line 4");
        assert_eq!(lines.line_at(8), 5, "a lone CR ends a line");
    }

    #[test]
    fn header_keys_ignore_case_and_punctuation() {
        for h in ["First Name", "firstName", "first_name", "FIRST-NAME", " first name "] {
            assert_eq!(header_key(h), "firstname", "{h}");
        }
        let headers = vec!["Name".to_owned(), "ZIP Code".to_owned(), "zip".to_owned()];
        assert_eq!(find_column(&headers, &["zip", "zipcode"]), Some(1), "the first match wins");
        assert_eq!(find_column(&headers, &["state"]), None);
    }
}
