//! Record writes as Salesforce validates them, shared by Bulk API 2.0 ingest and the REST writes.
//!
//! A write arrives as cells (Bulk CSV text, or REST JSON turned into the same form), is checked
//! against the object's describe metadata (permissions, types, lengths, picklists, references,
//! required fields, uniqueness, validation rules) and then applied through [`OrgStore`], so the
//! read side sees accepted rows at once. Both APIs report the same [`RecordError`]s; Bulk prints
//! them as `sf__Error` text, REST as its error array.
//!
//! [`OrgStore`]: crate::store::OrgStore

pub mod admin;
pub mod api_error;
pub mod config;
pub mod error;
pub mod id;
pub mod record;
pub mod rules;
pub mod state;
pub mod value;

#[cfg(test)]
pub(crate) mod test_org;

pub use api_error::ApiError;
pub use config::WriteConfig;
pub use error::RecordError;
pub use record::{Cell, Column, Outcome, RecordWriter, WriteOperation};
pub use rules::{LockRowFault, RuleCondition, ValidationRule, WriteRules};
pub use state::{OrgAccess, WriteSide, WriteState};
