//! `sf-emulator [--listen 127.0.0.1:0] [--seed N] [--scale N] [--records Object=N]… [--extra-objects N]
//! [--faults FILE] [--token-lifetime-seconds N] [--bulk-job-seconds N] [--frozen-clock] [--tls]
//! [--tls-names NAME,IP,…] [--advertise-url URL] [--rotate-refresh-token] [--request-latency-ms N]
//! [--result-bytes-per-second N] [--bulk-job-rows-per-second N]`
//!
//! The last three form a latency profile (all off by default) that makes the emulator answer
//! at a real org's pace: see `docs/performance.md` for the profile used in published figures.
//!
//! Prints one JSON line on stdout when ready (base_url, login_url, client_id, client_secret,
//! refresh_token, username, and with `--tls` ca_certificate: the CA file to trust, and
//! ca_certificate_pem: its PEM text) and serves until killed.

use std::collections::BTreeMap;
use std::time::Duration;

use anyhow::{bail, Context};
use clap::Parser;
use sf_emulator::{faults, Emulator, EmulatorConfig};

#[derive(Parser, Debug)]
#[command(
    name = "sf-emulator",
    about = "A Salesforce API emulator for tests, demos and benchmarks"
)]
struct Args {
    /// Address to listen on (port 0 picks a free port).
    #[arg(long, default_value = "127.0.0.1:0")]
    listen: String,
    /// Seed of the generated org.
    #[arg(long, default_value_t = 1)]
    seed: u64,
    /// Records per object = the object's base count × scale (Account 200, Contact 400, …).
    #[arg(long, default_value_t = 1)]
    scale: u64,
    /// Exact record count for an object, e.g. `--records Bench_Record__c=1000000` (repeatable).
    #[arg(long = "records", value_name = "OBJECT=N")]
    records: Vec<String>,
    /// Custom objects added to the org (`Extra_Object_0001__c`…, at most 1295), for a large
    /// org's discover.
    #[arg(long, default_value_t = 0, value_parser = clap::value_parser!(u32).range(0..=1295))]
    extra_objects: u32,
    /// JSON file with an array of fault rules active from the start.
    #[arg(long, value_name = "FILE")]
    faults: Option<std::path::PathBuf>,
    /// Access token lifetime, seconds of the org's clock.
    #[arg(long, default_value_t = 7200)]
    token_lifetime_seconds: u64,
    /// Seconds a Bulk job stays InProgress before completing.
    #[arg(long, default_value_t = 0)]
    bulk_job_seconds: u64,
    /// A query job also stays InProgress for its rows ÷ N seconds (0: off).
    #[arg(long, default_value_t = 0)]
    bulk_job_rows_per_second: u64,
    /// Milliseconds added before every answer's first byte (0: off).
    #[arg(long, default_value_t = 0)]
    request_latency_ms: u64,
    /// Each Bulk result download is sent at most this many bytes per second, compressed bytes
    /// when gzipped (0: off).
    #[arg(long, default_value_t = 0)]
    result_bytes_per_second: u64,
    /// Stop the org's clock at its start time (default: it runs with real time).
    #[arg(long)]
    frozen_clock: bool,
    /// Refresh token rotation: each refresh_token grant issues a new refresh token and
    /// invalidates the one used.
    #[arg(long)]
    rotate_refresh_token: bool,
    /// Serve https with a certificate made at start; the ready line gives its CA file.
    #[arg(long)]
    tls: bool,
    /// With --tls: extra names (DNS names or IP addresses) the certificate covers, besides
    /// localhost, 127.0.0.1 and the advertised host.
    #[arg(long, value_name = "NAME,IP,…", value_delimiter = ',')]
    tls_names: Vec<String>,
    /// The instance URL handed out to clients (default: the listen address; when listening on
    /// 0.0.0.0 or ::, this host's own address, never the wildcard).
    #[arg(long, value_name = "URL")]
    advertise_url: Option<String>,
}

fn parse_records(items: &[String]) -> anyhow::Result<BTreeMap<String, u64>> {
    let mut map = BTreeMap::new();
    for item in items {
        let Some((object, count)) = item.split_once('=') else {
            bail!("--records: expected OBJECT=N, got {item:?}");
        };
        let count: u64 = count.trim().parse().with_context(|| {
            format!("--records {item}: expected a whole number of records after '='")
        })?;
        map.insert(object.trim().to_string(), count);
    }
    Ok(map)
}

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    let args = Args::parse();
    let mut config = EmulatorConfig {
        seed: args.seed,
        scale: args.scale,
        records: parse_records(&args.records)?,
        extra_objects: args.extra_objects,
        token_lifetime: Duration::from_secs(args.token_lifetime_seconds),
        bulk_job_time: Duration::from_secs(args.bulk_job_seconds),
        bulk_job_rows_per_second: args.bulk_job_rows_per_second,
        request_latency: Duration::from_millis(args.request_latency_ms),
        result_bytes_per_second: args.result_bytes_per_second,
        clock_running: !args.frozen_clock,
        tls: args.tls,
        tls_names: args.tls_names.clone(),
        advertise_url: args.advertise_url.clone(),
        rotate_refresh_token: args.rotate_refresh_token,
        ..EmulatorConfig::default()
    };
    if !args.tls_names.is_empty() && !args.tls {
        bail!("--tls-names: only with --tls (the names go into its certificate)");
    }
    if let Some(url) = &args.advertise_url {
        // Checked before binding, so a bad URL is not reported as a --listen problem.
        let scheme = if args.tls { "https" } else { "http" };
        let any = std::net::SocketAddr::from(([127, 0, 0, 1], 0));
        sf_emulator::advertise::base_url(Some(url), scheme, any)?;
    }
    if args.scale == 0 {
        bail!("--scale: expected a whole number of at least 1, got 0");
    }
    if let Some(path) = &args.faults {
        let text = std::fs::read_to_string(path)
            .with_context(|| format!("--faults {}: cannot read the file", path.display()))?;
        config.faults = faults::parse_rules(&text)
            .map_err(|e| anyhow::anyhow!("--faults {}: {e}", path.display()))?;
    }
    let emulator = Emulator::start_on(config, &args.listen)
        .await
        .with_context(|| format!("--listen {}: cannot bind", args.listen))?;
    let credentials = emulator.credentials();
    let mut ready = serde_json::json!({
        "base_url": emulator.base_url(),
        "login_url": emulator.login_url(),
        "client_id": credentials.client_id,
        "client_secret": credentials.client_secret,
        "refresh_token": credentials.refresh_token,
        "username": credentials.username,
    });
    if let Some(path) = emulator.ca_certificate_path() {
        ready["ca_certificate"] = serde_json::Value::String(path.display().to_string());
    }
    if let Some(pem) = emulator.ca_certificate_pem() {
        // For clients that cannot read the file (the emulator in a container: `docker logs`).
        ready["ca_certificate_pem"] = serde_json::Value::String(pem.to_string());
    }
    println!("{ready}");
    tokio::signal::ctrl_c()
        .await
        .context("waiting for ctrl-c")?;
    emulator.shutdown().await;
    Ok(())
}
