//! Which objects of describeGlobal become streams.
//!
//! In order, as Airbyte's source does it: objects that need an Id to query (`ActivityMetric`…)
//! and non-queryable objects are dropped; `streams_criteria` keep only the objects whose names
//! match at least one criterion (case-insensitive, unioned; `SourceConfig::includes_object`); `*ChangeEvent` objects and the
//! objects whose queries Salesforce restricts are dropped. Dropped objects are reported with the
//! reason so discover can log it.

/// Objects that cannot be queried without an object Id.
pub(crate) const NEEDS_OBJECT_ID: &[&str] = &["ActivityMetric", "ActivityMetricRollup"];

/// Objects with WHERE-clause restrictions that break any generic query.
pub(crate) const QUERY_RESTRICTED: &[&str] = &[
    "Announcement",
    "AppTabMember",
    "CollaborationGroupRecord",
    "ColorDefinition",
    "ContentFolderItem",
    "ContentFolderMember",
    "DataStatistics",
    "DatacloudDandBCompany",
    "EntityParticle",
    "FieldDefinition",
    "FieldHistoryArchive",
    "FlexQueueItem",
    "FlowVariableView",
    "FlowVersionView",
    "IconDefinition",
    "IdeaComment",
    "NetworkUserHistoryRecent",
    "OwnerChangeOptionInfo",
    "PicklistValueInfo",
    "PlatformAction",
    "RelationshipDomain",
    "RelationshipInfo",
    "SearchLayout",
    "SiteDetail",
    "UserEntityAccess",
    "UserFieldAccess",
    "Vote",
];

/// Objects neither query nor queryAll can read (events, virtual and aggregate objects).
pub(crate) const QUERY_INCOMPATIBLE: &[&str] = &[
    "AIPredictionEvent",
    "ActivityHistory",
    "AggregateResult",
    "ApiAnomalyEvent",
    "ApiEventStream",
    "AssetTokenEvent",
    "AsyncOperationEvent",
    "AsyncOperationStatus",
    "AttachedContentDocument",
    "AttachedContentNote",
    "BatchApexErrorEvent",
    "BulkApiResultEvent",
    "CombinedAttachment",
    "ConcurLongRunApexErrEvent",
    "ContentBody",
    "CredentialStuffingEvent",
    "DataType",
    "DatacloudAddress",
    "EmailStatus",
    "FeedLike",
    "FeedSignal",
    "FeedTrackedChange",
    "FlowExecutionErrorEvent",
    "FolderedContentDocument",
    "LightningUriEventStream",
    "ListViewChartInstance",
    "ListViewEventStream",
    "LoginAsEventStream",
    "LoginEventStream",
    "LogoutEventStream",
    "LookedUpFromActivity",
    "Name",
    "NoteAndAttachment",
    "OpenActivity",
    "OrgLifecycleNotification",
    "OutgoingEmail",
    "OutgoingEmailRelation",
    "OwnedContentDocument",
    "PlatformStatusAlertEvent",
    "ProcessExceptionEvent",
    "ProcessInstanceHistory",
    "QuoteTemplateRichTextData",
    "RemoteKeyCalloutEvent",
    "ReportAnomalyEvent",
    "ReportEventStream",
    "SessionHijackingEvent",
    "UriEventStream",
    "UserRecordAccess",
];

/// Objects that cannot be filtered or ordered on a cursor: offered as full refresh only.
pub(crate) const UNSUPPORTED_FILTERING: &[&str] = &[
    "ApiEvent",
    "BulkApiResultEventStore",
    "ContentDocumentLink",
    "EmbeddedServiceDetail",
    "EmbeddedServiceLabel",
    "FormulaFunction",
    "FormulaFunctionAllowedType",
    "FormulaFunctionCategory",
    "IdentityProviderEventStore",
    "IdentityVerificationEvent",
    "LightningUriEvent",
    "ListViewEvent",
    "LoginAsEvent",
    "LoginEvent",
    "LogoutEvent",
    "Publisher",
    "RecordActionHistory",
    "ReportEvent",
    "TabDefinition",
    "UriEvent",
];

/// Why an object is not offered as a stream.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub(crate) enum Exclusion {
    NeedsObjectId,
    NotQueryable,
    NotInStreamsCriteria,
    ChangeEvent,
    QueryRestricted,
    QueryIncompatible,
}

impl Exclusion {
    /// A sentence for the LOG line that lists the objects left out for this reason.
    pub(crate) fn explanation(self) -> &'static str {
        match self {
            Exclusion::NeedsObjectId => "they can only be queried with an object Id",
            Exclusion::NotQueryable => "describeGlobal marks them queryable: false",
            Exclusion::NotInStreamsCriteria => "no streams_criteria entry matches them",
            Exclusion::ChangeEvent => "change events cannot be read by query",
            Exclusion::QueryRestricted => "Salesforce restricts their WHERE clauses",
            Exclusion::QueryIncompatible => "neither REST nor Bulk queries can read them",
        }
    }
}

/// Why `object` (with its describeGlobal `queryable` flag) does not become a stream, if it does
/// not; `in_criteria` tells whether `streams_criteria` keep it (see `SourceConfig::includes_object`).
pub(crate) fn exclusion(object: &str, queryable: bool, in_criteria: bool) -> Option<Exclusion> {
    if NEEDS_OBJECT_ID.contains(&object) {
        return Some(Exclusion::NeedsObjectId);
    }
    if !queryable {
        return Some(Exclusion::NotQueryable);
    }
    if !in_criteria {
        return Some(Exclusion::NotInStreamsCriteria);
    }
    if object.ends_with("ChangeEvent") {
        return Some(Exclusion::ChangeEvent);
    }
    if QUERY_RESTRICTED.contains(&object) {
        return Some(Exclusion::QueryRestricted);
    }
    if QUERY_INCOMPATIBLE.contains(&object) {
        return Some(Exclusion::QueryIncompatible);
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Each `(object, queryable, in streams_criteria, expected exclusion)`.
    fn assert_exclusions(cases: &[(&str, bool, bool, Option<Exclusion>)]) {
        for (name, queryable, in_criteria, expected) in cases {
            assert_eq!(
                exclusion(name, *queryable, *in_criteria),
                *expected,
                "{name}"
            );
        }
    }

    #[test]
    fn objects_outside_streams_criteria_are_left_out() {
        assert_exclusions(&[
            ("Account", true, true, None),
            (
                "Contact",
                true,
                false,
                Some(Exclusion::NotInStreamsCriteria),
            ),
            ("Foo", false, false, Some(Exclusion::NotQueryable)),
        ]);
    }

    #[test]
    fn unqueryable_and_restricted_objects_are_left_out_with_a_reason() {
        assert_exclusions(&[
            ("Foo", false, true, Some(Exclusion::NotQueryable)),
            (
                "AccountChangeEvent",
                true,
                true,
                Some(Exclusion::ChangeEvent),
            ),
            ("Vote", true, true, Some(Exclusion::QueryRestricted)),
            (
                "ActivityHistory",
                true,
                true,
                Some(Exclusion::QueryIncompatible),
            ),
            ("ActivityMetric", true, true, Some(Exclusion::NeedsObjectId)),
            ("Account", true, true, None),
        ]);
    }
}
