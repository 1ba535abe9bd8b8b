//! A Bulk query job's result pages downloaded several at once through `resultPages` (API 58.0+,
//! facts §14), emitted in page order.
//!
//! A lister task walks the job's `resultPages` answers (up to five result URLs each) and starts
//! one download per URL, at most `parallel` at once. Every download streams its body into its
//! own temporary spool file as it arrives; the reader takes the pages in order and decodes each
//! from its spool while it is still being written, so the page being emitted is never waited
//! for whole, and the pages ahead of it wait on disk, not in memory. At most `2 × parallel`
//! pages are started and not yet emitted (the spools on disk at once); memory holds only the
//! chunks in flight. Records therefore leave in the same order as through the locator chain,
//! and the STATE that follows them is never ahead of them: a kill loses at most the pages in
//! flight.

use std::io::{Read, Write};
use std::sync::Arc;
use std::time::Duration;

use futures::StreamExt;
use tempfile::NamedTempFile;
use tokio::sync::{mpsc, watch, OwnedSemaphorePermit, Semaphore};

use crate::salesforce::{Error, ErrorClass, QueryJob, ResultPages, SalesforceClient};

use crate::source::decode::csv_stream::CsvDecoder;
use crate::source::fetch::page::{
    refetch_page, AbortOnDrop, DownloadError, PageAt, PageConverter, PAGE_ATTEMPTS,
};
use crate::source::output::sink::RecordSink;

/// Bytes decoded from a spool per step.
const READ_CHUNK: usize = 256 * 1024;

/// The first API version with `resultPages`.
const RESULT_PAGES_SINCE: f64 = 58.0;

/// True when `job` was created through an API version that has `resultPages`.
pub(crate) fn offers_result_pages(client: &SalesforceClient, job: &QueryJob) -> bool {
    let version = job
        .extra
        .get("apiVersion")
        .and_then(serde_json::Value::as_f64)
        .or_else(|| client.api_version().parse().ok());
    version.is_some_and(|v| v >= RESULT_PAGES_SINCE)
}

/// True when Salesforce answered `resultPages` with a refusal (absent endpoint, older version,
/// not allowed): the job is then read through the locator chain.
pub(crate) fn is_refusal(e: &Error) -> bool {
    matches!(e.status(), Some(400 | 403 | 404 | 405 | 409 | 501))
}

/// Why one page's download failed.
enum SpoolError {
    Api(Error),
    File(std::io::Error),
}

/// How far a page's download has got: bytes in its spool, and whether the body is complete.
type Progress = (u64, bool);

/// One page, started: its spool (deleted when dropped), a reader of it, its download.
struct SpooledPage {
    url: String,
    _spool: NamedTempFile,
    reader: std::fs::File,
    progress: watch::Receiver<Progress>,
    download: AbortOnDrop<Result<Option<u64>, SpoolError>>,
    /// Held until the page is emitted: bounds the pages started ahead of the reader.
    _window: OwnedSemaphorePermit,
}

/// Emits every page listed by `first` and the answers after it, in page order, downloading up
/// to `parallel` at once.
pub(crate) async fn emit_result_pages<S: RecordSink>(
    client: &SalesforceClient,
    job_id: &str,
    first: ResultPages,
    parallel: usize,
    converter: &mut PageConverter<'_>,
    sink: &mut S,
) -> Result<(), DownloadError<S::Error>> {
    let parallel = parallel.max(1);
    let (sender, mut receiver) = mpsc::channel(2 * parallel);
    let _lister = AbortOnDrop(tokio::spawn(list_pages(
        client.clone(),
        job_id.to_string(),
        first,
        parallel,
        sender,
    )));
    let mut buffer = vec![0u8; READ_CHUNK];
    while let Some(page) = receiver.recv().await {
        let mut page = page.map_err(|e| spool_failure(job_id, e))?;
        let mut decoder = CsvDecoder::new();
        converter.start_page(0);
        let expected = decode_spool(
            job_id,
            &mut page,
            &mut buffer,
            &mut decoder,
            converter,
            sink,
        )
        .await?;
        if !converter.finish_page(&mut decoder, sink, expected)? {
            tracing::warn!(
                "Bulk job {job_id}: a result page arrived with {} of its {} rows; fetching it again",
                converter.page_rows,
                expected.unwrap_or_default()
            );
            refetch_page(
                client,
                job_id,
                &PageAt::Url(&page.url),
                expected,
                converter,
                sink,
            )
            .await?;
        }
    }
    Ok(())
}

/// Decodes `page` from its spool as its download writes it; returns the page's announced row
/// count once the download is complete.
async fn decode_spool<S: RecordSink>(
    job_id: &str,
    page: &mut SpooledPage,
    buffer: &mut [u8],
    decoder: &mut CsvDecoder,
    converter: &mut PageConverter<'_>,
    sink: &mut S,
) -> Result<Option<u64>, DownloadError<S::Error>> {
    let mut offset = 0u64;
    loop {
        let (written, done) = *page.progress.borrow_and_update();
        if offset < written {
            let want = usize::try_from(written - offset)
                .unwrap_or(usize::MAX)
                .min(buffer.len());
            let n = page
                .reader
                .read(&mut buffer[..want])
                .map_err(|e| spool_failure(job_id, SpoolError::File(e)))?;
            if n == 0 {
                return Err(spool_failure(
                    job_id,
                    SpoolError::File(std::io::ErrorKind::UnexpectedEof.into()),
                ));
            }
            offset += n as u64;
            decoder.feed(&buffer[..n], |row| converter.on_row(row, sink))?;
            continue;
        }
        if done {
            let expected = finished(job_id, &mut page.download).await?;
            return Ok(expected);
        }
        if page.progress.changed().await.is_err() {
            // The download ended without completing the page: its result says why.
            finished::<S::Error>(job_id, &mut page.download).await?;
            return Err(spool_failure(
                job_id,
                SpoolError::File(std::io::ErrorKind::UnexpectedEof.into()),
            ));
        }
    }
}

/// The result of a page's download task, awaited once.
async fn finished<E>(
    job_id: &str,
    download: &mut AbortOnDrop<Result<Option<u64>, SpoolError>>,
) -> Result<Option<u64>, DownloadError<E>> {
    let result = download.await.map_err(|e| {
        spool_failure(
            job_id,
            SpoolError::File(std::io::Error::other(format!("download task: {e}"))),
        )
    })?;
    result.map_err(|e| spool_failure(job_id, e))
}

fn spool_failure<E>(job_id: &str, e: SpoolError) -> DownloadError<E> {
    match e {
        SpoolError::Api(e) => DownloadError::Api(e),
        SpoolError::File(source) => DownloadError::Spool {
            job_id: job_id.to_string(),
            source,
        },
    }
}

/// Walks the `resultPages` answers and starts each page's download in order, within the
/// bounds; hands the started pages to the reader.
async fn list_pages(
    client: SalesforceClient,
    job_id: String,
    first: ResultPages,
    parallel: usize,
    sender: mpsc::Sender<Result<SpooledPage, SpoolError>>,
) {
    let downloads = Arc::new(Semaphore::new(parallel));
    let window = Arc::new(Semaphore::new(2 * parallel));
    let mut answer = first;
    loop {
        for entry in std::mem::take(&mut answer.result_pages) {
            let started = start_page(&client, &job_id, entry.result_url, &downloads, &window).await;
            if sender.send(started).await.is_err() {
                return;
            }
        }
        let next = match answer.next_records_url.take() {
            Some(next) if !answer.done => next,
            _ => return,
        };
        answer = match client.query_result_pages(&job_id, Some(&next)).await {
            Ok(answer) => answer,
            Err(e) => {
                let _ = sender.send(Err(SpoolError::Api(e))).await;
                return;
            }
        };
    }
}

/// Waits for room (a window slot, then a download slot), then starts downloading `url`.
async fn start_page(
    client: &SalesforceClient,
    job_id: &str,
    url: String,
    downloads: &Arc<Semaphore>,
    window: &Arc<Semaphore>,
) -> Result<SpooledPage, SpoolError> {
    let closed = |_| SpoolError::File(std::io::Error::other("download slots closed"));
    let window = window.clone().acquire_owned().await.map_err(closed)?;
    let slot = downloads.clone().acquire_owned().await.map_err(closed)?;
    let spool = NamedTempFile::new().map_err(SpoolError::File)?;
    let reader = spool.reopen().map_err(SpoolError::File)?;
    let writer = spool.as_file().try_clone().map_err(SpoolError::File)?;
    let (progress_sender, progress) = watch::channel((0, false));
    let download = AbortOnDrop(tokio::spawn(spool_page(
        client.clone(),
        job_id.to_string(),
        url.clone(),
        writer,
        progress_sender,
        slot,
    )));
    Ok(SpooledPage {
        url,
        _spool: spool,
        reader,
        progress,
        download,
        _window: window,
    })
}

/// Downloads one page into its spool; a body that breaks off is fetched again and the bytes
/// already spooled skipped (result pages are stored files). Returns `Sforce-NumberOfRecords`.
async fn spool_page(
    client: SalesforceClient,
    job_id: String,
    url: String,
    mut spool: std::fs::File,
    progress: watch::Sender<Progress>,
    _slot: OwnedSemaphorePermit,
) -> Result<Option<u64>, SpoolError> {
    let mut delivered: u64 = 0;
    let mut attempt = 0;
    loop {
        attempt += 1;
        let page = client
            .query_job_result_url(&job_id, &url)
            .await
            .map_err(SpoolError::Api)?;
        let mut body = page.body;
        let mut seen: u64 = 0;
        let mut broke = None;
        while let Some(chunk) = body.next().await {
            match chunk {
                Ok(mut bytes) => {
                    let start = seen;
                    seen += bytes.len() as u64;
                    if seen <= delivered {
                        continue;
                    }
                    if start < delivered {
                        bytes = bytes.slice(usize::try_from(delivered - start).unwrap_or(0)..);
                    }
                    spool.write_all(&bytes).map_err(SpoolError::File)?;
                    delivered = seen;
                    progress.send_modify(|p| p.0 = delivered);
                }
                Err(e) => {
                    broke = Some(e);
                    break;
                }
            }
        }
        match broke {
            None => {
                progress.send_modify(|p| p.1 = true);
                return Ok(page.number_of_records);
            }
            Some(e) if e.class() == ErrorClass::Transient && attempt < PAGE_ATTEMPTS => {
                tracing::warn!(
                    "Bulk job {job_id}: result page broke off after {delivered} bytes ({e}); fetching it again"
                );
                tokio::time::sleep(Duration::from_millis(50 << attempt)).await;
            }
            Some(e) => return Err(SpoolError::Api(e)),
        }
    }
}
