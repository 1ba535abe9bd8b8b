//! Writing JSON values straight into a byte buffer, without building a `serde_json::Value`.
//!
//! RECORD lines are most of what the source writes; building them byte by byte keeps the cost per
//! record to a copy plus escaping, which is what makes 200k records/s possible.

/// Writes `text` as a JSON string (quoted, with `"`, `\` and control characters escaped).
pub(crate) fn write_str(out: &mut Vec<u8>, text: &str) {
    let bytes = text.as_bytes();
    // Most values need no escaping: one tight scan, one copy.
    if !needs_escape(bytes) {
        out.reserve(bytes.len() + 2);
        out.push(b'"');
        out.extend_from_slice(bytes);
        out.push(b'"');
        return;
    }
    out.push(b'"');
    let mut start = 0;
    for (i, &b) in bytes.iter().enumerate() {
        let escape: &[u8] = match b {
            b'"' => b"\\\"",
            b'\\' => b"\\\\",
            b'\n' => b"\\n",
            b'\r' => b"\\r",
            b'\t' => b"\\t",
            0..=0x1f => {
                out.extend_from_slice(&bytes[start..i]);
                out.extend_from_slice(b"\\u00");
                out.push(HEX[(b >> 4) as usize]);
                out.push(HEX[(b & 0xf) as usize]);
                start = i + 1;
                continue;
            }
            _ => continue,
        };
        out.extend_from_slice(&bytes[start..i]);
        out.extend_from_slice(escape);
        start = i + 1;
    }
    out.extend_from_slice(&bytes[start..]);
    out.push(b'"');
}

const HEX: &[u8; 16] = b"0123456789abcdef";

/// Whether any byte of `bytes` must be escaped in a JSON string. Works on 16-byte blocks without
/// an early exit inside a block, which the compiler turns into vector compares.
fn needs_escape(bytes: &[u8]) -> bool {
    let flag = |b: u8| (b < 0x20) | (b == b'"') | (b == b'\\');
    let mut blocks = bytes.chunks_exact(16);
    for block in &mut blocks {
        if block.iter().fold(false, |acc, &b| acc | flag(b)) {
            return true;
        }
    }
    blocks.remainder().iter().any(|&b| flag(b))
}

/// The end of the run of one or more ASCII digits at `start`, or `None` when there is none.
fn after_digits(text: &[u8], start: usize) -> Option<usize> {
    let digits = text[start..]
        .iter()
        .take_while(|b| b.is_ascii_digit())
        .count();
    (digits > 0).then_some(start + digits)
}

/// Whether `text` is a number in JSON's grammar: `-?(0|[1-9][0-9]*)(\.[0-9]+)?([eE][+-]?[0-9]+)?`.
pub(crate) fn is_json_number(text: &[u8]) -> bool {
    let mut i = 0;
    let n = text.len();
    if i < n && text[i] == b'-' {
        i += 1;
    }
    match text.get(i) {
        Some(b'0') => i += 1,
        Some(b'1'..=b'9') => {
            while i < n && text[i].is_ascii_digit() {
                i += 1;
            }
        }
        _ => return false,
    }
    if i < n && text[i] == b'.' {
        match after_digits(text, i + 1) {
            Some(end) => i = end,
            None => return false,
        }
    }
    if i < n && (text[i] == b'e' || text[i] == b'E') {
        i += 1;
        if i < n && (text[i] == b'+' || text[i] == b'-') {
            i += 1;
        }
        match after_digits(text, i) {
            Some(end) => i = end,
            None => return false,
        }
    }
    i == n
}

/// Writes a number given as text, exactly as written when it is already JSON (`9.9213206E7`,
/// `100.0`); otherwise repairs the forms other writers use (`+5`, `.5`, `5.`, leading zeros).
/// Returns `false` when the text is not a finite number at all.
pub(crate) fn write_number(out: &mut Vec<u8>, text: &[u8]) -> bool {
    if is_json_number(text) {
        out.extend_from_slice(text);
        return true;
    }
    let Ok(s) = std::str::from_utf8(text) else {
        return false;
    };
    let s = s.trim();
    let s = s.strip_prefix('+').unwrap_or(s);
    let (sign, digits) = match s.strip_prefix('-') {
        Some(rest) => ("-", rest),
        None => ("", s),
    };
    let (mantissa, exponent) = match digits.find(['e', 'E']) {
        Some(at) => (&digits[..at], &digits[at..]),
        None => (digits, ""),
    };
    let (int_part, frac_part) = match mantissa.split_once('.') {
        Some((i, f)) => (i, f),
        None => (mantissa, ""),
    };
    let int_part = int_part.trim_start_matches('0');
    let int_part = if int_part.is_empty() { "0" } else { int_part };
    let mut repaired = String::with_capacity(text.len() + 2);
    repaired.push_str(sign);
    repaired.push_str(int_part);
    if !frac_part.is_empty() {
        repaired.push('.');
        repaired.push_str(frac_part);
    }
    repaired.push_str(exponent);
    if mantissa.is_empty() || !is_json_number(repaired.as_bytes()) {
        return false;
    }
    out.extend_from_slice(repaired.as_bytes());
    true
}

#[cfg(test)]
mod tests {
    use super::*;

    fn string(text: &str) -> String {
        let mut out = Vec::new();
        write_str(&mut out, text);
        String::from_utf8(out).unwrap()
    }

    fn number(text: &str) -> Option<String> {
        let mut out = Vec::new();
        write_number(&mut out, text.as_bytes()).then(|| String::from_utf8(out).unwrap())
    }

    #[test]
    fn strings_escape_quotes_backslashes_and_controls() {
        assert_eq!(string("plain"), "\"plain\"");
        assert_eq!(string("a\"b\\c\nd\u{1}é"), "\"a\\\"b\\\\c\\nd\\u0001é\"");
        let parsed: String = serde_json::from_str(&string("x\u{1f}\ty\r")).unwrap();
        assert_eq!(parsed, "x\u{1f}\ty\r");
    }

    #[test]
    fn an_escape_anywhere_in_a_long_string_is_found() {
        for special in ['"', '\\', '\n', '\u{0}'] {
            for at in 0..40 {
                let mut text: String = "abcdefghijklmnopqrstuvwxyz0123456789ABCD".into();
                text.replace_range(at..at + 1, &special.to_string());
                let parsed: String = serde_json::from_str(&string(&text)).unwrap();
                assert_eq!(parsed, text, "special {special:?} at {at}");
            }
        }
    }

    #[test]
    fn java_doubles_are_written_exactly_as_sent() {
        assert_eq!(number("100.0").as_deref(), Some("100.0"));
        assert_eq!(number("9.9213206E7").as_deref(), Some("9.9213206E7"));
        assert_eq!(number("-0.5").as_deref(), Some("-0.5"));
        assert_eq!(
            number("123456789012345678.12").as_deref(),
            Some("123456789012345678.12")
        );
    }

    #[test]
    fn number_forms_outside_json_are_repaired_or_refused() {
        assert_eq!(number("+5").as_deref(), Some("5"));
        assert_eq!(number(".5").as_deref(), Some("0.5"));
        assert_eq!(number("5.").as_deref(), Some("5"));
        assert_eq!(number("007").as_deref(), Some("7"));
        assert_eq!(number("NaN"), None);
        assert_eq!(number("12abc"), None);
        assert_eq!(number(""), None);
        assert_eq!(number("-"), None);
    }

    proptest::proptest! {
        #[test]
        fn any_string_round_trips_through_json(text in "\\PC*|[\u{0}-\u{1f}\"\\\\]*") {
            let parsed: String = serde_json::from_str(&string(&text)).unwrap();
            proptest::prop_assert_eq!(parsed, text);
        }

        #[test]
        fn json_numbers_are_written_unchanged(n in proptest::num::f64::NORMAL) {
            let text = format!("{n:e}");
            proptest::prop_assert_eq!(number(&text), Some(text.clone()));
        }
    }
}
