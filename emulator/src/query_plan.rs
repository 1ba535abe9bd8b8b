//! How a resolved SOQL query is answered over the org, shared by REST query/queryAll and Bulk
//! query jobs: narrow the generated records to an index range using the WHERE bounds on a
//! cursor field (audit timestamps and Id grow with the index, so the range is a binary search,
//! not a scan), filter the rest with `matches`, add the overlay's changed rows, then ORDER BY,
//! OFFSET and LIMIT. The answer is the list of record indexes; values are read when written out.

use std::borrow::Cow;
use std::cmp::Ordering;
use std::ops::{Bound, Range};

use chrono::{DateTime, Utc};

use crate::ids;
use crate::org::Org;
use crate::schema::Value;
use crate::seed::Gen;
use crate::soql::{ResolvedQuery, Row};

/// A generated record read field by field (only the fields SOQL asks for are generated).
pub(crate) struct GeneratedRow<'a> {
    pub org: &'a Org,
    pub object: usize,
    pub index: u64,
}

impl Row for GeneratedRow<'_> {
    fn get(&self, field_index: usize) -> Cow<'_, Value> {
        Cow::Owned(
            self.org
                .generated_value(self.object, self.index, field_index),
        )
    }
}

/// ORDER BY keys of one record, for sorting without regenerating values per comparison.
struct KeyRow<'a> {
    fields: &'a [usize],
    values: Vec<Value>,
}

impl Row for KeyRow<'_> {
    fn get(&self, field_index: usize) -> Cow<'_, Value> {
        match self.fields.iter().position(|f| *f == field_index) {
            Some(i) => Cow::Borrowed(&self.values[i]),
            None => Cow::Owned(Value::Null),
        }
    }
}

/// The generated indexes the WHERE clause can match, from its bounds on the cursor fields
/// and on Id; and whether every index in that range matches, so that no generated record needs
/// the WHERE clause evaluated (a clause of nothing but bounds on Id, each an Id of this object:
/// the index range of an Id range is exact, as Salesforce's Id index answers it).
pub(crate) fn generated_range(
    org: &Org,
    object: usize,
    query: &ResolvedQuery,
) -> (Range<u64>, bool) {
    let obj = org.object(object);
    let mut range = 0..obj.generated;
    if !query.has_filter() {
        return (range, true);
    }
    let mut exact = false;
    for (field, gen) in obj.def.gens.iter().enumerate() {
        let narrowed = match gen {
            Gen::Created | Gen::Modified | Gen::Modstamp => {
                let (lower, upper) = query.range_on(field);
                org.generated_range(object, field, &lower, &upper)
            }
            Gen::Id => {
                let (lower, upper) = query.range_on(field);
                let (narrowed, decoded) = id_range(obj.prefix(), obj.generated, &lower, &upper);
                exact = decoded && query.filter_is_range_on(field);
                narrowed
            }
            _ => continue,
        };
        range = range.start.max(narrowed.start)..range.end.min(narrowed.end);
    }
    (range.start..range.end.max(range.start), exact)
}

/// The generated indexes whose Ids lie within `lower` and `upper`, compared as SOQL compares
/// Ids (as text: a 15-character literal sorts just before the 18-character Id it abbreviates),
/// and whether every bound was an Id of this object (else the range is a superset).
fn id_range(
    prefix: &str,
    n: u64,
    lower: &Bound<Value>,
    upper: &Bound<Value>,
) -> (Range<u64>, bool) {
    let mut decoded = true;
    // The first index whose Id is above the literal (`above`) or at or above it (`!above`).
    let mut first = |v: &Value, above: bool| match v {
        Value::Text(id) => match ids::decode(prefix, id) {
            Some(i) if above && id.len() == 18 => Some(i + 1),
            Some(i) => Some(i),
            None => {
                decoded = false;
                None
            }
        },
        _ => {
            decoded = false;
            None
        }
    };
    let lo = match lower {
        Bound::Included(v) => first(v, false).unwrap_or(0),
        Bound::Excluded(v) => first(v, true).unwrap_or(0),
        Bound::Unbounded => 0,
    };
    let hi = match upper {
        Bound::Included(v) => first(v, true).unwrap_or(n),
        Bound::Excluded(v) => first(v, false).unwrap_or(n),
        Bound::Unbounded => n,
    };
    (lo.min(n)..hi.min(n), decoded)
}

/// Whether records in index order are already in the query's ORDER BY order: `Some(false)`
/// for no ORDER BY or `ORDER BY Id ASC` (ids encode the index), `Some(true)` for
/// `ORDER BY Id DESC` (the reverse), `None` when they must be sorted. Salesforce answers an
/// order on Id from its index, so the last Id costs no more than the first.
fn index_order(org: &Org, object: usize, query: &ResolvedQuery) -> Option<bool> {
    match query.order_by() {
        [] => Some(false),
        [only] if matches!(org.object(object).def.gens.get(only.field), Some(Gen::Id)) => {
            Some(only.descending)
        }
        _ => None,
    }
}

/// The indexes of the records the query returns, in order, after OFFSET and LIMIT.
/// `include_deleted` is queryAll.
pub(crate) fn run(
    org: &Org,
    object: usize,
    query: &ResolvedQuery,
    include_deleted: bool,
    now: DateTime<Utc>,
) -> Vec<u64> {
    let (range, exact) = generated_range(org, object, query);
    let filtered = !exact;
    let mut indexes = org.candidate_indexes(
        object,
        include_deleted,
        range,
        |index| !filtered || query.matches(&GeneratedRow { org, object, index }, now),
        |_, values, _| query.matches(&values, now),
    );
    let order = index_order(org, object, query);
    if order == Some(true) {
        indexes.reverse();
    }
    if order.is_none() {
        let key_fields: Vec<usize> = query.order_by().iter().map(|o| o.field).collect();
        let mut keyed: Vec<(KeyRow, u64)> = indexes
            .iter()
            .map(|&index| {
                let values = match org.record(object, index) {
                    Some(r) => key_fields.iter().map(|&f| r.values[f].clone()).collect(),
                    None => vec![Value::Null; key_fields.len()],
                };
                (
                    KeyRow {
                        fields: &key_fields,
                        values,
                    },
                    index,
                )
            })
            .collect();
        // Ties keep index (Id) order, as a stable sort over Id-ordered input.
        keyed.sort_by(|(a, ia), (b, ib)| match query.compare(a, b) {
            Ordering::Equal => ia.cmp(ib),
            other => other,
        });
        indexes = keyed.into_iter().map(|(_, i)| i).collect();
    }
    let offset = query.offset().unwrap_or(0) as usize;
    if offset > 0 {
        indexes.drain(..offset.min(indexes.len()));
    }
    if let Some(limit) = query.limit() {
        indexes.truncate(limit as usize);
    }
    indexes
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::clock::Clock;
    use crate::config::EmulatorConfig;
    use crate::soql;
    use crate::store::OrgStore;

    fn org() -> Org {
        let config = EmulatorConfig::default();
        Org::new(&config, Clock::frozen(config.start_time))
    }

    fn resolve(org: &Org, text: &str) -> ResolvedQuery {
        soql::resolve(soql::parse(text).unwrap(), &|n| org.sobject(n)).unwrap()
    }

    /// The answer of a plain scan over every record, for comparison with the planned one.
    fn scan(org: &Org, object: usize, q: &ResolvedQuery) -> Vec<u64> {
        (0..org.object(object).next_index)
            .filter(|&i| {
                org.record(object, i)
                    .is_some_and(|r| !r.is_deleted && q.matches(&r.values.as_ref(), org.now()))
            })
            .collect()
    }

    #[test]
    fn cursor_window_is_answered_from_an_index_range_and_matches_a_scan() {
        let org = org();
        let o = org.object_index("Contact").unwrap();
        let q = resolve(&org, "SELECT Id FROM Contact WHERE SystemModstamp >= 2025-03-01T00:00:00Z AND SystemModstamp < 2025-06-01T00:00:00.000+00:00");
        let (range, _) = generated_range(&org, o, &q);
        assert!(
            range.end - range.start < org.object(o).generated / 2,
            "{range:?}"
        );
        assert_eq!(run(&org, o, &q, false, org.now()), scan(&org, o, &q));
    }

    #[test]
    fn changed_rows_outside_the_generated_range_are_still_found() {
        let mut org = org();
        let o = org.object_index("Account").unwrap();
        let id = ids::encode("001", 0);
        let name = org.sobject("Account").unwrap().field("Name").unwrap().0;
        org.update("Account", &id, vec![(name, Value::Text("Moved".into()))])
            .unwrap();
        let q = resolve(
            &org,
            "SELECT Id FROM Account WHERE SystemModstamp >= 2026-01-15T12:00:00Z",
        );
        assert_eq!(run(&org, o, &q, false, org.now()), vec![0]);
    }

    #[test]
    fn id_ranges_narrow_generated_records() {
        let org = org();
        let o = org.object_index("Account").unwrap();
        let text = format!(
            "SELECT Id FROM Account WHERE Id > '{}' AND Id <= '{}' ORDER BY Id",
            ids::encode("001", 10),
            ids::encode("001", 20)
        );
        let q = resolve(&org, &text);
        assert_eq!(generated_range(&org, o, &q).0, 11..21);
        assert_eq!(
            run(&org, o, &q, false, org.now()),
            (11..21).collect::<Vec<_>>()
        );
    }

    #[test]
    fn bounds_on_id_alone_are_answered_from_the_index_exactly_as_a_scan_compares_ids() {
        let org = org();
        let o = org.object_index("Account").unwrap();
        let long = ids::encode("001", 10);
        let short = &long[..15];
        let upper = ids::encode("001", 14);
        for clause in [
            format!("Id > '{long}'"),
            format!("Id >= '{long}'"),
            format!("Id > '{short}'"),
            format!("Id >= '{short}'"),
            format!("Id < '{short}'"),
            format!("Id <= '{short}'"),
            format!("Id = '{short}'"),
            format!("Id = '{long}'"),
            format!("Id > '{short}' AND Id <= '{upper}'"),
            format!("Id <= '{}' AND Id <= '{upper}'", &upper[..15]),
            format!("Id >= '{short}' AND Id < '{}'", &upper[..15]),
        ] {
            let q = resolve(&org, &format!("SELECT Id FROM Account WHERE {clause}"));
            assert!(generated_range(&org, o, &q).1, "{clause}: exact");
            assert_eq!(
                run(&org, o, &q, true, org.now()),
                scan(&org, o, &q),
                "{clause}"
            );
        }
        // A bound that is an Id of another object, or another condition, leaves the rows to
        // the WHERE clause.
        for clause in [
            format!("Id > '{}'", ids::encode("003", 10)),
            format!("Id > '{long}' AND Name != null"),
            format!("Id != '{long}'"),
        ] {
            let q = resolve(&org, &format!("SELECT Id FROM Account WHERE {clause}"));
            assert!(!generated_range(&org, o, &q).1, "{clause}: not exact");
            assert_eq!(
                run(&org, o, &q, true, org.now()),
                scan(&org, o, &q),
                "{clause}"
            );
        }
    }

    #[test]
    fn order_by_limit_and_offset_apply_after_filtering() {
        let org = org();
        let o = org.object_index("Opportunity").unwrap();
        let q = resolve(&org, "SELECT Id, Amount FROM Opportunity WHERE Amount != null ORDER BY Amount DESC LIMIT 5 OFFSET 2");
        let got = run(&org, o, &q, false, org.now());
        let all = resolve(
            &org,
            "SELECT Id, Amount FROM Opportunity WHERE Amount != null ORDER BY Amount DESC",
        );
        let every = run(&org, o, &all, false, org.now());
        assert_eq!(got, every[2..7].to_vec());
        let amount = |i: u64| match org.generated_value(
            o,
            i,
            org.object(o).sobject.field("Amount").unwrap().0,
        ) {
            Value::Double(d) => d,
            other => panic!("{other:?}"),
        };
        assert!(amount(every[0]) >= amount(every[1]));
    }

    #[test]
    fn order_by_id_descending_is_the_index_order_reversed() {
        let org = org();
        let o = org.object_index("Opportunity").unwrap();
        let ascending = run(
            &org,
            o,
            &resolve(&org, "SELECT Id FROM Opportunity ORDER BY Id ASC"),
            false,
            org.now(),
        );
        let last = run(
            &org,
            o,
            &resolve(&org, "SELECT Id FROM Opportunity ORDER BY Id DESC LIMIT 3"),
            false,
            org.now(),
        );
        let mut expected: Vec<u64> = ascending.iter().rev().take(3).copied().collect();
        assert_eq!(last, expected);
        expected.sort_unstable();
        assert!(expected.windows(2).all(|w| w[0] < w[1]));
    }

    #[test]
    fn query_all_adds_the_recycle_bin() {
        let mut org = org();
        let o = org.object_index("Lead").unwrap();
        org.delete("Lead", &ids::encode("00Q", 5), false).unwrap();
        let q = resolve(&org, "SELECT Id FROM Lead WHERE IsDeleted = true");
        assert!(run(&org, o, &q, false, org.now()).is_empty());
        assert_eq!(run(&org, o, &q, true, org.now()), vec![5]);
    }
}
