//! The in-memory org: each object's metadata, its generated records (a pure function of the seed
//! and the record index, never stored) and an overlay of the changes made since (inserts,
//! updates, soft and hard deletes), plus the recycle bin and the deletion log.
//!
//! A record is addressed by its index: generated records are `0..generated`, inserted ones
//! continue from there, and the id encodes the index (see `ids.rs`), so id → record is arithmetic.

use std::borrow::Cow;
use std::collections::{BTreeMap, HashMap};
use std::ops::{Bound, Range};
use std::sync::Arc;

use chrono::{DateTime, Duration, Utc};

use crate::catalog::{self, Formula, ObjectDef};
use crate::clock::Clock;
use crate::config::EmulatorConfig;
use crate::ids;
use crate::pubsub::{ChangeKind, EventBus, RecordChange};
use crate::schema::{FieldType, SObject, Value};
use crate::seed::{self, Gen, GenContext};
use crate::store::{FieldValues, OrgStore, StoreError, StoredRecord};

/// How long soft-deleted rows stay in the recycle bin and the deletion log keeps entries.
pub(crate) const RECYCLE_BIN_DAYS: i64 = 15;

/// A record changed since generation.
#[derive(Clone, Debug)]
pub enum OverlayRow {
    Live(Vec<Value>),
    /// In the recycle bin since `at`.
    Deleted {
        values: Vec<Value>,
        at: DateTime<Utc>,
    },
    /// Hard-deleted (or purged): gone for every API.
    Gone,
}

/// One entry of the deletion log that getDeleted reads.
#[derive(Clone, Debug, PartialEq)]
pub struct Deletion {
    pub id: String,
    pub at: DateTime<Utc>,
}

/// One object of the org and its records.
pub struct OrgObject {
    pub def: ObjectDef,
    pub sobject: Arc<SObject>,
    pub number: u64,
    /// Records the generator provides: indexes `0..generated`.
    pub generated: u64,
    /// Index the next insert gets.
    pub next_index: u64,
    pub overlay: BTreeMap<u64, OverlayRow>,
    pub deletions: Vec<Deletion>,
}

impl OrgObject {
    pub fn prefix(&self) -> &str {
        self.sobject.key_prefix.as_deref().unwrap_or("000")
    }
}

/// See [`Org::generated_row`].
pub struct GeneratedRowValues<'a> {
    org: &'a Org,
    object: usize,
    index: u64,
    context: GenContext<'a>,
    hashes: seed::RecordHashes,
}

impl GeneratedRowValues<'_> {
    pub fn value(&self, field: usize) -> Value {
        let obj = &self.org.objects[self.object];
        if obj.def.formulas.iter().any(|(i, _)| *i == field) {
            return self.org.generated_value(self.object, self.index, field);
        }
        self.context.value(
            &self.hashes,
            &obj.def.gens[field],
            &obj.sobject.fields[field],
            field,
            self.index,
            obj.prefix(),
        )
    }
}

/// A record's values: borrowed from the overlay or generated on demand.
pub struct RecordView<'a> {
    pub index: u64,
    pub values: Cow<'a, [Value]>,
    pub is_deleted: bool,
}

pub struct Org {
    seed: u64,
    username: String,
    clock: Clock,
    /// CreatedDate of the first generated record (seconds since the epoch).
    first_created: i64,
    span_seconds: i64,
    objects: Vec<OrgObject>,
    by_name: HashMap<String, usize>,
    /// Object name (exact) → (key prefix, generated count), for references.
    targets: HashMap<String, (String, u64)>,
    /// Where committed changes are reported (change events).
    bus: Option<Arc<EventBus>>,
}

impl Org {
    /// The org of `config`: objects from the catalog, sizes from scale and overrides.
    pub fn new(config: &EmulatorConfig, clock: Clock) -> Org {
        let span = seed::span();
        let first_created = (config.start_time - span).timestamp();
        let mut objects = Vec::new();
        let mut by_name = HashMap::new();
        let mut targets = HashMap::new();
        let all = catalog::objects()
            .into_iter()
            .chain(catalog::extra_objects(config.extra_objects));
        for (number, def) in all.enumerate() {
            let name = def.sobject.name.clone();
            let count = config
                .records
                .iter()
                .find(|(k, _)| k.eq_ignore_ascii_case(&name))
                .map(|(_, v)| *v)
                .unwrap_or(if def.fixed_count {
                    def.base_count
                } else {
                    def.base_count * config.scale
                });
            let sobject = Arc::new(def.sobject.clone());
            by_name.insert(name.to_ascii_lowercase(), objects.len());
            targets.insert(
                name.clone(),
                (sobject.key_prefix.clone().unwrap_or_default(), count),
            );
            objects.push(OrgObject {
                def,
                sobject,
                number: number as u64 + 1,
                generated: count,
                next_index: count,
                overlay: BTreeMap::new(),
                deletions: Vec::new(),
            });
        }
        Org {
            seed: config.seed,
            username: config.username.clone(),
            clock,
            first_created,
            span_seconds: span.num_seconds(),
            objects,
            by_name,
            targets,
            bus: None,
        }
    }

    /// Reports every change from now on to `bus`.
    pub(crate) fn set_event_bus(&mut self, bus: Arc<EventBus>) {
        self.bus = Some(bus);
    }

    /// True when a change to object `o` publishes a change event (so values are only copied
    /// for the bus when it wants them).
    fn publishes(&self, o: usize) -> bool {
        self.bus
            .as_ref()
            .is_some_and(|b| b.wants(&self.objects[o].sobject.name))
    }

    fn publish(
        &self,
        o: usize,
        kind: ChangeKind,
        id: &str,
        before: Option<Vec<Value>>,
        after: Option<Vec<Value>>,
    ) {
        if let Some(bus) = &self.bus {
            bus.record(RecordChange {
                object: self.objects[o].sobject.name.clone(),
                kind,
                id: id.to_string(),
                before,
                after,
                user: self.user_id(),
            });
        }
    }

    pub fn clock(&self) -> &Clock {
        &self.clock
    }

    pub fn objects(&self) -> &[OrgObject] {
        &self.objects
    }

    /// The object's position, by API name (case-insensitive).
    pub fn object_index(&self, name: &str) -> Option<usize> {
        self.by_name.get(&name.to_ascii_lowercase()).copied()
    }

    pub fn object(&self, index: usize) -> &OrgObject {
        &self.objects[index]
    }

    /// The 18-character id of the org (`00D…`).
    pub fn org_id(&self) -> String {
        ids::encode("00D", self.seed % 1_000_000)
    }

    fn context<'a>(&'a self, object: &OrgObject) -> GenContext<'a> {
        GenContext {
            seed: self.seed,
            object_number: object.number,
            count: object.generated,
            first_created: self.first_created,
            span_seconds: self.span_seconds,
            targets: &self.targets,
            username: &self.username,
        }
    }

    /// One field of generated record `index` (formulas computed from their inputs).
    pub fn generated_value(&self, object: usize, index: u64, field: usize) -> Value {
        let obj = &self.objects[object];
        if let Some((_, formula)) = obj.def.formulas.iter().find(|(i, _)| *i == field) {
            let ctx = self.context(obj);
            let get = |name: &str| -> Value {
                match obj.sobject.field(name) {
                    Some((i, f)) => ctx.value(
                        &ctx.record_hashes(index),
                        &obj.def.gens[i],
                        f,
                        i,
                        index,
                        obj.prefix(),
                    ),
                    None => Value::Null,
                }
            };
            return compute_formula(formula, &get);
        }
        let ctx = self.context(obj);
        ctx.value(
            &ctx.record_hashes(index),
            &obj.def.gens[field],
            &obj.sobject.fields[field],
            field,
            index,
            obj.prefix(),
        )
    }

    /// A generated record's values one field at a time, with the per-record work done once
    /// (for writing whole rows, as Bulk results do).
    pub fn generated_row(&self, object: usize, index: u64) -> GeneratedRowValues<'_> {
        let obj = &self.objects[object];
        let context = self.context(obj);
        let hashes = context.record_hashes(index);
        GeneratedRowValues {
            org: self,
            object,
            index,
            context,
            hashes,
        }
    }

    /// Every field of generated record `index`.
    pub fn generate(&self, object: usize, index: u64) -> Vec<Value> {
        let obj = &self.objects[object];
        let ctx = self.context(obj);
        let hashes = ctx.record_hashes(index);
        let mut values: Vec<Value> = obj
            .def
            .gens
            .iter()
            .zip(obj.sobject.fields.iter())
            .enumerate()
            .map(|(i, (g, f))| ctx.value(&hashes, g, f, i, index, obj.prefix()))
            .collect();
        apply_formulas(obj, &mut values);
        values
    }

    /// The record at `index` as the org holds it now; `None` if it does not exist, was
    /// hard-deleted or purged from the recycle bin.
    pub fn record(&self, object: usize, index: u64) -> Option<RecordView<'_>> {
        let obj = &self.objects[object];
        match obj.overlay.get(&index) {
            Some(OverlayRow::Live(values)) => Some(RecordView {
                index,
                values: Cow::Borrowed(values),
                is_deleted: false,
            }),
            Some(OverlayRow::Deleted { values, at }) => {
                if self.purged(*at) {
                    None
                } else {
                    Some(RecordView {
                        index,
                        values: Cow::Borrowed(values),
                        is_deleted: true,
                    })
                }
            }
            Some(OverlayRow::Gone) => None,
            None if index < obj.generated => Some(RecordView {
                index,
                values: Cow::Owned(self.generate(object, index)),
                is_deleted: false,
            }),
            None => None,
        }
    }

    fn purged(&self, deleted_at: DateTime<Utc>) -> bool {
        self.clock.now() - deleted_at > Duration::days(RECYCLE_BIN_DAYS)
    }

    /// True when generated record `index` has not been changed (its values come from the
    /// generator).
    pub fn is_pristine(&self, object: usize, index: u64) -> bool {
        let obj = &self.objects[object];
        index < obj.generated && !obj.overlay.contains_key(&index)
    }

    /// Indexes of the records a query may return, in index (= Id) order: generated records
    /// within `generated_range` that are unchanged and pass `keep`, then every overlay record
    /// (changed, inserted, and with `include_deleted` recycle-bin ones) that passes `keep`.
    /// `keep` gets the index and whether the record is in the recycle bin.
    pub fn candidate_indexes(
        &self,
        object: usize,
        include_deleted: bool,
        generated_range: Range<u64>,
        mut keep_generated: impl FnMut(u64) -> bool,
        mut keep_overlay: impl FnMut(u64, &[Value], bool) -> bool,
    ) -> Vec<u64> {
        let obj = &self.objects[object];
        let mut out = Vec::new();
        let end = generated_range.end.min(obj.generated);
        let mut start = generated_range.start.min(end);
        // Walk the generated range, stepping over indexes the overlay owns.
        for (&changed, _) in obj.overlay.range(start..end) {
            for i in start..changed {
                if keep_generated(i) {
                    out.push(i);
                }
            }
            start = changed + 1;
        }
        for i in start..end {
            if keep_generated(i) {
                out.push(i);
            }
        }
        let mut changed = Vec::new();
        for (&index, row) in &obj.overlay {
            match row {
                OverlayRow::Live(values) => {
                    if keep_overlay(index, values, false) {
                        changed.push(index);
                    }
                }
                OverlayRow::Deleted { values, at } => {
                    if include_deleted && !self.purged(*at) && keep_overlay(index, values, true) {
                        changed.push(index);
                    }
                }
                OverlayRow::Gone => {}
            }
        }
        if !changed.is_empty() {
            out.extend(changed);
            out.sort_unstable();
        }
        out
    }

    /// The generated indexes whose value of `field` can lie within the bounds: the cursor
    /// fields of generated data grow with the index, so a range on them is a binary search.
    /// Other fields give the whole generated range.
    pub fn generated_range(
        &self,
        object: usize,
        field: usize,
        lower: &Bound<Value>,
        upper: &Bound<Value>,
    ) -> Range<u64> {
        let obj = &self.objects[object];
        let n = obj.generated;
        let ctx = self.context(obj);
        let seconds: Box<dyn Fn(u64) -> i64 + '_> = match obj.def.gens.get(field) {
            Some(Gen::Created) => Box::new(|i| ctx.created_seconds(i)),
            Some(Gen::Modified) => Box::new(|i| ctx.modified_seconds(i)),
            Some(Gen::Modstamp) => Box::new(|i| ctx.modstamp_seconds(i)),
            _ => return 0..n,
        };
        let bound_seconds = |v: &Value| match v {
            Value::DateTime(d) => Some((d.timestamp(), d.timestamp_subsec_millis())),
            _ => None,
        };
        // First index whose value is >= (or >) the lower bound.
        let lo = match lower {
            Bound::Included(v) | Bound::Excluded(v) => match bound_seconds(v) {
                Some((s, ms)) => {
                    let strict = matches!(lower, Bound::Excluded(_)) || ms > 0;
                    partition_point(n, |i| {
                        if strict {
                            seconds(i) <= s
                        } else {
                            seconds(i) < s
                        }
                    })
                }
                None => 0,
            },
            Bound::Unbounded => 0,
        };
        let hi = match upper {
            Bound::Included(v) | Bound::Excluded(v) => match bound_seconds(v) {
                Some((s, _)) => {
                    let strict = matches!(upper, Bound::Excluded(_));
                    partition_point(n, |i| {
                        if strict {
                            seconds(i) < s
                        } else {
                            seconds(i) <= s
                        }
                    })
                }
                None => n,
            },
            Bound::Unbounded => n,
        };
        lo..hi.max(lo)
    }

    /// The deletion log of an object within [start, end].
    pub fn deletions(
        &self,
        object: usize,
        start: DateTime<Utc>,
        end: DateTime<Utc>,
    ) -> Vec<Deletion> {
        self.objects[object]
            .deletions
            .iter()
            .filter(|d| d.at >= start && d.at <= end)
            .cloned()
            .collect()
    }

    fn lookup(&self, object: &str, id: &str) -> Result<(usize, u64), StoreError> {
        let o = self
            .object_index(object)
            .ok_or_else(|| StoreError::UnknownObject(object.to_string()))?;
        let index = ids::decode(self.objects[o].prefix(), id).ok_or(StoreError::NotFound)?;
        if index >= self.objects[o].next_index {
            return Err(StoreError::NotFound);
        }
        Ok((o, index))
    }

    fn user_id(&self) -> String {
        ids::encode("005", 0)
    }

    fn touch(&self, obj: &OrgObject, values: &mut [Value], created: bool) {
        let now = Value::DateTime(self.clock.now());
        let user = Value::Text(self.user_id());
        for (i, f) in obj.sobject.fields.iter().enumerate() {
            let set = match f.name.as_str() {
                "LastModifiedDate" | "SystemModstamp" => Some(now.clone()),
                "LastModifiedById" => Some(user.clone()),
                "CreatedDate" if created => Some(now.clone()),
                "CreatedById" if created => Some(user.clone()),
                _ => None,
            };
            if let Some(v) = set {
                values[i] = v;
            }
        }
    }

    fn set_is_deleted(obj: &OrgObject, values: &mut [Value], deleted: bool) {
        if let Some((i, _)) = obj.sobject.field("IsDeleted") {
            values[i] = Value::Bool(deleted);
        }
    }

    /// Inserts a record whose `CreatedDate`, `LastModifiedDate` and `SystemModstamp` are
    /// `at` instead of now (a row committed by a transaction that began at `at`).
    pub fn insert_stamped(
        &mut self,
        object: &str,
        values: Vec<(usize, Value)>,
        at: DateTime<Utc>,
    ) -> Result<String, StoreError> {
        let id = self.insert(object, values)?;
        let (o, index) = self.lookup(object, &id)?;
        let obj = &mut self.objects[o];
        let stamped: Vec<usize> = ["CreatedDate", "LastModifiedDate", "SystemModstamp"]
            .iter()
            .filter_map(|name| obj.sobject.field(name).map(|(i, _)| i))
            .collect();
        if let Some(OverlayRow::Live(row)) = obj.overlay.get_mut(&index) {
            for i in stamped {
                row[i] = Value::DateTime(at);
            }
        }
        Ok(id)
    }

    /// Restores the org to its generated state.
    pub fn reset(&mut self) {
        for obj in &mut self.objects {
            obj.overlay.clear();
            obj.deletions.clear();
            obj.next_index = obj.generated;
        }
    }
}

/// The first index in `0..n` for which `before` is false (`before` must be true then false).
fn partition_point(n: u64, before: impl Fn(u64) -> bool) -> u64 {
    let (mut lo, mut hi) = (0u64, n);
    while lo < hi {
        let mid = lo + (hi - lo) / 2;
        if before(mid) {
            lo = mid + 1;
        } else {
            hi = mid;
        }
    }
    lo
}

fn compute_formula(formula: &Formula, get: &dyn Fn(&str) -> Value) -> Value {
    let number = |v: Value| match v {
        Value::Int(i) => Some(i as f64),
        Value::Double(d) => Some(d),
        _ => None,
    };
    match formula {
        Formula::Ratio {
            numerator,
            denominator,
        } => match (number(get(numerator)), number(get(denominator))) {
            (Some(n), Some(d)) if d != 0.0 => Value::Double((n / d * 100.0).round() / 100.0),
            _ => Value::Null,
        },
        Formula::ByteLength { field } => match get(field) {
            Value::Base64(bytes) => Value::Int(bytes.len() as i64),
            _ => Value::Null,
        },
    }
}

fn apply_formulas(obj: &OrgObject, values: &mut [Value]) {
    for (index, formula) in &obj.def.formulas {
        let computed = {
            let get = |name: &str| {
                obj.sobject
                    .field(name)
                    .map(|(i, _)| values[i].clone())
                    .unwrap_or(Value::Null)
            };
            compute_formula(formula, &get)
        };
        values[*index] = computed;
    }
}

impl OrgStore for Org {
    fn sobject(&self, object: &str) -> Option<Arc<SObject>> {
        self.object_index(object)
            .map(|i| self.objects[i].sobject.clone())
    }

    fn now(&self) -> DateTime<Utc> {
        self.clock.now()
    }

    fn current_user_id(&self) -> String {
        self.user_id()
    }

    fn get(&self, object: &str, id: &str) -> Option<StoredRecord> {
        let (o, index) = self.lookup(object, id).ok()?;
        let view = self.record(o, index)?;
        Some(StoredRecord {
            id: ids::encode(self.objects[o].prefix(), index),
            values: view.values.into_owned(),
            is_deleted: view.is_deleted,
        })
    }

    fn find_by_field(&self, object: &str, field: &str, value: &Value) -> Vec<String> {
        let Some(o) = self.object_index(object) else {
            return Vec::new();
        };
        let obj = &self.objects[o];
        let Some((fi, f)) = obj.sobject.field(field) else {
            return Vec::new();
        };
        let case_sensitive = f.case_sensitive;
        let equal = |a: &Value| match (a, value) {
            (Value::Text(x), Value::Text(y)) if !case_sensitive => {
                x.eq_ignore_ascii_case(y) || x.to_lowercase() == y.to_lowercase()
            }
            (x, y) => x == y,
        };
        // Sequence-generated values (`EXT-00000042`) name their record: look at that one
        // record instead of scanning every generated one.
        let generated_range = match (&obj.def.gens[fi], value) {
            (Gen::Seq(prefix), Value::Text(text)) => {
                let digits = text
                    .get(..prefix.len())
                    .filter(|head| head.eq_ignore_ascii_case(prefix))
                    .and_then(|_| text[prefix.len()..].parse::<u64>().ok());
                match digits {
                    Some(i) if i < obj.generated => i..i + 1,
                    _ => 0..0,
                }
            }
            _ => 0..obj.generated,
        };
        let indexes = self.candidate_indexes(
            o,
            false,
            generated_range,
            |i| equal(&self.generated_value(o, i, fi)),
            |_, values, _| equal(&values[fi]),
        );
        indexes
            .into_iter()
            .map(|i| ids::encode(obj.prefix(), i))
            .collect()
    }

    fn insert(&mut self, object: &str, values: FieldValues) -> Result<String, StoreError> {
        let o = self
            .object_index(object)
            .ok_or_else(|| StoreError::UnknownObject(object.to_string()))?;
        let index = self.objects[o].next_index;
        let obj = &self.objects[o];
        let mut row: Vec<Value> = obj
            .sobject
            .fields
            .iter()
            .map(|f| {
                if f.field_type == FieldType::Boolean {
                    Value::Bool(false)
                } else {
                    Value::Null
                }
            })
            .collect();
        for (i, v) in values {
            if i < row.len() {
                row[i] = v;
            }
        }
        let id = ids::encode(obj.prefix(), index);
        if let Some((i, _)) = obj.sobject.field("Id") {
            row[i] = Value::Text(id.clone());
        }
        self.touch(obj, &mut row, true);
        apply_formulas(obj, &mut row);
        let after = self.publishes(o).then(|| row.clone());
        let obj = &mut self.objects[o];
        obj.overlay.insert(index, OverlayRow::Live(row));
        obj.next_index += 1;
        if after.is_some() {
            self.publish(o, ChangeKind::Create, &id, None, after);
        }
        Ok(id)
    }

    fn update(&mut self, object: &str, id: &str, values: FieldValues) -> Result<(), StoreError> {
        let (o, index) = self.lookup(object, id)?;
        let view = self.record(o, index).ok_or(StoreError::NotFound)?;
        if view.is_deleted {
            return Err(StoreError::EntityIsDeleted);
        }
        let mut row = view.values.into_owned();
        let before = self.publishes(o).then(|| row.clone());
        for (i, v) in values {
            if i < row.len() {
                row[i] = v;
            }
        }
        let obj = &self.objects[o];
        self.touch(obj, &mut row, false);
        apply_formulas(obj, &mut row);
        let after = before.as_ref().map(|_| row.clone());
        self.objects[o].overlay.insert(index, OverlayRow::Live(row));
        if before.is_some() {
            let id = ids::encode(self.objects[o].prefix(), index);
            self.publish(o, ChangeKind::Update, &id, before, after);
        }
        Ok(())
    }

    fn delete(&mut self, object: &str, id: &str, hard: bool) -> Result<(), StoreError> {
        let (o, index) = self.lookup(object, id)?;
        let view = self.record(o, index).ok_or(StoreError::NotFound)?;
        if view.is_deleted && !hard {
            return Err(StoreError::EntityIsDeleted);
        }
        let was_deleted = view.is_deleted;
        let mut row = view.values.into_owned();
        let now = self.clock.now();
        let obj = &self.objects[o];
        let full_id = ids::encode(obj.prefix(), index);
        let entry = if hard {
            OverlayRow::Gone
        } else {
            Self::set_is_deleted(obj, &mut row, true);
            self.touch(obj, &mut row, false);
            OverlayRow::Deleted {
                values: row,
                at: now,
            }
        };
        let obj = &mut self.objects[o];
        obj.overlay.insert(index, entry);
        if !was_deleted {
            obj.deletions.push(Deletion {
                id: full_id.clone(),
                at: now,
            });
        }
        // A hard delete of a record already in the recycle bin changes nothing a change event
        // reports (the DELETE was published when it went to the bin).
        if !was_deleted && self.publishes(o) {
            self.publish(o, ChangeKind::Delete, &full_id, None, None);
        }
        Ok(())
    }

    fn undelete(&mut self, object: &str, id: &str) -> Result<(), StoreError> {
        let (o, index) = self.lookup(object, id)?;
        let view = self.record(o, index).ok_or(StoreError::NotFound)?;
        if !view.is_deleted {
            // Salesforce: UNDELETE_FAILED "Entity is not in the recycle bin"; the store reports
            // it as not found in the bin.
            return Err(StoreError::NotFound);
        }
        let mut row = view.values.into_owned();
        let obj = &self.objects[o];
        let full_id = ids::encode(obj.prefix(), index);
        Self::set_is_deleted(obj, &mut row, false);
        self.touch(obj, &mut row, false);
        let after = self.publishes(o).then(|| row.clone());
        let obj = &mut self.objects[o];
        obj.overlay.insert(index, OverlayRow::Live(row));
        obj.deletions.retain(|d| d.id != full_id);
        if after.is_some() {
            self.publish(o, ChangeKind::Undelete, &full_id, None, after);
        }
        Ok(())
    }

    fn begin_transaction(&mut self) {
        if let Some(bus) = &self.bus {
            bus.begin();
        }
    }

    fn commit_transaction(&mut self) {
        if let Some(bus) = &self.bus {
            bus.commit();
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn org() -> Org {
        let config = EmulatorConfig::default();
        Org::new(&config, Clock::frozen(config.start_time))
    }

    #[test]
    fn same_seed_generates_the_same_records() {
        let (a, b) = (org(), org());
        let acct = a.object_index("account").unwrap();
        for i in [0, 7, 199] {
            assert_eq!(a.generate(acct, i), b.generate(acct, i));
        }
    }

    #[test]
    fn whole_row_generation_matches_field_by_field_generation() {
        let org = org();
        let o = org.object_index("Account").unwrap();
        for index in [0, 5, 150] {
            let row = org.generated_row(o, index);
            let by_row: Vec<Value> = (0..org.object(o).sobject.fields.len())
                .map(|f| row.value(f))
                .collect();
            assert_eq!(by_row, org.generate(o, index));
        }
    }

    #[test]
    fn audit_timestamps_grow_with_the_index() {
        let org = org();
        let o = org.object_index("Contact").unwrap();
        let (_, f) = org
            .object(o)
            .sobject
            .field("SystemModstamp")
            .map(|(i, f)| (i, f.clone()))
            .unwrap();
        let fi = org.object(o).sobject.field(&f.name).unwrap().0;
        let mut last = None;
        for i in 0..org.object(o).generated {
            let v = org.generated_value(o, i, fi);
            if let (Some(Value::DateTime(prev)), Value::DateTime(cur)) = (&last, &v) {
                assert!(prev <= cur, "record {i}");
            }
            last = Some(v);
        }
    }

    #[test]
    fn cursor_range_maps_to_an_index_range() {
        let org = org();
        let o = org.object_index("Account").unwrap();
        let fi = org.object(o).sobject.field("SystemModstamp").unwrap().0;
        let Value::DateTime(at50) = org.generated_value(o, 50, fi) else {
            panic!()
        };
        let Value::DateTime(at90) = org.generated_value(o, 90, fi) else {
            panic!()
        };
        let r = org.generated_range(
            o,
            fi,
            &Bound::Included(Value::DateTime(at50)),
            &Bound::Excluded(Value::DateTime(at90)),
        );
        assert_eq!(r, 50..90);
    }

    #[test]
    fn soft_delete_goes_to_the_bin_and_undelete_restores() {
        let mut org = org();
        let id = ids::encode("001", 3);
        org.delete("Account", &id, false).unwrap();
        assert!(org.get("Account", &id).unwrap().is_deleted);
        assert_eq!(
            org.delete("Account", &id, false),
            Err(StoreError::EntityIsDeleted)
        );
        let o = org.object_index("Account").unwrap();
        assert_eq!(
            org.deletions(o, org.now() - Duration::days(1), org.now())
                .len(),
            1
        );
        org.undelete("Account", &id).unwrap();
        assert!(!org.get("Account", &id).unwrap().is_deleted);
        org.delete("Account", &id, true).unwrap();
        assert!(org.get("Account", &id).is_none());
    }

    #[test]
    fn insert_sets_system_fields_and_continues_the_index() {
        let mut org = org();
        let (name_idx, _) = org.sobject("Account").unwrap().field("Name").unwrap();
        let id = org
            .insert("Account", vec![(name_idx, Value::Text("New Co".into()))])
            .unwrap();
        assert_eq!(ids::decode("001", &id), Some(200));
        let rec = org.get("Account", &id).unwrap();
        let so = org.sobject("Account").unwrap();
        assert_eq!(
            rec.values[so.field("SystemModstamp").unwrap().0],
            Value::DateTime(org.now())
        );
        assert_eq!(
            rec.values[so.field("Id").unwrap().0],
            Value::Text(id.clone())
        );
        assert_eq!(
            org.find_by_field("Account", "name", &Value::Text("NEW CO".into())),
            vec![id]
        );
    }

    #[test]
    fn external_ids_of_generated_records_are_found_without_a_scan() {
        let mut org = org();
        let find = |org: &Org, external_id: &str| {
            org.find_by_field(
                "Product_Catalog__c",
                "External_Id__c",
                &Value::Text(external_id.into()),
            )
        };
        let record = ids::encode("a00", 42);
        assert_eq!(find(&org, "ext-00000042"), vec![record.clone()]);
        assert!(find(&org, "EXT-99999999").is_empty());
        let (fi, _) = org
            .sobject("Product_Catalog__c")
            .unwrap()
            .field("External_Id__c")
            .unwrap();
        org.update(
            "Product_Catalog__c",
            &record,
            vec![(fi, Value::Text("MOVED".into()))],
        )
        .unwrap();
        assert!(find(&org, "EXT-00000042").is_empty());
        assert_eq!(find(&org, "moved"), vec![record]);
    }
}
