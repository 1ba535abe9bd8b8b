//! The four Bulk API 2.0 ingest operations the destination performs, and how Airbyte's
//! destination sync modes name them.

use std::fmt;

/// What an ingest job does with each row.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub(crate) enum Operation {
    /// `append`: create a record per row.
    Insert,
    /// `update`: change the record whose `Id` the row carries.
    Update,
    /// `append_dedup`: create or change the record matched on an external-id field.
    Upsert { external_id_field: String },
    /// `soft_delete`: move the record whose `Id` the row carries to the recycle bin.
    Delete,
    /// `soft_delete` of a stream listed in `hard_delete_streams`: delete the record for good
    /// (it skips the recycle bin).
    HardDelete,
}

impl Operation {
    /// The Bulk API `operation` value.
    pub(crate) fn as_str(&self) -> &'static str {
        match self {
            Operation::Insert => "insert",
            Operation::Update => "update",
            Operation::Upsert { .. } => "upsert",
            Operation::Delete => "delete",
            Operation::HardDelete => "hardDelete",
        }
    }

    /// Whether the rows only name records to delete (`Id` only).
    pub(crate) fn is_delete(&self) -> bool {
        matches!(self, Operation::Delete | Operation::HardDelete)
    }

    /// Airbyte's destination sync mode for this operation (data-activation catalogs).
    #[cfg(test)]
    pub(crate) fn sync_mode(&self) -> &'static str {
        match self {
            Operation::Insert => "append",
            Operation::Update => "update",
            Operation::Upsert { .. } => "append_dedup",
            Operation::Delete | Operation::HardDelete => "soft_delete",
        }
    }

    /// The field that identifies a row's target record, if the operation has one.
    pub(crate) fn key_field(&self) -> Option<&str> {
        match self {
            Operation::Insert => None,
            Operation::Update | Operation::Delete | Operation::HardDelete => Some("Id"),
            Operation::Upsert { external_id_field } => Some(external_id_field),
        }
    }

    /// Whether a JSON null may be written as `#N/A` (set the field to null).
    pub(crate) fn allows_nulling(&self) -> bool {
        !self.is_delete()
    }

    /// The external-id field name Bulk API wants on job creation (upsert only).
    pub(crate) fn external_id_field_name(&self) -> Option<&str> {
        match self {
            Operation::Upsert { external_id_field } => Some(external_id_field),
            _ => None,
        }
    }
}

impl fmt::Display for Operation {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Operation::Upsert { external_id_field } => write!(f, "upsert on {external_id_field}"),
            other => f.write_str(other.as_str()),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn upsert_is_keyed_on_its_external_id_and_delete_on_id() {
        let upsert = Operation::Upsert {
            external_id_field: "Ext__c".into(),
        };
        assert_eq!(upsert.key_field(), Some("Ext__c"));
        assert_eq!(upsert.sync_mode(), "append_dedup");
        assert_eq!(Operation::Delete.key_field(), Some("Id"));
        assert_eq!(Operation::Insert.key_field(), None);
        assert!(!Operation::Delete.allows_nulling());
    }
}
