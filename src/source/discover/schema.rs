//! describe → what a stream offers: its JSON schema, cursor, and the fields a read selects.
//!
//! Every property is nullable (Salesforce nulls any field a user cannot see, and formulas may be
//! null). Types follow Airbyte's source so migrated catalogs validate: `int` → integer; `double`,
//! `currency`, `percent`, `long` → number; `date` and `datetime` → strings with `format`;
//! `address` and `location` → objects; everything text-like, `time` and `anyType` → string.

use serde_json::{json, Map, Value};

use crate::salesforce::{FieldType, SObjectDescribe};
use crate::source::decode::convert::LayoutField;
use crate::source::decode::field_kind::{FieldKind, ADDRESS_KEYS};

/// Cursor fields in order of preference, as Airbyte's source picks them.
pub(crate) const CURSOR_PRECEDENCE: [&str; 4] = [
    "SystemModstamp",
    "LastModifiedDate",
    "CreatedDate",
    "LoginTime",
];

/// The key of hard-deletion time on records emitted for hard-deleted rows.
pub(crate) const CDC_DELETED_AT: &str = "_ab_cdc_deleted_at";

/// The parts of a describe field entry the source needs.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct DescribedField<'a> {
    pub name: &'a str,
    /// describe `type`.
    pub field_type: &'a FieldType,
    /// describe `compoundFieldName`: the compound this field is a component of.
    pub compound_field_name: Option<&'a str>,
}

/// The describe's fields, as the source reads them.
pub(crate) fn described_fields(describe: &SObjectDescribe) -> Vec<DescribedField<'_>> {
    describe
        .fields
        .iter()
        .map(|f| DescribedField {
            name: &f.name,
            field_type: &f.field_type,
            compound_field_name: f.compound_field_name.as_deref(),
        })
        .collect()
}

/// The field's kind; unknown describe types read as text.
pub(crate) fn field_kind(field: &DescribedField<'_>) -> FieldKind {
    FieldKind::of(field.field_type).unwrap_or(FieldKind::Text)
}

/// The JSON schema of one property.
pub(crate) fn property_schema(kind: FieldKind) -> Value {
    match kind {
        FieldKind::Text | FieldKind::Time => json!({"type": ["null", "string"]}),
        FieldKind::Boolean => json!({"type": ["null", "boolean"]}),
        FieldKind::Integer => json!({"type": ["null", "integer"]}),
        FieldKind::Number => json!({"type": ["null", "number"]}),
        FieldKind::Date => json!({"type": ["null", "string"], "format": "date"}),
        FieldKind::DateTime => json!({"type": ["null", "string"], "format": "date-time"}),
        FieldKind::Base64 => json!({"type": ["null", "string"], "format": "base64"}),
        FieldKind::Address => {
            let mut properties = Map::new();
            for key in ADDRESS_KEYS {
                let t = if matches!(key, "latitude" | "longitude") {
                    "number"
                } else {
                    "string"
                };
                properties.insert(key.to_string(), json!({"type": ["null", t]}));
            }
            json!({"type": ["null", "object"], "properties": properties})
        }
        FieldKind::Location => json!({
            "type": ["null", "object"],
            "properties": {
                "latitude": {"type": ["null", "number"]},
                "longitude": {"type": ["null", "number"]}
            }
        }),
    }
}

/// The stream's JSON schema. `with_cdc_deleted_at` adds `_ab_cdc_deleted_at` (incremental
/// streams with hard-delete detection).
pub(crate) fn stream_schema(fields: &[DescribedField<'_>], with_cdc_deleted_at: bool) -> Value {
    let mut properties = Map::new();
    for field in fields {
        properties.insert(field.name.to_string(), property_schema(field_kind(field)));
    }
    if with_cdc_deleted_at {
        properties.insert(
            CDC_DELETED_AT.to_string(),
            json!({"type": ["null", "string"], "format": "date-time"}),
        );
    }
    json!({
        "$schema": "http://json-schema.org/draft-07/schema#",
        "type": "object",
        "additionalProperties": true,
        "properties": properties,
    })
}

/// The default cursor: the first of [`CURSOR_PRECEDENCE`] that is a datetime field.
pub(crate) fn default_cursor<'a>(fields: &[DescribedField<'a>]) -> Option<&'a str> {
    CURSOR_PRECEDENCE.iter().find_map(|name| {
        fields
            .iter()
            .find(|f| f.name == *name && field_kind(f) == FieldKind::DateTime)
            .map(|f| f.name)
    })
}

/// The fields a read selects: those of `fields` whose names `keep` accepts (the configured
/// catalog's schema properties), in describe order, compounds with their components.
pub(crate) fn layout_fields(
    fields: &[DescribedField<'_>],
    keep: impl Fn(&str) -> bool,
) -> Vec<LayoutField> {
    fields
        .iter()
        .filter(|f| keep(f.name))
        .map(|f| {
            let kind = field_kind(f);
            let components = if kind.is_compound() {
                fields
                    .iter()
                    .filter(|c| c.compound_field_name == Some(f.name) && c.name != f.name)
                    .map(|c| c.name.to_string())
                    .collect()
            } else {
                Vec::new()
            };
            LayoutField {
                name: f.name.to_string(),
                kind,
                components,
            }
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn field(
        name: &'static str,
        t: &str,
        compound: Option<&'static str>,
    ) -> DescribedField<'static> {
        DescribedField {
            name,
            // A few bytes per test field, for the test's life.
            field_type: Box::leak(Box::new(FieldType::from(t))),
            compound_field_name: compound,
        }
    }

    fn account() -> Vec<DescribedField<'static>> {
        vec![
            field("Id", "id", None),
            field("Name", "string", None),
            field("BillingStreet", "textarea", Some("BillingAddress")),
            field("BillingCity", "string", Some("BillingAddress")),
            field("BillingAddress", "address", None),
            field("AnnualRevenue", "currency", None),
            field("NumberOfEmployees", "int", None),
            field("CreatedDate", "datetime", None),
            field("SystemModstamp", "datetime", None),
            field("SLA__c", "date", None),
            field("Loc__Latitude__s", "double", Some("Loc__c")),
            field("Loc__c", "location", None),
        ]
    }

    #[test]
    fn every_property_is_nullable_with_formats_for_dates() {
        let schema = stream_schema(&account(), false);
        let props = schema["properties"].as_object().unwrap();
        for (name, prop) in props {
            assert!(
                prop["type"].as_array().unwrap().contains(&json!("null")),
                "{name} is not nullable"
            );
        }
        assert_eq!(props["SystemModstamp"]["format"], "date-time");
        assert_eq!(props["SLA__c"]["format"], "date");
        assert_eq!(
            props["NumberOfEmployees"]["type"],
            json!(["null", "integer"])
        );
        assert_eq!(props["AnnualRevenue"]["type"], json!(["null", "number"]));
        assert_eq!(
            props["BillingAddress"]["properties"]["latitude"]["type"],
            json!(["null", "number"])
        );
        assert_eq!(props["Loc__c"]["type"], json!(["null", "object"]));
        assert!(!props.contains_key(CDC_DELETED_AT));
        let with_cdc = stream_schema(&account(), true);
        assert_eq!(
            with_cdc["properties"][CDC_DELETED_AT]["format"],
            "date-time"
        );
    }

    #[test]
    fn cursor_follows_airbytes_precedence() {
        assert_eq!(default_cursor(&account()), Some("SystemModstamp"));
        let history = vec![
            field("Id", "id", None),
            field("CreatedDate", "datetime", None),
        ];
        assert_eq!(default_cursor(&history), Some("CreatedDate"));
        let login = vec![
            field("Id", "id", None),
            field("LoginTime", "datetime", None),
        ];
        assert_eq!(default_cursor(&login), Some("LoginTime"));
        let none = vec![field("Id", "id", None), field("Name", "string", None)];
        assert_eq!(default_cursor(&none), None);
    }

    #[test]
    fn compound_layout_fields_carry_their_components() {
        let fields = layout_fields(&account(), |name| name != "Name");
        let billing = fields.iter().find(|f| f.name == "BillingAddress").unwrap();
        assert_eq!(billing.components, vec!["BillingStreet", "BillingCity"]);
        let loc = fields.iter().find(|f| f.name == "Loc__c").unwrap();
        assert_eq!(loc.components, vec!["Loc__Latitude__s"]);
        assert!(fields.iter().all(|f| f.name != "Name"));
    }
}
