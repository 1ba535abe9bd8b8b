//! sObject metadata as `describe` reports it, and the values records hold.
//!
//! This is the contract between the org (`org.rs`, `seed.rs`), SOQL (`soql/`), the read APIs and
//! the write APIs (`bulk_ingest.rs`, REST writes): every one of them speaks these types.

use chrono::{DateTime, NaiveDate, NaiveTime, Utc};

/// A field's `type` in describe (Salesforce's own spelling is given by [`FieldType::as_str`],
/// and read back from `catalog.json`).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, serde::Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum FieldType {
    Id,
    Reference,
    Boolean,
    String,
    Textarea,
    Picklist,
    Multipicklist,
    Combobox,
    Email,
    Phone,
    Url,
    EncryptedString,
    Int,
    Double,
    Currency,
    Percent,
    Long,
    Date,
    DateTime,
    Time,
    Base64,
    Address,
    Location,
    #[serde(rename = "anyType")]
    AnyType,
    Json,
}

impl FieldType {
    /// The describe `type` value.
    pub fn as_str(self) -> &'static str {
        match self {
            FieldType::Id => "id",
            FieldType::Reference => "reference",
            FieldType::Boolean => "boolean",
            FieldType::String => "string",
            FieldType::Textarea => "textarea",
            FieldType::Picklist => "picklist",
            FieldType::Multipicklist => "multipicklist",
            FieldType::Combobox => "combobox",
            FieldType::Email => "email",
            FieldType::Phone => "phone",
            FieldType::Url => "url",
            FieldType::EncryptedString => "encryptedstring",
            FieldType::Int => "int",
            FieldType::Double => "double",
            FieldType::Currency => "currency",
            FieldType::Percent => "percent",
            FieldType::Long => "long",
            FieldType::Date => "date",
            FieldType::DateTime => "datetime",
            FieldType::Time => "time",
            FieldType::Base64 => "base64",
            FieldType::Address => "address",
            FieldType::Location => "location",
            FieldType::AnyType => "anyType",
            FieldType::Json => "json",
        }
    }

    /// The describe `soapType` value.
    pub fn soap_type(self) -> &'static str {
        match self {
            FieldType::Id | FieldType::Reference => "tns:ID",
            FieldType::Boolean => "xsd:boolean",
            FieldType::Int => "xsd:int",
            FieldType::Double | FieldType::Currency | FieldType::Percent => "xsd:double",
            FieldType::Long => "xsd:long",
            FieldType::Date => "xsd:date",
            FieldType::DateTime => "xsd:dateTime",
            FieldType::Time => "xsd:time",
            FieldType::Base64 => "xsd:base64Binary",
            FieldType::Address => "urn:address",
            FieldType::Location => "urn:location",
            FieldType::AnyType => "xsd:anyType",
            _ => "xsd:string",
        }
    }

    /// Compound fields (address, location) are read-only groups of their component fields.
    pub fn is_compound(self) -> bool {
        matches!(self, FieldType::Address | FieldType::Location)
    }
}

/// One `picklistValues` entry.
#[derive(Clone, Debug, PartialEq)]
pub struct PicklistValue {
    pub value: String,
    pub label: String,
    pub active: bool,
    pub default_value: bool,
}

/// One entry of describe's `fields[]`. Attributes not listed here are reported with their
/// neutral value (false / null / []) by the describe endpoint.
#[derive(Clone, Debug, PartialEq)]
pub struct Field {
    pub name: String,
    pub label: String,
    pub field_type: FieldType,
    /// Characters for text types (18 for ids), 0 otherwise.
    pub length: u32,
    /// Digits for `int`, total digits for double/currency/percent (`precision`).
    pub precision: u32,
    pub scale: u32,
    pub digits: u32,
    pub nillable: bool,
    pub createable: bool,
    pub updateable: bool,
    pub defaulted_on_create: bool,
    pub default_value: Option<serde_json::Value>,
    pub filterable: bool,
    pub sortable: bool,
    pub groupable: bool,
    pub unique: bool,
    pub external_id: bool,
    pub id_lookup: bool,
    pub case_sensitive: bool,
    pub calculated: bool,
    pub calculated_formula: Option<String>,
    pub auto_number: bool,
    pub custom: bool,
    pub name_field: bool,
    pub html_formatted: bool,
    /// The compound field this one is a component of (`BillingAddress` for `BillingCity`).
    pub compound_field_name: Option<String>,
    pub reference_to: Vec<String>,
    pub relationship_name: Option<String>,
    pub picklist_values: Vec<PicklistValue>,
    pub restricted_picklist: bool,
}

impl Field {
    /// A field with neutral attributes for its type: nillable, createable and updateable,
    /// filterable and sortable where Salesforce allows it. Builders adjust from there.
    pub fn new(name: &str, label: &str, field_type: FieldType) -> Field {
        let length = match field_type {
            FieldType::Id | FieldType::Reference => 18,
            FieldType::String
            | FieldType::Picklist
            | FieldType::Combobox
            | FieldType::Email
            | FieldType::EncryptedString => 255,
            FieldType::Phone => 40,
            FieldType::Url => 255,
            FieldType::Textarea => 255,
            FieldType::Multipicklist => 4099,
            _ => 0,
        };
        let compound = field_type.is_compound();
        let long_text = false;
        Field {
            name: name.to_string(),
            label: label.to_string(),
            field_type,
            length,
            precision: match field_type {
                FieldType::Double | FieldType::Currency | FieldType::Percent => 18,
                _ => 0,
            },
            scale: match field_type {
                FieldType::Currency | FieldType::Percent => 2,
                _ => 0,
            },
            digits: match field_type {
                FieldType::Int => 9,
                FieldType::Long => 18,
                _ => 0,
            },
            nillable: !matches!(field_type, FieldType::Boolean | FieldType::Id),
            createable: !compound && field_type != FieldType::Id,
            updateable: !compound && field_type != FieldType::Id,
            defaulted_on_create: field_type == FieldType::Boolean,
            default_value: None,
            filterable: !compound && !long_text && field_type != FieldType::Base64,
            sortable: !compound
                && !matches!(
                    field_type,
                    FieldType::Multipicklist | FieldType::Base64 | FieldType::Textarea
                ),
            groupable: !compound
                && !matches!(
                    field_type,
                    FieldType::Double
                        | FieldType::Currency
                        | FieldType::Percent
                        | FieldType::Textarea
                        | FieldType::DateTime
                        | FieldType::Base64
                        | FieldType::Multipicklist
                ),
            unique: false,
            external_id: false,
            id_lookup: field_type == FieldType::Id,
            case_sensitive: false,
            calculated: false,
            calculated_formula: None,
            auto_number: false,
            custom: name.ends_with("__c") || name.ends_with("__s"),
            name_field: false,
            html_formatted: false,
            compound_field_name: None,
            reference_to: Vec::new(),
            relationship_name: None,
            picklist_values: Vec::new(),
            restricted_picklist: false,
        }
    }

    /// `byteLength` as describe reports it: three bytes per character.
    pub fn byte_length(&self) -> u32 {
        self.length * 3
    }
}

/// Object-level describe attributes and the field list, in describe order.
#[derive(Clone, Debug, PartialEq)]
pub struct SObject {
    pub name: String,
    pub label: String,
    pub label_plural: String,
    /// Three-character id prefix (`001` for Account); `None` for objects without ids.
    pub key_prefix: Option<String>,
    pub custom: bool,
    pub queryable: bool,
    pub retrieveable: bool,
    pub replicateable: bool,
    pub createable: bool,
    pub updateable: bool,
    pub deletable: bool,
    pub undeletable: bool,
    pub searchable: bool,
    pub triggerable: bool,
    /// False for objects the Bulk API refuses with `INVALIDENTITY` (not a describe attribute;
    /// Salesforce keeps this list in its docs).
    pub bulk_queryable: bool,
    pub fields: Vec<Field>,
}

impl SObject {
    /// A test object: every object-level capability on (queryable … bulk-queryable), `custom`
    /// when the name ends in `__c`.
    #[cfg(test)]
    pub(crate) fn new(
        name: &str,
        label: &str,
        label_plural: &str,
        key_prefix: Option<&str>,
        fields: Vec<Field>,
    ) -> SObject {
        SObject {
            name: name.to_string(),
            label: label.to_string(),
            label_plural: label_plural.to_string(),
            key_prefix: key_prefix.map(str::to_string),
            custom: name.ends_with("__c"),
            queryable: true,
            retrieveable: true,
            replicateable: true,
            createable: true,
            updateable: true,
            deletable: true,
            undeletable: true,
            searchable: true,
            triggerable: true,
            bulk_queryable: true,
            fields,
        }
    }

    /// The field of this name, matched case-insensitively as Salesforce matches API names.
    pub fn field(&self, name: &str) -> Option<(usize, &Field)> {
        self.fields
            .iter()
            .enumerate()
            .find(|(_, f)| f.name.eq_ignore_ascii_case(name))
    }
}

/// A value a record holds, in the field's type.
#[derive(Clone, Debug, PartialEq)]
pub enum Value {
    Null,
    Bool(bool),
    /// `int` and `long`.
    Int(i64),
    /// `double`, `currency`, `percent`.
    Double(f64),
    /// Every text-like type, ids and references included (`multipicklist` as `A;B`).
    Text(String),
    Date(NaiveDate),
    DateTime(DateTime<Utc>),
    Time(NaiveTime),
    Base64(Vec<u8>),
}

impl Value {
    pub fn is_null(&self) -> bool {
        matches!(self, Value::Null)
    }
}
