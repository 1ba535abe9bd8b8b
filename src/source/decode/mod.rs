//! Decoding what Salesforce sends into record bytes: CSV split into rows as the bytes arrive
//! ([`csv_stream`]), each value converted by what its field's type means for reading
//! ([`field_kind`], [`convert`]), written as JSON without building a `Value` ([`json_write`]).

pub mod convert;
pub mod csv_stream;
pub mod field_kind;
pub mod json_write;
