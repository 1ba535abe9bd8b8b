//! `discover`: describeGlobal, then the describe of every candidate object, concurrently
//! (bounded), into one CATALOG.
//!
//! One stream per queryable object: its JSON schema, primary key `Id`, the default cursor, and
//! incremental sync only where a cursor exists and the object can be filtered on it.
//! `is_resumable` is true where a read can continue from a STATE: incremental streams, and full
//! refresh streams read in Id order. The `Describe` stream of Airbyte's source is offered too.

pub(crate) mod describe_stream;
pub(crate) mod object_filter;
pub(crate) mod schema;

use std::collections::BTreeMap;

use futures::StreamExt;
use serde_json::json;

use crate::config::SourceConfig;
use crate::failure::Failure;
use crate::protocol::{AirbyteCatalog, AirbyteStream, Message, Output, SyncMode};
use crate::salesforce::{ClientOptions, ErrorClass, SObjectDescribe};

use crate::salesforce::pubsub::{change_event_topic, CallError, ErrorKind, PubSub};
use crate::source::connect::{connect, emit_rotated_token, failure};
use crate::source::discover::describe_stream::DESCRIBE_STREAM;
use crate::source::discover::object_filter::{exclusion, Exclusion, UNSUPPORTED_FILTERING};
use crate::source::discover::schema::{
    default_cursor, described_fields, stream_schema, CDC_DELETED_AT,
};

/// describe calls in flight at once.
const CONCURRENT_DESCRIBES: usize = 16;

/// Describes the org; writes one CATALOG.
pub(crate) async fn discover(
    config: SourceConfig,
    client: ClientOptions,
    output: Output,
) -> Result<(), Failure> {
    let client = connect(&config, client)
        .await
        .map_err(|e| failure("Cannot log in to Salesforce", &e))?;
    let global = client
        .describe_global()
        .await
        .map_err(|e| failure("describeGlobal", &e))?;
    let mut excluded: BTreeMap<Exclusion, Vec<String>> = BTreeMap::new();
    let mut names = Vec::new();
    for sobject in &global.sobjects {
        let reason = exclusion(
            &sobject.name,
            sobject.queryable,
            config.includes_object(&sobject.name),
        );
        match reason {
            None => names.push(sobject.name.clone()),
            Some(reason) => excluded
                .entry(reason)
                .or_default()
                .push(sobject.name.clone()),
        }
    }
    for (reason, objects) in &excluded {
        if *reason == Exclusion::NotInStreamsCriteria {
            tracing::debug!(
                "{} object(s) left out: {}",
                objects.len(),
                reason.explanation()
            );
            continue;
        }
        tracing::info!(
            "left out {} object(s) because {}: {}",
            objects.len(),
            reason.explanation(),
            objects.join(", ")
        );
    }
    tracing::info!("describing {} object(s)", names.len());
    // Each describe becomes its stream as soon as it arrives, so only the (much smaller)
    // streams are held until the catalog is printed, however many objects the org has.
    let detect_hard_deletes = config.detect_hard_deletes;
    let described: Vec<_> = futures::stream::iter(names)
        .map(|name| {
            let client = client.clone();
            async move {
                let result = client.describe(&name).await.map(|describe| {
                    describe
                        .queryable
                        .then(|| airbyte_stream(&describe, detect_hard_deletes))
                });
                (name, result)
            }
        })
        .buffer_unordered(CONCURRENT_DESCRIBES)
        .collect()
        .await;
    let mut streams = Vec::with_capacity(described.len() + 1);
    for (name, result) in described {
        match result {
            Ok(None) => {
                tracing::info!("left out {name}: its describe says queryable: false");
            }
            Ok(Some(stream)) => streams.push(stream),
            Err(e) if e.class() == ErrorClass::Config => {
                tracing::warn!("left out {name}: its describe failed ({e})");
            }
            Err(e) => return Err(failure(&format!("describe of {name}"), &e)),
        }
    }
    streams.sort_by(|a, b| a.name.cmp(&b.name));
    if let Some(cdc) = &config.change_data_capture {
        mark_change_data_capture(&client, &cdc.endpoint, &mut streams).await;
    }
    streams.push(describe_stream());
    emit_rotated_token(&client, &config, &output);
    output
        .write(&Message::Catalog(AirbyteCatalog { streams }))
        .map_err(|e| Failure::system(e.to_string()))
}

/// With Change Data Capture on: asks the Pub/Sub API which incremental streams' objects publish
/// change events (`GetTopic` of `/data/<Object>ChangeEvent`); their schemas gain
/// `_ab_cdc_deleted_at` (the tombstones of deletes carry it), and the list is logged. A Pub/Sub
/// API that cannot be reached is logged, never fatal: discover is about the REST API.
async fn mark_change_data_capture(
    client: &crate::salesforce::SalesforceClient,
    endpoint: &str,
    streams: &mut [AirbyteStream],
) {
    let pubsub = match PubSub::new(client, endpoint) {
        Ok(pubsub) => pubsub,
        Err(e) => {
            tracing::warn!("Change Data Capture: {e}");
            return;
        }
    };
    let candidates: Vec<String> = streams
        .iter()
        .filter(|s| s.supported_sync_modes.contains(&SyncMode::Incremental))
        .map(|s| s.name.clone())
        .collect();
    let answers: Vec<(String, Result<String, CallError>)> = futures::stream::iter(candidates)
        .map(|name| {
            let pubsub = pubsub.clone();
            async move {
                let topic = change_event_topic(&name);
                (name, pubsub.topic_schema_id(&topic).await)
            }
        })
        .buffer_unordered(CONCURRENT_DESCRIBES)
        .collect()
        .await;
    let mut capable = Vec::new();
    for (name, answer) in answers {
        match answer {
            Ok(_) => capable.push(name),
            Err(CallError::PubSub(e)) if e.kind() == ErrorKind::NotFound => {}
            Err(e) => {
                tracing::warn!(
                    "Change Data Capture: cannot tell whether {name} publishes change events ({e}); a read will ask again"
                );
            }
        }
    }
    capable.sort();
    for stream in streams.iter_mut() {
        if capable.contains(&stream.name) {
            if let Some(properties) = stream.json_schema["properties"].as_object_mut() {
                properties.insert(
                    CDC_DELETED_AT.to_string(),
                    json!({"type": ["null", "string"], "format": "date-time"}),
                );
            }
        }
    }
    tracing::info!(
        "Change Data Capture: {} stream(s) follow change events when read incrementally: {}; the others are read by their cursor",
        capable.len(),
        if capable.is_empty() { "none".to_string() } else { capable.join(", ") }
    );
}

/// The stream of one object.
pub(crate) fn airbyte_stream(
    describe: &SObjectDescribe,
    detect_hard_deletes: bool,
) -> AirbyteStream {
    let fields = described_fields(describe);
    let has_id = fields.iter().any(|f| f.name == "Id");
    let filterable = has_id && !UNSUPPORTED_FILTERING.contains(&describe.name.as_str());
    let cursor = if filterable {
        default_cursor(&fields)
    } else {
        None
    };
    let incremental = cursor.is_some();
    let schema = stream_schema(
        &fields,
        incremental && detect_hard_deletes && describe.replicateable,
    );
    let mut modes = vec![SyncMode::FullRefresh];
    if incremental {
        modes.push(SyncMode::Incremental);
    }
    AirbyteStream {
        name: describe.name.clone(),
        json_schema: schema,
        supported_sync_modes: modes,
        source_defined_cursor: incremental.then_some(true),
        default_cursor_field: cursor.map(|c| vec![c.to_string()]),
        source_defined_primary_key: has_id.then(|| vec![vec!["Id".to_string()]]),
        namespace: None,
        is_resumable: Some(filterable),
        is_file_based: None,
    }
}

/// Airbyte's `Describe` stream: one record per catalog stream, its describe.
pub(crate) fn describe_stream() -> AirbyteStream {
    let string = json!({"type": ["null", "string"]});
    let boolean = json!({"type": ["null", "boolean"]});
    AirbyteStream {
        name: DESCRIBE_STREAM.to_string(),
        json_schema: json!({
            "$schema": "http://json-schema.org/draft-07/schema#",
            "type": "object",
            "additionalProperties": true,
            "properties": {
                "name": {"type": ["string"]},
                "label": string,
                "labelPlural": string,
                "keyPrefix": string,
                "custom": boolean,
                "queryable": boolean,
                "retrieveable": boolean,
                "replicateable": boolean,
                "createable": boolean,
                "updateable": boolean,
                "deletable": boolean,
                "fields": {"type": ["null", "array"], "items": {"type": "object", "additionalProperties": true}},
                "childRelationships": {"type": ["null", "array"]},
                "recordTypeInfos": {"type": ["null", "array"]},
                "urls": {"type": ["null", "object"]}
            }
        }),
        supported_sync_modes: vec![SyncMode::FullRefresh],
        source_defined_cursor: None,
        default_cursor_field: None,
        source_defined_primary_key: Some(vec![vec!["name".to_string()]]),
        namespace: None,
        is_resumable: Some(false),
        is_file_based: None,
    }
}
