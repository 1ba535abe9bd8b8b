//! The Pub/Sub API's RPCs over the org's [`EventBus`]: authentication by the `accesstoken`,
//! `instanceurl` and `tenantid` metadata, `GetTopic`, `GetSchema` and `Subscribe`; `Publish`,
//! `PublishStream` and `ManagedSubscribe` answer UNIMPLEMENTED (change event channels cannot be
//! published to).
//!
//! Errors are a gRPC status whose description ends in `rpcId: <uuid>`, with Salesforce's code in
//! the `error-code` trailer. Every call is logged in `/__emulator/requests` as
//! `{"method": "GRPC", "path": "/eventbus.v1.PubSub/<Rpc>"}` with the gRPC status it ended with.

use std::pin::Pin;
use std::sync::atomic::{AtomicI32, AtomicU16, AtomicU64, Ordering};
use std::sync::Arc;
use std::time::Duration;

use futures::Stream;
use prost::Message;
use tokio::sync::mpsc;
use tokio::time::Instant;
use tokio_stream::wrappers::ReceiverStream;
use tonic::metadata::{MetadataMap, MetadataValue};
use tonic::{Code, Request, Response, Status, Streaming};

use super::bus::{replay_id, uuid_like, ReplayError};
use super::proto::pub_sub_server::PubSub;
use super::proto::{
    ConsumerEvent, FetchRequest, FetchResponse, ManagedFetchRequest, ManagedFetchResponse,
    ProducerEvent, PublishRequest, PublishResponse, ReplayPreset, SchemaInfo, SchemaRequest,
    TopicInfo, TopicRequest,
};
use crate::faults::FaultKind;
use crate::state::{lock, AppState, FiredFaults, LogEntry, GRPC_OPEN};

/// Most events a subscription is owed at once; more requested counts as this many.
const MAX_OWED: i32 = 100;

/// How often an open subscription looks at its token and the org's clock when nothing else
/// wakes it.
const RECHECK: Duration = Duration::from_millis(500);

/// The gRPC service; cheap to clone.
#[derive(Clone)]
pub(crate) struct PubSubService {
    state: AppState,
}

impl PubSubService {
    pub(crate) fn new(state: AppState) -> PubSubService {
        PubSubService { state }
    }
}

static RPC_COUNTER: AtomicU64 = AtomicU64::new(0);

fn rpc_id() -> String {
    let n = RPC_COUNTER.fetch_add(1, Ordering::Relaxed);
    uuid_like(&format!("rpc:{}:{n}", std::process::id()))
}

/// A Salesforce Pub/Sub error: `message` + ` rpcId: …`, `error-code` trailer.
fn sf_error(code: Code, message: &str, error_code: &str) -> Status {
    let full_code = if error_code.starts_with("sfdc.") {
        error_code.to_string()
    } else {
        format!("sfdc.platform.eventbus.grpc.{error_code}")
    };
    let mut metadata = MetadataMap::new();
    if let Ok(value) = MetadataValue::try_from(full_code.as_str()) {
        metadata.insert("error-code", value);
    }
    Status::with_metadata(code, format!("{message} rpcId: {}", rpc_id()), metadata)
}

fn auth_error() -> Status {
    sf_error(
        Code::Unauthenticated,
        "An authentication exception occurred. Provide valid authentication via metadata headers.",
        "service.auth.error",
    )
}

fn replay_error(error: ReplayError) -> Status {
    let why = match error {
        ReplayError::Invalid => "is not a replay ID of this topic",
        ReplayError::Expired => "is outside the retention window",
    };
    sf_error(
        Code::InvalidArgument,
        &format!("The Replay ID validation failed: the replay ID {why}."),
        "subscription.fetch.replayid.corrupted",
    )
}

fn grpc_code(name: &str) -> Code {
    let codes = [
        Code::Ok,
        Code::Cancelled,
        Code::Unknown,
        Code::InvalidArgument,
        Code::DeadlineExceeded,
        Code::NotFound,
        Code::AlreadyExists,
        Code::PermissionDenied,
        Code::ResourceExhausted,
        Code::FailedPrecondition,
        Code::Aborted,
        Code::OutOfRange,
        Code::Unimplemented,
        Code::Internal,
        Code::Unavailable,
        Code::DataLoss,
        Code::Unauthenticated,
    ];
    let wanted = name.to_ascii_uppercase().replace(['-', ' '], "_");
    codes
        .into_iter()
        .find(|c| format!("{c:?}").to_ascii_uppercase() == wanted.replace('_', ""))
        .or_else(|| name.parse::<i32>().ok().map(Code::from_i32))
        .unwrap_or(Code::Unknown)
}

/// One call in the request log: its bytes and final status are filled in as it goes.
struct CallLog {
    bytes: Arc<AtomicU64>,
    status: Arc<AtomicI32>,
    faults: FiredFaults,
}

impl CallLog {
    fn end(&self, code: Code) {
        self.status.store(code as i32, Ordering::Relaxed);
    }

    fn sent(&self, message_len: usize) {
        self.bytes.fetch_add(message_len as u64, Ordering::Relaxed);
    }
}

/// What the fault rules matching a call asked for, besides failing it at once.
#[derive(Default)]
struct StreamFaults {
    cut_after: Option<u64>,
    expire_after: Option<u64>,
}

impl PubSubService {
    fn log(&self, rpc: &str) -> CallLog {
        let bytes = Arc::new(AtomicU64::new(0));
        let status = Arc::new(AtomicI32::new(GRPC_OPEN));
        let faults = FiredFaults::default();
        lock(&self.state.log).push(LogEntry {
            method: "GRPC".to_string(),
            path: format!("/eventbus.v1.PubSub/{rpc}"),
            // gRPC answers HTTP 200 whatever the call's outcome; `grpc_status` tells it.
            status: Arc::new(AtomicU16::new(200)),
            bytes: bytes.clone(),
            faults: faults.clone(),
            finished: Arc::new(AtomicU64::new(0)),
            grpc_status: Some(status.clone()),
        });
        CallLog {
            bytes,
            status,
            faults,
        }
    }

    /// Applies the fault rules matching the call; an error fails it.
    async fn faults(&self, rpc: &str, log: &CallLog) -> Result<StreamFaults, Status> {
        let fired = lock(&self.state.faults).fire("GRPC", &format!("/eventbus.v1.PubSub/{rpc}"));
        lock(&log.faults.0).extend(fired.iter().map(|f| f.type_name().to_string()));
        let mut out = StreamFaults::default();
        for fault in fired {
            match fault {
                FaultKind::GrpcStatus {
                    code,
                    error_code,
                    message,
                } => {
                    let message = message.unwrap_or_else(|| "Injected fault.".to_string());
                    let error_code = error_code.unwrap_or_else(|| "service.unavailable".into());
                    return Err(sf_error(grpc_code(&code), &message, &error_code));
                }
                FaultKind::Delay { millis, .. } => {
                    tokio::time::sleep(Duration::from_millis(millis)).await;
                }
                FaultKind::ExpireTokens => self.state.expire_sessions(),
                FaultKind::CutStream { after_events } => out.cut_after = Some(after_events),
                FaultKind::ExpireTokensAfterEvents { after_events } => {
                    out.expire_after = Some(after_events);
                }
                _ => {}
            }
        }
        Ok(out)
    }

    /// The caller's access token, once `accesstoken`, `instanceurl` and `tenantid` check out.
    fn authenticate(&self, metadata: &MetadataMap) -> Result<String, Status> {
        let get = |key: &str| {
            metadata
                .get(key)
                .and_then(|v| v.to_str().ok())
                .map(str::trim)
        };
        let token = get("accesstoken").ok_or_else(auth_error)?;
        self.state.session(token).ok_or_else(auth_error)?;
        let instance = get("instanceurl").ok_or_else(auth_error)?;
        if !same_instance(instance, self.state.base_url()) {
            return Err(auth_error());
        }
        let tenant = get("tenantid").ok_or_else(auth_error)?;
        let org_id = self.state.org().org_id();
        if tenant != org_id && tenant != &org_id[..15] {
            return Err(auth_error());
        }
        Ok(token.to_string())
    }

    /// Logs the call, applies its faults and checks its credentials.
    async fn open_call(
        &self,
        rpc: &str,
        metadata: &MetadataMap,
    ) -> Result<(CallLog, StreamFaults, String), Status> {
        let log = self.log(rpc);
        let checked = match self.faults(rpc, &log).await {
            Ok(faults) => self.authenticate(metadata).map(|token| (faults, token)),
            Err(e) => Err(e),
        };
        match checked {
            Ok((faults, token)) => Ok((log, faults, token)),
            Err(e) => {
                log.end(e.code());
                Err(e)
            }
        }
    }
}

/// The instance URL names this emulator: same scheme, port, and host (`localhost` and
/// `127.0.0.1` being one).
fn same_instance(given: &str, ours: &str) -> bool {
    let (Ok(a), Ok(b)) = (url::Url::parse(given), url::Url::parse(ours)) else {
        return false;
    };
    let host = |u: &url::Url| match u.host_str() {
        Some("localhost") => "127.0.0.1".to_string(),
        Some(h) => h.to_string(),
        None => String::new(),
    };
    a.scheme() == b.scheme()
        && a.port_or_known_default() == b.port_or_known_default()
        && host(&a) == host(&b)
}

type BoxStream<T> = Pin<Box<dyn Stream<Item = Result<T, Status>> + Send>>;

fn unimplemented<T>(log: &CallLog) -> Result<T, Status> {
    log.end(Code::Unimplemented);
    Err(Status::unimplemented(
        "The emulator's change event channels cannot be published to.",
    ))
}

#[tonic::async_trait]
impl PubSub for PubSubService {
    type SubscribeStream = BoxStream<FetchResponse>;
    type PublishStreamStream = BoxStream<PublishResponse>;
    type ManagedSubscribeStream = BoxStream<ManagedFetchResponse>;

    async fn get_topic(
        &self,
        request: Request<TopicRequest>,
    ) -> Result<Response<TopicInfo>, Status> {
        let (log, _, _) = self.open_call("GetTopic", request.metadata()).await?;
        let name = request.into_inner().topic_name;
        let Some((_, schema_id)) = self.state.pubsub.topic(&name) else {
            log.end(Code::NotFound);
            return Err(topic_not_found(&name));
        };
        let info = TopicInfo {
            topic_name: name,
            tenant_guid: self.state.org().org_id(),
            can_publish: false,
            can_subscribe: true,
            schema_id,
            rpc_id: rpc_id(),
        };
        log.sent(info.encoded_len());
        log.end(Code::Ok);
        Ok(Response::new(info))
    }

    async fn get_schema(
        &self,
        request: Request<SchemaRequest>,
    ) -> Result<Response<SchemaInfo>, Status> {
        let (log, _, _) = self.open_call("GetSchema", request.metadata()).await?;
        let schema_id = request.into_inner().schema_id;
        let Some(json) = self.state.pubsub.schema_json(&schema_id) else {
            log.end(Code::NotFound);
            return Err(sf_error(
                Code::NotFound,
                &format!("The schema ID {schema_id:?} was not found."),
                "schema.not.found",
            ));
        };
        let info = SchemaInfo {
            schema_json: json,
            schema_id,
            rpc_id: rpc_id(),
        };
        log.sent(info.encoded_len());
        log.end(Code::Ok);
        Ok(Response::new(info))
    }

    async fn subscribe(
        &self,
        request: Request<Streaming<FetchRequest>>,
    ) -> Result<Response<Self::SubscribeStream>, Status> {
        let (log, faults, token) = self.open_call("Subscribe", request.metadata()).await?;
        let inbound = request.into_inner();
        let (tx, rx) = mpsc::channel(4);
        let subscription = Subscription {
            state: self.state.clone(),
            token,
            faults,
            tx,
            log,
        };
        tokio::spawn(subscription.run(inbound));
        Ok(Response::new(Box::pin(ReceiverStream::new(rx))))
    }

    async fn publish(
        &self,
        request: Request<PublishRequest>,
    ) -> Result<Response<PublishResponse>, Status> {
        let (log, _, _) = self.open_call("Publish", request.metadata()).await?;
        unimplemented(&log)
    }

    async fn publish_stream(
        &self,
        request: Request<Streaming<PublishRequest>>,
    ) -> Result<Response<Self::PublishStreamStream>, Status> {
        let (log, _, _) = self.open_call("PublishStream", request.metadata()).await?;
        unimplemented(&log)
    }

    async fn managed_subscribe(
        &self,
        request: Request<Streaming<ManagedFetchRequest>>,
    ) -> Result<Response<Self::ManagedSubscribeStream>, Status> {
        let (log, _, _) = self
            .open_call("ManagedSubscribe", request.metadata())
            .await?;
        unimplemented(&log)
    }
}

fn topic_not_found(name: &str) -> Status {
    sf_error(
        Code::NotFound,
        &format!(
            "The topic {name:?} was not found, or Change Data Capture is not enabled for its object."
        ),
        "topic.not.found",
    )
}

/// One Subscribe call: reads FetchRequests and answers events as they are owed.
struct Subscription {
    state: AppState,
    token: String,
    faults: StreamFaults,
    tx: mpsc::Sender<Result<FetchResponse, Status>>,
    log: CallLog,
}

/// Why a subscription loop stopped without an error for the client.
enum Stop {
    /// The stream ends normally (idle, or the client is done).
    Close,
    /// The client went away; nothing more can be sent.
    Gone,
}

/// Resolves once the server is stopping.
async fn closed(closing: &mut tokio::sync::watch::Receiver<bool>) {
    let _ = closing.wait_for(|c| *c).await;
}

fn add_owed(owed: i32, requested: i32) -> Result<i32, Status> {
    if requested <= 0 {
        return Err(sf_error(
            Code::InvalidArgument,
            &format!("num_requested must be greater than 0, got {requested}."),
            "subscription.fetch.requested.events.invalid",
        ));
    }
    Ok(owed.saturating_add(requested).min(MAX_OWED))
}

impl Subscription {
    async fn run(self, inbound: Streaming<FetchRequest>) {
        let outcome = self.serve(inbound).await;
        match outcome {
            Ok(Stop::Close | Stop::Gone) => self.log.end(Code::Ok),
            Err(status) => {
                self.log.end(status.code());
                let _ = self.tx.send(Err(status)).await;
            }
        }
    }

    async fn send(&self, response: FetchResponse) -> Result<(), Stop> {
        self.log.sent(response.encoded_len());
        self.tx.send(Ok(response)).await.map_err(|_| Stop::Gone)
    }

    async fn serve(&self, mut inbound: Streaming<FetchRequest>) -> Result<Stop, Status> {
        let bus = &self.state.pubsub;
        let config = &self.state.config;
        let mut closing = bus.closing();
        let first = tokio::select! {
            message = inbound.message() => match message {
                Ok(Some(request)) => request,
                _ => return Ok(Stop::Gone),
            },
            _ = tokio::time::sleep(config.pubsub_idle_close) => return Ok(Stop::Close),
            _ = closed(&mut closing) => return Err(Status::unavailable("The server is shutting down.")),
        };
        let topic = first.topic_name.clone();
        let (filter, _) = bus.topic(&topic).ok_or_else(|| topic_not_found(&topic))?;
        let mut cursor = match ReplayPreset::try_from(first.replay_preset) {
            Ok(ReplayPreset::Earliest) => bus.earliest_start(),
            Ok(ReplayPreset::Custom) => bus.resume_after(&first.replay_id).map_err(replay_error)?,
            _ => bus.tip(),
        };
        let mut owed = add_owed(0, first.num_requested)?;
        let mut tip = bus.watch();
        let mut inbound_open = true;
        let mut last_response = Instant::now();
        let mut delivered: u64 = 0;
        loop {
            if self.state.session(&self.token).is_none() {
                return Err(auth_error());
            }
            if owed > 0 {
                let mut batch = bus.events_after(cursor, &filter, owed as usize);
                let limit = [self.faults.cut_after, self.faults.expire_after]
                    .into_iter()
                    .flatten()
                    .min();
                if let Some(limit) = limit {
                    batch.truncate(limit.saturating_sub(delivered) as usize);
                }
                if !batch.is_empty() {
                    let events: Vec<ConsumerEvent> = batch
                        .iter()
                        .map(|e| ConsumerEvent {
                            event: Some(ProducerEvent {
                                id: e.event_id(),
                                schema_id: e.schema_id().to_string(),
                                payload: e.payload.clone(),
                                headers: vec![],
                            }),
                            replay_id: e.replay_id().to_vec(),
                        })
                        .collect();
                    cursor = batch.last().map_or(cursor, |e| e.seq);
                    owed -= events.len() as i32;
                    delivered += events.len() as u64;
                    let response = FetchResponse {
                        events,
                        latest_replay_id: replay_id(cursor).to_vec(),
                        rpc_id: rpc_id(),
                        pending_num_requested: owed,
                    };
                    if let Err(stop) = self.send(response).await {
                        return Ok(stop);
                    }
                    last_response = Instant::now();
                    continue;
                }
                if self.faults.cut_after.is_some_and(|n| delivered >= n) {
                    return Err(sf_error(
                        Code::Unavailable,
                        "RST_STREAM closed stream. HTTP/2 error code: CANCEL (injected stream cut).",
                        "service.unavailable",
                    ));
                }
                if self.faults.expire_after.is_some_and(|n| delivered >= n) {
                    self.state.expire_sessions();
                    return Err(auth_error());
                }
            }
            if !inbound_open && owed == 0 {
                return Ok(Stop::Close);
            }
            let wait = if owed > 0 {
                config.pubsub_keepalive
            } else {
                config.pubsub_idle_close
            };
            let deadline = last_response + wait;
            tokio::select! {
                message = inbound.message(), if inbound_open => match message {
                    Ok(Some(request)) => {
                        if !request.topic_name.is_empty() && request.topic_name != topic {
                            return Err(sf_error(
                                Code::InvalidArgument,
                                &format!(
                                    "The topic {:?} does not match the subscription's topic {topic:?}.",
                                    request.topic_name
                                ),
                                "subscription.fetch.topic.mismatch",
                            ));
                        }
                        owed = add_owed(owed, request.num_requested)?;
                    }
                    Ok(None) => inbound_open = false,
                    Err(_) => return Ok(Stop::Gone),
                },
                _ = tip.changed() => {}
                _ = tokio::time::sleep_until(deadline) => {
                    if owed == 0 {
                        return Ok(Stop::Close);
                    }
                    let keepalive = FetchResponse {
                        events: vec![],
                        latest_replay_id: replay_id(bus.tip()).to_vec(),
                        rpc_id: rpc_id(),
                        pending_num_requested: owed,
                    };
                    if let Err(stop) = self.send(keepalive).await {
                        return Ok(stop);
                    }
                    last_response = Instant::now();
                }
                _ = tokio::time::sleep(RECHECK) => {}
                _ = closed(&mut closing) => {
                    return Err(Status::unavailable("The server is shutting down."));
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn grpc_codes_by_name_or_number() {
        assert_eq!(grpc_code("UNAVAILABLE"), Code::Unavailable);
        assert_eq!(grpc_code("resource_exhausted"), Code::ResourceExhausted);
        assert_eq!(grpc_code("16"), Code::Unauthenticated);
    }

    #[test]
    fn instance_urls_compare_by_scheme_host_and_port() {
        assert!(same_instance(
            "http://localhost:8080/",
            "http://127.0.0.1:8080"
        ));
        assert!(!same_instance(
            "https://127.0.0.1:8080",
            "http://127.0.0.1:8080"
        ));
        assert!(!same_instance(
            "http://127.0.0.1:9",
            "http://127.0.0.1:8080"
        ));
    }
}
