//! Fetching a stream's rows from Salesforce: a Bulk API 2.0 query job ([`bulk`]), REST
//! `queryAll` pages ([`rest`]), rows deleted since the last read ([`hard_deletes`]). Both readers
//! hand their records to a [`sink`].

pub mod bulk;
pub mod hard_deletes;
pub mod rest;
pub mod sink;
