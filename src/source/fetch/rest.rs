//! Reading one query through REST `queryAll` and `nextRecordsUrl`.
//!
//! A query too wide for one URI is split into field chunks (each with Id, each ordered by Id);
//! the chunks are read side by side, one page of each at a time, and joined on Id as they go,
//! so nothing holds more than one page per chunk. A row missing from some chunk (it changed
//! between the chunk queries) is dropped with a warning: its cursor moved past the read's upper
//! bound, so the next incremental read picks it up.

use std::collections::VecDeque;
use std::time::Duration;

use serde::Deserialize;
use serde_json::value::RawValue;

use crate::salesforce::{Error, ErrorClass, QueryPage, SalesforceClient};

use crate::protocol::OutputError;
use crate::source::context::{Reason, StreamFailure};
use crate::source::decode::convert::{ConvertError, RecordKeys};
use crate::source::output::sink::RecordSink;
use crate::source::plan::query_build::FieldChunk;

/// Times a page fetch that fails transiently (e.g. a body cut mid-way) is tried.
/// `nextRecordsUrl` pages can be fetched again until the cursor expires.
const PAGE_ATTEMPTS: u32 = 5;

#[derive(Debug, thiserror::Error)]
pub(crate) enum RestError<E> {
    #[error(transparent)]
    Api(#[from] Error),
    #[error("REST record {row}: {source}")]
    Convert {
        row: u64,
        #[source]
        source: ConvertError,
    },
    #[error(transparent)]
    Sink(E),
}

async fn fetch_page(
    client: &SalesforceClient,
    soql: &str,
    next: Option<&str>,
) -> Result<QueryPage, Error> {
    let mut attempt = 0;
    loop {
        attempt += 1;
        let result = match next {
            None => client.query(soql, true, None).await,
            Some(url) => client.query_more(url, None).await,
        };
        match result {
            // A body cut mid-way fails to decode (or to arrive): the page is fetched again.
            Err(e)
                if (e.class() == ErrorClass::Transient || matches!(e, Error::Decode { .. }))
                    && attempt < PAGE_ATTEMPTS =>
            {
                tracing::warn!("{e}; fetching the page again");
                tokio::time::sleep(Duration::from_millis(50 << attempt)).await;
            }
            other => return other,
        }
    }
}

/// Pages of one query, record by record.
struct PageCursor<'a> {
    soql: &'a str,
    records: VecDeque<Box<RawValue>>,
    next: Option<String>,
    started: bool,
    /// `totalSize` of the first page, until taken.
    total: Option<u64>,
}

impl<'a> PageCursor<'a> {
    fn new(soql: &'a str) -> Self {
        PageCursor {
            soql,
            records: VecDeque::new(),
            next: None,
            started: false,
            total: None,
        }
    }

    async fn next_record(
        &mut self,
        client: &SalesforceClient,
    ) -> Result<Option<Box<RawValue>>, Error> {
        loop {
            if let Some(record) = self.records.pop_front() {
                return Ok(Some(record));
            }
            if self.started && self.next.is_none() {
                return Ok(None);
            }
            let page = fetch_page(client, self.soql, self.next.as_deref()).await?;
            if !self.started {
                self.total = Some(page.total_size);
            }
            self.started = true;
            self.next = if page.done {
                None
            } else {
                page.next_records_url
            };
            self.records = page.records.into();
        }
    }
}

#[derive(Deserialize)]
struct IdOnly<'a> {
    #[serde(rename = "Id", borrow)]
    id: std::borrow::Cow<'a, str>,
}

fn record_id(record: &RawValue) -> Option<String> {
    serde_json::from_str::<IdOnly<'_>>(record.get())
        .ok()
        .map(|r| r.id.into_owned())
}

/// Reads every chunk of one query into `sink`; returns the number of records emitted.
pub(crate) async fn read_rest<S: RecordSink>(
    client: &SalesforceClient,
    chunks: &[FieldChunk],
    sink: &mut S,
) -> Result<u64, RestError<S::Error>> {
    let Some((first, others)) = chunks.split_first() else {
        return Ok(0);
    };
    let mut cursors: Vec<PageCursor<'_>> =
        chunks.iter().map(|c| PageCursor::new(&c.soql)).collect();
    let mut pending: Vec<Option<(String, Box<RawValue>)>> = vec![None; others.len()];
    let mut buffer = Vec::with_capacity(2048);
    let mut keys = RecordKeys::default();
    let mut scratch = RecordKeys::default();
    let mut rows = 0u64;
    let mut dropped = 0u64;
    loop {
        let record = cursors[0].next_record(client).await?;
        if let Some(n) = cursors[0].total.take() {
            sink.estimate(n).map_err(RestError::Sink)?;
        }
        let Some(record) = record else { break };
        rows += 1;
        buffer.clear();
        buffer.push(b'{');
        first
            .layout
            .write_rest_members(record.get(), &mut buffer, &mut keys)
            .map_err(|source| RestError::Convert { row: rows, source })?;
        let mut complete = true;
        if !others.is_empty() {
            let id = keys.id.clone();
            for (i, chunk) in others.iter().enumerate() {
                let found = loop {
                    if pending[i].is_none() {
                        let next = cursors[i + 1].next_record(client).await?;
                        match next {
                            None => break None,
                            Some(r) => {
                                let rid = record_id(&r).unwrap_or_default();
                                pending[i] = Some((rid, r));
                            }
                        }
                    }
                    let (rid, _) = pending[i].as_ref().expect("filled above");
                    match rid.as_str().cmp(id.as_str()) {
                        std::cmp::Ordering::Less => pending[i] = None,
                        std::cmp::Ordering::Equal => break pending[i].take().map(|(_, r)| r),
                        std::cmp::Ordering::Greater => break None,
                    }
                };
                match found {
                    Some(part) => {
                        buffer.push(b',');
                        chunk
                            .layout
                            .write_rest_members(part.get(), &mut buffer, &mut scratch)
                            .map_err(|source| RestError::Convert { row: rows, source })?;
                    }
                    None => {
                        complete = false;
                        break;
                    }
                }
            }
        }
        if !complete {
            dropped += 1;
            continue;
        }
        buffer.push(b'}');
        sink.record(&buffer, &keys).map_err(RestError::Sink)?;
    }
    if dropped > 0 {
        tracing::warn!(
            "{dropped} row(s) changed while their field chunks were being read and were left out; \
             an incremental read picks them up next time"
        );
    }
    Ok(rows - dropped)
}

impl From<RestError<OutputError>> for StreamFailure {
    fn from(e: RestError<OutputError>) -> Self {
        match e {
            RestError::Api(e) => StreamFailure::Api(e),
            RestError::Sink(e) => StreamFailure::Output(e),
            e @ RestError::Convert { .. } => StreamFailure::Data(Reason::of(e)),
        }
    }
}
