//! Proving a window complete before the state moves past it.
//!
//! After an incremental window (or a full-refresh read ordered by Id) is read, Salesforce counts
//! the rows inside the same bounds: `SELECT COUNT() FROM … WHERE <same bounds>` through
//! `queryAll`, like the read itself, one API call. A row updated after its window was read moves
//! out of the window (its cursor becomes later), so Salesforce counting *more* rows than were
//! emitted means rows were missed — typically a long transaction that committed after its
//! `SystemModstamp`. The window is then read again, at most [`MAX_REREADS`] times.

use crate::salesforce::SalesforceClient;

use crate::source::context::{Reason, StreamFailure};
use crate::source::decode::convert::RecordKeys;
use crate::source::output::sink::RecordSink;
use crate::source::plan::query_build::QuerySpec;

/// Times a window is read again while Salesforce counts more rows than were emitted.
pub(crate) const MAX_REREADS: u32 = 2;

/// Passes records on to `inner`, counting them and keeping the last Id.
pub(crate) struct Tally<'a, S> {
    inner: &'a mut S,
    pub(crate) rows: u64,
    pub(crate) last_id: String,
}

impl<'a, S> Tally<'a, S> {
    pub(crate) fn new(inner: &'a mut S) -> Self {
        Tally {
            inner,
            rows: 0,
            last_id: String::new(),
        }
    }

    /// The sink records are passed on to.
    pub(crate) fn inner(&mut self) -> &mut S {
        self.inner
    }
}

impl<S: RecordSink> RecordSink for Tally<'_, S> {
    type Error = S::Error;

    fn record(&mut self, data: &[u8], keys: &RecordKeys) -> Result<(), Self::Error> {
        self.inner.record(data, keys)?;
        self.rows += 1;
        if !keys.id.is_empty() {
            self.last_id.clear();
            self.last_id.push_str(&keys.id);
        }
        Ok(())
    }

    fn estimate(&mut self, rows: u64) -> Result<(), Self::Error> {
        self.inner.estimate(rows)
    }
}

/// Salesforce's count of the rows inside `spec`'s bounds (and `Id <= up_to_id` when given),
/// deleted ones included as in the read.
pub(crate) async fn count_rows(
    client: &SalesforceClient,
    spec: &QuerySpec,
    up_to_id: Option<&str>,
) -> Result<u64, StreamFailure> {
    let soql = spec
        .select
        .to_count_soql(up_to_id)
        .map_err(|e| StreamFailure::Config(Reason::of(e)))?;
    Ok(client.query(&soql, true, None).await?.total_size)
}

/// What a count says about a read of `emitted` rows.
#[derive(Debug, PartialEq, Eq)]
pub(crate) enum Verdict {
    /// Nothing missed (fewer counted: rows moved out or were purged since).
    Complete,
    /// Salesforce counts more rows than were emitted: read the window again.
    Missed { counted: u64 },
}

pub(crate) fn verdict(counted: u64, emitted: u64) -> Verdict {
    if counted > emitted {
        Verdict::Missed { counted }
    } else {
        Verdict::Complete
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    struct Collect(Vec<String>);

    impl RecordSink for Collect {
        type Error = ();
        fn record(&mut self, _: &[u8], keys: &RecordKeys) -> Result<(), ()> {
            self.0.push(keys.id.clone());
            Ok(())
        }
        fn estimate(&mut self, _: u64) -> Result<(), ()> {
            Ok(())
        }
    }

    #[test]
    fn the_tally_counts_and_keeps_the_last_id() {
        let mut inner = Collect(Vec::new());
        let mut tally = Tally::new(&mut inner);
        for id in ["001A", "001B"] {
            tally
                .record(
                    b"{}",
                    &RecordKeys {
                        id: id.into(),
                        cursor: String::new(),
                    },
                )
                .unwrap();
        }
        assert_eq!((tally.rows, tally.last_id.as_str()), (2, "001B"));
        assert_eq!(inner.0, ["001A", "001B"]);
    }

    #[test]
    fn only_more_rows_counted_than_emitted_is_a_miss() {
        assert_eq!(verdict(5, 5), Verdict::Complete);
        assert_eq!(verdict(4, 5), Verdict::Complete);
        assert_eq!(verdict(6, 5), Verdict::Missed { counted: 6 });
    }
}
