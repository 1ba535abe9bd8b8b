//! What the org holds now, read before a batch goes out: with `skip_unchanged_records`, the
//! update and upsert rows that would change nothing are taken out of the batch; in a dry run,
//! rows naming records or parents that do not exist are predicted as Salesforce's rejections.
//!
//! The batch is read back from disk in chunks of at most [`lookup::MAX_KEYS_PER_QUERY`] rows
//! (and an `IN` list of at most [`lookup::MAX_IN_LIST_CHARS`] characters). Per chunk, one Bulk
//! query reads the records its keys name (`Id` for update and delete, the external id for
//! upsert), and one per relationship column holding values reads which parent Id each external
//! id names; so memory stays bounded whatever the batch size.
//!
//! A row is skipped only when its key names exactly one record, and every cell it sets equals
//! that record's value after Salesforce's normalisation ([`normalize`]); empty cells (fields the
//! row leaves alone) are not compared. A relationship column (`Account.External_Id__c`) is
//! compared through the lookup it sets: the parent Id the external id names now against the
//! record's lookup field (`AccountId`). Written anyway: rows whose key is not found (an upsert
//! creates them; an update gets Salesforce's own error), keys that appear twice in the batch
//! (Salesforce's handling of duplicates is kept), keys that cannot be looked up, relationship
//! values no single parent holds, and every row of a chunk whose lookup failed (logged).

mod lookup;
pub(crate) mod normalize;

use std::collections::{BTreeMap, HashMap, HashSet};
use std::hash::BuildHasher;
use std::io;

use serde_json::value::RawValue;

use crate::destination::batch::cell::NULL_MARKER;
use crate::destination::batch::predict::Predicted;
use crate::destination::batch::row::record_to_row;
use crate::destination::batch::{Batch, BatchLimits, Originals, SealedBatch};
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

/// What to learn from the org before a batch goes out.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub(crate) struct Checks {
    /// Take out update and upsert rows that would change nothing.
    pub skip_unchanged: bool,
    /// Dry run: predict the rejections of rows whose `Id` (update, delete) or parent
    /// (relationship column) does not exist.
    pub predict_missing: bool,
}

impl Checks {
    /// Whether a batch of `target` needs any lookup.
    pub(crate) fn apply_to(&self, target: &StreamTarget) -> bool {
        (self.skip_unchanged && compares(&target.operation))
            || (self.predict_missing
                && (Self::id_must_exist(&target.operation)
                    || target.columns.iter().any(|c| c.relationship.is_some())))
    }

    fn id_must_exist(operation: &Operation) -> bool {
        matches!(
            operation,
            Operation::Update | Operation::Delete | Operation::HardDelete
        )
    }
}

/// A row taken out of the batch.
pub(crate) struct Decided {
    pub original: Box<RawValue>,
    pub finding: Finding,
}

pub(crate) enum Finding {
    /// It would change nothing in the record with this Id.
    Unchanged { salesforce_id: String },
    /// Salesforce would reject it (dry run).
    Rejected(Predicted),
}

/// Totals of one batch's lookups.
#[derive(Debug, Default)]
pub(crate) struct Tally {
    pub skipped: BTreeMap<u64, u64>,
    pub skipped_rows: u64,
    pub rejected: BTreeMap<u64, u64>,
    pub rejected_rows: u64,
    /// Bulk query jobs run.
    pub queries: u64,
}

/// What a lookup reads: the record's Id, the key, and the fields the stream's columns set.
struct Plan<'t> {
    target: &'t StreamTarget,
    checks: Checks,
    /// The key column, when records are read at all.
    key_column: Option<usize>,
    /// `Id`, the key (unless it is `Id`), then each compared field once.
    select: Vec<String>,
    key_select: usize,
    /// (column, index in `select`) of every column compared.
    compared: Vec<(usize, usize)>,
    /// Columns whose parents are read.
    relationships: Vec<usize>,
}

impl<'t> Plan<'t> {
    fn new(target: &'t StreamTarget, checks: Checks) -> Plan<'t> {
        let skip = checks.skip_unchanged && compares(&target.operation);
        let read_records =
            skip || (checks.predict_missing && Checks::id_must_exist(&target.operation));
        let key_column = target.key_column().filter(|_| read_records);
        let mut select = vec!["Id".to_string()];
        let mut key_select = 0;
        if let Some(key) = key_column {
            let key_name = &target.columns[key].field.describe.name;
            if !key_name.eq_ignore_ascii_case("Id") {
                select.push(key_name.clone());
                key_select = 1;
            }
        }
        let mut compared = Vec::new();
        for (index, column) in target.columns.iter().enumerate() {
            if !skip || Some(index) == key_column {
                continue;
            }
            let name = &column.target_field().describe.name;
            let at = match select.iter().position(|s| s.eq_ignore_ascii_case(name)) {
                Some(at) => at,
                None => {
                    select.push(name.clone());
                    select.len() - 1
                }
            };
            compared.push((index, at));
        }
        let relationships = target
            .columns
            .iter()
            .enumerate()
            .filter(|(_, c)| c.relationship.is_some() && (skip || checks.predict_missing))
            .map(|(i, _)| i)
            .collect();
        Plan {
            target,
            checks,
            key_column,
            select,
            key_select,
            compared,
            relationships,
        }
    }

    fn key_kind(&self) -> FieldKind {
        self.key_column
            .map_or(FieldKind::Id, |k| self.target.columns[k].field.kind)
    }

    /// The matched key of a spooled row, if it has one.
    fn key_of(&self, original: &RawValue) -> Option<String> {
        let cells = record_to_row(self.target, original).ok()?;
        let cell = cells[self.key_column?].as_ref();
        (!cell.is_empty() && cell != NULL_MARKER).then(|| match_key(self.key_kind(), cell))
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

/// The current record a key names: `None` when several do.
type Current = HashMap<String, Option<csv::StringRecord>>;
/// What the chunk's relationship values name.
#[derive(Default)]
struct Parents {
    /// The parent Id a value names, by (column, matched value); `Err` with the Ids when several
    /// parents hold it; absent when none does.
    ids: HashMap<(usize, String), Result<String, Vec<String>>>,
    /// Columns whose lookup failed: neither skipped nor predicted.
    failed: HashSet<usize>,
}

impl Parents {
    fn get(
        &self,
        column: usize,
        kind: FieldKind,
        cell: &str,
    ) -> Option<&Result<String, Vec<String>>> {
        self.ids.get(&(column, match_key(kind, cell)))
    }
}

/// Reads a sealed batch back chunk by chunk, looks each chunk up, and keeps the rows to send.
pub(crate) struct Filter<'a> {
    client: &'a SalesforceClient,
    plan: Plan<'a>,
    batch: SealedBatch,
    originals: Originals,
    /// Hashes of keys that appear more than once in the batch (never skipped).
    repeated: HashSet<u64>,
    send: Batch,
    pub tally: Tally,
}

impl<'a> Filter<'a> {
    pub(crate) fn new(
        client: &'a SalesforceClient,
        target: &'a StreamTarget,
        batch: SealedBatch,
        checks: Checks,
    ) -> io::Result<Filter<'a>> {
        let plan = Plan::new(target, checks);
        let hasher = foldhash::fast::FixedState::default();
        let mut counts: HashMap<u64, u32> = HashMap::new();
        if plan.key_column.is_some() {
            for item in batch.originals()? {
                let (_, original) = item?;
                if let Some(key) = plan.key_of(&original) {
                    *counts.entry(hasher.hash_one(&key)).or_default() += 1;
                }
            }
        }
        let header: Vec<&str> = target.header().collect();
        Ok(Filter {
            client,
            originals: batch.originals()?,
            batch,
            repeated: counts
                .into_iter()
                .filter(|(_, n)| *n > 1)
                .map(|(k, _)| k)
                .collect(),
            send: Batch::new(&header)?,
            plan,
            tally: Tally::default(),
        })
    }

    /// Looks the next chunk up: the rows taken out (`None` once the batch is read).
    pub(crate) async fn next_chunk(&mut self) -> io::Result<Option<Vec<Decided>>> {
        let mut rows = Vec::new();
        let mut literals = Vec::new();
        let mut listed = HashSet::new();
        let mut literal_chars = 0;
        while rows.len() < MAX_KEYS_PER_QUERY && literal_chars < MAX_IN_LIST_CHARS {
            let Some(item) = self.originals.next() else {
                break;
            };
            let (index, original) = item?;
            let key = self.plan.key_of(&original).and_then(|key| {
                let cells = record_to_row(self.plan.target, &original).ok()?;
                let literal = soql_literal(self.plan.key_kind(), &cells[self.plan.key_column?])?;
                if listed.insert(key.clone()) {
                    literal_chars += literal.len() + 2;
                    literals.push(literal);
                }
                Some(key)
            });
            rows.push(Pending {
                index,
                original,
                key,
            });
        }
        if rows.is_empty() {
            return Ok(None);
        }
        let current = self.records(&literals).await;
        let parents = self.parents(&rows).await?;
        let mut decided = Vec::new();
        for row in rows {
            let interval = self.batch.rows[row.index].interval;
            match self.decide(&row, &current, &parents)? {
                None => {
                    let cells = record_to_row(self.plan.target, &row.original)
                        .map_err(|e| io::Error::new(io::ErrorKind::InvalidData, e.to_string()))?;
                    let unlimited = BatchLimits {
                        max_bytes: u64::MAX,
                        max_records: usize::MAX,
                    };
                    self.send
                        .push(&cells, &row.original, interval, &unlimited)?;
                }
                Some(verdict) => {
                    let (by_interval, total) = match verdict {
                        Finding::Unchanged { .. } => {
                            (&mut self.tally.skipped, &mut self.tally.skipped_rows)
                        }
                        Finding::Rejected(_) => {
                            (&mut self.tally.rejected, &mut self.tally.rejected_rows)
                        }
                    };
                    *by_interval.entry(interval).or_default() += 1;
                    *total += 1;
                    decided.push(Decided {
                        original: row.original,
                        finding: verdict,
                    });
                }
            }
        }
        Ok(Some(decided))
    }

    /// The rows to send, once every chunk is read.
    pub(crate) fn finish(self) -> io::Result<SealedBatch> {
        self.send.seal()
    }

    /// What becomes of one row: `None` = send it.
    fn decide(
        &self,
        row: &Pending,
        current: &Option<Current>,
        parents: &Parents,
    ) -> io::Result<Option<Finding>> {
        let plan = &self.plan;
        let target = plan.target;
        let cells = record_to_row(target, &row.original)
            .map_err(|e| io::Error::new(io::ErrorKind::InvalidData, e.to_string()))?;
        if plan.checks.predict_missing {
            if let Some(predicted) = self.missing(row, &cells, current, parents) {
                return Ok(Some(Finding::Rejected(predicted)));
            }
        }
        if !(plan.checks.skip_unchanged && compares(&target.operation)) {
            return Ok(None);
        }
        let hasher = foldhash::fast::FixedState::default();
        let Some(key) = row
            .key
            .as_ref()
            .filter(|k| !self.repeated.contains(&hasher.hash_one(k)))
        else {
            return Ok(None);
        };
        let Some(Some(record)) = current.as_ref().and_then(|c| c.get(key)) else {
            return Ok(None);
        };
        let unchanged = plan.compared.iter().all(|&(column, at)| {
            let cell = cells[column].as_ref();
            let now = &record[at];
            if cell.is_empty() {
                return true;
            }
            match &target.columns[column].relationship {
                Some(_) if cell == NULL_MARKER => now.is_empty(),
                Some(_) => parents
                    .get(column, target.columns[column].field.kind, cell)
                    .and_then(|found| found.as_ref().ok())
                    .is_some_and(|parent| same_id(parent, now)),
                None => same_value(&target.columns[column].field, cell, now),
            }
        });
        Ok(unchanged.then(|| Finding::Unchanged {
            salesforce_id: record[0].to_string(),
        }))
    }

    /// Dry run: the rejection Salesforce would give a row naming a record or a parent that
    /// does not exist (only when the lookup answered).
    fn missing(
        &self,
        row: &Pending,
        cells: &[std::borrow::Cow<'_, str>],
        current: &Option<Current>,
        parents: &Parents,
    ) -> Option<Predicted> {
        let target = self.plan.target;
        if Checks::id_must_exist(&target.operation) {
            if let (Some(key), Some(current)) = (&row.key, current) {
                if !current.contains_key(key) {
                    return Some(Predicted {
                        code: "INVALID_CROSS_REFERENCE_KEY",
                        message: "invalid cross reference id".into(),
                        fields: vec!["Id".into()],
                    });
                }
            }
        }
        for &column in &self.plan.relationships {
            let cell = cells[column].as_ref();
            let relationship = target.columns[column].relationship.as_ref()?;
            if cell.is_empty() || cell == NULL_MARKER || parents.failed.contains(&column) {
                continue;
            }
            let field = &relationship.parent_field.describe.name;
            match parents.get(column, target.columns[column].field.kind, cell) {
                Some(Ok(_)) => {}
                Some(Err(ids)) => {
                    return Some(Predicted {
                        code: "DUPLICATE_EXTERNAL_ID",
                        message: format!(
                            "{field}: more than one record found for external id field: [{}]",
                            ids.join(", ")
                        ),
                        fields: vec![field.clone()],
                    })
                }
                None => {
                    return Some(Predicted {
                        code: "INVALID_FIELD",
                        message: format!(
                        "Foreign key external ID: {cell} not found for field {field} in entity {}",
                        relationship.parent
                    ),
                        fields: Vec::new(),
                    })
                }
            }
        }
        None
    }

    /// The records the chunk's keys name; `None` when there was nothing to read or the
    /// lookup failed (logged).
    async fn records(&mut self, literals: &[String]) -> Option<Current> {
        if literals.is_empty() {
            return None;
        }
        let plan = &self.plan;
        let target = plan.target;
        let fields: Vec<&str> = plan.select.iter().map(String::as_str).collect();
        let literals: Vec<&str> = literals.iter().map(String::as_str).collect();
        let soql = lookup_soql(&fields, &target.object, fields[plan.key_select], &literals);
        self.tally.queries += 1;
        match query_rows(self.client, &soql, &fields).await {
            Ok(rows) => {
                let mut current = Current::new();
                for row in rows {
                    let key = match_key(plan.key_kind(), &row[plan.key_select]);
                    current
                        .entry(key)
                        .and_modify(|found| *found = None)
                        .or_insert(Some(row));
                }
                Some(current)
            }
            Err(e) => {
                tracing::warn!(
                    "stream '{}': reading {} records of {} failed ({e}); they are not compared or checked",
                    target.stream,
                    literals.len(),
                    target.object
                );
                None
            }
        }
    }

    /// For each relationship column, the parent Id each external id of the chunk names.
    async fn parents(&mut self, rows: &[Pending]) -> io::Result<Parents> {
        let target = self.plan.target;
        let mut out = Parents::default();
        for &column in &self.plan.relationships {
            let Some(relationship) = &target.columns[column].relationship else {
                continue;
            };
            let kind = target.columns[column].field.kind;
            let mut literals: Vec<String> = Vec::new();
            let mut wanted: HashSet<String> = HashSet::new();
            for row in rows {
                let cells = record_to_row(target, &row.original)
                    .map_err(|e| io::Error::new(io::ErrorKind::InvalidData, e.to_string()))?;
                let cell = cells[column].as_ref();
                if cell.is_empty() || cell == NULL_MARKER {
                    continue;
                }
                if wanted.insert(match_key(kind, cell)) {
                    literals.extend(soql_literal(kind, cell));
                }
            }
            for group in literal_groups(&literals) {
                self.tally.queries += 1;
                match query_parents(self.client, relationship, group).await {
                    Ok(rows) => {
                        for (value, id) in rows {
                            out.ids
                                .entry((column, match_key(kind, &value)))
                                .and_modify(|found| {
                                    let mut ids = match found {
                                        Ok(first) => vec![first.clone()],
                                        Err(ids) => std::mem::take(ids),
                                    };
                                    ids.push(id.clone());
                                    *found = Err(ids);
                                })
                                .or_insert(Ok(id));
                        }
                    }
                    Err(e) => {
                        tracing::warn!(
                            "stream '{}': reading which {} records {} names failed ({e}); rows setting it are not compared or checked",
                            target.stream,
                            relationship.parent,
                            relationship.header
                        );
                        out.failed.insert(column);
                    }
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
    let field = relationship.parent_field.describe.name.as_str();
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
