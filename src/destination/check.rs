//! `check`: log in, prove API access (describeGlobal), prove the dead-letter queue is writable
//! (a probe object written and deleted), and when `hard_delete_streams` asks for hard deletes,
//! prove the user may run them. Any failure is a FAILED status saying what to fix.
//!
//! Airbyte's `check` gets no catalog, so the hard-delete probe runs when the config lists any
//! stream in `hard_delete_streams`: it creates a `hardDelete` ingest job (on Account, or the
//! first deletable object), which Salesforce refuses at once with `FEATURENOTENABLED` to a user
//! without "Bulk API Hard Delete", then aborts and deletes it. No data is uploaded.

use chrono::Utc;

use crate::config::DestinationConfig;
use crate::protocol::{ConnectionStatus, Status};
use crate::salesforce::{
    ClientOptions, Error, GlobalDescribe, IngestJob, IngestJobRequest, IngestOperation,
    SalesforceClient,
};

use crate::destination::outcome::dlq::{DeadLetterQueue, DlqSettings, RunIdentity};

pub(super) async fn check(config: &DestinationConfig, options: ClientOptions) -> ConnectionStatus {
    match try_check(config, options).await {
        Ok(()) => ConnectionStatus {
            status: Status::Succeeded,
            message: None,
        },
        Err(message) => ConnectionStatus {
            status: Status::Failed,
            message: Some(message),
        },
    }
}

async fn try_check(config: &DestinationConfig, options: ClientOptions) -> Result<(), String> {
    let connection = config
        .connection()
        .map_err(|e| format!("Invalid config: {e}"))?;
    let client = SalesforceClient::connect(&connection, options)
        .await
        .map_err(|e| format!("Could not log in to Salesforce: {e}"))?;
    let global = client.describe_global().await.map_err(|e| {
        format!("Logged in, but the REST API refused describeGlobal (does the user have API access?): {e}")
    })?;
    tracing::info!(
        "check: {} objects visible to this user",
        global.sobjects.len()
    );
    if !config.hard_delete_streams.is_empty() {
        let probed = probe_hard_delete(&client, &global).await;
        // The probe job is aborted even when its create lost its answer.
        client.finish_jobs().await;
        probed?;
    }
    let settings = DlqSettings::from_config(&config.dead_letter, config.ca_certificate())
        .map_err(|e| e.to_string())?;
    let queue = DeadLetterQueue::open(settings, RunIdentity::new(Utc::now(), None))
        .map_err(|e| e.to_string())?;
    queue.probe().await.map_err(|e| {
        format!(
            "The dead-letter queue ({}) is not writable: {e}",
            queue.describe()
        )
    })?;
    Ok(())
}

/// Creates (then aborts and deletes) an empty `hardDelete` job: refused at creation when the
/// user lacks "Bulk API Hard Delete".
async fn probe_hard_delete(
    client: &SalesforceClient,
    global: &GlobalDescribe,
) -> Result<(), String> {
    let object = global
        .sobjects
        .iter()
        .find(|o| o.name == "Account" && o.deletable)
        .or_else(|| global.sobjects.iter().find(|o| o.deletable))
        .map(|o| o.name.clone())
        .ok_or("hard_delete_streams lists streams, but this user can delete no object at all")?;
    let request = IngestJobRequest {
        object: object.clone(),
        operation: IngestOperation::HardDelete,
        external_id_field_name: None,
    };
    let job = client.create_ingest_job(&request).await.map_err(|e| {
        if matches!(&e, Error::Api { code, .. } if code == "FEATURENOTENABLED") {
            format!("hard_delete_streams asks for hard deletes, but this user lacks the \"Bulk API Hard Delete\" permission (a System Administrator can grant it in a permission set or profile): {e}")
        } else {
            format!("hard_delete_streams asks for hard deletes, but Salesforce refused a hardDelete job on {object}: {e}")
        }
    })?;
    if let Err(e) = client.abort_job::<IngestJob>(&job.id).await {
        tracing::warn!(
            "check: could not abort the hard-delete probe job {}: {e}",
            job.id
        );
    } else if let Err(e) = client.delete_job::<IngestJob>(&job.id).await {
        tracing::warn!(
            "check: could not delete the hard-delete probe job {}: {e}",
            job.id
        );
    }
    tracing::info!(
        "check: this user may hard delete (probe job {} on {object})",
        job.id
    );
    Ok(())
}
