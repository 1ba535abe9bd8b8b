//! A large full refresh split into Id ranges, read as several Bulk jobs that Salesforce prepares
//! at once (the way its PK chunking splits a query).
//!
//! The boundaries cost three REST calls and no Bulk job: `SELECT COUNT()` decides whether the
//! object is worth splitting, then the first and the last Id (`ORDER BY Id ASC|DESC LIMIT 1`).
//! A Salesforce Id is a 3-character key prefix and 12 base-62 characters (instance, reserved
//! character, sequence) in its 15-character form; base 62's digits `0-9A-Za-z` sort as ASCII does,
//! so the span between the two Ids is cut into equal numeric parts and each cut written back as
//! a 15-character Id, as PK chunking's own boundaries are. Ids grow with creation, so the parts
//! hold similar row counts when records were created at a steady pace; uneven parts cost time,
//! never rows: every Id falls in exactly one range (`after < Id <= until`).

use serde::Deserialize;
use serde_json::value::RawValue;

use crate::salesforce::soql::quote_string;
use crate::salesforce::SalesforceClient;

use crate::source::context::{Reason, StreamFailure};

const BASE62: &[u8; 62] = b"0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz";

/// One range of Ids: `after < Id <= until`, each bound absent when open.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) struct IdRange {
    pub after: Option<String>,
    pub until: Option<String>,
}

impl From<Option<String>> for IdRange {
    /// Every Id after `after` (all of them when `None`).
    fn from(after: Option<String>) -> Self {
        IdRange { after, until: None }
    }
}

/// The ranges a full refresh of `object` (after `after`, when resuming) is read in: up to
/// `most`, each of at least `min_rows` rows as counted now (so every job keeps several result
/// pages); one open range when the object is smaller, `min_rows` is 0, or its Ids cannot be
/// split.
pub(crate) async fn id_ranges(
    client: &SalesforceClient,
    object: &str,
    after: Option<&str>,
    most: usize,
    min_rows: u64,
) -> Result<Vec<IdRange>, StreamFailure> {
    let whole = vec![IdRange::from(after.map(str::to_string))];
    if min_rows == 0 || most < 2 {
        return Ok(whole);
    }
    let lower = after
        .map(|id| format!(" WHERE Id > {}", quote_string(id)))
        .unwrap_or_default();
    let count = client
        .query(&format!("SELECT COUNT() FROM {object}{lower}"), true, None)
        .await?
        .total_size;
    let parts = usize::try_from(count / min_rows)
        .unwrap_or(usize::MAX)
        .min(most);
    if parts < 2 {
        return Ok(whole);
    }
    let first = edge_id(client, object, &lower, "ASC").await?;
    let last = edge_id(client, object, &lower, "DESC").await?;
    let (Some(first), Some(last)) = (first, last) else {
        return Ok(whole);
    };
    let Some(cuts) = split_ids(&first, &last, parts) else {
        tracing::info!(
            "{object}: Ids {first} and {last} cannot be split into ranges; reading it as one query"
        );
        return Ok(whole);
    };
    tracing::info!(
        "{object}: {count} rows read in {} Id ranges prepared at once",
        cuts.len() + 1
    );
    let mut ranges = Vec::with_capacity(cuts.len() + 1);
    let mut lower = after.map(str::to_string);
    for cut in cuts {
        ranges.push(IdRange {
            after: lower.take(),
            until: Some(cut.clone()),
        });
        lower = Some(cut);
    }
    ranges.push(IdRange::from(lower));
    Ok(ranges)
}

#[derive(Deserialize)]
#[serde(rename_all = "PascalCase")]
struct IdOnly {
    id: String,
}

/// The first (`ASC`) or last (`DESC`) Id of `object` after the WHERE in `lower`.
async fn edge_id(
    client: &SalesforceClient,
    object: &str,
    lower: &str,
    direction: &str,
) -> Result<Option<String>, StreamFailure> {
    let soql = format!("SELECT Id FROM {object}{lower} ORDER BY Id {direction} LIMIT 1");
    let page = client.query(&soql, true, None).await?;
    page.records
        .first()
        .map(|raw| {
            serde_json::from_str::<IdOnly>(RawValue::get(raw))
                .map(|r| r.id)
                .map_err(|e| {
                    StreamFailure::Data(Reason::in_context(
                        format!("{object}: the Id of `{soql}`"),
                        e,
                    ))
                })
        })
        .transpose()
}

/// `parts - 1` increasing 15-character Ids cutting the span from `first` to `last` into equal
/// parts; `None` when the Ids do not share a key prefix or are not Salesforce Ids.
pub(crate) fn split_ids(first: &str, last: &str, parts: usize) -> Option<Vec<String>> {
    let (prefix, low) = id_number(first)?;
    let (last_prefix, high) = id_number(last)?;
    if prefix != last_prefix || high <= low || parts < 2 {
        return None;
    }
    let span = high - low;
    let mut cuts: Vec<String> = Vec::with_capacity(parts - 1);
    for i in 1..parts {
        let n = low + span * i as u128 / parts as u128;
        let id = format!("{prefix}{}", base62(n));
        if cuts.last().is_none_or(|previous| *previous < id) && low < n && n < high {
            cuts.push(id);
        }
    }
    (!cuts.is_empty()).then_some(cuts)
}

/// The key prefix and the number the other 12 characters of a 15-character Id spell.
fn id_number(id: &str) -> Option<(&str, u128)> {
    if !(id.len() == 15 || id.len() == 18) || !id.bytes().all(|b| b.is_ascii_alphanumeric()) {
        return None;
    }
    let mut n: u128 = 0;
    for b in id[3..15].bytes() {
        let digit = BASE62.iter().position(|&d| d == b)?;
        n = n * 62 + digit as u128;
    }
    Some((&id[..3], n))
}

/// `n` as 12 base-62 digits.
fn base62(mut n: u128) -> String {
    let mut digits = [b'0'; 12];
    for slot in digits.iter_mut().rev() {
        *slot = BASE62[(n % 62) as usize];
        n /= 62;
    }
    digits.iter().map(|&b| char::from(b)).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cuts_are_increasing_ids_of_the_same_prefix_inside_the_span() {
        let first = "001Dn0000000001IAA";
        let last = "001Dn00000000W2IAA";
        let cuts = split_ids(first, last, 4).unwrap();
        assert_eq!(cuts.len(), 3);
        let mut previous = first[..15].to_string();
        for cut in &cuts {
            assert_eq!(cut.len(), 15);
            assert!(cut.starts_with("001"));
            assert!(*cut > previous, "{cut} after {previous}");
            previous.clone_from(cut);
        }
        assert!(previous.as_str() < &last[..15]);
        // Equal parts: the middle cut is halfway.
        let (_, low) = id_number(first).unwrap();
        let (_, high) = id_number(last).unwrap();
        let (_, middle) = id_number(&cuts[1]).unwrap();
        assert_eq!(middle, low + (high - low) / 2);
    }

    #[test]
    fn ids_that_cannot_be_split_give_none() {
        assert_eq!(split_ids("001Dn0000000001", "003Dn0000000009", 2), None);
        assert_eq!(split_ids("001Dn0000000009", "001Dn0000000001", 2), None);
        assert_eq!(split_ids("001Dn0000000001", "001Dn0000000002", 2), None);
        assert_eq!(split_ids("not an id", "001Dn0000000002", 2), None);
        assert_eq!(split_ids("001Dn0000000001", "001Dn0000000009", 1), None);
    }

    #[test]
    fn base62_round_trips() {
        let (_, n) = id_number("001Dn00000zZ9aB").unwrap();
        assert_eq!(base62(n), "Dn00000zZ9aB");
    }
}
