//! Bulk query results as fast clients read them: Salesforce's header spelling on the wire,
//! `resultPages` (parallel result URLs) and the latency profile.

use std::collections::BTreeSet;
use std::time::{Duration, Instant};

use crate::support::{Harness, V};
use serde_json::{json, Value};
use sf_emulator::EmulatorConfig;
use tokio::io::{AsyncReadExt, AsyncWriteExt};

async fn create_job(h: &Harness, query: &str) -> String {
    let r = h
        .client
        .post(h.data("/jobs/query"))
        .bearer_auth(&h.token)
        .json(&json!({"operation": "query", "query": query}))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200);
    let body: Value = r.json().await.unwrap();
    body["id"].as_str().unwrap().to_string()
}

/// Reads one raw HTTP/1.1 answer to `GET path` over a plain socket: (head, body bytes).
async fn raw_get(h: &Harness, path: &str, extra: &str) -> (String, Vec<u8>) {
    let mut socket = tokio::net::TcpStream::connect(h.emulator.addr())
        .await
        .unwrap();
    let request = format!(
        "GET {path} HTTP/1.1\r\nHost: localhost\r\nAuthorization: Bearer {}\r\n{extra}Connection: close\r\n\r\n",
        h.token
    );
    socket.write_all(request.as_bytes()).await.unwrap();
    let mut answer = Vec::new();
    socket.read_to_end(&mut answer).await.unwrap();
    let split = answer
        .windows(4)
        .position(|w| w == b"\r\n\r\n")
        .expect("a complete head");
    let head = String::from_utf8(answer[..split].to_vec()).unwrap();
    (head, answer[split + 4..].to_vec())
}

fn header_names(head: &str) -> Vec<&str> {
    head.lines()
        .skip(1)
        .filter_map(|line| line.split_once(':').map(|(name, _)| name))
        .collect()
}

#[tokio::test]
async fn http1_answers_spell_header_names_as_salesforce_does() {
    let h = Harness::default().await;
    let id = create_job(&h, "SELECT Id, Name FROM Account").await;
    let path = format!("/services/data/{V}/jobs/query/{id}/results?maxRecords=10");
    let (head, _) = raw_get(&h, &path, "Accept-Encoding: gzip\r\n").await;
    assert!(head.starts_with("HTTP/1.1 200"), "{head}");
    let names = header_names(&head);
    for expected in [
        "Sforce-Locator",
        "Sforce-NumberOfRecords",
        "Sforce-Limit-Info",
        "Content-Type",
        "Content-Encoding",
    ] {
        assert!(
            names.contains(&expected),
            "{expected} missing (case-sensitive) in:\n{head}"
        );
    }
    assert!(head.contains("\r\nContent-Type: text/csv; charset=UTF-8\r\n"));
    // Every name is capitalised: no lower-case spelling of any header is left.
    for name in &names {
        assert!(
            name.starts_with(|c: char| c.is_ascii_uppercase()),
            "{name} in:\n{head}"
        );
    }
    // A JSON answer too (job info), and the identity page's length header.
    let (head, _) = raw_get(&h, &format!("/services/data/{V}/jobs/query/{id}"), "").await;
    let names = header_names(&head);
    assert!(names.contains(&"Content-Type"), "{head}");
    assert!(names.contains(&"Sforce-Limit-Info"), "{head}");
}

async fn result_pages(h: &Harness, url: &str) -> Value {
    let r = h
        .client
        .get(h.url(url))
        .bearer_auth(&h.token)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200, "{url}");
    r.json().await.unwrap()
}

/// Rows of a page (no header), and its Sforce-NumberOfRecords.
async fn page_rows(h: &Harness, url: &str) -> (Vec<String>, usize) {
    let r = h
        .client
        .get(h.url(url))
        .bearer_auth(&h.token)
        .header("Accept-Encoding", "gzip")
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200, "{url}");
    let count: usize = r.headers()["sforce-numberofrecords"]
        .to_str()
        .unwrap()
        .parse()
        .unwrap();
    let text = String::from_utf8(decode(r.bytes().await.unwrap().to_vec())).unwrap();
    let rows = text.lines().skip(1).map(str::to_string).collect();
    (rows, count)
}

fn decode(bytes: Vec<u8>) -> Vec<u8> {
    if bytes.starts_with(&[0x1f, 0x8b]) {
        let mut out = Vec::new();
        std::io::Read::read_to_end(&mut flate2::read::MultiGzDecoder::new(&bytes[..]), &mut out)
            .unwrap();
        out
    } else {
        bytes
    }
}

#[tokio::test]
async fn result_pages_list_five_urls_at_a_time_until_done() {
    let h = Harness::start(EmulatorConfig {
        bulk_page_records: 7,
        ..EmulatorConfig::default()
    })
    .await;
    // Account: 200 rows at scale 1 → 29 pages of 7 → answers of 5,5,5,5,5,4 URLs.
    let id = create_job(&h, "SELECT Id, Name FROM Account").await;
    let mut next = Some(format!("/services/data/{V}/jobs/query/{id}/resultPages"));
    let mut urls = Vec::new();
    let mut answers = 0;
    while let Some(url) = next.take() {
        let body = result_pages(&h, &url).await;
        answers += 1;
        let pages = body["resultPages"].as_array().unwrap();
        assert!(!pages.is_empty() && pages.len() <= 5, "{body}");
        urls.extend(
            pages
                .iter()
                .map(|p| p["resultUrl"].as_str().unwrap().to_string()),
        );
        match body["done"].as_bool().unwrap() {
            true => assert!(body["nextRecordsUrl"].is_null(), "{body}"),
            false => next = Some(body["nextRecordsUrl"].as_str().unwrap().to_string()),
        }
    }
    assert_eq!(answers, 6);
    assert_eq!(urls.len(), 29);
    // The URLs are ordinary results pages: all 29 requested at once (every answer's head is in
    // before any body is read), then the bodies read in reverse order.
    let responses = futures::future::join_all(urls.iter().map(|url| {
        h.client
            .get(h.url(url))
            .bearer_auth(&h.token)
            .header("Accept-Encoding", "gzip")
            .send()
    }))
    .await;
    let mut pages = Vec::new();
    for response in responses.into_iter().rev() {
        let r = response.unwrap();
        assert_eq!(r.status(), 200);
        let count: usize = r.headers()["sforce-numberofrecords"]
            .to_str()
            .unwrap()
            .parse()
            .unwrap();
        let text = String::from_utf8(decode(r.bytes().await.unwrap().to_vec())).unwrap();
        let rows: Vec<String> = text.lines().skip(1).map(str::to_string).collect();
        pages.push((rows, count));
    }
    let mut all = Vec::new();
    for (rows, count) in pages.iter().rev() {
        assert_eq!(rows.len(), *count);
        all.extend(rows.iter().cloned());
    }
    // Same rows, same order as the locator chain gives them.
    let mut chain = Vec::new();
    let mut locator: Option<String> = None;
    loop {
        let mut path = format!("/jobs/query/{id}/results?maxRecords=7");
        if let Some(l) = &locator {
            path.push_str(&format!("&locator={l}"));
        }
        let r = h.get(&path).await;
        let next = r.headers()["Sforce-Locator"].to_str().unwrap().to_string();
        let text = r.text().await.unwrap();
        chain.extend(text.lines().skip(1).map(str::to_string));
        if next == "null" {
            break;
        }
        locator = Some(next);
    }
    assert_eq!(all, chain);
    assert_eq!(all.len(), 200);
    assert_eq!(all.iter().collect::<BTreeSet<_>>().len(), 200);
    // The log shows the concurrent downloads were all served.
    let (_, log) = h.admin(reqwest::Method::GET, "/requests", None).await;
    let served = log
        .as_array()
        .map(|entries| {
            entries
                .iter()
                .filter(|e| {
                    e["path"]
                        .as_str()
                        .is_some_and(|p| p.contains("/results?locator="))
                        && !e["path"].as_str().unwrap().contains("maxRecords")
                })
                .count()
        })
        .unwrap_or_default();
    assert_eq!(served, 29, "{log}");
}

#[tokio::test]
async fn result_pages_through_another_api_version_conflict_and_before_58_do_not_exist() {
    let h = Harness::default().await;
    let id = create_job(&h, "SELECT Id FROM Account").await;
    let get = |version: &'static str| {
        let url = h.url(&format!(
            "/services/data/{version}/jobs/query/{id}/resultPages"
        ));
        let request = h.client.get(url).bearer_auth(&h.token);
        async move { request.send().await.unwrap() }
    };
    let r = get("v60.0").await;
    assert_eq!(r.status(), 409);
    let body: Value = r.json().await.unwrap();
    assert!(
        body[0]["message"].as_str().unwrap().contains("62.0"),
        "{body}"
    );
    assert_eq!(get("v57.0").await.status(), 404);
    assert_eq!(get("v62.0").await.status(), 200);
}

#[tokio::test]
async fn an_empty_result_has_one_page_url() {
    let h = Harness::default().await;
    let id = create_job(&h, "SELECT Id FROM Account WHERE Name = 'no such account'").await;
    let body = result_pages(
        &h,
        &format!("/services/data/{V}/jobs/query/{id}/resultPages"),
    )
    .await;
    assert_eq!(body["done"], true);
    let pages = body["resultPages"].as_array().unwrap();
    assert_eq!(pages.len(), 1);
    let (rows, count) = page_rows(&h, pages[0]["resultUrl"].as_str().unwrap()).await;
    assert_eq!((rows.len(), count), (0, 0));
}

#[tokio::test]
async fn latency_profile_delays_answers_throttles_downloads_and_stretches_jobs() {
    let h = Harness::start(EmulatorConfig {
        request_latency: Duration::from_millis(150),
        result_bytes_per_second: 20_000,
        bulk_job_rows_per_second: 100,
        clock_running: true,
        ..EmulatorConfig::default()
    })
    .await;
    let started = Instant::now();
    let id = create_job(&h, "SELECT Id, Name FROM Account").await;
    assert!(started.elapsed() >= Duration::from_millis(150));
    // 200 rows at 100 rows/s: InProgress for 2 s.
    let info = h.get_json(&format!("/jobs/query/{id}")).await.1;
    assert_eq!(info["state"], "InProgress", "{info}");
    loop {
        let info = h.get_json(&format!("/jobs/query/{id}")).await.1;
        if info["state"] == "JobComplete" {
            assert_eq!(info["totalProcessingTime"], 2000, "{info}");
            break;
        }
        assert!(started.elapsed() < Duration::from_secs(10), "{info}");
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    assert!(started.elapsed() >= Duration::from_secs(2));
    // An identity page of ~8 KB at 20 KB/s takes at least ~0.4 s beyond the latency.
    let started = Instant::now();
    let r = h.get(&format!("/jobs/query/{id}/results")).await;
    let body = r.bytes().await.unwrap();
    let floor = Duration::from_secs_f64(body.len() as f64 / 20_000.0);
    assert!(body.len() > 5_000, "{}", body.len());
    assert!(
        started.elapsed() >= floor + Duration::from_millis(150) - Duration::from_millis(20),
        "{:?} for {} bytes",
        started.elapsed(),
        body.len()
    );
}
