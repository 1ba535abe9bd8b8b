//! Salesforce's Pub/Sub API (gRPC, `eventbus.v1.PubSub`) on a port of its own, and the Change
//! Data Capture events it delivers: every record change the org commits, by any API, publishes
//! on `/data/<Object>ChangeEvent` and `/data/ChangeEvents` for the objects enabled for CDC.
//!
//! - [`proto`]: the messages and service of `proto/pubsub_api.proto` (the wire contract).
//! - [`schema`]: an object's change event Avro schema; [`encode`]: an event's Avro datum.
//! - [`diff`]: the unified diffs of long text fields in UPDATE events (`diffFields`).
//! - [`bus`]: the retained events, replay ids, transactions, merging, gaps and overflow.
//! - [`service`]: the RPCs (auth, GetTopic, GetSchema, Subscribe); [`server`]: serving them.
//! - [`admin`]: `/__emulator/pubsub/…` (published events, CDC-enabled objects).

pub(crate) mod admin;
pub(crate) mod bus;
pub(crate) mod diff;
pub(crate) mod encode;
pub(crate) mod schema;
pub(crate) mod server;
pub(crate) mod service;

/// Code generated from `proto/pubsub_api.proto` by tonic-prost-build (see `build.rs`).
#[allow(
    clippy::all,
    clippy::pedantic,
    missing_docs,
    unused_qualifications,
    unreachable_pub
)]
pub mod proto {
    // The Pub/Sub API's messages, server and client (proto/generate made them).
    include!(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../proto/generated/server/eventbus.v1.rs"
    ));
}

pub(crate) use bus::{ChangeKind, EventBus, RecordChange};
