//! The Pub/Sub API and its change events, driven by a gRPC client generated from
//! `proto/pubsub_api.proto`: auth metadata, GetTopic, GetSchema, Subscribe (flow control,
//! keepalives, replay presets), change events of every write path decoded with their schema,
//! and the faults (gap, overflow, stream cut, expired replay id, token expiry mid-stream).

use std::time::Duration;

use apache_avro::types::Value as Avro;
use reqwest::Method;
use serde_json::{json, Value};
use sf_emulator::pubsub::proto::pub_sub_client::PubSubClient;
use sf_emulator::pubsub::proto::{
    FetchRequest, FetchResponse, ReplayPreset, SchemaRequest, TopicRequest,
};
use sf_emulator::EmulatorConfig;
use tokio::sync::mpsc;
use tokio_stream::wrappers::ReceiverStream;
use tonic::transport::Channel;
use tonic::{Code, Request, Status, Streaming};

use crate::support::Harness;

struct PubSub {
    h: Harness,
    client: PubSubClient<Channel>,
}

impl PubSub {
    async fn start(config: EmulatorConfig) -> PubSub {
        let h = Harness::start(config).await;
        let client = PubSubClient::connect(h.emulator.pubsub_url())
            .await
            .unwrap();
        PubSub { h, client }
    }

    /// `message` with the auth metadata of `token`.
    fn request<T>(&self, message: T, token: &str) -> Request<T> {
        let mut request = Request::new(message);
        let md = request.metadata_mut();
        md.insert("accesstoken", token.parse().unwrap());
        md.insert("instanceurl", self.h.emulator.base_url().parse().unwrap());
        md.insert("tenantid", self.h.emulator.org_id().parse().unwrap());
        request
    }

    async fn schema_of(&mut self, topic: &str) -> (String, apache_avro::Schema) {
        let info = self
            .client
            .clone()
            .get_topic(self.request(
                TopicRequest {
                    topic_name: topic.into(),
                },
                &self.h.token,
            ))
            .await
            .unwrap()
            .into_inner();
        let schema = self.schema(&info.schema_id).await;
        (info.schema_id, schema)
    }

    async fn schema(&self, id: &str) -> apache_avro::Schema {
        let info = self
            .client
            .clone()
            .get_schema(self.request(
                SchemaRequest {
                    schema_id: id.into(),
                },
                &self.h.token,
            ))
            .await
            .unwrap()
            .into_inner();
        assert_eq!(info.schema_id, id);
        apache_avro::Schema::parse_str(&info.schema_json).unwrap()
    }

    /// Opens a subscription; the sender asks for more events.
    async fn subscribe(
        &self,
        first: FetchRequest,
    ) -> Result<(mpsc::Sender<FetchRequest>, Streaming<FetchResponse>), Status> {
        let (tx, rx) = mpsc::channel(8);
        tx.send(first).await.unwrap();
        let stream = self
            .client
            .clone()
            .subscribe(self.request(ReceiverStream::new(rx), &self.h.token))
            .await?
            .into_inner();
        Ok((tx, stream))
    }

    async fn admin(&self, method: Method, path: &str, body: Option<Value>) -> (u16, Value) {
        self.h.admin(method, path, body).await
    }
}

fn fetch(topic: &str, preset: ReplayPreset, replay_id: Vec<u8>, n: i32) -> FetchRequest {
    FetchRequest {
        topic_name: topic.into(),
        replay_preset: preset as i32,
        replay_id,
        num_requested: n,
        auth_refresh: String::new(),
    }
}

async fn next(stream: &mut Streaming<FetchResponse>) -> Result<FetchResponse, Status> {
    tokio::time::timeout(Duration::from_secs(10), stream.message())
        .await
        .expect("a response within 10 s")
        .map(|m| m.expect("the stream is open"))
}

/// Reads responses until `count` events arrived.
async fn events(
    stream: &mut Streaming<FetchResponse>,
    count: usize,
) -> Vec<(Vec<u8>, String, Vec<u8>)> {
    let mut out = Vec::new();
    while out.len() < count {
        let response = next(stream).await.unwrap();
        for e in response.events {
            let event = e.event.unwrap();
            out.push((e.replay_id, event.schema_id, event.payload));
        }
    }
    out
}

fn field<'a>(record: &'a Avro, name: &str) -> &'a Avro {
    let Avro::Record(fields) = record else {
        panic!("not a record: {record:?}")
    };
    let value = &fields.iter().find(|(n, _)| n == name).unwrap().1;
    match value {
        Avro::Union(_, inner) => inner,
        other => other,
    }
}

fn string(v: &Avro) -> String {
    match v {
        Avro::String(s) => s.clone(),
        Avro::Enum(_, s) => s.clone(),
        other => panic!("not a string: {other:?}"),
    }
}

fn strings(v: &Avro) -> Vec<String> {
    let Avro::Array(items) = v else {
        panic!("not an array: {v:?}")
    };
    items.iter().map(string).collect()
}

fn decode(schema: &apache_avro::Schema, payload: &[u8]) -> Avro {
    apache_avro::from_avro_datum(schema, &mut &payload[..], None).unwrap()
}

const ACCOUNTS: &str = "/data/AccountChangeEvent";

#[tokio::test]
async fn change_events_of_admin_writes_arrive_decoded_with_their_schema() {
    let mut ps = PubSub::start(EmulatorConfig::default()).await;
    let (schema_id, schema) = ps.schema_of(ACCOUNTS).await;
    let (_tx, mut stream) = ps
        .subscribe(fetch(ACCOUNTS, ReplayPreset::Latest, vec![], 10))
        .await
        .unwrap();
    let (_, created) = ps
        .admin(
            Method::POST,
            "/records/Account",
            Some(json!({"Name": "Pub Sub Co", "BillingCity": "Lyon", "Phone": "555"})),
        )
        .await;
    let id = created["id"].as_str().unwrap().to_string();
    let (status, _) = ps
        .admin(
            Method::PATCH,
            &format!("/records/Account/{id}"),
            Some(json!({"Name": "Renamed Co", "Phone": null})),
        )
        .await;
    assert_eq!(status, 204);
    ps.admin(Method::DELETE, &format!("/records/Account/{id}"), None)
        .await;
    ps.admin(
        Method::POST,
        &format!("/records/Account/{id}/undelete"),
        None,
    )
    .await;
    let got = events(&mut stream, 4).await;
    let decoded: Vec<Avro> = got
        .iter()
        .map(|(_, sid, payload)| {
            assert_eq!(sid, &schema_id);
            decode(&schema, payload)
        })
        .collect();
    let types: Vec<String> = decoded
        .iter()
        .map(|e| string(field(field(e, "ChangeEventHeader"), "changeType")))
        .collect();
    assert_eq!(types, ["CREATE", "UPDATE", "DELETE", "UNDELETE"]);
    for e in &decoded {
        let header = field(e, "ChangeEventHeader");
        assert_eq!(
            strings(field(header, "recordIds")),
            std::slice::from_ref(&id)
        );
        assert_eq!(string(field(header, "entityName")), "Account");
    }
    // CREATE: every field, compound nested.
    assert_eq!(string(field(&decoded[0], "Name")), "Pub Sub Co");
    assert_eq!(
        string(field(field(&decoded[0], "BillingAddress"), "City")),
        "Lyon"
    );
    assert!(matches!(field(&decoded[0], "CreatedDate"), Avro::Long(_)));
    // UPDATE: changed fields only; the bitmaps name Name, Phone and LastModifiedDate.
    assert_eq!(string(field(&decoded[1], "Name")), "Renamed Co");
    assert_eq!(field(&decoded[1], "BillingAddress"), &Avro::Null);
    assert_eq!(field(&decoded[1], "CreatedDate"), &Avro::Null);
    let header = field(&decoded[1], "ChangeEventHeader");
    let Avro::Record(top) = &decoded[1] else {
        panic!()
    };
    let position = |name: &str| top.iter().position(|(n, _)| n == name).unwrap();
    let bits = |list: Vec<String>| -> Vec<usize> {
        let hex = list[0].strip_prefix("0x").unwrap();
        assert_eq!(hex.len() % 2, 0, "{hex}");
        let value = u128::from_str_radix(hex, 16).unwrap();
        (0..128).filter(|b| value >> b & 1 == 1).collect()
    };
    let mut expected = vec![
        position("Name"),
        position("Phone"),
        position("LastModifiedDate"),
    ];
    expected.sort();
    assert_eq!(bits(strings(field(header, "changedFields"))), expected);
    assert_eq!(
        bits(strings(field(header, "nulledFields"))),
        vec![position("Phone")]
    );
    // DELETE: header only.
    assert_eq!(field(&decoded[2], "Name"), &Avro::Null);
    // UNDELETE: the restored record.
    assert_eq!(string(field(&decoded[3], "Name")), "Renamed Co");
    // Replay ids increase; the calls are in the request log.
    assert!(got.windows(2).all(|w| w[0].0 < w[1].0));
    let (_, log) = ps.admin(Method::GET, "/requests", None).await;
    let paths: Vec<&str> = log
        .as_array()
        .unwrap()
        .iter()
        .filter(|r| r["method"] == "GRPC")
        .map(|r| r["path"].as_str().unwrap())
        .collect();
    assert_eq!(
        paths,
        [
            "/eventbus.v1.PubSub/GetTopic",
            "/eventbus.v1.PubSub/GetSchema",
            "/eventbus.v1.PubSub/Subscribe"
        ]
    );
    let (_, listed) = ps.admin(Method::GET, "/pubsub/events", None).await;
    assert_eq!(listed.as_array().unwrap().len(), 4);
}

#[tokio::test]
async fn bad_tokens_and_tenants_are_unauthenticated_with_the_error_code_trailer() {
    let ps = PubSub::start(EmulatorConfig::default()).await;
    let topic = |ps: &PubSub, token: &str| {
        ps.request(
            TopicRequest {
                topic_name: ACCOUNTS.into(),
            },
            token,
        )
    };
    let err = ps
        .client
        .clone()
        .get_topic(topic(&ps, "not-a-token"))
        .await
        .unwrap_err();
    assert_eq!(err.code(), Code::Unauthenticated);
    assert!(err.message().contains("rpcId: "), "{}", err.message());
    assert_eq!(
        err.metadata().get("error-code").unwrap(),
        "sfdc.platform.eventbus.grpc.service.auth.error"
    );
    let mut wrong_tenant = topic(&ps, &ps.h.token);
    wrong_tenant
        .metadata_mut()
        .insert("tenantid", "00D000000000001AAA".parse().unwrap());
    let err = ps.client.clone().get_topic(wrong_tenant).await.unwrap_err();
    assert_eq!(err.code(), Code::Unauthenticated);
    // An expired token (the org's clock past its lifetime) is refused too.
    ps.h.emulator.clock().advance(chrono::Duration::hours(3));
    let err = ps
        .client
        .clone()
        .get_topic(topic(&ps, &ps.h.token))
        .await
        .unwrap_err();
    assert_eq!(err.code(), Code::Unauthenticated);
    let err = ps
        .client
        .clone()
        .get_topic(topic(&ps, &ps.h.emulator.access_token()))
        .await
        .map(|_| ())
        .err();
    assert!(err.is_none(), "a fresh token works: {err:?}");
}

/// The admin API's listing of published events.
async fn published(ps: &PubSub) -> Vec<Value> {
    let (_, listed) = ps.admin(Method::GET, "/pubsub/events", None).await;
    listed.as_array().unwrap().clone()
}

async fn create_accounts(ps: &PubSub, n: usize) -> Vec<String> {
    let mut ids = Vec::new();
    for i in 0..n {
        let (_, created) = ps
            .admin(
                Method::POST,
                "/records/Account",
                Some(json!({"Name": format!("Account {i}")})),
            )
            .await;
        ids.push(created["id"].as_str().unwrap().to_string());
    }
    ids
}

#[tokio::test]
async fn flow_control_sums_requests_caps_at_100_and_keepalives_carry_the_latest_replay_id() {
    let ps = PubSub::start(EmulatorConfig {
        pubsub_keepalive: Duration::from_millis(300),
        ..EmulatorConfig::default()
    })
    .await;
    create_accounts(&ps, 5).await;
    let (tx, mut stream) = ps
        .subscribe(fetch(ACCOUNTS, ReplayPreset::Earliest, vec![], 2))
        .await
        .unwrap();
    let first = next(&mut stream).await.unwrap();
    assert_eq!(first.events.len(), 2);
    assert_eq!(first.pending_num_requested, 0);
    // Nothing more is sent until asked; later requests' presets are ignored.
    assert!(
        tokio::time::timeout(Duration::from_millis(500), stream.message())
            .await
            .is_err()
    );
    tx.send(fetch("", ReplayPreset::Latest, vec![], 1))
        .await
        .unwrap();
    tx.send(fetch(ACCOUNTS, ReplayPreset::Latest, vec![], 1))
        .await
        .unwrap();
    let mut got = 0;
    while got < 2 {
        got += next(&mut stream).await.unwrap().events.len();
    }
    assert_eq!(got, 2);
    tx.send(fetch("", ReplayPreset::Latest, vec![], 500))
        .await
        .unwrap();
    let last = next(&mut stream).await.unwrap();
    assert_eq!(last.events.len(), 1);
    assert_eq!(
        last.pending_num_requested, 99,
        "500 requested counts as 100"
    );
    // Idle while owed: an empty response with the latest replay id.
    let keepalive = next(&mut stream).await.unwrap();
    assert!(keepalive.events.is_empty());
    assert_eq!(keepalive.latest_replay_id, last.events[0].replay_id);
    assert_eq!(keepalive.pending_num_requested, 99);
    // A mismatched topic fails the stream.
    tx.send(fetch(
        "/data/ContactChangeEvent",
        ReplayPreset::Latest,
        vec![],
        1,
    ))
    .await
    .unwrap();
    let err = loop {
        match next(&mut stream).await {
            Ok(_) => continue,
            Err(e) => break e,
        }
    };
    assert_eq!(err.code(), Code::InvalidArgument);
}

#[tokio::test]
async fn custom_replay_starts_after_the_id_and_unknown_or_expired_ids_are_refused() {
    let ps = PubSub::start(EmulatorConfig::default()).await;
    create_accounts(&ps, 3).await;
    let (_tx, mut stream) = ps
        .subscribe(fetch(ACCOUNTS, ReplayPreset::Earliest, vec![], 10))
        .await
        .unwrap();
    let all = events(&mut stream, 3).await;
    let (_tx, mut resumed) = ps
        .subscribe(fetch(ACCOUNTS, ReplayPreset::Custom, all[0].0.clone(), 10))
        .await
        .unwrap();
    let after = events(&mut resumed, 2).await;
    assert_eq!(after[0].0, all[1].0);
    assert_eq!(after[1].0, all[2].0);
    // LATEST sees only what comes next.
    let (_tx, mut latest) = ps
        .subscribe(fetch(ACCOUNTS, ReplayPreset::Latest, vec![], 10))
        .await
        .unwrap();
    let ids = create_accounts(&ps, 1).await;
    let next_one = events(&mut latest, 1).await;
    let schema = ps.schema(&next_one[0].1).await;
    let header = decode(&schema, &next_one[0].2);
    assert_eq!(
        strings(field(field(&header, "ChangeEventHeader"), "recordIds")),
        ids
    );
    let refused = |result: Result<FetchResponse, Status>| {
        let err = result.unwrap_err();
        assert_eq!(err.code(), Code::InvalidArgument);
        assert_eq!(
            err.metadata().get("error-code").unwrap(),
            "sfdc.platform.eventbus.grpc.subscription.fetch.replayid.corrupted"
        );
    };
    let mut forged = all[0].0.clone();
    forged[7] ^= 0x5A;
    let (_tx, mut bad) = ps
        .subscribe(fetch(ACCOUNTS, ReplayPreset::Custom, forged, 10))
        .await
        .unwrap();
    refused(next(&mut bad).await);
    // 72 hours later the events are gone: their ids are expired.
    ps.h.emulator.clock().advance(chrono::Duration::hours(73));
    let ps = PubSub {
        client: ps.client.clone(),
        h: Harness {
            token: ps.h.emulator.access_token(),
            ..ps.h
        },
    };
    let (_tx, mut expired) = ps
        .subscribe(fetch(ACCOUNTS, ReplayPreset::Custom, all[0].0.clone(), 10))
        .await
        .unwrap();
    refused(next(&mut expired).await);
    assert!(published(&ps).await.is_empty());
}

#[tokio::test]
async fn rest_writes_and_bulk_ingest_publish_with_one_transaction_per_chunk_of_200() {
    let ps = PubSub::start(EmulatorConfig::default()).await;
    let r = crate::support::ingest::call(
        &ps.h,
        Method::POST,
        "/sobjects/Contact",
        "application/json",
        r#"{"LastName": "Rest", "MailingCity": "Oslo"}"#,
    )
    .await;
    assert_eq!(r.status, 201, "{}", r.text);
    let mut csv = String::from("Name\n");
    for i in 0..450 {
        csv.push_str(&format!("Bulk {i}\n"));
    }
    let (_, info) = crate::support::ingest::run_job(
        &ps.h,
        r#"{"object":"Account","operation":"insert","lineEnding":"LF"}"#,
        &csv,
    )
    .await;
    assert_eq!(info["numberRecordsProcessed"], 450, "{info}");
    let events = published(&ps).await;
    assert_eq!(events[0]["entityName"], "Contact");
    assert_eq!(events[0]["changeType"], "CREATE");
    let bulk: Vec<&Value> = events
        .iter()
        .filter(|e| e["entityName"] == "Account")
        .collect();
    let records: usize = bulk
        .iter()
        .map(|e| e["recordIds"].as_array().unwrap().len())
        .sum();
    assert_eq!(records, 450);
    let mut keys: Vec<&str> = bulk
        .iter()
        .map(|e| e["transactionKey"].as_str().unwrap())
        .collect();
    keys.dedup();
    assert_eq!(keys.len(), 3, "chunks of 200, 200 and 50");
    assert_eq!(bulk[1]["sequenceNumber"], 2);
}

#[tokio::test]
async fn transactions_merge_identical_changes_and_overflow_into_gap_overflow() {
    let ps = PubSub::start(EmulatorConfig {
        cdc_overflow_limit: 4,
        ..EmulatorConfig::default()
    })
    .await;
    let ids = create_accounts(&ps, 3).await;
    let deletes: Vec<Value> = ids
        .iter()
        .map(|id| json!({"op": "delete", "object": "Account", "id": id}))
        .collect();
    let (status, body) = ps
        .admin(Method::POST, "/transaction", Some(json!(deletes)))
        .await;
    assert_eq!(status, 200, "{body}");
    let events = published(&ps).await;
    let last = events.last().unwrap();
    assert_eq!(last["changeType"], "DELETE");
    assert_eq!(
        last["recordIds"],
        json!(ids),
        "one event for the three deletes"
    );
    // Five creates in one transaction with a limit of 4: four events, then GAP_OVERFLOW.
    let creates: Vec<Value> = (0..5)
        .map(|i| json!({"op": "create", "object": "Account", "fields": {"Name": format!("T{i}")}}))
        .collect();
    let (status, _) = ps
        .admin(Method::POST, "/transaction", Some(json!(creates)))
        .await;
    assert_eq!(status, 200);
    let events = published(&ps).await;
    let tail: Vec<&str> = events[events.len() - 5..]
        .iter()
        .map(|e| e["changeType"].as_str().unwrap())
        .collect();
    assert_eq!(
        tail,
        ["CREATE", "CREATE", "CREATE", "CREATE", "GAP_OVERFLOW"]
    );
    let overflow = events.last().unwrap();
    assert_eq!(overflow["recordIds"], json!([]));
    assert_eq!(overflow["entityName"], "Account");
    assert_eq!(overflow["sequenceNumber"], 5);
}

#[tokio::test]
async fn faults_gap_events_stream_cuts_and_token_expiry_mid_stream() {
    let ps = PubSub::start(EmulatorConfig::default()).await;
    let (status, _) = ps
        .admin(
            Method::POST,
            "/faults",
            Some(json!({"method": "CDC", "path": "/data/AccountChangeEvent", "type": "gap", "when": "once"})),
        )
        .await;
    assert_eq!(status, 201);
    let ids = create_accounts(&ps, 2).await;
    let events = published(&ps).await;
    assert_eq!(events[0]["changeType"], "GAP_CREATE");
    assert_eq!(events[0]["recordIds"], json!([ids[0]]));
    assert_eq!(events[1]["changeType"], "CREATE");
    let (_, faults) = ps.admin(Method::GET, "/faults", None).await;
    assert_eq!(faults[0]["fired"], 1);
    // A gap event decodes with header only.
    let (_tx, mut stream) = ps
        .subscribe(fetch(ACCOUNTS, ReplayPreset::Earliest, vec![], 1))
        .await
        .unwrap();
    let gap = events_of(&ps, &mut stream, 1).await;
    assert_eq!(field(&gap[0], "Name"), &Avro::Null);

    ps.admin(Method::DELETE, "/faults", None).await;
    ps.admin(
        Method::POST,
        "/faults",
        Some(json!({"method": "GRPC", "path": "/eventbus.v1.PubSub/Subscribe", "type": "cut_stream", "after_events": 1, "when": "once"})),
    )
    .await;
    let (_tx, mut cut) = ps
        .subscribe(fetch(ACCOUNTS, ReplayPreset::Earliest, vec![], 10))
        .await
        .unwrap();
    assert_eq!(next(&mut cut).await.unwrap().events.len(), 1);
    let err = next(&mut cut).await.unwrap_err();
    assert_eq!(err.code(), Code::Unavailable);

    ps.admin(
        Method::POST,
        "/faults",
        Some(json!({"method": "GRPC", "path": "/eventbus.v1.PubSub/Subscribe", "type": "expire_tokens_after_events", "after_events": 1, "when": "once"})),
    )
    .await;
    let (_tx, mut expiring) = ps
        .subscribe(fetch(ACCOUNTS, ReplayPreset::Earliest, vec![], 10))
        .await
        .unwrap();
    assert_eq!(next(&mut expiring).await.unwrap().events.len(), 1);
    let err = next(&mut expiring).await.unwrap_err();
    assert_eq!(err.code(), Code::Unauthenticated);
    let (_, log) = ps.admin(Method::GET, "/requests", None).await;
    let statuses: Vec<i64> = log
        .as_array()
        .unwrap()
        .iter()
        .filter(|r| r["path"] == "/eventbus.v1.PubSub/Subscribe")
        .map(|r| r["grpc_status"].as_i64().unwrap_or(-1))
        .collect();
    assert!(
        statuses.contains(&14) && statuses.contains(&16),
        "{statuses:?}"
    );
    // An injected status fails the call itself.
    ps.admin(
        Method::POST,
        "/faults",
        Some(json!({"method": "GRPC", "path": "/eventbus.v1.PubSub/GetTopic", "type": "grpc_status", "code": "UNAVAILABLE", "error_code": "service.unavailable", "when": "once"})),
    )
    .await;
    let token = ps.h.emulator.access_token();
    let err = ps
        .client
        .clone()
        .get_topic(ps.request(
            TopicRequest {
                topic_name: ACCOUNTS.into(),
            },
            &token,
        ))
        .await
        .unwrap_err();
    assert_eq!(err.code(), Code::Unavailable);
}

/// Reads `count` events and decodes them with their schemas.
async fn events_of(ps: &PubSub, stream: &mut Streaming<FetchResponse>, count: usize) -> Vec<Avro> {
    let mut out = Vec::new();
    for (_, schema_id, payload) in events(stream, count).await {
        out.push(decode(&ps.schema(&schema_id).await, &payload));
    }
    out
}

#[tokio::test]
async fn topics_follow_the_cdc_selection() {
    let mut ps = PubSub::start(EmulatorConfig {
        cdc_objects: Some(vec!["Contact".into()]),
        ..EmulatorConfig::default()
    })
    .await;
    let err = ps
        .client
        .clone()
        .get_topic(ps.request(
            TopicRequest {
                topic_name: ACCOUNTS.into(),
            },
            &ps.h.token,
        ))
        .await
        .unwrap_err();
    assert_eq!(err.code(), Code::NotFound);
    create_accounts(&ps, 1).await;
    assert!(published(&ps).await.is_empty());
    let (status, body) = ps
        .admin(
            Method::PUT,
            "/pubsub/cdc-objects",
            Some(json!({"objects": ["Account", "Store__c"]})),
        )
        .await;
    assert_eq!(status, 200, "{body}");
    let (status, body) = ps
        .admin(
            Method::PUT,
            "/pubsub/cdc-objects",
            Some(json!({"objects": ["CaseStatus"]})),
        )
        .await;
    assert_eq!(status, 400);
    assert!(
        body["error"].as_str().unwrap().contains("CaseStatus"),
        "{body}"
    );
    let (_, schema) = ps.schema_of("/data/Store__ChangeEvent").await;
    let apache_avro::Schema::Record(record) = &schema else {
        panic!()
    };
    assert_eq!(record.name.name, "Store__ChangeEvent");
    let (_, all) = ps.schema_of("/data/ChangeEvents").await;
    assert!(matches!(all, apache_avro::Schema::Record(_)));
}
