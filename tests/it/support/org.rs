//! What every test with an in-process emulator needs: a runtime to run it on, and a config
//! holding its org's refresh-token credentials.

use serde_json::{json, Value};
use sf_emulator::{Emulator, EmulatorConfig};

/// A two-worker runtime, the emulator's home in tests that run the binary synchronously.
pub(crate) fn runtime() -> tokio::runtime::Runtime {
    tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .expect("runtime")
}

/// An emulator with `config`, serving from `runtime`.
pub(crate) fn start_emulator(
    runtime: &tokio::runtime::Runtime,
    config: EmulatorConfig,
) -> Emulator {
    runtime
        .block_on(Emulator::start(config))
        .expect("emulator starts")
}

/// A config for `emulator`'s org: its refresh-token credentials and login URL, then `base`'s
/// keys, then `extra`'s (a `null` in `extra` removes the key).
pub(crate) fn org_config(emulator: &Emulator, base: Value, extra: Value) -> Value {
    let c = emulator.credentials();
    let mut config = json!({
        "client_id": c.client_id,
        "client_secret": c.client_secret,
        "refresh_token": c.refresh_token,
        "login_url": emulator.login_url(),
    });
    let target = config.as_object_mut().expect("an object");
    for (key, value) in [base, extra]
        .into_iter()
        .flat_map(|keys| keys.as_object().cloned().unwrap_or_default())
    {
        if value.is_null() {
            target.remove(&key);
        } else {
            target.insert(key, value);
        }
    }
    config
}
