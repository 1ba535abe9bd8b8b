//! Reading the files named by `--config`, `--catalog` and `--state`. Every error names the
//! flag, the file and what was wrong with it.

use std::collections::HashSet;
use std::path::Path;

use serde_json::Value;

use crate::failure::Failure;
use crate::protocol::{ConfiguredAirbyteCatalog, InputState};

/// The JSON content of a file passed with `flag`.
pub(crate) fn read_json(flag: &str, path: &Path) -> Result<Value, Failure> {
    let bytes = read_file(flag, path)?;
    parse_json(flag, path, &bytes)
}

fn read_file(flag: &str, path: &Path) -> Result<Vec<u8>, Failure> {
    std::fs::read(path).map_err(|e| {
        Failure::config(format!(
            "{flag} {}: cannot read the file ({e})",
            path.display()
        ))
    })
}

fn parse_json(flag: &str, path: &Path, bytes: &[u8]) -> Result<Value, Failure> {
    // serde_json's syntax errors name a position, never the file's content.
    serde_json::from_slice(bytes).map_err(|e| {
        Failure::config(format!(
            "{flag} {}: expected a JSON document, got invalid JSON ({e})",
            path.display()
        ))
    })
}

/// The configured catalog (`--catalog`): parsed, with each stream named once.
pub(crate) fn read_catalog(path: &Path) -> Result<ConfiguredAirbyteCatalog, Failure> {
    let value = read_json("--catalog", path)?;
    parse_catalog(value)
        .map_err(|problem| Failure::config(format!("--catalog {}: {problem}", path.display())))
}

/// The catalog in `value`, or what is wrong with it (key path first).
pub(crate) fn parse_catalog(value: Value) -> Result<ConfiguredAirbyteCatalog, String> {
    if !value.is_object() {
        return Err(format!(
            "expected a configured catalog object {{\"streams\": [...]}}, got {}",
            crate::config::json_kind(&value)
        ));
    }
    let catalog: ConfiguredAirbyteCatalog =
        serde_path_to_error::deserialize(&value).map_err(|e| {
            let path = e.path().to_string();
            if path == "." {
                format!("expected a configured catalog ({})", e.inner())
            } else {
                format!("{path}: {}", e.inner())
            }
        })?;
    let mut seen = HashSet::new();
    for (index, stream) in catalog.streams.iter().enumerate() {
        if stream.stream.name.is_empty() {
            return Err(format!(
                "streams[{index}].stream.name: expected a non-empty stream name"
            ));
        }
        if !seen.insert(stream.descriptor()) {
            return Err(format!(
                "streams[{index}]: stream {:?} is configured twice",
                stream.descriptor().to_string()
            ));
        }
    }
    Ok(catalog)
}

/// The state (`--state`), normalised; no flag or an empty file means no state.
pub(crate) fn read_state(path: Option<&Path>) -> Result<InputState, Failure> {
    let Some(path) = path else {
        return Ok(InputState::default());
    };
    let bytes = read_file("--state", path)?;
    if bytes.iter().all(u8::is_ascii_whitespace) {
        return Ok(InputState::default());
    }
    let value = parse_json("--state", path, &bytes)?;
    InputState::from_value(value)
        .map_err(|e| Failure::config(format!("--state {}: {e}", path.display())))
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn stream(name: &str, sync_mode: &str) -> Value {
        json!({"stream": {"name": name, "json_schema": {}, "supported_sync_modes": ["full_refresh"]},
               "sync_mode": sync_mode, "destination_sync_mode": "append"})
    }

    #[test]
    fn invalid_sync_mode_names_the_stream_index_and_key() {
        let err = parse_catalog(
            json!({"streams": [stream("Account", "full_refresh"), stream("Lead", "INVALID")]}),
        )
        .unwrap_err();
        assert_eq!(
            err,
            "streams[1].sync_mode: unknown variant `INVALID`, expected `full_refresh` or `incremental`"
        );
    }

    #[test]
    fn duplicate_and_unnamed_streams_are_rejected() {
        let err = parse_catalog(json!({"streams": [stream("Account", "full_refresh"), stream("Account", "incremental")]}))
            .unwrap_err();
        assert_eq!(err, "streams[1]: stream \"Account\" is configured twice");
        let err = parse_catalog(json!({"streams": [stream("", "full_refresh")]})).unwrap_err();
        assert_eq!(
            err,
            "streams[0].stream.name: expected a non-empty stream name"
        );
    }

    #[test]
    fn a_catalog_that_is_not_an_object_says_so() {
        assert_eq!(
            parse_catalog(json!([1])).unwrap_err(),
            "expected a configured catalog object {\"streams\": [...]}, got an array"
        );
        assert_eq!(
            parse_catalog(json!({})).unwrap_err(),
            "expected a configured catalog (missing field `streams`)"
        );
    }

    #[test]
    fn missing_and_malformed_files_name_the_flag_and_file() {
        let dir = tempfile::tempdir().unwrap();
        let missing = dir.path().join("nope.json");
        let err = read_json("--config", &missing).unwrap_err();
        assert_eq!(
            err.message,
            format!(
                "--config {}: cannot read the file (No such file or directory (os error 2))",
                missing.display()
            )
        );
        let bad = dir.path().join("bad.json");
        std::fs::write(&bad, "{\"a\": 1,}").unwrap();
        assert_eq!(
            read_json("--config", &bad).unwrap_err().message,
            format!("--config {}: expected a JSON document, got invalid JSON (trailing comma at line 1 column 9)", bad.display())
        );
    }

    #[test]
    fn empty_or_absent_state_is_no_state() {
        let dir = tempfile::tempdir().unwrap();
        let empty = dir.path().join("state.json");
        std::fs::write(&empty, "  \n").unwrap();
        assert_eq!(read_state(Some(&empty)).unwrap(), InputState::default());
        assert_eq!(read_state(None).unwrap(), InputState::default());
        std::fs::write(&empty, "42").unwrap();
        assert_eq!(
            read_state(Some(&empty)).unwrap_err().message,
            format!("--state {}: expected a JSON array of state messages or an object of per-stream states, got a number", empty.display())
        );
    }
}
