//! Reading one configured stream: describe, plan, windows, Bulk with REST fallback, hard
//! deletes, STATE.
//!
//! Incremental streams read their windows in order; the Bulk jobs of the next windows are created
//! and polled in the background (up to `num_workers` ahead) while the current window downloads,
//! so the org's job processing overlaps the transfer. Each window's records are emitted in order
//! and a STATE follows every completed window (and, inside a window, wherever it is exact; see
//! `checkpoint`).

use std::collections::HashSet;
use std::pin::Pin;
use std::sync::Arc;

use chrono::{DateTime, Utc};
use futures::StreamExt;
use serde_json::Value;
use tokio::sync::{oneshot, watch};

use crate::protocol::{ConfiguredAirbyteStream, SyncMode};
use crate::salesforce::SObjectDescribe;

use crate::salesforce::pubsub::change_event_topic;
use crate::source::cdc::{change_events_available, read_changes, CatchUp, RereadPlan};
use crate::source::context::settings::ReadSettings;
use crate::source::context::{ReadContext, Reason, StreamFailure};
use crate::source::decode::convert::{Api, LayoutField, RecordLayout};
use crate::source::decode::field_kind::FieldKind;
use crate::source::discover::describe_stream::{read_describe_stream, DESCRIBE_STREAM};
use crate::source::discover::object_filter::UNSUPPORTED_FILTERING;
use crate::source::discover::schema::{
    default_cursor, described_fields, field_kind, layout_fields, CDC_DELETED_AT,
};
use crate::source::fetch::bulk::{
    download_job, prepare_job, start_early, PrepareError, PreparedJob,
};
use crate::source::fetch::hard_deletes::emit_hard_deletes;
use crate::source::fetch::page::AbortOnDrop;
use crate::source::fetch::rest::read_rest;
use crate::source::output::checkpoint::{CheckpointSink, Progress};
use crate::source::output::emitter::StreamEmitter;
use crate::source::output::state::{FullRefreshState, IncrementalState, StreamState};
use crate::source::plan::id_ranges::{id_ranges, IdRange};
use crate::source::plan::query_build::{bulk_query, rest_chunks, QuerySpec};
use crate::source::plan::soql::{CursorWindow, Select};
use crate::source::plan::window_rows::{cut_by_rows, Counter};
use crate::source::plan::{choose_api, split_windows, WindowSettings};
use crate::source::read::window_count::{count_rows, verdict, Tally, Verdict, MAX_REREADS};

/// What the stream reads, decided from describe and the catalog.
struct StreamPlan {
    object: String,
    fields: Vec<LayoutField>,
    api: Api,
    cursor: Option<String>,
    has_id: bool,
    /// WHERE and ORDER BY on the cursor and Id work for this object.
    filterable: bool,
    replicateable: bool,
}

/// Reads one stream; on success its final STATE has been emitted.
pub(crate) async fn read_stream(
    ctx: &Arc<ReadContext>,
    configured: &ConfiguredAirbyteStream,
    blob: Option<&Value>,
    emitter: &mut StreamEmitter,
) -> Result<(), StreamFailure> {
    let name = configured.stream.name.as_str();
    if name == DESCRIBE_STREAM {
        return read_describe_stream(ctx, emitter).await;
    }
    ctx.budget.check_api_call()?;
    let describe = ctx.client.describe(name).await?;
    let plan = plan_stream(ctx, configured, &describe)?;
    let state = match blob {
        Some(blob) => StreamState::parse(name, plan.cursor.as_deref(), blob)
            .map_err(|e| StreamFailure::Config(Reason::of(e)))?,
        None => StreamState::None,
    };
    match plan.cursor.clone() {
        Some(cursor) => read_incremental(ctx, plan, cursor, state, emitter).await,
        None => read_full_refresh(ctx, plan, state, emitter).await,
    }
}

fn plan_stream(
    ctx: &ReadContext,
    configured: &ConfiguredAirbyteStream,
    describe: &SObjectDescribe,
) -> Result<StreamPlan, StreamFailure> {
    let name = configured.stream.name.as_str();
    let described = described_fields(describe);
    let has_id = described.iter().any(|f| f.name == "Id");
    let filterable = has_id && !UNSUPPORTED_FILTERING.contains(&name);
    let cursor = if configured.sync_mode == SyncMode::Incremental && filterable {
        match configured.cursor_field.as_ref().and_then(|c| c.first()) {
            Some(requested) => {
                let field = described.iter().find(|f| f.name == requested.as_str());
                match field {
                    Some(f) if field_kind(f) == FieldKind::DateTime => Some(f.name.to_string()),
                    Some(_) => {
                        return Err(StreamFailure::Config(format!(
                            "stream {name}: cursor_field {requested} is not a datetime field; use one of SystemModstamp, LastModifiedDate, CreatedDate, LoginTime"
                        ).into()))
                    }
                    None => {
                        return Err(StreamFailure::Config(format!(
                            "stream {name}: cursor_field {requested} is not a field of {name} (describe has no such field)"
                        ).into()))
                    }
                }
            }
            None => default_cursor(&described).map(str::to_string),
        }
    } else {
        None
    };
    if configured.sync_mode == SyncMode::Incremental && cursor.is_none() {
        tracing::info!("{name}: no cursor field, so the stream is read in full");
    }
    let wanted: Option<HashSet<&str>> = configured
        .stream
        .json_schema
        .get("properties")
        .and_then(Value::as_object)
        .filter(|p| !p.is_empty())
        .map(|p| p.keys().map(String::as_str).collect());
    if let Some(wanted) = &wanted {
        let unknown: Vec<&str> = wanted
            .iter()
            .copied()
            .filter(|w| *w != CDC_DELETED_AT && !described.iter().any(|f| f.name == *w))
            .collect();
        if !unknown.is_empty() {
            tracing::warn!(
                "{name}: the catalog selects field(s) {} that describe no longer lists; they are left out",
                unknown.join(", ")
            );
        }
    }
    let fields = layout_fields(&described, |field| {
        field == "Id"
            || Some(field) == cursor.as_deref()
            || wanted.as_ref().is_none_or(|w| w.contains(field))
    });
    let choice = choose_api(name, fields, ctx.settings.force_use_bulk_api);
    if let Some(note) = &choice.note {
        tracing::info!("{note}");
    }
    Ok(StreamPlan {
        object: name.to_string(),
        fields: choice.fields,
        api: choice.api,
        cursor,
        has_id,
        filterable,
        replicateable: describe.replicateable,
    })
}

impl StreamPlan {
    fn spec(&self, window: Option<CursorWindow>, after_id: Option<String>) -> QuerySpec {
        let order_by = match (&self.cursor, self.filterable) {
            (_, false) => Vec::new(),
            (Some(cursor), true) => vec![cursor.clone(), "Id".to_string()],
            (None, true) => vec!["Id".to_string()],
        };
        QuerySpec {
            select: Select {
                window,
                after_id,
                order_by,
                ..Select::new(self.object.clone(), Vec::new())
            },
            cursor: self.cursor.clone(),
            has_id: self.has_id,
        }
    }
}

/// Bulk jobs prepared in the background, in the order of their queries.
type PreparedJobs = Pin<
    Box<
        dyn futures::Stream<
                Item = Result<
                    Result<(Result<PreparedJob, PrepareError>, RecordLayout), StreamFailure>,
                    tokio::task::JoinError,
                >,
            > + Send,
    >,
>;

/// For a Bulk stream, the jobs of `specs` prepared in the background in order, up to
/// `num_workers` (at most 8) at once, each counted by the budget when it starts. A prepared job
/// starts downloading its result pages once the job before it is being read and all its pages
/// have started ([`start_early`]), so the downloads of consecutive jobs overlap.
fn prepare_ahead(
    ctx: &Arc<ReadContext>,
    plan: &StreamPlan,
    specs: &[QuerySpec],
) -> Result<Option<PreparedJobs>, StreamFailure> {
    if plan.api != Api::Bulk {
        return Ok(None);
    }
    let depth = ctx.settings.num_workers.clamp(1, 8);
    let mut queries = Vec::with_capacity(specs.len());
    for spec in specs {
        queries.push(bulk_query(&plan.fields, spec)?);
    }
    let ctx = ctx.clone();
    // Each job hands the next the signal of its pages started (None: not downloading early).
    let mut previous: Option<oneshot::Receiver<Option<watch::Receiver<bool>>>> = None;
    let stream = futures::stream::iter(queries.into_iter().map(move |(text, layout)| {
        let ctx = ctx.clone();
        let after = previous.take();
        let (hand_on, next) = oneshot::channel();
        previous = Some(next);
        AbortOnDrop(tokio::spawn(async move {
            ctx.budget
                .start_bulk_job()
                .map_err(StreamFailure::Budget)
                .map(|_| ())?;
            let mut prepared = prepare_job(&ctx.client, &text).await;
            match &mut prepared {
                Ok(job) => {
                    let after = match after {
                        Some(after) => after.await.ok().flatten(),
                        None => None,
                    };
                    start_early(&ctx, job, after).await;
                    let _ = hand_on.send(job.early.as_ref().map(|pages| pages.downloaded()));
                }
                Err(_) => drop(hand_on),
            }
            Ok::<_, StreamFailure>((prepared, layout))
        }))
    }))
    .buffered(depth);
    Ok(Some(Box::pin(stream)))
}

/// The Bulk job of `spec`: the next one prepared ahead, or (when reading it again) a new one.
/// `None` when the stream is read through REST, or has just fallen back to it because Bulk
/// refused the query.
async fn next_bulk_job(
    ctx: &ReadContext,
    plan: &mut StreamPlan,
    prepared: &mut Option<PreparedJobs>,
    spec: &QuerySpec,
    rereads: u32,
) -> Result<Option<(PreparedJob, RecordLayout)>, StreamFailure> {
    if plan.api != Api::Bulk {
        return Ok(None);
    }
    let result = if rereads == 0 {
        let next = prepared
            .as_mut()
            .expect("Bulk streams have prepared jobs")
            .next()
            .await
            .expect("one prepared job per query");
        let (result, layout) =
            next.map_err(|e| StreamFailure::Data(Reason::in_context("Bulk job task", e)))??;
        result.map(|job| (job, layout))
    } else {
        let (text, layout) = bulk_query(&plan.fields, spec)?;
        ctx.budget.start_bulk_job()?;
        prepare_job(&ctx.client, &text)
            .await
            .map(|job| (job, layout))
    };
    match result {
        Ok(job) => Ok(Some(job)),
        Err(PrepareError::FallBack(e)) => {
            tracing::warn!(
                "{}: Bulk API cannot serve this stream ({e}); reading it through REST",
                plan.object
            );
            plan.api = Api::Rest;
            *prepared = None;
            Ok(None)
        }
        Err(PrepareError::Other(e)) => Err(e.into()),
    }
}

async fn read_incremental(
    ctx: &Arc<ReadContext>,
    mut plan: StreamPlan,
    cursor: String,
    state: StreamState,
    emitter: &mut StreamEmitter,
) -> Result<(), StreamFailure> {
    let windows_of = window_settings(&ctx.settings);
    let saved = match state {
        StreamState::Incremental(s) => Some(s),
        _ => None,
    };
    let upper = windows_of.upper();
    let mut state = saved.unwrap_or_else(|| IncrementalState::starting_at(windows_of.lower(None)));
    if let Some(cdc) = &ctx.settings.change_data_capture {
        let topic = change_event_topic(&plan.object);
        if change_events_available(ctx, &plan.object, &topic).await? {
            let mut catch_up = CatchUpReader {
                ctx,
                plan: &mut plan,
                cursor: &cursor,
            };
            return read_changes(ctx, cdc, &topic, &mut catch_up, &mut state, emitter).await;
        }
    }
    let bounds = Bounds {
        upper,
        claim: upper,
        open_ended: false,
    };
    read_windows(ctx, &mut plan, &cursor, &mut state, emitter, bounds).await?;

    if ctx.settings.detect_hard_deletes && plan.replicateable {
        emit_hard_deletes(ctx, &plan.object, &cursor, upper, &mut state, emitter).await?;
    }
    emitter.state(state.to_json())?;
    Ok(())
}

fn window_settings(settings: &ReadSettings) -> WindowSettings {
    WindowSettings {
        start_date: settings.start_date,
        end_date: settings.end_date,
        step: settings.stream_slice_step,
        lookback: settings.lookback_window,
        now: settings.now,
    }
}

/// How far one pass over an incremental stream's windows reads.
#[derive(Clone, Copy, Debug)]
struct Bounds {
    /// The windows end here.
    upper: DateTime<Utc>,
    /// The state never claims more than this (below `upper` when the last window is open).
    claim: DateTime<Utc>,
    /// The last window has no upper bound that matters (a Change Data Capture hand-off: every
    /// row committed before its query runs is read; a row changed meanwhile arrives as an event
    /// too, so its count is not verified).
    open_ended: bool,
}

/// A Change Data Capture stream's snapshot and catch-ups: the stream's windows from the state's
/// end (minus the lookback) to beyond the org's current time.
struct CatchUpReader<'a> {
    ctx: &'a Arc<ReadContext>,
    plan: &'a mut StreamPlan,
    cursor: &'a str,
}

impl CatchUp for CatchUpReader<'_> {
    fn layout(&self) -> RereadPlan {
        RereadPlan {
            object: self.plan.object.clone(),
            fields: self.plan.fields.clone(),
            cursor: self.cursor.to_string(),
            has_id: self.plan.has_id,
            bulk: self.plan.api == Api::Bulk,
        }
    }

    async fn catch_up(
        &mut self,
        state: &mut IncrementalState,
        emitter: &mut StreamEmitter,
    ) -> Result<(), StreamFailure> {
        let claim = self.ctx.settings.org_now();
        let bounds = Bounds {
            upper: claim + chrono::Duration::days(1),
            claim,
            open_ended: true,
        };
        read_windows(self.ctx, self.plan, self.cursor, state, emitter, bounds).await?;
        emitter.state(state.to_json())?;
        Ok(())
    }
}

/// Reads the windows from the state's end (minus the lookback) to `bounds.upper`, emitting each
/// window's records and a STATE after it.
async fn read_windows(
    ctx: &Arc<ReadContext>,
    plan: &mut StreamPlan,
    cursor: &str,
    state: &mut IncrementalState,
    emitter: &mut StreamEmitter,
    bounds: Bounds,
) -> Result<(), StreamFailure> {
    let settings = &ctx.settings;
    let windows_of = window_settings(settings);
    let mut windows = split_windows(windows_of.lower(Some(state)), bounds.claim, windows_of.step);
    if bounds.open_ended {
        match windows.last_mut() {
            Some(last) => last.1 = bounds.upper,
            None => windows.push((windows_of.lower(Some(state)), bounds.upper)),
        }
    }
    // A Bulk read of windows holding many rows cuts them by count, so several jobs prepare at
    // once. Not a Change Data Capture catch-up (its last window reaches past now, where a count
    // means nothing) and not for REST, which has no jobs to prepare.
    if plan.api == Api::Bulk && !bounds.open_ended && settings.incremental_window_rows > 0 {
        let counter = Counter {
            client: &ctx.client,
            budget: &ctx.budget,
            object: &plan.object,
            cursor,
        };
        let fixed = windows.clone();
        windows = match cut_by_rows(&counter, windows, settings.incremental_window_rows).await {
            Ok(cut) => cut,
            // Cutting is an optimisation: a count that fails (a timeout over a huge span) leaves
            // the fixed windows.
            Err(StreamFailure::Budget(e)) => return Err(StreamFailure::Budget(e)),
            Err(e) => {
                tracing::warn!(
                    "{}: cannot count the pending windows' rows ({e}); reading them as fixed windows",
                    plan.object
                );
                fixed
            }
        };
    }
    let last_window = windows.len().saturating_sub(1);
    let mut estimated = 0u64;

    let specs: Vec<QuerySpec> = windows
        .iter()
        .map(|(start, end)| {
            plan.spec(
                Some(CursorWindow {
                    cursor_field: cursor.to_string(),
                    start: *start,
                    end: *end,
                }),
                None,
            )
        })
        .collect();
    // Bulk jobs of the coming windows, prepared in the background in window order.
    let mut prepared = prepare_ahead(ctx, plan, &specs)?;

    for (index, spec) in specs.iter().enumerate() {
        let window = spec
            .select
            .window
            .as_ref()
            .expect("incremental specs have windows");
        let mut rereads = 0u32;
        loop {
            let bulk_job = next_bulk_job(ctx, plan, &mut prepared, spec, rereads).await?;
            let mut sink = CheckpointSink {
                emitter: &mut *emitter,
                progress: Progress::Incremental {
                    state: &mut *state,
                    ordered: !spec.select.order_by.is_empty(),
                    last_cursor: String::new(),
                },
                checkpoint_every: settings.checkpoint_every,
                estimated_before: estimated,
            };
            let mut tally = Tally::new(&mut sink);
            match bulk_job {
                Some((mut job, layout)) => {
                    download_job(ctx, &mut job, &layout, &mut tally).await?;
                    estimated += job.job.number_records_processed.unwrap_or(0);
                }
                None => {
                    ctx.budget.check_api_call()?;
                    let (chunks, ordered) =
                        rest_chunks(&ctx.client, settings.max_uri_bytes, &plan.fields, spec)?;
                    if !ordered {
                        if let Progress::Incremental { ordered, .. } = &mut tally.inner().progress {
                            *ordered = false;
                        }
                    }
                    let rows = read_rest(&ctx.client, &chunks, &mut tally).await?;
                    estimated += rows;
                }
            }
            let emitted = tally.rows;
            if !settings.verify_window_counts || (bounds.open_ended && index == last_window) {
                break;
            }
            ctx.budget.check_api_call()?;
            match verdict(count_rows(&ctx.client, spec, None).await?, emitted) {
                Verdict::Complete => break,
                Verdict::Missed { counted } if rereads < MAX_REREADS => {
                    rereads += 1;
                    tracing::warn!(
                        "{}: window {} to {}: Salesforce counts {counted} rows but {emitted} were read; reading the window again ({rereads}/{MAX_REREADS})",
                        plan.object,
                        window.start,
                        window.end
                    );
                }
                Verdict::Missed { counted } => {
                    return Err(StreamFailure::Incomplete(format!(
                        "{}: window {} to {}: Salesforce counts {counted} rows but {emitted} were read, after reading the window {} times; the state stays before this window",
                        plan.object,
                        window.start,
                        window.end,
                        rereads + 1
                    ).into()))
                }
            }
        }
        state.advance(window.end.min(bounds.claim));
        emitter.state(state.to_json())?;
    }
    drop(prepared);
    Ok(())
}

async fn read_full_refresh(
    ctx: &Arc<ReadContext>,
    mut plan: StreamPlan,
    state: StreamState,
    emitter: &mut StreamEmitter,
) -> Result<(), StreamFailure> {
    let ordered = plan.filterable;
    let after_id = match state {
        StreamState::FullRefresh(FullRefreshState::AfterId(id)) if ordered => {
            tracing::info!("{}: resuming after Id {id}", plan.object);
            Some(id)
        }
        _ => None,
    };
    let settings = &ctx.settings;
    // A large object read through Bulk in Id order is split into Id ranges whose jobs are
    // prepared at once; each range is read, counted and checkpointed like the whole object.
    let ranges = if plan.api == Api::Bulk && ordered {
        ctx.budget.check_api_call()?;
        let ranges = id_ranges(
            &ctx.client,
            &plan.object,
            after_id.as_deref(),
            settings.num_workers.clamp(1, 8),
            settings.id_range_rows,
        )
        .await;
        // Splitting is an optimisation: a count that fails (a timeout on a huge object) leaves
        // the object to one query.
        ranges.unwrap_or_else(|e| {
            tracing::warn!(
                "{}: cannot size Id ranges ({e}); reading it as one query",
                plan.object
            );
            vec![IdRange::from(after_id.clone())]
        })
    } else {
        vec![IdRange::from(after_id)]
    };
    let specs: Vec<QuerySpec> = ranges
        .into_iter()
        .map(|range| {
            let mut spec = plan.spec(None, range.after);
            spec.select.until_id = range.until;
            spec
        })
        .collect();
    let mut prepared = prepare_ahead(ctx, &plan, &specs)?;
    for spec in &specs {
        read_id_range(ctx, &mut plan, &mut prepared, spec, emitter).await?;
    }
    emitter.state(FullRefreshState::Complete.to_json())?;
    Ok(())
}

/// Reads the rows of one Id range (the whole object when it is not split), then has Salesforce
/// count them and reads them again while rows were missed.
async fn read_id_range(
    ctx: &ReadContext,
    plan: &mut StreamPlan,
    prepared: &mut Option<PreparedJobs>,
    spec: &QuerySpec,
    emitter: &mut StreamEmitter,
) -> Result<(), StreamFailure> {
    let settings = &ctx.settings;
    let ordered = plan.filterable;
    let mut rereads = 0u32;
    loop {
        let bulk_job = next_bulk_job(ctx, plan, prepared, spec, rereads).await?;
        let mut sink = CheckpointSink {
            emitter: &mut *emitter,
            progress: Progress::FullRefresh { ordered },
            checkpoint_every: settings.checkpoint_every,
            estimated_before: 0,
        };
        let mut tally = Tally::new(&mut sink);
        let mut read_ordered = ordered;
        if let Some((mut job, layout)) = bulk_job {
            download_job(ctx, &mut job, &layout, &mut tally).await?;
        } else {
            ctx.budget.check_api_call()?;
            let (chunks, still_ordered) =
                rest_chunks(&ctx.client, settings.max_uri_bytes, &plan.fields, spec)?;
            read_ordered = ordered && still_ordered;
            tally.inner().progress = Progress::FullRefresh {
                ordered: read_ordered,
            };
            read_rest(&ctx.client, &chunks, &mut tally).await?;
        }
        let (emitted, last_id) = (tally.rows, std::mem::take(&mut tally.last_id));
        // Rows inserted after the read have later Ids: only a read ordered by Id has an upper
        // bound the count can use (its last Id); an empty or unordered read is not counted.
        if !settings.verify_window_counts || !read_ordered || last_id.is_empty() {
            return Ok(());
        }
        ctx.budget.check_api_call()?;
        let from = spec.select.after_id.as_deref().unwrap_or("(first)");
        match verdict(count_rows(&ctx.client, spec, Some(&last_id)).await?, emitted) {
            Verdict::Complete => return Ok(()),
            Verdict::Missed { counted } if rereads < MAX_REREADS => {
                rereads += 1;
                tracing::warn!(
                    "{}: Ids {from} to {last_id}: Salesforce counts {counted} rows but {emitted} were read; reading them again ({rereads}/{MAX_REREADS})",
                    plan.object,
                );
            }
            Verdict::Missed { counted } => {
                return Err(StreamFailure::Incomplete(format!(
                    "{}: Ids {from} to {last_id}: Salesforce counts {counted} rows but {emitted} were read, after reading them {} times",
                    plan.object,
                    rereads + 1
                ).into()))
            }
        }
    }
}
