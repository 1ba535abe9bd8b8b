//! What a describe field `type` means for reading: the JSON type a value becomes and how it is
//! converted from Bulk CSV text or REST JSON.
//!
//! Salesforce has about thirty field types; for reading they fall into a handful of kinds. The
//! mapping follows Airbyte's source (so schemas stay compatible), except that `anyType` values are
//! always strings (REST may send a number or boolean for them, Bulk always sends text; one JSON type
//! keeps both APIs and the schema in agreement).

use crate::salesforce::FieldType;

/// How values of one describe `type` are typed and converted.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub(crate) enum FieldKind {
    /// Strings: id, reference, string, textarea, picklist, multipicklist, combobox, email, phone,
    /// url, encryptedstring, anyType, json, complexvalue and the other text-like types.
    Text,
    Boolean,
    /// `int`: a JSON integer.
    Integer,
    /// `double`, `currency`, `percent`, `long`: a JSON number written exactly as Salesforce sent it.
    Number,
    /// `date`: `YYYY-MM-DD`.
    Date,
    /// `datetime`: one RFC 3339 form, `2024-01-01T10:00:00.000Z`.
    DateTime,
    /// `time`: a string such as `10:00:00.000Z`.
    Time,
    /// `base64`: REST gives the blob's URL path; Bulk cannot select it.
    Base64,
    /// Compound `address`: an object rebuilt from its component fields.
    Address,
    /// Compound `location` (geolocation): `{latitude, longitude}`.
    Location,
}

impl FieldKind {
    /// The kind of a describe type, or `None` for a type this connector does not know (callers
    /// read those as text).
    pub(crate) fn of(field_type: &FieldType) -> Option<FieldKind> {
        let kind = match field_type {
            FieldType::Id
            | FieldType::Reference
            | FieldType::String
            | FieldType::Textarea
            | FieldType::Picklist
            | FieldType::Multipicklist
            | FieldType::Combobox
            | FieldType::Email
            | FieldType::Phone
            | FieldType::Url
            | FieldType::EncryptedString
            | FieldType::AnyType
            | FieldType::Json
            | FieldType::ComplexValue
            | FieldType::Byte
            | FieldType::MasterRecord
            | FieldType::DataCategoryGroupReference
            | FieldType::Calculated => FieldKind::Text,
            FieldType::Boolean => FieldKind::Boolean,
            FieldType::Int => FieldKind::Integer,
            FieldType::Double | FieldType::Currency | FieldType::Percent | FieldType::Long => {
                FieldKind::Number
            }
            FieldType::Date => FieldKind::Date,
            FieldType::DateTime => FieldKind::DateTime,
            FieldType::Time => FieldKind::Time,
            FieldType::Base64 => FieldKind::Base64,
            FieldType::Address => FieldKind::Address,
            FieldType::Location => FieldKind::Location,
            FieldType::Other(_) => return None,
        };
        Some(kind)
    }

    /// Compound fields are read-only groups of component fields; Bulk refuses to select them.
    pub(crate) fn is_compound(self) -> bool {
        matches!(self, FieldKind::Address | FieldKind::Location)
    }
}

/// The key a compound field's value uses for one of its components, e.g. `BillingPostalCode` in
/// `BillingAddress` → `postalCode`, `Loc__Latitude__s` in `Loc__c` → `latitude`.
///
/// Returns `None` when the component's name does not follow Salesforce's naming of compound parts.
pub(crate) fn compound_component_key(compound: &str, component: &str) -> Option<&'static str> {
    let prefix = compound_prefix(compound);
    let rest = component.get(prefix.len()..)?;
    if !component[..prefix.len()].eq_ignore_ascii_case(prefix) {
        return None;
    }
    let suffix = rest.strip_suffix("__s").unwrap_or(rest);
    COMPONENT_KEYS
        .iter()
        .find(|(name, _)| name.eq_ignore_ascii_case(suffix))
        .map(|(_, key)| *key)
}

/// Whether a compound component's value is a number (latitude, longitude) rather than text.
pub(crate) fn component_is_number(key: &str) -> bool {
    matches!(key, "latitude" | "longitude")
}

/// The keys of an address value, in the order they are written.
pub(crate) const ADDRESS_KEYS: [&str; 10] = [
    "street",
    "city",
    "state",
    "stateCode",
    "postalCode",
    "country",
    "countryCode",
    "latitude",
    "longitude",
    "geocodeAccuracy",
];

/// The keys of a location value, in the order they are written.
pub(crate) const LOCATION_KEYS: [&str; 2] = ["latitude", "longitude"];

const COMPONENT_KEYS: [(&str, &str); 10] = [
    ("Street", "street"),
    ("City", "city"),
    ("State", "state"),
    ("StateCode", "stateCode"),
    ("PostalCode", "postalCode"),
    ("Country", "country"),
    ("CountryCode", "countryCode"),
    ("Latitude", "latitude"),
    ("Longitude", "longitude"),
    ("GeocodeAccuracy", "geocodeAccuracy"),
];

/// `BillingAddress` → `Billing`, `Address` → ``, `Loc__c` → `Loc__`.
fn compound_prefix(compound: &str) -> &str {
    if let Some(base) = compound.strip_suffix("__c") {
        // Custom geolocation `Loc__c` has components `Loc__Latitude__s`.
        return &compound[..base.len() + 2];
    }
    compound.strip_suffix("Address").unwrap_or(compound)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn kind(describe_type: &str) -> Option<FieldKind> {
        FieldKind::of(&FieldType::from(describe_type))
    }

    #[test]
    fn describe_types_map_to_kinds_like_airbytes_schema() {
        assert_eq!(kind("id"), Some(FieldKind::Text));
        assert_eq!(kind("int"), Some(FieldKind::Integer));
        assert_eq!(kind("long"), Some(FieldKind::Number));
        assert_eq!(kind("currency"), Some(FieldKind::Number));
        assert_eq!(kind("datetime"), Some(FieldKind::DateTime));
        assert_eq!(kind("time"), Some(FieldKind::Time));
        assert_eq!(kind("anyType"), Some(FieldKind::Text));
        assert_eq!(kind("address"), Some(FieldKind::Address));
        assert_eq!(kind("whatever"), None);
    }

    #[test]
    fn address_components_map_to_value_keys() {
        assert_eq!(
            compound_component_key("BillingAddress", "BillingStreet"),
            Some("street")
        );
        assert_eq!(
            compound_component_key("BillingAddress", "BillingPostalCode"),
            Some("postalCode")
        );
        assert_eq!(
            compound_component_key("MailingAddress", "MailingGeocodeAccuracy"),
            Some("geocodeAccuracy")
        );
        assert_eq!(
            compound_component_key("Address", "StateCode"),
            Some("stateCode")
        );
        assert_eq!(
            compound_component_key("BillingAddress", "ShippingCity"),
            None
        );
    }

    #[test]
    fn custom_location_components_map_to_latitude_and_longitude() {
        assert_eq!(
            compound_component_key("Loc__c", "Loc__Latitude__s"),
            Some("latitude")
        );
        assert_eq!(
            compound_component_key("Loc__c", "Loc__Longitude__s"),
            Some("longitude")
        );
        assert_eq!(compound_component_key("Loc__c", "Other__Latitude__s"), None);
    }
}
