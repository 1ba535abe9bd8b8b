//! Fetching a stream's rows from Salesforce: a Bulk API 2.0 query job ([`bulk`]), REST
//! `queryAll` pages ([`rest`]), rows deleted since the last read ([`hard_deletes`]). Both readers
//! hand their records to a [`RecordSink`](crate::source::output::sink::RecordSink), which the
//! output stage implements.

pub(crate) mod bulk;
pub(crate) mod hard_deletes;
pub(crate) mod rest;
