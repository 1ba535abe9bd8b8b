//! The API versions the emulator answers (`GET /services/data/`), oldest first.

/// Oldest and newest version served; `vNN.0` paths outside get 404 NOT_FOUND.
pub(crate) const OLDEST: u32 = 31;
pub(crate) const NEWEST: u32 = 65;

/// Release label of a version: three releases a year, 62.0 = Winter '25 (facts §12).
pub(crate) fn label(version: u32) -> String {
    let offset = version as i64 - 62;
    let season = ["Winter", "Spring", "Summer"][offset.rem_euclid(3) as usize];
    let year = 25 + offset.div_euclid(3);
    format!("{season} '{year:02}")
}

/// The major version of a path segment `vNN.0` when served.
pub(crate) fn parse(segment: &str) -> Option<u32> {
    let rest = segment.strip_prefix('v')?;
    let (major, minor) = rest.split_once('.')?;
    if minor != "0" {
        return None;
    }
    let major: u32 = major.parse().ok()?;
    (OLDEST..=NEWEST).contains(&major).then_some(major)
}

/// `GET /services/data/` body.
pub(crate) fn list() -> serde_json::Value {
    serde_json::Value::Array(
        (OLDEST..=NEWEST)
            .map(|v| serde_json::json!({"label": label(v), "url": format!("/services/data/v{v}.0"), "version": format!("{v}.0")}))
            .collect(),
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn labels_follow_the_release_calendar() {
        assert_eq!(label(62), "Winter '25");
        assert_eq!(label(64), "Summer '25");
        assert_eq!(label(65), "Winter '26");
        assert_eq!(label(31), "Summer '14");
    }

    #[test]
    fn only_served_versions_parse() {
        assert_eq!(parse("v62.0"), Some(62));
        assert_eq!(parse("v62.1"), None);
        assert_eq!(parse("62.0"), None);
        assert_eq!(parse("v99.0"), None);
    }
}
