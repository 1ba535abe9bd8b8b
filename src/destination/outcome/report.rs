//! The per-record outcome report (`outcome_report`): for every input record one JSON line
//! saying what became of it — `created`, `updated`, `deleted`, `rejected` or
//! `skipped_unchanged` — with the Salesforce Id, so a warehouse can write Ids back (Census's "sync tracking"). Lines are
//! written beside the dead-letter queue (same store, local folder or S3) under
//! `outcome_report/<run id>/`, one object per loaded batch and one per group of records refused
//! before any job, before the STATE after those records is echoed.

use serde::Serialize;
use serde_json::value::RawValue;
use serde_json::{Map, Value};

use crate::destination::outcome::dlq::{DeadLetterQueue, DlqError};
use crate::destination::route::mapping::StreamTarget;

/// One line of the report.
#[derive(Debug, Serialize)]
pub(crate) struct OutcomeLine<'a> {
    pub stream: &'a str,
    pub namespace: Option<&'a str>,
    /// The input's key: its values of the stream's `primary_key` (or of the operation's key
    /// field, `Id` or the upsert's external id); null when the stream has neither.
    pub key: Value,
    pub operation: &'a str,
    /// `created`, `updated`, `deleted`, `rejected` or `skipped_unchanged`.
    pub outcome: &'a str,
    pub salesforce_id: Option<&'a str>,
    /// Why a rejected record was refused (Salesforce's code, or the connector's).
    pub error_code: Option<&'a str>,
}

/// What the key of `data` is for `target`'s report.
pub(crate) fn input_key(target: &StreamTarget, data: &RawValue) -> Value {
    if target.report_key.is_empty() {
        return Value::Null;
    }
    let Ok(record) = serde_json::from_str::<Map<String, Value>>(data.get()) else {
        return Value::Null;
    };
    let mut key = Map::new();
    for field in &target.report_key {
        let value = record
            .get(field)
            .or_else(|| {
                record
                    .iter()
                    .find(|(k, _)| k.eq_ignore_ascii_case(field))
                    .map(|(_, v)| v)
            })
            .cloned()
            .unwrap_or(Value::Null);
        key.insert(field.clone(), value);
    }
    Value::Object(key)
}

/// Lines of one stream waiting to be written.
#[derive(Default)]
pub(crate) struct OutcomeBuffer {
    bytes: Vec<u8>,
}

impl OutcomeBuffer {
    pub(crate) fn push(&mut self, line: &OutcomeLine<'_>) {
        if serde_json::to_writer(&mut self.bytes, line).is_ok() {
            self.bytes.push(b'\n');
        }
    }

    pub(crate) fn is_empty(&self) -> bool {
        self.bytes.is_empty()
    }

    /// Writes the lines as one object of the report; nothing when empty.
    pub(crate) async fn write(
        self,
        dlq: &DeadLetterQueue,
        stream: &str,
    ) -> Result<Option<String>, DlqError> {
        if self.bytes.is_empty() {
            return Ok(None);
        }
        dlq.put_outcomes(stream, self.bytes).await.map(Some)
    }
}
