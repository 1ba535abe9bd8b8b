//! End-to-end tests of parse → resolve → evaluate over a small hand-built object.

use std::cmp::Ordering;
use std::ops::Bound;
use std::sync::Arc;

use chrono::{DateTime, NaiveDate, TimeZone, Utc};

use super::error::{INVALID_FIELD, INVALID_QUERY_FILTER_OPERATOR, INVALID_TYPE, MALFORMED_QUERY};
use super::eval::compare_values;
use super::*;
use crate::schema::{Field, FieldType, SObject, Value};

const ID: usize = 0;
const NAME: usize = 1;
const EMPLOYEES: usize = 3;
const ACTIVE: usize = 4;
const CLOSE_DATE: usize = 5;
const MODSTAMP: usize = 6;
const BILLING_ADDRESS: usize = 8;
const DESCRIPTION: usize = 9;

fn account() -> Arc<SObject> {
    let mut description = Field::new("Description", "Description", FieldType::Textarea);
    description.length = 32000;
    description.filterable = false;
    Arc::new(SObject::new(
        "Account",
        "Account",
        "Accounts",
        Some("001"),
        vec![
            Field::new("Id", "Account ID", FieldType::Id),
            Field::new("Name", "Account Name", FieldType::String),
            Field::new("Amount__c", "Amount", FieldType::Currency),
            Field::new("NumberOfEmployees", "Employees", FieldType::Int),
            Field::new("Active__c", "Active", FieldType::Boolean),
            Field::new("CloseDate__c", "Close Date", FieldType::Date),
            Field::new("SystemModstamp", "System Modstamp", FieldType::DateTime),
            Field::new("Tags__c", "Tags", FieldType::Multipicklist),
            Field::new("BillingAddress", "Billing Address", FieldType::Address),
            description,
        ],
    ))
}

fn lookup(name: &str) -> Option<Arc<SObject>> {
    name.eq_ignore_ascii_case("Account").then(account)
}

fn query(text: &str) -> ResolvedQuery {
    resolve(parse(text).unwrap(), &lookup).unwrap_or_else(|e| panic!("{text}: {e}"))
}

fn error(text: &str) -> SoqlError {
    match parse(text).and_then(|q| resolve(q, &lookup)) {
        Ok(_) => panic!("{text}: expected an error"),
        Err(e) => e,
    }
}

fn at(hour: u32) -> DateTime<Utc> {
    Utc.with_ymd_and_hms(2024, 1, 1, hour, 0, 0).unwrap()
}

fn now() -> DateTime<Utc> {
    Utc.with_ymd_and_hms(2024, 6, 15, 12, 0, 0).unwrap()
}

fn date(y: i32, m: u32, d: u32) -> NaiveDate {
    NaiveDate::from_ymd_opt(y, m, d).unwrap()
}

/// A row with the given name and defaults elsewhere.
fn row(name: Option<&str>) -> Vec<Value> {
    vec![
        Value::Text("001000000000001AAA".into()),
        name.map_or(Value::Null, |n| Value::Text(n.into())),
        Value::Double(100.5),
        Value::Int(42),
        Value::Bool(true),
        Value::Date(date(2024, 6, 14)),
        Value::DateTime(at(10)),
        Value::Text("Red;Green".into()),
        Value::Null,
        Value::Text("long text".into()),
    ]
}

fn matches(text: &str, row: &[Value]) -> bool {
    query(text).matches(&row, now())
}

fn select(where_clause: &str) -> String {
    format!("SELECT Id FROM Account WHERE {where_clause}")
}

#[test]
fn select_resolves_names_case_insensitively_in_select_order() {
    let q = query("select name, ID, billingaddress from ACCOUNT");
    assert_eq!(q.fields(), &[NAME, ID, BILLING_ADDRESS]);
    assert_eq!(q.sobject().name, "Account");
    assert!(!q.is_count());
    assert!(!q.has_filter());
}

#[test]
fn fields_qualified_by_the_object_name_resolve() {
    assert_eq!(query("SELECT Account.Name FROM Account").fields(), &[NAME]);
}

#[test]
fn count_query_resolves_with_its_filter() {
    let q = query("SELECT COUNT() FROM Account WHERE Name = 'x'");
    assert!(q.is_count());
    assert!(q.fields().is_empty());
    assert!(q.matches(&row(Some("X")), now()));
}

#[test]
fn fields_standard_expands_to_standard_fields() {
    let q = query("SELECT FIELDS(STANDARD) FROM Account");
    assert_eq!(
        q.fields(),
        &[ID, NAME, EMPLOYEES, MODSTAMP, BILLING_ADDRESS, DESCRIPTION]
    );
}

#[test]
fn fields_all_needs_a_limit_of_at_most_200() {
    let e = error("SELECT FIELDS(ALL) FROM Account");
    assert_eq!(e.error_code, MALFORMED_QUERY);
    assert!(e
        .message
        .ends_with("The SOQL FIELDS function must have a LIMIT of at most 200"));
    assert_eq!(
        query("SELECT FIELDS(ALL) FROM Account LIMIT 200")
            .fields()
            .len(),
        10
    );
}

#[test]
fn duplicate_field_is_refused() {
    let e = error("SELECT Id, Name, name FROM Account");
    assert!(
        e.message.ends_with("duplicate field selected: Name"),
        "{}",
        e.message
    );
}

#[test]
fn unknown_field_is_invalid_field_with_row_and_column() {
    let e = error("SELECT Id, Foo FROM Account");
    assert_eq!(e.error_code, INVALID_FIELD);
    assert_eq!(
        e.message,
        "\nSELECT Id, Foo FROM Account\n           ^\nERROR at Row:1:Column:12\nNo such column 'Foo' on entity 'Account'. If you are attempting to use a custom field, be sure to append the '__c' after the custom field name. Please reference your WSDL or the describe call for the appropriate names."
    );
}

#[test]
fn unknown_field_on_a_later_row_reports_that_row() {
    let e = error("SELECT Id\nFROM Account\nWHERE Bar = 1");
    assert_eq!(
        e.message,
        "\nWHERE Bar = 1\n      ^\nERROR at Row:3:Column:7\nNo such column 'Bar' on entity 'Account'. If you are attempting to use a custom field, be sure to append the '__c' after the custom field name. Please reference your WSDL or the describe call for the appropriate names."
    );
}

#[test]
fn unknown_object_is_invalid_type() {
    let e = error("SELECT Id FROM Foo");
    assert_eq!(e.error_code, INVALID_TYPE);
    assert_eq!(
        e.message,
        "\nSELECT Id FROM Foo\n               ^\nERROR at Row:1:Column:16\nsObject type 'Foo' is not supported. If you are attempting to use a custom object, be sure to append the '__c' after the entity name. Please reference your WSDL or the describe call for the appropriate names."
    );
}

#[test]
fn relationship_path_is_not_understood() {
    let e = error("SELECT Owner.Name FROM Account");
    assert_eq!(e.error_code, INVALID_FIELD);
    assert!(e
        .message
        .contains("Didn't understand relationship 'Owner' in field path."));
}

#[test]
fn subquery_relationship_is_not_understood() {
    let e = error("SELECT Id, (SELECT Id FROM Contacts) FROM Account");
    assert_eq!(e.error_code, INVALID_TYPE);
    assert!(e
        .message
        .contains("Didn't understand relationship 'Contacts' in FROM part of query call."));
}

#[test]
fn non_filterable_field_in_where_is_refused() {
    let e = error(&select("Description = 'x'"));
    assert_eq!(e.error_code, INVALID_FIELD);
    assert!(e
        .message
        .ends_with("field 'Description' can not be filtered in a query call"));
}

#[test]
fn compound_field_cannot_be_filtered_or_sorted() {
    let e = error(&select("BillingAddress = null"));
    assert!(e
        .message
        .ends_with("field 'BillingAddress' can not be filtered in a query call"));
    let e = error("SELECT Id FROM Account ORDER BY BillingAddress");
    assert_eq!(e.error_code, INVALID_FIELD);
    assert!(e
        .message
        .ends_with("field 'BillingAddress' can not be sorted in a query call"));
}

#[test]
fn date_literal_against_datetime_field_is_refused() {
    let e = error(&select("SystemModstamp > 2024-01-01"));
    assert_eq!(e.error_code, INVALID_FIELD);
    assert_eq!(
        e.message,
        "\nSELECT Id FROM Account WHERE SystemModstamp > 2024-01-01\n                             ^\nERROR at Row:1:Column:30\nvalue of filter criterion for field 'SystemModstamp' must be of type dateTime and should not be enclosed in quotes"
    );
}

#[test]
fn datetime_literal_against_date_field_is_refused() {
    let e = error(&select("CloseDate__c > 2024-01-01T00:00:00Z"));
    assert!(e.message.ends_with(
        "value of filter criterion for field 'CloseDate__c' must be of type date and should not be enclosed in quotes"
    ));
}

#[test]
fn quoted_values_against_typed_fields_are_refused() {
    for (clause, message) in [
        (
            "SystemModstamp > '2024-01-01T00:00:00Z'",
            "field 'SystemModstamp' must be of type dateTime and should not be enclosed in quotes",
        ),
        (
            "NumberOfEmployees = '5'",
            "field 'NumberOfEmployees' must be of type int and should not be enclosed in quotes",
        ),
        (
            "Amount__c = '5'",
            "field 'Amount__c' must be of type double and should not be enclosed in quotes",
        ),
        (
            "Active__c = 'true'",
            "field 'Active__c' must be of type boolean and should not be enclosed in quotes",
        ),
        (
            "Name = 5",
            "field 'Name' must be of type string and should be enclosed in quotes",
        ),
        (
            "Amount__c LIKE '5%'",
            "field 'Amount__c' must be of type double and should not be enclosed in quotes",
        ),
    ] {
        let e = error(&select(clause));
        assert_eq!(e.error_code, INVALID_FIELD, "{clause}");
        assert!(e.message.ends_with(message), "{clause}: {}", e.message);
    }
}

#[test]
fn malformed_id_literal_is_refused() {
    let e = error(&select("Id = 'abc'"));
    assert_eq!(e.error_code, INVALID_QUERY_FILTER_OPERATOR);
    assert!(e.message.ends_with("invalid ID field: abc"));
}

#[test]
fn fifteen_character_id_matches_its_eighteen_character_form() {
    assert!(matches(&select("Id = '001000000000001'"), &row(None)));
    assert!(matches(&select("Id = '001000000000001AAA'"), &row(None)));
    assert!(!matches(&select("Id = '001000000000002AAA'"), &row(None)));
}

#[test]
fn text_equality_is_case_insensitive() {
    let r = row(Some("Acme Corp"));
    assert!(matches(&select("Name = 'ACME corp'"), &r));
    assert!(!matches(&select("Name != 'acme CORP'"), &r));
    assert!(matches(&select("Name IN ('x', 'acme corp')"), &r));
    assert!(!matches(&select("Name NOT IN ('x', 'acme corp')"), &r));
}

#[test]
fn every_comparison_operator_on_numbers() {
    let r = row(None); // Amount 100.5, Employees 42
    for (clause, expected) in [
        ("Amount__c = 100.5", true),
        ("Amount__c != 100.5", false),
        ("Amount__c <> 100", true),
        ("Amount__c < 101", true),
        ("Amount__c <= 100.5", true),
        ("Amount__c > 100.5", false),
        ("Amount__c >= 1.005e2", true),
        ("NumberOfEmployees = 42", true),
        ("NumberOfEmployees > 41.5", true),
        ("NumberOfEmployees < -1", false),
        ("NumberOfEmployees IN (1, 42)", true),
    ] {
        assert_eq!(matches(&select(clause), &r), expected, "{clause}");
    }
}

#[test]
fn booleans_compare() {
    let r = row(None);
    assert!(matches(&select("Active__c = true"), &r));
    assert!(!matches(&select("Active__c = FALSE"), &r));
}

#[test]
fn datetime_literals_compare_by_instant() {
    let r = row(None); // SystemModstamp 2024-01-01T10:00:00Z
    assert!(matches(
        &select("SystemModstamp = 2024-01-01T10:00:00.000Z"),
        &r
    ));
    assert!(matches(
        &select("SystemModstamp = 2024-01-01T11:00:00+01:00"),
        &r
    ));
    assert!(matches(
        &select("SystemModstamp = 2024-01-01T02:00:00-08:00"),
        &r
    ));
    assert!(matches(&select("SystemModstamp >= 2024-01-01T00:00:00.000+00:00 AND SystemModstamp < 2024-01-01T10:00:00.001Z"), &r));
    assert!(!matches(
        &select("SystemModstamp > 2024-01-01T10:00:00Z"),
        &r
    ));
}

#[test]
fn time_literals_compare_against_time_fields() {
    let mut object = (*account()).clone();
    object
        .fields
        .push(Field::new("Opens__c", "Opens", FieldType::Time));
    let object = Arc::new(object);
    let find = |_: &str| Some(object.clone());
    let q = resolve(
        parse("SELECT Id FROM Account WHERE Opens__c >= 09:00:00Z AND Opens__c < 09:30:00.000Z")
            .unwrap(),
        &find,
    )
    .unwrap();
    let mut r = row(None);
    r.push(Value::Time(
        chrono::NaiveTime::from_hms_opt(9, 15, 0).unwrap(),
    ));
    assert!(q.matches(&r, now()));
    r[10] = Value::Time(chrono::NaiveTime::from_hms_opt(9, 30, 0).unwrap());
    assert!(!q.matches(&r, now()));
    let e = resolve(
        parse("SELECT Id FROM Account WHERE Opens__c = '09:00:00Z'").unwrap(),
        &find,
    )
    .unwrap_err();
    assert!(e.message.ends_with(
        "value of filter criterion for field 'Opens__c' must be of type time and should not be enclosed in quotes"
    ));
}

#[test]
fn date_literals_compare_by_day() {
    let r = row(None); // CloseDate 2024-06-14
    assert!(matches(&select("CloseDate__c = 2024-06-14"), &r));
    assert!(matches(&select("CloseDate__c < 2024-06-15"), &r));
    assert!(!matches(&select("CloseDate__c > 2024-06-14"), &r));
}

#[test]
fn relative_date_literals_follow_the_clock() {
    let r = row(None); // CloseDate 2024-06-14, now 2024-06-15 12:00Z
    for (clause, expected) in [
        ("CloseDate__c = YESTERDAY", true),
        ("CloseDate__c = TODAY", false),
        ("CloseDate__c < TODAY", true),
        ("CloseDate__c >= TODAY", false),
        ("CloseDate__c <= YESTERDAY", true),
        ("CloseDate__c > YESTERDAY", false),
        ("CloseDate__c = TOMORROW", false),
        ("CloseDate__c = LAST_N_DAYS:1", true),
        ("CloseDate__c = NEXT_N_DAYS:3", false),
        ("SystemModstamp = LAST_N_DAYS:200", true),
        ("SystemModstamp = LAST_N_DAYS:30", false),
        ("CloseDate__c = THIS_MONTH", true),
        ("CloseDate__c = THIS_WEEK", true),
        ("CloseDate__c = N_DAYS_AGO:1", true),
        ("SystemModstamp = THIS_YEAR", true),
        ("SystemModstamp < THIS_MONTH", true),
        ("SystemModstamp = LAST_N_MONTHS:5", true),
        ("SystemModstamp = LAST_N_MONTHS:4", false),
    ] {
        assert_eq!(matches(&select(clause), &r), expected, "{clause}");
    }
    let mut later = r.clone();
    later[CLOSE_DATE] = Value::Date(date(2024, 6, 18));
    assert!(matches(&select("CloseDate__c = NEXT_N_DAYS:3"), &later));
    assert!(!matches(&select("CloseDate__c = NEXT_N_DAYS:2"), &later));
}

#[test]
fn unknown_date_literal_is_an_unexpected_token() {
    let e = error(&select("CloseDate__c = LAST_FORTNIGHT"));
    assert_eq!(e.error_code, MALFORMED_QUERY);
    assert!(e.message.ends_with("unexpected token: 'LAST_FORTNIGHT'"));
    let e = error(&select("CloseDate__c = LAST_N_DAYS"));
    assert!(
        e.message.ends_with("unexpected token: '<EOF>'"),
        "{}",
        e.message
    );
}

#[test]
fn relative_date_literal_against_a_text_field_is_refused() {
    let e = error(&select("Name = TODAY"));
    assert!(e.message.ends_with(
        "value of filter criterion for field 'Name' must be of type string and should be enclosed in quotes"
    ));
}

#[test]
fn null_tests_nullness_and_other_comparisons_with_null_are_false() {
    let null_name = row(None);
    let named = row(Some("x"));
    assert!(matches(&select("Name = null"), &null_name));
    assert!(!matches(&select("Name != null"), &null_name));
    assert!(matches(&select("Name != NULL"), &named));
    assert!(!matches(&select("Name = 'x'"), &null_name));
    assert!(!matches(&select("Name < 'z'"), &null_name));
    assert!(!matches(&select("Name LIKE '%'"), &null_name));
    assert!(matches(&select("Name != 'x'"), &null_name));
    assert!(matches(&select("Name IN ('a', null)"), &null_name));
    assert!(!matches(&select("Name NOT IN ('a')"), &null_name));
    assert!(!matches(&select("Name NOT IN ('a', null)"), &null_name));
    assert!(matches(&select("Name NOT IN ('a', null)"), &named));
}

#[test]
fn null_on_a_boolean_field_means_false() {
    let mut r = row(None);
    r[ACTIVE] = Value::Bool(false);
    assert!(matches(&select("Active__c = null"), &r));
    assert!(!matches(&select("Active__c != null"), &r));
    r[ACTIVE] = Value::Bool(true);
    assert!(matches(&select("Active__c != null"), &r));
}

#[test]
fn like_matches_wildcards_case_insensitively() {
    let r = row(Some("Acme_100% Corp"));
    for (pattern, expected) in [
        ("acme%", true),
        ("%CORP", true),
        ("a_me%", true),
        ("%100%", true),
        ("acme", false),
        ("%x%", false),
        (r"acme\_100\% corp", true),
        (r"acme\%%", false),
        ("_", false),
        ("%", true),
    ] {
        let clause = format!("Name LIKE '{pattern}'");
        assert_eq!(matches(&select(&clause), &r), expected, "{clause}");
    }
}

#[test]
fn string_escapes_decode_before_comparison() {
    let r = row(Some("It's \"quoted\"\n\\ é"));
    assert!(matches(
        &select(r#"Name = 'It\'s \"quoted\"\n\\ \u00E9'"#),
        &r
    ));
}

#[test]
fn includes_and_excludes_test_multipicklist_values() {
    let r = row(None); // Tags "Red;Green"
    assert!(matches(&select("Tags__c INCLUDES ('red')"), &r));
    assert!(matches(
        &select("Tags__c INCLUDES ('Blue', 'Green;Red')"),
        &r
    ));
    assert!(!matches(&select("Tags__c INCLUDES ('Red;Blue')"), &r));
    assert!(matches(&select("Tags__c EXCLUDES ('Blue')"), &r));
    assert!(!matches(&select("Tags__c EXCLUDES ('Green')"), &r));
    let e = error(&select("Name INCLUDES ('x')"));
    assert_eq!(e.error_code, INVALID_FIELD);
}

#[test]
fn and_or_not_and_parentheses_combine() {
    let r = row(Some("x")); // Employees 42, Active true
    for (clause, expected) in [
        (
            "NumberOfEmployees = 42 AND Active__c = true AND Name = 'x'",
            true,
        ),
        (
            "NumberOfEmployees = 1 OR Active__c = false OR Name = 'x'",
            true,
        ),
        ("NumberOfEmployees = 1 OR Active__c = false", false),
        ("NOT NumberOfEmployees = 1", true),
        ("NOT (NumberOfEmployees = 42 AND Name = 'x')", false),
        (
            "(NumberOfEmployees = 1 OR Name = 'x') AND Active__c = true",
            true,
        ),
        (
            "NumberOfEmployees = 1 OR (Name = 'x' AND Active__c = false)",
            false,
        ),
        ("Active__c = true AND (NOT Name = 'x')", false),
        ("((Name = 'y') OR (NOT Name = 'y'))", true),
    ] {
        assert_eq!(matches(&select(clause), &r), expected, "{clause}");
    }
}

#[test]
fn order_by_defaults_nulls_first_ascending_and_last_descending() {
    let (a, b, none) = (row(Some("a")), row(Some("B")), row(None));
    let asc = query("SELECT Id FROM Account ORDER BY Name");
    assert!(asc.order_by()[0].nulls_first);
    assert_eq!(asc.compare(&none, &a), Ordering::Less);
    assert_eq!(
        asc.compare(&a, &b),
        Ordering::Less,
        "case-insensitive text order"
    );
    let desc = query("SELECT Id FROM Account ORDER BY Name DESC");
    assert_eq!(desc.compare(&none, &a), Ordering::Greater);
    assert_eq!(desc.compare(&a, &b), Ordering::Greater);
    let asc_last = query("SELECT Id FROM Account ORDER BY Name ASC NULLS LAST");
    assert_eq!(asc_last.compare(&none, &a), Ordering::Greater);
    let desc_first = query("SELECT Id FROM Account ORDER BY Name DESC NULLS FIRST");
    assert_eq!(desc_first.compare(&none, &a), Ordering::Less);
}

#[test]
fn order_by_breaks_ties_with_later_items() {
    let mut a = row(Some("same"));
    let mut b = row(Some("same"));
    a[EMPLOYEES] = Value::Int(1);
    b[EMPLOYEES] = Value::Int(2);
    let q = query("SELECT Id FROM Account ORDER BY Name, NumberOfEmployees DESC");
    assert_eq!(q.compare(&a, &b), Ordering::Greater);
    let mut rows = [a.clone(), b.clone()];
    rows.sort_by(|x, y| q.compare(x, y));
    assert_eq!(rows[0][EMPLOYEES], Value::Int(2));
}

#[test]
fn limit_and_offset_are_exposed() {
    let q = query("SELECT Id FROM Account LIMIT 10 OFFSET 20");
    assert_eq!((q.limit(), q.offset()), (Some(10), Some(20)));
    let q = query("SELECT Id FROM Account");
    assert_eq!((q.limit(), q.offset()), (None, None));
}

#[test]
fn range_on_takes_both_ends_of_a_half_open_window() {
    let q = query(&select(
        "SystemModstamp >= 2024-01-01T00:00:00Z AND SystemModstamp < 2024-01-01T10:00:00Z AND Name != null",
    ));
    assert_eq!(
        q.range_on(MODSTAMP),
        (
            Bound::Included(Value::DateTime(at(0))),
            Bound::Excluded(Value::DateTime(at(10)))
        )
    );
    assert_eq!(q.range_on(NAME), (Bound::Unbounded, Bound::Unbounded));
}

#[test]
fn range_on_keeps_the_tightest_bounds() {
    let q = query(&select(
        "SystemModstamp > 2024-01-01T01:00:00Z AND SystemModstamp >= 2024-01-01T02:00:00Z AND SystemModstamp <= 2024-01-01T05:00:00Z AND SystemModstamp < 2024-01-01T05:00:00Z",
    ));
    assert_eq!(
        q.range_on(MODSTAMP),
        (
            Bound::Included(Value::DateTime(at(2))),
            Bound::Excluded(Value::DateTime(at(5)))
        )
    );
}

#[test]
fn range_on_equality_is_a_point() {
    let q = query(&select("NumberOfEmployees = 7"));
    assert_eq!(
        q.range_on(EMPLOYEES),
        (
            Bound::Included(Value::Int(7)),
            Bound::Included(Value::Int(7))
        )
    );
    let q = query(&select("Id > '001000000000001AAA'"));
    assert_eq!(
        q.range_on(ID),
        (
            Bound::Excluded(Value::Text("001000000000001AAA".into())),
            Bound::Unbounded
        )
    );
}

#[test]
fn range_on_is_unbounded_under_or_and_not() {
    let q = query(&select(
        "SystemModstamp >= 2024-01-01T00:00:00Z OR SystemModstamp < 2023-01-01T00:00:00Z",
    ));
    assert_eq!(q.range_on(MODSTAMP), (Bound::Unbounded, Bound::Unbounded));
    let q = query(&select("NOT SystemModstamp >= 2024-01-01T00:00:00Z"));
    assert_eq!(q.range_on(MODSTAMP), (Bound::Unbounded, Bound::Unbounded));
    let q = query(&select(
        "Name = 'x' AND (SystemModstamp >= 2024-01-01T00:00:00Z OR Name = 'y')",
    ));
    assert_eq!(q.range_on(MODSTAMP), (Bound::Unbounded, Bound::Unbounded));
}

#[test]
fn reversed_operands_are_refused_like_salesforce() {
    // SOQL's field expression is `fieldName operator value`, so `a <= F` is not a bound.
    let e = error(&select("2024-01-01T00:00:00Z <= SystemModstamp"));
    assert_eq!(e.error_code, MALFORMED_QUERY);
    assert!(
        e.message
            .ends_with("unexpected token: '2024-01-01T00:00:00Z'"),
        "{}",
        e.message
    );
}

#[test]
fn compare_values_orders_like_the_evaluator() {
    assert_eq!(
        compare_values(
            FieldType::String,
            &Value::Text("b".into()),
            &Value::Text("A".into())
        ),
        Some(Ordering::Greater)
    );
    assert_eq!(
        compare_values(
            FieldType::Id,
            &Value::Text("b".into()),
            &Value::Text("A".into())
        ),
        Some(Ordering::Greater)
    );
    assert_eq!(
        compare_values(
            FieldType::Id,
            &Value::Text("a".into()),
            &Value::Text("B".into())
        ),
        Some(Ordering::Greater),
        "ids compare exactly"
    );
    assert_eq!(
        compare_values(FieldType::Double, &Value::Int(2), &Value::Double(1.5)),
        Some(Ordering::Greater)
    );
}

#[test]
fn rows_shorter_than_the_field_list_read_null() {
    let q = query(&select("Name = null"));
    let short: Vec<Value> = vec![Value::Text("001000000000001AAA".into())];
    assert!(q.matches(&short, now()));
}

/// Quotes `text` as a SOQL string literal the way a careful client does; with `like`, `%` and
/// `_` are escaped too so the pattern matches only `text` itself.
fn quote(text: &str, like: bool) -> String {
    let mut out = String::from("'");
    for c in text.chars() {
        match c {
            '\\' => out.push_str("\\\\"),
            '\'' => out.push_str("\\'"),
            '"' => out.push_str("\\\""),
            '\n' => out.push_str("\\n"),
            '\r' => out.push_str("\\r"),
            '\t' => out.push_str("\\t"),
            '\u{8}' => out.push_str("\\b"),
            '\u{c}' => out.push_str("\\f"),
            '%' | '_' if like => {
                out.push('\\');
                out.push(c);
            }
            c if c.is_control() => out.push_str(&format!("\\u{:04x}", c as u32)),
            c => out.push(c),
        }
    }
    out.push('\'');
    out
}

mod properties {
    use super::*;
    use crate::soql::parser::{plain_string, Condition, LiteralKind};
    use proptest::prelude::*;

    proptest! {
        #[test]
        fn quoted_strings_decode_to_the_original(text in "\\PC*|[\\\\'\"\n\r\t\u{8}\u{c}%_a-zA-Z]*") {
            let soql = format!("SELECT Id FROM Account WHERE Name = {}", quote(&text, false));
            let parsed = parse(&soql).unwrap();
            let Some(Condition::Expr(expr)) = parsed.filter else { panic!("one expression") };
            let LiteralKind::Str(chars) = &expr.values[0].kind else { panic!("a string") };
            prop_assert_eq!(plain_string(chars), text.clone());
            let mut r = row(None);
            r[NAME] = Value::Text(text);
            prop_assert!(matches(&soql, &r));
        }

        #[test]
        fn escaped_like_pattern_matches_exactly_its_text(
            text in "[%_\\\\'a-zA-Zé ]{0,12}",
            other in "[%_a-z]{1,3}",
        ) {
            let soql = format!("SELECT Id FROM Account WHERE Name LIKE {}", quote(&text, true));
            let mut r = row(None);
            r[NAME] = Value::Text(text.to_uppercase());
            prop_assert!(matches(&soql, &r), "case-insensitive self match");
            r[NAME] = Value::Text(format!("{text}{other}"));
            prop_assert!(!matches(&soql, &r), "no wildcard left in the pattern");
        }
    }
}

/// The example of the module documentation.
#[test]
fn parse_then_resolve_then_match() {
    let account = || {
        let fields = vec![
            Field::new("Id", "Id", FieldType::Id),
            Field::new("Name", "Name", FieldType::String),
        ];
        Arc::new(SObject::new(
            "Account",
            "Account",
            "Accounts",
            Some("001"),
            fields,
        ))
    };
    let query = parse("SELECT Id, Name FROM account WHERE Name LIKE 'acme%'").unwrap();
    let resolved = resolve(query, &|name| {
        name.eq_ignore_ascii_case("Account").then(account)
    })
    .unwrap();
    assert_eq!(resolved.fields(), &[0, 1]);
    let row = vec![
        Value::Text("001000000000001AAA".into()),
        Value::Text("ACME Inc".into()),
    ];
    assert!(resolved.matches(&row, Utc::now()));
}
