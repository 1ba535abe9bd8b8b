//! Reading one query through a Bulk API 2.0 query job.
//!
//! [`prepare_job`] creates a `queryAll` job (so soft-deleted rows arrive with `IsDeleted=true`)
//! and waits for it; the client polls fast at first and backs off. [`download_job`] then streams
//! the result pages (`maxRecords` + locator): a downloader task fetches page bodies into a small
//! bounded channel while this task decodes and converts them, so the next page is already on its
//! way while this one is converted, and memory stays bounded by the channel, whatever the result
//! size. A page whose body is cut mid-way is fetched again from its locator; the bytes already
//! passed on are skipped (result pages are stored files, so a re-fetch returns the same bytes), so
//! no row is emitted twice.

use std::time::Duration;

use bytes::Bytes;
use futures::StreamExt;
use tokio::sync::mpsc;

use crate::salesforce::{Error, ErrorClass, QueryJob, QueryOperation, SalesforceClient};

use super::convert::{ConvertError, CsvBinding, RecordKeys, RecordLayout};
use super::csv_stream::{CsvDecoder, CsvRecord};
use super::sink::RecordSink;

/// Times a page whose body broke off is fetched again before the read fails.
const PAGE_ATTEMPTS: u32 = 5;

/// Chunks of result bytes buffered between the downloader and the converter.
const CHANNEL_CHUNKS: usize = 16;

/// Why a job could not be prepared.
#[derive(Debug)]
pub enum PrepareError {
    /// Salesforce refused the job, or the job failed: read the query through REST instead.
    FallBack(Error),
    /// Any other failure.
    Other(Error),
}

/// A completed job, ready to download.
#[derive(Debug)]
pub struct PreparedJob {
    pub job: QueryJob,
}

/// Creates a `queryAll` job for `soql` and waits until it completes.
pub async fn prepare_job(
    client: &SalesforceClient,
    soql: &str,
) -> Result<PreparedJob, PrepareError> {
    let job = client
        .create_query_job(soql, QueryOperation::QueryAll)
        .await
        .map_err(|e| {
            if e.is_bulk_refusal() {
                PrepareError::FallBack(e)
            } else {
                PrepareError::Other(e)
            }
        })?;
    match client.wait_for_query_job(&job.id).await {
        Ok(job) => Ok(PreparedJob { job }),
        Err(e @ Error::JobFailed { .. }) => Err(PrepareError::FallBack(e)),
        Err(e) => Err(PrepareError::Other(e)),
    }
}

/// Failures while downloading and converting a job's results.
#[derive(Debug, thiserror::Error)]
pub enum DownloadError<E> {
    #[error(transparent)]
    Api(#[from] Error),
    #[error("Bulk result row {row}: {source}")]
    Convert {
        row: u64,
        #[source]
        source: ConvertError,
    },
    /// The record sink refused a record (e.g. stdout closed).
    #[error(transparent)]
    Sink(E),
}

enum Event {
    /// A new result page starts (its first line is the CSV header).
    Page,
    Chunk(Bytes),
}

/// Streams every result page of `job` through `layout` into `sink`. Returns the number of rows.
pub async fn download_job<S: RecordSink>(
    client: &SalesforceClient,
    job: &PreparedJob,
    layout: &RecordLayout,
    page_size: u64,
    sink: &mut S,
) -> Result<u64, DownloadError<S::Error>> {
    if let Some(rows) = job.job.number_records_processed {
        sink.estimate(rows).map_err(DownloadError::Sink)?;
    }
    let (sender, mut receiver) = mpsc::channel::<Result<Event, Error>>(CHANNEL_CHUNKS);
    let downloader = tokio::spawn(download_pages(
        client.clone(),
        job.job.id.clone(),
        page_size,
        sender,
    ));
    let mut decoder = CsvDecoder::new();
    let mut converter = PageConverter {
        layout,
        binding: None,
        rows: 0,
        buffer: Vec::with_capacity(2048),
        keys: RecordKeys::default(),
    };
    let result: Result<(), DownloadError<S::Error>> = async {
        while let Some(event) = receiver.recv().await {
            match event? {
                Event::Page => {
                    decoder.finish(|row| converter.on_row(row, sink))?;
                    decoder = CsvDecoder::new();
                    // Every page starts with its own header row.
                    converter.binding = None;
                }
                Event::Chunk(bytes) => decoder.feed(&bytes, |row| converter.on_row(row, sink))?,
            }
        }
        decoder.finish(|row| converter.on_row(row, sink))?;
        Ok(())
    }
    .await;
    downloader.abort();
    result?;
    if let Err(e) = client.delete_query_job(&job.job.id).await {
        tracing::debug!("deleting Bulk job {}: {e}", job.job.id);
    }
    Ok(converter.rows)
}

/// Turns decoded CSV rows of one job into records.
struct PageConverter<'a> {
    layout: &'a RecordLayout,
    binding: Option<CsvBinding>,
    rows: u64,
    buffer: Vec<u8>,
    keys: RecordKeys,
}

impl PageConverter<'_> {
    fn on_row<S: RecordSink>(
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
        self.rows += 1;
        self.buffer.clear();
        self.layout
            .write_csv_record(binding, row, &mut self.buffer, &mut self.keys)
            .map_err(|source| DownloadError::Convert {
                row: self.rows,
                source,
            })?;
        sink.record(&self.buffer, &self.keys)
            .map_err(DownloadError::Sink)
    }
}

async fn download_pages(
    client: SalesforceClient,
    job_id: String,
    page_size: u64,
    sender: mpsc::Sender<Result<Event, Error>>,
) {
    let mut locator: Option<String> = None;
    loop {
        let next =
            match download_page(&client, &job_id, locator.as_deref(), page_size, &sender).await {
                Ok(next) => next,
                Err(e) => {
                    let _ = sender.send(Err(e)).await;
                    return;
                }
            };
        match next {
            Some(next) => locator = Some(next),
            None => return,
        }
    }
}

/// Sends one page (a `Page` marker, then its chunks), fetching it again from its locator when
/// the body breaks off; returns the next page's locator.
async fn download_page(
    client: &SalesforceClient,
    job_id: &str,
    locator: Option<&str>,
    page_size: u64,
    sender: &mpsc::Sender<Result<Event, Error>>,
) -> Result<Option<String>, Error> {
    let mut delivered: usize = 0;
    let mut announced = false;
    let mut attempt = 0;
    loop {
        attempt += 1;
        let page = client
            .query_job_results(job_id, locator, Some(page_size))
            .await?;
        if !announced {
            if sender.send(Ok(Event::Page)).await.is_err() {
                return Ok(None);
            }
            announced = true;
        }
        let mut body = page.body;
        let mut seen: usize = 0;
        let mut broke = None;
        while let Some(chunk) = body.next().await {
            match chunk {
                Ok(mut bytes) => {
                    let start = seen;
                    seen += bytes.len();
                    if seen <= delivered {
                        continue;
                    }
                    if start < delivered {
                        bytes = bytes.slice(delivered - start..);
                    }
                    delivered = seen;
                    if sender.send(Ok(Event::Chunk(bytes))).await.is_err() {
                        return Ok(None);
                    }
                }
                Err(e) => {
                    broke = Some(e);
                    break;
                }
            }
        }
        match broke {
            None => return Ok(page.next_locator),
            Some(e) if e.class() == ErrorClass::Transient && attempt < PAGE_ATTEMPTS => {
                tracing::warn!(
                    "Bulk job {job_id}: result page broke off after {delivered} bytes ({e}); fetching it again"
                );
                tokio::time::sleep(Duration::from_millis(50 << attempt)).await;
            }
            Some(e) => return Err(e),
        }
    }
}
