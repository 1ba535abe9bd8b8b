//! What every handler shares: the org, configuration, clock, sessions, API usage, faults, the
//! request log, open query cursors and Bulk jobs. Modules keep their own tables here so a new
//! module (Bulk ingest, REST writes) adds a field and a router, nothing else.

use std::collections::HashMap;
use std::ops::Deref;
use std::sync::atomic::{AtomicI32, AtomicU16, AtomicU64, Ordering};
use std::sync::{Arc, Mutex, MutexGuard, OnceLock, RwLock, RwLockReadGuard, RwLockWriteGuard};

use axum::extract::FromRef;
use chrono::{DateTime, Utc};
use serde::Serialize;

use crate::bulk_query::job::QueryJobs;
use crate::clock::Clock;
use crate::config::EmulatorConfig;
use crate::faults::FaultTable;
use crate::ids;
use crate::org::Org;
use crate::pubsub::EventBus;
use crate::rest_query::cursor::Cursors;
use crate::store::OrgStore;
use crate::write::{WriteSide, WriteState};

fn new_write_side(config: &EmulatorConfig) -> WriteSide {
    let processing_time =
        chrono::Duration::from_std(config.bulk_job_time).unwrap_or(chrono::Duration::zero());
    WriteSide::new(&config.write, processing_time)
}

/// An access token and its lifetime on the org's clock.
#[derive(Clone, Debug)]
pub struct Session {
    pub token: String,
    pub issued_at: DateTime<Utc>,
    pub expires_at: DateTime<Utc>,
    /// The user the session acts as.
    pub user_id: String,
}

/// One served request, for tests and benchmarks that count API calls.
#[derive(Debug, Serialize)]
pub(crate) struct LoggedRequest {
    pub method: String,
    /// Path and query string.
    pub path: String,
    /// 0 while the request is being handled, and for good when its answer was never sent
    /// (the client gave up waiting).
    pub status: u16,
    /// Response body bytes sent (as sent: compressed when compressed).
    pub bytes: u64,
    /// The `type` of every fault rule that fired on this request.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub faults: Vec<String>,
    /// When the answer's body was sent whole: 1 for the first answer to finish, 2 for the
    /// next… (0 until then), so a test sees answers that finished out of arrival order.
    pub finished: u64,
    /// Pub/Sub API calls (`"method": "GRPC"`): the gRPC status code the call ended with
    /// (0 OK, 16 UNAUTHENTICATED…), null while a stream is still open.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub grpc_status: Option<Option<i32>>,
}

/// A request log entry, logged when the request arrives; its status is set when the answer
/// starts and its byte count grows while a streamed body is sent.
#[derive(Debug)]
pub struct LogEntry {
    pub method: String,
    pub path: String,
    pub status: Arc<AtomicU16>,
    pub bytes: Arc<AtomicU64>,
    pub faults: FiredFaults,
    /// [`LoggedRequest::finished`].
    pub finished: Arc<AtomicU64>,
    /// Pub/Sub API calls: the gRPC status once the call ended ([`GRPC_OPEN`] until then).
    pub grpc_status: Option<Arc<AtomicI32>>,
}

/// [`LogEntry::grpc_status`] of a call still open.
pub(crate) const GRPC_OPEN: i32 = -1;

/// The faults fired on one request, filled in by the fault layer (a request extension).
#[derive(Clone, Debug, Default)]
pub struct FiredFaults(pub Arc<Mutex<Vec<String>>>);

/// Daily usage counters behind `/limits` and `Sforce-Limit-Info`.
#[derive(Debug, Default)]
pub struct Usage {
    pub api_requests: u64,
    pub bulk_query_jobs: u64,
    /// Set by the `exhaust_limit` fault.
    pub exhausted: bool,
}

pub struct Shared {
    pub config: EmulatorConfig,
    pub clock: Clock,
    org: RwLock<Org>,
    sessions: Mutex<HashMap<String, Session>>,
    issued_tokens: AtomicU64,
    pub usage: Mutex<Usage>,
    pub faults: Arc<Mutex<FaultTable>>,
    pub log: Mutex<Vec<LogEntry>>,
    /// Answers sent whole so far (numbers [`LogEntry::finished`]).
    pub answers_finished: Arc<AtomicU64>,
    pub cursors: Mutex<Cursors>,
    pub query_jobs: Mutex<QueryJobs>,
    id_counters: Mutex<HashMap<String, u64>>,
    /// How many times the refresh token rotated; the token accepted now follows from it
    /// ([`Shared::refresh_token_after`]).
    pub refresh_rotations: Mutex<u64>,
    base_url: OnceLock<String>,
    /// Bulk ingest jobs, validation rules and lock faults (`write::WriteState` reaches the org
    /// through this state).
    pub write_side: Arc<Mutex<WriteSide>>,
    /// Change events for the Pub/Sub API (the org reports every record change to it).
    pub(crate) pubsub: Arc<EventBus>,
}

impl Shared {
    /// The refresh token accepted after `rotations` rotations: the configured one, then
    /// `<configured>R1`, `<configured>R2`…
    pub fn refresh_token_after(&self, rotations: u64) -> String {
        if rotations == 0 {
            self.config.refresh_token.clone()
        } else {
            format!("{}R{rotations}", self.config.refresh_token)
        }
    }
}

/// The state handed to every handler (cheap to clone).
#[derive(Clone)]
pub struct AppState(Arc<Shared>);

impl Deref for AppState {
    type Target = Shared;
    fn deref(&self) -> &Shared {
        &self.0
    }
}

/// Locks that survive a panicked holder: the data is still consistent for an emulator.
pub(crate) fn lock<T>(m: &Mutex<T>) -> MutexGuard<'_, T> {
    m.lock().unwrap_or_else(|e| e.into_inner())
}

impl AppState {
    pub fn new(config: EmulatorConfig) -> AppState {
        let clock = if config.clock_running {
            Clock::running(config.start_time)
        } else {
            Clock::frozen(config.start_time)
        };
        let mut org = Org::new(&config, clock.clone());
        let mut faults = FaultTable::default();
        for rule in &config.faults {
            faults.add(rule.clone());
        }
        let faults = Arc::new(Mutex::new(faults));
        let sobjects = org.objects().iter().map(|o| o.sobject.clone()).collect();
        let pubsub = Arc::new(
            EventBus::new(
                clock.clone(),
                faults.clone(),
                sobjects,
                config.cdc_objects.clone(),
                config.cdc_overflow_limit,
            )
            // `cdc_objects` is checked when the config is parsed; here it can only be valid.
            .unwrap_or_else(|e| panic!("cdc_objects: {e}")),
        );
        org.set_event_bus(pubsub.clone());
        AppState(Arc::new(Shared {
            clock,
            org: RwLock::new(org),
            sessions: Mutex::new(HashMap::new()),
            issued_tokens: AtomicU64::new(0),
            usage: Mutex::new(Usage::default()),
            faults,
            pubsub,
            log: Mutex::new(Vec::new()),
            answers_finished: Arc::new(AtomicU64::new(0)),
            cursors: Mutex::new(Cursors::default()),
            query_jobs: Mutex::new(QueryJobs::default()),
            id_counters: Mutex::new(HashMap::new()),
            refresh_rotations: Mutex::new(0),
            base_url: OnceLock::new(),
            write_side: Arc::new(Mutex::new(new_write_side(&config))),
            config,
        }))
    }

    /// Read access to the org (never held across an await).
    pub fn org(&self) -> RwLockReadGuard<'_, Org> {
        self.org.read().unwrap_or_else(|e| e.into_inner())
    }

    /// Write access to the org (never held across an await).
    pub fn org_mut(&self) -> RwLockWriteGuard<'_, Org> {
        self.org.write().unwrap_or_else(|e| e.into_inner())
    }

    pub fn set_base_url(&self, url: String) {
        let _ = self.base_url.set(url);
    }

    /// `http://127.0.0.1:PORT` (the token's `instance_url`).
    pub fn base_url(&self) -> &str {
        self.base_url
            .get()
            .map(String::as_str)
            .unwrap_or("http://127.0.0.1")
    }

    /// A new 18-character id under `prefix` for things that are not records (jobs `750`,
    /// query locators `01g`), counting from 1 per prefix.
    pub fn next_id(&self, prefix: &str) -> String {
        let mut counters = lock(&self.id_counters);
        let n = counters.entry(prefix.to_string()).or_insert(0);
        *n += 1;
        ids::encode(prefix, *n)
    }

    /// Issues an access token valid for the configured lifetime.
    pub fn issue_session(&self) -> Session {
        let n = self.issued_tokens.fetch_add(1, Ordering::SeqCst) + 1;
        let org_id = self.org().org_id();
        let mut hasher = <sha2::Sha256 as sha2::Digest>::new();
        sha2::Digest::update(
            &mut hasher,
            format!("{}:{}:{n}", self.config.seed, self.config.client_secret).as_bytes(),
        );
        let digest = sha2::Digest::finalize(hasher);
        let secret: String = digest.iter().map(|b| format!("{b:02x}")).collect();
        let token = format!("{}!AQ{}", &org_id[..15], &secret[..48]);
        let issued_at = self.clock.now();
        let lifetime = chrono::Duration::from_std(self.config.token_lifetime)
            .unwrap_or(chrono::Duration::hours(2));
        let session = Session {
            token: token.clone(),
            issued_at,
            expires_at: issued_at + lifetime,
            user_id: ids::encode("005", 0),
        };
        lock(&self.sessions).insert(token, session.clone());
        session
    }

    /// The live session of `token`; `None` when unknown or expired.
    pub fn session(&self, token: &str) -> Option<Session> {
        let sessions = lock(&self.sessions);
        let session = sessions.get(token)?;
        (self.clock.now() < session.expires_at).then(|| session.clone())
    }

    /// Expires every session (the `expire_tokens` fault).
    pub fn expire_sessions(&self) {
        let now = self.clock.now();
        for s in lock(&self.sessions).values_mut() {
            s.expires_at = now;
        }
    }

    /// `api-usage=used/max`.
    pub fn limit_info(&self) -> String {
        let usage = lock(&self.usage);
        format!(
            "api-usage={}/{}",
            usage.api_requests, self.config.daily_api_requests
        )
    }

    /// Back to the state at start: generated data, start time, configured faults, no sessions
    /// revoked (clients keep working), empty logs, usage, cursors and jobs.
    pub fn reset(&self) {
        self.org_mut().reset();
        self.clock.set(self.config.start_time);
        *lock(&self.usage) = Usage::default();
        let mut faults = lock(&self.faults);
        faults.clear();
        for rule in &self.config.faults {
            faults.add(rule.clone());
        }
        drop(faults);
        lock(&self.log).clear();
        *lock(&self.cursors) = Cursors::default();
        *lock(&self.query_jobs) = QueryJobs::default();
        *lock(&self.write_side) = new_write_side(&self.config);
        self.pubsub.reset();
    }
}

/// Handlers of writes take a [`WriteState`]: the server's [`AppState`] holds the write side; the org is reached under its write lock.
impl FromRef<AppState> for WriteState {
    fn from_ref(state: &AppState) -> WriteState {
        let app = state.clone();
        WriteState {
            org: Arc::new(move |f: &mut dyn FnMut(&mut dyn OrgStore)| {
                let mut org = app.org_mut();
                f(&mut *org);
            }),
            side: Arc::clone(&state.write_side),
        }
    }
}
