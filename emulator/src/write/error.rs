//! Per-record errors with Salesforce's status codes and message texts.
//!
//! Texts come from Salesforce's "Core Data Types / StatusCode" page, Bulk API 2.0 docs and
//! results files of real orgs (jsforce `test/bulk2.test.ts`); where no source gives the exact
//! text, the constructor says "unconfirmed" and uses a Salesforce-like text.

use serde_json::json;

/// One failed record: a StatusCode, its message and the fields it concerns.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) struct RecordError {
    pub code: &'static str,
    pub message: String,
    pub fields: Vec<String>,
}

impl RecordError {
    pub(crate) fn new(code: &'static str, message: impl Into<String>, fields: Vec<String>) -> Self {
        RecordError {
            code,
            message: message.into(),
            fields,
        }
    }

    /// The `sf__Error` cell of a Bulk failed-results row: `CODE:message:fields --`, fields
    /// separated by spaces (`REQUIRED_FIELD_MISSING:Required fields are missing: [Name]:Name --`).
    /// With no fields the tail is `:--`.
    pub(crate) fn sf_error(&self) -> String {
        if self.fields.is_empty() {
            format!("{}:{}:--", self.code, self.message)
        } else {
            format!(
                "{}:{}:{} --",
                self.code,
                self.message,
                self.fields.join(" ")
            )
        }
    }

    /// One entry of a REST error array: `{"message","errorCode","fields"}`.
    pub(crate) fn to_json(&self) -> serde_json::Value {
        json!({"message": self.message, "errorCode": self.code, "fields": self.fields})
    }

    /// Non-nillable fields without a default that a create (or an update to null) leaves empty.
    pub(crate) fn required_field_missing(fields: Vec<String>) -> Self {
        let message = format!("Required fields are missing: [{}]", fields.join(", "));
        RecordError::new("REQUIRED_FIELD_MISSING", message, fields)
    }

    /// A text longer than the field's `length`.
    pub(crate) fn string_too_long(label: &str, field: &str, value: &str, max: u32) -> Self {
        RecordError::new(
            "STRING_TOO_LONG",
            format!("{label}: data value too large: {value} (max length={max})"),
            vec![field.to_string()],
        )
    }

    /// A value that does not parse as the field's type. Text unconfirmed for Bulk CSV (Bulk
    /// 1.0 reported some of these as `Failed to deserialize field at col N`); this is the
    /// API's text for a value of the wrong type.
    pub(crate) fn invalid_type(label: &str, field: &str, value: &str) -> Self {
        RecordError::new(
            "INVALID_TYPE_ON_FIELD_IN_RECORD",
            format!("{label}: value not of required type: {value}"),
            vec![field.to_string()],
        )
    }

    /// A number with more integer digits than `precision - scale` allows.
    pub(crate) fn number_outside_range(label: &str, field: &str, value: &str) -> Self {
        RecordError::new(
            "NUMBER_OUTSIDE_VALID_RANGE",
            format!("{label}: value outside of valid range on numeric field: {value}"),
            vec![field.to_string()],
        )
    }

    pub(crate) fn invalid_email(label: &str, field: &str, value: &str) -> Self {
        RecordError::new(
            "INVALID_EMAIL_ADDRESS",
            format!("{label}: invalid email address: {value}"),
            vec![field.to_string()],
        )
    }

    /// A value outside a restricted picklist's active values.
    pub(crate) fn restricted_picklist(label: &str, field: &str, value: &str) -> Self {
        RecordError::new(
            "INVALID_OR_NULL_FOR_RESTRICTED_PICKLIST",
            format!("{label}: bad value for restricted picklist field: {value}"),
            vec![field.to_string()],
        )
    }

    /// An id that is not 15/18 alphanumerics with a valid checksum, or names another object.
    pub(crate) fn malformed_id(label: &str, field: &str, value: &str) -> Self {
        RecordError::new(
            "MALFORMED_ID",
            format!("{label}: id value of incorrect type: {value}"),
            vec![field.to_string()],
        )
    }

    /// The record (or a referenced record) is in the recycle bin.
    pub(crate) fn entity_is_deleted() -> Self {
        RecordError::new("ENTITY_IS_DELETED", "entity is deleted", Vec::new())
    }

    /// A well-formed id that names no record. Text per the StatusCode list; whether Salesforce
    /// names the field here is unconfirmed.
    pub(crate) fn invalid_cross_reference(fields: Vec<String>) -> Self {
        RecordError::new(
            "INVALID_CROSS_REFERENCE_KEY",
            "invalid cross reference id",
            fields,
        )
    }

    /// Fields the operation may not set (not createable on insert, not updateable on update).
    pub(crate) fn not_writable(fields: Vec<String>) -> Self {
        let message = format!(
            "Unable to create/update fields: {}. Please check the security settings of this \
             field and verify that it is read/write for your profile or permission set.",
            fields.join(", ")
        );
        RecordError::new("INVALID_FIELD_FOR_INSERT_UPDATE", message, fields)
    }

    /// An `Id` value in an insert.
    pub(crate) fn id_on_insert() -> Self {
        RecordError::new(
            "INVALID_FIELD_FOR_INSERT_UPDATE",
            "cannot specify Id in an insert call",
            vec!["Id".to_string()],
        )
    }

    /// Update / delete row without an Id.
    pub(crate) fn missing_id(call: &str) -> Self {
        RecordError::new(
            "MISSING_ARGUMENT",
            format!(
                "Id not specified in {} {call} call",
                if call.starts_with(['a', 'e', 'i', 'o', 'u']) {
                    "an"
                } else {
                    "a"
                }
            ),
            Vec::new(),
        )
    }

    /// Upsert row whose external id cell is empty. Text unconfirmed.
    pub(crate) fn missing_external_id(field: &str) -> Self {
        RecordError::new(
            "MISSING_ARGUMENT",
            format!("{field} not specified"),
            Vec::new(),
        )
    }

    /// The same external id twice in one batch of an upsert job.
    pub(crate) fn duplicate_external_id_in_batch(field: &str, value: &str) -> Self {
        RecordError::new(
            "DUPLICATE_VALUE",
            format!("Duplicate external id specified: {value}"),
            vec![field.to_string()],
        )
    }

    /// A unique field's value that another record already holds.
    pub(crate) fn duplicate_value(field: &str, existing_id: &str) -> Self {
        RecordError::new(
            "DUPLICATE_VALUE",
            format!(
                "duplicate value found: {field} duplicates value on record with id: {existing_id}"
            ),
            Vec::new(),
        )
    }

    /// An upsert key (or a relationship key) that matches several records.
    pub(crate) fn duplicate_external_id(label: &str, field: &str, ids: &[String]) -> Self {
        RecordError::new(
            "DUPLICATE_EXTERNAL_ID",
            format!(
                "{label}: more than one record found for external id field: [{}]",
                ids.join(", ")
            ),
            vec![field.to_string()],
        )
    }

    /// A relationship column (`Account.Ext__c`) whose value matches no record.
    pub(crate) fn foreign_key_not_found(value: &str, field: &str, entity: &str) -> Self {
        RecordError::new(
            "INVALID_FIELD",
            format!(
                "Foreign key external ID: {value} not found for field {field} in entity {entity}"
            ),
            Vec::new(),
        )
    }

    /// A configured validation rule fired; `field` is the rule's error location (none = top of
    /// page).
    pub(crate) fn custom_validation(message: &str, field: Option<&str>) -> Self {
        RecordError::new(
            "FIELD_CUSTOM_VALIDATION_EXCEPTION",
            message,
            field.map(|f| vec![f.to_string()]).unwrap_or_default(),
        )
    }

    /// A write the object itself does not allow (describe `createable`, `updateable`,
    /// `deletable` false). Text unconfirmed.
    pub(crate) fn invalid_type_for_operation(verb: &str, object_label: &str) -> Self {
        RecordError::new(
            "INVALID_TYPE_FOR_OPERATION",
            format!("entity type cannot be {verb}: {object_label}"),
            Vec::new(),
        )
    }

    pub(crate) fn unable_to_lock_row() -> Self {
        RecordError::new(
            "UNABLE_TO_LOCK_ROW",
            "unable to obtain exclusive access to this record",
            Vec::new(),
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sf_error_has_code_message_fields_and_dashes() {
        let e = RecordError::required_field_missing(vec!["Name".into()]);
        assert_eq!(
            e.sf_error(),
            "REQUIRED_FIELD_MISSING:Required fields are missing: [Name]:Name --"
        );
    }

    #[test]
    fn sf_error_without_fields_ends_in_colon_dashes() {
        assert_eq!(
            RecordError::entity_is_deleted().sf_error(),
            "ENTITY_IS_DELETED:entity is deleted:--"
        );
    }

    #[test]
    fn json_form_is_the_rest_error_entry() {
        let e = RecordError::restricted_picklist("Rating", "Rating", "Lukewarm");
        assert_eq!(
            e.to_json(),
            json!({"message": "Rating: bad value for restricted picklist field: Lukewarm",
                   "errorCode": "INVALID_OR_NULL_FOR_RESTRICTED_PICKLIST", "fields": ["Rating"]})
        );
    }
}
