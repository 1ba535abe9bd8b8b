//! The networks enterprises run connectors in, for both roles: a TLS org whose CA is given only
//! through the config's `ca_certificate` (the connector trusts webpki's public roots and that,
//! nothing from the environment), and `HTTPS_PROXY` / `HTTP_PROXY` / `NO_PROXY` honoured (by
//! reqwest's system-proxy support, which the Salesforce client and object_store's S3 client
//! both leave on) through a real proxy server, tinyproxy from Debian's packages, whose log
//! must show the connector's requests.
//!
//! tinyproxy is found via env `SF_TINYPROXY_BIN` or `PATH` (`.ci/run` installs Debian's
//! `tinyproxy-bin`); when absent, see [`crate::support::tools::require_tool`].

use std::net::TcpListener;
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};

use chrono::{SubsecRound, Utc};
use serde_json::{json, Value};
use sf_emulator::{Emulator, EmulatorConfig};

use crate::support::admin_api::json_reply;
use crate::support::org::{org_config, runtime, start_emulator};
use crate::support::run::{connector, message_of, Run};
use crate::support::s3s;
use crate::support::tools::{free_port, path_from_env, require_tool, wait_until_listening};

/// A TLS emulator on its own runtime, and a client that trusts its CA (for the admin API).
struct TlsOrg {
    runtime: tokio::runtime::Runtime,
    emulator: Emulator,
    dir: tempfile::TempDir,
    admin: reqwest::Client,
}

impl TlsOrg {
    fn start() -> TlsOrg {
        TlsOrg::start_with(true)
    }

    /// `tls` false: plain http on loopback (no CA).
    fn start_with(tls: bool) -> TlsOrg {
        let runtime = runtime();
        let emulator = start_emulator(
            &runtime,
            EmulatorConfig {
                tls,
                start_time: Utc::now().trunc_subsecs(0),
                ..EmulatorConfig::default()
            },
        );
        let mut admin = reqwest::Client::builder().no_proxy();
        if let Some(pem) = emulator.ca_certificate_pem() {
            admin =
                admin.add_root_certificate(reqwest::Certificate::from_pem(pem.as_bytes()).unwrap());
        }
        let admin = admin.build().unwrap();
        TlsOrg {
            runtime,
            emulator,
            dir: tempfile::tempdir().unwrap(),
            admin,
        }
    }

    fn base_url(&self) -> String {
        self.emulator.base_url()
    }

    /// A config of either role for this org; `ca` adds `ca_certificate`.
    fn config(&self, ca: bool, extra: Value) -> Value {
        let mut base = json!({
            "start_date": "2020-01-01T00:00:00Z",
            "dead_letter_folder": self.dir.path().join("dead-letter").to_string_lossy(),
        });
        if ca {
            base["ca_certificate"] = json!(ca_pem(&self.emulator));
        }
        org_config(&self.emulator, base, extra)
    }

    fn file(&self, name: &str, value: &Value) -> String {
        let path = self.dir.path().join(name);
        std::fs::write(&path, serde_json::to_vec(value).unwrap()).unwrap();
        path.to_string_lossy().into_owned()
    }

    /// `salesforce-connector <role> <command> --config …` with `env`.
    fn run(&self, role: &str, command: &str, config: &Value, env: &[(&str, &str)]) -> Run {
        let config = self.file(&format!("{role}-{command}-config.json"), config);
        let mut invocation = connector(&[role, command, "--config", &config])
            .env("SALESFORCE_CONNECTOR_BACKOFF_MS", "20");
        for (key, value) in env {
            invocation = invocation.env(key, value);
        }
        invocation.run()
    }

    /// A full-refresh read of Account.
    fn read_accounts(&self, config: &Value, env: &[(&str, &str)]) -> Run {
        let catalog = json!({"streams": [{
            "stream": {"name": "Account", "json_schema": {}, "supported_sync_modes": ["full_refresh"]},
            "sync_mode": "full_refresh", "destination_sync_mode": "overwrite"}]});
        let config = self.file("read-config.json", config);
        let catalog = self.file("read-catalog.json", &catalog);
        let mut invocation =
            connector(&["source", "read", "--config", &config, "--catalog", &catalog])
                .env("SALESFORCE_CONNECTOR_BACKOFF_MS", "20");
        for (key, value) in env {
            invocation = invocation.env(key, value);
        }
        invocation.run()
    }

    /// Writes `names` as new Accounts, plus one row Salesforce refuses (no Name).
    fn write_accounts(&self, config: &Value, names: &[&str], env: &[(&str, &str)]) -> Run {
        let catalog = json!({"streams": [{
            "stream": {"name": "accounts", "json_schema": {"type": "object", "properties": {
                "Name": {"type": "string"}, "NumberOfEmployees": {"type": "integer"}}},
                "supported_sync_modes": ["full_refresh", "incremental"]},
            "sync_mode": "incremental", "destination_sync_mode": "append",
            "destination_object_name": "Account"}]});
        let mut input = String::new();
        for name in names {
            input += &json!({"type": "RECORD", "record": {"stream": "accounts",
                "emitted_at": 1_717_236_000_000i64, "data": {"Name": name}}})
            .to_string();
            input.push('\n');
        }
        input += &json!({"type": "RECORD", "record": {"stream": "accounts",
            "emitted_at": 1_717_236_000_000i64, "data": {"NumberOfEmployees": 7}}})
        .to_string();
        input.push('\n');
        input += &json!({"type": "STATE", "state": {"type": "STREAM", "id": 1,
            "stream": {"stream_descriptor": {"name": "accounts"}, "stream_state": {"n": 1}}}})
        .to_string();
        input.push('\n');
        let config = self.file("write-config.json", config);
        let catalog = self.file("write-catalog.json", &catalog);
        let mut invocation = connector(&[
            "destination",
            "write",
            "--config",
            &config,
            "--catalog",
            &catalog,
        ])
        .stdin(input.as_bytes())
        .env("SALESFORCE_CONNECTOR_BACKOFF_MS", "20");
        for (key, value) in env {
            invocation = invocation.env(key, value);
        }
        invocation.run()
    }

    /// Names of the org's Accounts (admin API).
    fn account_names(&self) -> Vec<String> {
        let url = format!("{}/__emulator/records/Account?limit=10000", self.base_url());
        let page: Value = self
            .runtime
            .block_on(async { json_reply(self.admin.get(url)).await });
        page["records"]
            .as_array()
            .unwrap()
            .iter()
            .filter_map(|r| r["Name"].as_str().map(str::to_owned))
            .collect()
    }

    /// How many API requests the emulator has served (its request log).
    fn served_requests(&self) -> usize {
        let url = format!("{}/__emulator/requests", self.base_url());
        let log: Value = self
            .runtime
            .block_on(async { json_reply(self.admin.get(url)).await });
        log.as_array().expect("the request log is an array").len()
    }
}

fn ca_pem(emulator: &Emulator) -> String {
    emulator
        .ca_certificate_pem()
        .expect("a TLS emulator has a CA")
        .to_string()
}

fn connection_status(run: &Run) -> Value {
    let statuses = run.of_type("CONNECTION_STATUS");
    assert_eq!(
        statuses.len(),
        1,
        "one CONNECTION_STATUS\nstdout: {}\nstderr: {}",
        run.stdout,
        run.stderr
    );
    statuses[0]["connectionStatus"].clone()
}

fn assert_succeeded(run: &Run, what: &str) {
    assert_eq!(
        run.code,
        Some(0),
        "{what}: exit code\nstdout: {}\nstderr: {}",
        run.stdout,
        run.stderr
    );
    assert!(
        !run.stdout.contains("\"failure_type\""),
        "{what}: no TRACE error\n{}",
        run.stdout
    );
}

fn account_records(run: &Run) -> usize {
    run.of_type("RECORD")
        .iter()
        .filter(|m| m["record"]["stream"] == "Account")
        .count()
}

fn account_complete(run: &Run) -> bool {
    run.of_type("TRACE").iter().any(|m| {
        m["trace"]["type"] == "STREAM_STATUS"
            && m["trace"]["stream_status"]["stream_descriptor"]["name"] == "Account"
            && m["trace"]["stream_status"]["status"] == "COMPLETE"
    })
}

#[test]
fn ca_certificate_alone_makes_a_tls_org_trusted_by_both_roles() {
    let org = TlsOrg::start();
    assert!(org.base_url().starts_with("https://"));

    // Without the CA the org's certificate is refused (nothing else trusts it)…
    for role in ["source", "destination"] {
        let status = connection_status(&org.run(role, "check", &org.config(false, json!({})), &[]));
        assert_eq!(status["status"], "FAILED", "{role}: {status}");
        let message = status["message"].as_str().unwrap_or_default();
        assert!(
            message.to_lowercase().contains("certificate"),
            "{role}: the failure says why: {message}"
        );
    }
    // …with it, both roles work.
    let config = org.config(true, json!({}));
    for role in ["source", "destination"] {
        let status = connection_status(&org.run(role, "check", &config, &[]));
        assert_eq!(status["status"], "SUCCEEDED", "{role}: {status}");
    }
    let read = org.read_accounts(&config, &[]);
    assert_succeeded(&read, "source read");
    assert!(account_records(&read) > 0, "Account records read");
    assert!(account_complete(&read), "Account COMPLETE");
    let write = org.write_accounts(&config, &["Trusted CA 1", "Trusted CA 2"], &[]);
    assert_succeeded(&write, "destination write");
    assert_eq!(write.of_type("STATE").len(), 1, "{}", write.stdout);
    let names = org.account_names();
    for name in ["Trusted CA 1", "Trusted CA 2"] {
        assert!(names.iter().any(|n| n == name), "{name} is in the org");
    }
}

#[test]
fn a_bad_ca_certificate_is_a_config_error_naming_the_key() {
    let org = TlsOrg::start();
    let not_pem = org.config(false, json!({"ca_certificate": "not a certificate"}));
    let garbled = org.config(
        false,
        json!({"ca_certificate": ca_pem(&org.emulator).replacen("MII", "M!I", 1)}),
    );
    for config in [&not_pem, &garbled] {
        let read = org.read_accounts(config, &[]);
        let error = read.the_trace_error();
        assert_eq!(error["failure_type"], "config_error", "{error}");
        let message = message_of(&error);
        assert!(
            message.contains("ca_certificate: expected one or more PEM certificates"),
            "{message}"
        );
        let write = org.write_accounts(config, &["never written"], &[]);
        let error = write.the_trace_error();
        assert_eq!(error["failure_type"], "config_error", "{error}");
        assert!(
            message_of(&error).contains("ca_certificate: expected one or more PEM certificates"),
            "{error}"
        );
        for role in ["source", "destination"] {
            let status = connection_status(&org.run(role, "check", config, &[]));
            assert_eq!(status["status"], "FAILED", "{role}: {status}");
            assert!(
                message_of(&status)
                    .contains("ca_certificate: expected one or more PEM certificates"),
                "{role}: {status}"
            );
        }
    }
    assert_eq!(org.served_requests(), 0, "nothing reached Salesforce");
}

#[test]
fn the_dead_letter_queues_s3_client_trusts_ca_certificate_too() {
    // Salesforce: this org over plain http (loopback). S3: an https endpoint whose certificate
    // is signed by a second emulator's CA. That emulator is no S3 server, so the probe object's
    // PUT is answered with an HTTP error, but only after the TLS handshake (the part under
    // test) succeeded; without its CA in `ca_certificate` the handshake itself fails.
    let org = TlsOrg::start_with(false);
    let s3_endpoint = TlsOrg::start();
    let config = |ca: Option<String>| {
        org.config(
            false,
            json!({"ca_certificate": ca, "object_storage_config": {
                "storage_type": "S3",
                "s3_bucket_name": "dlq-bucket",
                "s3_bucket_region": "us-east-1",
                "s3_endpoint": s3_endpoint.base_url(),
                "access_key_id": "AKIAIOSFODNN7EXAMPLE",
                "secret_access_key": "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY",
            }}),
        )
    };
    let untrusted = connection_status(&org.run("destination", "check", &config(None), &[]));
    assert_eq!(untrusted["status"], "FAILED");
    let message = message_of(&untrusted);
    assert!(
        message.contains("dead-letter queue") && message.contains("error sending request"),
        "logged in to Salesforce, then S3 could not be reached: {message}"
    );
    assert_eq!(
        s3_endpoint.served_requests(),
        0,
        "no request got past the TLS handshake"
    );

    let trusted = connection_status(&org.run(
        "destination",
        "check",
        &config(Some(ca_pem(&s3_endpoint.emulator))),
        &[],
    ));
    assert_eq!(trusted["status"], "FAILED", "the emulator is no S3 server");
    let message = message_of(&trusted);
    assert!(
        message.contains("dead-letter queue") && !message.to_lowercase().contains("certificate"),
        "the S3 request got past TLS: {message}"
    );
    assert!(
        s3_endpoint.served_requests() > 0,
        "the S3 probe reached the https endpoint"
    );
}

/// tinyproxy on a loopback port with a config of its own, logging every request.
struct Tinyproxy {
    child: Child,
    port: u16,
    log: PathBuf,
    _dir: tempfile::TempDir,
}

impl Tinyproxy {
    /// A running proxy, or `None` (SKIPPED) without the binary outside CI.
    fn start() -> Option<Tinyproxy> {
        let found = path_from_env("SF_TINYPROXY_BIN").or_else(|| {
            let mut dirs: Vec<PathBuf> = std::env::var_os("PATH")
                .map(|p| std::env::split_paths(&p).collect())
                .unwrap_or_default();
            dirs.extend(["/usr/bin".into(), "/usr/sbin".into()]);
            dirs.into_iter()
                .map(|dir| dir.join("tinyproxy"))
                .find(|candidate| candidate.is_file())
        });
        let binary = require_tool(
            "trust_and_proxies",
            found,
            "tinyproxy not found (apt-get install tinyproxy-bin, or set SF_TINYPROXY_BIN)",
        )?;
        let dir = tempfile::tempdir().unwrap();
        let port = free_port();
        let log = dir.path().join("tinyproxy.log");
        let config = dir.path().join("tinyproxy.conf");
        std::fs::write(
            &config,
            format!(
                "Port {port}\nListen 127.0.0.1\nTimeout 120\nMaxClients 64\nAllow 127.0.0.1\n\
                 LogLevel Info\nLogFile \"{}\"\n",
                log.display()
            ),
        )
        .unwrap();
        let child = Command::new(&binary)
            .args(["-d", "-c"])
            .arg(&config)
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .unwrap_or_else(|e| panic!("cannot start {}: {e}", binary.display()));
        let proxy = Tinyproxy {
            child,
            port,
            log,
            _dir: dir,
        };
        wait_until_listening("tinyproxy", port);
        Some(proxy)
    }

    fn url(&self) -> String {
        format!("http://127.0.0.1:{}", self.port)
    }

    /// The requests the proxy logged (`Request (file descriptor N): CONNECT host:port …`).
    fn requests(&self) -> Vec<String> {
        std::fs::read_to_string(&self.log)
            .unwrap_or_default()
            .lines()
            .filter_map(|line| {
                line.split_once("): ")
                    .filter(|_| line.contains("Request ("))
            })
            .map(|(_, request)| request.to_string())
            .collect()
    }
}

impl Drop for Tinyproxy {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn port_of(url: &str) -> u16 {
    url::Url::parse(url).unwrap().port().unwrap()
}

#[test]
fn https_proxy_carries_both_roles_salesforce_requests_and_no_proxy_bypasses_it() {
    let Some(proxy) = Tinyproxy::start() else {
        return;
    };
    let org = TlsOrg::start();
    let tunnel = format!("CONNECT 127.0.0.1:{} ", port_of(&org.base_url()));
    let tunnels = |proxy: &Tinyproxy| {
        proxy
            .requests()
            .iter()
            .filter(|r| r.starts_with(&tunnel))
            .count()
    };
    let config = org.config(true, json!({}));
    let via_proxy = [("HTTPS_PROXY", proxy.url())];
    let via_proxy: Vec<(&str, &str)> = via_proxy.iter().map(|(k, v)| (*k, v.as_str())).collect();

    let read = org.read_accounts(&config, &via_proxy);
    assert_succeeded(&read, "source read through the proxy");
    assert!(account_records(&read) > 0 && account_complete(&read));
    let after_read = tunnels(&proxy);
    assert!(
        after_read >= 1,
        "the proxy's log shows the source's tunnel to the org: {:?}",
        proxy.requests()
    );

    let write = org.write_accounts(&config, &["Proxied 1"], &via_proxy);
    assert_succeeded(&write, "destination write through the proxy");
    assert!(org.account_names().iter().any(|n| n == "Proxied 1"));
    let after_write = tunnels(&proxy);
    assert!(
        after_write > after_read,
        "the proxy's log shows the destination's tunnel: {:?}",
        proxy.requests()
    );

    // NO_PROXY names the org's host: the same runs go direct.
    let bypass: Vec<(&str, &str)> =
        vec![("HTTPS_PROXY", via_proxy[0].1), ("NO_PROXY", "127.0.0.1")];
    assert_succeeded(
        &org.read_accounts(&config, &bypass),
        "source read, NO_PROXY",
    );
    assert_succeeded(
        &org.write_accounts(&config, &["Direct 1"], &bypass),
        "destination write, NO_PROXY",
    );
    assert_eq!(tunnels(&proxy), after_write, "NO_PROXY bypassed the proxy");

    // And a proxy that is not there fails the run: the variable is really used.
    let dead = TcpListener::bind("127.0.0.1:0").unwrap();
    let dead_url = format!("http://{}", dead.local_addr().unwrap());
    drop(dead);
    let status = connection_status(&org.run(
        "source",
        "check",
        &config,
        &[("HTTPS_PROXY", dead_url.as_str())],
    ));
    assert_eq!(status["status"], "FAILED", "{status}");
}

#[test]
fn http_proxy_carries_the_dead_letter_queues_s3_requests() {
    let Some(proxy) = Tinyproxy::start() else {
        return;
    };
    let Some(server) = s3s::S3Server::start() else {
        return;
    };
    let org = TlsOrg::start();
    let config = org.config(
        true,
        json!({"object_storage_config": server.storage_config("JSONL", "No Compression")}),
    );
    let url = proxy.url();
    let env = [("HTTPS_PROXY", url.as_str()), ("HTTP_PROXY", url.as_str())];
    let write = org.write_accounts(&config, &["Proxied S3 1"], &env);
    assert_succeeded(&write, "destination write with an S3 dead-letter queue");
    let objects = server.objects();
    assert!(
        objects
            .iter()
            .any(|(key, body)| key.starts_with("rejects/")
                && body.contains("REQUIRED_FIELD_MISSING")),
        "the refused row is in S3: {objects:?}"
    );
    let s3_prefix = format!("{}/{}/rejects/", server.endpoint(), s3s::BUCKET);
    let requests = proxy.requests();
    assert!(
        requests
            .iter()
            .any(|r| r.starts_with("PUT ") && r.contains(&s3_prefix)),
        "the proxy's log shows the dead-letter PUT to S3 ({s3_prefix}…): {requests:?}"
    );
    let tunnel = format!("CONNECT 127.0.0.1:{} ", port_of(&org.base_url()));
    assert!(
        requests.iter().any(|r| r.starts_with(&tunnel)),
        "and the Salesforce tunnel: {requests:?}"
    );
}
