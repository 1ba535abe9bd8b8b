//! What the destination needs to know about an sObject from its describe: each field's type and
//! whether it may be written by a given operation.
//!
//! Salesforce matches object and field names case-insensitively (PyAirbyte's caches lower-case
//! every column), so lookups here ignore ASCII case and return Salesforce's own spelling.

use std::collections::HashMap;

use serde_json::Map;

use crate::salesforce::{FieldType, SObjectDescribe, SObjectField};

/// How a field's values are written in a Bulk API 2.0 CSV (describe `type`, grouped).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum FieldKind {
    /// `id`, `reference`: an 15- or 18-character record id (or empty).
    Id,
    Boolean,
    /// `int`: a whole number.
    Integer,
    /// `long`: a whole number beyond 32 bits.
    Long,
    /// `double`, `currency`, `percent`.
    Decimal,
    Date,
    DateTime,
    Time,
    /// `multipicklist`: values joined with `;`.
    MultiPicklist,
    /// Every text-like type (`string`, `textarea`, `picklist`, `email`, `phone`, `url`,
    /// `combobox`, `encryptedstring`, `anyType`).
    Text,
    /// Types the Bulk API refuses to write (`base64`, `address`, `location`, `json`...).
    Unsupported,
}

impl FieldKind {
    /// The kind for a describe type.
    pub(crate) fn of(field_type: &FieldType) -> FieldKind {
        match field_type {
            FieldType::Id | FieldType::Reference => FieldKind::Id,
            FieldType::Boolean => FieldKind::Boolean,
            FieldType::Int => FieldKind::Integer,
            FieldType::Long => FieldKind::Long,
            FieldType::Double | FieldType::Currency | FieldType::Percent => FieldKind::Decimal,
            FieldType::Date => FieldKind::Date,
            FieldType::DateTime => FieldKind::DateTime,
            FieldType::Time => FieldKind::Time,
            FieldType::Multipicklist => FieldKind::MultiPicklist,
            FieldType::String
            | FieldType::Textarea
            | FieldType::Picklist
            | FieldType::Combobox
            | FieldType::Email
            | FieldType::Phone
            | FieldType::Url
            | FieldType::EncryptedString
            | FieldType::AnyType => FieldKind::Text,
            _ => FieldKind::Unsupported,
        }
    }
}

/// One describe `fields[]` entry and what writing derives from it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) struct FieldInfo {
    /// The entry as describe gave it, but for an empty `relationshipName` (`None`), and without
    /// its picklist values (the active ones are `picklist_values`) and the keys this client does
    /// not name (`extra`). Writing reads its `type`, whether it is nillable, createable,
    /// updateable, defaulted on create, an external id or an id lookup, its `length` (longest
    /// text in characters), whether only active picklist values are accepted
    /// (`restrictedPicklist`), the objects a reference points to (several when polymorphic) and
    /// its relationship (`Account`, `Parent__r`: the CSV header prefix that sets it through a
    /// parent's external id).
    pub describe: SObjectField,
    pub kind: FieldKind,
    /// The active picklist values.
    pub picklist_values: Vec<String>,
}

impl FieldInfo {
    /// A field with the attributes of an ordinary writable, nillable custom field.
    #[cfg(test)]
    pub(crate) fn new(name: &str, describe_type: &str) -> FieldInfo {
        FieldInfo::from(&SObjectField {
            name: name.to_string(),
            field_type: FieldType::from(describe_type),
            nillable: true,
            createable: true,
            updateable: true,
            ..SObjectField::default()
        })
    }

    /// Longest text in characters (0 when the type has none).
    pub(crate) fn length(&self) -> u64 {
        self.describe.length.unwrap_or(0)
    }
}

/// Test fixtures: fields as describe shows them, built in one expression.
#[cfg(test)]
impl FieldInfo {
    /// A field Salesforce sets itself (`Id`, `CreatedDate`): neither createable nor updateable.
    pub(crate) fn system(name: &str, describe_type: &str) -> FieldInfo {
        let mut field = FieldInfo::new(name, describe_type);
        field.describe.createable = false;
        field.describe.updateable = false;
        field
    }

    /// The field, not nillable.
    pub(crate) fn required(mut self) -> FieldInfo {
        self.describe.nillable = false;
        self
    }

    /// Account's first fields in the tests: `Id`, `Name` (both required) and an external id
    /// `Ext_Id__c`.
    pub(crate) fn account_keys() -> Vec<FieldInfo> {
        vec![
            FieldInfo::system("Id", "id").required(),
            FieldInfo::new("Name", "string").required(),
            FieldInfo::new("Ext_Id__c", "string").upsert_key(),
        ]
    }

    /// The field, an external id (an upsert key).
    pub(crate) fn upsert_key(mut self) -> FieldInfo {
        self.describe.external_id = true;
        self
    }
}

/// An sObject's describe, reduced to what writing needs.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) struct SObjectInfo {
    pub name: String,
    pub createable: bool,
    pub updateable: bool,
    pub deletable: bool,
    pub fields: Vec<FieldInfo>,
    by_lower_name: HashMap<String, usize>,
}

impl SObjectInfo {
    /// An object this user may create, update and delete rows of (a test fixture).
    #[cfg(test)]
    pub(crate) fn writable(name: &str, fields: Vec<FieldInfo>) -> SObjectInfo {
        SObjectInfo::new(name, true, true, true, fields)
    }

    pub(crate) fn new(
        name: &str,
        createable: bool,
        updateable: bool,
        deletable: bool,
        fields: Vec<FieldInfo>,
    ) -> SObjectInfo {
        let by_lower_name = fields
            .iter()
            .enumerate()
            .map(|(i, f)| (f.describe.name.to_ascii_lowercase(), i))
            .collect();
        SObjectInfo {
            name: name.to_string(),
            createable,
            updateable,
            deletable,
            fields,
            by_lower_name,
        }
    }

    /// The field named `name`, ignoring ASCII case as Salesforce does.
    pub(crate) fn field(&self, name: &str) -> Option<&FieldInfo> {
        self.by_lower_name
            .get(&name.to_ascii_lowercase())
            .map(|&i| &self.fields[i])
    }

    /// The reference field whose relationship is `name`, ignoring ASCII case.
    pub(crate) fn relationship(&self, name: &str) -> Option<&FieldInfo> {
        self.fields.iter().find(|f| {
            f.describe
                .relationship_name
                .as_deref()
                .is_some_and(|r| r.eq_ignore_ascii_case(name))
        })
    }

    /// Fields usable as an upsert key: external-id fields (and `Id`, which Bulk accepts too).
    pub(crate) fn external_id_fields(&self) -> impl Iterator<Item = &FieldInfo> {
        self.fields.iter().filter(|f| f.describe.external_id)
    }
}

impl From<&SObjectField> for FieldInfo {
    fn from(field: &SObjectField) -> FieldInfo {
        // What writing never reads is not kept (a write holds every field of its objects).
        let describe = SObjectField {
            relationship_name: field.relationship_name.clone().filter(|r| !r.is_empty()),
            picklist_values: Vec::new(),
            extra: Map::new(),
            ..field.clone()
        };
        FieldInfo {
            kind: FieldKind::of(&field.field_type),
            picklist_values: field
                .picklist_values
                .iter()
                .filter(|p| p.active)
                .map(|p| p.value.clone())
                .collect(),
            describe,
        }
    }
}

impl From<&SObjectDescribe> for SObjectInfo {
    fn from(describe: &SObjectDescribe) -> SObjectInfo {
        SObjectInfo::new(
            &describe.name,
            describe.createable,
            describe.updateable,
            describe.deletable,
            describe.fields.iter().map(FieldInfo::from).collect(),
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn field_lookup_ignores_case_and_returns_salesforce_spelling() {
        let object = SObjectInfo::new(
            "Account",
            true,
            true,
            true,
            vec![FieldInfo::new("Health_Score__c", "double")],
        );
        assert_eq!(
            object
                .field("health_score__c")
                .map(|f| f.describe.name.as_str()),
            Some("Health_Score__c")
        );
        assert!(object.field("Health_Score").is_none());
    }

    #[test]
    fn describe_types_group_into_csv_kinds() {
        assert_eq!(
            FieldKind::of(&FieldType::from("currency")),
            FieldKind::Decimal
        );
        assert_eq!(FieldKind::of(&FieldType::from("reference")), FieldKind::Id);
        assert_eq!(
            FieldKind::of(&FieldType::from("address")),
            FieldKind::Unsupported
        );
        assert_eq!(FieldKind::of(&FieldType::from("email")), FieldKind::Text);
    }
}
