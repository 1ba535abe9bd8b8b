//! Decoding what Salesforce sends into record bytes: CSV split into rows as the bytes arrive
//! ([`csv_stream`]), each value converted by what its field's type means for reading
//! ([`field_kind`], [`convert`]), written as JSON without building a `Value` ([`json_write`]).

pub(crate) mod convert;
pub(crate) mod csv_stream;
pub(crate) mod field_kind;
pub(crate) mod json_write;
