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
        assert_eq!(strings(field(header, "recordIds")), [id.clone()]);
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
