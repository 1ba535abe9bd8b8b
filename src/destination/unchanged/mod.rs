//! `skip_unchanged_records`: before an update or upsert batch goes out, the current values of
//! its fields are read for the batch's keys (`Id` for update, the external id for upsert) with
//! Bulk queries, and the rows that would change nothing are taken out of the batch.
//!
//! The batch is read back from disk in chunks of at most [`lookup::MAX_KEYS_PER_QUERY`] keys
//! (and an `IN` list of at most [`lookup::MAX_IN_LIST_CHARS`] characters), one query per chunk
//! (plus one per relationship column holding values, to learn which parent Id each external
//! id names), so memory stays bounded whatever the batch size. A row is skipped only when its
//! key names exactly one record, and every cell it sets equals that record's value after
//! Salesforce's normalisation ([`normalize`]); empty cells (fields the row leaves alone) are
//! not compared. Written anyway: rows whose key is not found (an upsert creates them; an
//! update gets Salesforce's own error), keys that appear twice in the batch (Salesforce's
//! handling of duplicates is kept), keys that cannot be looked up, relationship values no
//! single parent holds, and every row of a chunk whose lookup failed (logged).
//!
//! A relationship column (`Account.External_Id__c`) is compared through the lookup it sets:
//! the parent Id the external id names now against the record's lookup field (`AccountId`).

mod lookup;
pub(crate) mod normalize;

use std::collections::{BTreeMap, HashMap};
use std::hash::BuildHasher;
use std::io;

use serde_json::value::RawValue;

use crate::destination::batch::cell::NULL_MARKER;
use crate::destination::batch::row::record_to_row;
use crate::destination::batch::{Batch, BatchLimits, SealedBatch};
use crate::destination::route::mapping::StreamTarget;
use crate::destination::route::operation::Operation;
use crate::destination::route::relationship::Relationship;
use crate::destination::route::sobject::FieldKind;
use crate::salesforce::SalesforceClient;

use lookup::{lookup_soql, query_rows, soql_literal, MAX_IN_LIST_CHARS, MAX_KEYS_PER_QUERY};
use normalize::{canonical_decimal, id_key, same_id, same_value};

/// Whether `operation` writes over existing records, so unchanged rows can be skipped.
pub(crate) fn compares(operation: &Operation) -> bool {
    matches!(operation, Operation::Update | Operation::Upsert { .. })
}

/// What taking the unchanged rows out of a batch found.
#[derive(Debug, Default)]
pub(crate) struct Filtered {
    /// Rows skipped, per STATE interval.
    pub skipped: BTreeMap<u64, u64>,
    pub skipped_rows: u64,
    /// Bulk query jobs run.
    pub queries: u64,
}

/// What a lookup reads: the record's Id, the key, and the fields the stream's columns set.
struct Plan<'t> {
    target: &'t StreamTarget,
    key_column: usize,
    /// `Id`, the key (unless it is `Id`), then each compared field once.
    select: Vec<String>,
    key_select: usize,
    /// (column, index in `select`) of every column compared.
    compared: Vec<(usize, usize)>,
}

impl<'t> Plan<'t> {
    fn new(target: &'t StreamTarget) -> Option<Plan<'t>> {
        let key_column = target.key_column()?;
        let mut select = vec!["Id".to_string()];
        let key_name = &target.columns[key_column].field.name;
        let key_select = if key_name.eq_ignore_ascii_case("Id") {
            0
        } else {
            select.push(key_name.clone());
            1
        };
        let mut compared = Vec::new();
        for (index, column) in target.columns.iter().enumerate() {
            if index == key_column {
                continue;
            }
            let name = &column.target_field().name;
            let at = match select.iter().position(|s| s.eq_ignore_ascii_case(name)) {
                Some(at) => at,
                None => {
                    select.push(name.clone());
                    select.len() - 1
                }
            };
            compared.push((index, at));
        }
        Some(Plan {
            target,
            key_column,
            select,
            key_select,
            compared,
        })
    }

    fn key_kind(&self) -> FieldKind {
        self.target.columns[self.key_column].field.kind
    }
}

/// How a key (or a parent's external id) is matched: ids on their 15 characters, numbers by
/// value, text ignoring case (external ids are case-insensitive unless the field says
/// otherwise; two records matching one key make it ambiguous, and the row is written).
fn match_key(kind: FieldKind, value: &str) -> String {
    match kind {
        FieldKind::Id => id_key(value).to_string(),
        FieldKind::Integer | FieldKind::Long | FieldKind::Decimal => {
            canonical_decimal(value).unwrap_or_else(|| value.to_string())
        }
        _ => value.trim().to_lowercase(),
    }
}

/// A row waiting for its chunk's lookup.
struct Pending {
    index: usize,
    original: Box<RawValue>,
    /// The matched key, when the row can be looked up at all.
    key: Option<String>,
}

/// Takes the rows of `batch` that would change nothing out of it: returns the rows to send
/// (in their order, with their STATE intervals); `on_skip` hears each skipped row with the Id
/// of the record it matched. Only I/O on the spooled files fails this; a lookup that fails
/// leaves its rows in the batch (logged).
pub(crate) async fn filter_unchanged(
    client: &SalesforceClient,
    target: &StreamTarget,
    batch: SealedBatch,
    mut on_skip: impl FnMut(&RawValue, &str),
) -> io::Result<(SealedBatch, Filtered)> {
    let mut filtered = Filtered::default();
    let Some(plan) = Plan::new(target) else {
        return Ok((batch, filtered));
    };
    let header: Vec<&str> = target.header().collect();
    let hasher = foldhash::fast::FixedState::default();
    // Keys that appear more than once in the batch are never skipped.
    let mut seen: HashMap<u64, u32> = HashMap::new();
    for item in batch.originals()? {
        let (_, original) = item?;
        if let Some(key) = key_of(&plan, &original) {
            *seen.entry(hasher.hash_one(&key)).or_default() += 1;
        }
    }
    let mut chunk = Chunk {
        plan: &plan,
        send: Batch::new(&header)?,
        rows: Vec::new(),
        literals: Vec::new(),
        literal_chars: 0,
    };
    for item in batch.originals()? {
        let (index, original) = item?;
        let key = key_of(&plan, &original)
            .filter(|key| seen.get(&hasher.hash_one(key)).copied() == Some(1));
        let literal = key.as_ref().and_then(|_| {
            let cells = record_to_row(target, &original).ok()?;
            soql_literal(plan.key_kind(), &cells[plan.key_column])
        });
        let key = match literal {
            Some(literal) => {
                chunk.literal_chars += literal.len() + 2;
                chunk.literals.push(literal);
                key
            }
            None => None,
        };
        chunk.rows.push(Pending {
            index,
            original,
            key,
        });
        if chunk.rows.len() >= MAX_KEYS_PER_QUERY || chunk.literal_chars >= MAX_IN_LIST_CHARS {
            chunk
                .run(client, &batch, &mut filtered, &mut on_skip)
                .await?;
        }
    }
    chunk
        .run(client, &batch, &mut filtered, &mut on_skip)
        .await?;
    Ok((chunk.send.seal()?, filtered))
}

/// The matched key of a spooled row, if it has one.
fn key_of(plan: &Plan<'_>, original: &RawValue) -> Option<String> {
    let cells = record_to_row(plan.target, original).ok()?;
    let cell = cells[plan.key_column].as_ref();
    (!cell.is_empty() && cell != NULL_MARKER).then(|| match_key(plan.key_kind(), cell))
}

/// Rows read back from the batch, waiting for one lookup.
struct Chunk<'p, 't> {
    plan: &'p Plan<'t>,
    send: Batch,
    rows: Vec<Pending>,
    literals: Vec<String>,
    literal_chars: usize,
}

/// The current record a key names: `None` when several do.
type Current = HashMap<String, Option<csv::StringRecord>>;

impl Chunk<'_, '_> {
    /// Looks the chunk's keys up, keeps the changed rows, reports the unchanged ones.
    async fn run(
        &mut self,
        client: &SalesforceClient,
        batch: &SealedBatch,
        filtered: &mut Filtered,
        on_skip: &mut impl FnMut(&RawValue, &str),
    ) -> io::Result<()> {
        if self.rows.is_empty() {
            return Ok(());
        }
        let plan = self.plan;
        let target = plan.target;
        let mut current: Current = HashMap::new();
        if !self.literals.is_empty() {
            let fields: Vec<&str> = plan.select.iter().map(String::as_str).collect();
            let literals: Vec<&str> = self.literals.iter().map(String::as_str).collect();
            let key_field = fields[plan.key_select];
            let soql = lookup_soql(&fields, &target.object, key_field, &literals);
            filtered.queries += 1;
            match query_rows(client, &soql, &fields).await {
                Ok(rows) => {
                    for row in rows {
                        let key = match_key(plan.key_kind(), &row[plan.key_select]);
                        current
                            .entry(key)
                            .and_modify(|found| *found = None)
                            .or_insert(Some(row));
                    }
                }
                Err(e) => tracing::warn!(
                    "stream '{}': reading the current values of {} keys of {} failed ({e}); their records are written without comparing",
                    target.stream,
                    literals.len(),
                    target.object
                ),
            }
        }
        let parents = self.parents(client, &current, filtered).await?;
        let unlimited = BatchLimits {
            max_bytes: u64::MAX,
            max_records: usize::MAX,
        };
        for row in self.rows.drain(..) {
            let cells = record_to_row(target, &row.original)
                .map_err(|e| io::Error::new(io::ErrorKind::InvalidData, e.to_string()))?;
            let interval = batch.rows[row.index].interval;
            let record = row
                .key
                .as_ref()
                .and_then(|key| current.get(key))
                .and_then(Option::as_ref);
            let unchanged = record.is_some_and(|record| {
                plan.compared.iter().all(|&(column, at)| {
                    let cell = cells[column].as_ref();
                    let now = &record[at];
                    if cell.is_empty() {
                        return true;
                    }
                    match &target.columns[column].relationship {
                        Some(_) if cell == NULL_MARKER => now.is_empty(),
                        Some(_) => parents
                            .get(&(column, match_key(target.columns[column].field.kind, cell)))
                            .and_then(Option::as_deref)
                            .is_some_and(|parent| same_id(parent, now)),
                        None => same_value(&target.columns[column].field, cell, now),
                    }
                })
            });
            match record {
                Some(record) if unchanged => {
                    on_skip(&row.original, &record[0]);
                    *filtered.skipped.entry(interval).or_default() += 1;
                    filtered.skipped_rows += 1;
                }
                _ => {
                    self.send
                        .push(&cells, &row.original, interval, &unlimited)?;
                }
            }
        }
        self.literals.clear();
        self.literal_chars = 0;
        Ok(())
    }

    /// For each relationship column, the parent Id each external id of the chunk names
    /// (`None` when several parents hold it), by (column, matched value). Only rows whose
    /// record was found need it.
    async fn parents(
        &self,
        client: &SalesforceClient,
        current: &Current,
        filtered: &mut Filtered,
    ) -> io::Result<HashMap<(usize, String), Option<String>>> {
        let plan = self.plan;
        let target = plan.target;
        let mut out = HashMap::new();
        for &(column, _) in &plan.compared {
            let Some(relationship) = &target.columns[column].relationship else {
                continue;
            };
            let kind = target.columns[column].field.kind;
            let mut literals: Vec<String> = Vec::new();
            let mut wanted: HashMap<String, ()> = HashMap::new();
            for row in &self.rows {
                if !row
                    .key
                    .as_ref()
                    .is_some_and(|k| matches!(current.get(k), Some(Some(_))))
                {
                    continue;
                }
                let cells = record_to_row(target, &row.original)
                    .map_err(|e| io::Error::new(io::ErrorKind::InvalidData, e.to_string()))?;
                let cell = cells[column].as_ref();
                if cell.is_empty() || cell == NULL_MARKER {
                    continue;
                }
                if wanted.insert(match_key(kind, cell), ()).is_none() {
                    literals.extend(soql_literal(kind, cell));
                }
            }
            for group in literal_groups(&literals) {
                filtered.queries += 1;
                match query_parents(client, relationship, group).await {
                    Ok(rows) => {
                        for (value, id) in rows {
                            out.entry((column, match_key(kind, &value)))
                                .and_modify(|found: &mut Option<String>| *found = None)
                                .or_insert(Some(id));
                        }
                    }
                    Err(e) => tracing::warn!(
                        "stream '{}': reading which {} records {} names failed ({e}); rows setting it are written without comparing",
                        target.stream,
                        relationship.parent,
                        relationship.header
                    ),
                }
            }
        }
        Ok(out)
    }
}

/// `literals` in groups that each fit one query.
fn literal_groups(literals: &[String]) -> Vec<&[String]> {
    let mut groups = Vec::new();
    let mut start = 0;
    let mut chars = 0;
    for (i, literal) in literals.iter().enumerate() {
        if i > start && (i - start >= MAX_KEYS_PER_QUERY || chars >= MAX_IN_LIST_CHARS) {
            groups.push(&literals[start..i]);
            start = i;
            chars = 0;
        }
        chars += literal.len() + 2;
    }
    if start < literals.len() {
        groups.push(&literals[start..]);
    }
    groups
}

/// (external id value, parent Id) of the parents holding any of `literals`.
async fn query_parents(
    client: &SalesforceClient,
    relationship: &Relationship,
    literals: &[String],
) -> Result<Vec<(String, String)>, lookup::LookupError> {
    let field = relationship.parent_field.name.as_str();
    let fields = ["Id", field];
    let literals: Vec<&str> = literals.iter().map(String::as_str).collect();
    let soql = lookup_soql(&fields, &relationship.parent, field, &literals);
    let rows = query_rows(client, &soql, &fields).await?;
    Ok(rows
        .into_iter()
        .map(|row| (row[1].to_string(), row[0].to_string()))
        .collect())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn literal_groups_stay_within_one_query() {
        let literals: Vec<String> = (0..MAX_KEYS_PER_QUERY + 5)
            .map(|i| format!("'{i}'"))
            .collect();
        let groups = literal_groups(&literals);
        assert_eq!(groups.len(), 2);
        assert_eq!(groups[0].len(), MAX_KEYS_PER_QUERY);
        assert_eq!(groups[1].len(), 5);
        assert!(literal_groups(&[]).is_empty());
        let long = vec!["x".repeat(MAX_IN_LIST_CHARS); 3];
        assert_eq!(literal_groups(&long).len(), 3);
    }

    #[test]
    fn keys_match_as_salesforce_matches_them() {
        assert_eq!(
            match_key(FieldKind::Id, "001000000000001AAA"),
            match_key(FieldKind::Id, "001000000000001")
        );
        assert_eq!(
            match_key(FieldKind::Text, "EXT-1"),
            match_key(FieldKind::Text, "ext-1")
        );
        assert_eq!(
            match_key(FieldKind::Decimal, "12"),
            match_key(FieldKind::Decimal, "12.0")
        );
    }
}
