//! Per stream: which API reads it, and which cursor windows an incremental read covers.
//!
//! Bulk API 2.0 is the default: one job per window, results streamed as CSV. Compound fields do not
//! push a stream to REST (the converter rebuilds them from their components, which Bulk can
//! select). REST serves only what Bulk cannot: objects Bulk refuses and base64 fields. At run time a
//! Bulk refusal or a failed job also falls back to REST (see `read`).
//!
//! Windows: from `start_date`, or from the saved state's end minus `lookback_window` (never before
//! `start_date`), up to an upper bound fixed when the read starts (`min(now, end_date)`), cut into
//! half-open windows of `stream_slice_step`; a Bulk read whose windows hold many rows cuts them
//! further by count (`window_rows`).

pub(crate) mod id_ranges;
pub(crate) mod query_build;
pub(crate) mod soql;
pub(crate) mod window_rows;

use chrono::{DateTime, Utc};

use crate::config::IsoDuration;

use crate::source::decode::convert::{Api, LayoutField};
use crate::source::decode::field_kind::FieldKind;
use crate::source::output::state::IncrementalState;

/// Objects Salesforce's Bulk API rejects (`INVALIDENTITY`), as Airbyte's source lists them; they
/// are read through REST from the start instead of after a refused job.
pub(crate) const BULK_UNSUPPORTED_OBJECTS: &[&str] = &[
    "AcceptedEventRelation",
    "AccountBrandShare",
    "AccountFeed",
    "AggregateResult",
    "AssetFeed",
    "AssetTokenEvent",
    "AttachedContentDocument",
    "AttachedContentNote",
    "Attachment",
    "CaseStatus",
    "CaseTeamMember",
    "CaseTeamRole",
    "CaseTeamTemplate",
    "CaseTeamTemplateMember",
    "CaseTeamTemplateRecord",
    "ChannelProgramLevelShare",
    "CombinedAttachment",
    "ContentFolderItem",
    "ContractStatus",
    "DeclinedEventRelation",
    "EventWhoRelation",
    "FieldSecurityClassification",
    "FolderedContentDocument",
    "KnowledgeArticle",
    "KnowledgeArticleVersion",
    "KnowledgeArticleVersionHistory",
    "KnowledgeArticleViewStat",
    "KnowledgeArticleVoteStat",
    "LookedUpFromActivity",
    "Name",
    "NoteAndAttachment",
    "OpenActivity",
    "OrderStatus",
    "OwnedContentDocument",
    "PartnerRole",
    "QuoteTemplateRichTextData",
    "RecentlyViewed",
    "ServiceAppointmentStatus",
    "ShiftStatus",
    "SolutionStatus",
    "TaskPriority",
    "TaskStatus",
    "TaskWhoRelation",
    "UndecidedEventRelation",
    "UserRecordAccess",
    "WorkOrderLineItemStatus",
    "WorkOrderStatus",
];

/// Which API reads a stream, and the fields it selects.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) struct ApiChoice {
    pub api: Api,
    pub fields: Vec<LayoutField>,
    /// Why REST was chosen, or which fields were dropped to stay on Bulk (for a LOG line).
    pub note: Option<String>,
}

/// Chooses Bulk or REST for `object` reading `fields`; see the module doc.
pub(crate) fn choose_api(
    object: &str,
    fields: Vec<LayoutField>,
    force_use_bulk_api: bool,
) -> ApiChoice {
    if BULK_UNSUPPORTED_OBJECTS.contains(&object) {
        return ApiChoice {
            api: Api::Rest,
            fields,
            note: Some(format!(
                "{object} is not supported by the Bulk API; reading it through REST"
            )),
        };
    }
    let base64: Vec<&str> = fields
        .iter()
        .filter(|f| f.kind == FieldKind::Base64)
        .map(|f| f.name.as_str())
        .collect();
    if base64.is_empty() {
        return ApiChoice {
            api: Api::Bulk,
            fields,
            note: None,
        };
    }
    let names = base64.join(", ");
    if force_use_bulk_api {
        let note = format!(
            "{object}: force_use_bulk_api is set, so base64 field(s) {names} are left out (Bulk cannot select them)"
        );
        let fields = fields
            .into_iter()
            .filter(|f| f.kind != FieldKind::Base64)
            .collect();
        return ApiChoice {
            api: Api::Bulk,
            fields,
            note: Some(note),
        };
    }
    ApiChoice {
        api: Api::Rest,
        fields,
        note: Some(format!(
            "{object}: base64 field(s) {names} cannot be read through Bulk; reading through REST"
        )),
    }
}

/// Settings that shape the windows of incremental reads.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct WindowSettings {
    pub start_date: DateTime<Utc>,
    pub end_date: Option<DateTime<Utc>>,
    /// Calendar-aware: `P1M` windows run from a date to the same date of the next month.
    pub step: IsoDuration,
    pub lookback: IsoDuration,
    /// When the read started; the upper bound never passes it.
    pub now: DateTime<Utc>,
}

impl WindowSettings {
    /// The upper bound of every window of this read: `min(now, end_date)`.
    pub(crate) fn upper(&self) -> DateTime<Utc> {
        match self.end_date {
            Some(end) if end < self.now => end,
            _ => self.now,
        }
    }

    /// Where reading starts: the state's end minus the lookback, never before `start_date`;
    /// `start_date` without a state.
    pub(crate) fn lower(&self, state: Option<&IncrementalState>) -> DateTime<Utc> {
        match state {
            Some(state) => self
                .lookback
                .subtract_from(state.end)
                .unwrap_or(self.start_date)
                .max(self.start_date),
            None => self.start_date,
        }
    }

    /// The half-open windows `[start, end)` of `step` covering `[lower, upper)`.
    #[cfg(test)]
    pub(crate) fn windows(
        &self,
        state: Option<&IncrementalState>,
    ) -> Vec<(DateTime<Utc>, DateTime<Utc>)> {
        split_windows(self.lower(state), self.upper(), self.step)
    }
}

/// Cuts `[lower, upper)` into windows of `step` (the last one shorter); none when empty.
pub(crate) fn split_windows(
    lower: DateTime<Utc>,
    upper: DateTime<Utc>,
    step: IsoDuration,
) -> Vec<(DateTime<Utc>, DateTime<Utc>)> {
    let mut windows = Vec::new();
    if lower >= upper {
        return windows;
    }
    if step.is_empty() {
        windows.push((lower, upper));
        return windows;
    }
    let mut start = lower;
    while start < upper {
        let end = step.add_to(start).map_or(upper, |e| e.min(upper));
        windows.push((start, end));
        start = end;
    }
    windows
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::{Duration, TimeZone};

    fn at(y: i32, m: u32, d: u32) -> DateTime<Utc> {
        Utc.with_ymd_and_hms(y, m, d, 0, 0, 0).unwrap()
    }

    fn settings() -> WindowSettings {
        WindowSettings {
            start_date: at(2024, 1, 1),
            end_date: None,
            step: IsoDuration::exact(Duration::days(30)),
            lookback: IsoDuration::exact(Duration::minutes(10)),
            now: at(2024, 3, 15),
        }
    }

    #[test]
    fn windows_cover_start_date_to_now_without_gaps() {
        let windows = settings().windows(None);
        assert_eq!(windows.first().unwrap().0, at(2024, 1, 1));
        assert_eq!(windows.last().unwrap().1, at(2024, 3, 15));
        for pair in windows.windows(2) {
            assert_eq!(pair[0].1, pair[1].0);
        }
        assert_eq!(windows.len(), 3);
    }

    #[test]
    fn a_saved_state_is_reread_from_its_end_minus_the_lookback() {
        let state = IncrementalState {
            start: Some(at(2024, 1, 1)),
            end: at(2024, 3, 1),
            most_recent_cursor_value: None,
            deletions_checked_until: None,
            cdc: None,
        };
        let windows = settings().windows(Some(&state));
        assert_eq!(windows[0].0, at(2024, 3, 1) - Duration::minutes(10));
    }

    #[test]
    fn month_steps_follow_the_calendar() {
        let mut s = settings();
        s.step = IsoDuration::parse("stream_slice_step", "P1M").unwrap();
        s.start_date = at(2024, 1, 31);
        s.now = at(2024, 5, 1);
        let ends: Vec<DateTime<Utc>> = s.windows(None).iter().map(|w| w.1).collect();
        // Jan 31 + 1 month = Feb 29 (leap year); then Mar 29, Apr 29, capped at now.
        assert_eq!(
            ends,
            [
                at(2024, 2, 29),
                at(2024, 3, 29),
                at(2024, 4, 29),
                at(2024, 5, 1)
            ]
        );
        let mut s = settings();
        s.lookback = IsoDuration::parse("lookback_window", "P1M").unwrap();
        let state = IncrementalState::starting_at(at(2024, 3, 31));
        assert_eq!(s.lower(Some(&state)), at(2024, 2, 29));
    }

    #[test]
    fn lookback_never_reaches_before_start_date() {
        let state = IncrementalState::starting_at(at(2024, 1, 1));
        assert_eq!(settings().lower(Some(&state)), at(2024, 1, 1));
    }

    #[test]
    fn end_date_caps_the_upper_bound_and_a_future_state_gives_no_window() {
        let mut s = settings();
        s.end_date = Some(at(2024, 2, 1));
        assert_eq!(s.windows(None).last().unwrap().1, at(2024, 2, 1));
        let future = IncrementalState::starting_at(at(2030, 1, 1));
        assert!(settings().windows(Some(&future)).is_empty());
    }

    #[test]
    fn address_fields_stay_on_bulk_but_base64_goes_to_rest() {
        let mut address = LayoutField::new("BillingAddress", FieldKind::Address);
        address.components = vec!["BillingCity".into()];
        let fields = vec![LayoutField::new("Id", FieldKind::Text), address];
        assert_eq!(choose_api("Account", fields.clone(), false).api, Api::Bulk);
        let mut with_body = fields.clone();
        with_body.push(LayoutField::new("Body", FieldKind::Base64));
        let choice = choose_api("Document", with_body.clone(), false);
        assert_eq!(choice.api, Api::Rest);
        assert!(choice.note.unwrap().contains("Body"));
        let forced = choose_api("Document", with_body, true);
        assert_eq!(forced.api, Api::Bulk);
        assert_eq!(forced.fields, fields);
    }

    #[test]
    fn objects_bulk_refuses_are_read_through_rest() {
        let fields = vec![LayoutField::new("Id", FieldKind::Text)];
        assert_eq!(choose_api("CaseStatus", fields, false).api, Api::Rest);
    }
}
