//! Cleaning what a scraped team page or a purchased list says about a person before it is
//! compared: emails lower-cased and validated, phones to E.164 (the `phonenumber` crate, Google's
//! libphonenumber metadata), names reduced to a first and a last name (case, accents, whitespace,
//! honorifics, generational suffixes, nicknames to their formal name).

use std::str::FromStr;

use unicode_normalization::UnicodeNormalization;

use crate::platform::csv_input::valid_email;

/// The cells of a multi-valued column: a JSON array (`["a@x.com","b@y.com"]`, as the seed's
/// `email_clean` holds them) or values separated by `;`, `,`, `|` or line breaks.
pub fn split_values(cell: &str) -> Vec<String> {
    let cell = cell.trim();
    if cell.starts_with('[') {
        if let Ok(values) = serde_json::from_str::<Vec<serde_json::Value>>(cell) {
            return values
                .into_iter()
                .filter_map(|v| match v {
                    serde_json::Value::String(s) => Some(s),
                    serde_json::Value::Number(n) => Some(n.to_string()),
                    _ => None,
                })
                .filter(|s| !s.trim().is_empty())
                .collect();
        }
    }
    cell.split([';', ',', '|', '\n', '\r']).map(str::trim).filter(|s| !s.is_empty()).map(str::to_owned).collect()
}

/// An email as the same mailbox always reads: trimmed, `mailto:` and angle brackets dropped,
/// lower-cased; Gmail's ignored dots and `+tags` removed. `None` when it is not an address.
pub fn email(raw: &str) -> Option<String> {
    let s = raw.trim().trim_start_matches("mailto:").trim_start_matches("MAILTO:").trim_matches(['<', '>', '"', '\'', ' ']);
    let lower = s.to_lowercase();
    if !valid_email(&lower) {
        return None;
    }
    let (local, domain) = lower.split_once('@')?;
    if domain == "gmail.com" || domain == "googlemail.com" {
        let local: String = local.split('+').next().unwrap_or(local).chars().filter(|&c| c != '.').collect();
        if local.is_empty() {
            return None;
        }
        return Some(format!("{local}@gmail.com"));
    }
    Some(lower)
}

/// The region numbers without a `+country` prefix are read in (ISO 3166 code, e.g. `US`, `GB`).
#[derive(Clone, Copy, Debug)]
pub struct Region(phonenumber::country::Id);

impl Region {
    pub fn parse(code: &str) -> Option<Region> {
        phonenumber::country::Id::from_str(&code.trim().to_uppercase()).ok().map(Region)
    }
}

impl Default for Region {
    fn default() -> Self {
        Region(phonenumber::country::Id::US)
    }
}

/// A phone number in E.164 (`+15125550123`) when libphonenumber's metadata says it is a valid
/// number; an extension is dropped (it reaches the same person's desk as the main number).
pub fn phone(raw: &str, region: Region) -> Option<String> {
    phone_key(raw).and_then(|k| phone_from_key(&k, region))
}

/// What a phone number's value depends on: its digits, `+` when it is international (`00` is
/// how much of the world dials that prefix), no extension. Lists repeat the same number in
/// many spellings; the resolver parses each key once.
pub fn phone_key(raw: &str) -> Option<String> {
    let raw = raw.trim();
    let lower = raw.to_ascii_lowercase();
    let main = ["ext", "x", "#", ";", "доб"].iter().filter_map(|m| lower.find(m)).min().map_or(raw, |i| &raw[..i]);
    let mut key = String::with_capacity(16);
    if main.trim_start().starts_with('+') {
        key.push('+');
    }
    key.extend(main.chars().filter(char::is_ascii_digit));
    if let Some(rest) = key.strip_prefix("00") {
        if !rest.starts_with('0') {
            key = format!("+{rest}");
        }
    }
    (key.trim_start_matches('+').len() >= 6).then_some(key)
}

/// [`phone`] from a [`phone_key`].
pub fn phone_from_key(key: &str, region: Region) -> Option<String> {
    let number = phonenumber::parse(Some(region.0), key).ok()?;
    if !valid_number(&number) {
        return None;
    }
    // The formatter keeps the leading zeros some national numbers carry (Italy's +39 06…).
    Some(number.format().mode(phonenumber::Mode::E164).to_string())
}

/// `phonenumber::is_valid`, with the metadata's patterns compiled once into plain regexes. The
/// crate looks each pattern up by its text in a mutex-guarded cache on every match, which made
/// validation 90 % of the time of loading a million records; the rules are the same (a test
/// checks the two agree).
pub fn valid_number(number: &phonenumber::PhoneNumber) -> bool {
    use std::sync::{Arc, OnceLock, RwLock};
    static RULES: OnceLock<RwLock<rustc_hash::FxHashMap<u16, Arc<CodeRules>>>> = OnceLock::new();
    let code = number.code().value();
    let rules = RULES.get_or_init(Default::default);
    let found = rules.read().ok().and_then(|m| m.get(&code).cloned());
    let rules = match found {
        Some(r) => r,
        None => {
            let built = Arc::new(CodeRules::build(code));
            if let Ok(mut m) = rules.write() {
                m.insert(code, built.clone());
            }
            built
        }
    };
    rules.valid(&number.national().to_string())
}

/// One pattern of the metadata: matched at the start of the national number, within the
/// possible lengths (as `phonenumber`'s `Descriptor::is_match`).
struct Pattern {
    re: regex::Regex,
    lengths: Vec<u16>,
}

impl Pattern {
    fn new(d: &phonenumber::metadata::Descriptor) -> Option<Pattern> {
        let re = anchored(d.national_number().as_str())?;
        Some(Pattern { re, lengths: d.possible_length().to_vec() })
    }

    fn is_match(&self, national: &str) -> bool {
        (self.lengths.is_empty() || self.lengths.contains(&(national.len() as u16))) && self.re.is_match(national)
    }
}

/// A metadata pattern matched from the start (the crate compiles them ignoring whitespace).
fn anchored(pattern: &str) -> Option<regex::Regex> {
    regex::RegexBuilder::new(&format!("^(?:{pattern})")).ignore_whitespace(true).build().ok()
}

struct RegionRules {
    leading: Option<regex::Regex>,
    general: Option<Pattern>,
    types: Vec<Pattern>,
}

impl RegionRules {
    fn new(meta: &phonenumber::Metadata) -> RegionRules {
        let d = meta.descriptors();
        let types = [d.premium_rate(), d.toll_free(), d.shared_cost(), d.voip(), d.personal_number(), d.pager(), d.uan(), d.voicemail(), d.fixed_line(), d.mobile()]
            .into_iter()
            .flatten()
            .filter_map(Pattern::new)
            .collect();
        RegionRules {
            leading: meta.leading_digits().and_then(|l| anchored(l.as_str())),
            general: Pattern::new(d.general()),
            types,
        }
    }

    /// `number_type(..) != Unknown`.
    fn has_type(&self, national: &str) -> bool {
        self.general.as_ref().is_some_and(|g| g.is_match(national)) && self.types.iter().any(|t| t.is_match(national))
    }
}

/// The regions sharing a country calling code, in the metadata's order (the US first for +1).
struct CodeRules {
    regions: Vec<RegionRules>,
    single: bool,
}

impl CodeRules {
    fn build(code: u16) -> CodeRules {
        let db = &*phonenumber::metadata::DATABASE;
        let ids = db.region(&code).unwrap_or_default();
        let regions: Vec<RegionRules> = if ids.len() == 1 && ids[0] == "001" {
            db.by_code(&code).and_then(|m| m.into_iter().next()).map(RegionRules::new).into_iter().collect()
        } else {
            ids.iter().filter_map(|id| db.by_id(*id)).map(RegionRules::new).collect()
        };
        CodeRules { single: regions.len() == 1, regions }
    }

    /// `validator::source_for` then `number_type`: the first region whose leading digits match,
    /// or (without leading digits) which gives the number a type, decides.
    fn valid(&self, national: &str) -> bool {
        if self.single {
            return self.regions[0].has_type(national);
        }
        for r in &self.regions {
            match &r.leading {
                Some(l) if l.is_match(national) => return r.has_type(national),
                Some(_) => {}
                None if r.has_type(national) => return true,
                None => {}
            }
        }
        false
    }
}

/// A person's name as compared: lower-case ASCII-folded tokens.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Name {
    /// The first name as written (cleaned), e.g. `bob`.
    pub first: String,
    /// The formal first name a nickname stands for (`bob` → `robert`), else `first`.
    pub first_canon: String,
    /// The last token of the family name, e.g. `garcia` for "María García".
    pub last: String,
    /// A generational suffix (`jr`, `sr`, `ii`, `iii`, `iv`): tells father and son apart.
    pub suffix: Option<&'static str>,
}

impl Name {
    pub fn is_empty(&self) -> bool {
        self.first.is_empty() && self.last.is_empty()
    }

    /// `first_canon last`, what the fuzzy rule compares.
    pub fn full(&self) -> String {
        match (self.first_canon.is_empty(), self.last.is_empty()) {
            (false, false) => format!("{} {}", self.first_canon, self.last),
            (false, true) => self.first_canon.clone(),
            _ => self.last.clone(),
        }
    }

    /// A name from separate first and last cells, either of which may carry honorifics, a
    /// middle name or a suffix; an empty first cell falls back to reading `full`.
    pub fn from_parts(first: &str, last: &str, full: &str) -> Name {
        if first.trim().is_empty() && last.trim().is_empty() {
            return Name::from_full(full);
        }
        // Everything in one cell ("Smith, John", "John Smith Jr."): read it as a full name.
        if last.trim().is_empty() {
            return Name::from_full(first);
        }
        let mut suffix = None;
        let mut f = strip_affixes(tokens(first), &mut suffix);
        let mut l = strip_affixes(tokens(last), &mut suffix);
        if l.is_empty() && f.len() > 1 {
            l = vec![f.pop().unwrap_or_default()];
        }
        build(f.into_iter().next().unwrap_or_default(), l.pop().unwrap_or_default(), suffix)
    }

    /// A name from one cell: "Dr. Robert 'Bob' Smith Jr.", "SMITH, ROBERT", "robert  smith".
    pub fn from_full(full: &str) -> Name {
        let mut suffix = None;
        let without_quotes = drop_bracketed(full);
        // Comma-separated parts; those made only of suffixes or honorifics ("PhD", "Jr.") are
        // affixes. Two parts left means "Last, First Middle".
        let mut parts: Vec<Vec<String>> = Vec::new();
        for part in without_quotes.split(',') {
            let t = tokens(part);
            if t.is_empty() {
                continue;
            }
            if !parts.is_empty() && t.iter().all(|w| SUFFIXES.contains(&w.as_str()) || HONORIFICS.contains(&w.as_str())) {
                if let Some(g) = t.iter().find_map(|w| GENERATIONAL.iter().find(|g| **g == w.as_str())) {
                    suffix = Some(if *g == "ii" { "jr" } else { g });
                }
                continue;
            }
            parts.push(t);
        }
        let mut words = match parts.len() {
            0 => Vec::new(),
            1 => parts.remove(0),
            _ => {
                let last = parts.remove(0);
                let mut all: Vec<String> = parts.concat();
                all.extend(last);
                all
            }
        };
        words = strip_affixes(words, &mut suffix);
        match words.len() {
            0 => Name::default(),
            1 => build(words.remove(0), String::new(), suffix),
            _ => {
                let last = words.pop().unwrap_or_default();
                build(words.remove(0), last, suffix)
            }
        }
    }
}

fn build(first: String, last: String, suffix: Option<&'static str>) -> Name {
    let first_canon = nickname(&first).map(str::to_owned).unwrap_or_else(|| first.clone());
    Name { first, first_canon, last, suffix }
}

/// Text without parenthesised or quoted parts ("Robert (Bob) Smith", `Robert "Bob" Smith`).
fn drop_bracketed(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    let mut depth = 0u32;
    let mut quoted = false;
    for c in s.chars() {
        match c {
            '(' | '[' => depth += 1,
            ')' | ']' => depth = depth.saturating_sub(1),
            '"' | '“' | '”' => quoted = !quoted,
            _ if depth == 0 && !quoted => out.push(c),
            _ => {}
        }
    }
    // An unclosed quote or bracket hid the rest: keep the text as it was rather than lose it.
    if depth > 0 || quoted {
        return s.to_owned();
    }
    out
}

/// Lower-case ASCII words: accents folded (é → e), apostrophes and dots dropped (O'Brien →
/// obrien, J.R. → jr), anything else (hyphens, commas, digits) separates words.
pub fn tokens(s: &str) -> Vec<String> {
    let mut words = Vec::new();
    let mut cur = String::new();
    for c in s.nfkd() {
        if c.is_ascii_alphabetic() {
            cur.push(c.to_ascii_lowercase());
        } else if matches!(c, '\'' | '’' | '.' | '`') || unicode_normalization::char::is_combining_mark(c) {
            // part of the word
        } else if c.is_alphabetic() {
            // Letters with no ASCII form (ß, ø, Cyrillic…) are kept as they are, lower-cased.
            cur.extend(c.to_lowercase());
        } else if !cur.is_empty() {
            words.push(std::mem::take(&mut cur));
        }
    }
    if !cur.is_empty() {
        words.push(cur);
    }
    words
}

const HONORIFICS: &[&str] = &["mr", "mrs", "ms", "miss", "mx", "dr", "prof", "sir", "madam", "dame", "rev", "hon", "capt", "sgt", "lt", "col"];
const SUFFIXES: &[&str] = &[
    "jr", "sr", "ii", "iii", "iv", "v", "phd", "md", "dds", "esq", "cpa", "mba", "jd", "rn", "pe", "cfp", "gri", "crs", "abr", "realtor",
];
const GENERATIONAL: &[&str] = &["jr", "sr", "ii", "iii", "iv"];

/// Words without leading honorifics and trailing suffixes (a generational one is remembered).
fn strip_affixes(mut words: Vec<String>, suffix: &mut Option<&'static str>) -> Vec<String> {
    while words.len() > 1 && HONORIFICS.contains(&words[0].as_str()) {
        words.remove(0);
    }
    while words.len() > 1 {
        let Some(last) = words.last() else { break };
        let Some(s) = SUFFIXES.iter().find(|s| **s == last.as_str()) else { break };
        if GENERATIONAL.contains(s) {
            *suffix = Some(if *s == "ii" { "jr" } else { s });
        }
        words.pop();
    }
    if words.len() == 1 && HONORIFICS.contains(&words[0].as_str()) {
        words.clear();
    }
    words
}

/// The formal first name a common English nickname stands for. Ambiguous short forms go to the
/// most frequent name (`chris` → christopher); the fuzzy comparison still sees the raw form.
pub fn nickname(first: &str) -> Option<&'static str> {
    NICKNAMES.binary_search_by(|(n, _)| n.cmp(&first)).ok().map(|i| NICKNAMES[i].1)
}

/// Sorted by nickname (a unit test keeps it so).
pub const NICKNAMES: &[(&str, &str)] = &[
    ("abby", "abigail"),
    ("al", "albert"),
    ("alex", "alexander"),
    ("andy", "andrew"),
    ("angie", "angela"),
    ("barb", "barbara"),
    ("becky", "rebecca"),
    ("ben", "benjamin"),
    ("beth", "elizabeth"),
    ("betty", "elizabeth"),
    ("bill", "william"),
    ("billy", "william"),
    ("bob", "robert"),
    ("bobby", "robert"),
    ("brad", "bradley"),
    ("cathy", "catherine"),
    ("charlie", "charles"),
    ("chris", "christopher"),
    ("chuck", "charles"),
    ("cindy", "cynthia"),
    ("dan", "daniel"),
    ("danny", "daniel"),
    ("dave", "david"),
    ("deb", "deborah"),
    ("debbie", "deborah"),
    ("dick", "richard"),
    ("don", "donald"),
    ("doug", "douglas"),
    ("ed", "edward"),
    ("eddie", "edward"),
    ("fred", "frederick"),
    ("gabe", "gabriel"),
    ("greg", "gregory"),
    ("hank", "henry"),
    ("jack", "john"),
    ("jake", "jacob"),
    ("jan", "janet"),
    ("jeff", "jeffrey"),
    ("jen", "jennifer"),
    ("jenny", "jennifer"),
    ("jerry", "gerald"),
    ("jess", "jessica"),
    ("jim", "james"),
    ("jimmy", "james"),
    ("joe", "joseph"),
    ("joey", "joseph"),
    ("johnny", "john"),
    ("jon", "jonathan"),
    ("josh", "joshua"),
    ("kate", "katherine"),
    ("kathy", "katherine"),
    ("katie", "katherine"),
    ("ken", "kenneth"),
    ("kim", "kimberly"),
    ("larry", "lawrence"),
    ("liz", "elizabeth"),
    ("maggie", "margaret"),
    ("matt", "matthew"),
    ("meg", "margaret"),
    ("mike", "michael"),
    ("mikey", "michael"),
    ("mitch", "mitchell"),
    ("nate", "nathan"),
    ("nick", "nicholas"),
    ("pam", "pamela"),
    ("pat", "patricia"),
    ("patty", "patricia"),
    ("peggy", "margaret"),
    ("pete", "peter"),
    ("phil", "philip"),
    ("ray", "raymond"),
    ("rich", "richard"),
    ("rick", "richard"),
    ("rob", "robert"),
    ("ron", "ronald"),
    ("sam", "samuel"),
    ("sandy", "sandra"),
    ("steve", "steven"),
    ("sue", "susan"),
    ("susie", "susan"),
    ("ted", "edward"),
    ("terry", "terrence"),
    ("tim", "timothy"),
    ("tom", "thomas"),
    ("tommy", "thomas"),
    ("tony", "anthony"),
    ("vicky", "victoria"),
    ("will", "william"),
    ("zach", "zachary"),
];

/// American Soundex (`robert` → `R163`): names that sound alike share it despite most typos.
pub fn soundex(word: &str) -> String {
    let code = soundex_code(word);
    if code[0] == 0 {
        return String::new();
    }
    code.iter().map(|&b| b as char).collect()
}

/// [`soundex`] as bytes (no allocation; all zero for a word without ASCII letters).
pub fn soundex_code(word: &str) -> [u8; 4] {
    fn code(c: u8) -> u8 {
        match c {
            b'b' | b'f' | b'p' | b'v' => b'1',
            b'c' | b'g' | b'j' | b'k' | b'q' | b's' | b'x' | b'z' => b'2',
            b'd' | b't' => b'3',
            b'l' => b'4',
            b'm' | b'n' => b'5',
            b'r' => b'6',
            b'h' | b'w' => b'h',
            _ => b'0',
        }
    }
    let mut letters = word.bytes().filter(u8::is_ascii_alphabetic).map(|b| b.to_ascii_lowercase());
    let Some(first) = letters.next() else { return [0; 4] };
    let mut out = [first.to_ascii_uppercase(), b'0', b'0', b'0'];
    let mut len = 1;
    let mut prev = code(first);
    for c in letters {
        let k = code(c);
        if k == b'h' {
            continue; // h and w don't separate equal codes
        }
        if k != b'0' && k != prev {
            out[len] = k;
            len += 1;
            if len == 4 {
                break;
            }
        }
        prev = k;
    }
    out
}

/// A cleaned name part (`harrington`, folded and lower-case for matching) as a greeting should
/// write it: the word of the name as received that it came from — accents, hyphens and
/// apostrophes kept ("García", "Smith-Jones", "O'Neil") — in its own case when that was mixed,
/// else capitalised ("HARRINGTON", "charlie" → "Harrington", "Charlie").
pub fn display_part(full: &str, cleaned: &str) -> String {
    if cleaned.is_empty() {
        return String::new();
    }
    let word = full
        .split(|c: char| c.is_whitespace() || c == ',')
        .map(|w| w.trim_matches(|c: char| !c.is_alphabetic()))
        .find(|w| tokens(w).iter().any(|t| t == cleaned));
    let word = word.unwrap_or(cleaned);
    let letters = || word.chars().filter(|c| c.is_alphabetic());
    let mixed = letters().any(char::is_uppercase) && letters().any(char::is_lowercase);
    if mixed {
        return word.to_owned();
    }
    let mut out = String::with_capacity(word.len());
    let mut start = true;
    for c in word.chars() {
        if start {
            out.extend(c.to_uppercase());
        } else {
            out.extend(c.to_lowercase());
        }
        start = matches!(c, '-' | '\'' | '’');
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn emails_table() {
        for (raw, want) in [
            ("  John.Smith@Example.COM ", Some("john.smith@example.com")),
            ("mailto:ann@realty.co.uk", Some("ann@realty.co.uk")),
            ("<bob@x.io>", Some("bob@x.io")),
            ("J.Smith+leads@GMail.com", Some("jsmith@gmail.com")),
            ("jsmith@googlemail.com", Some("jsmith@gmail.com")),
            ("not an email", None),
            ("a@b", None),
            ("a@@b.com", None),
            ("two words@x.com", None),
            ("", None),
        ] {
            assert_eq!(email(raw).as_deref(), want, "{raw:?}");
        }
    }

    #[test]
    fn phones_table() {
        let us = Region::default();
        for (raw, want) in [
            ("(512) 326-0123", Some("+15123260123")),
            ("512.326.0123", Some("+15123260123")),
            ("+1 512 326 0123", Some("+15123260123")),
            ("1-512-326-0123", Some("+15123260123")),
            ("512-326-0123 ext. 12", Some("+15123260123")),
            ("+44 20 7946 0958", Some("+442079460958")),
            ("0044 20 7946 0958", Some("+442079460958")),
            ("+49 30 901820", Some("+4930901820")),
            ("+39 06 6982 1234", Some("+390669821234")),
            ("512-326-0123 x45", Some("+15123260123")),
            ("123", None),
            ("000-000-0000", None),
        ] {
            assert_eq!(phone(raw, us).as_deref(), want, "{raw:?}");
        }
        // A national number read in the list's own region.
        assert_eq!(phone("020 7946 0958", Region::parse("gb").unwrap()).as_deref(), Some("+442079460958"));
        assert!(Region::parse("zz").is_none());
        // The key is what the value depends on: spellings of one number share it.
        assert_eq!(phone_key("(512) 326-0123 ext 9"), phone_key("512.326.0123"));
        assert_eq!(phone_key("0044 20 7946 0958").as_deref(), Some("+442079460958"));
        assert_eq!(phone_key("12-34"), None);
    }

    #[test]
    fn fast_validation_agrees_with_libphonenumber() {
        use rand::{rngs::StdRng, Rng, SeedableRng};
        let mut rng = StdRng::seed_from_u64(15);
        let mut valid = 0;
        for i in 0..6000 {
            let code = [1, 1, 1, 44, 49, 33, 39, 61, 81, 91, 52, 34, 353, 7, 86, 55][i % 16];
            let len = rng.gen_range(6..12);
            let digits: String = (0..len).map(|_| char::from(b'0' + rng.gen_range(0..10u8))).collect();
            let Ok(n) = phonenumber::parse(None, format!("+{code}{digits}")) else { continue };
            let want = phonenumber::is_valid(&n);
            assert_eq!(valid_number(&n), want, "+{code} {digits}");
            valid += usize::from(want);
        }
        assert!(valid > 500, "the sample should hold many valid numbers, got {valid}");
    }

    #[test]
    fn names_table() {
        let n = |first: &str, canon: &str, last: &str| Name {
            first: first.into(),
            first_canon: canon.into(),
            last: last.into(),
            suffix: None,
        };
        for (raw, want) in [
            ("John Smith", n("john", "john", "smith")),
            ("  JOHN   SMITH ", n("john", "john", "smith")),
            ("Dr. Robert A. Smith", n("robert", "robert", "smith")),
            ("Smith, Robert", n("robert", "robert", "smith")),
            ("Bob Smith, PhD", n("bob", "robert", "smith")),
            ("Robert \"Bob\" O'Brien", n("robert", "robert", "obrien")),
            ("José García-López", n("jose", "jose", "lopez")),
            ("Mrs. Ann", n("ann", "ann", "")),
            ("Mr.", Name::default()),
            ("Wallace, PhD, John", n("john", "john", "wallace")),
        ] {
            assert_eq!(Name::from_full(raw), want, "{raw:?}");
        }
        let jr = Name::from_full("William Gates Jr.");
        assert_eq!((jr.first_canon.as_str(), jr.last.as_str(), jr.suffix), ("william", "gates", Some("jr")));
        assert_eq!(Name::from_full("Bill Gates III").suffix, Some("iii"));
        let jr = Name::from_full("Smith Jr., Robert");
        assert_eq!((jr.first.as_str(), jr.last.as_str(), jr.suffix), ("robert", "smith", Some("jr")));
        assert_eq!(Name::from_parts("Gates, Bill", "", "").first_canon, "william");
        assert_eq!(Name::from_parts("Ms. Katie", "Holmes", ""), n("katie", "katherine", "holmes"));
        assert_eq!(Name::from_parts("Mary Jane", "", ""), n("mary", "mary", "jane"));
        assert_eq!(Name::from_parts("", "", "Jim Beam"), n("jim", "james", "beam"));
        assert_eq!(Name::from_full("Jim Beam").full(), "james beam");
    }

    #[test]
    fn nickname_table_is_sorted_and_looked_up() {
        assert!(NICKNAMES.windows(2).all(|w| w[0].0 < w[1].0), "NICKNAMES must stay sorted");
        assert_eq!(nickname("bill"), Some("william"));
        assert_eq!(nickname("william"), None);
    }

    #[test]
    fn soundex_table() {
        for (w, want) in [("robert", "R163"), ("rupert", "R163"), ("ashcraft", "A261"), ("tymczak", "T522"), ("pfister", "P236"), ("lee", "L000"), ("", "")] {
            assert_eq!(soundex(w), want, "{w}");
        }
    }

    #[test]
    fn multi_valued_cells() {
        assert_eq!(split_values(r#"["a@x.com", "b@y.com"]"#), ["a@x.com", "b@y.com"]);
        assert_eq!(split_values("a@x.com; b@y.com|c@z.com"), ["a@x.com", "b@y.com", "c@z.com"]);
        assert!(split_values("  ").is_empty());
    }

    #[test]
    fn names_are_written_as_a_greeting_needs_them() {
        for (full, cleaned, shown) in [
            ("Dr. charlie HARRINGTON", "charlie", "Charlie"),
            ("Dr. charlie HARRINGTON", "harrington", "Harrington"),
            ("María García", "garcia", "García"),
            ("ANNE SMITH-JONES", "jones", "Smith-Jones"),
            ("patrick o'neil", "oneil", "O'Neil"),
            ("Kevin McDonald", "mcdonald", "McDonald"),
            ("Smith, John", "smith", "Smith"),
            ("", "bob", "Bob"),
            ("Bob Smith", "", ""),
        ] {
            assert_eq!(super::display_part(full, cleaned), shown, "{full:?} / {cleaned:?}");
        }
    }
}
