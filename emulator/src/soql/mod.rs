//! The SOQL subset Salesforce's query APIs accept, as `query`, `queryAll` and Bulk API 2.0
//! query jobs need it.
//!
//! Two steps, so that syntax errors come before metadata lookups, as in Salesforce:
//!
//! ```
//! use std::sync::Arc;
//! use sf_emulator::schema::{Field, FieldType, SObject, Value};
//! use sf_emulator::soql;
//! # fn account() -> Arc<SObject> {
//! #     Arc::new(SObject { name: "Account".into(), label: "Account".into(),
//! #         label_plural: "Accounts".into(), key_prefix: Some("001".into()), custom: false,
//! #         queryable: true, retrieveable: true, replicateable: true, createable: true,
//! #         updateable: true, deletable: true, undeletable: true, searchable: true,
//! #         triggerable: true, bulk_queryable: true,
//! #         fields: vec![Field::new("Id", "Id", FieldType::Id), Field::new("Name", "Name", FieldType::String)] })
//! # }
//! let query = soql::parse("SELECT Id, Name FROM account WHERE Name LIKE 'acme%'")?;
//! let resolved = soql::resolve(query, &|name| {
//!     name.eq_ignore_ascii_case("Account").then(account)
//! })?;
//! assert_eq!(resolved.fields(), &[0, 1]);
//! let row = vec![Value::Text("001000000000001AAA".into()), Value::Text("ACME Inc".into())];
//! assert!(resolved.matches(&row, chrono::Utc::now()));
//! # Ok::<(), soql::SoqlError>(())
//! ```
//!
//! Supported: SELECT field lists (compound fields included, `FIELDS(ALL|STANDARD|CUSTOM)`,
//! `COUNT()`), FROM, WHERE with `AND`/`OR`/`NOT` and parentheses (mixing AND and OR needs
//! parentheses, as in Salesforce), `= != <> < <= > >= LIKE IN NOT IN INCLUDES EXCLUDES`,
//! string, number, boolean, null, date, datetime and relative date literals (`TODAY`,
//! `LAST_N_DAYS:n`, `THIS_MONTH`, `N_YEARS_AGO:n`…, see [`RelativeDate`]), ORDER BY (ASC/DESC, NULLS
//! FIRST/LAST), LIMIT and OFFSET (≤ 2,000).
//!
//! Refused with a clear error: relationship paths (`Owner.Name`), subqueries, functions and
//! aggregates (`COUNT(Id)`, `DAY_ONLY()`), TYPEOF, GROUP BY and other clauses.
//!
//! For the org: [`ResolvedQuery::matches`] filters a [`Row`] without allocating,
//! [`ResolvedQuery::compare`] orders rows by ORDER BY, and [`ResolvedQuery::range_on`] gives the
//! bounds the WHERE clause puts on one field (compare against them with [`compare_values`]), so
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

pub use date_literal::{DateUnit, RelativeDate};
pub use error::{
    SoqlError, INVALID_FIELD, INVALID_QUERY_FILTER_OPERATOR, INVALID_TYPE, MALFORMED_QUERY,
    NUMBER_OUTSIDE_VALID_RANGE,
};
pub use eval::{compare_values, Row};
pub use lexer::Comparison;
pub use parser::{parse, Query, MAX_OFFSET};
pub use resolve::{resolve, OrderBy, ResolvedQuery};

#[cfg(test)]
mod tests;
