//! A Bulk query job's result pages downloaded several at once through `resultPages` (API 58.0+,
//! facts §14), emitted in page order.
//!
//! A lister task walks the job's `resultPages` answers (up to five result URLs each) and starts
//! one download per URL in order, as many at once as the [`adaptive`](super::adaptive) gate
//! allows (from one up to `max_parallel_downloads`, raised only while another download raises
//! the aggregate rate). A download that starts while no other runs is the next page the reader
//! needs (every page before it is downloaded): it streams through a small bounded channel,
//! straight to the decoder, as the locator chain does. A download that starts beside others is a
//! page ahead of the reader: it streams into its own temporary spool file, and the reader decodes
//! it from there while it is still being written, so no page is waited for whole and the pages
//! ahead wait on disk, not in memory. At most `2 × max_parallel_downloads` pages are started and
//! not yet emitted; memory holds only the chunks in flight. Records leave in the same order as
//! through the locator chain, and the STATE that follows them is never ahead of them: a kill
//! loses at most the pages in flight.

use std::io::{Read, Write};
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::Arc;
use std::time::Instant;

use bytes::Bytes;
use futures::StreamExt;
use tempfile::NamedTempFile;
use tokio::sync::{mpsc, watch, OwnedSemaphorePermit, Semaphore};

use crate::salesforce::{Error, QueryJob, ResultPages, SalesforceClient};

use crate::source::context::DownloadLevel;
use crate::source::decode::csv_stream::CsvDecoder;
use crate::source::fetch::adaptive::{Controller, Gate, Observation, Slot, TICK};
use crate::source::fetch::page::{
    refetch_page, AbortOnDrop, BodyRead, DownloadError, PageAt, PageConverter, PutBytes, Resume,
};
use crate::source::output::sink::RecordSink;

/// Bytes decoded from a spool per step.
const READ_CHUNK: usize = 64 * 1024;

/// Bytes gathered before one write to a spool file.
const SPOOL_WRITE: usize = 64 * 1024;

/// Chunks buffered between a streamed page's download and the decoder.
const STREAM_CHUNKS: usize = 16;

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

/// What the controller watches: bytes received, time the reader waited for bytes (a wait still
/// going on counts up to now), and whether a page is waiting for a download slot.
#[derive(Debug)]
struct Meter {
    epoch: Instant,
    bytes: AtomicU64,
    waited_nanos: AtomicU64,
    /// When the reader's current wait began (nanoseconds after `epoch`, plus one); 0 when it is
    /// not waiting. Whoever moves it on (the reader when the wait ends, the controller at a
    /// tick) counts the time before.
    waiting_since: AtomicU64,
    pending: AtomicBool,
}

impl Meter {
    fn new() -> Meter {
        Meter {
            epoch: Instant::now(),
            bytes: AtomicU64::new(0),
            waited_nanos: AtomicU64::new(0),
            waiting_since: AtomicU64::new(0),
            pending: AtomicBool::new(false),
        }
    }

    fn now(&self) -> u64 {
        u64::try_from(self.epoch.elapsed().as_nanos())
            .unwrap_or(u64::MAX - 1)
            .saturating_add(1)
    }

    /// Runs `wait`, counting its time as the reader's waiting.
    async fn waiting<T>(&self, wait: impl std::future::Future<Output = T>) -> T {
        self.waiting_since.store(self.now(), Ordering::Relaxed);
        let out = wait.await;
        let since = self.waiting_since.swap(0, Ordering::Relaxed);
        if since != 0 {
            let spent = self.now().saturating_sub(since);
            self.waited_nanos.fetch_add(spent, Ordering::Relaxed);
        }
        out
    }

    /// The waiting since the last call, the wait going on included.
    fn take_waited(&self) -> u64 {
        let mut waited = self.waited_nanos.swap(0, Ordering::Relaxed);
        let since = self.waiting_since.load(Ordering::Relaxed);
        if since != 0 {
            let now = self.now();
            if self
                .waiting_since
                .compare_exchange(since, now, Ordering::Relaxed, Ordering::Relaxed)
                .is_ok()
            {
                waited += now.saturating_sub(since);
            }
        }
        waited
    }
}

/// Why one page's download failed.
enum SpoolError {
    Api(Error),
    File(std::io::Error),
}

/// How far a spooled page's download has got: bytes in its spool, and whether the body is
/// complete.
type Progress = (u64, bool);

/// Where a started page's bytes go.
enum Source {
    /// Straight to the decoder through a bounded channel (closed when the body ends).
    Stream(mpsc::Receiver<Bytes>),
    /// Into a spool file (deleted when dropped), read back as it grows.
    Spool {
        _spool: NamedTempFile,
        reader: std::fs::File,
        progress: watch::Receiver<Progress>,
    },
}

/// The writing end of a [`Source`].
enum Destination {
    Stream(mpsc::Sender<Bytes>),
    Spool {
        file: std::fs::File,
        /// Bytes not yet written: the download's chunks are small (a few KiB each), so they
        /// reach the file, and the reader's wake-up, [`SPOOL_WRITE`] bytes at a time.
        pending: Vec<u8>,
        progress: watch::Sender<Progress>,
    },
}

impl PutBytes for Destination {
    type Error = SpoolError;

    /// Passes on one chunk; false when the reader is gone.
    async fn put(&mut self, bytes: Bytes) -> Result<bool, SpoolError> {
        match self {
            Destination::Stream(sender) => Ok(sender.send(bytes).await.is_ok()),
            Destination::Spool { pending, .. } => {
                pending.extend_from_slice(&bytes);
                if pending.len() >= SPOOL_WRITE {
                    self.flush()?;
                }
                Ok(true)
            }
        }
    }
}

impl Destination {
    /// Writes what is pending to the spool and tells the reader.
    fn flush(&mut self) -> Result<(), SpoolError> {
        if let Destination::Spool {
            file,
            pending,
            progress,
        } = self
        {
            if !pending.is_empty() {
                file.write_all(pending).map_err(SpoolError::File)?;
                progress.send_modify(|p| p.0 += pending.len() as u64);
                pending.clear();
            }
        }
        Ok(())
    }

    /// The page is whole: the last bytes written, the reader told.
    fn complete(&mut self) -> Result<(), SpoolError> {
        self.flush()?;
        if let Destination::Spool { progress, .. } = self {
            progress.send_modify(|p| p.1 = true);
        }
        Ok(())
    }
}

/// One page, started: where its bytes arrive, its download.
struct StartedPage {
    url: String,
    source: Source,
    download: AbortOnDrop<Result<Option<u64>, SpoolError>>,
    /// Held until the page is emitted: bounds the pages started ahead of the reader.
    _window: OwnedSemaphorePermit,
}

/// A job's result pages, listed and downloading: started when the job is read, or earlier,
/// while the read's previous job is still being emitted (see [`start_pages`]).
pub(crate) struct JobPages {
    job_id: String,
    receiver: mpsc::Receiver<Result<StartedPage, SpoolError>>,
    meter: Arc<Meter>,
    /// Set when the reader takes the job: from then on a download that starts alone streams.
    current: watch::Sender<bool>,
    /// True once the reader has the job and every page has started downloading (the read's
    /// next job may start).
    downloaded: watch::Receiver<bool>,
    _lister: AbortOnDrop<()>,
    _controller: AbortOnDrop<()>,
}

impl JobPages {
    /// True once the reader has the job and every page has started downloading; closed when
    /// the job's pages stop being listed without that (a failure).
    pub(crate) fn downloaded(&self) -> watch::Receiver<bool> {
        self.downloaded.clone()
    }
}

/// Starts listing and downloading the pages listed by `first` and the answers after it, up to
/// `most` at once; `learned` is the level the job starts at, and holds the level it reaches for
/// the next job. Until the job is [emitted](emit_pages), every page goes to a spool.
pub(crate) fn start_pages(
    client: &SalesforceClient,
    job_id: &str,
    first: ResultPages,
    most: usize,
    learned: &Arc<DownloadLevel>,
) -> JobPages {
    let most = most.max(1);
    let gate = Gate::new(learned.level.load(Ordering::Relaxed).clamp(1, most));
    let meter = Arc::new(Meter::new());
    let (current, taken) = watch::channel(false);
    let (sender, receiver) = mpsc::channel(2 * most);
    let (downloaded_sender, downloaded) = watch::channel(false);
    let lister = AbortOnDrop(tokio::spawn(list_pages(
        client.clone(),
        job_id.to_string(),
        first,
        Lister {
            window: Arc::new(Semaphore::new(2 * most)),
            gate: gate.clone(),
            meter: meter.clone(),
            taken,
            downloaded: downloaded_sender,
        },
        sender,
    )));
    let controller = AbortOnDrop(tokio::spawn(control(
        most,
        gate,
        meter.clone(),
        learned.clone(),
        current.subscribe(),
    )));
    JobPages {
        job_id: job_id.to_string(),
        receiver,
        meter,
        current,
        downloaded,
        _lister: lister,
        _controller: controller,
    }
}

/// Emits the pages of a started job in page order, as their downloads deliver them.
pub(crate) async fn emit_pages<S: RecordSink>(
    client: &SalesforceClient,
    pages: JobPages,
    converter: &mut PageConverter<'_>,
    sink: &mut S,
) -> Result<(), DownloadError<S::Error>> {
    let JobPages {
        job_id,
        mut receiver,
        meter,
        current,
        ..
    } = pages;
    let job_id = job_id.as_str();
    current.send_replace(true);
    // Allocated when a page is first read from a spool (a read at one download has none).
    let mut buffer = Vec::new();
    while let Some(page) = meter.waiting(receiver.recv()).await {
        let mut page = page.map_err(|e| spool_failure(job_id, e))?;
        let mut decoder = CsvDecoder::new();
        converter.start_page(0);
        let expected = decode_page(
            job_id,
            &mut page,
            &meter,
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

/// Adjusts the gate's level every tick from what the downloads yielded, and keeps the level
/// confirmed so far in `learned`.
async fn control(
    most: usize,
    gate: Arc<Gate>,
    meter: Arc<Meter>,
    learned: Arc<DownloadLevel>,
    mut taken: watch::Receiver<bool>,
) {
    // A job started early keeps its first level until the reader takes it, then goes on from
    // what the job before it learned (which it alone updates meanwhile).
    if taken.wait_for(|taken| *taken).await.is_err() {
        return;
    }
    let mut controller = Controller::resume(
        learned.level.load(Ordering::Relaxed),
        learned.failures.load(Ordering::Relaxed),
        most,
    );
    gate.set_level(controller.confirmed());
    let _ = meter.take_waited();
    meter.bytes.store(0, Ordering::Relaxed);
    let mut ticks = tokio::time::interval(TICK);
    ticks.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    ticks.tick().await;
    let mut last = Instant::now();
    loop {
        ticks.tick().await;
        let elapsed = last.elapsed().as_secs_f64().max(1e-3);
        last = Instant::now();
        let now = gate.now();
        let seen = Observation {
            rate: meter.bytes.swap(0, Ordering::Relaxed) as f64 / elapsed,
            waited: meter.take_waited() as f64 / 1e9 / elapsed,
            active: now.active,
            pending: meter.pending.load(Ordering::Relaxed),
        };
        let level = controller.tick(seen);
        if level != now.level {
            tracing::debug!(
                "result downloads: {} at once ({:.1} MB/s received, reader waited {:.0}% of the last {:.2} s)",
                level,
                seen.rate / 1e6,
                seen.waited * 100.0,
                elapsed
            );
            gate.set_level(level);
        }
        learned
            .level
            .store(controller.confirmed(), Ordering::Relaxed);
        learned
            .failures
            .store(controller.failures(), Ordering::Relaxed);
    }
}

/// Decodes `page` as its download delivers it; returns the page's announced row count once the
/// download is complete.
async fn decode_page<S: RecordSink>(
    job_id: &str,
    page: &mut StartedPage,
    meter: &Meter,
    buffer: &mut Vec<u8>,
    decoder: &mut CsvDecoder,
    converter: &mut PageConverter<'_>,
    sink: &mut S,
) -> Result<Option<u64>, DownloadError<S::Error>> {
    match &mut page.source {
        Source::Stream(chunks) => loop {
            let bytes = match chunks.try_recv() {
                Ok(bytes) => bytes,
                Err(mpsc::error::TryRecvError::Empty) => match meter.waiting(chunks.recv()).await {
                    Some(bytes) => bytes,
                    None => return finished(job_id, &mut page.download).await,
                },
                Err(mpsc::error::TryRecvError::Disconnected) => {
                    return finished(job_id, &mut page.download).await
                }
            };
            decoder.feed(&bytes, |row| converter.on_row(row, sink))?;
        },
        Source::Spool {
            reader, progress, ..
        } => {
            let mut offset = 0u64;
            if buffer.is_empty() {
                buffer.resize(READ_CHUNK, 0);
            }
            loop {
                let (written, done) = *progress.borrow_and_update();
                if offset < written {
                    let want = usize::try_from(written - offset)
                        .unwrap_or(usize::MAX)
                        .min(buffer.len());
                    let n = reader
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
                    // A spool read never waits, so without this the reader would keep the
                    // runtime's thread while it drains a spool, and the downloads (whose
                    // connections are what is being waited for) would stall meanwhile.
                    tokio::task::yield_now().await;
                    continue;
                }
                if done {
                    return finished(job_id, &mut page.download).await;
                }
                if meter.waiting(progress.changed()).await.is_err() {
                    // The download ended without completing the page: its result says why.
                    finished::<S::Error>(job_id, &mut page.download).await?;
                    return Err(spool_failure(
                        job_id,
                        SpoolError::File(std::io::ErrorKind::UnexpectedEof.into()),
                    ));
                }
            }
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

/// What the lister starts pages within.
struct Lister {
    /// Pages started and not yet emitted.
    window: Arc<Semaphore>,
    /// Downloads at once.
    gate: Arc<Gate>,
    meter: Arc<Meter>,
    /// True once the reader has taken the job.
    taken: watch::Receiver<bool>,
    /// Set once the reader has the job and every page is started.
    downloaded: watch::Sender<bool>,
}

/// Walks the `resultPages` answers and starts each page's download in order, within the
/// bounds; hands the started pages to the reader.
async fn list_pages(
    client: SalesforceClient,
    job_id: String,
    first: ResultPages,
    lister: Lister,
    sender: mpsc::Sender<Result<StartedPage, SpoolError>>,
) {
    let mut answer = first;
    loop {
        for entry in std::mem::take(&mut answer.result_pages) {
            let started = start_page(&client, &job_id, entry.result_url, &lister).await;
            if sender.send(started).await.is_err() {
                return;
            }
        }
        let next = match answer.next_records_url.take() {
            Some(next) if !answer.done => next,
            _ => {
                // The next job may start downloading once this one is the reader's and every
                // page of it has started (at most two jobs download or wait on disk at once):
                // where downloads pay off, a job's last pages then do not leave connections
                // idle. At one download at a time (a server limited by its CPU) the next job
                // waits for the last download to end instead, as the locator chain would.
                let mut taken = lister.taken.clone();
                let _ = taken.wait_for(|taken| *taken).await;
                if lister.gate.now().level == 1 {
                    lister.gate.idle().await;
                }
                let _ = lister.downloaded.send(true);
                return;
            }
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

/// Waits for room (a window slot, then a download slot), then starts downloading `url`:
/// streamed when no other download runs and the reader has the job (or takes one page at a
/// time), else spooled.
async fn start_page(
    client: &SalesforceClient,
    job_id: &str,
    url: String,
    lister: &Lister,
) -> Result<StartedPage, SpoolError> {
    let closed = |_| SpoolError::File(std::io::Error::other("download slots closed"));
    let window = lister
        .window
        .clone()
        .acquire_owned()
        .await
        .map_err(closed)?;
    lister.meter.pending.store(true, Ordering::Relaxed);
    let (slot, others) = lister.gate.acquire().await;
    lister.meter.pending.store(false, Ordering::Relaxed);
    let alone = others == 0 && (*lister.taken.borrow() || lister.gate.now().level == 1);
    let (source, destination) = if alone {
        let (sender, receiver) = mpsc::channel(STREAM_CHUNKS);
        (Source::Stream(receiver), Destination::Stream(sender))
    } else {
        let spool = NamedTempFile::new().map_err(SpoolError::File)?;
        let reader = spool.reopen().map_err(SpoolError::File)?;
        let file = spool.as_file().try_clone().map_err(SpoolError::File)?;
        let (progress_sender, progress) = watch::channel((0, false));
        (
            Source::Spool {
                _spool: spool,
                reader,
                progress,
            },
            Destination::Spool {
                file,
                pending: Vec::with_capacity(SPOOL_WRITE),
                progress: progress_sender,
            },
        )
    };
    let download = AbortOnDrop(tokio::spawn(download_page(
        client.clone(),
        job_id.to_string(),
        url.clone(),
        destination,
        lister.meter.clone(),
        slot,
    )));
    Ok(StartedPage {
        url,
        source,
        download,
        _window: window,
    })
}

/// Downloads one page into `destination`; a body that breaks off is fetched again and the bytes
/// already passed on skipped (result pages are stored files). Returns `Sforce-NumberOfRecords`.
async fn download_page(
    client: SalesforceClient,
    job_id: String,
    url: String,
    mut destination: Destination,
    meter: Arc<Meter>,
    _slot: Slot,
) -> Result<Option<u64>, SpoolError> {
    let mut resume = Resume::default();
    let mut attempt = 0;
    loop {
        attempt += 1;
        let page = client
            .query_job_result_url(&job_id, &url)
            .await
            .map_err(SpoolError::Api)?;
        let body = page.body.inspect(|chunk| {
            if let Ok(bytes) = chunk {
                meter.bytes.fetch_add(bytes.len() as u64, Ordering::Relaxed);
            }
        });
        match resume.read(body, &mut destination).await? {
            BodyRead::Complete => {
                destination.complete()?;
                return Ok(page.number_of_records);
            }
            BodyRead::Stopped => return Ok(None),
            BodyRead::BrokeOff(e) => resume
                .again_after(&job_id, attempt, e)
                .await
                .map_err(SpoolError::Api)?,
        }
    }
}
