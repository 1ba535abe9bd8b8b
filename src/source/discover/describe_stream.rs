//! The `Describe` stream Airbyte's source offers: one record per other catalog stream, the
//! object's describe as Salesforce returns it. Migrated catalogs that select it keep working.

use crate::source::context::{ReadContext, Reason, StreamFailure};
use crate::source::output::emitter::StreamEmitter;
use crate::source::output::state::FullRefreshState;

/// The stream's name.
pub(crate) const DESCRIBE_STREAM: &str = "Describe";

/// The Describe stream: one record per catalog stream, its describe as Salesforce returns it.
pub(crate) async fn read_describe_stream(
    ctx: &ReadContext,
    emitter: &mut StreamEmitter,
) -> Result<(), StreamFailure> {
    for name in &ctx.catalog_streams {
        if name == DESCRIBE_STREAM {
            continue;
        }
        ctx.budget.check_api_call()?;
        let describe = ctx.client.describe(name).await?;
        let data = serde_json::to_vec(&describe).map_err(|e| {
            StreamFailure::Data(Reason::in_context(format!("describe of {name}"), e))
        })?;
        emitter.begin_record().extend_from_slice(&data);
        emitter.emit_record()?;
    }
    emitter.state(FullRefreshState::Complete.to_json())?;
    Ok(())
}
