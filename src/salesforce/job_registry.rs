//! The Bulk jobs this client created: what lets a lost create be found in Salesforce's job list,
//! and what is swept at the end of a run so no job is left open.
//!
//! Creates go one at a time ([`JobRegistry::create_lock`]): while one create's answer is
//! unknown, every other job this client made is known, so a job in the org's list that matches
//! the create (object, operation, our user, created since our last known create) and is not
//! known is the one the lost create made. A create whose future is dropped before its answer
//! arrived (a task stopped on another failure) is remembered as an orphan and looked up the same
//! way by the sweep.

use std::collections::BTreeMap;
use std::sync::Mutex;

use chrono::{DateTime, Utc};
use serde_json::Value;

use super::job::JobState;

/// Which Bulk API 2.0 resource a job lives under.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum JobKind {
    Query,
    Ingest,
}

impl JobKind {
    /// `jobs/query` or `jobs/ingest`.
    pub(crate) fn resource(self) -> &'static str {
        match self {
            JobKind::Query => "jobs/query",
            JobKind::Ingest => "jobs/ingest",
        }
    }

    /// Salesforce's `jobType` of the jobs this client creates.
    pub(crate) fn job_type(self) -> &'static str {
        match self {
            JobKind::Query => "V2Query",
            JobKind::Ingest => "V2Ingest",
        }
    }

    pub(crate) fn noun(self) -> &'static str {
        match self {
            JobKind::Query => "query job",
            JobKind::Ingest => "ingest job",
        }
    }
}

/// What a create asked for: how its job is recognised in the org's job list.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) struct CreateKey {
    pub(crate) kind: JobKind,
    /// The sObject (`None` when it could not be read from the query).
    pub(crate) object: Option<String>,
    /// `insert`, `queryAll`...
    pub(crate) operation: String,
}

#[derive(Debug)]
struct Entry {
    kind: JobKind,
    state: JobState,
    deleted: bool,
}

#[derive(Debug, Default)]
struct Jobs {
    jobs: BTreeMap<String, Entry>,
    orphans: Vec<CreateKey>,
    /// Set by the sweep: no job may be created after it.
    closed: bool,
    /// `createdDate` of the newest job created (lower bound for a lost create's job).
    latest_created: Option<DateTime<Utc>>,
}

/// The jobs of one client (shared by all its clones).
#[derive(Debug, Default)]
pub(crate) struct JobRegistry {
    jobs: Mutex<Jobs>,
    /// Held across a create, its recovery and its registration.
    pub(crate) create_lock: tokio::sync::Mutex<()>,
}

/// A job the sweep must look at.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Unfinished {
    pub(crate) id: String,
    pub(crate) kind: JobKind,
    /// Last state seen; `Open`…`InProgress` need an abort, and query jobs a delete.
    pub(crate) state: JobState,
}

impl JobRegistry {
    fn lock(&self) -> std::sync::MutexGuard<'_, Jobs> {
        self.jobs.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// A job this client created (or adopted after a lost create).
    pub(crate) fn created(&self, kind: JobKind, id: &str, state: JobState, info: &Value) {
        let mut jobs = self.lock();
        if let Some(created) = info
            .get("createdDate")
            .and_then(Value::as_str)
            .and_then(parse_created_date)
        {
            jobs.latest_created = jobs.latest_created.max(Some(created));
        }
        jobs.jobs.insert(
            id.to_string(),
            Entry {
                kind,
                state,
                deleted: false,
            },
        );
    }

    /// The latest state read of a job.
    pub(crate) fn observed(&self, id: &str, state: &JobState) {
        if let Some(entry) = self.lock().jobs.get_mut(id) {
            entry.state = state.clone();
        }
    }

    pub(crate) fn deleted(&self, id: &str) {
        if let Some(entry) = self.lock().jobs.get_mut(id) {
            entry.deleted = true;
        }
    }

    pub(crate) fn is_known(&self, id: &str) -> bool {
        self.lock().jobs.contains_key(id)
    }

    pub(crate) fn latest_created(&self) -> Option<DateTime<Utc>> {
        self.lock().latest_created
    }

    pub(crate) fn is_closed(&self) -> bool {
        self.lock().closed
    }

    /// Starts the sweep: refuses later creates; returns the orphaned creates and every job
    /// not known to be finished (terminal ingest jobs and deleted query jobs are left alone).
    pub(crate) fn close(&self) -> (Vec<CreateKey>, Vec<Unfinished>) {
        let mut jobs = self.lock();
        jobs.closed = true;
        let orphans = std::mem::take(&mut jobs.orphans);
        let unfinished = jobs
            .jobs
            .iter()
            .filter(|(_, e)| match e.kind {
                JobKind::Ingest => !e.state.is_terminal(),
                JobKind::Query => !e.deleted,
            })
            .map(|(id, e)| Unfinished {
                id: id.clone(),
                kind: e.kind,
                state: e.state.clone(),
            })
            .collect();
        (orphans, unfinished)
    }

    /// Marks a create as under way; unless [`PendingCreate::done`] is called, dropping the
    /// guard records the create as an orphan.
    pub(crate) fn pending(&self, key: CreateKey) -> PendingCreate<'_> {
        PendingCreate {
            registry: self,
            key: Some(key),
        }
    }
}

/// A create whose answer has not arrived yet.
pub(crate) struct PendingCreate<'a> {
    registry: &'a JobRegistry,
    key: Option<CreateKey>,
}

impl PendingCreate<'_> {
    /// The create is settled: its job is registered, or it failed without creating one.
    pub(crate) fn done(mut self) {
        self.key = None;
    }
}

impl Drop for PendingCreate<'_> {
    fn drop(&mut self) {
        if let Some(key) = self.key.take() {
            self.registry.lock().orphans.push(key);
        }
    }
}

/// `2026-01-01T00:00:00.000+0000` (Salesforce's job dates).
pub(crate) fn parse_created_date(text: &str) -> Option<DateTime<Utc>> {
    DateTime::parse_from_str(text, "%Y-%m-%dT%H:%M:%S%.f%z")
        .ok()
        .map(|d| d.with_timezone(&Utc))
}

/// The object a SOQL query reads: the word after its first `FROM` outside parentheses.
pub(crate) fn query_object(soql: &str) -> Option<String> {
    let mut depth = 0i32;
    let mut words = Vec::new();
    let mut word = String::new();
    for c in soql.chars() {
        match c {
            '(' | ')' => {
                if depth == 0 && !word.is_empty() {
                    words.push(std::mem::take(&mut word));
                }
                word.clear();
                depth += if c == '(' { 1 } else { -1 };
            }
            c if c.is_whitespace() || c == ',' => {
                if depth == 0 && !word.is_empty() {
                    words.push(std::mem::take(&mut word));
                }
                word.clear();
            }
            c if depth == 0 => word.push(c),
            _ => {}
        }
    }
    if !word.is_empty() {
        words.push(word);
    }
    let from = words.iter().position(|w| w.eq_ignore_ascii_case("FROM"))?;
    words.get(from + 1).cloned()
}

/// Salesforce ids compare on their case-sensitive 15-character form.
pub(crate) fn same_id(a: &str, b: &str) -> bool {
    let cut = |s: &str| s.get(..15).unwrap_or(s).to_string();
    cut(a) == cut(b)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_object_is_read_from_the_main_from() {
        assert_eq!(
            query_object("SELECT Id, (SELECT Id FROM Contacts) FROM Account WHERE Id IN (SELECT AccountId FROM Case)"),
            Some("Account".into())
        );
        assert_eq!(
            query_object("select count() from Lead where x = 1"),
            Some("Lead".into())
        );
        assert_eq!(query_object("SELECT Id"), None);
    }

    #[test]
    fn created_dates_parse_with_their_offset() {
        let d = parse_created_date("2026-01-01T10:00:00.000+0100").unwrap();
        assert_eq!(d.to_rfc3339(), "2026-01-01T09:00:00+00:00");
    }

    #[test]
    fn dropped_creates_become_orphans_and_close_lists_unfinished_jobs() {
        let registry = JobRegistry::default();
        let key = CreateKey {
            kind: JobKind::Query,
            object: Some("Account".into()),
            operation: "queryAll".into(),
        };
        drop(registry.pending(key.clone()));
        registry.pending(key.clone()).done();
        registry.created(JobKind::Ingest, "750A", JobState::Open, &Value::Null);
        registry.created(JobKind::Ingest, "750B", JobState::Open, &Value::Null);
        registry.observed("750B", &JobState::JobComplete);
        registry.created(
            JobKind::Query,
            "750C",
            JobState::UploadComplete,
            &Value::Null,
        );
        registry.created(
            JobKind::Query,
            "750D",
            JobState::UploadComplete,
            &Value::Null,
        );
        registry.deleted("750D");
        let (orphans, unfinished) = registry.close();
        assert_eq!(orphans, vec![key]);
        let ids: Vec<&str> = unfinished.iter().map(|u| u.id.as_str()).collect();
        assert_eq!(ids, ["750A", "750C"]);
        assert!(registry.is_closed());
    }
}
