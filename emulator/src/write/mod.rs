//! Record writes as Salesforce validates them, shared by Bulk API 2.0 ingest and the REST writes.
//!
//! A write arrives as cells (Bulk CSV text, or REST JSON turned into the same form), is checked
//! against the object's describe metadata (permissions, types, lengths, picklists, references,
//! required fields, uniqueness, validation rules) and then applied through [`OrgStore`], so the
//! read side sees accepted rows at once. Both APIs report the same [`RecordError`]s; Bulk prints
//! them as `sf__Error` text, REST as its error array.
//!
//! [`OrgStore`]: crate::store::OrgStore

pub(crate) mod admin;
pub(crate) mod api_error;
pub(crate) mod config;
pub(crate) mod error;
pub(crate) mod id;
pub(crate) mod record;
pub(crate) mod rules;
pub(crate) mod state;
pub(crate) mod value;

#[cfg(test)]
pub(crate) mod test_org;

pub(crate) use api_error::ApiError;
pub(crate) use config::WriteConfig;
pub(crate) use error::RecordError;
pub(crate) use record::{Cell, Column, RecordWriter, WriteOperation};
pub(crate) use rules::WriteRules;
pub(crate) use state::{WriteSide, WriteState};
