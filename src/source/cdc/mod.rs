//! Change Data Capture: an incremental stream whose object publishes change events is followed
//! through the Pub/Sub API instead of being polled.
//!
//! A read of such a stream:
//! - without a saved replay id: subscribes from the newest event (LATEST) first, then reads the
//!   stream's windows (the snapshot, or a catch-up from the saved cursor) with the last window
//!   open above, then follows the subscription; a change committed while the snapshot ran is
//!   read by the snapshot, arrives as an event, or both (duplicates are allowed: every RECORD
//!   is a whole row);
//! - with a saved replay id: subscribes after it (CUSTOM).
//!
//! Events become records: CREATE, UPDATE, UNDELETE and gap events re-read their rows by Id
//! (one query per up to [`MAX_IDS_PER_QUERY`] ids; REST, or one Bulk job per batch when a batch
//! needs many REST queries), so every record is a whole row with its cursor (an UPDATE carries
//! only changed fields, and no event carries `SystemModstamp`, `IsDeleted` or formula fields);
//! DELETE becomes a tombstone (`Id`, `IsDeleted: true`, the cursor and `_ab_cdc_deleted_at` at
//! the commit time); GAP_OVERFLOW or a refused replay id falls back to a cursor catch-up
//! (logged as a warning saying why). A STATE carrying the replay id of the last event follows
//! the records of every response. The read ends after `idle_timeout_seconds` without events
//! or after `max_events_per_read` events.

use std::collections::{HashMap, HashSet};
use std::sync::Arc;
use std::time::Duration;

use chrono::{DateTime, Utc};
use tokio::time::Instant;

use crate::config::ChangeDataCapture;
use crate::protocol::OutputError;
use crate::salesforce::datetime::datetime_literal;
use crate::salesforce::pubsub::header::ChangeType;
use crate::salesforce::pubsub::{
    CallError, Delivery, ErrorKind, Event, PubSub, PubSubError, Start, Subscription,
};

use crate::source::context::{ReadContext, Reason, StreamFailure};
use crate::source::decode::convert::{LayoutField, RecordKeys};
use crate::source::fetch::bulk::{download_job, prepare_job, PrepareError};
use crate::source::fetch::hard_deletes::emit_tombstone;
use crate::source::fetch::rest::read_rest;
use crate::source::output::emitter::StreamEmitter;
use crate::source::output::sink::RecordSink;
use crate::source::output::state::{CdcPosition, IncrementalState};
use crate::source::plan::query_build::{bulk_query, rest_chunks, QuerySpec};
use crate::source::plan::soql::Select;

/// Ids re-read by one query at most.
pub(crate) const MAX_IDS_PER_QUERY: usize = 2_000;

/// Bytes one Id takes in a REST query URI: `'` + 18 characters + `'` + `,`, URL-encoded.
const URI_BYTES_PER_ID: usize = 27;

/// A batch that would need more REST queries than this goes through one Bulk job.
const MAX_REST_QUERIES_PER_BATCH: usize = 3;

/// Attempts to reopen a failing subscription before the read fails (reset by every event).
const MAX_REOPENS: u32 = 5;

/// Events arriving within this time of a first one are re-read together.
const COALESCE: Duration = Duration::from_secs(1);

/// With `idle_timeout_seconds` 0, a STATE at least this often when the position moved.
const CHECKPOINT_EVERY: Duration = Duration::from_secs(10);

/// What the change-event reader needs from the stream's reader.
pub(crate) trait CatchUp {
    /// The stream's fields and how to query them.
    fn layout(&self) -> RereadPlan;

    /// Reads the rows whose cursor lies from `state`'s end (minus the lookback) to past the
    /// org's current time, advancing `state` and emitting STATEs as windows complete.
    async fn catch_up(
        &mut self,
        state: &mut IncrementalState,
        emitter: &mut StreamEmitter,
    ) -> Result<(), StreamFailure>;
}

/// How the stream's rows are queried by Id.
#[derive(Clone, Debug)]
pub(crate) struct RereadPlan {
    pub object: String,
    pub fields: Vec<LayoutField>,
    pub cursor: String,
    pub has_id: bool,
    /// The stream reads through Bulk (large re-reads may too).
    pub bulk: bool,
}

fn pubsub(ctx: &ReadContext, cdc: &ChangeDataCapture) -> Result<PubSub, StreamFailure> {
    PubSub::new(&ctx.client, &cdc.endpoint).map_err(StreamFailure::Api)
}

/// Whether the object publishes change events (its topic exists); logs why not.
pub(crate) async fn change_events_available(
    ctx: &ReadContext,
    object: &str,
    topic: &str,
) -> Result<bool, StreamFailure> {
    let Some(cdc) = &ctx.settings.change_data_capture else {
        return Ok(false);
    };
    match pubsub(ctx, cdc)?.topic_schema_id(topic).await {
        Ok(_) => Ok(true),
        Err(CallError::PubSub(e)) if e.kind() == ErrorKind::NotFound => {
            tracing::info!(
                "{object}: no change events ({topic} not found: enable the object in Setup → Change Data Capture); read incrementally by its cursor"
            );
            Ok(false)
        }
        Err(e) => Err(call_failure(object, e)),
    }
}

fn call_failure(object: &str, error: CallError) -> StreamFailure {
    match error {
        CallError::Api(e) => StreamFailure::Api(e),
        CallError::Decode(e) => StreamFailure::Data(format!("{object}: {e}").into()),
        CallError::PubSub(e) => pubsub_failure(object, &e),
    }
}

fn pubsub_failure(object: &str, error: &PubSubError) -> StreamFailure {
    let reason = Reason::in_context(format!("{object}: change events"), error.clone());
    match error.kind() {
        ErrorKind::Transient | ErrorKind::LimitExceeded => StreamFailure::Incomplete(reason),
        ErrorKind::Auth | ErrorKind::NotFound => StreamFailure::Config(reason),
        ErrorKind::ReplayRejected | ErrorKind::Other => StreamFailure::Data(reason),
    }
}

/// Follows the stream's change events (see the module's documentation); on success the final
/// STATE has been emitted.
pub(crate) async fn read_changes<C: CatchUp>(
    ctx: &Arc<ReadContext>,
    cdc: &ChangeDataCapture,
    topic: &str,
    catch_up: &mut C,
    state: &mut IncrementalState,
    emitter: &mut StreamEmitter,
) -> Result<(), StreamFailure> {
    let plan = catch_up.layout();
    let follower = Follower {
        ctx,
        pubsub: pubsub(ctx, cdc)?,
        topic: topic.to_string(),
        plan,
    };
    if state.cdc.as_ref().is_some_and(|p| p.topic != topic) {
        tracing::warn!(
            "{}: the saved change event position is for another topic; catching up by {} instead",
            follower.plan.object,
            follower.plan.cursor
        );
        state.cdc = None;
    }
    let mut subscription = follower.open(catch_up, state, emitter).await?;
    tracing::info!(
        "{}: following change events on {topic}",
        follower.plan.object
    );
    emitter.flush()?;
    let mut events_read = 0u64;
    let mut reopens = 0u32;
    let mut last_event = Instant::now();
    let mut last_state = Instant::now();
    let mut unsaved = false;
    // What arrived while events were being coalesced, handled next.
    let mut stashed: Option<Delivery> = None;
    loop {
        let deadline = match cdc.idle_timeout {
            Some(idle) => last_event + idle,
            None => Instant::now() + CHECKPOINT_EVERY,
        };
        let next = match stashed.take() {
            Some(delivery) => Ok(delivery),
            None => tokio::time::timeout_at(deadline, subscription.next()).await,
        };
        let delivery = match next {
            Ok(delivery) => delivery,
            Err(_) if cdc.idle_timeout.is_some() => {
                tracing::info!(
                    "{}: no change event for {} s; the read ends",
                    follower.plan.object,
                    cdc.idle_timeout.unwrap_or_default().as_secs()
                );
                break;
            }
            Err(_) => {
                if unsaved {
                    emitter.state(state.to_json())?;
                    emitter.flush()?;
                    unsaved = false;
                    last_state = Instant::now();
                }
                continue;
            }
        };
        match delivery {
            Delivery::Events(mut events) => {
                reopens = 0;
                // Events arriving within COALESCE of the first share one re-read: a trickle of
                // single changes costs a query per window, not per change.
                let until = Instant::now() + COALESCE;
                let room = |events: &Vec<Event>| {
                    events.len() < MAX_IDS_PER_QUERY
                        && cdc
                            .max_events_per_read
                            .is_none_or(|max| events_read + (events.len() as u64) < max)
                };
                while room(&events) {
                    match tokio::time::timeout_at(until, subscription.next()).await {
                        Ok(Delivery::Events(more)) => events.extend(more),
                        Ok(other) => {
                            stashed = Some(other);
                            break;
                        }
                        Err(_) => break,
                    }
                }
                last_event = Instant::now();
                events_read += events.len() as u64;
                follower.apply(&events, catch_up, state, emitter).await?;
                emitter.state(state.to_json())?;
                // Each batch's records and STATE leave at once, not when the buffer fills.
                emitter.flush()?;
                unsaved = false;
                last_state = Instant::now();
                if cdc
                    .max_events_per_read
                    .is_some_and(|max| events_read >= max)
                {
                    tracing::info!(
                        "{}: {events_read} change events read (max_events_per_read); the read ends",
                        follower.plan.object
                    );
                    break;
                }
            }
            Delivery::Keepalive(latest) => {
                if !latest.is_empty() {
                    state.cdc = Some(CdcPosition {
                        topic: follower.topic.clone(),
                        replay_id: latest,
                    });
                    unsaved = true;
                }
                if cdc.idle_timeout.is_none() && last_state.elapsed() >= CHECKPOINT_EVERY {
                    emitter.state(state.to_json())?;
                    emitter.flush()?;
                    unsaved = false;
                    last_state = Instant::now();
                }
            }
            Delivery::Closed => {
                tracing::info!(
                    "{}: the Pub/Sub API ended the subscription; subscribing again",
                    follower.plan.object
                );
                subscription = follower
                    .reopen(&mut reopens, None, catch_up, state, emitter)
                    .await?;
            }
            Delivery::Failed(error) => {
                let stale = subscription.token().clone();
                drop(subscription);
                subscription = follower
                    .reopen(&mut reopens, Some((error, stale)), catch_up, state, emitter)
                    .await?;
            }
        }
    }
    // Every delete up to the last event is reported: a later read without CDC checks
    // getDeleted from here on.
    state.deletions_checked(state.end);
    emitter.state(state.to_json())?;
    Ok(())
}

struct Follower<'a> {
    ctx: &'a Arc<ReadContext>,
    pubsub: PubSub,
    topic: String,
    plan: RereadPlan,
}

impl Follower<'_> {
    /// Subscribes after the saved position, or (without one, or when Salesforce refuses it)
    /// from the newest event followed by a catch-up from the state's cursor.
    async fn open<C: CatchUp>(
        &self,
        catch_up: &mut C,
        state: &mut IncrementalState,
        emitter: &mut StreamEmitter,
    ) -> Result<Subscription, StreamFailure> {
        if let Some(position) = &state.cdc {
            match self
                .subscribe(&Start::After(position.replay_id.clone()))
                .await
            {
                Ok(subscription) => return Ok(subscription),
                Err(CallError::PubSub(e)) if e.kind() == ErrorKind::ReplayRejected => {
                    self.replay_rejected(&e, state);
                }
                Err(e) => return Err(call_failure(&self.plan.object, e)),
            }
        }
        let subscription = self
            .subscribe(&Start::Latest)
            .await
            .map_err(|e| call_failure(&self.plan.object, e))?;
        catch_up.catch_up(state, emitter).await?;
        Ok(subscription)
    }

    /// Forgets a position Salesforce refused, saying why.
    fn replay_rejected(&self, error: &PubSubError, state: &mut IncrementalState) {
        tracing::warn!(
            "{}: Salesforce refused the saved replay id ({error}): it is older than the 72-hour retention window or unknown, so the events after it cannot be replayed; catching up by {} from {} (minus the lookback window) and following the newest events",
            self.plan.object,
            self.plan.cursor,
            datetime_literal(state.end)
        );
        state.cdc = None;
    }

    /// `Subscribe`, once more with a fresh token when the token was refused.
    async fn subscribe(&self, start: &Start) -> Result<Subscription, CallError> {
        match self.pubsub.subscribe(&self.topic, start).await {
            Err(CallError::PubSub(e)) if e.kind() == ErrorKind::Auth => {
                tracing::info!("{}: {e}; refreshing the access token", self.plan.object);
                let (token, _) = self.ctx.client.current_token();
                self.pubsub.refresh(&token).await?;
                self.pubsub.subscribe(&self.topic, start).await
            }
            other => other,
        }
    }

    /// A new subscription after the stream ended (`failure`: why, and the token it had).
    async fn reopen<C: CatchUp>(
        &self,
        reopens: &mut u32,
        failure: Option<(PubSubError, crate::secret::Secret)>,
        catch_up: &mut C,
        state: &mut IncrementalState,
        emitter: &mut StreamEmitter,
    ) -> Result<Subscription, StreamFailure> {
        let object = &self.plan.object;
        loop {
            *reopens += 1;
            if *reopens > MAX_REOPENS {
                let why = failure
                    .as_ref()
                    .map_or_else(|| "ended".to_string(), |(e, _)| e.to_string());
                return Err(StreamFailure::Incomplete(format!(
                    "{object}: the change event subscription failed {MAX_REOPENS} times in a row without delivering an event (last: {why}); the state holds the last position"
                ).into()));
            }
            if let Some((error, stale)) = &failure {
                match error.kind() {
                    ErrorKind::Auth => {
                        tracing::info!(
                            "{object}: {error}; refreshing the access token and subscribing again after the last event read"
                        );
                        self.pubsub.refresh(stale).await?;
                    }
                    ErrorKind::ReplayRejected => self.replay_rejected(error, state),
                    ErrorKind::Transient => {
                        let pause = Duration::from_millis(250 << (*reopens).min(5));
                        tracing::warn!(
                            "{object}: {error}; subscribing again after the last event read in {} ms",
                            pause.as_millis()
                        );
                        tokio::time::sleep(pause).await;
                    }
                    ErrorKind::LimitExceeded | ErrorKind::NotFound | ErrorKind::Other => {
                        return Err(pubsub_failure(object, error));
                    }
                }
            }
            match self.open(catch_up, state, emitter).await {
                Ok(subscription) => return Ok(subscription),
                Err(StreamFailure::Incomplete(e)) if *reopens < MAX_REOPENS => {
                    tracing::warn!("{object}: {e}; trying again");
                }
                Err(e) => return Err(e),
            }
        }
    }

    /// Emits the records of one response's events and moves the position past them.
    async fn apply<C: CatchUp>(
        &self,
        events: &[Event],
        catch_up: &mut C,
        state: &mut IncrementalState,
        emitter: &mut StreamEmitter,
    ) -> Result<(), StreamFailure> {
        let mut pending = Changes::default();
        for event in events {
            let header = &event.header;
            let wildcard = header.record_ids.iter().any(|id| id.contains('*'));
            if header.change_type == ChangeType::GapOverflow || wildcard {
                self.flush(&mut pending, state, emitter).await?;
                tracing::warn!(
                    "{}: a {} event{} stands for changes Salesforce did not send one by one (a transaction of more than 100,000 changes, or a field conversion); catching up by {} from {}",
                    self.plan.object,
                    header.change_type_name,
                    if wildcard { " with wildcard record ids" } else { "" },
                    self.plan.cursor,
                    datetime_literal(state.end)
                );
                catch_up.catch_up(state, emitter).await?;
            } else if header.entity_name == self.plan.object
                || header.entity_name.eq_ignore_ascii_case(&self.plan.object)
            {
                for id in &header.record_ids {
                    pending.add(id, header.change_type, header.commit_timestamp);
                }
            }
            state.cdc = Some(CdcPosition {
                topic: self.topic.clone(),
                replay_id: event.replay_id.clone(),
            });
        }
        self.flush(&mut pending, state, emitter).await?;
        if let Some(at) = events
            .iter()
            .map(|e| e.header.commit_timestamp)
            .max()
            .and_then(DateTime::<Utc>::from_timestamp_millis)
        {
            state.advance(at);
        }
        Ok(())
    }

    /// Emits the pending changes: tombstones for rows whose last change was a delete, the
    /// current rows of the others.
    async fn flush(
        &self,
        pending: &mut Changes,
        state: &mut IncrementalState,
        emitter: &mut StreamEmitter,
    ) -> Result<(), StreamFailure> {
        let changes = std::mem::take(pending);
        let mut reread = Vec::new();
        for id in &changes.order {
            let (change, at) = changes.last[id];
            if change == ChangeType::Delete {
                emit_tombstone(emitter, id, &self.plan.cursor, &millis_literal(at))?;
            } else {
                reread.push(id.clone());
            }
        }
        if reread.is_empty() {
            return Ok(());
        }
        let found = reread_rows(self.ctx, &self.plan, &reread, state, emitter).await?;
        for id in &reread {
            if found.contains(id) {
                continue;
            }
            let (change, at) = changes.last[id];
            if change == ChangeType::GapDelete {
                emit_tombstone(emitter, id, &self.plan.cursor, &millis_literal(at))?;
            } else {
                // Deleted for good since: its DELETE event follows.
                tracing::debug!("{}: {id} is gone when re-read", self.plan.object);
            }
        }
        Ok(())
    }
}

fn millis_literal(ms: i64) -> String {
    DateTime::<Utc>::from_timestamp_millis(ms).map_or_else(String::new, datetime_literal)
}

/// Changed rows of a run of events: each Id once, with its last change.
#[derive(Default)]
struct Changes {
    order: Vec<String>,
    last: HashMap<String, (ChangeType, i64)>,
}

impl Changes {
    fn add(&mut self, id: &str, change: ChangeType, at: i64) {
        if self.last.insert(id.to_string(), (change, at)).is_none() {
            self.order.push(id.to_string());
        }
    }
}

/// Emits the current rows of `ids` (deleted ones too, through queryAll); returns the Ids found.
pub(crate) async fn reread_rows(
    ctx: &ReadContext,
    plan: &RereadPlan,
    ids: &[String],
    state: &mut IncrementalState,
    emitter: &mut StreamEmitter,
) -> Result<HashSet<String>, StreamFailure> {
    let settings = &ctx.settings;
    let id_budget = settings.max_uri_bytes / 2;
    let per_rest = (id_budget / URI_BYTES_PER_ID).clamp(1, MAX_IDS_PER_QUERY);
    let mut sink = RereadSink {
        emitter,
        state,
        found: HashSet::with_capacity(ids.len()),
    };
    for batch in ids.chunks(MAX_IDS_PER_QUERY) {
        if plan.bulk && batch.len() > per_rest * MAX_REST_QUERIES_PER_BATCH {
            let (text, layout) = bulk_query(&plan.fields, &spec_of(plan, batch))?;
            ctx.budget.start_bulk_job()?;
            match prepare_job(&ctx.client, &text).await {
                Ok(mut job) => {
                    download_job(ctx, &mut job, &layout, &mut sink).await?;
                    continue;
                }
                Err(PrepareError::FallBack(e)) => {
                    tracing::info!(
                        "{}: Bulk API cannot re-read these rows ({e}); reading them through REST",
                        plan.object
                    );
                }
                Err(PrepareError::Other(e)) => return Err(e.into()),
            }
        }
        for chunk in batch.chunks(per_rest) {
            let spec = spec_of(plan, chunk);
            ctx.budget.check_api_call()?;
            let uri = settings
                .max_uri_bytes
                .saturating_sub(chunk.len() * URI_BYTES_PER_ID + 16);
            let (chunks, _) = rest_chunks(&ctx.client, uri, &plan.fields, &spec)?;
            read_rest(&ctx.client, &chunks, &mut sink).await?;
        }
    }
    Ok(sink.found)
}

fn spec_of(plan: &RereadPlan, ids: &[String]) -> QuerySpec {
    QuerySpec {
        select: Select {
            ids: ids.to_vec(),
            ..Select::new(plan.object.clone(), Vec::new())
        },
        cursor: Some(plan.cursor.clone()),
        has_id: plan.has_id,
    }
}

/// Emits re-read rows and notes their Ids.
struct RereadSink<'e, 's> {
    emitter: &'e mut StreamEmitter,
    state: &'s mut IncrementalState,
    found: HashSet<String>,
}

impl RecordSink for RereadSink<'_, '_> {
    type Error = OutputError;

    fn record(&mut self, data: &[u8], keys: &RecordKeys) -> Result<(), OutputError> {
        self.emitter.begin_record().extend_from_slice(data);
        self.emitter.emit_record()?;
        self.state.saw_cursor(&keys.cursor);
        self.found.insert(keys.id.clone());
        Ok(())
    }

    fn estimate(&mut self, _rows: u64) -> Result<(), OutputError> {
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn each_id_keeps_its_last_change_in_first_seen_order() {
        let mut changes = Changes::default();
        changes.add("001A", ChangeType::Update, 1);
        changes.add("001B", ChangeType::Create, 2);
        changes.add("001A", ChangeType::Delete, 3);
        assert_eq!(changes.order, ["001A", "001B"]);
        assert_eq!(changes.last["001A"], (ChangeType::Delete, 3));
    }
}
