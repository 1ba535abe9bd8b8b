//! One CSV row as Salesforce's Bulk API reads it: the batch files and the dead-letter queue's
//! CSV both write rows through here.

/// Appends one CSV row (comma, LF). A cell is quoted when it holds a comma, quote, CR or LF, or
/// starts or ends with a space (Salesforce trims unquoted spaces); quotes are doubled.
pub(crate) fn write_csv_row<S: AsRef<str>>(out: &mut Vec<u8>, cells: &[S]) {
    for (i, cell) in cells.iter().enumerate() {
        if i > 0 {
            out.push(b',');
        }
        let cell = cell.as_ref();
        let needs_quotes = cell
            .bytes()
            .any(|b| matches!(b, b',' | b'"' | b'\r' | b'\n'))
            || cell.starts_with([' ', '\t'])
            || cell.ends_with([' ', '\t']);
        if needs_quotes {
            out.push(b'"');
            for b in cell.bytes() {
                if b == b'"' {
                    out.push(b'"');
                }
                out.push(b);
            }
            out.push(b'"');
        } else {
            out.extend_from_slice(cell.as_bytes());
        }
    }
    out.push(b'\n');
}
