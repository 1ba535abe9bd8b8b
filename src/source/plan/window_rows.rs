//! Incremental windows sized by their rows: a window holding more than `incremental_window_rows`
//! rows (Salesforce's count) is cut by cursor value into windows of about that many rows, read
//! as Bulk jobs Salesforce prepares at once, instead of one job for a fixed `stream_slice_step`
//! whatever it holds (Airbyte users' request: a burst of changes, a mass update or an initial
//! load puts millions of rows in one 30-day window while most windows hold a few).
//!
//! One `SELECT COUNT()` over every pending window decides whether anything is cut: the usual
//! incremental read (few changes) costs that one REST call and no Bulk job. A span with too many
//! rows is cut where its rows are expected to divide evenly (at a fixed window's boundary when
//! the span holds several, else at a whole second inside it); the first part is counted, the
//! second is the rest, and each part is cut again while it holds too many. Cuts never cross out
//! of the fixed windows, and the windows stay contiguous and in cursor order, so every window is
//! read, counted (`verify_window_counts`) and checkpointed as before: the state never moves past
//! a window whose records were not all emitted. Counts are only a guide: rows that change between
//! the count and the read change the sizes, never which rows are read.

use chrono::{DateTime, Duration, Utc};

use crate::salesforce::SalesforceClient;

use crate::source::context::budget::ApiBudget;
use crate::source::context::{Reason, StreamFailure};
use crate::source::plan::soql::{CursorWindow, Select};

/// Counts made to cut one pass's windows at most; past it the remaining spans stay as they are.
const MAX_COUNTS: usize = 100;

/// A half-open cursor window.
pub(crate) type Window = (DateTime<Utc>, DateTime<Utc>);

/// What cutting needs to count rows.
pub(crate) struct Counter<'a> {
    pub client: &'a SalesforceClient,
    pub budget: &'a ApiBudget,
    pub object: &'a str,
    pub cursor: &'a str,
}

impl Counter<'_> {
    async fn count(&self, window: Window) -> Result<u64, StreamFailure> {
        self.budget.check_api_call()?;
        let mut select = Select::new(self.object.to_string(), vec!["Id".to_string()]);
        select.window = Some(CursorWindow {
            cursor_field: self.cursor.to_string(),
            start: window.0,
            end: window.1,
        });
        let soql = select
            .to_count_soql(None)
            .map_err(|e| StreamFailure::Config(Reason::of(e)))?;
        Ok(self.client.query(&soql, true, None).await?.total_size)
    }
}

/// `windows` (contiguous, in order) with every span of more than `rows` rows cut into windows of
/// about `rows`; `windows` unchanged when `rows` is 0 or they hold no more than `rows` in all.
pub(crate) async fn cut_by_rows(
    counter: &Counter<'_>,
    windows: Vec<Window>,
    rows: u64,
) -> Result<Vec<Window>, StreamFailure> {
    let (Some(first), Some(last)) = (windows.first(), windows.last()) else {
        return Ok(windows);
    };
    if rows == 0 {
        return Ok(windows);
    }
    let whole = (first.0, last.1);
    let total = counter.count(whole).await?;
    if total <= rows {
        return Ok(windows);
    }
    let boundaries: Vec<DateTime<Utc>> = windows.iter().skip(1).map(|w| w.0).collect();
    let mut cutter = Cutter {
        counter,
        rows,
        boundaries: &boundaries,
        counts: 1,
        out: Vec::new(),
    };
    cutter.cut(whole, total).await?;
    if cutter.out.len() > windows.len() {
        tracing::info!(
            "{}: {total} rows to read in {} windows of about {rows} rows ({} fixed windows)",
            counter.object,
            cutter.out.len(),
            windows.len()
        );
    }
    Ok(cutter.out)
}

struct Cutter<'a, 'b> {
    counter: &'a Counter<'b>,
    rows: u64,
    /// The fixed windows' inner boundaries.
    boundaries: &'a [DateTime<Utc>],
    counts: usize,
    out: Vec<Window>,
}

impl Cutter<'_, '_> {
    /// Cuts `span`, which holds `count` rows, appending its windows in order.
    async fn cut(&mut self, span: Window, count: u64) -> Result<(), StreamFailure> {
        // Depth-first, left part first, without recursion: a stack of spans still to cut.
        let mut stack = vec![(span, count)];
        while let Some((span, count)) = stack.pop() {
            let at = if count > self.rows && self.counts < MAX_COUNTS {
                cut_point(span, count, self.rows, self.boundaries)
            } else {
                None
            };
            let Some(at) = at else {
                self.keep(span);
                continue;
            };
            self.counts += 1;
            let left = self.counter.count((span.0, at)).await?;
            stack.push(((at, span.1), count.saturating_sub(left)));
            stack.push(((span.0, at), left));
        }
        Ok(())
    }

    /// `span` becomes windows, cut at the fixed boundaries inside it.
    fn keep(&mut self, span: Window) {
        let mut start = span.0;
        for &b in self
            .boundaries
            .iter()
            .filter(|&&b| span.0 < b && b < span.1)
        {
            self.out.push((start, b));
            start = b;
        }
        self.out.push((start, span.1));
    }
}

/// Where to cut `span` (holding `count` rows) so its first part holds about half of the
/// windows of `rows` it needs, expecting rows evenly spread in time: the fixed boundary nearest
/// that point when the span holds any, else that point in whole seconds; `None` when the span
/// is one second or less.
fn cut_point(
    span: Window,
    count: u64,
    rows: u64,
    boundaries: &[DateTime<Utc>],
) -> Option<DateTime<Utc>> {
    let parts = count.div_ceil(rows.max(1)).max(2);
    let length = (span.1 - span.0).num_milliseconds();
    let offset = i64::try_from(i128::from(length) * i128::from(parts / 2) / i128::from(parts))
        .unwrap_or(length / 2);
    let target = span.0 + Duration::milliseconds(offset);
    let inside = boundaries.iter().filter(|&&b| span.0 < b && b < span.1);
    if let Some(nearest) = inside.min_by_key(|&&b| (b - target).num_milliseconds().abs()) {
        return Some(*nearest);
    }
    let whole = DateTime::from_timestamp(target.timestamp(), 0)?;
    let at = if whole <= span.0 {
        whole + Duration::seconds(1)
    } else {
        whole
    };
    (span.0 < at && at < span.1).then_some(at)
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::TimeZone;

    fn at(d: u32, h: u32) -> DateTime<Utc> {
        Utc.with_ymd_and_hms(2024, 1, d, h, 0, 0).unwrap()
    }

    #[test]
    fn a_span_is_cut_where_its_rows_divide_evenly() {
        // 1,000 rows over 10 days, windows of 250: the first cut holds two of four parts.
        let cut = cut_point((at(1, 0), at(11, 0)), 1000, 250, &[]).unwrap();
        assert_eq!(cut, at(6, 0));
        // Three parts: one to the left.
        let cut = cut_point((at(1, 0), at(4, 0)), 600, 200, &[]).unwrap();
        assert_eq!(cut, at(2, 0));
    }

    #[test]
    fn a_fixed_boundary_inside_the_span_is_preferred() {
        let boundaries = [at(3, 0), at(5, 0), at(7, 0)];
        let cut = cut_point((at(1, 0), at(11, 0)), 1000, 250, &boundaries).unwrap();
        assert_eq!(cut, at(5, 0));
    }

    #[test]
    fn cuts_are_whole_seconds_and_a_second_is_never_cut() {
        let start = Utc.with_ymd_and_hms(2024, 1, 1, 0, 0, 0).unwrap();
        let cut = cut_point((start, start + Duration::seconds(3)), 10, 1, &[]).unwrap();
        assert_eq!(cut.timestamp_subsec_millis(), 0);
        assert!(start < cut && cut < start + Duration::seconds(3));
        assert_eq!(
            cut_point((start, start + Duration::seconds(1)), 1_000_000, 1, &[]),
            None
        );
        let odd = start + Duration::milliseconds(1500);
        assert_eq!(
            cut_point((start, odd), 1_000_000, 1, &[]),
            Some(start + Duration::seconds(1))
        );
    }
}
