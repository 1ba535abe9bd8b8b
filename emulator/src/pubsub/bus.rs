//! The org's event bus: the change events of committed transactions, retained 72 hours on the
//! org's clock, each with an opaque, increasing replay id.
//!
//! The org reports every record change here ([`EventBus::record`]); a change outside an explicit
//! transaction is a transaction of its own. At commit the transaction's changes become change
//! events: consecutive identical changes to records of one object merge into one event with
//! several `recordIds`; changes beyond the overflow limit (100,000 by default) are dropped and
//! one `GAP_OVERFLOW` event per object stands for them; a `gap` fault turns a change into its
//! `GAP_*` event (header only).

use std::collections::{BTreeSet, HashMap, VecDeque};
use std::sync::{Arc, Mutex};

use chrono::{DateTime, Duration, Utc};
use serde_json::{json, Value as Json};
use sha2::{Digest, Sha256};
use tokio::sync::watch;

use super::encode::{self, Body, Header};
use super::schema::{has_change_event, ChangeSchema};
use crate::clock::Clock;
use crate::faults::{FaultKind, FaultTable};
use crate::schema::{SObject, Value};

/// Locks that survive a panicked holder (the bus's data stays consistent between calls).
fn lock<T>(m: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    m.lock().unwrap_or_else(|e| e.into_inner())
}

/// How long events stay replayable.
pub(crate) const RETENTION_HOURS: i64 = 72;

/// The topic of every enabled object's change events.
pub(crate) const ALL_CHANGE_EVENTS: &str = "/data/ChangeEvents";

/// What happened to a record.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum ChangeKind {
    Create,
    Update,
    Delete,
    Undelete,
}

impl ChangeKind {
    fn change_type(self, gap: bool) -> &'static str {
        match (self, gap) {
            (ChangeKind::Create, false) => "CREATE",
            (ChangeKind::Update, false) => "UPDATE",
            (ChangeKind::Delete, false) => "DELETE",
            (ChangeKind::Undelete, false) => "UNDELETE",
            (ChangeKind::Create, true) => "GAP_CREATE",
            (ChangeKind::Update, true) => "GAP_UPDATE",
            (ChangeKind::Delete, true) => "GAP_DELETE",
            (ChangeKind::Undelete, true) => "GAP_UNDELETE",
        }
    }
}

/// A committed change to one record, as the org reports it.
#[derive(Clone, Debug)]
pub(crate) struct RecordChange {
    pub(crate) object: String,
    pub(crate) kind: ChangeKind,
    pub(crate) id: String,
    /// The values before an update.
    pub(crate) before: Option<Vec<Value>>,
    /// The values after a create, update or undelete.
    pub(crate) after: Option<Vec<Value>>,
    pub(crate) user: String,
}

/// One published event: no more than its payload and what finds it (a bus may hold millions;
/// the admin listing decodes the header back from the payload).
#[derive(Debug)]
pub(crate) struct BusEvent {
    pub(crate) seq: u64,
    schema: Arc<ChangeSchema>,
    committed_at: DateTime<Utc>,
    pub(crate) payload: Vec<u8>,
}

impl BusEvent {
    pub(crate) fn replay_id(&self) -> [u8; 8] {
        replay_id(self.seq)
    }

    pub(crate) fn object(&self) -> &str {
        &self.schema.object
    }

    pub(crate) fn topic(&self) -> &str {
        &self.schema.topic
    }

    pub(crate) fn schema_id(&self) -> &str {
        &self.schema.schema_id
    }

    /// The event's own id (`ProducerEvent.id`).
    pub(crate) fn event_id(&self) -> String {
        uuid_like(&format!("event:{}", self.seq))
    }
}

/// Which events a subscription sees.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) enum TopicFilter {
    All,
    Object(String),
}

impl TopicFilter {
    fn matches(&self, event: &BusEvent) -> bool {
        match self {
            TopicFilter::All => true,
            TopicFilter::Object(o) => event.object() == o,
        }
    }
}

/// Why a CUSTOM replay id cannot be resumed from.
#[derive(Debug, PartialEq, Eq)]
pub(crate) enum ReplayError {
    /// Not an id this bus issued.
    Invalid,
    /// Issued, but its successors are no longer retained.
    Expired,
}

/// Replay ids: 8 bytes, big-endian, of `(BASE + seq) << 8 | check(seq)`. Increasing, not
/// contiguous, and checked on the way back in.
const REPLAY_BASE: u64 = 0x0000_0004_C4B4_0000;

fn check_byte(seq: u64) -> u64 {
    seq.wrapping_mul(0x9E37_79B9_7F4A_7C15) >> 56
}

pub(crate) fn replay_id(seq: u64) -> [u8; 8] {
    (((REPLAY_BASE + seq) << 8) | check_byte(seq)).to_be_bytes()
}

/// The sequence number of a replay id this bus issued.
pub(crate) fn replay_seq(bytes: &[u8]) -> Option<u64> {
    let raw = u64::from_be_bytes(bytes.try_into().ok()?);
    let seq = (raw >> 8).checked_sub(REPLAY_BASE)?;
    (raw & 0xFF == check_byte(seq)).then_some(seq)
}

/// A UUID-shaped hex string derived from `parts` (transaction keys, event ids, rpc ids).
pub(crate) fn uuid_like(parts: &str) -> String {
    let d = Sha256::digest(parts.as_bytes());
    let h: String = d[..16].iter().map(|b| format!("{b:02x}")).collect();
    format!(
        "{}-{}-{}-{}-{}",
        &h[..8],
        &h[8..12],
        &h[12..16],
        &h[16..20],
        &h[20..32]
    )
}

struct BusState {
    /// Every object of the org, by lower-case name.
    objects: HashMap<String, Arc<SObject>>,
    /// Objects whose changes publish (exact names).
    enabled: BTreeSet<String>,
    schemas: HashMap<String, Arc<ChangeSchema>>,
    schemas_by_id: HashMap<String, Arc<ChangeSchema>>,
    events: VecDeque<Arc<BusEvent>>,
    last_seq: u64,
    /// Changes of the open explicit transaction, and how deeply it is nested.
    open: Vec<RecordChange>,
    depth: u32,
    commits: u64,
}

impl BusState {
    fn schema(&mut self, object: &str) -> Option<Arc<ChangeSchema>> {
        let key = object.to_ascii_lowercase();
        if let Some(s) = self.schemas.get(&key) {
            return Some(s.clone());
        }
        let sobject = self.objects.get(&key)?.clone();
        if !has_change_event(&sobject) {
            return None;
        }
        let schema = Arc::new(ChangeSchema::of(&sobject));
        self.schemas_by_id
            .insert(schema.schema_id.clone(), schema.clone());
        self.schemas.insert(key, schema.clone());
        Some(schema)
    }

    fn oldest_seq(&self) -> u64 {
        self.events.front().map_or(self.last_seq + 1, |e| e.seq)
    }
}

/// The event bus of one emulator.
pub(crate) struct EventBus {
    clock: Clock,
    faults: Arc<Mutex<FaultTable>>,
    overflow_limit: usize,
    configured: Option<Vec<String>>,
    state: Mutex<BusState>,
    tip: watch::Sender<u64>,
    closing: watch::Sender<bool>,
}

/// A draft event of a committing transaction.
struct Draft {
    schema: Arc<ChangeSchema>,
    change_type: &'static str,
    record_ids: Vec<String>,
    body: Body,
    changed: Vec<String>,
    nulled: Vec<String>,
    diff: Vec<String>,
}

impl EventBus {
    /// A bus for `objects`; `enabled` names the objects whose changes publish (`None`: every
    /// object that has a change event).
    pub(crate) fn new(
        clock: Clock,
        faults: Arc<Mutex<FaultTable>>,
        objects: Vec<Arc<SObject>>,
        enabled: Option<Vec<String>>,
        overflow_limit: usize,
    ) -> Result<EventBus, String> {
        let objects: HashMap<String, Arc<SObject>> = objects
            .into_iter()
            .map(|o| (o.name.to_ascii_lowercase(), o))
            .collect();
        let bus = EventBus {
            clock,
            faults,
            overflow_limit,
            configured: enabled,
            state: Mutex::new(BusState {
                objects,
                enabled: BTreeSet::new(),
                schemas: HashMap::new(),
                schemas_by_id: HashMap::new(),
                events: VecDeque::new(),
                last_seq: 0,
                open: Vec::new(),
                depth: 0,
                commits: 0,
            }),
            tip: watch::channel(0).0,
            closing: watch::channel(false).0,
        };
        bus.set_enabled(bus.configured.clone())?;
        Ok(bus)
    }

    /// Enables change events for exactly `objects` (`None`: every object that has them).
    /// An unknown object or one without change events is refused by name.
    pub(crate) fn set_enabled(&self, objects: Option<Vec<String>>) -> Result<(), String> {
        let mut st = lock(&self.state);
        let names: Vec<String> = match objects {
            None => {
                let mut all: Vec<String> = st
                    .objects
                    .values()
                    .filter(|o| has_change_event(o))
                    .map(|o| o.name.clone())
                    .collect();
                all.sort();
                all
            }
            Some(list) => {
                let mut names = Vec::new();
                for name in list {
                    let Some(o) = st.objects.get(&name.to_ascii_lowercase()) else {
                        return Err(format!("{name}: no such object in the org"));
                    };
                    if !has_change_event(o) {
                        return Err(format!(
                            "{name}: Salesforce offers no change events for this object"
                        ));
                    }
                    names.push(o.name.clone());
                }
                names
            }
        };
        st.enabled = names.into_iter().collect();
        Ok(())
    }

    /// The objects whose changes publish.
    pub(crate) fn enabled(&self) -> Vec<String> {
        lock(&self.state).enabled.iter().cloned().collect()
    }

    /// True when a change to `object` publishes (so the org only copies values when needed).
    pub(crate) fn wants(&self, object: &str) -> bool {
        lock(&self.state).enabled.contains(object)
    }

    /// Opens an explicit transaction (nested calls join it).
    pub(crate) fn begin(&self) {
        lock(&self.state).depth += 1;
    }

    /// Commits the explicit transaction: its changes publish.
    pub(crate) fn commit(&self) {
        let mut st = lock(&self.state);
        st.depth = st.depth.saturating_sub(1);
        if st.depth == 0 {
            let changes = std::mem::take(&mut st.open);
            self.publish(&mut st, changes);
        }
    }

    /// Reports a committed change (or one of the open transaction).
    pub(crate) fn record(&self, change: RecordChange) {
        let mut st = lock(&self.state);
        if !st.enabled.contains(&change.object) {
            return;
        }
        if st.depth > 0 {
            st.open.push(change);
        } else {
            self.publish(&mut st, vec![change]);
        }
    }

    fn purge(&self, st: &mut BusState) {
        let horizon = self.clock.now() - Duration::hours(RETENTION_HOURS);
        while st.events.front().is_some_and(|e| e.committed_at < horizon) {
            st.events.pop_front();
        }
    }

    fn gap_fault(&self, topic: &str) -> bool {
        lock(&self.faults)
            .fire("CDC", topic)
            .iter()
            .any(|k| matches!(k, FaultKind::Gap))
    }

    fn publish(&self, st: &mut BusState, changes: Vec<RecordChange>) {
        if changes.is_empty() {
            return;
        }
        let now: DateTime<Utc> = self.clock.now();
        st.commits += 1;
        let commit_number = 10_000_000_000 + st.commits as i64;
        let transaction_key = uuid_like(&format!("transaction:{commit_number}"));
        let user = changes[0].user.clone();
        let mut drafts: Vec<Draft> = Vec::new();
        let mut used = 0usize;
        let mut overflowed: Vec<Arc<ChangeSchema>> = Vec::new();
        for change in changes {
            let Some(schema) = st.schema(&change.object) else {
                continue;
            };
            let (cost, body, changed, nulled, diff) = match change.kind {
                ChangeKind::Create | ChangeKind::Undelete => {
                    let row = change.after.as_deref().unwrap_or(&[]);
                    (1, encode::full_body(&schema, row), vec![], vec![], vec![])
                }
                ChangeKind::Delete => (1, encode::empty_body(&schema), vec![], vec![], vec![]),
                ChangeKind::Update => {
                    let (Some(before), Some(after)) = (&change.before, &change.after) else {
                        continue;
                    };
                    let u = encode::update(&schema, before, after);
                    (u.field_count.max(1), u.body, u.changed, u.nulled, u.diff)
                }
            };
            if !overflowed.is_empty() || used + cost > self.overflow_limit {
                if !overflowed.iter().any(|s| s.object == schema.object) {
                    overflowed.push(schema);
                }
                continue;
            }
            used += cost;
            let gap = self.gap_fault(&schema.topic);
            let (body, changed, nulled, diff) = if gap {
                (encode::empty_body(&schema), vec![], vec![], vec![])
            } else {
                (body, changed, nulled, diff)
            };
            let change_type = change.kind.change_type(gap);
            if let Some(last) = drafts.last_mut() {
                if last.schema.object == schema.object
                    && last.change_type == change_type
                    && last.body == body
                    && last.changed == changed
                    && last.nulled == nulled
                    && last.diff == diff
                {
                    last.record_ids.push(change.id);
                    continue;
                }
            }
            drafts.push(Draft {
                schema,
                change_type,
                record_ids: vec![change.id],
                body,
                changed,
                nulled,
                diff,
            });
        }
        for schema in overflowed {
            drafts.push(Draft {
                body: encode::empty_body(&schema),
                schema,
                change_type: "GAP_OVERFLOW",
                record_ids: vec![],
                changed: vec![],
                nulled: vec![],
                diff: vec![],
            });
        }
        if drafts.is_empty() {
            return;
        }
        self.purge(st);
        for (n, draft) in drafts.into_iter().enumerate() {
            let header = Header {
                entity_name: draft.schema.object.clone(),
                record_ids: draft.record_ids,
                change_type: draft.change_type,
                change_origin: String::new(),
                transaction_key: transaction_key.clone(),
                sequence_number: n as i32 + 1,
                commit_timestamp: now,
                commit_number,
                commit_user: user.clone(),
                nulled_fields: draft.nulled,
                diff_fields: draft.diff,
                changed_fields: draft.changed,
            };
            let payload = encode::datum(&draft.schema, &header, &draft.body);
            st.last_seq += 1;
            let seq = st.last_seq;
            st.events.push_back(Arc::new(BusEvent {
                seq,
                schema: draft.schema,
                committed_at: now,
                payload,
            }));
        }
        self.tip.send_replace(st.last_seq);
    }

    /// The sequence number of the newest event (0 before any).
    pub(crate) fn tip(&self) -> u64 {
        lock(&self.state).last_seq
    }

    /// Where EARLIEST starts: just before the oldest retained event.
    pub(crate) fn earliest_start(&self) -> u64 {
        let mut st = lock(&self.state);
        self.purge(&mut st);
        st.oldest_seq() - 1
    }

    /// Where a CUSTOM subscription from `replay` starts (after that event).
    pub(crate) fn resume_after(&self, replay: &[u8]) -> Result<u64, ReplayError> {
        let seq = replay_seq(replay).ok_or(ReplayError::Invalid)?;
        let mut st = lock(&self.state);
        self.purge(&mut st);
        if seq > st.last_seq {
            return Err(ReplayError::Invalid);
        }
        if seq + 1 < st.oldest_seq() {
            return Err(ReplayError::Expired);
        }
        Ok(seq)
    }

    /// Up to `limit` events after `seq` that `filter` selects, oldest first.
    pub(crate) fn events_after(
        &self,
        seq: u64,
        filter: &TopicFilter,
        limit: usize,
    ) -> Vec<Arc<BusEvent>> {
        let mut st = lock(&self.state);
        self.purge(&mut st);
        let start = st.events.partition_point(|e| e.seq <= seq);
        st.events
            .range(start..)
            .filter(|e| filter.matches(e))
            .take(limit)
            .cloned()
            .collect()
    }

    /// A topic's filter and the id of its current schema; `None` for a topic this org does not
    /// have (unknown object, no change events, or not enabled).
    pub(crate) fn topic(&self, topic: &str) -> Option<(TopicFilter, String)> {
        let mut st = lock(&self.state);
        if topic == ALL_CHANGE_EVENTS {
            let first = st.enabled.iter().next()?.clone();
            let schema = st.schema(&first)?;
            return Some((TopicFilter::All, schema.schema_id.clone()));
        }
        let name = st
            .enabled
            .iter()
            .find(|o| super::schema::topic_name(o) == topic)?
            .clone();
        let schema = st.schema(&name)?;
        Some((TopicFilter::Object(name), schema.schema_id.clone()))
    }

    /// The schema JSON of a schema id this bus gave out.
    pub(crate) fn schema_json(&self, schema_id: &str) -> Option<String> {
        let st = lock(&self.state);
        st.schemas_by_id.get(schema_id).map(|s| s.json.clone())
    }

    /// Wakes when an event is published.
    pub(crate) fn watch(&self) -> watch::Receiver<u64> {
        self.tip.subscribe()
    }

    /// Tells open subscriptions the server is stopping.
    pub(crate) fn close(&self) {
        self.closing.send_replace(true);
    }

    pub(crate) fn closing(&self) -> watch::Receiver<bool> {
        self.closing.subscribe()
    }

    /// The retained events as JSON (the admin API's listing), oldest first.
    pub(crate) fn list(&self, topic: Option<&str>) -> Vec<Json> {
        use base64::Engine;
        let mut st = lock(&self.state);
        self.purge(&mut st);
        st.events
            .iter()
            .filter(|e| topic.is_none_or(|t| t == ALL_CHANGE_EVENTS || t == e.topic()))
            .map(|e| {
                let mut item = json!({
                    "replay_id": base64::engine::general_purpose::STANDARD.encode(e.replay_id()),
                    "topic": e.topic(),
                    "event_id": e.event_id(),
                    "schema_id": e.schema_id(),
                    "payload_bytes": e.payload.len(),
                });
                if let (Json::Object(item), Json::Object(header)) =
                    (&mut item, encode::header_json(&e.schema, &e.payload))
                {
                    item.extend(header);
                }
                item
            })
            .collect()
    }

    /// Back to the start: no events, the configured objects enabled. Sequence numbers go on,
    /// so replay ids from before the reset are expired rather than reused.
    pub(crate) fn reset(&self) {
        {
            let mut st = lock(&self.state);
            st.events.clear();
            st.open.clear();
            st.depth = 0;
        }
        let _ = self.set_enabled(self.configured.clone());
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn replay_ids_increase_and_only_issued_ones_decode() {
        let ids: Vec<[u8; 8]> = (1..50).map(replay_id).collect();
        assert!(ids.windows(2).all(|w| w[0] < w[1]));
        for (i, id) in ids.iter().enumerate() {
            assert_eq!(replay_seq(id), Some(i as u64 + 1));
        }
        let mut forged = replay_id(7);
        forged[7] ^= 1;
        assert_eq!(replay_seq(&forged), None);
        assert_eq!(replay_seq(b"abc"), None);
    }
}
