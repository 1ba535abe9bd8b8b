//! STATE gating: a STATE is echoed only once every record that arrived before it is in
//! Salesforce or in the dead-letter queue, in arrival order, each with `destinationStats`.
//!
//! Batches get increasing ids when they receive their first row. A STATE remembers the next id
//! to be handed out (its barrier): every record before it sits in a batch with a smaller id, so
//! the STATE may go once no batch below the barrier is unfinished. Records are also tagged with
//! the STATE interval they arrived in (the number of STATEs seen before them), which is how
//! each released STATE reports the records of its stream since that stream's previous STATE.

use std::collections::{BTreeMap, BTreeSet, VecDeque};

use serde_json::value::RawValue;

/// Which records a STATE speaks for.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum StateScope {
    /// A STREAM state: the configured stream's index (`None` for a stream not in the catalog).
    Stream(Option<usize>),
    /// A GLOBAL or LEGACY state: every stream.
    All,
}

/// Records of one stream and interval that reached their end.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub(crate) struct Counts {
    /// Accepted by Salesforce.
    pub committed: u64,
    /// Written to the dead-letter queue.
    pub rejected: u64,
}

impl Counts {
    fn add(&mut self, other: Counts) {
        self.committed += other.committed;
        self.rejected += other.rejected;
    }
}

struct Pending {
    raw: Box<RawValue>,
    scope: StateScope,
    interval: u64,
    barrier: u64,
}

/// A STATE ready to be echoed, with the stats of the records it covers.
#[derive(Debug)]
pub(crate) struct Released {
    pub raw: Box<RawValue>,
    pub stats: Counts,
}

/// Tracks batches, records and STATEs; decides which STATEs may go.
#[derive(Default)]
pub(crate) struct StateGate {
    next_batch: u64,
    unfinished: BTreeSet<u64>,
    interval: u64,
    pending: VecDeque<Pending>,
    counts: BTreeMap<(usize, u64), Counts>,
}

impl StateGate {
    pub(crate) fn new() -> StateGate {
        StateGate::default()
    }

    /// A new batch id; the batch counts as unfinished until [`StateGate::finish_batch`].
    pub(crate) fn open_batch(&mut self) -> u64 {
        let id = self.next_batch;
        self.next_batch += 1;
        self.unfinished.insert(id);
        id
    }

    pub(crate) fn finish_batch(&mut self, id: u64) {
        self.unfinished.remove(&id);
    }

    /// The interval records arriving now belong to.
    pub(crate) fn interval(&self) -> u64 {
        self.interval
    }

    /// Adds outcomes of records of `stream` that arrived in `interval`.
    pub(crate) fn count(&mut self, stream: usize, interval: u64, counts: Counts) {
        self.counts
            .entry((stream, interval))
            .or_default()
            .add(counts);
    }

    /// A STATE arrived: it waits for every batch opened so far.
    pub(crate) fn push_state(&mut self, raw: Box<RawValue>, scope: StateScope) {
        self.pending.push_back(Pending {
            raw,
            scope,
            interval: self.interval,
            barrier: self.next_batch,
        });
        self.interval += 1;
    }

    pub(crate) fn pending(&self) -> usize {
        self.pending.len()
    }

    /// The STATEs whose records are all done, in arrival order.
    pub(crate) fn release(&mut self) -> Vec<Released> {
        let mut out = Vec::new();
        while let Some(front) = self.pending.front() {
            let blocked = self
                .unfinished
                .first()
                .is_some_and(|&oldest| oldest < front.barrier);
            if blocked {
                break;
            }
            let state = self.pending.pop_front().expect("front exists");
            let stats = self.take_counts(state.scope, state.interval);
            out.push(Released {
                raw: state.raw,
                stats,
            });
        }
        out
    }

    fn take_counts(&mut self, scope: StateScope, up_to: u64) -> Counts {
        let keys: Vec<(usize, u64)> = match scope {
            StateScope::Stream(None) => return Counts::default(),
            StateScope::Stream(Some(stream)) => self
                .counts
                .range((stream, 0)..=(stream, up_to))
                .map(|(k, _)| *k)
                .collect(),
            StateScope::All => self
                .counts
                .keys()
                .filter(|(_, interval)| *interval <= up_to)
                .copied()
                .collect(),
        };
        let mut total = Counts::default();
        for key in keys {
            if let Some(c) = self.counts.remove(&key) {
                total.add(c);
            }
        }
        total
    }
}

/// The STATE payload with `destinationStats` added, everything else byte for byte.
/// `recordCount` counts the records Salesforce accepted and `rejectedRecordCount` those in the
/// dead-letter queue: their sum is what the platform compares with the source's count.
pub(crate) fn with_destination_stats(raw: &RawValue, stats: Counts) -> Box<RawValue> {
    let stats_json = format!(
        r#"{{"recordCount":{}.0,"rejectedRecordCount":{}.0}}"#,
        stats.committed, stats.rejected
    );
    let text = raw.get().trim();
    let existing: Option<BTreeMap<String, &RawValue>> = serde_json::from_str(text).ok();
    let Some(fields) = existing else {
        return raw.to_owned();
    };
    let rebuilt = if fields.contains_key("destinationStats") {
        let mut parts: Vec<String> = fields
            .iter()
            .filter(|(k, _)| k.as_str() != "destinationStats")
            .map(|(k, v)| {
                format!(
                    "{}:{}",
                    serde_json::to_string(k).unwrap_or_default(),
                    v.get()
                )
            })
            .collect();
        parts.push(format!(r#""destinationStats":{stats_json}"#));
        format!("{{{}}}", parts.join(","))
    } else {
        let body = text[..text.len() - 1].trim_end();
        let separator = if fields.is_empty() { "" } else { "," };
        format!(r#"{body}{separator}"destinationStats":{stats_json}}}"#)
    };
    RawValue::from_string(rebuilt).unwrap_or_else(|_| raw.to_owned())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn counts(committed: u64, rejected: u64) -> Counts {
        Counts {
            committed,
            rejected,
        }
    }

    fn raw(text: &str) -> Box<RawValue> {
        RawValue::from_string(text.to_string()).unwrap()
    }

    #[test]
    fn a_state_waits_for_every_batch_opened_before_it() {
        let mut gate = StateGate::new();
        let a = gate.open_batch();
        let b = gate.open_batch();
        gate.push_state(raw(r#"{"id":1}"#), StateScope::All);
        assert!(gate.release().is_empty());
        gate.finish_batch(b);
        assert!(gate.release().is_empty(), "batch a still runs");
        gate.finish_batch(a);
        let released = gate.release();
        assert_eq!(released.len(), 1);
        assert_eq!(released[0].raw.get(), r#"{"id":1}"#);
    }

    #[test]
    fn batches_opened_after_a_state_do_not_hold_it() {
        let mut gate = StateGate::new();
        gate.push_state(raw("{}"), StateScope::All);
        let _later = gate.open_batch();
        assert_eq!(gate.release().len(), 1);
    }

    #[test]
    fn states_are_released_in_arrival_order() {
        let mut gate = StateGate::new();
        let a = gate.open_batch();
        gate.push_state(raw(r#"{"n":1}"#), StateScope::All);
        let b = gate.open_batch();
        gate.push_state(raw(r#"{"n":2}"#), StateScope::All);
        gate.finish_batch(b);
        assert!(
            gate.release().is_empty(),
            "the first state still waits for a"
        );
        gate.finish_batch(a);
        let names: Vec<String> = gate
            .release()
            .iter()
            .map(|r| r.raw.get().to_string())
            .collect();
        assert_eq!(names, [r#"{"n":1}"#, r#"{"n":2}"#]);
    }

    #[test]
    fn stream_states_report_their_streams_records_since_the_previous_state() {
        let mut gate = StateGate::new();
        gate.count(0, 0, counts(3, 1));
        gate.count(1, 0, counts(5, 0));
        gate.push_state(raw("{}"), StateScope::Stream(Some(0)));
        gate.count(0, 1, counts(2, 0));
        gate.push_state(raw("{}"), StateScope::Stream(Some(1)));
        gate.push_state(raw("{}"), StateScope::Stream(Some(0)));
        let stats: Vec<Counts> = gate.release().iter().map(|r| r.stats).collect();
        assert_eq!(stats, [counts(3, 1), counts(5, 0), counts(2, 0)]);
    }

    #[test]
    fn global_states_report_every_stream() {
        let mut gate = StateGate::new();
        gate.count(0, 0, counts(3, 1));
        gate.count(1, 0, counts(5, 0));
        gate.push_state(raw("{}"), StateScope::All);
        assert_eq!(gate.release()[0].stats, counts(8, 1));
    }

    #[test]
    fn destination_stats_are_added_without_touching_the_rest() {
        let state = raw(
            r#"{"type":"STREAM","stream":{"stream_descriptor":{"name":"a"},"stream_state":{"v":1.50}},"id":7}"#,
        );
        let out = with_destination_stats(&state, counts(3, 1));
        assert_eq!(
            out.get(),
            r#"{"type":"STREAM","stream":{"stream_descriptor":{"name":"a"},"stream_state":{"v":1.50}},"id":7,"destinationStats":{"recordCount":3.0,"rejectedRecordCount":1.0}}"#
        );
        let empty = with_destination_stats(&raw("{}"), Counts::default());
        assert_eq!(
            empty.get(),
            r#"{"destinationStats":{"recordCount":0.0,"rejectedRecordCount":0.0}}"#
        );
    }
}
