//! Reading records' current values with Bulk API 2.0 query jobs: the SOQL of one lookup
//! (`SELECT … FROM Object WHERE Key IN (…)`, bounded in length) and its result rows.

use futures::StreamExt;

use crate::destination::route::sobject::FieldKind;
use crate::salesforce::soql::quote_string;
use crate::salesforce::{Error, QueryJob, QueryOperation, SalesforceClient};

/// Salesforce refuses SOQL statements longer than 100,000 characters; a lookup stays well
/// below with its whole `IN` list.
pub(crate) const MAX_IN_LIST_CHARS: usize = 80_000;

/// Keys per lookup query (bounds the rows held per lookup, whatever the key length).
pub(crate) const MAX_KEYS_PER_QUERY: usize = 4_000;

/// Result pages fetched again when they arrive shorter than `Sforce-NumberOfRecords` says.
const PAGE_ATTEMPTS: u32 = 3;

/// Why a lookup gave no answer.
#[derive(Debug, thiserror::Error)]
pub(crate) enum LookupError {
    #[error(transparent)]
    Salesforce(#[from] Error),
    #[error("Bulk query job {job_id}: result page: {detail}")]
    Results { job_id: String, detail: String },
}

/// The SOQL literal for a key value of a field of `kind`, or `None` when the value cannot be
/// looked up (such a row is written without comparing).
pub(crate) fn soql_literal(kind: FieldKind, value: &str) -> Option<String> {
    match kind {
        FieldKind::Id => (matches!(value.len(), 15 | 18)
            && value.bytes().all(|b| b.is_ascii_alphanumeric()))
        .then(|| format!("'{value}'")),
        FieldKind::Integer | FieldKind::Long | FieldKind::Decimal => {
            crate::destination::unchanged::normalize::canonical_decimal(value)
        }
        _ => Some(quote_string(value)),
    }
}

/// `SELECT <fields> FROM <object> WHERE <key> IN (<literals>)`.
pub(crate) fn lookup_soql(fields: &[&str], object: &str, key: &str, literals: &[&str]) -> String {
    format!(
        "SELECT {} FROM {object} WHERE {key} IN ({})",
        fields.join(", "),
        literals.join(", ")
    )
}

/// Runs `soql` as a Bulk query job and returns its rows (header checked against `fields`,
/// then left out), every page read.
pub(crate) async fn query_rows(
    client: &SalesforceClient,
    soql: &str,
    fields: &[&str],
) -> Result<Vec<csv::StringRecord>, LookupError> {
    let job = client.create_query_job(soql, QueryOperation::Query).await?;
    let job = client.wait_for_job::<QueryJob>(&job.id).await?;
    let mut rows = Vec::new();
    let mut locator: Option<String> = None;
    loop {
        let mut attempt = 1;
        let next = loop {
            let page = client
                .query_job_results(&job.id, locator.as_deref(), None)
                .await?;
            let expected = page.number_of_records;
            // A page cut short (a broken body, a half row, fewer rows than announced) is
            // fetched again from its locator.
            match read_page(page.body, fields, expected).await {
                Ok(page_rows) => {
                    rows.extend(page_rows);
                    break page.next_locator;
                }
                Err(detail) if attempt == PAGE_ATTEMPTS => {
                    return Err(LookupError::Results {
                        job_id: job.id.clone(),
                        detail: format!("{detail} (after {attempt} attempts)"),
                    });
                }
                Err(detail) => {
                    tracing::warn!(
                        "Bulk query job {}: result page {detail}; fetching it again",
                        job.id
                    );
                    attempt += 1;
                }
            }
        };
        match next {
            Some(next) => locator = Some(next),
            None => break,
        }
    }
    Ok(rows)
}

/// One page's body, read and checked: every row complete, as many as `expected`.
async fn read_page(
    mut stream: crate::salesforce::ByteStream,
    fields: &[&str],
    expected: Option<u64>,
) -> Result<Vec<csv::StringRecord>, String> {
    let mut body = Vec::new();
    while let Some(chunk) = stream.next().await {
        body.extend_from_slice(&chunk.map_err(|e| format!("broke off: {e}"))?);
    }
    let rows = parse_page(&body, fields)?;
    match expected {
        Some(n) if n != rows.len() as u64 => Err(format!(
            "held {} rows where Sforce-NumberOfRecords announced {n}",
            rows.len()
        )),
        _ => Ok(rows),
    }
}

/// One result page: a CSV whose header must be `fields` (names match case-insensitively).
fn parse_page(body: &[u8], fields: &[&str]) -> Result<Vec<csv::StringRecord>, String> {
    let mut reader = csv::ReaderBuilder::new()
        .has_headers(true)
        .from_reader(body);
    let header = reader.headers().map_err(|e| e.to_string())?.clone();
    let expected = header.len() == fields.len()
        && header
            .iter()
            .zip(fields)
            .all(|(got, want)| got.eq_ignore_ascii_case(want));
    if !expected && !body.is_empty() {
        return Err(format!(
            "columns {:?}, expected {fields:?}",
            header.iter().collect::<Vec<_>>()
        ));
    }
    let mut rows = Vec::new();
    for record in reader.records() {
        let record = record.map_err(|e| e.to_string())?;
        if record.len() != fields.len() {
            return Err(format!(
                "a row of {} values, expected {}",
                record.len(),
                fields.len()
            ));
        }
        rows.push(record);
    }
    Ok(rows)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn key_literals_are_quoted_escaped_or_left_out() {
        assert_eq!(
            soql_literal(FieldKind::Text, r"O'Brien \ co").as_deref(),
            Some(r"'O\'Brien \\ co'")
        );
        assert_eq!(
            soql_literal(FieldKind::Text, "a\nb").as_deref(),
            Some(r"'a\nb'")
        );
        assert_eq!(
            soql_literal(FieldKind::Id, "001000000000001AAA").as_deref(),
            Some("'001000000000001AAA'")
        );
        assert_eq!(soql_literal(FieldKind::Id, "001' OR Name != '"), None);
        assert_eq!(
            soql_literal(FieldKind::Decimal, "1.50").as_deref(),
            Some("1.5")
        );
        assert_eq!(soql_literal(FieldKind::Integer, "1; DELETE"), None);
        assert_eq!(
            lookup_soql(&["Id", "Name"], "Account", "Id", &["'a'", "'b'"]),
            "SELECT Id, Name FROM Account WHERE Id IN ('a', 'b')"
        );
    }

    #[test]
    fn result_pages_are_checked_against_the_selected_fields() {
        let rows = parse_page(
            b"\"Id\",\"Name\"\n\"001\",\"A, b\"\n\"002\",\"\"\n",
            &["Id", "Name"],
        )
        .unwrap();
        assert_eq!(rows.len(), 2);
        assert_eq!(&rows[0][1], "A, b");
        assert_eq!(&rows[1][1], "");
        assert!(parse_page(b"\"Id\"\n\"001\"\n", &["Id", "Name"])
            .unwrap_err()
            .contains("expected"));
        assert!(parse_page(b"", &["Id"]).unwrap().is_empty());
    }
}
