//! Where the Bulk and REST readers hand their records.

use crate::source::decode::convert::RecordKeys;

/// Receives the records of one query, in the order the API returned them.
pub(crate) trait RecordSink {
    type Error;

    /// One record: its data object (JSON bytes) and its Id and cursor.
    fn record(&mut self, data: &[u8], keys: &RecordKeys) -> Result<(), Self::Error>;

    /// How many rows the query will return, as soon as the API says.
    fn estimate(&mut self, rows: u64) -> Result<(), Self::Error>;
}
