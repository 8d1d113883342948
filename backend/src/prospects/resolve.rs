//! Entity resolution: which person records are the same real person.
//!
//! Records are normalised ([`super::normalize`]), grouped by blocking keys (an email, a phone, a
//! team, phonetic and exact name keys), and only records sharing a key are compared — so the
//! work grows with the input (plus the size of its blocks), not with its square. A pair is scored
//! by the first rule that holds, with the seed's confidences: email 100, phone 90, name + team 80,
//! fuzzy name 60. Pairs above [`AUTO_MERGE_ABOVE`] are merged transitively (union-find, strongest
//! first); the rest are review pairs. A guard keeps a name rule from chaining two clusters whose
//! emails and phones all differ — two people, however alike their names.

use std::hash::{BuildHasher, Hash};

use rayon::prelude::*;
use strsim::jaro_winkler;

use super::normalize::{self, Name, Region};

/// Confidence above which a pair is merged without review (the seed's "> 70").
pub const AUTO_MERGE_ABOVE: u8 = 70;

/// A key shared by more records than this is not evidence of anything (a switchboard number, a
/// franchise-wide team id): its block is skipped, the pairs it would have made are still found
/// through their other keys (a big team's members through team + name keys).
pub const MAX_BLOCK: usize = 1_000;

/// A name key shared by more records than this is too common to flag a pair on the name alone
/// ("John Smith" across a national list): like Splink's term-frequency adjustment, a common name
/// is weak evidence. Only the fuzzy rule (review, never a merge) relies on name keys alone.
pub const MAX_NAME_BLOCK: usize = 50;

/// Team blocks (and team + name blocks) above this size are skipped: a big team's members are
/// still compared through team + family-name sound and team + first-name keys.
pub const MAX_TEAM_BLOCK: usize = 50;

/// Why two records are taken for the same person, strongest first.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Rule {
    /// They share an email address (and their names don't clearly differ).
    Email,
    /// They share a phone number (and their names don't clearly differ).
    Phone,
    /// Same team, and the names agree up to a typo, a nickname or an initial.
    NameTeam,
    /// They share an email or phone but their names clearly differ: a shared inbox or line.
    SharedContact,
    /// Names sound alike and are close (Jaro-Winkler), nothing else links them.
    FuzzyName,
}

impl Rule {
    /// Every rule, strongest first.
    pub const ALL: &'static [Rule] = &[Rule::Email, Rule::Phone, Rule::NameTeam, Rule::SharedContact, Rule::FuzzyName];

    pub fn confidence(self) -> u8 {
        match self {
            Rule::Email => 100,
            Rule::Phone => 90,
            Rule::NameTeam => 80,
            Rule::SharedContact => 70,
            Rule::FuzzyName => 60,
        }
    }

    pub fn as_str(self) -> &'static str {
        match self {
            Rule::Email => "email",
            Rule::Phone => "phone",
            Rule::NameTeam => "name_team",
            Rule::SharedContact => "shared_contact",
            Rule::FuzzyName => "fuzzy_name",
        }
    }
}

/// One person record as read from a file, before cleaning.
#[derive(Clone, Debug, Default)]
pub struct PersonInput {
    pub id: String,
    pub first_name: String,
    pub last_name: String,
    pub full_name: String,
    pub emails: Vec<String>,
    pub phones: Vec<String>,
    pub team: String,
}

/// A cleaned record: emails, phones and team interned to numbers (0 = no team).
#[derive(Clone, Debug)]
pub struct Person {
    pub name: Name,
    /// `first_canon last`, what the fuzzy rule compares.
    full: String,
    pub emails: Vec<u32>,
    pub phones: Vec<u32>,
    pub team: u32,
    /// Blocking keys, sorted; those of over-full blocks removed before pairing.
    keys: Vec<u64>,
    /// The name keys among them (the fuzzy rule asks for one in common).
    name_keys: Vec<u64>,
}

/// Records cleaned and interned, ready to resolve.
pub struct Prepared {
    pub people: Vec<Person>,
    pub emails: Vec<String>,
    pub phones: Vec<String>,
    pub teams: Vec<String>,
    /// Emails and phones that were given but are not valid (dropped), for the report.
    pub invalid_emails: usize,
    pub invalid_phones: usize,
}

const KIND_EMAIL: u64 = 1;
const KIND_PHONE: u64 = 2;
const KIND_TEAM: u64 = 3;
const KIND_TEAM_LAST: u64 = 4;
const KIND_TEAM_FIRST: u64 = 5;
/// Kinds from here on are name keys (capped at [`MAX_NAME_BLOCK`]).
const KIND_NAME_PHONETIC: u64 = 8;
const KIND_NAME_LAST: u64 = 9;
const KIND_NAME_SORTED: u64 = 10;

/// A key's kind in its top 4 bits, a hash of its value in the rest.
fn key<T: Hash>(kind: u64, value: T) -> u64 {
    // A fixed-seed hasher: keys (and so results) are the same on every run.
    let h = rustc_hash::FxBuildHasher.hash_one((kind, value));
    (kind << 60) | (h >> 4)
}

/// The most records a block of this key may have before it is skipped.
fn block_cap(k: u64, caps: Caps) -> usize {
    match k >> 60 {
        KIND_EMAIL | KIND_PHONE => caps.contact,
        KIND_TEAM | KIND_TEAM_LAST | KIND_TEAM_FIRST => caps.team,
        _ => caps.name,
    }
}

/// Block size limits ([`MAX_BLOCK`], [`MAX_TEAM_BLOCK`], [`MAX_NAME_BLOCK`]).
#[derive(Clone, Copy, Debug)]
pub struct Caps {
    pub contact: usize,
    pub team: usize,
    pub name: usize,
}

impl Default for Caps {
    fn default() -> Self {
        Caps { contact: MAX_BLOCK, team: MAX_TEAM_BLOCK, name: MAX_NAME_BLOCK }
    }
}

/// Cleans and interns the records (in parallel).
pub fn prepare(inputs: &[PersonInput], region: Region) -> Prepared {
    struct Clean {
        name: Name,
        emails: Vec<String>,
        phones: Vec<String>,
        team: String,
        bad_emails: usize,
        bad_phones: usize,
    }
    // Each distinct phone key is parsed once (libphonenumber's parse is the costly step).
    let keys: Vec<Vec<Option<String>>> = inputs.par_iter().map(|r| r.phones.iter().map(|p| normalize::phone_key(p)).collect()).collect();
    let mut slot: rustc_hash::FxHashMap<&str, usize> = Default::default();
    let mut distinct: Vec<&str> = Vec::new();
    for k in keys.iter().flatten().flatten() {
        slot.entry(k.as_str()).or_insert_with(|| {
            distinct.push(k.as_str());
            distinct.len() - 1
        });
    }
    let parsed: Vec<Option<String>> = distinct.par_iter().map(|k| normalize::phone_from_key(k, region)).collect();
    let lookup = |k: &str| slot.get(k).and_then(|&i| parsed[i].clone());
    let cleaned: Vec<Clean> = inputs
        .par_iter()
        .zip(keys.par_iter())
        .map(|(r, phone_keys)| {
            let name = Name::from_parts(&r.first_name, &r.last_name, &r.full_name);
            let (mut emails, mut bad_emails) = (Vec::new(), 0);
            for e in &r.emails {
                match normalize::email(e) {
                    Some(e) if !emails.contains(&e) => emails.push(e),
                    Some(_) => {}
                    None => bad_emails += 1,
                }
            }
            let (mut phones, mut bad_phones) = (Vec::new(), 0);
            for k in phone_keys {
                match k.as_deref().and_then(lookup) {
                    Some(p) if !phones.contains(&p) => phones.push(p),
                    Some(_) => {}
                    None => bad_phones += 1,
                }
            }
            Clean { name, emails, phones, team: r.team.trim().to_lowercase(), bad_emails, bad_phones }
        })
        .collect();
    drop(parsed);

    let mut interner = Interner::default();
    let mut people = Vec::with_capacity(cleaned.len());
    let (mut invalid_emails, mut invalid_phones) = (0, 0);
    for c in cleaned {
        invalid_emails += c.bad_emails;
        invalid_phones += c.bad_phones;
        let emails: Vec<u32> = c.emails.into_iter().map(|e| interner.emails.id(e)).collect();
        let phones: Vec<u32> = c.phones.into_iter().map(|p| interner.phones.id(p)).collect();
        let team = if c.team.is_empty() { 0 } else { interner.teams.id(c.team) + 1 };
        people.push(Person { full: c.name.full(), name: c.name, emails, phones, team, keys: Vec::new(), name_keys: Vec::new() });
    }
    people.par_iter_mut().for_each(|p| {
        let (keys, name_keys) = keys_of(p);
        p.keys = keys;
        p.name_keys = name_keys;
    });
    Prepared {
        people,
        emails: interner.emails.values,
        phones: interner.phones.values,
        teams: interner.teams.values,
        invalid_emails,
        invalid_phones,
    }
}

#[derive(Default)]
struct Interner {
    emails: Pool,
    phones: Pool,
    teams: Pool,
}

#[derive(Default)]
struct Pool {
    ids: rustc_hash::FxHashMap<String, u32>,
    values: Vec<String>,
}

impl Pool {
    fn id(&mut self, value: String) -> u32 {
        if let Some(&id) = self.ids.get(&value) {
            return id;
        }
        let id = self.values.len() as u32;
        self.values.push(value.clone());
        self.ids.insert(value, id);
        id
    }
}

fn keys_of(p: &Person) -> (Vec<u64>, Vec<u64>) {
    let mut keys: Vec<u64> = p.emails.iter().map(|&e| key(KIND_EMAIL, e)).chain(p.phones.iter().map(|&ph| key(KIND_PHONE, ph))).collect();
    let n = &p.name;
    if p.team != 0 {
        keys.push(key(KIND_TEAM, p.team));
        // For teams too big for one block: the name rule's pairs inside them.
        if !n.last.is_empty() {
            keys.push(key(KIND_TEAM_LAST, (p.team, normalize::soundex_code(&n.last))));
        }
        if !n.first_canon.is_empty() {
            keys.push(key(KIND_TEAM_FIRST, (p.team, n.first_canon.as_str())));
        }
    }
    let mut name_keys = Vec::new();
    if !n.first_canon.is_empty() && !n.last.is_empty() {
        name_keys.push(key(KIND_NAME_PHONETIC, (normalize::soundex_code(&n.last), normalize::soundex_code(&n.first_canon))));
        // The family name exact, the first name by its sound without its first letter: catches
        // a typo in the first letter ("Katherine" / "Catherine") that changes the Soundex code.
        name_keys.push(key(KIND_NAME_LAST, (n.last.as_str(), soundex_tail(&n.first_canon))));
        // First and last swapped ("Smith John"): the sorted pair, initials kept apart from
        // `KIND_NAME_LAST` so it does not just repeat it.
        let (a, b) = if n.first_canon <= n.last { (&n.first_canon, &n.last) } else { (&n.last, &n.first_canon) };
        name_keys.push(key(KIND_NAME_SORTED, (a.as_str(), b.as_str())));
    }
    keys.extend(&name_keys);
    keys.sort_unstable();
    keys.dedup();
    name_keys.sort_unstable();
    name_keys.dedup();
    (keys, name_keys)
}

fn soundex_tail(word: &str) -> [u8; 3] {
    let c = normalize::soundex_code(word);
    [c[1], c[2], c[3]]
}

fn shares(a: &[u32], b: &[u32]) -> bool {
    a.iter().any(|x| b.contains(x))
}

/// Both have some, and none in common.
fn all_differ(a: &[u32], b: &[u32]) -> bool {
    !a.is_empty() && !b.is_empty() && !shares(a, b)
}

fn similar(a: &str, b: &str, jw: f64) -> bool {
    a == b || (a.len() >= 4 && b.len() >= 4 && within_one_edit(a.as_bytes(), b.as_bytes())) || (jaro_could_reach(a, b, jw) && jaro_winkler(a, b) >= jw)
}

/// One insertion, deletion, substitution or swap of neighbours apart (optimal string alignment
/// distance ≤ 1), without allocating: this runs for millions of pairs.
fn within_one_edit(a: &[u8], b: &[u8]) -> bool {
    let (a, b) = if a.len() <= b.len() { (a, b) } else { (b, a) };
    if b.len() - a.len() > 1 {
        return false;
    }
    let p = a.iter().zip(b).take_while(|(x, y)| x == y).count();
    if p == a.len() {
        return true; // equal, or b has one more at the end
    }
    if a.len() == b.len() {
        // substitution at p, or a swap of p and p + 1
        a[p + 1..] == b[p + 1..] || (p + 1 < a.len() && a[p] == b[p + 1] && a[p + 1] == b[p] && a[p + 2..] == b[p + 2..])
    } else {
        a[p..] == b[p + 1..] // b has one more at p
    }
}

/// An upper bound on Jaro-Winkler from the letters the two share (as multisets): skips the
/// full computation for the many pairs of plainly different names a team block pairs up.
fn jaro_could_reach(a: &str, b: &str, threshold: f64) -> bool {
    if !a.is_ascii() || !b.is_ascii() {
        return true; // the bound below counts bytes; Jaro counts characters
    }
    let (la, lb) = (a.len() as f64, b.len() as f64);
    if la == 0.0 || lb == 0.0 {
        return false;
    }
    let mut counts = [0i32; 64];
    for c in a.bytes() {
        counts[(c & 63) as usize] += 1;
    }
    let mut common = 0i32;
    for c in b.bytes() {
        let slot = &mut counts[(c & 63) as usize];
        if *slot > 0 {
            *slot -= 1;
            common += 1;
        }
    }
    let m = f64::from(common);
    if m == 0.0 {
        return false;
    }
    // Jaro ≤ (m/|a| + m/|b| + 1) / 3; Winkler's prefix bonus adds at most 0.4 × (1 − Jaro).
    let jaro = (m / la + m / lb + 1.0) / 3.0;
    jaro + 0.4 * (1.0 - jaro) >= threshold
}

fn initial_of(a: &str, b: &str) -> bool {
    (a.len() == 1 && b.starts_with(a)) || (b.len() == 1 && a.starts_with(b))
}

/// Same first name up to a nickname, a typo or an initial.
fn first_names_agree(a: &Name, b: &Name) -> bool {
    a.first_canon == b.first_canon || a.first == b.first || similar(&a.first_canon, &b.first_canon, 0.92) || initial_of(&a.first, &b.first)
}

/// The names agree up to a typo, a nickname or an initial (both must give first and last).
pub fn names_agree(a: &Name, b: &Name) -> bool {
    if a.first.is_empty() || b.first.is_empty() || a.last.is_empty() || b.last.is_empty() {
        return false;
    }
    if matches!((a.suffix, b.suffix), (Some(x), Some(y)) if x != y) {
        return false;
    }
    similar(&a.last, &b.last, 0.92) && first_names_agree(a, b)
}

/// Neither first nor last names have anything to do with each other (both names complete).
fn names_clash(a: &Name, b: &Name) -> bool {
    if a.first.is_empty() || b.first.is_empty() || a.last.is_empty() || b.last.is_empty() {
        return false;
    }
    let first_related = first_names_agree(a, b) || jaro_winkler(&a.first_canon, &b.first_canon) >= 0.8 || jaro_winkler(&a.first, &b.first) >= 0.8;
    let last_related = jaro_winkler(&a.last, &b.last) >= 0.8 || a.last == b.first_canon || a.first_canon == b.last;
    !first_related && !last_related
}

/// Close full names ("john smith" / "jon smiht"), or the same name with first and last swapped.
fn fuzzy_names(a: &Person, b: &Person) -> bool {
    if a.name.first.is_empty() || a.name.last.is_empty() || b.name.first.is_empty() || b.name.last.is_empty() {
        return false;
    }
    if matches!((a.name.suffix, b.name.suffix), (Some(x), Some(y)) if x != y) {
        return false;
    }
    if (jaro_could_reach(&a.full, &b.full, 0.9) && jaro_winkler(&a.full, &b.full) >= 0.9) || (a.name.first_canon == b.name.last && a.name.last == b.name.first_canon) {
        return true;
    }
    // A nickname the table reads one way ("jon" → jonathan) may be the other's formal name.
    (a.name.first != a.name.first_canon || b.name.first != b.name.first_canon)
        && jaro_winkler(&format!("{} {}", a.name.first, a.name.last), &format!("{} {}", b.name.first, b.name.last)) >= 0.9
}

/// The rule two records match by, if any. This is the whole definition of a match: blocking
/// only decides which pairs get asked (and `blocking_never_misses_a_rule_match` checks it never
/// skips one that would answer).
pub fn score(a: &Person, b: &Person) -> Option<Rule> {
    let share_email = shares(&a.emails, &b.emails);
    let share_phone = shares(&a.phones, &b.phones);
    if share_email || share_phone {
        if names_clash(&a.name, &b.name) {
            return Some(Rule::SharedContact);
        }
        return Some(if share_email { Rule::Email } else { Rule::Phone });
    }
    // Two people whose emails and phones are all different: no name evidence overrides that.
    if all_differ(&a.emails, &b.emails) && all_differ(&a.phones, &b.phones) {
        return None;
    }
    if a.team != 0 && a.team == b.team && names_agree(&a.name, &b.name) {
        return Some(Rule::NameTeam);
    }
    // A name alone (review only) when nothing contradicts it: not different emails, not
    // different phones, not different teams.
    let contradicted = all_differ(&a.emails, &b.emails) || all_differ(&a.phones, &b.phones) || (a.team != 0 && b.team != 0 && a.team != b.team);
    if !contradicted && a.name_keys.iter().any(|k| b.name_keys.contains(k)) && fuzzy_names(a, b) {
        return Some(Rule::FuzzyName);
    }
    None
}

/// A pair of records and the rule they match by.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Match {
    pub a: u32,
    pub b: u32,
    pub rule: Rule,
}

/// What blocking did: how many blocks, how many pairs were compared, which keys were too common.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct BlockingStats {
    pub blocks: usize,
    pub skipped_blocks: usize,
    pub compared_pairs: u64,
}

/// Every matching pair among the records, found through shared blocking keys (each pair is
/// compared once: in the block of the smallest key the two share).
pub fn candidate_matches(people: &mut [Person], caps: Caps) -> (Vec<Match>, BlockingStats) {
    let mut entries: Vec<(u64, u32)> = people.iter().enumerate().flat_map(|(i, p)| p.keys.iter().map(move |&k| (k, i as u32))).collect();
    entries.par_sort_unstable();
    let mut stats = BlockingStats::default();
    // Over-full keys are dropped from every record so that "smallest shared key" only ever
    // names a block that is really paired.
    let mut oversized = Vec::new();
    let mut blocks = Vec::new();
    let mut start = 0;
    while start < entries.len() {
        let k = entries[start].0;
        let mut end = start + 1;
        while end < entries.len() && entries[end].0 == k {
            end += 1;
        }
        let len = end - start;
        if len > block_cap(k, caps) {
            oversized.push(k);
            stats.skipped_blocks += 1;
        } else if len > 1 {
            blocks.push((start, end));
            stats.blocks += 1;
        }
        start = end;
    }
    if !oversized.is_empty() {
        oversized.sort_unstable();
        people.par_iter_mut().for_each(|p| {
            p.keys.retain(|k| oversized.binary_search(k).is_err());
            p.name_keys.retain(|k| oversized.binary_search(k).is_err());
        });
    }
    let people = &*people;
    let (matches, compared) = blocks
        .par_iter()
        .fold(
            || (Vec::new(), 0u64),
            |(mut found, mut compared), &(s, e)| {
                let block = &entries[s..e];
                let k = block[0].0;
                for (i, &(_, a)) in block.iter().enumerate() {
                    let pa = &people[a as usize];
                    for &(_, b) in &block[i + 1..] {
                        let pb = &people[b as usize];
                        if first_shared(&pa.keys, &pb.keys) != Some(k) {
                            continue;
                        }
                        compared += 1;
                        if let Some(rule) = score(pa, pb) {
                            let (a, b) = if a < b { (a, b) } else { (b, a) };
                            found.push(Match { a, b, rule });
                        }
                    }
                }
                (found, compared)
            },
        )
        .reduce(
            || (Vec::new(), 0),
            |(mut x, cx), (y, cy)| {
                x.extend(y);
                (x, cx + cy)
            },
        );
    stats.compared_pairs = compared;
    (matches, stats)
}

/// The smallest element of two sorted slices that both hold.
fn first_shared<T: Ord + Copy>(a: &[T], b: &[T]) -> Option<T> {
    let (mut i, mut j) = (0, 0);
    while i < a.len() && j < b.len() {
        match a[i].cmp(&b[j]) {
            std::cmp::Ordering::Less => i += 1,
            std::cmp::Ordering::Greater => j += 1,
            std::cmp::Ordering::Equal => return Some(a[i]),
        }
    }
    None
}

/// A pair left for a person to decide (scored ≤ 70, or a name match the guard refused).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct ReviewPair {
    pub a: u32,
    pub b: u32,
    pub rule: Rule,
    /// The guard refused it: merging would chain two clusters whose emails and phones all differ.
    pub guarded: bool,
}

/// The outcome: for each record, its entity (the index of the entity's first record), the
/// entity's confidence (the weakest merge that built it; 100 alone) and whether it waits on review.
#[derive(Clone, Debug, Default)]
pub struct Resolution {
    pub entity: Vec<u32>,
    pub confidence: Vec<u8>,
    pub needs_review: Vec<bool>,
    pub review: Vec<ReviewPair>,
    pub merges: usize,
    pub blocking: BlockingStats,
}

impl Resolution {
    pub fn entities(&self) -> usize {
        self.entity.iter().enumerate().filter(|&(i, &e)| i as u32 == e).count()
    }
}

/// Resolves cleaned records into entities. `keep_apart` are pairs a person rejected: they are
/// neither merged nor proposed again.
pub fn resolve(prepared: &mut Prepared, keep_apart: &[(u32, u32)]) -> Resolution {
    resolve_with(prepared, keep_apart, &[])
}

/// [`resolve`], with pairs a person approved joined first (confidence 100: a person decided).
pub fn resolve_with(prepared: &mut Prepared, keep_apart: &[(u32, u32)], join: &[(u32, u32)]) -> Resolution {
    let (mut matches, blocking) = candidate_matches(&mut prepared.people, Caps::default());
    let people = &prepared.people;
    let mut rejected: Vec<(u32, u32)> = keep_apart.iter().map(|&(a, b)| if a < b { (a, b) } else { (b, a) }).collect();
    rejected.sort_unstable();
    if !rejected.is_empty() {
        matches.retain(|m| rejected.binary_search(&(m.a, m.b)).is_err());
    }
    // Strongest first, then by position: the same input always gives the same entities.
    matches.par_sort_unstable_by_key(|m| (m.rule, m.a, m.b));

    let n = people.len();
    let mut uf = UnionFind::new(people);
    let mut review = Vec::new();
    let mut merges = 0;
    for &(a, b) in join {
        let (ra, rb) = (uf.find(a), uf.find(b));
        if ra != rb {
            uf.union(ra, rb, 100);
            merges += 1;
        }
    }
    for m in &matches {
        let conf = m.rule.confidence();
        if conf <= AUTO_MERGE_ABOVE {
            continue;
        }
        let (ra, rb) = (uf.find(m.a), uf.find(m.b));
        if ra == rb {
            continue; // already joined by stronger evidence; a weaker extra link changes nothing
        }
        let contact_rule = matches!(m.rule, Rule::Email | Rule::Phone);
        if !contact_rule && uf.clearly_differ(ra, rb) {
            review.push(ReviewPair { a: m.a, b: m.b, rule: m.rule, guarded: true });
            continue;
        }
        uf.union(ra, rb, conf);
        merges += 1;
    }
    for m in &matches {
        if m.rule.confidence() <= AUTO_MERGE_ABOVE && uf.find(m.a) != uf.find(m.b) {
            review.push(ReviewPair { a: m.a, b: m.b, rule: m.rule, guarded: false });
        }
    }
    // One review pair per two entities: the strongest (then first) one.
    let mut keyed: Vec<((u32, u32), ReviewPair)> = review
        .into_iter()
        .map(|r| {
            let (x, y) = (uf.find(r.a), uf.find(r.b));
            ((x.min(y), x.max(y)), r)
        })
        .filter(|((x, y), _)| x != y)
        .collect();
    keyed.sort_by_key(|(k, r)| (*k, r.rule, r.a, r.b));
    keyed.dedup_by_key(|(k, _)| *k);
    let review: Vec<ReviewPair> = keyed.into_iter().map(|(_, r)| r).collect();

    // Entity id: the first record of the cluster.
    let mut first = vec![u32::MAX; n];
    for i in 0..n as u32 {
        let r = uf.find(i) as usize;
        first[r] = first[r].min(i);
    }
    let mut flagged = vec![false; n];
    for r in &review {
        flagged[uf.find(r.a) as usize] = true;
        flagged[uf.find(r.b) as usize] = true;
    }
    let mut out = Resolution { review, merges, blocking, ..Default::default() };
    for i in 0..n as u32 {
        let r = uf.find(i) as usize;
        out.entity.push(first[r]);
        out.confidence.push(uf.confidence[r]);
        out.needs_review.push(flagged[r]);
    }
    out
}

/// Union-find over records, each root carrying its cluster's emails and phones (sorted) for
/// the guard, and the weakest confidence that built it.
struct UnionFind {
    parent: Vec<u32>,
    size: Vec<u32>,
    emails: Vec<Vec<u32>>,
    phones: Vec<Vec<u32>>,
    confidence: Vec<u8>,
}

impl UnionFind {
    fn new(people: &[Person]) -> Self {
        let sorted = |v: &Vec<u32>| {
            let mut v = v.clone();
            v.sort_unstable();
            v
        };
        UnionFind {
            parent: (0..people.len() as u32).collect(),
            size: vec![1; people.len()],
            emails: people.iter().map(|p| sorted(&p.emails)).collect(),
            phones: people.iter().map(|p| sorted(&p.phones)).collect(),
            confidence: vec![100; people.len()],
        }
    }

    fn find(&mut self, mut x: u32) -> u32 {
        while self.parent[x as usize] != x {
            let p = self.parent[x as usize];
            self.parent[x as usize] = self.parent[p as usize];
            x = p;
        }
        x
    }

    fn clearly_differ(&self, a: u32, b: u32) -> bool {
        let (a, b) = (a as usize, b as usize);
        sorted_disjoint(&self.emails[a], &self.emails[b]) && sorted_disjoint(&self.phones[a], &self.phones[b])
    }

    fn union(&mut self, a: u32, b: u32, conf: u8) {
        let (big, small) = if self.size[a as usize] >= self.size[b as usize] { (a as usize, b as usize) } else { (b as usize, a as usize) };
        self.parent[small] = big as u32;
        self.size[big] += self.size[small];
        let e = std::mem::take(&mut self.emails[small]);
        merge_sorted(&mut self.emails[big], e);
        let p = std::mem::take(&mut self.phones[small]);
        merge_sorted(&mut self.phones[big], p);
        self.confidence[big] = self.confidence[big].min(self.confidence[small]).min(conf);
    }
}

/// Both non-empty and nothing in common.
fn sorted_disjoint(a: &[u32], b: &[u32]) -> bool {
    !a.is_empty() && !b.is_empty() && first_shared(a, b).is_none()
}

fn merge_sorted(into: &mut Vec<u32>, from: Vec<u32>) {
    if from.is_empty() {
        return;
    }
    into.extend(from);
    into.sort_unstable();
    into.dedup();
}

#[cfg(test)]
mod tests {
    use super::*;

    fn rec(id: &str, name: &str, emails: &[&str], phones: &[&str], team: &str) -> PersonInput {
        PersonInput {
            id: id.into(),
            full_name: name.into(),
            emails: emails.iter().map(|s| s.to_string()).collect(),
            phones: phones.iter().map(|s| s.to_string()).collect(),
            team: team.into(),
            ..Default::default()
        }
    }

    fn rule_of(a: PersonInput, b: PersonInput) -> Option<(Rule, u8)> {
        let p = prepare(&[a, b], Region::default());
        score(&p.people[0], &p.people[1]).map(|r| (r, r.confidence()))
    }

    #[test]
    fn email_rule_is_100() {
        let got = rule_of(rec("1", "John Smith", &["John.Smith@Acme.com"], &[], ""), rec("2", "Jonathan Smyth", &["john.smith@acme.com"], &["512-326-0123"], "t9"));
        assert_eq!(got, Some((Rule::Email, 100)));
    }

    #[test]
    fn phone_rule_is_90() {
        let got = rule_of(rec("1", "Ann Lee", &["ann@a.com"], &["(512) 326-0123"], "t1"), rec("2", "Ann Lee", &["ann.lee@b.com"], &["+1 512 326 0123"], "t2"));
        assert_eq!(got, Some((Rule::Phone, 90)));
    }

    #[test]
    fn name_and_team_rule_is_80() {
        // A nickname, a typo in the family name, one email missing, the same team.
        let got = rule_of(rec("1", "Bob Jonhson", &["bob@a.com"], &[], "T-7"), rec("2", "Robert Johnson", &[], &["512-326-0123"], " t-7 "));
        assert_eq!(got, Some((Rule::NameTeam, 80)));
        // An initial for the first name.
        assert_eq!(rule_of(rec("1", "R. Johnson", &[], &[], "t7"), rec("2", "Robert Johnson", &[], &[], "t7")), Some((Rule::NameTeam, 80)));
        // Father and son.
        assert_ne!(rule_of(rec("1", "Robert Johnson Jr", &[], &[], "t7"), rec("2", "Robert Johnson Sr.", &[], &[], "t7")).map(|r| r.0), Some(Rule::NameTeam));
    }

    #[test]
    fn fuzzy_name_rule_is_60() {
        let got = rule_of(rec("1", "Katherine Middleton", &["kate@a.com"], &[], "t1"), rec("2", "Catherine Middleton", &[], &["512-326-0123"], ""));
        assert_eq!(got, Some((Rule::FuzzyName, 60)));
        // Anything that contradicts the name (different teams, emails or phones): no pair.
        assert_eq!(rule_of(rec("1", "Katherine Middleton", &[], &[], "t1"), rec("2", "Catherine Middleton", &[], &[], "t2")), None);
        assert_eq!(rule_of(rec("1", "Katherine Middleton", &["k@a.com"], &[], ""), rec("2", "Catherine Middleton", &["c@b.com"], &[], "")), None);
        // First and last swapped.
        assert_eq!(rule_of(rec("1", "Smith John", &[], &[], ""), rec("2", "John Smith", &[], &[], "")), Some((Rule::FuzzyName, 60)));
    }

    #[test]
    fn shared_contact_with_different_names_is_70() {
        let got = rule_of(rec("1", "Maria Gonzalez", &["office@realty.com"], &[], "t1"), rec("2", "Peter Wu", &["office@realty.com"], &[], "t1"));
        assert_eq!(got, Some((Rule::SharedContact, 70)));
    }

    #[test]
    fn namesakes_with_different_contacts_do_not_match() {
        let got = rule_of(rec("1", "John Smith", &["js@a.com"], &["512-326-0123"], "t1"), rec("2", "John Smith", &["john@b.com"], &["213-482-1200"], "t1"));
        assert_eq!(got, None);
        assert_eq!(rule_of(rec("1", "John Smith", &[], &[], "t1"), rec("2", "Mary Jones", &[], &[], "t1")), None);
    }

    #[test]
    fn one_edit_and_the_jaro_bound() {
        for (a, b, want) in [("smith", "smith", true), ("smith", "smiht", true), ("smith", "smth", true), ("smith", "smithe", true), ("smith", "smyth", true), ("smith", "msith", true), ("smith", "smtih", true), ("smith", "smyht", false), ("smith", "jones", false), ("ab", "abcd", false)] {
            assert_eq!(within_one_edit(a.as_bytes(), b.as_bytes()), want, "{a} {b}");
        }
        // The bound never rules out a pair Jaro-Winkler would pass.
        for (a, b) in [("martha", "marhta"), ("dwayne", "duane"), ("dixon", "dicksonx"), ("john smith", "jon smiht"), ("katherine middleton", "catherine middleton")] {
            let jw = jaro_winkler(a, b);
            assert!(jaro_could_reach(a, b, jw - 1e-9), "{a} {b} {jw}");
        }
        assert!(!jaro_could_reach("smith", "jones", 0.9));
    }

    #[test]
    fn merges_are_transitive_and_the_guard_stops_chains() {
        let mut p = prepare(
            &[
                rec("a", "John Smith", &["js@a.com"], &["512-326-0123"], "t1"),
                rec("b", "Johnny Smith", &[], &["512-326-0123"], "t1"), // phone → a
                rec("c", "John Smith", &["john@b.com"], &["213-482-1200"], "t1"), // name+team → b, but a's cluster differs in both
                rec("d", "J. Smith", &["john@b.com"], &[], ""),       // email → c
                rec("e", "Jonh Smith", &[], &[], ""),                  // fuzzy only → review
            ],
            Region::default(),
        );
        let r = resolve(&mut p, &[]);
        assert_eq!(r.entity, [0, 0, 2, 2, 4]);
        assert_eq!(r.confidence, [90, 90, 100, 100, 100]);
        assert!(r.review.iter().any(|x| x.guarded && x.rule == Rule::NameTeam), "{:?}", r.review);
        assert!(r.review.iter().any(|x| !x.guarded && x.rule == Rule::FuzzyName && x.b == 4), "{:?}", r.review);
        assert!(r.needs_review.iter().all(|&f| f));
        // A rejected pair is neither merged nor proposed again.
        let mut p2 = prepare(&[rec("a", "Ann Lee", &["ann@a.com"], &[], ""), rec("b", "Ann Lee", &["ann@a.com"], &[], "")], Region::default());
        let r = resolve(&mut p2, &[(1, 0)]);
        assert_eq!((r.entity.as_slice(), r.review.len()), (&[0, 1][..], 0));
    }

    /// Blocking never misses a pair a rule matches: random small populations (names drawn from
    /// a few close variants, shared contacts and teams), blocked versus every pair compared.
    #[test]
    fn blocking_never_misses_a_rule_match() {
        use rand::{rngs::StdRng, Rng, SeedableRng};
        let firsts = ["John", "Jon", "Johnny", "Jonh", "Robert", "Bob", "Rob", "Kate", "Katherine", "Catherine", "J.", "Smith", "Ann", ""];
        let lasts = ["Smith", "Smyth", "Smiht", "Johnson", "Jonson", "Lee", "Li", "John", "Middleton", ""];
        let mut rng = StdRng::seed_from_u64(15);
        let mut total_matches = 0;
        for round in 0..60 {
            let n = rng.gen_range(2..40);
            let inputs: Vec<PersonInput> = (0..n)
                .map(|i| {
                    let pick = |rng: &mut StdRng, k: u32| format!("{}", rng.gen_range(0..k));
                    let emails = (0..rng.gen_range(0..3)).map(|_| format!("p{}@x.com", pick(&mut rng, 12))).collect();
                    let phones = (0..rng.gen_range(0..3)).map(|_| format!("512-326-{:04}", rng.gen_range(0..10))).collect();
                    PersonInput {
                        id: i.to_string(),
                        first_name: firsts[rng.gen_range(0..firsts.len())].into(),
                        last_name: lasts[rng.gen_range(0..lasts.len())].into(),
                        emails,
                        phones,
                        team: if rng.gen_bool(0.7) { format!("t{}", rng.gen_range(0..3)) } else { String::new() },
                        ..Default::default()
                    }
                })
                .collect();
            let mut p = prepare(&inputs, Region::default());
            let mut brute = Vec::new();
            for a in 0..n {
                for b in a + 1..n {
                    if let Some(rule) = score(&p.people[a], &p.people[b]) {
                        brute.push(Match { a: a as u32, b: b as u32, rule });
                    }
                }
            }
            let (mut blocked, _) = candidate_matches(&mut p.people, Caps::default());
            blocked.sort_by_key(|m| (m.a, m.b));
            assert_eq!(blocked, brute, "round {round}");
            total_matches += brute.len();
        }
        assert!(total_matches > 500, "the random populations should produce many matches, got {total_matches}");
    }
}
