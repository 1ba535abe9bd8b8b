//! The cursors of answered REST queries (`01g…`), whose rows `routes.rs` pages.

use std::collections::BTreeMap;
use std::sync::Arc;

use chrono::{DateTime, Utc};

/// An answered query whose rows are being paged.
pub(crate) struct Cursor {
    pub(crate) object: usize,
    pub(crate) fields: Vec<usize>,
    pub(crate) indexes: Arc<Vec<u64>>,
    pub(crate) batch_size: usize,
    pub(crate) last_used: DateTime<Utc>,
    pub(crate) opened: u64,
}

/// The open cursors, by id, and how many were ever opened.
#[derive(Default)]
pub struct Cursors {
    pub(crate) open: BTreeMap<String, Cursor>,
    pub(crate) opened: u64,
}
