//! A change event's `ChangeEventHeader`, decoded from the event's Avro payload (a bare datum,
//! no container header) with the writer's schema.
//!
//! Only the header is read: the source re-reads every changed row by Id (UPDATE bodies carry only
//! the changed fields, and no body carries `SystemModstamp`, `IsDeleted` or formula fields).

use apache_avro::types::Value as Avro;
use apache_avro::Schema;

/// What a change was, from `changeType`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum ChangeType {
    Create,
    Update,
    Delete,
    Undelete,
    /// `GAP_CREATE`, `GAP_UPDATE`, `GAP_UNDELETE`: the records changed, re-read them.
    Gap,
    /// `GAP_DELETE`: the records were deleted (or changed and their event was lost).
    GapDelete,
    /// `GAP_OVERFLOW`: more changes than a transaction's events carry; no record ids.
    GapOverflow,
    /// A type this connector does not know (`SNAPSHOT`, anything newer): re-read the records.
    Other,
}

impl ChangeType {
    fn parse(text: &str) -> ChangeType {
        match text {
            "CREATE" => ChangeType::Create,
            "UPDATE" => ChangeType::Update,
            "DELETE" => ChangeType::Delete,
            "UNDELETE" => ChangeType::Undelete,
            "GAP_CREATE" | "GAP_UPDATE" | "GAP_UNDELETE" => ChangeType::Gap,
            "GAP_DELETE" => ChangeType::GapDelete,
            "GAP_OVERFLOW" => ChangeType::GapOverflow,
            _ => ChangeType::Other,
        }
    }
}

/// The parts of `ChangeEventHeader` the source uses.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) struct ChangeHeader {
    pub entity_name: String,
    pub record_ids: Vec<String>,
    pub change_type: ChangeType,
    /// As Salesforce spells it (`UPDATE`, `GAP_OVERFLOW`…).
    pub change_type_name: String,
    /// When the transaction committed, epoch milliseconds.
    pub commit_timestamp: i64,
}

/// Decodes `payload` with `schema` and returns its `ChangeEventHeader`.
pub(crate) fn decode(schema: &Schema, payload: &[u8]) -> Result<ChangeHeader, String> {
    let mut reader = payload;
    let datum = apache_avro::from_avro_datum(schema, &mut reader, None)
        .map_err(|e| format!("payload does not decode with its schema: {e}"))?;
    let Avro::Record(fields) = datum else {
        return Err("payload is not an Avro record".into());
    };
    let header = fields
        .into_iter()
        .find(|(name, _)| name == "ChangeEventHeader")
        .map(|(_, v)| unwrap_union(v))
        .ok_or("payload has no ChangeEventHeader")?;
    let Avro::Record(header) = header else {
        return Err("ChangeEventHeader is not a record".into());
    };
    let mut entity_name = None;
    let mut record_ids = Vec::new();
    let mut change_type_name = None;
    let mut commit_timestamp = None;
    for (name, value) in header {
        match (name.as_str(), unwrap_union(value)) {
            ("entityName", Avro::String(s)) => entity_name = Some(s),
            ("recordIds", Avro::Array(items)) => {
                for item in items {
                    if let Avro::String(id) = unwrap_union(item) {
                        record_ids.push(id);
                    }
                }
            }
            ("changeType", Avro::Enum(_, symbol) | Avro::String(symbol)) => {
                change_type_name = Some(symbol);
            }
            ("commitTimestamp", Avro::Long(ms)) => commit_timestamp = Some(ms),
            ("commitTimestamp", Avro::Int(ms)) => commit_timestamp = Some(i64::from(ms)),
            _ => {}
        }
    }
    let change_type_name = change_type_name.ok_or("ChangeEventHeader has no changeType")?;
    Ok(ChangeHeader {
        entity_name: entity_name.ok_or("ChangeEventHeader has no entityName")?,
        record_ids,
        change_type: ChangeType::parse(&change_type_name),
        change_type_name,
        commit_timestamp: commit_timestamp.ok_or("ChangeEventHeader has no commitTimestamp")?,
    })
}

fn unwrap_union(value: Avro) -> Avro {
    match value {
        Avro::Union(_, inner) => unwrap_union(*inner),
        other => other,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const SCHEMA: &str = r#"{"type":"record","name":"AccountChangeEvent","namespace":"com.sforce.eventbus","fields":[
      {"name":"ChangeEventHeader","type":{"type":"record","name":"ChangeEventHeader","fields":[
        {"name":"entityName","type":"string"},
        {"name":"recordIds","type":{"type":"array","items":"string"}},
        {"name":"changeType","type":{"type":"enum","name":"ChangeType","symbols":["CREATE","UPDATE","DELETE","UNDELETE","GAP_CREATE","GAP_UPDATE","GAP_DELETE","GAP_UNDELETE","GAP_OVERFLOW","SNAPSHOT"]}},
        {"name":"commitTimestamp","type":"long"},
        {"name":"changedFields","type":{"type":"array","items":"string"}}]}},
      {"name":"Name","type":["null","string"],"default":null}]}"#;

    fn payload(change_type: (u32, &str), ids: &[&str]) -> Vec<u8> {
        let schema = Schema::parse_str(SCHEMA).unwrap();
        let header = Avro::Record(vec![
            ("entityName".into(), Avro::String("Account".into())),
            (
                "recordIds".into(),
                Avro::Array(ids.iter().map(|i| Avro::String((*i).into())).collect()),
            ),
            (
                "changeType".into(),
                Avro::Enum(change_type.0, change_type.1.into()),
            ),
            ("commitTimestamp".into(), Avro::Long(1_714_172_795_000)),
            ("changedFields".into(), Avro::Array(vec![])),
        ]);
        let datum = Avro::Record(vec![
            ("ChangeEventHeader".into(), header),
            ("Name".into(), Avro::Union(0, Box::new(Avro::Null))),
        ]);
        apache_avro::to_avro_datum(&schema, datum).unwrap()
    }

    #[test]
    fn headers_decode_with_their_schema() {
        let schema = Schema::parse_str(SCHEMA).unwrap();
        let header = decode(&schema, &payload((1, "UPDATE"), &["001A", "001B"])).unwrap();
        assert_eq!(header.entity_name, "Account");
        assert_eq!(header.record_ids, ["001A", "001B"]);
        assert_eq!(header.change_type, ChangeType::Update);
        assert_eq!(header.commit_timestamp, 1_714_172_795_000);
        let overflow = decode(&schema, &payload((8, "GAP_OVERFLOW"), &[])).unwrap();
        assert_eq!(overflow.change_type, ChangeType::GapOverflow);
        assert!(overflow.record_ids.is_empty());
    }

    #[test]
    fn a_payload_that_does_not_match_is_an_error() {
        let schema = Schema::parse_str(SCHEMA).unwrap();
        let err = decode(&schema, &[0xff, 0xff, 0xff]).unwrap_err();
        assert!(err.contains("does not decode"), "{err}");
    }
}
