//! A describe field's `type`, typed once for both roles.
//!
//! The source groups these into the kinds a read converts ([`crate::source`]'s `FieldKind`), the
//! destination into the kinds a Bulk CSV writes; both match on this enum instead of parsing the
//! string. A type this connector does not know is kept as [`FieldType::Other`] with Salesforce's
//! spelling, so nothing is lost and messages name it as Salesforce does.

use std::fmt;

use serde::{Deserialize, Deserializer, Serialize, Serializer};

/// Salesforce's field type (describe `fields[].type`).
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub(crate) enum FieldType {
    Id,
    Reference,
    String,
    Textarea,
    Picklist,
    Multipicklist,
    Combobox,
    Email,
    Phone,
    Url,
    EncryptedString,
    AnyType,
    Json,
    ComplexValue,
    Byte,
    MasterRecord,
    DataCategoryGroupReference,
    Calculated,
    Boolean,
    Int,
    Long,
    Double,
    Currency,
    Percent,
    Date,
    DateTime,
    Time,
    Base64,
    Address,
    Location,
    /// A type this connector does not know, as Salesforce spelled it (empty when absent).
    Other(String),
}

/// Every known type with Salesforce's spelling (case matters: `anyType`, `datetime`).
const KNOWN: [(&str, FieldType); 30] = [
    ("id", FieldType::Id),
    ("reference", FieldType::Reference),
    ("string", FieldType::String),
    ("textarea", FieldType::Textarea),
    ("picklist", FieldType::Picklist),
    ("multipicklist", FieldType::Multipicklist),
    ("combobox", FieldType::Combobox),
    ("email", FieldType::Email),
    ("phone", FieldType::Phone),
    ("url", FieldType::Url),
    ("encryptedstring", FieldType::EncryptedString),
    ("anyType", FieldType::AnyType),
    ("json", FieldType::Json),
    ("complexvalue", FieldType::ComplexValue),
    ("byte", FieldType::Byte),
    ("masterrecord", FieldType::MasterRecord),
    (
        "datacategorygroupreference",
        FieldType::DataCategoryGroupReference,
    ),
    ("calculated", FieldType::Calculated),
    ("boolean", FieldType::Boolean),
    ("int", FieldType::Int),
    ("long", FieldType::Long),
    ("double", FieldType::Double),
    ("currency", FieldType::Currency),
    ("percent", FieldType::Percent),
    ("date", FieldType::Date),
    ("datetime", FieldType::DateTime),
    ("time", FieldType::Time),
    ("base64", FieldType::Base64),
    ("address", FieldType::Address),
    ("location", FieldType::Location),
];

impl FieldType {
    /// Salesforce's spelling of the type.
    pub(crate) fn as_str(&self) -> &str {
        match self {
            FieldType::Other(name) => name,
            known => KNOWN
                .iter()
                .find(|(_, t)| t == known)
                .map_or("", |(name, _)| name),
        }
    }
}

impl From<&str> for FieldType {
    fn from(name: &str) -> FieldType {
        KNOWN
            .iter()
            .find(|(known, _)| *known == name)
            .map_or_else(|| FieldType::Other(name.to_string()), |(_, t)| t.clone())
    }
}

impl Default for FieldType {
    /// A describe entry without `type`: unknown, spelled empty.
    fn default() -> FieldType {
        FieldType::Other(String::new())
    }
}

impl fmt::Display for FieldType {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl Serialize for FieldType {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.serialize_str(self.as_str())
    }
}

impl<'de> Deserialize<'de> for FieldType {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<FieldType, D::Error> {
        let name = std::borrow::Cow::<str>::deserialize(deserializer)?;
        Ok(FieldType::from(name.as_ref()))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_known_type_round_trips_through_its_spelling() {
        for (name, field_type) in &KNOWN {
            assert_eq!(&FieldType::from(*name), field_type);
            assert_eq!(field_type.as_str(), *name);
        }
    }

    #[test]
    fn unknown_types_keep_salesforces_spelling() {
        let t = FieldType::from("sometype__new");
        assert_eq!(t, FieldType::Other("sometype__new".to_string()));
        assert_eq!(t.to_string(), "sometype__new");
        // Spelling is exact, as Salesforce sends it.
        assert_eq!(
            FieldType::from("DateTime"),
            FieldType::Other("DateTime".into())
        );
    }

    #[test]
    fn describe_json_parses_and_writes_the_same_string() {
        let t: FieldType = serde_json::from_str(r#""anyType""#).unwrap();
        assert_eq!(t, FieldType::AnyType);
        assert_eq!(serde_json::to_string(&t).unwrap(), r#""anyType""#);
        let other: FieldType = serde_json::from_str(r#""futuretype""#).unwrap();
        assert_eq!(serde_json::to_string(&other).unwrap(), r#""futuretype""#);
    }
}
