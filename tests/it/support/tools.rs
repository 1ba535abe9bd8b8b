//! The external tools some tests need (the test virtualenv's Python, PyAirbyte's, s3s-fs, a
//! Docker engine). Outside CI a missing tool skips the test with a `SKIPPED:` line; under `CI`
//! (which `.ci/run` sets) it fails the test, so CI never passes a test it did not run.

use std::path::PathBuf;

/// `found` when the tool is there; otherwise `None` after printing `SKIPPED: <test>: <missing>`,
/// or a panic naming `missing` when `CI` is set.
pub(crate) fn require_tool<T>(test: &str, found: Option<T>, missing: &str) -> Option<T> {
    if found.is_some() {
        return found;
    }
    if std::env::var_os("CI").is_some() {
        panic!("{test}: {missing} (CI must run this test)");
    }
    println!("SKIPPED: {test}: {missing}");
    None
}

/// The path in environment variable `name`, when set and not empty.
pub(crate) fn path_from_env(name: &str) -> Option<PathBuf> {
    std::env::var_os(name)
        .filter(|p| !p.is_empty())
        .map(PathBuf::from)
}

/// The Python of the test virtualenv (`SF_TEST_PYTHON`, which `.ci/run` sets).
pub(crate) fn python(test: &str) -> Option<PathBuf> {
    require_tool(
        test,
        path_from_env("SF_TEST_PYTHON"),
        "SF_TEST_PYTHON is not set (run .ci/run, or point it at a Python with tests/python/requirements.txt installed)",
    )
}

/// The Python of PyAirbyte's virtualenv (`SF_PYAIRBYTE_PYTHON`, which `.ci/run` sets).
pub(crate) fn pyairbyte_python(test: &str) -> Option<PathBuf> {
    require_tool(
        test,
        path_from_env("SF_PYAIRBYTE_PYTHON"),
        "SF_PYAIRBYTE_PYTHON is not set (run .ci/run, or point it at a Python with tests/python/requirements-pyairbyte.txt installed)",
    )
}

/// A port nothing listens on right now, for a server a test starts.
pub(crate) fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

/// Waits (10 s at most) until the server `what` a test started accepts connections on `port`.
pub(crate) fn wait_until_listening(what: &str, port: u16) {
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(10);
    while std::net::TcpStream::connect(("127.0.0.1", port)).is_err() {
        assert!(
            std::time::Instant::now() < deadline,
            "{what} did not start listening on {port}"
        );
        std::thread::sleep(std::time::Duration::from_millis(5));
    }
}
