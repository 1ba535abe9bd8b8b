//! The unified diffs Salesforce sends instead of the new value of a long text field in an
//! UPDATE change event, listed in the header's `diffFields`.
//!
//! Documented (Change Data Capture Developer Guide, "Sending Data Differences for Fields of
//! Updated Records" `cdc_data_diff.htm`, "Data Differences in Event Fields"
//! `cdc_data_diff_event_fields.htm`, "How to Reconstruct a Field from Its Diff Value"
//! `cdc_data_diff_event_fields_reconstruct.htm`, "Considerations for Newline Characters and
//! Computing the SHA-256 Hash" `cdc_data_diff_event_fields_considerations.htm`):
//!
//! - large text fields (Description, Long Text Area) of at least 1,000 characters; the value is
//!   `"--- \n+++ <hash>\n"` then the hunks, `<hash>` the SHA-256 (hex) of the whole updated
//!   value; in a Pub/Sub API event the field's string is the diff itself (CometD wraps it in a
//!   `diff` subfield);
//! - differences are computed per line, the lines being the value split at its line breaks;
//!   the documented example's hunks have no context lines and always give both counts
//!   (`@@ -2,1 +2,1 @@`);
//! - the full value is sent instead when the value is under 1,000 characters, when the old and
//!   new values differ in length by more than 50%, when more than 25% of the lines of the old
//!   and new values together changed, or when the diff is longer than the new value ("if
//!   sending the diff does not reduce the field size, the entire value is sent");
//! - a reader rebuilds the value with Java Diff Utilities (`DiffUtils.parseUnifiedDiff`,
//!   `DiffUtils.patch`), joins the lines with the value's own newline sequence (`\r\n` or
//!   `\n`) and checks the hash.
//!
//! Where the documentation is silent, chosen here:
//! - hunk positions follow Java Diff Utilities, the library the documentation names for
//!   rebuilding the value: the start is the 0-based line index + 1 even for an empty range
//!   (`@@ -4,0 +4,2 @@` inserts before old line 4), which is what its parser reads back;
//! - the diff's lines are joined by `\n`, with no newline after the last one;
//! - "1,000 characters" is the new value's length in characters; the 50% is of the old value's
//!   length; a value whose line breaks mix `\n` and `\r\n` (or has a lone `\r`) is sent whole,
//!   since joining the rebuilt lines with one newline sequence could not give it back; an old
//!   value that was null is sent whole (there is nothing to patch).

use sha2::{Digest, Sha256};
use similar::{capture_diff_slices, Algorithm, DiffOp};

/// The documented threshold: shorter values are always sent whole.
pub(crate) const MIN_CHARS: usize = 1_000;

/// The diff to send for an update of a long text field from `old` to `new`, or `None` when
/// Salesforce sends the new value whole.
pub(crate) fn unified(old: &str, new: &str) -> Option<String> {
    let new_chars = new.chars().count();
    let old_chars = old.chars().count();
    if new_chars < MIN_CHARS || old == new {
        return None;
    }
    if new_chars.abs_diff(old_chars) * 2 > old_chars {
        return None;
    }
    let (old_lines, old_newline) = lines(old)?;
    let (new_lines, new_newline) = lines(new)?;
    if let (Some(a), Some(b)) = (old_newline, new_newline) {
        if a != b {
            return None;
        }
    }
    let ops = capture_diff_slices(Algorithm::Myers, &old_lines, &new_lines);
    let hunks = hunks(&ops);
    let changed: usize = hunks.iter().map(|h| h.old.len() + h.new.len()).sum();
    if changed * 4 > old_lines.len() + new_lines.len() {
        return None;
    }
    let mut text = format!("--- \n+++ {}", sha256_hex(new));
    for hunk in &hunks {
        text.push_str(&format!(
            "\n@@ -{},{} +{},{} @@",
            hunk.old.start + 1,
            hunk.old.len(),
            hunk.new.start + 1,
            hunk.new.len()
        ));
        for line in &old_lines[hunk.old.clone()] {
            text.push_str("\n-");
            text.push_str(line);
        }
        for line in &new_lines[hunk.new.clone()] {
            text.push_str("\n+");
            text.push_str(line);
        }
    }
    (text.chars().count() < new_chars).then_some(text)
}

/// The lowercase hex SHA-256 of `value`'s UTF-8 bytes (the diff's `+++` line).
pub(crate) fn sha256_hex(value: &str) -> String {
    Sha256::digest(value.as_bytes())
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect()
}

/// The value's lines without their line breaks, and its newline sequence (`None`: one line).
/// `None` when the breaks mix `\n` and `\r\n` or a `\r` stands alone.
fn lines(value: &str) -> Option<(Vec<&str>, Option<&'static str>)> {
    let parts: Vec<&str> = value.split('\n').collect();
    if parts.len() == 1 {
        return (!value.contains('\r')).then_some((parts, None));
    }
    let crlf = parts[..parts.len() - 1].iter().all(|p| p.ends_with('\r'));
    let lf = parts[..parts.len() - 1].iter().all(|p| !p.ends_with('\r'));
    if !crlf && !lf {
        return None;
    }
    let lines: Vec<&str> = parts
        .iter()
        .enumerate()
        .map(|(i, p)| match p.strip_suffix('\r') {
            Some(line) if crlf && i + 1 < parts.len() => line,
            _ => p,
        })
        .collect();
    if lines.iter().any(|l| l.contains('\r')) {
        return None;
    }
    Some((lines, Some(if crlf { "\r\n" } else { "\n" })))
}

/// One hunk without context: old lines `old` replaced by new lines `new`.
#[derive(Debug, PartialEq)]
struct Hunk {
    old: std::ops::Range<usize>,
    new: std::ops::Range<usize>,
}

/// The changes as hunks, consecutive non-equal operations joined into one.
fn hunks(ops: &[DiffOp]) -> Vec<Hunk> {
    let mut out: Vec<Hunk> = Vec::new();
    let mut open = false;
    for op in ops {
        if let DiffOp::Equal { .. } = op {
            open = false;
            continue;
        }
        let (old, new) = (op.old_range(), op.new_range());
        match out.last_mut() {
            Some(last) if open => {
                last.old.end = old.end;
                last.new.end = new.end;
            }
            _ => out.push(Hunk { old, new }),
        }
        open = true;
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    /// `n` numbered lines of 100 characters each.
    fn paragraph(n: usize, newline: &str) -> String {
        (1..=n)
            .map(|i| {
                let line = format!("Line {i:02}: cloud computing moves business applications");
                format!("{line:.<100}")
            })
            .collect::<Vec<_>>()
            .join(newline)
    }

    /// Applies `diff` to `old` as Java Diff Utilities reads it (start − 1 = position), joining
    /// with `newline`.
    fn apply(old: &str, diff: &str, newline: &str) -> String {
        let mut lines: Vec<String> = old.split(newline).map(str::to_string).collect();
        let mut rest = diff.split('\n');
        assert_eq!(rest.next(), Some("--- "));
        let hash = rest
            .next()
            .unwrap()
            .strip_prefix("+++ ")
            .unwrap()
            .to_string();
        let mut hunks: Vec<(usize, Vec<String>, Vec<String>)> = Vec::new();
        for line in rest {
            if let Some(header) = line.strip_prefix("@@ -") {
                let start: usize = header.split(',').next().unwrap().parse().unwrap();
                hunks.push((start.max(1) - 1, vec![], vec![]));
            } else if let Some(l) = line.strip_prefix('-') {
                hunks.last_mut().unwrap().1.push(l.to_string());
            } else if let Some(l) = line.strip_prefix('+') {
                hunks.last_mut().unwrap().2.push(l.to_string());
            } else {
                panic!("unexpected diff line {line:?}");
            }
        }
        for (position, removed, added) in hunks.into_iter().rev() {
            let end = position + removed.len();
            assert_eq!(lines[position..end], removed[..]);
            lines.splice(position..end, added);
        }
        let value = lines.join(newline);
        assert_eq!(sha256_hex(&value), hash);
        value
    }

    #[test]
    fn the_hash_is_the_sha256_hex_of_the_new_value() {
        assert_eq!(
            sha256_hex("abc"),
            "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"
        );
    }

    #[test]
    fn one_changed_line_is_one_hunk_without_context() {
        let old = paragraph(20, "\n");
        let new = old.replace(
            "Line 02: cloud computing moves business applications",
            "Line 02: cloud computing moves business apps",
        );
        let diff = unified(&old, &new).expect("a diff");
        let lines: Vec<&str> = diff.split('\n').collect();
        assert_eq!(lines[0], "--- ");
        assert_eq!(lines[1], format!("+++ {}", sha256_hex(&new)));
        assert_eq!(lines[2], "@@ -2,1 +2,1 @@");
        assert!(lines[3].starts_with("-Line 02: cloud computing moves business applications"));
        assert!(lines[4].starts_with("+Line 02: cloud computing moves business apps"));
        assert_eq!(lines.len(), 5, "{diff}");
        assert_eq!(apply(&old, &diff, "\n"), new);
    }

    #[test]
    fn insertions_deletions_and_replacements_rebuild_the_new_value() {
        let old = paragraph(24, "\n");
        let mut lines: Vec<String> = old.split('\n').map(str::to_string).collect();
        lines.insert(0, "A new first line.".into());
        lines.remove(10);
        lines[15] = "Replaced line.".into();
        lines.push("Appended at the end.".into());
        let new = lines.join("\n");
        let diff = unified(&old, &new).expect("a diff");
        assert!(
            diff.contains("\n@@ -1,0 +1,1 @@\n+A new first line."),
            "{diff}"
        );
        assert_eq!(apply(&old, &diff, "\n"), new);
    }

    #[test]
    fn crlf_values_are_diffed_by_line_and_rebuilt_with_their_newline() {
        let old = paragraph(20, "\r\n");
        let new = format!("{old}\r\nOne more line.");
        let diff = unified(&old, &new).expect("a diff");
        assert!(!diff.contains('\r'));
        assert!(
            diff.ends_with("\n@@ -21,0 +21,1 @@\n+One more line."),
            "{diff}"
        );
        assert_eq!(apply(&old, &diff, "\r\n"), new);
    }

    #[test]
    fn the_full_value_goes_when_salesforce_documents_it_does() {
        let old = paragraph(20, "\n");
        // Under 1,000 characters.
        let short_old = paragraph(5, "\n");
        let short_new = short_old.replace("Line 02", "Line two");
        assert!(short_new.chars().count() < MIN_CHARS);
        assert_eq!(unified(&short_old, &short_new), None);
        // Length changed by more than 50%.
        let longer = format!("{old}\n{}", paragraph(11, "\n"));
        assert_eq!(unified(&old, &longer), None);
        // More than 25% of the lines changed (6 of 20 → 12 of 40 lines).
        let mut lines: Vec<String> = old.split('\n').map(str::to_string).collect();
        for line in lines.iter_mut().take(6) {
            *line = line.replace("cloud", "fog");
        }
        assert_eq!(unified(&old, &lines.join("\n")), None);
        // Five of them (10 of 40) is a diff.
        let mut lines: Vec<String> = old.split('\n').map(str::to_string).collect();
        for line in lines.iter_mut().take(5) {
            *line = line.replace("cloud", "fog");
        }
        assert!(unified(&old, &lines.join("\n")).is_some());
        // One line: any change is 100% of the lines.
        let one_old = "y".repeat(1_200);
        let one_new = format!("{one_old}z");
        assert_eq!(unified(&one_old, &one_new), None);
        // Mixed line breaks.
        let mixed = old.replacen('\n', "\r\n", 1);
        assert_eq!(unified(&old, &mixed), None);
        // Unchanged.
        assert_eq!(unified(&old, &old), None);
    }

    #[test]
    fn a_diff_no_shorter_than_the_value_is_not_sent() {
        // 40 short lines and a long one that changes: 2 of 82 lines changed, but the diff
        // carries the long line twice, more than the whole new value.
        let mut lines: Vec<String> = (0..40).map(|i| format!("l{i}")).collect();
        lines.push("h".repeat(1_000));
        let old = lines.join("\n");
        lines[40] = format!("{}i", "h".repeat(1_000));
        let new = lines.join("\n");
        assert_eq!(unified(&old, &new), None);
    }
}
