//! What the write side (Bulk API 2.0 ingest, REST writes, the admin API) needs from the org.
//!
//! The org (`org.rs`) implements this trait; the write side is written against it, so that
//! validation logic never reaches into how the org keeps its records (generated rows plus an
//! overlay of changes).

use std::sync::Arc;

use chrono::{DateTime, Utc};

use crate::schema::{SObject, Value};

/// A record as the org holds it: its values aligned with `SObject::fields`.
#[derive(Clone, Debug, PartialEq)]
pub struct StoredRecord {
    pub id: String,
    pub values: Vec<Value>,
    /// True when the record is in the recycle bin (soft-deleted).
    pub is_deleted: bool,
}

/// Why a write was refused by the org itself (the caller has validated types and permissions).
#[derive(Clone, Debug, PartialEq, thiserror::Error)]
pub enum StoreError {
    #[error("entity is deleted")]
    EntityIsDeleted,
    #[error("entity not found")]
    NotFound,
    #[error("unknown object {0}")]
    UnknownObject(String),
}

/// The fields a write gives: (field index in describe order, value).
pub(crate) type FieldValues = Vec<(usize, Value)>;

pub trait OrgStore {
    /// The object's metadata, by API name (case-insensitive).
    fn sobject(&self, object: &str) -> Option<Arc<SObject>>;

    /// The current time of the org's clock.
    fn now(&self) -> DateTime<Utc>;

    /// The id of the user the current session acts as (`LastModifiedById` of its writes).
    fn current_user_id(&self) -> String;

    /// A record by 18-character id, live or in the recycle bin; `None` when it never existed or
    /// was hard-deleted / purged.
    fn get(&self, object: &str, id: &str) -> Option<StoredRecord>;

    /// Ids of live records whose `field` equals `value` (text compared as Salesforce compares
    /// external ids: case-insensitively unless the field is case-sensitive).
    fn find_by_field(&self, object: &str, field: &str, value: &Value) -> Vec<String>;

    /// Inserts a record: system fields (Id, CreatedDate, CreatedById, LastModifiedDate,
    /// LastModifiedById, SystemModstamp, IsDeleted) are set by the org; `values` holds
    /// (field index, value) for the fields given. Returns the new 18-character id.
    fn insert(&mut self, object: &str, values: FieldValues) -> Result<String, StoreError>;

    /// Updates the given fields; the org bumps LastModifiedDate, LastModifiedById and
    /// SystemModstamp.
    fn update(&mut self, object: &str, id: &str, values: FieldValues) -> Result<(), StoreError>;

    /// Soft delete (recycle bin, `IsDeleted=true`, seen by queryAll) or hard delete (gone,
    /// recorded in the deletion log that getDeleted reads).
    fn delete(&mut self, object: &str, id: &str, hard: bool) -> Result<(), StoreError>;

    /// Restores a soft-deleted record from the recycle bin.
    fn undelete(&mut self, object: &str, id: &str) -> Result<(), StoreError>;
}
