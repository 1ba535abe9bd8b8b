//! One result page of a Bulk query job, however it is downloaded: where it is fetched from
//! ([`PageAt`]: a locator, or a `resultUrl`), the converter that turns its CSV rows into records
//! and holds back a last row until the page's row count confirms it, a page fetched again when
//! it arrived short, a body read again after it broke off ([`Resume`], the bytes already passed
//! on skipped), and the failures of a download.

use std::future::Future;
use std::pin::Pin;
use std::task::{Context, Poll};
use std::time::Duration;

use bytes::Bytes;
use futures::{Stream, StreamExt};

use crate::salesforce::{Error, ErrorClass, QueryResultPage, SalesforceClient};

use crate::protocol::OutputError;
use crate::source::context::{Reason, StreamFailure};
use crate::source::decode::convert::{ConvertError, CsvBinding, RecordKeys, RecordLayout};
use crate::source::decode::csv_stream::{CsvDecoder, CsvRecord};
use crate::source::output::sink::RecordSink;

/// Times a page whose body broke off is fetched again before the read fails.
pub(crate) const PAGE_ATTEMPTS: u32 = 5;

/// Where a page body stands when it is read again after breaking off: a re-fetch returns the
/// same bytes (result pages are stored files), and the ones already passed on are skipped.
#[derive(Default)]
pub(crate) struct Resume {
    /// Bytes of the page passed on, over every attempt.
    delivered: u64,
    /// Bytes of this attempt's body read so far.
    seen: u64,
}

impl Resume {
    /// Reads one attempt's `body` from its first byte, handing `to` the bytes not passed on yet.
    pub(crate) async fn read<E>(
        &mut self,
        mut body: impl Stream<Item = Result<Bytes, Error>> + Unpin,
        to: &mut impl PutBytes<Error = E>,
    ) -> Result<BodyRead, E> {
        self.seen = 0;
        while let Some(chunk) = body.next().await {
            match chunk {
                Ok(bytes) => {
                    if let Some(bytes) = self.unseen(bytes) {
                        if !to.put(bytes).await? {
                            return Ok(BodyRead::Stopped);
                        }
                    }
                }
                Err(e) => return Ok(BodyRead::BrokeOff(e)),
            }
        }
        Ok(BodyRead::Complete)
    }

    /// The part of `bytes`, the body's next chunk, not passed on yet; `None` when all of it was.
    fn unseen(&mut self, mut bytes: Bytes) -> Option<Bytes> {
        let start = self.seen;
        self.seen += bytes.len() as u64;
        if self.seen <= self.delivered {
            return None;
        }
        if start < self.delivered {
            bytes = bytes.slice(usize::try_from(self.delivered - start).unwrap_or(0)..);
        }
        self.delivered = self.seen;
        Some(bytes)
    }

    /// After attempt `attempt`'s body broke off with `error`: waits before the next attempt when
    /// the error is transient and attempts remain, else gives the error back.
    pub(crate) async fn again_after(
        &self,
        job_id: &str,
        attempt: u32,
        error: Error,
    ) -> Result<(), Error> {
        if error.class() != ErrorClass::Transient || attempt >= PAGE_ATTEMPTS {
            return Err(error);
        }
        tracing::warn!(
            "Bulk job {job_id}: result page broke off after {} bytes ({error}); fetching it again",
            self.delivered
        );
        tokio::time::sleep(Duration::from_millis(50 << attempt)).await;
        Ok(())
    }
}

/// Where the bytes of a page body go.
pub(crate) trait PutBytes {
    type Error;

    /// Takes the next bytes; false: the receiving side is gone, stop reading.
    fn put(&mut self, bytes: Bytes) -> impl Future<Output = Result<bool, Self::Error>> + Send;
}

/// How one attempt at reading a page body ended.
pub(crate) enum BodyRead {
    /// Every byte arrived.
    Complete,
    /// The receiving side stopped the read.
    Stopped,
    /// The body broke off with this error.
    BrokeOff(Error),
}

/// Failures while downloading and converting a job's results.
#[derive(Debug, thiserror::Error)]
pub(crate) enum DownloadError<E> {
    #[error(transparent)]
    Api(#[from] Error),
    #[error("Bulk result row {row}: {source}")]
    Convert {
        row: u64,
        #[source]
        source: ConvertError,
    },
    #[error("Bulk job {job_id}: a result page kept arriving short ({got} of the {expected} rows Sforce-NumberOfRecords announced) after {attempts} attempts")]
    Truncated {
        job_id: String,
        expected: u64,
        got: u64,
        attempts: u32,
    },
    #[error("Bulk job {job_id}: the temporary file holding a result page failed: {source}")]
    Spool {
        job_id: String,
        #[source]
        source: std::io::Error,
    },
    /// The record sink refused a record (e.g. stdout closed).
    #[error(transparent)]
    Sink(E),
}

/// A spawned task that is aborted when dropped (a downloader, or a job prepared ahead, that is
/// no longer wanted stops).
pub(crate) struct AbortOnDrop<T>(pub(crate) tokio::task::JoinHandle<T>);

impl<T> Drop for AbortOnDrop<T> {
    fn drop(&mut self) {
        self.0.abort();
    }
}

impl<T> Future for AbortOnDrop<T> {
    type Output = Result<T, tokio::task::JoinError>;
    fn poll(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        Pin::new(&mut self.0).poll(cx)
    }
}

/// Where a result page is fetched from.
pub(crate) enum PageAt<'a> {
    /// The locator chain: the first page (`None`) or the page at a locator, `maxRecords` rows.
    Locator(Option<&'a str>, u64),
    /// A `resultUrl` of `resultPages`.
    Url(&'a str),
}

impl PageAt<'_> {
    pub(crate) async fn fetch(
        &self,
        client: &SalesforceClient,
        job_id: &str,
    ) -> Result<QueryResultPage, Error> {
        match self {
            PageAt::Locator(locator, page_size) => {
                client
                    .query_job_results(job_id, *locator, Some(*page_size))
                    .await
            }
            PageAt::Url(url) => client.query_job_result_url(job_id, url).await,
        }
    }
}

/// Fetches one page again, skipping the rows already emitted from it.
pub(crate) async fn refetch_page<S: RecordSink>(
    client: &SalesforceClient,
    job_id: &str,
    at: &PageAt<'_>,
    expected: Option<u64>,
    converter: &mut PageConverter<'_>,
    sink: &mut S,
) -> Result<(), DownloadError<S::Error>> {
    for attempt in 1..=PAGE_ATTEMPTS {
        let already = converter.page_rows;
        converter.start_page(already);
        let page = at.fetch(client, job_id).await?;
        let mut body = page.body;
        let mut decoder = CsvDecoder::new();
        let mut broke = false;
        while let Some(chunk) = body.next().await {
            match chunk {
                Ok(bytes) => decoder.feed(&bytes, |row| converter.on_row(row, sink))?,
                Err(e) if e.class() == ErrorClass::Transient => {
                    tracing::warn!("Bulk job {job_id}: result page broke off again ({e})");
                    broke = true;
                    break;
                }
                Err(e) => return Err(e.into()),
            }
        }
        if !broke && converter.finish_page(&mut decoder, sink, expected)? {
            return Ok(());
        }
        tokio::time::sleep(Duration::from_millis(50 << attempt)).await;
    }
    Err(DownloadError::Truncated {
        job_id: job_id.to_string(),
        expected: expected.unwrap_or_default(),
        got: converter.page_rows,
        attempts: PAGE_ATTEMPTS,
    })
}

/// Turns decoded CSV rows of one job into records.
pub(crate) struct PageConverter<'a> {
    layout: &'a RecordLayout,
    binding: Option<CsvBinding>,
    /// Rows emitted from the whole job.
    pub(crate) rows: u64,
    /// Rows of the current page seen (emitted now or before a re-fetch).
    pub(crate) page_rows: u64,
    /// Rows of the current page still to skip (emitted by an earlier fetch).
    skip: u64,
    /// Keep the next row in `held` instead of emitting it (a page's last row, until the
    /// page's row count confirms it is whole).
    holding: bool,
    held: Option<(Vec<u8>, RecordKeys)>,
    buffer: Vec<u8>,
    keys: RecordKeys,
}

impl<'a> PageConverter<'a> {
    pub(crate) fn new(layout: &'a RecordLayout) -> Self {
        PageConverter {
            layout,
            binding: None,
            rows: 0,
            page_rows: 0,
            skip: 0,
            holding: false,
            held: None,
            buffer: Vec::with_capacity(2048),
            keys: RecordKeys::default(),
        }
    }

    /// A page (or a re-fetch of one) starts; its first `skip` rows were emitted already.
    pub(crate) fn start_page(&mut self, skip: u64) {
        self.binding = None;
        self.page_rows = 0;
        self.skip = skip;
        self.held = None;
    }

    /// Ends the page: a last row without a line ending is emitted only if the page holds every
    /// row it announced. Returns whether the page is whole.
    pub(crate) fn finish_page<S: RecordSink>(
        &mut self,
        decoder: &mut CsvDecoder,
        sink: &mut S,
        expected: Option<u64>,
    ) -> Result<bool, DownloadError<S::Error>> {
        self.holding = true;
        let finished = decoder.finish(|row| self.on_row(row, sink));
        self.holding = false;
        finished?;
        let whole = expected.is_none_or(|e| self.page_rows >= e);
        if let Some((data, keys)) = self.held.take() {
            if whole {
                sink.record(&data, &keys).map_err(DownloadError::Sink)?;
            } else {
                self.page_rows -= 1;
                self.rows -= 1;
            }
        }
        Ok(whole)
    }

    pub(crate) fn on_row<S: RecordSink>(
        &mut self,
        row: &CsvRecord<'_>,
        sink: &mut S,
    ) -> Result<(), DownloadError<S::Error>> {
        let Some(binding) = &self.binding else {
            self.binding = Some(
                self.layout
                    .bind_csv_header(row)
                    .map_err(|source| DownloadError::Convert { row: 0, source })?,
            );
            return Ok(());
        };
        self.page_rows += 1;
        if self.skip > 0 {
            self.skip -= 1;
            return Ok(());
        }
        self.rows += 1;
        self.buffer.clear();
        self.layout
            .write_csv_record(binding, row, &mut self.buffer, &mut self.keys)
            .map_err(|source| DownloadError::Convert {
                row: self.rows,
                source,
            })?;
        if self.holding {
            self.held = Some((self.buffer.clone(), self.keys.clone()));
            return Ok(());
        }
        sink.record(&self.buffer, &self.keys)
            .map_err(DownloadError::Sink)
    }
}

impl From<DownloadError<OutputError>> for StreamFailure {
    fn from(e: DownloadError<OutputError>) -> Self {
        match e {
            DownloadError::Api(e) => StreamFailure::Api(e),
            DownloadError::Sink(e) => StreamFailure::Output(e),
            e @ (DownloadError::Convert { .. } | DownloadError::Spool { .. }) => {
                StreamFailure::Data(Reason::of(e))
            }
            e @ DownloadError::Truncated { .. } => StreamFailure::Incomplete(Reason::of(e)),
        }
    }
}
