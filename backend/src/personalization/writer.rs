//! One lead's first line: research the company with Perplexity, then have Claude (through
//! OpenRouter) write the line from the lead's data and that research — or, with no keys, the
//! built-in template writer composes one from the row alone ("template, not AI"). Every line is
//! checked: at most 25 words, no unfilled placeholders, and nothing named that the lead data and
//! research do not contain. An AI line that fails the check is regenerated once, told why.

use serde_json::{Map, Value};

use crate::connectors::ai::{AiError, CallRecord, Message, Provider};

/// Longest line, in words.
pub const MAX_WORDS: usize = 25;

crate::sql_text_enum!(
    /// Who writes the lines of a run.
    pub enum Writer ("writer") { Ai = "ai", Template = "template" }
);

impl Writer {
    /// As shown to people: the template writer is never passed off as AI.
    pub fn label(self) -> &'static str {
        match self {
            Writer::Ai => "AI (Perplexity + Claude)",
            Writer::Template => "template, not AI",
        }
    }
}

/// What the campaign tells the writer.
#[derive(Clone, Debug, Default)]
pub struct Brief {
    /// What the client sells.
    pub offer: String,
    /// A first line in the voice wanted.
    pub example_line: String,
}

/// The two providers (both configured, or AI is not offered).
#[derive(Clone)]
pub struct AiWriters {
    pub research: Provider,
    pub write: Provider,
}

/// A written line, or why there is none.
#[derive(Debug, Default)]
pub struct LeadResult {
    pub outcome: Outcome,
    pub research: Option<String>,
    pub calls: Vec<CallRecord>,
}

#[derive(Debug, Default, PartialEq, Eq)]
pub enum Outcome {
    Line(String),
    Failed(String),
    /// A provider refused in a way every lead would hit (key, credits, model): stop the run.
    Fatal(String),
    #[default]
    NotRun,
}

fn field<'a>(fields: &'a Map<String, Value>, name: &str) -> Option<&'a str> {
    fields.get(name).and_then(Value::as_str).map(str::trim).filter(|v| !v.is_empty())
}

/// The lead's data as lines of `name: value`, for prompts (known fields first).
fn lead_facts(fields: &Map<String, Value>) -> String {
    const ORDER: &[&str] = &["first_name", "last_name", "full_name", "title", "company", "website", "industry", "city", "state", "country", "linkedin"];
    let mut out = String::new();
    for name in ORDER {
        if let Some(v) = field(fields, name) {
            out.push_str(&format!("{name}: {v}\n"));
        }
    }
    for (name, v) in fields {
        if !ORDER.contains(&name.as_str()) && name != "email" && name != "phone" {
            if let Some(v) = v.as_str().filter(|v| !v.trim().is_empty()) {
                out.push_str(&format!("{name}: {}\n", v.chars().take(300).collect::<String>()));
            }
        }
    }
    out
}

/// The company's web address: the website column, else the email's domain (unless a mailbox provider).
fn company_site(fields: &Map<String, Value>) -> Option<String> {
    if let Some(w) = field(fields, "website") {
        return Some(w.to_owned());
    }
    let domain = field(fields, "email")?.rsplit_once('@')?.1.to_lowercase();
    const MAILBOXES: &[&str] = &["gmail.com", "yahoo.com", "hotmail.com", "outlook.com", "aol.com", "icloud.com", "live.com", "msn.com", "protonmail.com", "me.com"];
    (!MAILBOXES.contains(&domain.as_str())).then_some(domain)
}

pub fn research_prompt(fields: &Map<String, Value>) -> Vec<Message> {
    let company = field(fields, "company").unwrap_or("the company");
    let mut ask = format!("Company: {company}\n");
    if let Some(site) = company_site(fields) {
        ask.push_str(&format!("Website: {site}\n"));
    }
    let place: Vec<&str> = ["city", "state", "country"].iter().filter_map(|f| field(fields, f)).collect();
    if !place.is_empty() {
        ask.push_str(&format!("Location: {}\n", place.join(", ")));
    }
    if let Some(industry) = field(fields, "industry") {
        ask.push_str(&format!("Industry: {industry}\n"));
    }
    ask.push_str(
        "\nIn 3 to 5 short bullet points: what the company does, who it serves, and anything specific and recent \
         (last 12 months: news, launches, hiring, awards, expansions). Facts only, each with its source.",
    );
    vec![
        Message::system(
            "You research companies for a sales rep who writes short, specific cold emails. Be factual and brief. \
             If you cannot find reliable information about this exact company, answer only: No reliable information found.",
        ),
        Message::user(ask),
    ]
}

pub fn writing_prompt(fields: &Map<String, Value>, research: &str, brief: &Brief) -> Vec<Message> {
    let mut system = String::from(
        "# Task\n\
         Write the opening line of a cold email to the person below: one sentence that shows we looked at their company.\n\n\
         # Guidelines\n\
         - At most 25 words.\n\
         - Use only facts from the lead data and the research. Never invent names, numbers, events or places.\n\
         - No placeholders or brackets, no greeting (no \"Hi Ann\"), no pitch, no question.\n\
         - Plain, warm and specific; no flattery clichés (\"I hope this finds you well\", \"I love what you're doing\").\n\
         - Answer with JSON only: {\"personalized_sentence\": \"…\"}\n\n\
         # Example\n\
         Lead: Dana Ruiz, Owner, Ruiz Roofing (Austin, TX). Research: family-owned since 1998; added solar roofing in 2024.\n\
         Answer: {\"personalized_sentence\": \"Adding solar roofing in 2024 to a family business that has served Austin since 1998 is a smart way to grow.\"}\n",
    );
    if !brief.offer.trim().is_empty() {
        system.push_str(&format!("\n# What we offer (context only; do not pitch it)\n{}\n", brief.offer.trim()));
    }
    if !brief.example_line.trim().is_empty() {
        system.push_str(&format!("\n# A line in the voice we want\n{}\n", brief.example_line.trim()));
    }
    let user = format!("# Lead\n{}\n# Research\n{}\n", lead_facts(fields), research.trim());
    vec![Message::system(system), Message::user(user)]
}

/// A line is one line: any run of whitespace — line breaks from a quoted CSV cell or from the
/// model included — becomes one space, so exports and mail merges get a single line.
fn one_line(text: &str) -> String {
    text.split_whitespace().collect::<Vec<_>>().join(" ")
}

/// The sentence out of the writer's answer: JSON `{"personalized_sentence": …}` (possibly in a
/// code fence or after some words), else the text itself — always as one line.
pub fn parse_line(answer: &str) -> String {
    one_line(&parse_answer(answer))
}

fn parse_answer(answer: &str) -> String {
    let from_json = |s: &str| serde_json::from_str::<Value>(s).ok().and_then(|v| v.get("personalized_sentence").and_then(Value::as_str).map(str::to_owned));
    let trimmed = answer.trim();
    if let Some(line) = from_json(trimmed) {
        return line.trim().to_owned();
    }
    if let (Some(start), Some(end)) = (trimmed.find('{'), trimmed.rfind('}')) {
        if start < end {
            if let Some(line) = from_json(&trimmed[start..=end]) {
                return line.trim().to_owned();
            }
        }
    }
    trimmed.trim_matches(|c| c == '"' || c == '`').trim().to_owned()
}

/// Words a line may use without a source: sentence starters, connectives and the like are never
/// "facts", so only capitalised words elsewhere and anything with a digit are checked.
fn is_checked_token(token: &str, sentence_start: bool) -> bool {
    // Business words that name no fact about the lead.
    const COMMON: &[&str] = &["CEO", "CTO", "COO", "CFO", "CMO", "VP", "B2B", "B2C", "SaaS", "AI", "HVAC", "DIY"];
    if COMMON.contains(&token) {
        return false;
    }
    let has_digit = token.chars().any(|c| c.is_ascii_digit());
    let capitalised = token.chars().next().is_some_and(char::is_uppercase);
    has_digit || (capitalised && !sentence_start && token != "I" && !token.starts_with("I'"))
}

/// Why a line cannot be used, or `None` when it can. `sources`: the lead's values, the research
/// and the campaign brief — every name or number in the line must appear in one of them.
pub fn check_line(line: &str, sources: &[&str]) -> Option<String> {
    let line = line.trim();
    if line.is_empty() {
        return Some("the line is empty".into());
    }
    let words = line.split_whitespace().count();
    if words > MAX_WORDS {
        return Some(format!("the line has {words} words; at most {MAX_WORDS}"));
    }
    let lower = line.to_lowercase();
    let placeholder = line.contains(['{', '}', '[', ']', '<', '>'])
        || ["first_name", "firstname", "company_name", "xxx", "insert "].iter().any(|p| lower.contains(p));
    if placeholder {
        return Some("the line has an unfilled placeholder".into());
    }
    let haystack = sources.iter().map(|s| s.to_lowercase()).collect::<Vec<_>>().join("\n");
    let mut sentence_start = true;
    let mut unknown = Vec::new();
    for raw in line.split_whitespace() {
        let token = raw.trim_matches(|c: char| !c.is_alphanumeric());
        let token = token.strip_suffix("'s").or_else(|| token.strip_suffix("’s")).unwrap_or(token);
        if !token.is_empty() && is_checked_token(token, sentence_start) && !haystack.contains(&token.to_lowercase()) {
            unknown.push(token.to_owned());
        }
        sentence_start = raw.ends_with(['.', '!', '?', ':']);
    }
    if !unknown.is_empty() {
        return Some(format!("the line mentions {} — not in the lead data or research", unknown.join(", ")));
    }
    None
}

/// The built-in writer: a line from the row's own fields only. Deterministic, offline, and
/// always within the limits (the longest variant that fits is taken).
pub fn template_line(fields: &Map<String, Value>) -> String {
    let company = field(fields, "company").unwrap_or("your company");
    let name = field(fields, "first_name").or_else(|| field(fields, "full_name").and_then(|n| n.split_whitespace().next()));
    let title = field(fields, "title");
    let city = field(fields, "city");
    let mut options = Vec::new();
    let who = name.map(|n| format!("{n}, ")).unwrap_or_default();
    if let (Some(title), Some(city)) = (title, city) {
        options.push(format!("{who}as {title} at {company} in {city}, you likely decide how new business comes in."));
    }
    if let Some(title) = title {
        options.push(format!("{who}as {title} at {company}, you likely decide how new business comes in."));
    }
    if let Some(city) = city {
        options.push(format!("{who}I came across {company} in {city} and had an idea for bringing in new business."));
    }
    options.push(format!("{who}I came across {company} and had an idea for bringing in new business."));
    options.push(format!("{who}a quick idea for {company}."));
    options.push(format!("{who}a quick idea for your team."));
    let line = options.into_iter().map(|l| one_line(&l)).find(|l| l.split_whitespace().count() <= MAX_WORDS).unwrap_or_default();
    let mut chars = line.chars();
    chars.next().map(|c| c.to_uppercase().chain(chars).collect()).unwrap_or_default()
}

/// Sources a line may draw from: every value of the lead, the research, the brief.
fn sources<'a>(fields: &'a Map<String, Value>, research: &'a str, brief: &'a Brief) -> Vec<&'a str> {
    let mut out: Vec<&str> = fields.values().filter_map(Value::as_str).collect();
    out.extend([research, brief.offer.as_str()]);
    out
}

/// Personalizes one lead with the AI writers.
pub async fn personalize_with_ai(writers: &AiWriters, fields: &Map<String, Value>, brief: &Brief) -> LeadResult {
    let mut result = LeadResult::default();
    let research = match writers.research.chat(&research_prompt(fields), 500, 0.2, &mut result.calls).await {
        Ok(a) if a.sources.is_empty() => a.content,
        Ok(a) => format!("{}\n\nSources: {}", a.content, a.sources.join(" ")),
        Err(e) => {
            result.outcome = failure(e, "research");
            return result;
        }
    };
    result.research = Some(research.clone());
    let mut messages = writing_prompt(fields, &research, brief);
    for round in 0..2 {
        let answer = match writers.write.chat(&messages, 200, 0.7, &mut result.calls).await {
            Ok(a) => a.content,
            Err(e) => {
                result.outcome = failure(e, "writing");
                return result;
            }
        };
        let line = parse_line(&answer);
        match check_line(&line, &sources(fields, &research, brief)) {
            None => {
                result.outcome = Outcome::Line(line);
                return result;
            }
            Some(why) if round == 0 => {
                messages.push(Message::assistant(answer));
                messages.push(Message::user(format!("That line cannot be used: {why}. Write it again, following every guideline. JSON only.")));
            }
            Some(why) => result.outcome = Outcome::Failed(format!("the line written twice was unusable: {why}")),
        }
    }
    result
}

fn failure(e: AiError, step: &str) -> Outcome {
    match e {
        AiError::Fatal(why) => Outcome::Fatal(why),
        AiError::Failed(why) => Outcome::Failed(format!("{step}: {why}")),
    }
}

/// Personalizes one lead with the template writer (no calls, no research).
pub fn personalize_with_template(fields: &Map<String, Value>) -> LeadResult {
    let line = template_line(fields);
    let outcome = match check_line(&line, &sources(fields, "", &Brief::default())) {
        None => Outcome::Line(line),
        Some(why) => Outcome::Failed(format!("the template could not write a usable line: {why}")),
    };
    LeadResult { outcome, research: None, calls: Vec::new() }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn fields(pairs: &[(&str, &str)]) -> Map<String, Value> {
        pairs.iter().map(|(k, v)| (k.to_string(), Value::String(v.to_string()))).collect()
    }

    #[test]
    fn lines_over_25_words_or_with_placeholders_are_refused() {
        let ok = "Adding solar roofing in 2024 to a family business that has served Austin since 1998 is a smart way to grow.";
        let src = ["Ruiz Roofing", "Austin", "family-owned since 1998; added solar roofing in 2024"];
        assert_eq!(check_line(ok, &src), None);
        let words25 = vec!["word"; 25].join(" ");
        assert_eq!(check_line(&words25, &src), None, "25 words is the limit, inclusive");
        let words26 = vec!["word"; 26].join(" ");
        assert_eq!(check_line(&words26, &src).unwrap(), "the line has 26 words; at most 25");
        for bad in ["Great work at {company}.", "Hi [First Name], love it.", "Congrats on <recent news>.", "Hi FIRST_NAME, nice site."] {
            assert_eq!(check_line(bad, &src).as_deref(), Some("the line has an unfilled placeholder"), "{bad}");
        }
        assert_eq!(check_line("  ", &src).as_deref(), Some("the line is empty"));
    }

    #[test]
    fn names_and_numbers_must_come_from_the_lead_or_the_research() {
        let src = ["Ruiz Roofing", "Austin", "added solar roofing in 2024"];
        assert_eq!(check_line("Solar roofing at Ruiz Roofing in Austin since 2024 is a smart move.", &src), None);
        let why = check_line("Your 2019 expansion to Dallas shows Ruiz Roofing's ambition.", &src).unwrap();
        assert!(why.contains("2019") && why.contains("Dallas") && !why.contains("Ruiz"), "{why}");
        assert_eq!(check_line("I saw the solar work. Impressive for Austin.", &src), None, "sentence starters are not facts");
    }

    #[test]
    fn the_writers_answer_is_read_from_json_fences_or_plain_text() {
        assert_eq!(parse_line(r#"{"personalized_sentence": " A line. "}"#), "A line.");
        assert_eq!(parse_line("```json\n{\"personalized_sentence\": \"Fenced.\"}\n```"), "Fenced.");
        assert_eq!(parse_line("Here you go: {\"personalized_sentence\": \"After words.\"}"), "After words.");
        assert_eq!(parse_line("\"Just text.\""), "Just text.");
    }

    #[test]
    fn a_line_break_in_the_data_or_the_answer_never_reaches_the_line() {
        // A quoted CSV cell can hold a line break (issue 11, item 12).
        let f = fields(&[("first_name", "Ann"), ("company", "Acme\r\nRoofing\n Co")]);
        assert_eq!(template_line(&f), "Ann, I came across Acme Roofing Co and had an idea for bringing in new business.");
        assert!(matches!(personalize_with_template(&f).outcome, Outcome::Line(ref l) if !l.contains(['\n', '\r'])));
        assert_eq!(parse_line("{\"personalized_sentence\": \"Saw the\\nnew  roof\"}"), "Saw the new roof");
        assert_eq!(parse_line("Line one\nline two"), "Line one line two");
    }

    #[test]
    fn the_template_writer_uses_only_the_row_and_fits_the_limits() {
        let full = fields(&[("first_name", "Ann"), ("company", "Acme Roofing"), ("title", "Owner"), ("city", "Austin")]);
        assert_eq!(template_line(&full), "Ann, as Owner at Acme Roofing in Austin, you likely decide how new business comes in.");
        assert_eq!(template_line(&fields(&[("company", "Acme")])), "I came across Acme and had an idea for bringing in new business.");
        let long = fields(&[("first_name", "Ann"), ("company", &vec!["Big"; 30].join(" ")), ("title", "Owner")]);
        assert_eq!(template_line(&long), "Ann, a quick idea for your team.", "a company name too long to quote");
        for f in [full, long] {
            assert!(matches!(personalize_with_template(&f).outcome, Outcome::Line(_)));
        }
    }
}
