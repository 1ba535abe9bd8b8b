//! Evaluation of a [`ResolvedQuery`] over rows: WHERE, ORDER BY, and the bounds a WHERE puts on
//! one field (so the org can seek into generated data instead of scanning it).
//!
//! Semantics, as Salesforce applies them: text compares case-insensitively (`=`, `!=`, `<`…,
//! LIKE, IN) except ids, which compare exactly (15-character id literals are widened to 18);
//! numbers compare numerically across int and double; dates and datetimes by instant. A null
//! field value satisfies `= null`, `!= <value>` and `IN` lists holding null, and nothing else
//! (`NOT IN` leaves null rows out); `!= null` is true for every non-null value. On boolean
//! fields `= null` means `= false` and `!= null` means `= true` (Salesforce's "Use null in
//! WHERE").

use std::borrow::Cow;
use std::cmp::Ordering;
use std::ops::Bound;

use chrono::{DateTime, NaiveDate, Utc};

use super::date_literal::RelativeDate;
use super::lexer::{Comparison, PatternChar};
use super::resolve::{is_id, lower, Filter, Operand, OrderBy, ResolvedQuery};
use crate::schema::{FieldType, SObject, Value};

/// A record as SOQL reads it: values by field index of the queried [`SObject`].
pub(crate) trait Row {
    /// The value of field `field_index`; `Value::Null` when the row has none.
    fn get(&self, field_index: usize) -> Cow<'_, Value>;
}

impl Row for [Value] {
    fn get(&self, field_index: usize) -> Cow<'_, Value> {
        match <[Value]>::get(self, field_index) {
            Some(value) => Cow::Borrowed(value),
            None => Cow::Owned(Value::Null),
        }
    }
}

/// `&[Value]` itself, so a borrowed slice can be passed as `&dyn Row` (`&&row[..]`).
impl Row for &[Value] {
    fn get(&self, field_index: usize) -> Cow<'_, Value> {
        Row::get(*self, field_index)
    }
}

impl Row for Vec<Value> {
    fn get(&self, field_index: usize) -> Cow<'_, Value> {
        Row::get(self.as_slice(), field_index)
    }
}

impl ResolvedQuery {
    /// The queried object.
    pub(crate) fn sobject(&self) -> &std::sync::Arc<SObject> {
        &self.sobject
    }

    /// Selected field indexes in SELECT order (FIELDS() expanded; empty for COUNT()).
    pub(crate) fn fields(&self) -> &[usize] {
        &self.fields
    }

    /// True for `SELECT COUNT() FROM ...`.
    pub(crate) fn is_count(&self) -> bool {
        self.count
    }

    pub(crate) fn limit(&self) -> Option<u64> {
        self.limit
    }

    pub(crate) fn offset(&self) -> Option<u64> {
        self.offset
    }

    /// ORDER BY items in order, defaults applied.
    pub(crate) fn order_by(&self) -> &[OrderBy] {
        &self.order_by
    }

    /// True when the query has a WHERE clause.
    pub(crate) fn has_filter(&self) -> bool {
        self.filter.is_some()
    }

    /// True when the WHERE clause is only comparisons (`=`, `<`, `<=`, `>`, `>=`) of
    /// `field_index` with literals, alone or joined by AND: `range_on` then says all it does.
    pub(crate) fn filter_is_range_on(&self, field_index: usize) -> bool {
        let bound = |filter: &Filter| {
            matches!(filter, Filter::Compare { field, field_type, comparison, operand }
                if *field == field_index
                    && *comparison != Comparison::Ne
                    && operand_value(*field_type, operand).is_some())
        };
        match &self.filter {
            Some(Filter::And(parts)) => parts.iter().all(bound),
            Some(filter) => bound(filter),
            None => false,
        }
    }

    /// True when `row` satisfies the WHERE clause; relative date literals (`TODAY`,
    /// `LAST_N_DAYS:n`) are taken relative to `now` (UTC days).
    pub(crate) fn matches(&self, row: &dyn Row, now: DateTime<Utc>) -> bool {
        match &self.filter {
            None => true,
            Some(filter) => evaluate(filter, row, now.date_naive()),
        }
    }

    /// ORDER BY as a comparator (`Equal` when the query has no ORDER BY).
    pub(crate) fn compare(&self, a: &dyn Row, b: &dyn Row) -> Ordering {
        for item in &self.order_by {
            let field_type = self.sobject.fields[item.field].field_type;
            let (x, y) = (a.get(item.field), b.get(item.field));
            let ordering = match (x.is_null(), y.is_null()) {
                (true, true) => Ordering::Equal,
                (true, false) if item.nulls_first => Ordering::Less,
                (true, false) => Ordering::Greater,
                (false, true) if item.nulls_first => Ordering::Greater,
                (false, true) => Ordering::Less,
                (false, false) => {
                    let ordering = compare_values(field_type, &x, &y).unwrap_or(Ordering::Equal);
                    if item.descending {
                        ordering.reverse()
                    } else {
                        ordering
                    }
                }
            };
            if ordering != Ordering::Equal {
                return ordering;
            }
        }
        Ordering::Equal
    }

    /// The tightest bounds on `field_index` implied by comparisons ANDed at the top of the
    /// WHERE clause (`F >= a AND F < b`, `F = a`). Anything under OR or NOT, IN lists and
    /// relative date literals are ignored, so the bounds are always safe: every matching row
    /// lies within them. Compare values against them with [`compare_values`].
    pub(crate) fn range_on(&self, field_index: usize) -> (Bound<Value>, Bound<Value>) {
        let mut lower_bound = Bound::Unbounded;
        let mut upper_bound = Bound::Unbounded;
        let field_type = self.sobject.fields[field_index].field_type;
        let mut visit = |filter: &Filter| {
            let Filter::Compare {
                field,
                comparison,
                operand,
                ..
            } = filter
            else {
                return;
            };
            if *field != field_index {
                return;
            }
            let Some(value) = operand_value(field_type, operand) else {
                return;
            };
            let (lower_new, upper_new) = match comparison {
                Comparison::Eq => (Bound::Included(value.clone()), Bound::Included(value)),
                Comparison::Gt => (Bound::Excluded(value), Bound::Unbounded),
                Comparison::Ge => (Bound::Included(value), Bound::Unbounded),
                Comparison::Lt => (Bound::Unbounded, Bound::Excluded(value)),
                Comparison::Le => (Bound::Unbounded, Bound::Included(value)),
                Comparison::Ne => return,
            };
            lower_bound = tighter(
                field_type,
                lower_bound.clone(),
                lower_new,
                Ordering::Greater,
            );
            upper_bound = tighter(field_type, upper_bound.clone(), upper_new, Ordering::Less);
        };
        match &self.filter {
            Some(Filter::And(parts)) => parts.iter().for_each(&mut visit),
            Some(filter) => visit(filter),
            None => {}
        }
        (lower_bound, upper_bound)
    }
}

/// Of two bounds, the one that admits less; `wins` is the ordering of a bound's value over the
/// other's that makes it tighter (`Greater` for lower bounds, `Less` for upper bounds).
fn tighter(
    field_type: FieldType,
    current: Bound<Value>,
    new: Bound<Value>,
    wins: Ordering,
) -> Bound<Value> {
    let value = |b: &Bound<Value>| match b {
        Bound::Included(v) | Bound::Excluded(v) => Some(v.clone()),
        Bound::Unbounded => None,
    };
    match (value(&current), value(&new)) {
        (_, None) => current,
        (None, Some(_)) => new,
        (Some(a), Some(b)) => match compare_values(field_type, &b, &a) {
            Some(o) if o == wins => new,
            Some(Ordering::Equal) if matches!(new, Bound::Excluded(_)) => new,
            _ => current,
        },
    }
}

fn operand_value(field_type: FieldType, operand: &Operand) -> Option<Value> {
    Some(match operand {
        Operand::Bool(b) => Value::Bool(*b),
        Operand::Number { integer, value } => match (field_type, integer) {
            (FieldType::Int | FieldType::Long, Some(i)) => Value::Int(*i),
            _ => Value::Double(*value),
        },
        Operand::Text(text) => Value::Text(text.clone()),
        Operand::Date(date) => Value::Date(*date),
        Operand::DateTime(datetime) => Value::DateTime(*datetime),
        Operand::Time(time) => Value::Time(*time),
        Operand::Null | Operand::Relative(_) => return None,
    })
}

/// Orders two values of a field of type `field_type` the way SOQL does: text
/// case-insensitively (ids exactly), numbers numerically, dates and datetimes by time.
/// `None` when the values are not comparable (different kinds, NaN).
pub(crate) fn compare_values(field_type: FieldType, a: &Value, b: &Value) -> Option<Ordering> {
    match (a, b) {
        (Value::Text(x), Value::Text(y)) if is_id(field_type) => Some(x.as_str().cmp(y)),
        (Value::Text(x), Value::Text(y)) => Some(compare_text(x, y)),
        (Value::Bool(x), Value::Bool(y)) => Some(x.cmp(y)),
        (Value::Int(x), Value::Int(y)) => Some(x.cmp(y)),
        (Value::Int(x), Value::Double(y)) => (*x as f64).partial_cmp(y),
        (Value::Double(x), Value::Int(y)) => x.partial_cmp(&(*y as f64)),
        (Value::Double(x), Value::Double(y)) => x.partial_cmp(y),
        (Value::Date(x), Value::Date(y)) => Some(x.cmp(y)),
        (Value::DateTime(x), Value::DateTime(y)) => Some(x.cmp(y)),
        (Value::Time(x), Value::Time(y)) => Some(x.cmp(y)),
        _ => None,
    }
}

/// Case-insensitive text order without allocating.
fn compare_text(a: &str, b: &str) -> Ordering {
    if a.is_ascii() && b.is_ascii() {
        let x = a.bytes().map(|c| c.to_ascii_lowercase());
        let y = b.bytes().map(|c| c.to_ascii_lowercase());
        return x.cmp(y);
    }
    a.chars().map(lower).cmp(b.chars().map(lower))
}

/// `value` against an operand already lower-cased (text) or normalised (ids).
fn compare_operand(field_type: FieldType, value: &Value, operand: &Operand) -> Option<Ordering> {
    match (value, operand) {
        (Value::Text(x), Operand::Text(y)) if is_id(field_type) => Some(x.as_str().cmp(y)),
        (Value::Text(x), Operand::Text(y)) => Some(x.chars().map(lower).cmp(y.chars())),
        (Value::Bool(x), Operand::Bool(y)) => Some(x.cmp(y)),
        (
            Value::Int(x),
            Operand::Number {
                integer: Some(y), ..
            },
        ) => Some(x.cmp(y)),
        (Value::Int(x), Operand::Number { value, .. }) => (*x as f64).partial_cmp(value),
        (Value::Double(x), Operand::Number { value, .. }) => x.partial_cmp(value),
        (Value::Date(x), Operand::Date(y)) => Some(x.cmp(y)),
        (Value::DateTime(x), Operand::DateTime(y)) => Some(x.cmp(y)),
        (Value::Time(x), Operand::Time(y)) => Some(x.cmp(y)),
        _ => None,
    }
}

fn evaluate(filter: &Filter, row: &dyn Row, today: NaiveDate) -> bool {
    match filter {
        Filter::And(parts) => parts.iter().all(|p| evaluate(p, row, today)),
        Filter::Or(parts) => parts.iter().any(|p| evaluate(p, row, today)),
        Filter::Not(inner) => !evaluate(inner, row, today),
        Filter::Compare {
            field,
            field_type,
            comparison,
            operand,
        } => compare_matches(*field_type, &row.get(*field), *comparison, operand, today),
        Filter::In {
            field,
            field_type,
            negated,
            operands,
        } => {
            let value = row.get(*field);
            if value.is_null() && *negated {
                // Unlike `!=`, NOT IN leaves out rows whose value is null.
                return false;
            }
            let found = operands
                .iter()
                .any(|o| compare_matches(*field_type, &value, Comparison::Eq, o, today));
            found != *negated
        }
        Filter::Like { field, pattern } => match &*row.get(*field) {
            Value::Text(text) => like(text, pattern),
            _ => false,
        },
        Filter::Includes {
            field,
            excludes,
            groups,
        } => match &*row.get(*field) {
            Value::Text(text) => {
                let holds = |wanted: &String| {
                    text.split(';')
                        .any(|have| compare_text(have.trim(), wanted) == Ordering::Equal)
                };
                let any_group = groups.iter().any(|group| group.iter().all(holds));
                any_group != *excludes
            }
            _ => false,
        },
    }
}

fn compare_matches(
    field_type: FieldType,
    value: &Value,
    comparison: Comparison,
    operand: &Operand,
    today: NaiveDate,
) -> bool {
    match (value.is_null(), operand) {
        (true, Operand::Null) => return comparison == Comparison::Eq,
        (false, Operand::Null) => return comparison == Comparison::Ne,
        (true, _) => return comparison == Comparison::Ne,
        _ => {}
    }
    if let Operand::Relative(relative) = operand {
        return relative_matches(value, comparison, *relative, today);
    }
    let Some(ordering) = compare_operand(field_type, value, operand) else {
        return false;
    };
    match comparison {
        Comparison::Eq => ordering == Ordering::Equal,
        Comparison::Ne => ordering != Ordering::Equal,
        Comparison::Lt => ordering == Ordering::Less,
        Comparison::Le => ordering != Ordering::Greater,
        Comparison::Gt => ordering == Ordering::Greater,
        Comparison::Ge => ordering != Ordering::Less,
    }
}

/// A relative date literal stands for the day range `[start, end)`: `=` means within it, `<`
/// before it, `>` after it, `<=` before its end, `>=` from its start.
fn relative_matches(
    value: &Value,
    comparison: Comparison,
    relative: RelativeDate,
    today: NaiveDate,
) -> bool {
    let day = match value {
        Value::Date(date) => *date,
        Value::DateTime(datetime) => datetime.date_naive(),
        _ => return false,
    };
    let Some((start, end)) = relative.days(today) else {
        return false;
    };
    let within = start <= day && day < end;
    match comparison {
        Comparison::Eq => within,
        Comparison::Ne => !within,
        Comparison::Lt => day < start,
        Comparison::Le => day < end,
        Comparison::Gt => day >= end,
        Comparison::Ge => day >= start,
    }
}

/// LIKE with `%` (any run) and `_` (one character), case-insensitive; `pattern` is lower-cased.
fn like(text: &str, pattern: &[PatternChar]) -> bool {
    let mut p = 0;
    let mut t = 0;
    // Where to resume after the last `%`: (pattern index after it, text index it now covers to).
    let mut resume: Option<(usize, usize)> = None;
    while t < text.len() {
        let c = text[t..].chars().next().unwrap_or_default();
        let width = c.len_utf8();
        match pattern.get(p) {
            Some(PatternChar::AnyOne) => {
                p += 1;
                t += width;
                continue;
            }
            Some(PatternChar::Literal(expected) | PatternChar::Escaped(expected))
                if *expected == lower(c) =>
            {
                p += 1;
                t += width;
                continue;
            }
            Some(PatternChar::AnyRun) => {
                p += 1;
                resume = Some((p, t));
                continue;
            }
            _ => {}
        }
        match resume {
            Some((after_run, covered)) => {
                let skipped = text[covered..].chars().next().map_or(1, char::len_utf8);
                resume = Some((after_run, covered + skipped));
                p = after_run;
                t = covered + skipped;
            }
            None => return false,
        }
    }
    pattern[p..].iter().all(|c| *c == PatternChar::AnyRun)
}
