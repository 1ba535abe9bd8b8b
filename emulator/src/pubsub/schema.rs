//! The Avro schema of an object's change events, as the Pub/Sub API's `GetSchema` answers it:
//! a record `<Object>ChangeEvent` in namespace `com.sforce.eventbus` whose first field is the
//! `ChangeEventHeader`, then every field of the object a change event carries, each nullable.
//!
//! Left out, as Salesforce leaves them out: `Id` (the ids travel in the header's `recordIds`),
//! `IsDeleted`, `SystemModstamp`, formula and other derived fields, and binary (base64) fields.
//! The components of a compound field (`BillingStreet`, `BillingCity`…) are nested in one record
//! (`BillingAddress`) at the place of the first component, as the bitmaps' `pos-0x…` elements
//! address them.

use apache_avro::Schema;
use base64::Engine;
use serde_json::{json, Value as Json};
use sha2::{Digest, Sha256};

use crate::schema::{FieldType, SObject};

/// Standard objects of the catalog that have a change event in Salesforce (every custom object
/// has one too).
const STANDARD_CHANGE_EVENT_OBJECTS: &[&str] = &[
    "Account",
    "Campaign",
    "Case",
    "Contact",
    "Event",
    "Lead",
    "Opportunity",
    "Task",
    "User",
];

/// Fields Salesforce derives rather than stores; change events never carry them.
const DERIVED_FIELDS: &[&str] = &[
    "Id",
    "IsDeleted",
    "SystemModstamp",
    "LastActivityDate",
    "LastViewedDate",
    "LastReferencedDate",
    "PhotoUrl",
];

/// The change types of `ChangeEventHeader.changeType`, in the enum's symbol order.
pub(crate) const CHANGE_TYPES: &[&str] = &[
    "CREATE",
    "UPDATE",
    "DELETE",
    "UNDELETE",
    "GAP_CREATE",
    "GAP_UPDATE",
    "GAP_DELETE",
    "GAP_UNDELETE",
    "GAP_OVERFLOW",
    "SNAPSHOT",
];

/// True when Salesforce offers change events for the object.
pub(crate) fn has_change_event(sobject: &SObject) -> bool {
    sobject.custom || STANDARD_CHANGE_EVENT_OBJECTS.contains(&sobject.name.as_str())
}

/// Checks that every name in `names` is an object of `objects` that has change events, naming
/// the first one that is not.
pub(crate) fn check_cdc_objects<'a>(
    objects: impl IntoIterator<Item = &'a SObject>,
    names: &[String],
) -> Result<(), String> {
    let objects: Vec<&SObject> = objects.into_iter().collect();
    for name in names {
        match objects.iter().find(|o| o.name.eq_ignore_ascii_case(name)) {
            None => return Err(format!("{name}: no such object in the org")),
            Some(o) if !has_change_event(o) => {
                return Err(format!(
                    "{name}: Salesforce offers no change events for this object"
                ))
            }
            Some(_) => {}
        }
    }
    Ok(())
}

/// `AccountChangeEvent`, `Store__ChangeEvent` (for `Store__c`).
pub(crate) fn event_name(object: &str) -> String {
    match object.strip_suffix("__c") {
        Some(base) => format!("{base}__ChangeEvent"),
        None => format!("{object}ChangeEvent"),
    }
}

/// `/data/AccountChangeEvent`.
pub(crate) fn topic_name(object: &str) -> String {
    format!("/data/{}", event_name(object))
}

/// How a value is written: the non-null branch of the field's union.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum AvroKind {
    String,
    Boolean,
    Int,
    Long,
    Double,
    /// Epoch milliseconds.
    DateTime,
    /// Days since the epoch (unconfirmed: Salesforce documents date fields as "Epoch time").
    Date,
    /// Milliseconds after midnight.
    Time,
}

impl AvroKind {
    fn of(field_type: FieldType) -> Option<AvroKind> {
        Some(match field_type {
            FieldType::Boolean => AvroKind::Boolean,
            FieldType::Int => AvroKind::Int,
            FieldType::Long => AvroKind::Long,
            FieldType::Double | FieldType::Currency | FieldType::Percent => AvroKind::Double,
            FieldType::DateTime => AvroKind::DateTime,
            FieldType::Date => AvroKind::Date,
            FieldType::Time => AvroKind::Time,
            FieldType::Base64 | FieldType::Address | FieldType::Location => return None,
            _ => AvroKind::String,
        })
    }

    fn avro_type(self) -> &'static str {
        match self {
            AvroKind::String => "string",
            AvroKind::Boolean => "boolean",
            AvroKind::Int | AvroKind::Date | AvroKind::Time => "int",
            AvroKind::Long | AvroKind::DateTime => "long",
            AvroKind::Double => "double",
        }
    }
}

/// One field of the nested record of a compound field.
#[derive(Clone, Debug)]
pub(crate) struct Part {
    pub(crate) name: String,
    /// Index of the component in the object's fields.
    pub(crate) source: usize,
    pub(crate) kind: AvroKind,
}

/// A top-level field of the event after the header (schema position = index + 1).
#[derive(Clone, Debug)]
pub(crate) enum EventField {
    Scalar {
        name: String,
        source: usize,
        kind: AvroKind,
        /// A text area (Description, Long Text Area…): an update of 1,000 characters or more
        /// may travel as a unified diff (see [`super::diff`]).
        long_text: bool,
    },
    Compound {
        name: String,
        parts: Vec<Part>,
    },
}

impl EventField {
    pub(crate) fn name(&self) -> &str {
        match self {
            EventField::Scalar { name, .. } | EventField::Compound { name, .. } => name,
        }
    }
}

/// An object's change event schema: its JSON, parsed form, id and field layout.
#[derive(Debug)]
pub(crate) struct ChangeSchema {
    pub(crate) object: String,
    pub(crate) topic: String,
    pub(crate) schema_id: String,
    pub(crate) json: String,
    pub(crate) avro: Schema,
    pub(crate) fields: Vec<EventField>,
}

/// The name of a component inside its compound's record: `BillingStreet` in `BillingAddress`
/// is `Street`; `Loc__Latitude__s` in `Loc__c` is `Latitude`.
fn part_name(compound: &str, component: &str) -> String {
    if let Some(base) = compound.strip_suffix("__c") {
        let rest = component
            .strip_prefix(base)
            .and_then(|r| r.strip_prefix("__"))
            .unwrap_or(component);
        return rest.strip_suffix("__s").unwrap_or(rest).to_string();
    }
    let prefix = compound.strip_suffix("Address").unwrap_or(compound);
    component
        .strip_prefix(prefix)
        .filter(|r| !r.is_empty())
        .unwrap_or(component)
        .to_string()
}

fn nullable(name: &str, avro_type: Json, doc: String) -> Json {
    json!({"name": name, "type": ["null", avro_type], "doc": doc, "default": null})
}

fn header_json() -> Json {
    let strings = json!({"type": "array", "items": "string"});
    json!({
        "name": "ChangeEventHeader",
        "type": {
            "type": "record",
            "name": "ChangeEventHeader",
            "namespace": "com.sforce.eventbus",
            "fields": [
                {"name": "entityName", "type": "string"},
                {"name": "recordIds", "type": strings},
                {"name": "changeType", "type": {
                    "type": "enum",
                    "name": "ChangeType",
                    "namespace": "com.sforce.eventbus",
                    "symbols": CHANGE_TYPES,
                }},
                {"name": "changeOrigin", "type": "string"},
                {"name": "transactionKey", "type": "string"},
                {"name": "sequenceNumber", "type": "int"},
                {"name": "commitTimestamp", "type": "long"},
                {"name": "commitNumber", "type": "long"},
                {"name": "commitUser", "type": "string"},
                {"name": "nulledFields", "type": strings},
                {"name": "diffFields", "type": strings},
                {"name": "changedFields", "type": strings},
            ],
        },
        "doc": "Data:EventHeader",
    })
}

impl ChangeSchema {
    /// The change event schema of `sobject`.
    pub(crate) fn of(sobject: &SObject) -> ChangeSchema {
        let mut fields: Vec<EventField> = Vec::new();
        for (index, field) in sobject.fields.iter().enumerate() {
            if DERIVED_FIELDS.contains(&field.name.as_str()) || field.calculated {
                continue;
            }
            if let Some(compound) = &field.compound_field_name {
                let Some(kind) = AvroKind::of(field.field_type) else {
                    continue;
                };
                let part = Part {
                    name: part_name(compound, &field.name),
                    source: index,
                    kind,
                };
                let existing = fields
                    .iter_mut()
                    .find(|f| matches!(f, EventField::Compound { name, .. } if name == compound));
                match existing {
                    Some(EventField::Compound { parts, .. }) => parts.push(part),
                    _ => fields.push(EventField::Compound {
                        name: compound.clone(),
                        parts: vec![part],
                    }),
                }
                continue;
            }
            if field.field_type.is_compound() {
                // Its components placed it already (a compound without components is empty).
                continue;
            }
            if let Some(kind) = AvroKind::of(field.field_type) {
                fields.push(EventField::Scalar {
                    name: field.name.clone(),
                    source: index,
                    kind,
                    long_text: field.field_type == FieldType::Textarea,
                });
            }
        }
        let mut json_fields = vec![header_json()];
        let mut defined_records: Vec<String> = Vec::new();
        for field in &fields {
            match field {
                EventField::Scalar {
                    name, source, kind, ..
                } => {
                    let f = &sobject.fields[*source];
                    let doc = format!("Data:{}", f.field_type.soap_type());
                    json_fields.push(nullable(name, json!(kind.avro_type()), doc));
                }
                EventField::Compound { name, parts } => {
                    // Compounds of one shape share one named record type, defined once.
                    let shape: Vec<&str> = parts.iter().map(|p| p.name.as_str()).collect();
                    let record = if shape.contains(&"Street") {
                        "Address".to_string()
                    } else {
                        format!("{}Compound", shape.join(""))
                    };
                    let avro_type = if defined_records.contains(&record) {
                        json!(format!("com.sforce.eventbus.{record}"))
                    } else {
                        defined_records.push(record.clone());
                        let inner: Vec<Json> = parts
                            .iter()
                            .map(|p| {
                                let doc = format!(
                                    "Data:{}",
                                    sobject.fields[p.source].field_type.soap_type()
                                );
                                nullable(&p.name, json!(p.kind.avro_type()), doc)
                            })
                            .collect();
                        json!({
                            "type": "record",
                            "name": record,
                            "namespace": "com.sforce.eventbus",
                            "fields": inner,
                        })
                    };
                    json_fields.push(nullable(name, avro_type, "Data:Compound".to_string()));
                }
            }
        }
        let event = event_name(&sobject.name);
        let schema = json!({
            "type": "record",
            "name": event,
            "namespace": "com.sforce.eventbus",
            "fields": json_fields,
        });
        let json = schema.to_string();
        let avro = Schema::parse_str(&json).expect("change event schemas are valid Avro");
        ChangeSchema {
            object: sobject.name.clone(),
            topic: topic_name(&sobject.name),
            schema_id: schema_id(&json),
            json,
            avro,
            fields,
        }
    }
}

/// A schema's id: 22 URL-safe base64 characters of its SHA-256, so it changes whenever the
/// schema does (Salesforce calls it a hash of the schema; its algorithm is not documented).
fn schema_id(json: &str) -> String {
    let digest = Sha256::digest(json.as_bytes());
    base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(&digest[..16])
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::catalog;

    fn account() -> SObject {
        catalog::objects()
            .into_iter()
            .find(|d| d.sobject.name == "Account")
            .unwrap()
            .sobject
    }

    #[test]
    fn header_first_then_fields_without_id_system_or_formula_fields() {
        let schema = ChangeSchema::of(&account());
        let names: Vec<&str> = schema.fields.iter().map(EventField::name).collect();
        assert!(!names.contains(&"Id"));
        assert!(!names.contains(&"IsDeleted"));
        assert!(!names.contains(&"SystemModstamp"));
        assert!(!names.contains(&"BillingCity"));
        assert!(names.contains(&"BillingAddress"));
        assert!(names.contains(&"LastModifiedDate"));
        let parsed: Json = serde_json::from_str(&schema.json).unwrap();
        assert_eq!(parsed["name"], "AccountChangeEvent");
        assert_eq!(parsed["fields"][0]["name"], "ChangeEventHeader");
        assert_eq!(schema.schema_id.len(), 22);
        assert_eq!(schema.topic, "/data/AccountChangeEvent");
    }

    #[test]
    fn component_names_inside_their_compound() {
        assert_eq!(part_name("BillingAddress", "BillingStreet"), "Street");
        assert_eq!(part_name("Address", "Street"), "Street");
        assert_eq!(part_name("Loc__c", "Loc__Latitude__s"), "Latitude");
        assert_eq!(topic_name("Store__c"), "/data/Store__ChangeEvent");
    }
}
