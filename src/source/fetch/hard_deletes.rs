//! Hard deletes: rows deleted since the last check, from getDeleted, emitted as records with
//! `IsDeleted` true, the cursor at the deletion time and `_ab_cdc_deleted_at`.

use chrono::{DateTime, Duration, Utc};

use crate::protocol::OutputError;
use crate::salesforce::ErrorClass;

use crate::salesforce::datetime::{datetime_literal, parse_datetime};
use crate::source::context::{ReadContext, StreamFailure};
use crate::source::decode::json_write::write_str;
use crate::source::discover::schema::CDC_DELETED_AT;
use crate::source::output::emitter::StreamEmitter;
use crate::source::output::state::IncrementalState;

/// How far back getDeleted can see (Salesforce keeps the delete log 15 days).
const DELETE_LOG_DAYS: i64 = 15;

/// Emits the record of a deleted row: its Id, `IsDeleted` true, the cursor and
/// `_ab_cdc_deleted_at` both at `at` (the deletion time, `…000Z`).
pub(crate) fn emit_tombstone(
    emitter: &mut StreamEmitter,
    id: &str,
    cursor: &str,
    at: &str,
) -> Result<(), OutputError> {
    let buffer = emitter.begin_record();
    buffer.extend_from_slice(b"{\"Id\":");
    write_str(buffer, id);
    buffer.extend_from_slice(b",\"IsDeleted\":true,");
    write_str(buffer, cursor);
    buffer.push(b':');
    write_str(buffer, at);
    buffer.extend_from_slice(b",\"");
    buffer.extend_from_slice(CDC_DELETED_AT.as_bytes());
    buffer.extend_from_slice(b"\":");
    write_str(buffer, at);
    buffer.push(b'}');
    emitter.emit_record()
}

/// Emits a record for every row deleted since the last check (getDeleted), with `IsDeleted`
/// true, the cursor at the deletion time and `_ab_cdc_deleted_at`, so deduplicating destinations
/// drop the row. The first read of a stream only sets the checkpoint: rows deleted before it were
/// never emitted.
pub(crate) async fn emit_hard_deletes(
    ctx: &ReadContext,
    object: &str,
    cursor: &str,
    upper: DateTime<Utc>,
    state: &mut IncrementalState,
    emitter: &mut StreamEmitter,
) -> Result<(), StreamFailure> {
    let Some(since) = state.deletions_checked_until else {
        state.deletions_checked(upper);
        return Ok(());
    };
    let since = ctx
        .settings
        .lookback_window
        .subtract_from(since)
        .unwrap_or(since);
    let earliest = upper - Duration::days(DELETE_LOG_DAYS) + Duration::minutes(5);
    let start = if since < earliest {
        tracing::warn!(
            "{object}: the last check for deleted records was before {}; Salesforce keeps {DELETE_LOG_DAYS} days of deletions, so rows deleted before then are not reported",
            datetime_literal(earliest)
        );
        earliest
    } else {
        since
    };
    if upper - start < Duration::minutes(1) {
        return Ok(());
    }
    ctx.budget.check_api_call()?;
    let deleted = match ctx.client.get_deleted(object, start, upper).await {
        Ok(deleted) => deleted,
        Err(e) if e.class() != ErrorClass::Transient => {
            tracing::warn!("{object}: cannot list deleted records ({e}); hard deletes are not reported this time");
            return Ok(());
        }
        Err(e) => return Err(e.into()),
    };
    let mut count = 0u64;
    for record in &deleted.deleted_records {
        let Some(at) = parse_datetime(&record.deleted_date) else {
            tracing::warn!(
                "{object}: getDeleted gave record {} an unreadable deletedDate {:?}; skipped",
                record.id,
                record.deleted_date
            );
            continue;
        };
        emit_tombstone(emitter, &record.id, cursor, &datetime_literal(at))?;
        count += 1;
    }
    if count > 0 {
        tracing::info!("{object}: {count} deleted record(s) reported");
    }
    let covered = deleted
        .latest_date_covered
        .as_deref()
        .and_then(parse_datetime)
        .map_or(upper, |c| c.min(upper));
    state.deletions_checked(covered);
    Ok(())
}
