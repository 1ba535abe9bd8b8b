//! What Salesforce would reject of a converted row, predicted from describe alone (for
//! `dry_run`): text longer than the field's `length` (`STRING_TOO_LONG`), a value outside a
//! restricted picklist (`INVALID_OR_NULL_FOR_RESTRICTED_PICKLIST`), and on insert a required
//! field left unset (`REQUIRED_FIELD_MISSING`). The codes are Salesforce's, so a dry run's
//! dead-letter queue reads like the real write's. Validation rules, triggers, duplicate rules,
//! sharing and whether a parent named by its external id exists cannot be known from describe
//! (the last is read from the org by `unchanged`, with the ids of updates and deletes).

use std::borrow::Cow;

use crate::destination::batch::cell::NULL_MARKER;
use crate::destination::route::mapping::StreamTarget;
use crate::destination::route::sobject::FieldKind;
use crate::salesforce::FieldType;

/// A rejection Salesforce would give, in its terms.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) struct Predicted {
    pub code: &'static str,
    pub message: String,
    pub fields: Vec<String>,
}

/// The first rejection Salesforce would give `cells` (a row of `target`), if any.
pub(crate) fn predict(target: &StreamTarget, cells: &[Cow<'_, str>]) -> Option<Predicted> {
    for (column, cell) in target.columns.iter().zip(cells) {
        let text = cell.as_ref();
        if text.is_empty() || text == NULL_MARKER || column.relationship.is_some() {
            continue;
        }
        let field = &column.field;
        let text_like = matches!(field.kind, FieldKind::Text | FieldKind::MultiPicklist);
        let length = text.chars().count() as u64;
        if text_like && field.length() > 0 && length > field.length() {
            return Some(Predicted {
                code: "STRING_TOO_LONG",
                message: format!(
                    "{}: data value too large: {} (max length={})",
                    field.describe.name,
                    preview(text),
                    field.length()
                ),
                fields: vec![field.describe.name.clone()],
            });
        }
        if field.describe.restricted_picklist
            && matches!(
                field.describe.field_type,
                FieldType::Picklist | FieldType::Multipicklist
            )
        {
            let values: Vec<&str> = if field.describe.field_type == FieldType::Multipicklist {
                text.split(';').collect()
            } else {
                vec![text]
            };
            if let Some(bad) = values
                .into_iter()
                .find(|v| !field.picklist_values.iter().any(|p| p == v))
            {
                return Some(Predicted {
                    code: "INVALID_OR_NULL_FOR_RESTRICTED_PICKLIST",
                    message: format!(
                        "{}: bad value for restricted picklist field: {}",
                        field.describe.name,
                        preview(bad)
                    ),
                    fields: vec![field.describe.name.clone()],
                });
            }
        }
    }
    let missing: Vec<String> = target
        .required_on_insert
        .iter()
        .filter(|(_, column)| {
            column.is_none_or(|c| {
                let cell = cells[c].as_ref();
                cell.is_empty() || cell == NULL_MARKER
            })
        })
        .map(|(name, _)| name.clone())
        .collect();
    if !missing.is_empty() {
        return Some(Predicted {
            code: "REQUIRED_FIELD_MISSING",
            message: format!("Required fields are missing: [{}]", missing.join(", ")),
            fields: missing,
        });
    }
    None
}

fn preview(text: &str) -> String {
    const MAX: usize = 60;
    if text.chars().count() <= MAX {
        text.to_string()
    } else {
        format!("{}...", text.chars().take(MAX).collect::<String>())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::destination::batch::row::record_to_row;
    use crate::destination::route::mapping::{plan_stream, StreamRoute};
    use crate::destination::route::sobject::{FieldInfo, SObjectInfo};
    use serde_json::value::RawValue;

    fn target() -> StreamTarget {
        let mut name = FieldInfo::new("Name", "string");
        name.describe.nillable = false;
        name.describe.length = Some(10);
        let mut tier = FieldInfo::new("Tier__c", "picklist");
        tier.describe.restricted_picklist = true;
        tier.picklist_values = vec!["Gold".into(), "Silver".into()];
        let mut regions = FieldInfo::new("Regions__c", "multipicklist");
        regions.describe.restricted_picklist = true;
        regions.picklist_values = vec!["AMER".into(), "EMEA".into()];
        let object = SObjectInfo::new("Account", true, true, true, vec![name, tier, regions]);
        let route = StreamRoute {
            stream: "s".into(),
            namespace: None,
            destination_object_name: Some("Account".into()),
            destination_sync_mode: "append".into(),
            primary_key: vec![],
            properties: vec!["Name".into(), "Tier__c".into(), "Regions__c".into()],
            hard_delete: false,
        };
        plan_stream(&route, &object, &Default::default()).unwrap()
    }

    fn code(json: &str) -> Option<&'static str> {
        let target = target();
        let raw = RawValue::from_string(json.to_string()).unwrap();
        let cells = record_to_row(&target, &raw).unwrap();
        predict(&target, &cells).map(|p| p.code)
    }

    #[test]
    fn lengths_restricted_picklists_and_required_fields_are_predicted() {
        assert_eq!(code(r#"{"Name":"Acme","Tier__c":"Gold"}"#), None);
        assert_eq!(
            code(r#"{"Name":"Acme Corporation"}"#),
            Some("STRING_TOO_LONG")
        );
        assert_eq!(
            code(r#"{"Name":"Acme","Tier__c":"Platinum"}"#),
            Some("INVALID_OR_NULL_FOR_RESTRICTED_PICKLIST")
        );
        assert_eq!(
            code(r#"{"Name":"Acme","Regions__c":["AMER","MARS"]}"#),
            Some("INVALID_OR_NULL_FOR_RESTRICTED_PICKLIST")
        );
        assert_eq!(
            code(r#"{"Tier__c":"Gold"}"#),
            Some("REQUIRED_FIELD_MISSING")
        );
        assert_eq!(code(r#"{"Name":null}"#), Some("REQUIRED_FIELD_MISSING"));
    }
}
