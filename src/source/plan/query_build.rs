//! The text and layouts of one stream query: Bulk (one statement, compound fields through
//! their components) or REST (split into field chunks joined on Id when the URI would be too
//! long).

use crate::salesforce::SalesforceClient;

use crate::source::context::{Reason, StreamFailure};
use crate::source::decode::convert::{Api, LayoutField, RecordLayout};
use crate::source::plan::soql::{field_list_budget, split_fields_for_uri, Select};

/// One query of a stream, before its field list is known.
#[derive(Clone, Debug)]
pub(crate) struct QuerySpec {
    /// The rows it selects (object, cursor window, Id bounds, order, Ids); `fields` stays empty
    /// until the layout decides them.
    pub select: Select,
    pub cursor: Option<String>,
    pub has_id: bool,
}

/// One field chunk of a query: its SOQL (ordered by Id when there are several chunks) and the
/// layout of its fields. The first chunk carries the output's Id and cursor.
pub(crate) struct FieldChunk {
    pub soql: String,
    pub layout: RecordLayout,
}

pub(crate) fn soql(
    spec: &QuerySpec,
    fields: &[String],
    order_by: Vec<String>,
) -> Result<String, StreamFailure> {
    let select = Select {
        fields: fields.to_vec(),
        order_by,
        ..spec.select.clone()
    };
    select
        .to_soql()
        .map_err(|e| StreamFailure::Config(Reason::of(e)))
}

pub(crate) fn layout(
    fields: &[LayoutField],
    api: Api,
    spec: &QuerySpec,
    with_cursor: bool,
) -> Result<RecordLayout, StreamFailure> {
    RecordLayout::new(
        fields,
        api,
        spec.has_id.then_some("Id"),
        if with_cursor {
            spec.cursor.as_deref()
        } else {
            None
        },
    )
    .map_err(|e| {
        StreamFailure::Config(Reason::in_context(
            format!("stream {}", spec.select.object),
            e,
        ))
    })
}

/// The Bulk query text and the layout that converts its rows.
pub(crate) fn bulk_query(
    fields: &[LayoutField],
    spec: &QuerySpec,
) -> Result<(String, RecordLayout), StreamFailure> {
    let layout = layout(fields, Api::Bulk, spec, true)?;
    let text = soql(spec, layout.select_fields(), spec.select.order_by.clone())?;
    Ok((text, layout))
}

/// The REST field chunks of a query, and whether rows still arrive in the spec's order (a query
/// split into chunks is ordered by Id to join them).
pub(crate) fn rest_chunks(
    client: &SalesforceClient,
    max_uri_bytes: usize,
    fields: &[LayoutField],
    spec: &QuerySpec,
) -> Result<(Vec<FieldChunk>, bool), StreamFailure> {
    let base = client.instance_url().as_str().trim_end_matches('/').len()
        + format!("/services/data/v{}/queryAll/?q=", client.api_version()).len();
    let budget = field_list_budget(base, max_uri_bytes);
    // Keys first, so the first chunk carries the Id and the cursor.
    let mut ordered: Vec<&LayoutField> = Vec::with_capacity(fields.len());
    ordered.extend(fields.iter().filter(|f| f.name == "Id"));
    ordered.extend(
        fields
            .iter()
            .filter(|f| Some(f.name.as_str()) == spec.cursor.as_deref()),
    );
    ordered.extend(
        fields
            .iter()
            .filter(|f| f.name != "Id" && Some(f.name.as_str()) != spec.cursor.as_deref()),
    );
    let names: Vec<String> = ordered.iter().map(|f| f.name.clone()).collect();
    let split = split_fields_for_uri(&spec.select.object, "Id", &names, budget)
        .map_err(|e| StreamFailure::Config(Reason::of(e)))?;
    if split.len() == 1 {
        let layout = layout(fields, Api::Rest, spec, true)?;
        let text = soql(spec, layout.select_fields(), spec.select.order_by.clone())?;
        return Ok((vec![FieldChunk { soql: text, layout }], true));
    }
    if !spec.has_id {
        return Err(StreamFailure::Config(format!(
            "object {}: its fields do not fit in one REST query and it has no Id to join field chunks on",
            spec.select.object
        ).into()));
    }
    tracing::info!(
        "{}: {} fields are too many for one REST query URI; reading them in {} chunks joined on Id",
        spec.select.object,
        fields.len(),
        split.len()
    );
    let mut chunks = Vec::with_capacity(split.len());
    for (i, names) in split.iter().enumerate() {
        let chunk_fields: Vec<LayoutField> = ordered
            .iter()
            .filter(|f| names.contains(&f.name) && (i == 0 || f.name != "Id"))
            .map(|f| (*f).clone())
            .collect();
        let layout = layout(&chunk_fields, Api::Rest, spec, i == 0)?;
        let text = soql(spec, layout.select_fields(), vec!["Id".to_string()])?;
        chunks.push(FieldChunk { soql: text, layout });
    }
    let still_ordered = spec.select.order_by.first().map(String::as_str) == Some("Id");
    Ok((chunks, still_ordered))
}
