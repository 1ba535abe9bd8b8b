//! SOQL syntax: the token stream becomes a [`Query`] whose names are still unresolved text.
//!
//! The grammar follows Salesforce's: a condition is either `NOT` followed by one simple
//! expression, or simple expressions joined by only `AND`s or only `OR`s — mixing `AND` and
//! `OR` (or `AND NOT`) without parentheses is refused with `unexpected token`, as Salesforce
//! refuses it ("parentheses are required whenever you mix the operators").

use chrono::{DateTime, NaiveDate, NaiveTime, Utc};

use super::date_literal::RelativeDate;
use super::error::{SoqlError, MALFORMED_QUERY, NUMBER_OUTSIDE_VALID_RANGE};
use super::lexer::{decode_string, tokenize, Comparison, PatternChar, Token, TokenKind};

/// Salesforce's ceiling on OFFSET.
pub(crate) const MAX_OFFSET: u64 = 2000;

/// Clauses Salesforce has and this emulator does not; refused by name rather than as an
/// unexpected token.
const UNSUPPORTED_CLAUSES: [&str; 6] = ["GROUP", "HAVING", "WITH", "FOR", "USING", "UPDATE"];

/// A parsed, not yet resolved, SOQL query. It keeps its text so that errors found when
/// resolving names can point into it.
#[derive(Clone, Debug, PartialEq)]
pub(crate) struct Query {
    pub(crate) text: String,
    pub(crate) count: bool,
    pub(crate) select: Vec<SelectItem>,
    pub(crate) object: Name,
    pub(crate) filter: Option<Condition>,
    pub(crate) order_by: Vec<OrderItem>,
    pub(crate) limit: Option<u64>,
    pub(crate) offset: Option<u64>,
}

impl Query {
    /// The object named in FROM, as written.
    pub(crate) fn object_name(&self) -> &str {
        &self.object.text
    }

    /// True when SELECT holds a parent-to-child subquery (Bulk query refuses these).
    pub(crate) fn has_subquery(&self) -> bool {
        self.select
            .iter()
            .any(|item| matches!(item, SelectItem::Subquery { .. }))
    }

    /// True when SELECT uses `FIELDS(ALL|STANDARD|CUSTOM)` (Bulk query refuses these).
    pub(crate) fn uses_fields_function(&self) -> bool {
        self.select
            .iter()
            .any(|item| matches!(item, SelectItem::Fields { .. }))
    }
}

/// A name as written, with the byte offset where it starts.
#[derive(Clone, Debug, PartialEq)]
pub(crate) struct Name {
    pub text: String,
    pub offset: usize,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum FieldsGroup {
    All,
    Standard,
    Custom,
}

#[derive(Clone, Debug, PartialEq)]
pub(crate) enum SelectItem {
    Field(Name),
    Fields {
        group: FieldsGroup,
        offset: usize,
    },
    /// A parent-to-child subquery; only its relationship name is kept.
    Subquery {
        relationship: Name,
    },
}

#[derive(Clone, Debug, PartialEq)]
pub(crate) enum Condition {
    And(Vec<Condition>),
    Or(Vec<Condition>),
    Not(Box<Condition>),
    Expr(FieldExpr),
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Operator {
    Compare(Comparison),
    Like,
    In,
    NotIn,
    Includes,
    Excludes,
}

#[derive(Clone, Debug, PartialEq)]
pub(crate) struct FieldExpr {
    pub field: Name,
    pub operator: Operator,
    pub values: Vec<Literal>,
}

#[derive(Clone, Debug, PartialEq)]
pub(crate) struct Literal {
    pub kind: LiteralKind,
    pub offset: usize,
}

#[derive(Clone, Debug, PartialEq)]
pub(crate) enum LiteralKind {
    Null,
    Bool(bool),
    /// A number; `integer` is set when the text is a whole number that fits an i64.
    Number {
        integer: Option<i64>,
        value: f64,
    },
    Str(Vec<PatternChar>),
    Date(NaiveDate),
    DateTime(DateTime<Utc>),
    Time(NaiveTime),
    Relative(RelativeDate),
}

#[derive(Clone, Debug, PartialEq)]
pub(crate) struct OrderItem {
    pub field: Name,
    pub descending: bool,
    /// `None` when NULLS FIRST/LAST is not given (the default depends on the direction).
    pub nulls_first: Option<bool>,
}

/// Parses SOQL text (syntax only; names are resolved by [`super::resolve()`]).
pub(crate) fn parse(text: &str) -> Result<Query, SoqlError> {
    let tokens = tokenize(text)?;
    Parser {
        text,
        tokens,
        at: 0,
    }
    .query()
}

struct Parser<'t> {
    text: &'t str,
    tokens: Vec<Token>,
    at: usize,
}

impl<'t> Parser<'t> {
    fn peek(&self) -> &Token {
        &self.tokens[self.at]
    }

    fn peek_at(&self, ahead: usize) -> &Token {
        &self.tokens[(self.at + ahead).min(self.tokens.len() - 1)]
    }

    fn next(&mut self) -> Token {
        let token = self.tokens[self.at].clone();
        if self.at < self.tokens.len() - 1 {
            self.at += 1;
        }
        token
    }

    fn is_keyword(&self, token: &Token, keyword: &str) -> bool {
        token.kind == TokenKind::Word && token.text(self.text).eq_ignore_ascii_case(keyword)
    }

    fn peek_keyword(&self, keyword: &str) -> bool {
        self.is_keyword(self.peek(), keyword)
    }

    fn eat_keyword(&mut self, keyword: &str) -> bool {
        if self.peek_keyword(keyword) {
            self.next();
            true
        } else {
            false
        }
    }

    fn unexpected(&self, token: &Token) -> SoqlError {
        let shown = match token.kind {
            TokenKind::Eof => "<EOF>",
            _ => token.text(self.text),
        };
        SoqlError::at(
            MALFORMED_QUERY,
            self.text,
            token.start,
            format!("unexpected token: '{shown}'"),
        )
    }

    fn expect_keyword(&mut self, keyword: &str) -> Result<Token, SoqlError> {
        let token = self.next();
        if self.is_keyword(&token, keyword) {
            Ok(token)
        } else {
            Err(self.unexpected(&token))
        }
    }

    fn expect(&mut self, kind: TokenKind) -> Result<Token, SoqlError> {
        let token = self.next();
        if token.kind == kind {
            Ok(token)
        } else {
            Err(self.unexpected(&token))
        }
    }

    fn name(&mut self) -> Result<Name, SoqlError> {
        let token = self.next();
        if token.kind != TokenKind::Word {
            return Err(self.unexpected(&token));
        }
        Ok(Name {
            text: token.text(self.text).to_string(),
            offset: token.start,
        })
    }

    fn unsupported(&self, token: &Token, what: &str) -> SoqlError {
        SoqlError::at(
            MALFORMED_QUERY,
            self.text,
            token.start,
            format!("{what} is not supported by sf-emulator"),
        )
    }

    fn query(mut self) -> Result<Query, SoqlError> {
        self.expect_keyword("SELECT")?;
        let (count, select) = self.select_list()?;
        self.expect_keyword("FROM")?;
        let object = self.name()?;
        let filter = if self.eat_keyword("WHERE") {
            Some(self.condition()?)
        } else {
            None
        };
        let mut order_by = Vec::new();
        if self.peek_keyword("ORDER") {
            self.next();
            self.expect_keyword("BY")?;
            loop {
                order_by.push(self.order_item()?);
                if self.peek().kind != TokenKind::Comma {
                    break;
                }
                self.next();
            }
        }
        let limit = if self.eat_keyword("LIMIT") {
            Some(self.count_value()?.0)
        } else {
            None
        };
        let offset = if self.eat_keyword("OFFSET") {
            let (offset, _) = self.count_value()?;
            if offset > MAX_OFFSET {
                return Err(SoqlError::plain(
                    NUMBER_OUTSIDE_VALID_RANGE,
                    format!("Maximum SOQL offset allowed is {MAX_OFFSET}"),
                ));
            }
            Some(offset)
        } else {
            None
        };
        let last = self.next();
        for clause in UNSUPPORTED_CLAUSES {
            if self.is_keyword(&last, clause) {
                return Err(self.unsupported(&last, &format!("the {clause} clause")));
            }
        }
        if last.kind != TokenKind::Eof {
            return Err(self.unexpected(&last));
        }
        Ok(Query {
            text: self.text.to_string(),
            count,
            select,
            object,
            filter,
            order_by,
            limit,
            offset,
        })
    }

    /// A non-negative integer (LIMIT, OFFSET).
    fn count_value(&mut self) -> Result<(u64, usize), SoqlError> {
        let token = self.next();
        if token.kind == TokenKind::Number {
            if let Ok(n) = token.text(self.text).parse::<u64>() {
                return Ok((n, token.start));
            }
        }
        Err(self.unexpected(&token))
    }

    fn select_list(&mut self) -> Result<(bool, Vec<SelectItem>), SoqlError> {
        if self.peek_keyword("COUNT")
            && self.peek_at(1).kind == TokenKind::LParen
            && self.peek_at(2).kind == TokenKind::RParen
        {
            self.next();
            self.next();
            self.next();
            return Ok((true, Vec::new()));
        }
        let mut items = Vec::new();
        loop {
            items.push(self.select_item()?);
            if self.peek().kind != TokenKind::Comma {
                break;
            }
            self.next();
        }
        Ok((false, items))
    }

    fn select_item(&mut self) -> Result<SelectItem, SoqlError> {
        let token = self.peek().clone();
        if token.kind == TokenKind::LParen {
            return self.subquery();
        }
        if self.is_keyword(&token, "FROM") {
            return Err(self.unexpected(&token));
        }
        if self.is_keyword(&token, "TYPEOF") {
            return Err(self.unsupported(&token, "TYPEOF"));
        }
        if token.kind == TokenKind::Word && self.peek_at(1).kind == TokenKind::LParen {
            if self.is_keyword(&token, "FIELDS") {
                self.next();
                self.next();
                let group_token = self.next();
                let group = match group_token.text(self.text).to_ascii_uppercase().as_str() {
                    "ALL" if group_token.kind == TokenKind::Word => FieldsGroup::All,
                    "STANDARD" if group_token.kind == TokenKind::Word => FieldsGroup::Standard,
                    "CUSTOM" if group_token.kind == TokenKind::Word => FieldsGroup::Custom,
                    _ => return Err(self.unexpected(&group_token)),
                };
                self.expect(TokenKind::RParen)?;
                return Ok(SelectItem::Fields {
                    group,
                    offset: token.start,
                });
            }
            let what = format!("function '{}'", token.text(self.text));
            return Err(self.unsupported(&token, &what));
        }
        Ok(SelectItem::Field(self.name()?))
    }

    /// `(SELECT ... FROM Relationship ...)`: keeps the relationship name, skips the rest.
    fn subquery(&mut self) -> Result<SelectItem, SoqlError> {
        self.expect(TokenKind::LParen)?;
        self.expect_keyword("SELECT")?;
        let mut depth = 1;
        let mut relationship = None;
        loop {
            let token = self.next();
            match token.kind {
                TokenKind::LParen => depth += 1,
                TokenKind::RParen => {
                    depth -= 1;
                    if depth == 0 {
                        break;
                    }
                }
                TokenKind::Eof => return Err(self.unexpected(&token)),
                _ if depth == 1 && relationship.is_none() && self.is_keyword(&token, "FROM") => {
                    relationship = Some(self.name()?);
                }
                _ => {}
            }
        }
        match relationship {
            Some(relationship) => Ok(SelectItem::Subquery { relationship }),
            None => {
                let token = self.tokens[self.at - 1].clone();
                Err(self.unexpected(&token))
            }
        }
    }

    fn order_item(&mut self) -> Result<OrderItem, SoqlError> {
        let field = self.name()?;
        let descending = if self.eat_keyword("DESC") {
            true
        } else {
            self.eat_keyword("ASC");
            false
        };
        let nulls_first = if self.eat_keyword("NULLS") {
            if self.eat_keyword("FIRST") {
                Some(true)
            } else {
                self.expect_keyword("LAST")?;
                Some(false)
            }
        } else {
            None
        };
        Ok(OrderItem {
            field,
            descending,
            nulls_first,
        })
    }

    fn condition(&mut self) -> Result<Condition, SoqlError> {
        if self.eat_keyword("NOT") {
            let inner = self.simple_condition()?;
            return Ok(Condition::Not(Box::new(inner)));
        }
        let first = self.simple_condition()?;
        let joiner = if self.peek_keyword("AND") {
            "AND"
        } else if self.peek_keyword("OR") {
            "OR"
        } else {
            return Ok(first);
        };
        let mut parts = vec![first];
        while self.eat_keyword(joiner) {
            parts.push(self.simple_condition()?);
        }
        let other = if joiner == "AND" { "OR" } else { "AND" };
        if self.peek_keyword(other) {
            return Err(self.unexpected(self.peek()));
        }
        Ok(if joiner == "AND" {
            Condition::And(parts)
        } else {
            Condition::Or(parts)
        })
    }

    fn simple_condition(&mut self) -> Result<Condition, SoqlError> {
        if self.peek().kind == TokenKind::LParen {
            self.next();
            let inner = self.condition()?;
            self.expect(TokenKind::RParen)?;
            return Ok(inner);
        }
        let token = self.peek().clone();
        if self.is_keyword(&token, "NOT") {
            return Err(self.unexpected(&token));
        }
        if token.kind == TokenKind::Word && self.peek_at(1).kind == TokenKind::LParen {
            let what = format!("function '{}'", token.text(self.text));
            return Err(self.unsupported(&token, &what));
        }
        let field = self.name()?;
        let operator_token = self.next();
        let operator = match operator_token.kind {
            TokenKind::Op(comparison) => Operator::Compare(comparison),
            TokenKind::Word => match operator_token.text(self.text).to_ascii_uppercase().as_str() {
                "LIKE" => Operator::Like,
                "IN" => Operator::In,
                "INCLUDES" => Operator::Includes,
                "EXCLUDES" => Operator::Excludes,
                "NOT" => {
                    self.expect_keyword("IN")?;
                    Operator::NotIn
                }
                _ => return Err(self.unexpected(&operator_token)),
            },
            _ => return Err(self.unexpected(&operator_token)),
        };
        let values = match operator {
            Operator::In | Operator::NotIn | Operator::Includes | Operator::Excludes => {
                self.expect(TokenKind::LParen)?;
                let mut values = vec![self.literal(operator)?];
                while self.peek().kind == TokenKind::Comma {
                    self.next();
                    values.push(self.literal(operator)?);
                }
                self.expect(TokenKind::RParen)?;
                values
            }
            _ => vec![self.literal(operator)?],
        };
        Ok(Condition::Expr(FieldExpr {
            field,
            operator,
            values,
        }))
    }

    fn literal(&mut self, operator: Operator) -> Result<Literal, SoqlError> {
        let token = self.next();
        let text = token.text(self.text);
        let kind = match token.kind {
            TokenKind::Str => {
                let body = &text[1..text.len() - 1];
                let decoded = decode_string(body).map_err(|c| self.illegal_escape(&token, c))?;
                if operator != Operator::Like {
                    if let Some(PatternChar::Escaped(c @ ('%' | '_'))) = decoded
                        .iter()
                        .find(|c| matches!(c, PatternChar::Escaped('%' | '_')))
                    {
                        return Err(self.illegal_escape(&token, *c));
                    }
                }
                LiteralKind::Str(decoded)
            }
            TokenKind::Number => {
                let value: f64 = text.parse().map_err(|_| self.unexpected(&token))?;
                LiteralKind::Number {
                    integer: text.parse::<i64>().ok(),
                    value,
                }
            }
            TokenKind::Date(date) => LiteralKind::Date(date),
            TokenKind::DateTime(datetime) => LiteralKind::DateTime(datetime),
            TokenKind::Time(time) => LiteralKind::Time(time),
            TokenKind::Word => match text.to_ascii_uppercase().as_str() {
                "NULL" => LiteralKind::Null,
                "TRUE" => LiteralKind::Bool(true),
                "FALSE" => LiteralKind::Bool(false),
                word if RelativeDate::takes_number(word) => {
                    self.expect(TokenKind::Colon)?;
                    let (n, _) = self.count_value()?;
                    let n = i64::try_from(n).map_err(|_| self.unexpected(&token))?;
                    match RelativeDate::named(word, Some(n)) {
                        Some(relative) => LiteralKind::Relative(relative),
                        None => return Err(self.unexpected(&token)),
                    }
                }
                word => match RelativeDate::named(word, None) {
                    Some(relative) => LiteralKind::Relative(relative),
                    None => return Err(self.unexpected(&token)),
                },
            },
            _ => return Err(self.unexpected(&token)),
        };
        Ok(Literal {
            kind,
            offset: token.start,
        })
    }

    fn illegal_escape(&self, token: &Token, escaped: char) -> SoqlError {
        let text = token.text(self.text);
        SoqlError::at(
            MALFORMED_QUERY,
            self.text,
            token.start,
            format!(
                "Invalid string literal '{}'. Illegal character sequence '\\{}' in string literal.",
                &text[1..text.len() - 1],
                escaped
            ),
        )
    }
}

/// The text of a decoded non-pattern string literal.
pub(crate) fn plain_string(chars: &[PatternChar]) -> String {
    chars
        .iter()
        .map(|c| match c {
            PatternChar::Literal(c) | PatternChar::Escaped(c) => *c,
            PatternChar::AnyRun => '%',
            PatternChar::AnyOne => '_',
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn message(text: &str) -> String {
        parse(text).unwrap_err().message
    }

    #[test]
    fn keywords_are_case_insensitive() {
        let query = parse("select Id from Account where Name = 'a' order by Name desc nulls last limit 5 offset 2").unwrap();
        assert_eq!(query.object_name(), "Account");
        assert_eq!(query.limit, Some(5));
        assert_eq!(query.offset, Some(2));
        assert_eq!(query.order_by.len(), 1);
        assert!(query.order_by[0].descending);
        assert_eq!(query.order_by[0].nulls_first, Some(false));
    }

    #[test]
    fn count_query_has_no_select_items() {
        let query = parse("SELECT COUNT() FROM Account WHERE Name != null").unwrap();
        assert!(query.count);
        assert!(query.select.is_empty());
    }

    #[test]
    fn mixing_and_with_or_needs_parentheses() {
        assert_eq!(
            message("SELECT Id FROM A WHERE X = 1 AND Y = 2 OR Z = 3"),
            "\nSELECT Id FROM A WHERE X = 1 AND Y = 2 OR Z = 3\n                                       ^\nERROR at Row:1:Column:40\nunexpected token: 'OR'"
        );
        assert!(parse("SELECT Id FROM A WHERE X = 1 AND (Y = 2 OR Z = 3)").is_ok());
        assert!(parse("SELECT Id FROM A WHERE (X = 1 AND Y = 2) OR Z = 3").is_ok());
    }

    #[test]
    fn not_must_open_a_condition() {
        assert!(parse("SELECT Id FROM A WHERE NOT X = 1").is_ok());
        assert!(parse("SELECT Id FROM A WHERE Y = 2 AND (NOT X = 1)").is_ok());
        assert!(message("SELECT Id FROM A WHERE Y = 2 AND NOT X = 1")
            .ends_with("unexpected token: 'NOT'"));
    }

    #[test]
    fn missing_from_is_an_unexpected_eof() {
        assert_eq!(
            message("SELECT Id"),
            "\nSELECT Id\n         ^\nERROR at Row:1:Column:10\nunexpected token: '<EOF>'"
        );
    }

    #[test]
    fn trailing_garbage_is_an_unexpected_token() {
        assert!(message("SELECT Id FROM Account LIMIT 5 foo").ends_with("unexpected token: 'foo'"));
    }

    #[test]
    fn empty_select_list_is_an_unexpected_from() {
        assert!(message("SELECT FROM Account").ends_with("unexpected token: 'FROM'"));
    }

    #[test]
    fn clauses_the_emulator_lacks_are_named() {
        assert!(message("SELECT Name FROM Account GROUP BY Name")
            .ends_with("the GROUP clause is not supported by sf-emulator"));
        assert!(
            message("SELECT Name FROM Account WHERE Name = 'a' WITH SECURITY_ENFORCED")
                .ends_with("the WITH clause is not supported by sf-emulator")
        );
        assert!(message("SELECT Name FROM Account LIMIT 1 FOR VIEW")
            .ends_with("the FOR clause is not supported by sf-emulator"));
    }

    #[test]
    fn objects_named_like_keywords_parse() {
        assert_eq!(
            parse("SELECT Id FROM Order ORDER BY Id")
                .unwrap()
                .object_name(),
            "Order"
        );
        assert_eq!(
            parse("SELECT Id FROM Group WHERE Name = 'x'")
                .unwrap()
                .object_name(),
            "Group"
        );
    }

    #[test]
    fn literal_before_field_is_refused() {
        // SOQL's field expression is `fieldName operator value`; the field comes first.
        assert!(message("SELECT Id FROM A WHERE 5 < Amount").ends_with("unexpected token: '5'"));
    }

    #[test]
    fn offset_above_two_thousand_is_out_of_range() {
        let error = parse("SELECT Id FROM A OFFSET 2001").unwrap_err();
        assert_eq!(error.error_code, NUMBER_OUTSIDE_VALID_RANGE);
        assert_eq!(error.message, "Maximum SOQL offset allowed is 2000");
        assert_eq!(
            parse("SELECT Id FROM A OFFSET 2000").unwrap().offset,
            Some(2000)
        );
    }

    #[test]
    fn wildcard_escapes_are_refused_outside_like() {
        assert!(message(r"SELECT Id FROM A WHERE Name = 'a\%'").ends_with(
            r"Invalid string literal 'a\%'. Illegal character sequence '\%' in string literal."
        ));
        assert!(parse(r"SELECT Id FROM A WHERE Name LIKE 'a\%'").is_ok());
    }

    #[test]
    fn relative_date_literals_parse() {
        let query = parse("SELECT Id FROM A WHERE D = LAST_N_DAYS:7").unwrap();
        let Some(Condition::Expr(expr)) = query.filter else {
            panic!("expected one expression")
        };
        assert_eq!(
            expr.values[0].kind,
            LiteralKind::Relative(RelativeDate::named("LAST_N_DAYS", Some(7)).unwrap())
        );
    }

    #[test]
    fn functions_are_refused_clearly() {
        assert!(message("SELECT MAX(Amount) FROM A")
            .ends_with("function 'MAX' is not supported by sf-emulator"));
        assert!(message("SELECT COUNT(Id) FROM A")
            .ends_with("function 'COUNT' is not supported by sf-emulator"));
    }

    #[test]
    fn subquery_keeps_its_relationship_name() {
        let query = parse("SELECT Id, (SELECT Id FROM Contacts WHERE X = 1) FROM Account").unwrap();
        assert!(matches!(
            &query.select[1],
            SelectItem::Subquery { relationship } if relationship.text == "Contacts"
        ));
    }

    #[test]
    fn in_lists_take_several_values() {
        let query = parse("SELECT Id FROM A WHERE Name NOT IN ('a', 'b', null)").unwrap();
        let Some(Condition::Expr(expr)) = query.filter else {
            panic!("expected one expression")
        };
        assert_eq!(expr.operator, Operator::NotIn);
        assert_eq!(expr.values.len(), 3);
    }
}
