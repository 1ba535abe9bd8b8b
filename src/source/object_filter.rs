//! Which objects of describeGlobal become streams.
//!
//! In order, as Airbyte's source does it: objects that need an Id to query (`ActivityMetric`…)
//! and non-queryable objects are dropped; `streams_criteria` keep only the objects whose names
//! match at least one criterion (case-insensitive, unioned); `*ChangeEvent` objects and the
//! objects whose queries Salesforce restricts are dropped. Dropped objects are reported with the
//! reason so discover can log it.

/// Objects that cannot be queried without an object Id.
pub const NEEDS_OBJECT_ID: &[&str] = &["ActivityMetric", "ActivityMetricRollup"];

/// Objects with WHERE-clause restrictions that break any generic query.
pub const QUERY_RESTRICTED: &[&str] = &[
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
pub const QUERY_INCOMPATIBLE: &[&str] = &[
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
pub const UNSUPPORTED_FILTERING: &[&str] = &[
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
pub enum Exclusion {
    NeedsObjectId,
    NotQueryable,
    NotInStreamsCriteria,
    ChangeEvent,
    QueryRestricted,
    QueryIncompatible,
}

impl Exclusion {
    /// A sentence for the LOG line that lists the objects left out for this reason.
    pub fn explanation(self) -> &'static str {
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

/// One `streams_criteria` entry: `criteria` is one of `starts with`, `ends with`, `contains`,
/// `exacts`, `starts not with`, `ends not with`, `not contains`, `not exacts`.
pub fn matches_criterion(object: &str, criteria: &str, value: &str) -> bool {
    let name = object.to_lowercase();
    let word = value.to_lowercase();
    match criteria.trim().to_lowercase().as_str() {
        "starts with" => name.starts_with(&word),
        "starts not with" => !name.starts_with(&word),
        "ends with" => name.ends_with(&word),
        "ends not with" => !name.ends_with(&word),
        "contains" => name.contains(&word),
        "not contains" => !name.contains(&word),
        "exacts" => name == word,
        "not exacts" => name != word,
        _ => false,
    }
}

/// Whether `object` (with its describeGlobal `queryable` flag) becomes a stream under the given
/// `(criteria, value)` pairs (empty = all objects).
pub fn exclusion(object: &str, queryable: bool, criteria: &[(&str, &str)]) -> Option<Exclusion> {
    if NEEDS_OBJECT_ID.contains(&object) {
        return Some(Exclusion::NeedsObjectId);
    }
    if !queryable {
        return Some(Exclusion::NotQueryable);
    }
    if !criteria.is_empty()
        && !criteria
            .iter()
            .any(|(c, v)| matches_criterion(object, c, v))
    {
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

    #[test]
    fn all_eight_criteria_are_case_insensitive() {
        assert!(matches_criterion("Account", "starts with", "acc"));
        assert!(!matches_criterion("Account", "starts not with", "ACC"));
        assert!(matches_criterion("AccountHistory", "ends with", "HISTORY"));
        assert!(!matches_criterion(
            "AccountHistory",
            "ends not with",
            "history"
        ));
        assert!(matches_criterion(
            "OpportunityFieldHistory",
            "contains",
            "field"
        ));
        assert!(matches_criterion("Account", "not contains", "field"));
        assert!(matches_criterion("Account", "exacts", "account"));
        assert!(!matches_criterion("Account", "not exacts", "ACCOUNT"));
        assert!(!matches_criterion("Account", "resembles", "acc"));
    }

    #[test]
    fn criteria_are_unioned() {
        let criteria = [("exacts", "Account"), ("starts with", "Opp")];
        assert_eq!(exclusion("Account", true, &criteria), None);
        assert_eq!(exclusion("Opportunity", true, &criteria), None);
        assert_eq!(
            exclusion("Contact", true, &criteria),
            Some(Exclusion::NotInStreamsCriteria)
        );
    }

    #[test]
    fn unqueryable_and_restricted_objects_are_left_out_with_a_reason() {
        assert_eq!(exclusion("Foo", false, &[]), Some(Exclusion::NotQueryable));
        assert_eq!(
            exclusion("AccountChangeEvent", true, &[]),
            Some(Exclusion::ChangeEvent)
        );
        assert_eq!(
            exclusion("Vote", true, &[]),
            Some(Exclusion::QueryRestricted)
        );
        assert_eq!(
            exclusion("ActivityHistory", true, &[]),
            Some(Exclusion::QueryIncompatible)
        );
        assert_eq!(
            exclusion("ActivityMetric", true, &[]),
            Some(Exclusion::NeedsObjectId)
        );
        assert_eq!(exclusion("Account", true, &[]), None);
    }
}
