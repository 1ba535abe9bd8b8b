//! A process-wide list of secret values, scrubbed from every LOG and TRACE line.
//!
//! `Secret` keeps values out of `Debug`/`Display`, but an error from a library (an HTTP body,
//! a panic message) can still quote one. Registering the config's secrets when it is read
//! lets the writer replace them with `**********` in anything it logs or reports.

use std::borrow::Cow;
use std::sync::RwLock;

use super::REDACTED;

/// Secrets shorter than this are not scrubbed: replacing every "ab" would garble messages.
const MIN_SECRET_LEN: usize = 4;

static SECRETS: RwLock<Vec<String>> = RwLock::new(Vec::new());

/// Adds a value to scrub (and its JSON-escaped form, as it appears inside a message line).
pub fn register_secret(value: &str) {
    if value.len() < MIN_SECRET_LEN {
        return;
    }
    let mut secrets = SECRETS.write().unwrap_or_else(|p| p.into_inner());
    let escaped = serde_json::to_string(value).unwrap_or_default();
    let escaped = escaped.trim_matches('"').to_owned();
    for form in [value.to_owned(), escaped] {
        if !secrets.contains(&form) {
            secrets.push(form);
        }
    }
    // Longest first, so a secret that contains another is replaced whole.
    secrets.sort_by_key(|s| std::cmp::Reverse(s.len()));
}

/// `text` with every registered secret replaced by `**********`.
pub fn redact(text: &str) -> Cow<'_, str> {
    let secrets = SECRETS.read().unwrap_or_else(|p| p.into_inner());
    if !secrets.iter().any(|s| text.contains(s.as_str())) {
        return Cow::Borrowed(text);
    }
    let mut out = text.to_owned();
    for secret in secrets.iter() {
        if out.contains(secret.as_str()) {
            out = out.replace(secret.as_str(), REDACTED);
        }
    }
    Cow::Owned(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn registered_secrets_are_scrubbed_in_raw_and_escaped_form() {
        register_secret("s3cr3t-\"quoted\"-value");
        assert_eq!(
            redact("token s3cr3t-\"quoted\"-value rejected"),
            "token ********** rejected"
        );
        assert_eq!(
            redact(r#"{"message":"token s3cr3t-\"quoted\"-value rejected"}"#),
            r#"{"message":"token ********** rejected"}"#
        );
        assert!(matches!(redact("nothing here"), Cow::Borrowed(_)));
    }
}
