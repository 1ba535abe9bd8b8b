//! Injected faults: rules matched per request (method + path glob) that answer an error, delay,
//! cut the connection mid-body, truncate a CSV page, make a Bulk job end Failed or Aborted,
//! expire every token, or exhaust the API limit — once, every Nth time, after N times, or always.
//! Rules come from `--faults FILE` (a JSON array of rules) or `POST /__emulator/faults`.

use serde::{Deserialize, Serialize};

/// What a matching request suffers.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum FaultKind {
    /// Answer `status` with Salesforce's error array for `error_code` (message defaults to
    /// Salesforce's text for that code, status to the one Salesforce uses for it). A status
    /// without a code answers the message (or nothing) as plain text.
    Status {
        #[serde(default)]
        status: Option<u16>,
        #[serde(default)]
        error_code: Option<String>,
        #[serde(default)]
        message: Option<String>,
    },
    /// Wait `millis` before handling the request, or (`after_handler`) handle it and then
    /// hold its answer back that long: the request has acted, its answer is late.
    Delay {
        millis: u64,
        #[serde(default)]
        after_handler: bool,
    },
    /// Send the first `after_bytes` bytes of the body, then drop the connection.
    CutConnection {
        #[serde(default)]
        after_bytes: usize,
    },
    /// Send only the first `keep_percent` percent of the body, as if it were complete.
    TruncateBody {
        #[serde(default = "half")]
        keep_percent: u8,
    },
    /// A Bulk job created by this request ends `Failed` with this message.
    JobFailed {
        #[serde(default = "default_job_error")]
        message: String,
    },
    /// A Bulk job created by this request ends `Aborted`.
    JobAborted,
    /// Before the request is handled, a record of `object` with `fields` commits, from a
    /// transaction that began `began_seconds_ago` seconds earlier: Salesforce stamps the row's
    /// `CreatedDate`, `LastModifiedDate` and `SystemModstamp` with that start, so the row
    /// appears behind a cursor that already passed that time.
    CommitRecord {
        object: String,
        #[serde(default)]
        fields: serde_json::Map<String, serde_json::Value>,
        #[serde(default)]
        began_seconds_ago: i64,
    },
    /// Every access token issued so far expires now.
    ExpireTokens,
    /// The daily API request limit is used up from now on.
    ExhaustLimit,
    /// Pub/Sub API (`"method": "GRPC"`, path `/eventbus.v1.PubSub/<Rpc>`): the call fails with
    /// this gRPC status (`code` as named by gRPC, e.g. `UNAVAILABLE`), the Salesforce
    /// `error_code` in the `error-code` trailer (prefix `sfdc.platform.eventbus.grpc.` added
    /// when missing) and `message` plus `rpcId: …` as its description.
    GrpcStatus {
        code: String,
        #[serde(default)]
        error_code: Option<String>,
        #[serde(default)]
        message: Option<String>,
    },
    /// Subscribe: after `after_events` events the stream is cut (UNAVAILABLE, as when HTTP/2
    /// resets the stream).
    CutStream {
        #[serde(default)]
        after_events: u64,
    },
    /// Subscribe: after `after_events` events every access token expires, so the open stream
    /// fails UNAUTHENTICATED.
    ExpireTokensAfterEvents {
        #[serde(default)]
        after_events: u64,
    },
    /// Change events (`"method": "CDC"`, path the topic of the changed record's object, e.g.
    /// `/data/AccountChangeEvent`, counted per changed record): the change publishes as its
    /// `GAP_*` event (header only), as when Salesforce cannot build the event.
    Gap,
}

impl FaultKind {
    /// The rule's `type`, as written in a rule and listed in the request log.
    pub fn type_name(&self) -> &'static str {
        match self {
            FaultKind::Status { .. } => "status",
            FaultKind::Delay { .. } => "delay",
            FaultKind::CutConnection { .. } => "cut_connection",
            FaultKind::TruncateBody { .. } => "truncate_body",
            FaultKind::JobFailed { .. } => "job_failed",
            FaultKind::JobAborted => "job_aborted",
            FaultKind::CommitRecord { .. } => "commit_record",
            FaultKind::ExpireTokens => "expire_tokens",
            FaultKind::ExhaustLimit => "exhaust_limit",
            FaultKind::GrpcStatus { .. } => "grpc_status",
            FaultKind::CutStream { .. } => "cut_stream",
            FaultKind::ExpireTokensAfterEvents { .. } => "expire_tokens_after_events",
            FaultKind::Gap => "gap",
        }
    }
}

fn half() -> u8 {
    50
}

fn default_job_error() -> String {
    "InternalServerError : Failure during batch processing".to_string()
}

/// When a rule fires, counting the requests that match it (1-based).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(tag = "when", rename_all = "snake_case")]
pub enum Schedule {
    /// The first match only.
    Once,
    /// The `n`th, 2`n`th, … matches.
    EveryNth {
        n: u64,
    },
    /// Every match after the first `n`.
    AfterN {
        n: u64,
    },
    Always,
}

/// One fault rule.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct FaultRule {
    /// HTTP method, or `*` / absent for any.
    #[serde(default)]
    pub method: Option<String>,
    /// Glob over the request path (no query string); `*` matches any run of characters,
    /// `/` included; `?` one character.
    pub path: String,
    /// A text the request's query string must contain (e.g. `locator=MA`, one result page);
    /// absent for any query.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub query: Option<String>,
    #[serde(flatten)]
    pub kind: FaultKind,
    #[serde(flatten)]
    pub schedule: Schedule,
}

/// A rule and how often it has matched.
#[derive(Clone, Debug, Serialize)]
pub struct ActiveFault {
    pub id: u64,
    #[serde(flatten)]
    pub rule: FaultRule,
    pub matched: u64,
    pub fired: u64,
}

#[derive(Debug, Default)]
pub struct FaultTable {
    next_id: u64,
    rules: Vec<ActiveFault>,
}

impl FaultTable {
    pub fn add(&mut self, rule: FaultRule) -> u64 {
        self.next_id += 1;
        self.rules.push(ActiveFault {
            id: self.next_id,
            rule,
            matched: 0,
            fired: 0,
        });
        self.next_id
    }

    pub fn remove(&mut self, id: u64) -> bool {
        let before = self.rules.len();
        self.rules.retain(|r| r.id != id);
        before != self.rules.len()
    }

    pub fn clear(&mut self) {
        self.rules.clear();
    }

    pub fn list(&self) -> Vec<ActiveFault> {
        self.rules.clone()
    }

    /// The faults that fire for this request (counting the match for every matching rule).
    pub fn fire(&mut self, method: &str, path: &str) -> Vec<FaultKind> {
        self.fire_request(method, path, "")
    }

    /// [`fire`](Self::fire) for a request with a query string, matched by rules with `query`.
    pub fn fire_request(&mut self, method: &str, path: &str, query: &str) -> Vec<FaultKind> {
        let mut fired = Vec::new();
        for active in &mut self.rules {
            let rule = &active.rule;
            let method_ok = match rule.method.as_deref() {
                None | Some("*") => true,
                Some(m) => m.eq_ignore_ascii_case(method),
            };
            let query_ok = rule.query.as_deref().is_none_or(|q| query.contains(q));
            if !method_ok || !query_ok || !glob_match(rule.path.as_bytes(), path.as_bytes()) {
                continue;
            }
            active.matched += 1;
            let n = active.matched;
            let fires = match rule.schedule {
                Schedule::Once => n == 1,
                Schedule::EveryNth { n: every } => every > 0 && n % every == 0,
                Schedule::AfterN { n: after } => n > after,
                Schedule::Always => true,
            };
            if fires {
                active.fired += 1;
                fired.push(rule.kind.clone());
            }
        }
        fired
    }
}

/// Parses a faults file: a JSON array of rules.
pub fn parse_rules(text: &str) -> Result<Vec<FaultRule>, RulesError> {
    serde_json::from_str(text).map_err(|source| RulesError {
        line: source.line(),
        column: source.column(),
        source,
    })
}

/// A fault rules file that does not parse: where, and serde's reason.
#[derive(Debug, thiserror::Error)]
#[error("line {line} column {column}: {source}")]
pub struct RulesError {
    pub line: usize,
    pub column: usize,
    #[source]
    pub source: serde_json::Error,
}

fn glob_match(pattern: &[u8], text: &[u8]) -> bool {
    // Iterative wildcard matching with backtracking to the last `*`.
    let (mut p, mut t) = (0, 0);
    let (mut star, mut mark) = (None, 0);
    while t < text.len() {
        if p < pattern.len() && (pattern[p] == b'?' || pattern[p] == text[t]) {
            p += 1;
            t += 1;
        } else if p < pattern.len() && pattern[p] == b'*' {
            star = Some(p);
            mark = t;
            p += 1;
        } else if let Some(s) = star {
            p = s + 1;
            mark += 1;
            t = mark;
        } else {
            return false;
        }
    }
    while p < pattern.len() && pattern[p] == b'*' {
        p += 1;
    }
    p == pattern.len()
}

/// A Bulk job fault for the handler that creates the job (set by a `job_failed` /
/// `job_aborted` fault on the create request).
#[derive(Clone, Debug)]
pub enum JobFault {
    Failed(String),
    Aborted,
}

#[cfg(test)]
mod tests {
    use super::*;

    fn rule(json: &str) -> FaultRule {
        serde_json::from_str(json).unwrap()
    }

    #[test]
    fn glob_matches_across_slashes() {
        assert!(glob_match(
            b"/services/data/*/query*",
            b"/services/data/v62.0/query/"
        ));
        assert!(glob_match(
            b"*/results",
            b"/services/data/v62.0/jobs/query/750/results"
        ));
        assert!(!glob_match(
            b"/services/data/*/query",
            b"/services/data/v62.0/queryAll"
        ));
    }

    #[test]
    fn schedules_fire_as_named() {
        let mut table = FaultTable::default();
        table.add(rule(
            r#"{"path":"/a","type":"status","status":503,"when":"every_nth","n":2}"#,
        ));
        table.add(rule(
            r#"{"method":"GET","path":"/b","type":"expire_tokens","when":"once"}"#,
        ));
        table.add(rule(
            r#"{"path":"/c","type":"delay","millis":1,"when":"after_n","n":1}"#,
        ));
        let fired: Vec<usize> = (0..4).map(|_| table.fire("GET", "/a").len()).collect();
        assert_eq!(fired, [0, 1, 0, 1]);
        assert_eq!(table.fire("POST", "/b").len(), 0);
        assert_eq!(table.fire("GET", "/b"), vec![FaultKind::ExpireTokens]);
        assert!(table.fire("GET", "/b").is_empty());
        assert!(table.fire("GET", "/c").is_empty());
        assert_eq!(
            table.fire("GET", "/c"),
            vec![FaultKind::Delay {
                millis: 1,
                after_handler: false
            }]
        );
    }

    #[test]
    fn a_rule_with_a_query_matches_only_requests_whose_query_holds_it() {
        let mut table = FaultTable::default();
        table.add(rule(
            r#"{"path":"*/results","query":"locator=MA","type":"delay","millis":1,"when":"always"}"#,
        ));
        assert!(table
            .fire_request("GET", "/j/results", "locator=Nw")
            .is_empty());
        assert!(table.fire("GET", "/j/results").is_empty());
        assert_eq!(
            table.fire_request("GET", "/j/results", "locator=MA").len(),
            1
        );
    }

    #[test]
    fn rules_file_errors_name_the_line() {
        let err = parse_rules("[\n{\"path\": 3}]").unwrap_err().to_string();
        assert!(err.starts_with("line 2"), "{err}");
    }
}
