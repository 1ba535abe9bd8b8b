//! Fetching a stream's rows from Salesforce: a Bulk API 2.0 query job ([`bulk`]), its result
//! pages downloaded several at once ([`result_pages`]) as many as pay off ([`adaptive`]), one such page ([`page`]), REST `queryAll` pages ([`rest`]), rows
//! deleted since the last read ([`hard_deletes`]). Both readers hand their records to a
//! [`RecordSink`](crate::source::output::sink::RecordSink), which the output stage implements.

pub(crate) mod adaptive;
pub(crate) mod bulk;
pub(crate) mod hard_deletes;
pub(crate) mod page;
pub(crate) mod rest;
pub(crate) mod result_pages;
