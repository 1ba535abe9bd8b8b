//! Name resolution and checks: a parsed [`Query`] against the describe metadata of its object
//! becomes a [`ResolvedQuery`] of field indexes and typed operands, or the error Salesforce
//! gives (unknown object or field, a value of the wrong type, a field that cannot be filtered
//! or sorted, a duplicate field).

use std::sync::Arc;

use chrono::{DateTime, NaiveDate, NaiveTime, Utc};

use super::date_literal::RelativeDate;
use super::error::{
    SoqlError, INVALID_FIELD, INVALID_QUERY_FILTER_OPERATOR, INVALID_TYPE, MALFORMED_QUERY,
};
use super::lexer::{Comparison, PatternChar};
use super::parser::{
    plain_string, Condition, FieldExpr, FieldsGroup, LiteralKind, Name, Operator, Query, SelectItem,
};
use crate::schema::{FieldType, SObject};

/// FIELDS(ALL) and FIELDS(CUSTOM) need a LIMIT at most this.
const FIELDS_LIMIT: u64 = 200;

/// A query checked against its object: what to select, filter, sort and page.
#[derive(Clone, Debug)]
pub(crate) struct ResolvedQuery {
    pub(crate) sobject: Arc<SObject>,
    pub(crate) fields: Vec<usize>,
    pub(crate) count: bool,
    pub(crate) filter: Option<Filter>,
    pub(crate) order_by: Vec<OrderBy>,
    pub(crate) limit: Option<u64>,
    pub(crate) offset: Option<u64>,
}

/// One ORDER BY item with Salesforce's defaults applied (NULLS FIRST for ASC, NULLS LAST for
/// DESC).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct OrderBy {
    pub field: usize,
    pub descending: bool,
    pub nulls_first: bool,
}

/// The WHERE clause over field indexes.
#[derive(Clone, Debug)]
pub(crate) enum Filter {
    And(Vec<Filter>),
    Or(Vec<Filter>),
    Not(Box<Filter>),
    Compare {
        field: usize,
        field_type: FieldType,
        comparison: Comparison,
        operand: Operand,
    },
    In {
        field: usize,
        field_type: FieldType,
        negated: bool,
        operands: Vec<Operand>,
    },
    Like {
        field: usize,
        /// Lower-cased; matched case-insensitively.
        pattern: Vec<PatternChar>,
    },
    Includes {
        field: usize,
        excludes: bool,
        /// Each group is one literal (`'A;B'` = A and B), lower-cased; a row matches a group
        /// when it holds every value of it.
        groups: Vec<Vec<String>>,
    },
}

/// A literal checked against the field it is compared with.
#[derive(Clone, Debug, PartialEq)]
pub(crate) enum Operand {
    Null,
    Bool(bool),
    Number {
        integer: Option<i64>,
        value: f64,
    },
    /// Lower-cased for text fields (compared case-insensitively); as written for ids.
    Text(String),
    Date(NaiveDate),
    DateTime(DateTime<Utc>),
    Time(NaiveTime),
    Relative(RelativeDate),
}

/// Resolves `query` against the object `lookup` returns for its FROM name (`None` = no such
/// object). `lookup` is expected to match names case-insensitively, as Salesforce does.
pub(crate) fn resolve(
    query: Query,
    lookup: &dyn Fn(&str) -> Option<Arc<SObject>>,
) -> Result<ResolvedQuery, SoqlError> {
    let text = query.text.as_str();
    let sobject = lookup(&query.object.text).ok_or_else(|| {
        SoqlError::at(
            INVALID_TYPE,
            text,
            query.object.offset,
            format!(
                "sObject type '{}' is not supported. If you are attempting to use a custom object, be sure to append the '__c' after the entity name. Please reference your WSDL or the describe call for the appropriate names.",
                query.object.text
            ),
        )
    })?;
    if !sobject.queryable {
        return Err(SoqlError::at(
            "INVALID_TYPE_FOR_OPERATION",
            text,
            query.object.offset,
            format!("entity type {} does not support query", sobject.name),
        ));
    }
    let resolver = Resolver {
        text,
        sobject: &sobject,
    };
    let mut fields = Vec::new();
    for item in &query.select {
        match item {
            SelectItem::Field(name) => {
                let index = resolver.field(name)?;
                resolver.push_unique(&mut fields, index, name.offset)?;
            }
            SelectItem::Fields { group, offset } => {
                if *group != FieldsGroup::Standard && query.limit.is_none_or(|l| l > FIELDS_LIMIT)
                {
                    return Err(SoqlError::at(
                        MALFORMED_QUERY,
                        text,
                        *offset,
                        format!("The SOQL FIELDS function must have a LIMIT of at most {FIELDS_LIMIT}"),
                    ));
                }
                for (index, field) in sobject.fields.iter().enumerate() {
                    let wanted = match group {
                        FieldsGroup::All => true,
                        FieldsGroup::Standard => !field.custom,
                        FieldsGroup::Custom => field.custom,
                    };
                    if wanted {
                        resolver.push_unique(&mut fields, index, *offset)?;
                    }
                }
            }
            SelectItem::Subquery { relationship } => {
                return Err(SoqlError::at(
                    INVALID_TYPE,
                    text,
                    relationship.offset,
                    format!(
                        "Didn't understand relationship '{}' in FROM part of query call. If you are attempting to use a custom relationship, be sure to append the '__r' after the custom relationship name. Please reference your WSDL or the describe call for the appropriate names.",
                        relationship.text
                    ),
                ))
            }
        }
    }
    let filter = query
        .filter
        .as_ref()
        .map(|condition| resolver.condition(condition))
        .transpose()?;
    let mut order_by = Vec::with_capacity(query.order_by.len());
    for item in &query.order_by {
        let field = resolver.field(&item.field)?;
        if !sobject.fields[field].sortable {
            return Err(SoqlError::at(
                INVALID_FIELD,
                text,
                item.field.offset,
                format!(
                    "field '{}' can not be sorted in a query call",
                    sobject.fields[field].name
                ),
            ));
        }
        order_by.push(OrderBy {
            field,
            descending: item.descending,
            nulls_first: item.nulls_first.unwrap_or(!item.descending),
        });
    }
    Ok(ResolvedQuery {
        sobject: sobject.clone(),
        fields,
        count: query.count,
        filter,
        order_by,
        limit: query.limit,
        offset: query.offset,
    })
}

struct Resolver<'q> {
    text: &'q str,
    sobject: &'q SObject,
}

impl Resolver<'_> {
    fn error(&self, code: &'static str, offset: usize, detail: String) -> SoqlError {
        SoqlError::at(code, self.text, offset, detail)
    }

    /// The index of a field named as written (`Name`, `name`, or `Account.Name` qualified by
    /// the queried object itself).
    fn field(&self, name: &Name) -> Result<usize, SoqlError> {
        let mut path = name.text.as_str();
        if let Some((prefix, rest)) = path.split_once('.') {
            if prefix.eq_ignore_ascii_case(&self.sobject.name) {
                path = rest;
            }
        }
        if let Some((relationship, _)) = path.split_once('.') {
            return Err(self.error(
                INVALID_FIELD,
                name.offset,
                format!(
                    "Didn't understand relationship '{relationship}' in field path. If you are attempting to use a custom relationship, be sure to append the '__r' after the custom relationship name. Please reference your WSDL or the describe call for the appropriate names."
                ),
            ));
        }
        self.sobject.field(path).map(|(index, _)| index).ok_or_else(|| {
            self.error(
                INVALID_FIELD,
                name.offset,
                format!(
                    "No such column '{path}' on entity '{}'. If you are attempting to use a custom field, be sure to append the '__c' after the custom field name. Please reference your WSDL or the describe call for the appropriate names.",
                    self.sobject.name
                ),
            )
        })
    }

    fn push_unique(
        &self,
        fields: &mut Vec<usize>,
        index: usize,
        offset: usize,
    ) -> Result<(), SoqlError> {
        if fields.contains(&index) {
            return Err(self.error(
                MALFORMED_QUERY,
                offset,
                format!(
                    "duplicate field selected: {}",
                    self.sobject.fields[index].name
                ),
            ));
        }
        fields.push(index);
        Ok(())
    }

    fn condition(&self, condition: &Condition) -> Result<Filter, SoqlError> {
        Ok(match condition {
            Condition::And(parts) => Filter::And(
                parts
                    .iter()
                    .map(|p| self.condition(p))
                    .collect::<Result<_, _>>()?,
            ),
            Condition::Or(parts) => Filter::Or(
                parts
                    .iter()
                    .map(|p| self.condition(p))
                    .collect::<Result<_, _>>()?,
            ),
            Condition::Not(inner) => Filter::Not(Box::new(self.condition(inner)?)),
            Condition::Expr(expr) => self.expression(expr)?,
        })
    }

    fn expression(&self, expr: &FieldExpr) -> Result<Filter, SoqlError> {
        let field = self.field(&expr.field)?;
        let describe = &self.sobject.fields[field];
        if !describe.filterable {
            return Err(self.error(
                INVALID_FIELD,
                expr.field.offset,
                format!(
                    "field '{}' can not be filtered in a query call",
                    describe.name
                ),
            ));
        }
        let field_type = describe.field_type;
        let operands = expr
            .values
            .iter()
            .map(|literal| self.operand(expr, &describe.name, field_type, &literal.kind))
            .collect::<Result<Vec<_>, _>>()?;
        Ok(match expr.operator {
            Operator::Compare(comparison) => Filter::Compare {
                field,
                field_type,
                comparison,
                operand: operands.into_iter().next().unwrap_or(Operand::Null),
            },
            Operator::In | Operator::NotIn => Filter::In {
                field,
                field_type,
                negated: expr.operator == Operator::NotIn,
                operands,
            },
            Operator::Like => {
                let pattern = match &expr.values[0].kind {
                    LiteralKind::Str(chars) => chars
                        .iter()
                        .map(|c| match c {
                            PatternChar::Literal(c) => PatternChar::Literal(lower(*c)),
                            PatternChar::Escaped(c) => PatternChar::Escaped(lower(*c)),
                            other => *other,
                        })
                        .collect(),
                    // `operand` already refused anything but a string for a text field.
                    _ => Vec::new(),
                };
                Filter::Like { field, pattern }
            }
            Operator::Includes | Operator::Excludes => {
                if field_type != FieldType::Multipicklist {
                    return Err(self.error(
                        INVALID_FIELD,
                        expr.field.offset,
                        "includes or excludes operator only valid on multipicklist field"
                            .to_string(),
                    ));
                }
                let groups = operands
                    .iter()
                    .filter_map(|operand| match operand {
                        Operand::Text(text) => Some(
                            text.split(';')
                                .map(|v| v.trim().to_string())
                                .filter(|v| !v.is_empty())
                                .collect(),
                        ),
                        _ => None,
                    })
                    .collect();
                Filter::Includes {
                    field,
                    excludes: expr.operator == Operator::Excludes,
                    groups,
                }
            }
        })
    }

    /// Checks a literal's type against the field's and converts it.
    fn operand(
        &self,
        expr: &FieldExpr,
        field_name: &str,
        field_type: FieldType,
        literal: &LiteralKind,
    ) -> Result<Operand, SoqlError> {
        let expected = expected_literal(field_type);
        let operand = match (expected, literal) {
            // Booleans are never null in Salesforce; `= null` on them means `= false`.
            (Expected::Boolean, LiteralKind::Null) => Some(Operand::Bool(false)),
            (_, LiteralKind::Null) => Some(Operand::Null),
            (Expected::Text, LiteralKind::Str(chars)) => {
                let text = plain_string(chars);
                if is_id(field_type) && expr.operator != Operator::Like {
                    Some(Operand::Text(normalize_id(&text).ok_or_else(|| {
                        self.error(
                            INVALID_QUERY_FILTER_OPERATOR,
                            expr.field.offset,
                            format!("invalid ID field: {text}"),
                        )
                    })?))
                } else {
                    Some(Operand::Text(text.chars().map(lower).collect()))
                }
            }
            (Expected::Boolean, LiteralKind::Bool(b)) => Some(Operand::Bool(*b)),
            (Expected::Number(_), LiteralKind::Number { integer, value }) => {
                Some(Operand::Number {
                    integer: *integer,
                    value: *value,
                })
            }
            (Expected::Date, LiteralKind::Date(date)) => Some(Operand::Date(*date)),
            (Expected::DateTime, LiteralKind::DateTime(datetime)) => {
                Some(Operand::DateTime(*datetime))
            }
            (Expected::Time, LiteralKind::Time(time)) => Some(Operand::Time(*time)),
            (Expected::Date | Expected::DateTime, LiteralKind::Relative(relative)) => {
                Some(Operand::Relative(*relative))
            }
            _ => None,
        };
        let operand_ok =
            operand.is_some() && (expr.operator != Operator::Like || expected == Expected::Text);
        match operand {
            Some(operand) if operand_ok => Ok(operand),
            _ => Err(self.error(
                INVALID_FIELD,
                expr.field.offset,
                match expected {
                    Expected::Text => format!(
                        "value of filter criterion for field '{field_name}' must be of type string and should be enclosed in quotes"
                    ),
                    _ => format!(
                        "value of filter criterion for field '{field_name}' must be of type {} and should not be enclosed in quotes",
                        expected.type_name()
                    ),
                },
            )),
        }
    }
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Expected {
    Text,
    Boolean,
    Number(&'static str),
    Date,
    DateTime,
    Time,
    /// Types with no SOQL literal (base64, compound): only `null` is accepted.
    Other(&'static str),
}

impl Expected {
    fn type_name(self) -> &'static str {
        match self {
            Expected::Text => "string",
            Expected::Boolean => "boolean",
            Expected::Number(name) | Expected::Other(name) => name,
            Expected::Date => "date",
            Expected::DateTime => "dateTime",
            Expected::Time => "time",
        }
    }
}

fn expected_literal(field_type: FieldType) -> Expected {
    match field_type {
        FieldType::Boolean => Expected::Boolean,
        FieldType::Int => Expected::Number("int"),
        FieldType::Long => Expected::Number("long"),
        FieldType::Double | FieldType::Currency | FieldType::Percent => Expected::Number("double"),
        FieldType::Date => Expected::Date,
        FieldType::DateTime => Expected::DateTime,
        FieldType::Time => Expected::Time,
        FieldType::Base64 => Expected::Other("base64"),
        FieldType::Address => Expected::Other("address"),
        FieldType::Location => Expected::Other("location"),
        _ => Expected::Text,
    }
}

pub(crate) fn is_id(field_type: FieldType) -> bool {
    matches!(field_type, FieldType::Id | FieldType::Reference)
}

pub(crate) fn lower(c: char) -> char {
    if c.is_ascii() {
        c.to_ascii_lowercase()
    } else {
        c.to_lowercase().next().unwrap_or(c)
    }
}

/// An id literal as the 18-character form records hold (15-character ids get their checksum
/// suffix); `None` when it is not an id.
pub(crate) fn normalize_id(text: &str) -> Option<String> {
    if !text.bytes().all(|b| b.is_ascii_alphanumeric()) {
        return None;
    }
    match text.len() {
        18 => Some(text.to_string()),
        15 => {
            const ALPHABET: &[u8; 32] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZ012345";
            let mut id = text.to_string();
            for chunk in text.as_bytes().chunks(5) {
                let bits = chunk
                    .iter()
                    .enumerate()
                    .filter(|(_, b)| b.is_ascii_uppercase())
                    .fold(0usize, |acc, (i, _)| acc | (1 << i));
                id.push(char::from(ALPHABET[bits]));
            }
            Some(id)
        }
        _ => None,
    }
}
