//! Files the tests write and read back: config files for containers, dead-letter folders.

use std::path::{Path, PathBuf};

use serde_json::Value;

/// The repository root (where Cargo.toml, Dockerfile and metadata.yaml are).
pub(crate) fn repo_root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

/// Writes `value` as `dir/name` (readable by every user: containers run as uid 1000).
pub(crate) fn write_json(dir: &Path, name: &str, value: &Value) -> PathBuf {
    let path = dir.join(name);
    std::fs::write(&path, serde_json::to_vec_pretty(value).expect("JSON")).expect("file written");
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o644))
            .expect("file permissions");
    }
    path
}

/// Every file under `dir` with its text, sorted by path.
pub(crate) fn files_under(dir: &Path) -> Vec<(PathBuf, String)> {
    let mut out = Vec::new();
    let mut stack = vec![dir.to_path_buf()];
    while let Some(d) = stack.pop() {
        let Ok(entries) = std::fs::read_dir(&d) else {
            continue;
        };
        for entry in entries.flatten() {
            let path = entry.path();
            if path.is_dir() {
                stack.push(path);
            } else {
                let text = std::fs::read_to_string(&path).unwrap_or_default();
                out.push((path, text));
            }
        }
    }
    out.sort();
    out
}

/// Asserts the checked-in file at `path` holds `generated`, or rewrites it when the environment
/// variable `update_var` is set; `stale` says what differs and how to regenerate it.
pub(crate) fn assert_generated_file(path: &Path, generated: &str, update_var: &str, stale: &str) {
    if std::env::var_os(update_var).is_some() {
        std::fs::write(path, generated)
            .unwrap_or_else(|e| panic!("{} not written: {e}", path.display()));
        return;
    }
    let current = std::fs::read_to_string(path).unwrap_or_default();
    assert!(current == generated, "{stale}");
}
