//! The SOQL subset Salesforce's query APIs accept, as `query`, `queryAll` and Bulk API 2.0
//! query jobs need it.
//!
//! Two steps, so that syntax errors come before metadata lookups, as in Salesforce:
//!
//! ```text
//! let query = soql::parse("SELECT Id, Name FROM account WHERE Name LIKE 'acme%'")?;
//! let resolved = soql::resolve(query, &|name| name.eq_ignore_ascii_case("Account").then(account))?;
//! assert_eq!(resolved.fields(), &[0, 1]);
//! assert!(resolved.matches(&row, now));
//! ```
//!
//! (`tests::parse_then_resolve_then_match` runs this example.)
//!
//! Supported: SELECT field lists (compound fields included, `FIELDS(ALL|STANDARD|CUSTOM)`,
//! `COUNT()`), FROM, WHERE with `AND`/`OR`/`NOT` and parentheses (mixing AND and OR needs
//! parentheses, as in Salesforce), `= != <> < <= > >= LIKE IN NOT IN INCLUDES EXCLUDES`,
//! string, number, boolean, null, date, datetime and relative date literals (`TODAY`,
//! `LAST_N_DAYS:n`, `THIS_MONTH`, `N_YEARS_AGO:n`…, see [`date_literal::RelativeDate`]), ORDER BY (ASC/DESC, NULLS
//! FIRST/LAST), LIMIT and OFFSET (≤ 2,000).
//!
//! Refused with a clear error: relationship paths (`Owner.Name`), subqueries, functions and
//! aggregates (`COUNT(Id)`, `DAY_ONLY()`), TYPEOF, GROUP BY and other clauses.
//!
//! For the org: [`ResolvedQuery::matches`] filters a [`Row`] without allocating,
//! [`ResolvedQuery::compare`] orders rows by ORDER BY, and [`ResolvedQuery::range_on`] gives the
//! bounds the WHERE clause puts on one field (compare against them with [`eval::compare_values`]), so
//! a range on a cursor field of generated data can be answered without a full scan.
//!
//! Errors carry Salesforce's `errorCode` and message text, with the echoed query line, caret
//! and `ERROR at Row:R:Column:C` for errors at a place in the query.

mod date_literal;
mod error;
mod eval;
mod lexer;
mod parser;
mod resolve;

pub(crate) use error::SoqlError;
pub(crate) use eval::Row;
pub(crate) use parser::parse;
pub(crate) use resolve::{resolve, ResolvedQuery};

#[cfg(test)]
mod tests;
