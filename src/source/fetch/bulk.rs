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
//!
//! When the job's API version has `resultPages` and more than one download is allowed, the pages
//! are downloaded several at once instead, as many as pay off ([`result_pages`](super::result_pages)); a refusal of
//! that endpoint (404 where it does not exist) falls back to the locator chain, for this job and
//! the rest of the read.

use std::convert::Infallible;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;

use bytes::Bytes;
use tokio::sync::mpsc;

use crate::salesforce::{Error, QueryJob, QueryOperation, SalesforceClient};

use crate::source::context::{DownloadLevel, ReadContext};
use crate::source::decode::convert::RecordLayout;
use crate::source::decode::csv_stream::CsvDecoder;
use crate::source::fetch::page::{
    refetch_page, AbortOnDrop, BodyRead, DownloadError, PageAt, PageConverter, PutBytes, Resume,
};
use crate::source::fetch::result_pages::{
    emit_pages, is_refusal, offers_result_pages, start_pages, JobPages,
};
use crate::source::output::sink::RecordSink;

/// Chunks of result bytes buffered between the downloader and the converter.
const CHANNEL_CHUNKS: usize = 16;

/// Why a job could not be prepared.
#[derive(Debug)]
pub(crate) enum PrepareError {
    /// Salesforce refused the job, or the job failed: read the query through REST instead.
    FallBack(Error),
    /// Any other failure.
    Other(Error),
}

/// A completed job, ready to download.
pub(crate) struct PreparedJob {
    pub job: QueryJob,
    /// Its result pages, already downloading (see [`start_early`]).
    pub early: Option<JobPages>,
}

impl std::fmt::Debug for PreparedJob {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("PreparedJob")
            .field("job", &self.job)
            .field("early", &self.early.is_some())
            .finish()
    }
}

/// Creates a `queryAll` job for `soql` and waits until it completes.
pub(crate) async fn prepare_job(
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
    match client.wait_for_job::<QueryJob>(&job.id).await {
        Ok(job) => Ok(PreparedJob { job, early: None }),
        Err(e @ Error::JobFailed { .. }) => Err(PrepareError::FallBack(e)),
        Err(e) => Err(PrepareError::Other(e)),
    }
}

enum Event {
    /// A result page starts (its first line is the CSV header).
    Page {
        locator: Option<String>,
        expected: Option<u64>,
    },
    Chunk(Bytes),
    /// The page's body is complete; `next` is the following page's locator.
    PageEnd {
        next: Option<String>,
    },
}

fn spawn_downloader(
    client: &SalesforceClient,
    job_id: &str,
    page_size: u64,
    from: Option<String>,
) -> (AbortOnDrop<()>, mpsc::Receiver<Result<Event, Error>>) {
    let (sender, receiver) = mpsc::channel::<Result<Event, Error>>(CHANNEL_CHUNKS);
    let handle = tokio::spawn(download_pages(
        client.clone(),
        job_id.to_string(),
        page_size,
        from,
        sender,
    ));
    (AbortOnDrop(handle), receiver)
}

/// How a job's result pages are downloaded.
struct Downloads<'a> {
    /// `maxRecords` of a page read by locator.
    pub page_size: u64,
    /// Most pages downloaded at once through `resultPages`; 1 follows the locator chain.
    pub parallel: usize,
    /// Pages downloaded at once that paid off in the read's previous job (where the next starts).
    pub learned: &'a Arc<DownloadLevel>,
    /// Set once Salesforce refused `resultPages`: the read's later jobs go by locator at once.
    pub refused: &'a AtomicBool,
}

impl Downloads<'_> {
    /// The read's settings for downloading result pages.
    fn of(ctx: &ReadContext) -> Downloads<'_> {
        Downloads {
            page_size: ctx.settings.bulk_page_size,
            parallel: ctx.settings.max_parallel_downloads,
            learned: &ctx.download_level,
            refused: &ctx.result_pages_refused,
        }
    }
}

/// Starts downloading `job`'s result pages before the job is read, once `after` lets it (the
/// read's previous job: true once that job is being read and all its pages have started
/// downloading; closed when it is not read that way): the downloads of consecutive jobs then
/// overlap instead of pausing while the previous job's last pages download and are emitted and
/// the job is deleted and counted. Each job keeps its own `max_parallel_downloads`. Nothing
/// starts when the job's pages would follow the locator chain, or when `resultPages` is refused
/// (the job is then read as usual).
pub(crate) async fn start_early(
    ctx: &ReadContext,
    job: &mut PreparedJob,
    after: Option<tokio::sync::watch::Receiver<bool>>,
) {
    let (client, downloads) = (&ctx.client, &Downloads::of(ctx));
    if !uses_result_pages(client, &job.job, downloads) {
        return;
    }
    if let Some(mut after) = after {
        // An error means the previous job will not download through resultPages: go now.
        let _ = after.wait_for(|done| *done).await;
    }
    match begin_result_pages(client, &job.job, downloads).await {
        Ok(pages) => job.early = pages,
        Err(e) => tracing::debug!(
            "Bulk job {}: resultPages not started early ({e}); it is asked again when the job is read",
            job.job.id
        ),
    }
}

/// Whether `job`'s pages are downloaded through `resultPages` (more than one download allowed,
/// the endpoint not refused earlier in the read, the job's API version offering it).
fn uses_result_pages(client: &SalesforceClient, job: &QueryJob, downloads: &Downloads<'_>) -> bool {
    downloads.parallel > 1
        && !downloads.refused.load(Ordering::Relaxed)
        && offers_result_pages(client, job)
}

/// Lists `job`'s first result pages and starts their downloads. `None` when the pages follow the
/// locator chain instead: `resultPages` not used for this job, or refused by Salesforce (then
/// for the rest of the read, with a warning).
async fn begin_result_pages(
    client: &SalesforceClient,
    job: &QueryJob,
    downloads: &Downloads<'_>,
) -> Result<Option<JobPages>, Error> {
    if !uses_result_pages(client, job, downloads) {
        return Ok(None);
    }
    match client.query_result_pages(&job.id, None).await {
        Ok(first) => Ok(Some(start_pages(
            client,
            &job.id,
            first,
            downloads.parallel,
            downloads.learned,
        ))),
        Err(e) if is_refusal(&e) => {
            downloads.refused.store(true, Ordering::Relaxed);
            tracing::warn!(
                "Bulk job {}: Salesforce refused resultPages ({e}); downloading result pages one at a time by locator",
                job.id
            );
            Ok(None)
        }
        Err(e) => Err(e),
    }
}

/// Streams every result page of `job` through `layout` into `sink`. Returns the number of rows.
///
/// Every page's row count is checked against its `Sforce-NumberOfRecords`: a page that arrives
/// short (a body cut off yet ended as if complete) is fetched again from its locator, the rows
/// already emitted skipped, and its unfinished last row never emitted.
pub(crate) async fn download_job<S: RecordSink>(
    ctx: &ReadContext,
    job: &mut PreparedJob,
    layout: &RecordLayout,
    sink: &mut S,
) -> Result<u64, DownloadError<S::Error>> {
    let (client, downloads) = (&ctx.client, &Downloads::of(ctx));
    if let Some(rows) = job.job.number_records_processed {
        sink.estimate(rows).map_err(DownloadError::Sink)?;
    }
    let job_id = job.job.id.as_str();
    let page_size = downloads.page_size;
    let mut converter = PageConverter::new(layout);
    let pages = match job.early.take() {
        Some(pages) => Some(pages),
        None => begin_result_pages(client, &job.job, downloads).await?,
    };
    if let Some(pages) = pages {
        emit_pages(client, pages, &mut converter, sink).await?;
        finish_job(client, job_id).await;
        return Ok(converter.rows);
    }
    let (first, mut receiver) = spawn_downloader(client, job_id, page_size, None);
    let mut downloader = Some(first);
    let mut decoder = CsvDecoder::new();
    let mut page: (Option<String>, Option<u64>) = (None, None);
    while let Some(event) = receiver.recv().await {
        match event? {
            Event::Page { locator, expected } => {
                decoder = CsvDecoder::new();
                converter.start_page(0);
                page = (locator, expected);
            }
            Event::Chunk(bytes) => decoder.feed(&bytes, |row| converter.on_row(row, sink))?,
            Event::PageEnd { next } => {
                if !converter.finish_page(&mut decoder, sink, page.1)? {
                    downloader = None;
                    tracing::warn!(
                        "Bulk job {job_id}: a result page arrived with {} of its {} rows; fetching it again",
                        converter.page_rows,
                        page.1.unwrap_or_default()
                    );
                    refetch_page(
                        client,
                        job_id,
                        &PageAt::Locator(page.0.as_deref(), page_size),
                        page.1,
                        &mut converter,
                        sink,
                    )
                    .await?;
                    match next {
                        Some(next) => {
                            let (next_downloader, next_receiver) =
                                spawn_downloader(client, job_id, page_size, Some(next));
                            downloader = Some(next_downloader);
                            receiver = next_receiver;
                        }
                        None => break,
                    }
                }
            }
        }
    }
    drop(downloader);
    finish_job(client, job_id).await;
    Ok(converter.rows)
}

/// Deletes a job whose results were all read.
async fn finish_job(client: &SalesforceClient, job_id: &str) {
    if let Err(e) = client.delete_job::<QueryJob>(job_id).await {
        tracing::debug!("deleting Bulk job {job_id}: {e}");
    }
}

async fn download_pages(
    client: SalesforceClient,
    job_id: String,
    page_size: u64,
    from: Option<String>,
    sender: mpsc::Sender<Result<Event, Error>>,
) {
    let mut locator: Option<String> = from;
    loop {
        let next =
            match download_page(&client, &job_id, locator.as_deref(), page_size, &sender).await {
                Ok(next) => next,
                Err(e) => {
                    let _ = sender.send(Err(e)).await;
                    return;
                }
            };
        let end = Event::PageEnd { next: next.clone() };
        if sender.send(Ok(end)).await.is_err() {
            return;
        }
        match next {
            Some(next) => locator = Some(next),
            None => return,
        }
    }
}

/// The downloader's side of the channel, for a page body's chunks.
struct ChunksTo<'a>(&'a mpsc::Sender<Result<Event, Error>>);

impl PutBytes for ChunksTo<'_> {
    type Error = Infallible;

    async fn put(&mut self, bytes: Bytes) -> Result<bool, Infallible> {
        Ok(self.0.send(Ok(Event::Chunk(bytes))).await.is_ok())
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
    let mut resume = Resume::default();
    let mut announced = false;
    let mut attempt = 0;
    loop {
        attempt += 1;
        let page = client
            .query_job_results(job_id, locator, Some(page_size))
            .await?;
        if !announced {
            let start = Event::Page {
                locator: locator.map(str::to_string),
                expected: page.number_of_records,
            };
            if sender.send(Ok(start)).await.is_err() {
                return Ok(None);
            }
            announced = true;
        }
        match resume.read(page.body, &mut ChunksTo(sender)).await {
            Ok(BodyRead::Complete) => return Ok(page.next_locator),
            Ok(BodyRead::Stopped) => return Ok(None),
            Ok(BodyRead::BrokeOff(e)) => resume.again_after(job_id, attempt, e).await?,
            Err(never) => match never {},
        }
    }
}
