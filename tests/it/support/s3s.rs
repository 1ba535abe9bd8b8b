//! Starts `s3s-fs` (a real S3-compatible server keeping objects as files) on loopback for a
//! test. Found via env `S3S_FS_BIN` or `PATH`; when absent, see [`super::tools::require_tool`].

use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};

use super::tools::{free_port, path_from_env, require_tool, wait_until_listening};

pub(crate) const ACCESS_KEY: &str = "AKIAIOSFODNN7EXAMPLE";
pub(crate) const SECRET_KEY: &str = "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY";
pub(crate) const BUCKET: &str = "dlq-bucket";

pub(crate) struct S3Server {
    child: Child,
    port: u16,
    root: tempfile::TempDir,
}

fn find_binary() -> Option<PathBuf> {
    if let Some(path) = path_from_env("S3S_FS_BIN") {
        return Some(path);
    }
    let paths = std::env::var_os("PATH")?;
    std::env::split_paths(&paths)
        .map(|dir| dir.join("s3s-fs"))
        .find(|candidate| candidate.is_file())
}

impl S3Server {
    /// A running server with bucket [`BUCKET`], or `None` (test SKIPPED) without the binary.
    pub(crate) fn start() -> Option<S3Server> {
        let binary = require_tool(
            "s3s-fs",
            find_binary(),
            "s3s-fs not found (install: cargo install --locked s3s-fs@0.14.1 --features binary; or set S3S_FS_BIN)",
        )?;
        let root = tempfile::tempdir().unwrap();
        std::fs::create_dir(root.path().join(BUCKET)).unwrap();
        let port = free_port();
        let child = Command::new(&binary)
            .args(["--host", "127.0.0.1", "--port", &port.to_string()])
            .args(["--access-key", ACCESS_KEY, "--secret-key", SECRET_KEY])
            .arg(root.path())
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .unwrap_or_else(|e| panic!("cannot start {}: {e}", binary.display()));
        let server = S3Server { child, port, root };
        wait_until_listening("s3s-fs", port);
        Some(server)
    }

    pub(crate) fn endpoint(&self) -> String {
        format!("http://127.0.0.1:{}", self.port)
    }

    /// The destination's `object_storage_config` for this server's bucket (`rejects/` prefix):
    /// `format` (`JSONL`, `CSV`) and `compression` (`No Compression`, `GZIP`).
    pub(crate) fn storage_config(&self, format: &str, compression: &str) -> serde_json::Value {
        serde_json::json!({
            "storage_type": "S3",
            "s3_bucket_name": BUCKET,
            "s3_bucket_region": "us-east-1",
            "bucket_path": "rejects",
            "s3_endpoint": self.endpoint(),
            "access_key_id": ACCESS_KEY,
            "secret_access_key": SECRET_KEY,
            "format": {"format_type": format},
            "compression": {"compression_type": compression},
        })
    }

    /// Every object in the bucket as (key, body), sorted by key.
    pub(crate) fn objects(&self) -> Vec<(String, String)> {
        self.object_bytes()
            .into_iter()
            .map(|(key, body)| (key, String::from_utf8(body).unwrap_or_default()))
            .collect()
    }

    /// The stored objects (key, bytes), sorted by key.
    pub(crate) fn object_bytes(&self) -> Vec<(String, Vec<u8>)> {
        let bucket = self.root.path().join(BUCKET);
        let mut out = Vec::new();
        collect(&bucket, &bucket, &mut out);
        out.sort();
        out
    }
}

fn collect(base: &Path, dir: &Path, out: &mut Vec<(String, Vec<u8>)>) {
    for entry in std::fs::read_dir(dir).unwrap() {
        let path = entry.unwrap().path();
        if path.is_dir() {
            collect(base, &path, out);
        } else {
            let name = path.file_name().unwrap().to_string_lossy().to_string();
            // s3s-fs keeps metadata and in-progress uploads beside objects.
            if name.starts_with('.') || name.ends_with(".metadata.json") {
                continue;
            }
            let key = path
                .strip_prefix(base)
                .unwrap()
                .to_string_lossy()
                .replace('\\', "/");
            out.push((key, std::fs::read(&path).unwrap_or_default()));
        }
    }
}

impl Drop for S3Server {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}
