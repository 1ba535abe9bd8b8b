//! Splits SOQL text into tokens, each with its byte span so errors can point at it.
//!
//! String literals are checked here (every backslash must start a known escape) but decoded by
//! the parser, which knows whether the literal is a LIKE pattern (where `\%` and `\_` mean
//! literal `%` and `_`). Date and datetime literals are recognised and parsed here because
//! they are single unquoted words in SOQL (`2024-01-01T00:00:00.000+00:00`).

use chrono::{DateTime, NaiveDate, NaiveDateTime, NaiveTime, Utc};

use super::error::{SoqlError, MALFORMED_QUERY};

/// A comparison operator of a field expression.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Comparison {
    Eq,
    Ne,
    Lt,
    Le,
    Gt,
    Ge,
}

#[derive(Clone, Debug, PartialEq)]
pub(crate) enum TokenKind {
    /// Identifiers and keywords (keywords are matched case-insensitively by the parser).
    /// Dots are part of the word, so relationship paths (`Account.Name`) are one token.
    Word,
    /// A single-quoted string; the span covers the quotes, escapes are validated.
    Str,
    Number,
    Date(NaiveDate),
    DateTime(DateTime<Utc>),
    /// `hh:mm:ss[.fff]Z`, for time fields.
    Time(NaiveTime),
    LParen,
    RParen,
    Comma,
    Colon,
    Op(Comparison),
    Eof,
}

#[derive(Clone, Debug, PartialEq)]
pub(crate) struct Token {
    pub kind: TokenKind,
    /// Byte span in the query text.
    pub start: usize,
    pub end: usize,
}

impl Token {
    pub(crate) fn text<'t>(&self, query: &'t str) -> &'t str {
        &query[self.start..self.end]
    }
}

/// The tokens of `text`, ending with one `Eof` token.
pub(crate) fn tokenize(text: &str) -> Result<Vec<Token>, SoqlError> {
    let bytes = text.as_bytes();
    let mut tokens = Vec::new();
    let mut i = 0;
    while i < bytes.len() {
        let c = bytes[i];
        if c.is_ascii_whitespace() {
            i += 1;
            continue;
        }
        let start = i;
        let kind = match c {
            b'(' => {
                i += 1;
                TokenKind::LParen
            }
            b')' => {
                i += 1;
                TokenKind::RParen
            }
            b',' => {
                i += 1;
                TokenKind::Comma
            }
            b':' => {
                i += 1;
                TokenKind::Colon
            }
            b'=' => {
                i += 1;
                TokenKind::Op(Comparison::Eq)
            }
            b'!' if bytes.get(i + 1) == Some(&b'=') => {
                i += 2;
                TokenKind::Op(Comparison::Ne)
            }
            b'<' => match bytes.get(i + 1) {
                Some(b'=') => {
                    i += 2;
                    TokenKind::Op(Comparison::Le)
                }
                Some(b'>') => {
                    i += 2;
                    TokenKind::Op(Comparison::Ne)
                }
                _ => {
                    i += 1;
                    TokenKind::Op(Comparison::Lt)
                }
            },
            b'>' => {
                if bytes.get(i + 1) == Some(&b'=') {
                    i += 2;
                    TokenKind::Op(Comparison::Ge)
                } else {
                    i += 1;
                    TokenKind::Op(Comparison::Gt)
                }
            }
            b'\'' => {
                i = string_end(text, start)?;
                TokenKind::Str
            }
            b'0'..=b'9' | b'-' | b'+' | b'.' => {
                let (end, kind) = number_or_date(text, start)?;
                i = end;
                kind
            }
            c if c.is_ascii_alphabetic() || c == b'_' => {
                while i < bytes.len()
                    && (bytes[i].is_ascii_alphanumeric() || bytes[i] == b'_' || bytes[i] == b'.')
                {
                    i += 1;
                }
                TokenKind::Word
            }
            _ => return Err(no_viable_alternative(text, start)),
        };
        tokens.push(Token {
            kind,
            start,
            end: i,
        });
    }
    tokens.push(Token {
        kind: TokenKind::Eof,
        start: text.len(),
        end: text.len(),
    });
    Ok(tokens)
}

fn no_viable_alternative(text: &str, offset: usize) -> SoqlError {
    let position = super::error::Position::of(text, offset);
    let character = text[offset..]
        .chars()
        .next()
        .map_or_else(|| "<EOF>".to_string(), String::from);
    SoqlError::at(
        MALFORMED_QUERY,
        text,
        offset,
        format!(
            "line {}:{} no viable alternative at character '{}'",
            position.row, position.column, character
        ),
    )
}

/// The byte just past the closing quote of the string literal opening at `start`, after
/// checking that every backslash starts an escape SOQL knows.
fn string_end(text: &str, start: usize) -> Result<usize, SoqlError> {
    let bytes = text.as_bytes();
    let mut i = start + 1;
    let mut illegal: Option<usize> = None;
    loop {
        match bytes.get(i) {
            None => {
                return Err(SoqlError::at(
                    MALFORMED_QUERY,
                    text,
                    start,
                    format!(
                        "Invalid string literal '{}'. Missing closing quote in string literal.",
                        &text[start + 1..]
                    ),
                ))
            }
            Some(b'\'') => break,
            Some(b'\\') => {
                let escape_ok = match bytes.get(i + 1) {
                    Some(
                        b'n' | b'N' | b'r' | b'R' | b't' | b'T' | b'b' | b'B' | b'f' | b'F' | b'"'
                        | b'\'' | b'\\' | b'%' | b'_',
                    ) => true,
                    Some(b'u') => {
                        bytes.len() >= i + 6
                            && bytes[i + 2..i + 6].iter().all(u8::is_ascii_hexdigit)
                    }
                    _ => false,
                };
                if !escape_ok && illegal.is_none() {
                    illegal = Some(i);
                }
                // Skip the escaped character whole (it may be multi-byte).
                i += 1;
                if let Some(c) = text[i..].chars().next() {
                    i += c.len_utf8();
                }
            }
            Some(_) => i += 1,
        }
    }
    if let Some(at) = illegal {
        let sequence: String = text[at..].chars().take(2).collect();
        return Err(SoqlError::at(
            MALFORMED_QUERY,
            text,
            start,
            format!(
                "Invalid string literal '{}'. Illegal character sequence '{}' in string literal.",
                &text[start + 1..i],
                sequence
            ),
        ));
    }
    Ok(i + 1)
}

/// Decodes the body of a string literal (the text between the quotes, escapes already
/// validated by the lexer). With `like`, `\%` and `\_` become [`PatternChar::Literal`]; without
/// it they are refused, as SOQL allows them only in LIKE.
pub(crate) fn decode_string(body: &str) -> Result<Vec<PatternChar>, char> {
    let mut out = Vec::with_capacity(body.len());
    let mut chars = body.chars();
    while let Some(c) = chars.next() {
        if c != '\\' {
            out.push(match c {
                '%' => PatternChar::AnyRun,
                '_' => PatternChar::AnyOne,
                c => PatternChar::Literal(c),
            });
            continue;
        }
        let escaped = chars.next().ok_or('\\')?;
        let decoded = match escaped {
            'n' | 'N' => '\n',
            'r' | 'R' => '\r',
            't' | 'T' => '\t',
            'b' | 'B' => '\u{8}',
            'f' | 'F' => '\u{c}',
            '"' | '\'' | '\\' | '%' | '_' => escaped,
            'u' => {
                let hex: String = chars.by_ref().take(4).collect();
                u32::from_str_radix(&hex, 16)
                    .ok()
                    .and_then(char::from_u32)
                    .ok_or('u')?
            }
            other => return Err(other),
        };
        out.push(PatternChar::Escaped(decoded));
    }
    Ok(out)
}

/// One character of a decoded string literal, remembering whether it was escaped, so that one
/// decoder serves both plain strings and LIKE patterns.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum PatternChar {
    Literal(char),
    Escaped(char),
    /// An unescaped `%`.
    AnyRun,
    /// An unescaped `_`.
    AnyOne,
}

/// Numbers (`42`, `-1.5`, `1e3`), dates (`2024-01-01`) and datetimes
/// (`2024-01-01T10:00:00[.fff](Z|+hh:mm|-hh:mm)`).
fn number_or_date(text: &str, start: usize) -> Result<(usize, TokenKind), SoqlError> {
    let bytes = text.as_bytes();
    let is_date_start = bytes.len() >= start + 10
        && bytes[start..start + 4].iter().all(u8::is_ascii_digit)
        && bytes[start + 4] == b'-';
    if is_date_start {
        let mut end = start;
        while end < bytes.len()
            && (bytes[end].is_ascii_alphanumeric()
                || matches!(bytes[end], b'-' | b':' | b'.' | b'+'))
        {
            end += 1;
        }
        let word = &text[start..end];
        return match parse_date_or_datetime(word) {
            Some(kind) => Ok((end, kind)),
            None if word.contains('T') => Err(SoqlError::at(
                MALFORMED_QUERY,
                text,
                start,
                format!("Invalid datetime: {word}"),
            )),
            None => Err(SoqlError::at(
                MALFORMED_QUERY,
                text,
                start,
                format!("Invalid date: {word}"),
            )),
        };
    }
    let is_time_start = bytes.len() >= start + 3
        && bytes[start..start + 2].iter().all(u8::is_ascii_digit)
        && bytes[start + 2] == b':';
    if is_time_start {
        let mut end = start;
        while end < bytes.len()
            && (bytes[end].is_ascii_alphanumeric() || matches!(bytes[end], b':' | b'.'))
        {
            end += 1;
        }
        let word = &text[start..end];
        return match word.strip_suffix('Z').and_then(parse_clock) {
            Some(time) => Ok((end, TokenKind::Time(time))),
            None => Err(SoqlError::at(
                MALFORMED_QUERY,
                text,
                start,
                format!("Invalid time: {word}"),
            )),
        };
    }
    let mut i = start;
    if matches!(bytes[i], b'-' | b'+') {
        i += 1;
    }
    let digits_start = i;
    while i < bytes.len() && bytes[i].is_ascii_digit() {
        i += 1;
    }
    if i < bytes.len() && bytes[i] == b'.' {
        i += 1;
        while i < bytes.len() && bytes[i].is_ascii_digit() {
            i += 1;
        }
    }
    let mantissa = &text[digits_start..i];
    if !mantissa.bytes().any(|b| b.is_ascii_digit()) {
        return Err(no_viable_alternative(text, start));
    }
    if i < bytes.len() && matches!(bytes[i], b'e' | b'E') {
        let mut j = i + 1;
        if j < bytes.len() && matches!(bytes[j], b'-' | b'+') {
            j += 1;
        }
        let exponent_start = j;
        while j < bytes.len() && bytes[j].is_ascii_digit() {
            j += 1;
        }
        if j > exponent_start {
            i = j;
        }
    }
    if i < bytes.len() && (bytes[i].is_ascii_alphabetic() || bytes[i] == b'_') {
        return Err(no_viable_alternative(text, i));
    }
    Ok((i, TokenKind::Number))
}

fn parse_date_or_datetime(word: &str) -> Option<TokenKind> {
    if word.len() == 10 {
        return parse_date(word).map(TokenKind::Date);
    }
    let (date, rest) = word.split_at_checked(10)?;
    let date = parse_date(date)?;
    let rest = rest.strip_prefix('T')?;
    let (clock, offset_seconds) = if let Some(clock) = rest.strip_suffix('Z') {
        (clock, 0)
    } else {
        let sign_at = rest.rfind(['+', '-'])?;
        let (clock, offset) = rest.split_at(sign_at);
        let sign = if offset.starts_with('-') { -1 } else { 1 };
        let offset = &offset[1..];
        let (hours, minutes) = offset.split_once(':')?;
        if hours.len() != 2 || minutes.len() != 2 {
            return None;
        }
        let hours: i32 = hours.parse().ok()?;
        let minutes: i32 = minutes.parse().ok()?;
        if hours > 23 || minutes > 59 {
            return None;
        }
        (clock, sign * (hours * 3600 + minutes * 60))
    };
    let time = parse_clock(clock)?;
    let local = NaiveDateTime::new(date, time);
    let utc = local - chrono::Duration::seconds(i64::from(offset_seconds));
    Some(TokenKind::DateTime(utc.and_utc()))
}

fn parse_date(text: &str) -> Option<NaiveDate> {
    let b = text.as_bytes();
    let shape_ok = b.len() == 10
        && b[4] == b'-'
        && b[7] == b'-'
        && b.iter()
            .enumerate()
            .all(|(i, c)| i == 4 || i == 7 || c.is_ascii_digit());
    if !shape_ok {
        return None;
    }
    NaiveDate::from_ymd_opt(
        text[0..4].parse().ok()?,
        text[5..7].parse().ok()?,
        text[8..10].parse().ok()?,
    )
}

/// `hh:mm:ss` with optional fractional seconds (any number of digits, kept to nanoseconds).
fn parse_clock(text: &str) -> Option<NaiveTime> {
    let (whole, fraction) = match text.split_once('.') {
        Some((whole, fraction)) => (whole, Some(fraction)),
        None => (text, None),
    };
    let b = whole.as_bytes();
    let shape_ok = b.len() == 8
        && b[2] == b':'
        && b[5] == b':'
        && b.iter()
            .enumerate()
            .all(|(i, c)| i == 2 || i == 5 || c.is_ascii_digit());
    if !shape_ok {
        return None;
    }
    let nanos = match fraction {
        None => 0,
        Some(f) if !f.is_empty() && f.bytes().all(|c| c.is_ascii_digit()) => {
            let digits: String = f.chars().chain(std::iter::repeat('0')).take(9).collect();
            digits.parse().ok()?
        }
        Some(_) => return None,
    };
    NaiveTime::from_hms_nano_opt(
        whole[0..2].parse().ok()?,
        whole[3..5].parse().ok()?,
        whole[6..8].parse().ok()?,
        nanos,
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::TimeZone;

    fn kinds(text: &str) -> Vec<TokenKind> {
        tokenize(text)
            .unwrap()
            .into_iter()
            .map(|t| t.kind)
            .collect()
    }

    fn datetime(text: &str) -> DateTime<Utc> {
        match kinds(text).remove(0) {
            TokenKind::DateTime(dt) => dt,
            other => panic!("{text}: expected a datetime token, got {other:?}"),
        }
    }

    #[test]
    fn operators_are_tokens() {
        use Comparison::*;
        let ops: Vec<TokenKind> = kinds("= != <> < <= > >=");
        assert_eq!(
            ops,
            vec![
                TokenKind::Op(Eq),
                TokenKind::Op(Ne),
                TokenKind::Op(Ne),
                TokenKind::Op(Lt),
                TokenKind::Op(Le),
                TokenKind::Op(Gt),
                TokenKind::Op(Ge),
                TokenKind::Eof
            ]
        );
    }

    #[test]
    fn datetime_literals_take_z_offsets_and_fractions() {
        let expected = Utc.with_ymd_and_hms(2024, 1, 1, 10, 0, 0).unwrap();
        assert_eq!(datetime("2024-01-01T10:00:00Z"), expected);
        assert_eq!(datetime("2024-01-01T10:00:00.000Z"), expected);
        assert_eq!(datetime("2024-01-01T11:00:00+01:00"), expected);
        assert_eq!(datetime("2024-01-01T02:00:00-08:00"), expected);
        assert_eq!(datetime("2024-01-01T10:00:00.000+00:00"), expected);
        assert_eq!(
            datetime("2024-01-01T10:00:00.123Z"),
            expected + chrono::Duration::milliseconds(123)
        );
    }

    #[test]
    fn datetime_without_zone_is_malformed() {
        let error = tokenize("X > 2024-01-01T10:00:00").unwrap_err();
        assert_eq!(error.error_code, MALFORMED_QUERY);
        assert!(
            error
                .message
                .ends_with("Invalid datetime: 2024-01-01T10:00:00"),
            "{}",
            error.message
        );
    }

    #[test]
    fn impossible_date_is_malformed() {
        let error = tokenize("X = 2024-13-01").unwrap_err();
        assert!(
            error.message.ends_with("Invalid date: 2024-13-01"),
            "{}",
            error.message
        );
    }

    #[test]
    fn time_literals_need_a_z() {
        assert_eq!(
            kinds("10:30:00.250Z")[0],
            TokenKind::Time(NaiveTime::from_hms_milli_opt(10, 30, 0, 250).unwrap())
        );
        assert_eq!(
            kinds("01:00:00Z")[0],
            TokenKind::Time(NaiveTime::from_hms_opt(1, 0, 0).unwrap())
        );
        let error = tokenize("X = 10:00:00").unwrap_err();
        assert!(
            error.message.ends_with("Invalid time: 10:00:00"),
            "{}",
            error.message
        );
    }

    #[test]
    fn date_literal_is_one_token() {
        assert_eq!(
            kinds("2024-02-29"),
            vec![
                TokenKind::Date(NaiveDate::from_ymd_opt(2024, 2, 29).unwrap()),
                TokenKind::Eof
            ]
        );
    }

    #[test]
    fn numbers_take_signs_fractions_and_exponents() {
        for text in ["42", "-42", "+1", "1.5", "-0.25", "1e3", "1.5E-2"] {
            let tokens = tokenize(text).unwrap();
            assert_eq!(tokens[0].kind, TokenKind::Number, "{text}");
            assert_eq!(tokens[0].text(text), text);
        }
    }

    #[test]
    fn words_keep_dots_for_relationship_paths() {
        let text = "Account.Name";
        let tokens = tokenize(text).unwrap();
        assert_eq!(tokens[0].kind, TokenKind::Word);
        assert_eq!(tokens[0].text(text), "Account.Name");
    }

    #[test]
    fn unknown_escape_is_an_invalid_string_literal() {
        let text = "SELECT Id FROM Contact WHERE FirstName = 'Anne\\-Marie'";
        let error = tokenize(text).unwrap_err();
        assert_eq!(error.error_code, MALFORMED_QUERY);
        assert_eq!(
            error.message,
            "\nId FROM Contact WHERE FirstName = 'Anne\\-Marie'\n                                  ^\nERROR at Row:1:Column:42\nInvalid string literal 'Anne\\-Marie'. Illegal character sequence '\\-' in string literal."
        );
    }

    #[test]
    fn unterminated_string_is_malformed() {
        let error = tokenize("Name = 'abc").unwrap_err();
        assert!(error
            .message
            .ends_with("Missing closing quote in string literal."));
    }

    #[test]
    fn stray_character_has_no_viable_alternative() {
        let error = tokenize("SELECT Id # FROM X").unwrap_err();
        assert_eq!(
            error.message,
            "\nSELECT Id # FROM X\n          ^\nERROR at Row:1:Column:11\nline 1:11 no viable alternative at character '#'"
        );
    }

    #[test]
    fn every_escape_decodes() {
        let body = r#"\n\N\r\R\t\T\b\B\f\F\"\'\\\u00e9\%\_"#;
        let decoded: String = decode_string(body)
            .unwrap()
            .into_iter()
            .map(|c| match c {
                PatternChar::Escaped(c) | PatternChar::Literal(c) => c,
                other => panic!("unexpected {other:?}"),
            })
            .collect();
        assert_eq!(decoded, "\n\n\r\r\t\t\u{8}\u{8}\u{c}\u{c}\"'\\é%_");
    }

    #[test]
    fn unescaped_wildcards_decode_as_wildcards() {
        assert_eq!(
            decode_string("a%_").unwrap(),
            vec![
                PatternChar::Literal('a'),
                PatternChar::AnyRun,
                PatternChar::AnyOne
            ]
        );
    }
}
