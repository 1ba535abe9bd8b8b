//! The `sf-emulator` binary: the ready line, --faults FILE, and clear errors for bad flags.

use std::io::{BufRead, BufReader};
use std::process::{Child, Command, Stdio};

use serde_json::Value;

struct Running(Child);

impl Drop for Running {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

fn start(args: &[&str]) -> (Running, Value) {
    let mut child = Command::new(env!("CARGO_BIN_EXE_sf-emulator"))
        .args(args)
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("binary starts");
    let stdout = child.stdout.take().unwrap();
    let mut line = String::new();
    BufReader::new(stdout).read_line(&mut line).unwrap();
    let ready: Value =
        serde_json::from_str(&line).unwrap_or_else(|e| panic!("ready line {line:?}: {e}"));
    (Running(child), ready)
}

#[tokio::test]
async fn prints_one_ready_line_and_serves_faults_from_a_file() {
    let dir = std::env::temp_dir().join(format!("sf-emulator-binary-test-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let faults = dir.join("faults.json");
    std::fs::write(&faults, r#"[{"method": "GET", "path": "/services/data/*/limits", "type": "status", "error_code": "API_DISABLED_FOR_ORG", "when": "always"}]"#).unwrap();
    let (_child, ready) = start(&[
        "--seed",
        "7",
        "--scale",
        "1",
        "--faults",
        faults.to_str().unwrap(),
        "--frozen-clock",
    ]);
    for key in [
        "base_url",
        "login_url",
        "client_id",
        "client_secret",
        "refresh_token",
        "username",
    ] {
        assert!(ready[key].is_string(), "{key} in {ready}");
    }
    let base = ready["base_url"].as_str().unwrap();
    let client = reqwest::Client::new();
    let token: Value = client
        .post(format!("{base}/services/oauth2/token"))
        .form(&[
            ("grant_type", "refresh_token"),
            ("client_id", ready["client_id"].as_str().unwrap()),
            ("client_secret", ready["client_secret"].as_str().unwrap()),
            ("refresh_token", ready["refresh_token"].as_str().unwrap()),
        ])
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(token["instance_url"], base);
    let r = client
        .get(format!("{base}/services/data/v62.0/limits/"))
        .bearer_auth(token["access_token"].as_str().unwrap())
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 403);
    let body: Value = r.json().await.unwrap();
    assert_eq!(body[0]["errorCode"], "API_DISABLED_FOR_ORG");
    std::fs::remove_dir_all(&dir).ok();
}

#[test]
fn bad_flags_get_clear_errors() {
    let run = |args: &[&str]| {
        let out = Command::new(env!("CARGO_BIN_EXE_sf-emulator"))
            .args(args)
            .output()
            .unwrap();
        assert!(!out.status.success(), "{args:?} should fail");
        String::from_utf8_lossy(&out.stderr).to_string()
    };
    assert!(run(&["--scale", "many"]).contains("--scale"));
    assert!(run(&["--records", "Account"]).contains("expected OBJECT=N"));
    assert!(run(&["--records", "Account=lots"]).contains("whole number"));
    assert!(run(&["--faults", "/nonexistent/faults.json"]).contains("cannot read"));
    let dir = std::env::temp_dir().join(format!("sf-emulator-bad-faults-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let bad = dir.join("faults.json");
    std::fs::write(&bad, "[\n{\"path\": \"*\", \"type\": \"nope\"}]").unwrap();
    let err = run(&["--faults", bad.to_str().unwrap()]);
    assert!(err.contains("line 2"), "{err}");
    std::fs::remove_dir_all(&dir).ok();
    assert!(run(&["--listen", "not-an-address"]).contains("--listen"));
    assert!(run(&["--tls-names", "emulator"]).contains("--tls-names: only with --tls"));
    assert!(run(&["--tls", "--advertise-url", "http://emulator:8080"])
        .contains("--advertise-url \"http://emulator:8080\": expected a https:// URL"));
}

/// A client that trusts only the CA the ready line prints (as PEM text, for clients that cannot
/// read the emulator's files), and resolves `names` to 127.0.0.1.
fn trusting_client(ready: &Value, names: &[&str], port: u16) -> reqwest::Client {
    let pem = ready["ca_certificate_pem"]
        .as_str()
        .expect("ca_certificate_pem in the ready line");
    let mut builder = reqwest::Client::builder()
        .tls_built_in_root_certs(false)
        .add_root_certificate(reqwest::Certificate::from_pem(pem.as_bytes()).unwrap());
    for name in names {
        builder = builder.resolve(name, std::net::SocketAddr::from(([127, 0, 0, 1], port)));
    }
    builder.build().unwrap()
}

#[tokio::test]
async fn tls_on_every_interface_advertises_a_concrete_address_its_certificate_covers() {
    let (_child, ready) = start(&[
        "--listen",
        "0.0.0.0:0",
        "--tls",
        "--tls-names",
        "emulator.test,10.11.12.13",
    ]);
    let base = url::Url::parse(ready["base_url"].as_str().unwrap()).unwrap();
    assert_eq!(base.scheme(), "https");
    let host = base.host_str().unwrap().to_string();
    assert!(
        host != "0.0.0.0" && host != "[::]",
        "the wildcard is never advertised: {base}"
    );
    assert_eq!(ready["login_url"], ready["base_url"]);
    let port = base.port().unwrap();
    let client = trusting_client(&ready, &["emulator.test"], port);
    // The advertised address: reachable, and covered by the certificate.
    let reply = client
        .get(format!("{base}services/data/"))
        .send()
        .await
        .unwrap_or_else(|e| panic!("GET {base}services/data/: {e:?}"));
    assert_eq!(reply.status(), 200);
    // A --tls-names DNS name is covered too (resolved to loopback here).
    let reply = client
        .get(format!("https://emulator.test:{port}/services/data/"))
        .send()
        .await
        .unwrap();
    assert_eq!(reply.status(), 200);
    // A name the certificate does not cover is refused.
    let uncovered = trusting_client(&ready, &["other.test"], port)
        .get(format!("https://other.test:{port}/services/data/"))
        .send()
        .await
        .expect_err("other.test is not in the certificate");
    assert!(
        format!("{uncovered:?}").contains("NotValidForName"),
        "{uncovered:?}"
    );
}

#[tokio::test]
async fn advertise_url_is_the_instance_url_and_is_in_the_certificate() {
    let listen_port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let (_child, ready) = start(&[
        "--listen",
        &format!("127.0.0.1:{listen_port}"),
        "--tls",
        "--advertise-url",
        "https://emulator.advertised.test:8443",
    ]);
    assert_eq!(ready["base_url"], "https://emulator.advertised.test:8443");
    // Reached through the advertised name (resolved to the listen address here), the
    // certificate covers it without --tls-names, and the token reply hands the URL out.
    let client = trusting_client(&ready, &["emulator.advertised.test"], listen_port);
    let token: Value = client
        .post(format!(
            "https://emulator.advertised.test:{listen_port}/services/oauth2/token"
        ))
        .form(&[
            ("grant_type", "refresh_token"),
            ("client_id", ready["client_id"].as_str().unwrap()),
            ("client_secret", ready["client_secret"].as_str().unwrap()),
            ("refresh_token", ready["refresh_token"].as_str().unwrap()),
        ])
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(
        token["instance_url"],
        "https://emulator.advertised.test:8443"
    );
}
