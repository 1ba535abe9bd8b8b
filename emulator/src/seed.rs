//! The deterministic data generator: every value of a generated record is a pure function of
//! (seed, object, record index, field), so an object of ten million records costs no memory and
//! two orgs with the same seed hold the same data.
//!
//! Pseudo-randomness is splitmix64 over those four numbers
//! (<https://prng.di.unimi.it/splitmix64.c>): cheap, stateless and well mixed.
//! Audit timestamps grow with the index (`CreatedDate` ≤ `LastModifiedDate` ≤ `SystemModstamp`
//! all lie in `[created(i), created(i+1))`), so a range on them maps to an index range.

use base64::Engine;
use chrono::{DateTime, Duration, NaiveDate, NaiveTime, Utc};

use crate::ids;
use crate::schema::{Field, Value};

/// How one field of a generated record gets its value (spelled in snake case in
/// `catalog.json`: `"company"`, `{"ref": ["Account", 10]}`, `{"double": [0.0, 100.0, 2]}`).
#[derive(Clone, Debug, serde::Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Gen {
    Id,
    False,
    True,
    /// `CreatedDate` (and `LoginTime`): monotonic in the index.
    Created,
    /// `LastModifiedDate`: between CreatedDate and SystemModstamp, monotonic.
    Modified,
    /// `SystemModstamp`: monotonic.
    Modstamp,
    /// A reference to a record of the object; `null_percent` of rows hold null.
    Ref(String, u8),
    /// The org's integration user (index 0 of User) or another user.
    User,
    FirstName,
    LastName,
    /// "First Last" from the record's FirstName/LastName generators.
    FullName,
    Company,
    Email,
    Username,
    Phone,
    Url,
    Title,
    /// One of the field's picklist values; `null_percent` of rows hold null.
    Pick(u8),
    MultiPick,
    /// `prefix` followed by the zero-padded index (`Name`-like and auto-number values).
    Seq(String),
    /// A few words; `null_percent` of rows hold null.
    Words(u8),
    /// Text that other tools mistake for null or mangle: "NA", "N/A", "NULL", multi-line,
    /// quotes and commas, unicode. Every 7th row, otherwise a sentence.
    Tricky,
    Paragraph,
    Int(i64, i64),
    /// Double in [lo, hi) with `decimals` digits after the point.
    Double(f64, f64, u32),
    Bool(u8),
    /// A date within the record's lifetime ± `days`.
    DateNear(i64),
    /// A datetime after CreatedDate.
    DateTimeAfter,
    Time,
    Street,
    City,
    State,
    PostalCode,
    Country,
    Latitude,
    Longitude,
    GeocodeAccuracy,
    Ip,
    Blob,
    Json,
    /// Always null (compound fields: their value is built from the components when read;
    /// formula fields are computed after generation).
    Null,
    Const(String),
    /// `CaseStatus`-like lookup tables: the `i`th entry of a fixed list.
    Fixed(Vec<String>),
    /// anyType history values.
    HistoryValue,
}

/// What the generator needs beyond the index: the seed, the object's number and size, where
/// time starts, and where references point.
pub(crate) struct GenContext<'a> {
    pub seed: u64,
    pub object_number: u64,
    pub count: u64,
    /// Creation time of record 0, in seconds since the epoch.
    pub first_created: i64,
    /// Seconds spanned by the generated records' CreatedDate.
    pub span_seconds: i64,
    /// (key prefix, generated count) of each object, by exact API name, for references.
    pub targets: &'a std::collections::HashMap<String, (String, u64)>,
    pub username: &'a str,
}

pub(crate) fn splitmix64(mut x: u64) -> u64 {
    x = x.wrapping_add(0x9E37_79B9_7F4A_7C15);
    let mut z = x;
    z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
    z ^ (z >> 31)
}

/// The per-record hashes every field of a record derives its values from; computed once per
/// record when a whole row is written.
#[derive(Clone, Copy, Debug)]
pub(crate) struct RecordHashes {
    record: u64,
    name: u64,
    place: u64,
}

impl GenContext<'_> {
    /// The hashes of record `index`.
    pub(crate) fn record_hashes(&self, index: u64) -> RecordHashes {
        let base = splitmix64(self.seed ^ splitmix64(index ^ (self.object_number << 48)));
        RecordHashes {
            record: base,
            name: splitmix64(base ^ 0x6E61_6D65),
            place: splitmix64(base ^ 0x706C_6163),
        }
    }

    fn step(&self) -> i64 {
        if self.count == 0 {
            0
        } else {
            self.span_seconds / self.count as i64
        }
    }

    /// CreatedDate of record `index`, seconds since the epoch.
    pub(crate) fn created_seconds(&self, index: u64) -> i64 {
        let offset = (index as i128 * self.span_seconds as i128 / self.count.max(1) as i128) as i64;
        self.first_created + offset
    }

    /// SystemModstamp of record `index`: in [created(i), created(i) + step).
    pub(crate) fn modstamp_seconds(&self, index: u64) -> i64 {
        let step = self.step();
        let jitter = if step > 1 {
            (splitmix64(self.seed ^ index ^ (self.object_number << 40)) % step as u64) as i64
        } else {
            0
        };
        self.created_seconds(index) + jitter
    }

    pub(crate) fn modified_seconds(&self, index: u64) -> i64 {
        let created = self.created_seconds(index);
        created + (self.modstamp_seconds(index) - created) / 2
    }

    /// The value of field `field_index` of record `index`, whose hashes
    /// ([`GenContext::record_hashes`]) are computed once per record.
    pub(crate) fn value(
        &self,
        hashes: &RecordHashes,
        gen: &Gen,
        field: &Field,
        field_index: usize,
        index: u64,
        prefix: &str,
    ) -> Value {
        let h =
            splitmix64(hashes.record ^ (field_index as u64).wrapping_mul(0xA24B_AED4_963E_E407));
        let pick = |list: &[&str]| list[(h % list.len() as u64) as usize].to_string();
        let null_if = |percent: u8| (h >> 32) % 100 < percent as u64;
        match gen {
            Gen::Id => Value::Text(ids::encode(prefix, index)),
            Gen::False => Value::Bool(false),
            Gen::True => Value::Bool(true),
            Gen::Created => datetime(self.created_seconds(index)),
            Gen::Modified => datetime(self.modified_seconds(index)),
            Gen::Modstamp => datetime(self.modstamp_seconds(index)),
            Gen::Ref(object, null_percent) => {
                if null_if(*null_percent) {
                    return Value::Null;
                }
                match self.targets.get(object.as_str()) {
                    Some((target_prefix, count)) if *count > 0 => {
                        Value::Text(ids::encode(target_prefix, h % count))
                    }
                    _ => Value::Null,
                }
            }
            Gen::User => match self.targets.get("User") {
                // Most records are touched by the integration user (index 0).
                Some((user_prefix, count)) if *count > 0 => {
                    let n = if h % 4 == 0 { h % count } else { 0 };
                    Value::Text(ids::encode(user_prefix, n))
                }
                _ => Value::Null,
            },
            Gen::FirstName => Value::Text(first_name(hashes.name).to_string()),
            Gen::LastName => Value::Text(last_name(hashes.name).to_string()),
            Gen::FullName => {
                let nh = hashes.name;
                Value::Text(format!("{} {}", first_name(nh), last_name(nh)))
            }
            Gen::Company => Value::Text(join(&[
                COMPANY_WORDS[(h % COMPANY_WORDS.len() as u64) as usize],
                " ",
                COMPANY_SUFFIXES[((h >> 20) % COMPANY_SUFFIXES.len() as u64) as usize],
            ])),
            Gen::Email => {
                let nh = hashes.name;
                let mut email = String::with_capacity(48);
                push_lower_alphanumeric(&mut email, first_name(nh));
                email.push('.');
                push_lower_alphanumeric(&mut email, last_name(nh));
                push_number(&mut email, index, 1);
                email.push('@');
                email.push_str(DOMAINS[(h % DOMAINS.len() as u64) as usize]);
                Value::Text(email)
            }
            Gen::Username => {
                if index == 0 {
                    Value::Text(self.username.to_string())
                } else {
                    let nh = hashes.name;
                    Value::Text(format!(
                        "{}.{}{}@emulator.example.com",
                        first_name(nh).to_lowercase(),
                        last_name(nh).to_lowercase().replace(['\'', ' '], ""),
                        index
                    ))
                }
            }
            Gen::Phone => {
                if null_if(10) {
                    Value::Null
                } else {
                    let mut phone = String::with_capacity(14);
                    phone.push('(');
                    push_number(&mut phone, 200 + h % 700, 3);
                    phone.push_str(") ");
                    push_number(&mut phone, (h >> 10) % 1000, 3);
                    phone.push('-');
                    push_number(&mut phone, (h >> 20) % 10000, 4);
                    Value::Text(phone)
                }
            }
            Gen::Url => {
                let mut url = String::with_capacity(40);
                url.push_str("https://www.");
                push_lower_alphanumeric(
                    &mut url,
                    COMPANY_WORDS[(h % COMPANY_WORDS.len() as u64) as usize],
                );
                url.push_str(".example.com");
                Value::Text(url)
            }
            Gen::Title => Value::Text(pick(&TITLES)),
            Gen::Pick(null_percent) => {
                if field.picklist_values.is_empty() || null_if(*null_percent) {
                    Value::Null
                } else {
                    Value::Text(
                        field.picklist_values[(h % field.picklist_values.len() as u64) as usize]
                            .value
                            .clone(),
                    )
                }
            }
            Gen::MultiPick => {
                let chosen: Vec<&str> = field
                    .picklist_values
                    .iter()
                    .enumerate()
                    .filter(|(i, _)| (h >> (*i * 3)) & 3 == 0)
                    .map(|(_, p)| p.value.as_str())
                    .collect();
                if chosen.is_empty() {
                    Value::Null
                } else {
                    Value::Text(chosen.join(";"))
                }
            }
            Gen::Seq(prefix) => {
                let mut text = String::with_capacity(prefix.len() + 8);
                text.push_str(prefix);
                push_number(&mut text, index, 8);
                Value::Text(text)
            }
            Gen::Words(null_percent) => {
                if null_if(*null_percent) {
                    Value::Null
                } else {
                    Value::Text(three_words(h, ""))
                }
            }
            Gen::Tricky => {
                if index % 7 == 3 {
                    Value::Text(TRICKY[((index / 7) % TRICKY.len() as u64) as usize].to_string())
                } else if null_if(15) {
                    Value::Null
                } else {
                    Value::Text(three_words(h, "."))
                }
            }
            Gen::Paragraph => {
                if null_if(30) {
                    return Value::Null;
                }
                let mut text = String::new();
                for k in 0..(3 + h % 12) {
                    if k > 0 {
                        text.push(' ');
                    }
                    text.push_str(WORDS[(splitmix64(h ^ k) % WORDS.len() as u64) as usize]);
                }
                text.push('.');
                Value::Text(text)
            }
            Gen::Int(lo, hi) => Value::Int(lo + (h % (hi - lo).max(1) as u64) as i64),
            Gen::Double(lo, hi, decimals) => {
                let unit = 10f64.powi(*decimals as i32);
                let raw = lo + (h % 1_000_000_007) as f64 / 1_000_000_007.0 * (hi - lo);
                Value::Double((raw * unit).round() / unit)
            }
            Gen::Bool(true_percent) => Value::Bool(h % 100 < *true_percent as u64),
            Gen::DateNear(days) => {
                let created = self.created_seconds(index);
                let offset = (h % (2 * *days as u64 + 1)) as i64 - days;
                Value::Date(date_of(created + offset * 86_400))
            }
            Gen::DateTimeAfter => {
                datetime(self.created_seconds(index) + (h % (30 * 86_400)) as i64)
            }
            Gen::Time => Value::Time(
                NaiveTime::from_hms_milli_opt((h % 24) as u32, ((h >> 8) % 4) as u32 * 15, 0, 0)
                    .unwrap_or_default(),
            ),
            Gen::Street => Value::Text(
                format!(
                    "{} {} {}",
                    1 + h % 9999,
                    pick(&STREETS),
                    if h % 5 == 0 { "\nSuite 200" } else { "" }
                )
                .trim_end()
                .to_string(),
            ),
            Gen::City => Value::Text(place(hashes.place).0.to_string()),
            Gen::State => Value::Text(place(hashes.place).1.to_string()),
            Gen::PostalCode => Value::Text(format!("{:05}", 10000 + h % 89999)),
            Gen::Country => Value::Text(place(hashes.place).2.to_string()),
            Gen::Latitude => Value::Double(round6(
                place(hashes.place).3 + ((h % 1000) as f64 - 500.0) / 10000.0,
            )),
            Gen::Longitude => Value::Double(round6(
                place(hashes.place).4 + (((h >> 12) % 1000) as f64 - 500.0) / 10000.0,
            )),
            Gen::GeocodeAccuracy => {
                Value::Text(pick(&["Address", "NearAddress", "Block", "Street", "City"]))
            }
            Gen::Ip => Value::Text(format!(
                "10.{}.{}.{}",
                h % 256,
                (h >> 8) % 256,
                (h >> 16) % 256
            )),
            Gen::Blob => {
                let len = 16 + (h % 200) as usize;
                Value::Base64(
                    (0..len)
                        .map(|k| (splitmix64(h ^ k as u64) & 0xff) as u8)
                        .collect(),
                )
            }
            Gen::Json => Value::Text(format!(
                "{{\"score\":{},\"tags\":[\"{}\"]}}",
                h % 100,
                pick(&WORDS)
            )),
            Gen::Null => Value::Null,
            Gen::Const(text) => Value::Text(text.clone()),
            Gen::Fixed(list) => Value::Text(list[(index % list.len() as u64) as usize].clone()),
            Gen::HistoryValue => match h % 3 {
                0 => Value::Text(pick(&[
                    "Prospecting",
                    "Qualification",
                    "Closed Won",
                    "Negotiation/Review",
                ])),
                1 => Value::Double(((h >> 8) % 100_000) as f64 * 10.0),
                _ => Value::Null,
            },
        }
    }
}

/// A base64 `Value` as text (for Bulk refusals and blob bodies).
pub(crate) fn base64_text(bytes: &[u8]) -> String {
    base64::engine::general_purpose::STANDARD.encode(bytes)
}

/// Concatenates without the formatting machinery (generation is on the Bulk hot path).
/// Three of `WORDS` picked by `h`, space-separated, then `end`.
fn three_words(h: u64, end: &str) -> String {
    let word = |shift: u32| WORDS[((h >> shift) % WORDS.len() as u64) as usize];
    join(&[word(0), " ", word(16), " ", word(32), end])
}

fn join(parts: &[&str]) -> String {
    let mut out = String::with_capacity(parts.iter().map(|p| p.len()).sum());
    for part in parts {
        out.push_str(part);
    }
    out
}

/// Appends `n` in decimal, zero-padded to `width` digits.
fn push_number(out: &mut String, n: u64, width: usize) {
    let mut digits = [0u8; 20];
    let mut v = n;
    let mut count = 0;
    while v > 0 || count < width.max(1) {
        digits[count] = (v % 10) as u8;
        v /= 10;
        count += 1;
    }
    for d in digits[..count].iter().rev() {
        out.push(char::from(b'0' + d));
    }
}

/// Appends the letters and digits of `text`, lower-cased (`O'Brien` → `obrien`).
fn push_lower_alphanumeric(out: &mut String, text: &str) {
    for c in text.chars() {
        if c.is_ascii() {
            if c.is_ascii_alphanumeric() {
                out.push(c.to_ascii_lowercase());
            }
        } else if c.is_alphanumeric() {
            out.extend(c.to_lowercase());
        }
    }
}

fn datetime(seconds: i64) -> Value {
    Value::DateTime(DateTime::<Utc>::from_timestamp(seconds, 0).unwrap_or_default())
}

fn date_of(seconds: i64) -> NaiveDate {
    DateTime::<Utc>::from_timestamp(seconds, 0)
        .unwrap_or_default()
        .date_naive()
}

/// The span generated data covers before the clock's start.
pub(crate) fn span() -> Duration {
    Duration::days(730)
}

fn round6(x: f64) -> f64 {
    (x * 1e6).round() / 1e6
}

fn first_name(h: u64) -> &'static str {
    FIRST_NAMES[(h % FIRST_NAMES.len() as u64) as usize]
}

fn last_name(h: u64) -> &'static str {
    LAST_NAMES[((h >> 24) % LAST_NAMES.len() as u64) as usize]
}

fn place(h: u64) -> &'static (&'static str, &'static str, &'static str, f64, f64) {
    &PLACES[(h % PLACES.len() as u64) as usize]
}

const FIRST_NAMES: [&str; 32] = [
    "James",
    "Mary",
    "Robert",
    "Patricia",
    "John",
    "Jennifer",
    "Michael",
    "Linda",
    "David",
    "Elizabeth",
    "William",
    "Barbara",
    "Richard",
    "Susan",
    "Joseph",
    "Jessica",
    "Thomas",
    "Sarah",
    "Chloé",
    "Zoë",
    "José",
    "Søren",
    "Aiko",
    "Wei",
    "Fatima",
    "Olumide",
    "Priya",
    "Mateo",
    "Ingrid",
    "Dmitri",
    "Aoife",
    "Nguyễn",
];
const LAST_NAMES: [&str; 32] = [
    "Smith",
    "Johnson",
    "Williams",
    "Brown",
    "Jones",
    "Garcia",
    "Miller",
    "Davis",
    "Rodriguez",
    "Martinez",
    "Hernandez",
    "Lopez",
    "Gonzalez",
    "Wilson",
    "Anderson",
    "Thomas",
    "Taylor",
    "Moore",
    "Jackson",
    "Martin",
    "O'Brien",
    "Müller",
    "Østergaard",
    "Tanaka",
    "Kowalski",
    "Dubois",
    "van der Berg",
    "Rossi",
    "Novák",
    "Silva",
    "Kim",
    "Null",
];
const COMPANY_WORDS: [&str; 24] = [
    "Acme",
    "Globex",
    "Initech",
    "Umbrella",
    "Stark",
    "Wayne",
    "Wonka",
    "Tyrell",
    "Cyberdyne",
    "Soylent",
    "Hooli",
    "Vandelay",
    "Pied Piper",
    "Gringotts",
    "Oscorp",
    "Aperture",
    "Blue Sun",
    "Nakatomi",
    "Monarch",
    "Dunder",
    "Sterling",
    "Prestige",
    "Massive",
    "Zorg",
];
const COMPANY_SUFFIXES: [&str; 8] = [
    "Inc.", "LLC", "Corp", "Ltd", "GmbH", "S.A.", "Group", "& Co.",
];
const DOMAINS: [&str; 6] = [
    "example.com",
    "example.org",
    "example.net",
    "mail.example.com",
    "corp.example",
    "test.example",
];
const TITLES: [&str; 10] = [
    "CEO",
    "CFO",
    "VP Sales",
    "Director, Operations",
    "Account Manager",
    "Engineer",
    "Buyer",
    "Head of Data",
    "Analyst",
    "Procurement \"Lead\"",
];
const WORDS: [&str; 32] = [
    "quarterly",
    "renewal",
    "pipeline",
    "contract",
    "meeting",
    "follow-up",
    "pricing",
    "discount",
    "shipment",
    "invoice",
    "support",
    "escalation",
    "onboarding",
    "integration",
    "migration",
    "upgrade",
    "license",
    "workshop",
    "demo",
    "proposal",
    "budget",
    "approval",
    "feedback",
    "training",
    "roadmap",
    "security",
    "review",
    "kickoff",
    "café",
    "naïve",
    "résumé",
    "straße",
];
const STREETS: [&str; 10] = [
    "Main St",
    "Market Street",
    "Oak Avenue",
    "Pine Rd",
    "Broadway",
    "Elm Street",
    "Rue de Rivoli",
    "Königstraße",
    "High Street",
    "Mission St",
];
/// (city, state, country, latitude, longitude)
const PLACES: [(&str, &str, &str, f64, f64); 10] = [
    ("San Francisco", "CA", "United States", 37.7749, -122.4194),
    ("New York", "NY", "United States", 40.7128, -74.0060),
    ("Austin", "TX", "United States", 30.2672, -97.7431),
    ("Chicago", "IL", "United States", 41.8781, -87.6298),
    ("Toronto", "ON", "Canada", 43.6532, -79.3832),
    ("London", "England", "United Kingdom", 51.5074, -0.1278),
    ("Paris", "Île-de-France", "France", 48.8566, 2.3522),
    ("München", "Bayern", "Germany", 48.1351, 11.5820),
    ("東京", "Tokyo", "Japan", 35.6762, 139.6503),
    ("São Paulo", "SP", "Brazil", -23.5505, -46.6333),
];
/// Values a careless reader turns into null or breaks on; they must come back as these strings.
pub(crate) const TRICKY: [&str; 12] = [
    "NA",
    "N/A",
    "NULL",
    "null",
    "None",
    "#N/A",
    "Line one\nLine \"two\", with a comma",
    "Zoë Ångström — 東京 🚀",
    "tab\tseparated; semi;colon|pipe^caret`backquote",
    "  leading and trailing spaces  ",
    "\"quoted\"",
    "CRLF line\r\nnext",
];

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn numbers_are_zero_padded() {
        let mut s = String::new();
        push_number(&mut s, 42, 4);
        push_number(&mut s, 0, 1);
        push_number(&mut s, 123_456, 3);
        assert_eq!(s, "00420123456");
    }

    #[test]
    fn email_parts_keep_letters_and_digits_only() {
        let mut s = String::new();
        push_lower_alphanumeric(&mut s, "O'Brien van der Berg Chloé");
        assert_eq!(s, "obrienvanderbergchloé");
    }
}
