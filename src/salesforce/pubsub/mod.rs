//! The Pub/Sub API client (`eventbus.v1.PubSub`, gRPC over HTTP/2), for Change Data Capture.
//!
//! Every RPC carries the `accesstoken`, `instanceurl` and `tenantid` metadata of the logged-in
//! [`SalesforceClient`]; an UNAUTHENTICATED answer to `GetTopic`/`GetSchema` refreshes the token
//! once and asks again. [`PubSub::subscribe`] opens one `Subscribe` stream whose responses a
//! background task reads into a bounded queue, asking for more events (flow control, at most
//! [`BATCH`] owed) only while the queue has room, so a consumer busy elsewhere (a snapshot)
//! holds at most a bounded number of events in memory. Payloads are Avro datums decoded with the
//! schema their event names ([`header`]).
//!
//! TLS: rustls with the webpki roots plus the config's `ca_certificate`; an `http://` endpoint
//! (an emulator) is plaintext.

pub(crate) mod header;

use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use tokio::sync::mpsc;
use tokio::task::JoinHandle;
use tonic::metadata::MetadataValue;
use tonic::transport::{Certificate, Channel, ClientTlsConfig, Endpoint};
use tonic::{Code, Request, Status};

use super::{Error, SalesforceClient};
use crate::secret::Secret;

/// The messages and client generated from `proto/pubsub_api.proto` by `build.rs`.
#[allow(
    unreachable_pub,
    unused_qualifications,
    dead_code,
    clippy::all,
    clippy::pedantic,
    missing_docs
)]
pub(crate) mod proto {
    // The Pub/Sub API's messages and client (proto/generate made them).
    include!(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/proto/generated/client/eventbus.v1.rs"
    ));
}

use proto::pub_sub_client::PubSubClient;
use proto::{FetchRequest, FetchResponse, ReplayPreset, SchemaRequest, TopicRequest};

/// Events asked for at a time (the most a subscription may owe).
pub(crate) const BATCH: i32 = 100;

/// Responses held for a consumer that is busy elsewhere before the reader stops asking for more.
const QUEUE: usize = 64;

/// What went wrong talking to the Pub/Sub API, classed for recovery.
#[derive(Clone, Debug, thiserror::Error)]
#[error("Pub/Sub API {rpc}: {code:?}: {message}{}", error_code.as_deref().map(|c| format!(" (error-code {c})")).unwrap_or_default())]
pub(crate) struct PubSubError {
    pub rpc: &'static str,
    pub code: Code,
    pub message: String,
    /// Salesforce's `error-code` trailer.
    pub error_code: Option<String>,
}

/// How an error is recovered from.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum ErrorKind {
    /// The token was refused or expired: refresh it and call again.
    Auth,
    /// The replay id was refused (unknown, or older than the retention window).
    ReplayRejected,
    /// The topic does not exist, or its object is not enabled for Change Data Capture.
    NotFound,
    /// The delivery allocation of the org is used up: no point in asking again now.
    LimitExceeded,
    /// The service or the connection failed; calling again may work.
    Transient,
    /// Anything else (a request the service refuses).
    Other,
}

impl PubSubError {
    fn from_status(rpc: &'static str, status: &Status) -> PubSubError {
        PubSubError {
            rpc,
            code: status.code(),
            message: status.message().to_string(),
            error_code: status
                .metadata()
                .get("error-code")
                .and_then(|v| v.to_str().ok())
                .map(str::to_string),
        }
    }

    pub(crate) fn kind(&self) -> ErrorKind {
        let error_code = self.error_code.as_deref().unwrap_or_default();
        if error_code.contains("replayid") || self.message.to_lowercase().contains("replay id") {
            return ErrorKind::ReplayRejected;
        }
        if error_code.contains("limit.exceeded") && !error_code.contains("concurrent") {
            return ErrorKind::LimitExceeded;
        }
        match self.code {
            Code::Unauthenticated => ErrorKind::Auth,
            Code::NotFound => ErrorKind::NotFound,
            Code::Unavailable
            | Code::Internal
            | Code::Unknown
            | Code::Aborted
            | Code::Cancelled
            | Code::DeadlineExceeded
            | Code::ResourceExhausted => ErrorKind::Transient,
            _ if error_code.contains("auth") => ErrorKind::Auth,
            _ => ErrorKind::Other,
        }
    }
}

/// Where a subscription starts.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) enum Start {
    /// After the newest event (the tip of the bus when the service reads the request).
    Latest,
    /// Strictly after this replay id.
    After(Vec<u8>),
}

/// One decoded change event with its replay id.
#[derive(Clone, Debug)]
pub(crate) struct Event {
    pub replay_id: Vec<u8>,
    pub header: header::ChangeHeader,
}

/// What a subscription delivers, in order.
#[derive(Debug)]
pub(crate) enum Delivery {
    /// Events of one response (never empty).
    Events(Vec<Event>),
    /// An empty response while events are owed: the bus's newest replay id.
    Keepalive(Vec<u8>),
    /// The service ended the stream without an error.
    Closed,
    /// The stream failed; nothing follows.
    Failed(PubSubError),
}

/// A Pub/Sub API connection for one logged-in client.
#[derive(Clone)]
pub(crate) struct PubSub {
    client: SalesforceClient,
    grpc: PubSubClient<Channel>,
    /// Avro schemas by schema id (they never change for one id).
    schemas: Arc<Mutex<HashMap<String, Arc<apache_avro::Schema>>>>,
}

/// The object's change event channel: `/data/AccountChangeEvent`, `/data/Foo__ChangeEvent` for
/// `Foo__c`.
pub(crate) fn change_event_topic(object: &str) -> String {
    match object.strip_suffix("__c") {
        Some(base) => format!("/data/{base}__ChangeEvent"),
        None => format!("/data/{object}ChangeEvent"),
    }
}

/// `host:port` or `http(s)://host:port` → the endpoint URI, plaintext only for `http://`.
fn endpoint_uri(endpoint: &str) -> (String, bool) {
    let trimmed = endpoint.trim().trim_end_matches('/');
    if let Some(rest) = trimmed.strip_prefix("http://") {
        (format!("http://{rest}"), false)
    } else if trimmed.starts_with("https://") {
        (trimmed.to_string(), true)
    } else {
        (format!("https://{trimmed}"), true)
    }
}

impl PubSub {
    /// A client of `endpoint` (connected on first use) authenticated as `client`.
    pub(crate) fn new(client: &SalesforceClient, endpoint: &str) -> Result<PubSub, Error> {
        let invalid = |reason: String| Error::Invalid {
            setting: "pubsub_endpoint".into(),
            value: endpoint.to_string(),
            reason,
        };
        let (uri, tls) = endpoint_uri(endpoint);
        let mut builder = Endpoint::from_shared(uri.clone())
            .map_err(|e| invalid(format!("expected host:port or a URL ({e})")))?
            .connect_timeout(Duration::from_secs(30))
            .http2_keep_alive_interval(Duration::from_secs(60))
            .keep_alive_while_idle(true);
        if tls {
            let host = url::Url::parse(&uri)
                .ok()
                .and_then(|u| u.host_str().map(str::to_string))
                .ok_or_else(|| invalid("expected a host name".into()))?;
            let mut config = ClientTlsConfig::new().with_webpki_roots().domain_name(host);
            if let Some(pem) = client.ca_pem() {
                config = config.ca_certificate(Certificate::from_pem(pem));
            }
            builder = builder
                .tls_config(config)
                .map_err(|e| invalid(format!("TLS setup failed: {e}")))?;
        }
        Ok(PubSub {
            client: client.clone(),
            grpc: PubSubClient::new(builder.connect_lazy()),
            schemas: Arc::default(),
        })
    }

    /// `message` with the auth metadata of the current token; the token is returned too, so
    /// a refusal can refresh exactly that one.
    fn request<T>(&self, message: T) -> Result<(Request<T>, Secret), Error> {
        let (token, instance_url) = self.client.current_token();
        let org_id = self.client.org_id().ok_or_else(|| Error::Invalid {
            setting: "identity URL (token reply)".into(),
            value: String::new(),
            reason: "the token reply named no org id, which the Pub/Sub API needs as tenantid"
                .into(),
        })?;
        let mut request = Request::new(message);
        let metadata = request.metadata_mut();
        let value = |text: &str, what: &str| {
            MetadataValue::try_from(text).map_err(|_| Error::Invalid {
                setting: what.to_string(),
                value: String::new(),
                reason: "not valid as gRPC metadata".into(),
            })
        };
        metadata.insert("accesstoken", value(token.expose(), "access token")?);
        metadata.insert(
            "instanceurl",
            value(instance_url.as_str().trim_end_matches('/'), "instance_url")?,
        );
        metadata.insert("tenantid", value(&org_id, "org id")?);
        Ok((request, token))
    }

    /// Refreshes the access token a refusal was for.
    pub(crate) async fn refresh(&self, stale: &Secret) -> Result<(), Error> {
        self.client.refresh_token(stale).await
    }

    /// A unary call, asked again once with a fresh token when the token was refused.
    async fn unary<M: Clone, R, F, Fut>(
        &self,
        rpc: &'static str,
        message: M,
        call: F,
    ) -> Result<R, CallError>
    where
        F: Fn(PubSubClient<Channel>, Request<M>) -> Fut,
        Fut: std::future::Future<Output = Result<tonic::Response<R>, Status>>,
    {
        let mut refreshed = false;
        loop {
            let (request, token) = self.request(message.clone())?;
            match call(self.grpc.clone(), request).await {
                Ok(response) => return Ok(response.into_inner()),
                Err(status) => {
                    let error = PubSubError::from_status(rpc, &status);
                    if error.kind() == ErrorKind::Auth && !refreshed {
                        tracing::info!("{error}; refreshing the access token and asking again");
                        self.refresh(&token).await?;
                        refreshed = true;
                        continue;
                    }
                    return Err(error.into());
                }
            }
        }
    }

    /// `GetTopic`: the topic's current schema id; NOT_FOUND when its object publishes no change
    /// events.
    pub(crate) async fn topic_schema_id(&self, topic: &str) -> Result<String, CallError> {
        let info = self
            .unary(
                "GetTopic",
                TopicRequest {
                    topic_name: topic.to_string(),
                },
                |mut grpc, request| async move { grpc.get_topic(request).await },
            )
            .await?;
        Ok(info.schema_id)
    }

    /// `GetSchema`, cached by id.
    pub(crate) async fn schema(&self, id: &str) -> Result<Arc<apache_avro::Schema>, CallError> {
        if let Some(schema) = self.cached(id) {
            return Ok(schema);
        }
        let info = self
            .unary(
                "GetSchema",
                SchemaRequest {
                    schema_id: id.to_string(),
                },
                |mut grpc, request| async move { grpc.get_schema(request).await },
            )
            .await?;
        let schema = apache_avro::Schema::parse_str(&info.schema_json).map_err(|e| {
            CallError::Decode(format!("schema {id} from GetSchema is not valid Avro: {e}"))
        })?;
        let schema = Arc::new(schema);
        self.schemas
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .insert(id.to_string(), schema.clone());
        Ok(schema)
    }

    fn cached(&self, id: &str) -> Option<Arc<apache_avro::Schema>> {
        self.schemas
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .get(id)
            .cloned()
    }

    /// Opens a `Subscribe` stream on `topic` from `start`. The token it was opened with is
    /// [`Subscription::token`], for refreshing it when the stream fails UNAUTHENTICATED.
    pub(crate) async fn subscribe(
        &self,
        topic: &str,
        start: &Start,
    ) -> Result<Subscription, CallError> {
        let (preset, replay_id) = match start {
            Start::Latest => (ReplayPreset::Latest, Vec::new()),
            Start::After(id) => (ReplayPreset::Custom, id.clone()),
        };
        let first = FetchRequest {
            topic_name: topic.to_string(),
            replay_preset: preset as i32,
            replay_id,
            num_requested: BATCH,
            auth_refresh: String::new(),
        };
        let (requests_tx, requests_rx) = mpsc::channel::<FetchRequest>(4);
        requests_tx
            .send(first)
            .await
            .map_err(|_| CallError::Decode("request queue closed".into()))?;
        let outbound = async_stream::stream! {
            let mut requests_rx = requests_rx;
            while let Some(request) = requests_rx.recv().await {
                yield request;
            }
        };
        let (request, token) = self.request(outbound)?;
        let mut grpc = self.grpc.clone();
        let inbound = match grpc.subscribe(request).await {
            Ok(response) => response.into_inner(),
            Err(status) => return Err(PubSubError::from_status("Subscribe", &status).into()),
        };
        let (tx, rx) = mpsc::channel(QUEUE);
        let this = self.clone();
        let task = tokio::spawn(async move {
            this.pump(inbound, requests_tx, tx).await;
        });
        Ok(Subscription { rx, task, token })
    }

    /// Reads responses into `tx`, asking for more events whenever nothing is owed and the
    /// queue has room.
    async fn pump(
        &self,
        mut inbound: tonic::Streaming<FetchResponse>,
        requests: mpsc::Sender<FetchRequest>,
        tx: mpsc::Sender<Delivery>,
    ) {
        loop {
            let response = match inbound.message().await {
                Ok(Some(response)) => response,
                Ok(None) => {
                    let _ = tx.send(Delivery::Closed).await;
                    return;
                }
                Err(status) => {
                    let _ = tx
                        .send(Delivery::Failed(PubSubError::from_status(
                            "Subscribe",
                            &status,
                        )))
                        .await;
                    return;
                }
            };
            let delivery = if response.events.is_empty() {
                Delivery::Keepalive(response.latest_replay_id)
            } else {
                match self.decode_events(response.events).await {
                    Ok(events) => Delivery::Events(events),
                    Err(e) => {
                        let _ = tx
                            .send(Delivery::Failed(PubSubError {
                                rpc: "Subscribe",
                                code: Code::DataLoss,
                                message: e.to_string(),
                                error_code: None,
                            }))
                            .await;
                        return;
                    }
                }
            };
            // Waits while the consumer is behind: no more events are asked for meanwhile.
            if tx.send(delivery).await.is_err() {
                return;
            }
            if response.pending_num_requested <= 0 {
                let more = FetchRequest {
                    topic_name: String::new(),
                    replay_preset: ReplayPreset::Latest as i32,
                    replay_id: Vec::new(),
                    num_requested: BATCH,
                    auth_refresh: String::new(),
                };
                if requests.send(more).await.is_err() {
                    return;
                }
            }
        }
    }

    async fn decode_events(
        &self,
        events: Vec<proto::ConsumerEvent>,
    ) -> Result<Vec<Event>, CallError> {
        let mut decoded = Vec::with_capacity(events.len());
        for consumer in events {
            let Some(event) = consumer.event else {
                return Err(CallError::Decode(
                    "a ConsumerEvent without its event".into(),
                ));
            };
            let schema = self.schema(&event.schema_id).await?;
            let header = header::decode(&schema, &event.payload).map_err(CallError::Decode)?;
            decoded.push(Event {
                replay_id: consumer.replay_id,
                header,
            });
        }
        Ok(decoded)
    }
}

/// A failed unary call, schema fetch or decoding.
#[derive(Debug, thiserror::Error)]
pub(crate) enum CallError {
    #[error(transparent)]
    PubSub(#[from] PubSubError),
    #[error(transparent)]
    Api(#[from] Error),
    #[error("Pub/Sub API event: {0}")]
    Decode(String),
}

/// An open `Subscribe` stream; dropping it ends the stream.
pub(crate) struct Subscription {
    rx: mpsc::Receiver<Delivery>,
    task: JoinHandle<()>,
    token: Secret,
}

impl Subscription {
    /// The next delivery (after [`Delivery::Closed`] or [`Delivery::Failed`], `Closed` again).
    pub(crate) async fn next(&mut self) -> Delivery {
        self.rx.recv().await.unwrap_or(Delivery::Closed)
    }

    /// The access token the stream was opened with.
    pub(crate) fn token(&self) -> &Secret {
        &self.token
    }
}

impl Drop for Subscription {
    fn drop(&mut self) {
        self.task.abort();
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn topics_follow_salesforce_naming() {
        assert_eq!(change_event_topic("Account"), "/data/AccountChangeEvent");
        assert_eq!(
            change_event_topic("Employee__c"),
            "/data/Employee__ChangeEvent"
        );
    }

    #[test]
    fn endpoints_are_tls_unless_plain_http() {
        assert_eq!(
            endpoint_uri("api.pubsub.salesforce.com:7443"),
            ("https://api.pubsub.salesforce.com:7443".to_string(), true)
        );
        assert_eq!(
            endpoint_uri("http://127.0.0.1:7011/"),
            ("http://127.0.0.1:7011".to_string(), false)
        );
        assert_eq!(
            endpoint_uri("https://localhost:7443"),
            ("https://localhost:7443".to_string(), true)
        );
    }

    fn error(code: Code, message: &str, error_code: Option<&str>) -> PubSubError {
        PubSubError {
            rpc: "Subscribe",
            code,
            message: message.into(),
            error_code: error_code.map(str::to_string),
        }
    }

    #[test]
    fn errors_are_classed_by_trailer_then_status() {
        let prefix = "sfdc.platform.eventbus.grpc.";
        assert_eq!(
            error(
                Code::InvalidArgument,
                "The Replay ID validation failed.",
                Some(&format!("{prefix}subscription.fetch.replayid.corrupted"))
            )
            .kind(),
            ErrorKind::ReplayRejected
        );
        assert_eq!(
            error(
                Code::Unauthenticated,
                "An authentication exception occurred.",
                Some(&format!("{prefix}service.auth.error"))
            )
            .kind(),
            ErrorKind::Auth
        );
        assert_eq!(
            error(
                Code::ResourceExhausted,
                "You have exceeded the event delivery limit for your org.",
                Some(&format!("{prefix}subscription.limit.exceeded"))
            )
            .kind(),
            ErrorKind::LimitExceeded
        );
        assert_eq!(
            error(Code::Unavailable, "RST_STREAM closed stream", None).kind(),
            ErrorKind::Transient
        );
        assert_eq!(
            error(Code::NotFound, "no topic", None).kind(),
            ErrorKind::NotFound
        );
        let shown = error(Code::Unavailable, "cut", Some("x.y")).to_string();
        assert_eq!(
            shown,
            "Pub/Sub API Subscribe: Unavailable: cut (error-code x.y)"
        );
    }
}
