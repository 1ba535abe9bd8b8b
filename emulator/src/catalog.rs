//! The org's objects: describe metadata after Salesforce's object reference, each field paired
//! with the generator rule of its values, and each object's base record count (records at
//! `--scale 1`; the org multiplies by the scale).
//!
//! They are data, in `catalog.json` (compiled in, read once at start-up):
//!
//! - `objects`: in describeGlobal order, each with `name`, `label`, `labelPlural`, `keyPrefix`,
//!   `count` (records at scale 1), `fixedCount` (true: the count does not grow with the scale),
//!   object attributes that differ from `true` (`createable`, `bulkQueryable`, …) and `fields`.
//! - A field is `name`, `label`, `type` (describe's spelling), `gen` (its [`Gen`] rule) and the
//!   describe attributes that differ from [`Field::new`]'s neutral ones, in describe's spelling
//!   (`nillable`, `length`, `referenceTo`, `picklistValues`, …); `readOnly` is short for
//!   `createable` and `updateable` false; `computed` is how the org computes the value
//!   ([`Formula`]).
//! - `{"$ref": "#/…"}` anywhere stands for the value at that JSON pointer: the shared `lists`
//!   (picklist values), `fields` (`Id`, `IsDeleted`, `OwnerId`) and `groups` (runs of fields
//!   several objects share; a group in a field list is spliced in).
//! - `{"prefix": "Billing", "fields": […]}`: those fields with the prefix before their `name`,
//!   `label` and `compoundFieldName` (the `address` group: `BillingStreet` … `BillingAddress`).
//! - `{"attributeSeries": 620}`: numbered custom fields of five types, for a very wide object.
//! - `extraObject`: the `--extra-objects` objects, an object whose name, labels and key prefix
//!   each extra object replaces with its own.

use std::sync::OnceLock;

use serde::Deserialize;
use serde_json::Value as Json;

use crate::schema::{Field, FieldType, PicklistValue, SObject};
use crate::seed::Gen;

/// A calculated field and how it is computed from other fields of the same record.
#[derive(Clone, Debug, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub enum Formula {
    /// `numerator / denominator`, null when either is null or the denominator is 0.
    Ratio {
        numerator: String,
        denominator: String,
    },
    /// Bytes in a base64 field (`Attachment.BodyLength`); not a formula in describe.
    ByteLength { field: String },
}

/// One object of the org before it holds records.
#[derive(Clone, Debug)]
pub struct ObjectDef {
    pub sobject: SObject,
    /// Generator rule per field, aligned with `sobject.fields`.
    pub gens: Vec<Gen>,
    /// Records at scale 1.
    pub base_count: u64,
    /// True when the count does not grow with the scale (lookup tables like CaseStatus).
    pub fixed_count: bool,
    /// (field index, formula) of calculated fields.
    pub formulas: Vec<(usize, Formula)>,
}

/// What is wrong in `catalog.json`, naming the object and field.
#[derive(Debug, thiserror::Error)]
pub(crate) enum CatalogError {
    #[error("catalog.json is not JSON")]
    Json(#[source] serde_json::Error),
    #[error("catalog.json: {{\"$ref\": {0:?}}} points at nothing")]
    Ref(String),
    #[error("catalog.json: {0}")]
    Shape(#[source] serde_json::Error),
    #[error("catalog.json: object {object}, field {field}")]
    Field {
        object: String,
        field: String,
        #[source]
        source: serde_json::Error,
    },
}

const CATALOG_JSON: &str = include_str!("catalog.json");

/// The file's top level once `$ref`s are resolved (`lists`, `fields` and `groups` only served
/// as their targets).
#[derive(Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
struct CatalogFile {
    #[serde(rename = "lists")]
    _lists: serde::de::IgnoredAny,
    #[serde(rename = "fields")]
    _fields: serde::de::IgnoredAny,
    #[serde(rename = "groups")]
    _groups: serde::de::IgnoredAny,
    objects: Vec<ObjectSpec>,
    extra_object: ObjectSpec,
}

fn yes() -> bool {
    true
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
struct ObjectSpec {
    name: String,
    label: String,
    label_plural: String,
    key_prefix: Option<String>,
    count: u64,
    #[serde(default)]
    fixed_count: bool,
    #[serde(default = "yes")]
    queryable: bool,
    #[serde(default = "yes")]
    retrieveable: bool,
    #[serde(default = "yes")]
    replicateable: bool,
    #[serde(default = "yes")]
    createable: bool,
    #[serde(default = "yes")]
    updateable: bool,
    #[serde(default = "yes")]
    deletable: bool,
    #[serde(default = "yes")]
    undeletable: bool,
    #[serde(default = "yes")]
    searchable: bool,
    #[serde(default = "yes")]
    triggerable: bool,
    #[serde(default = "yes")]
    bulk_queryable: bool,
    fields: Vec<Json>,
}

/// One field entry: describe attributes that differ from `Field::new`'s.
#[derive(Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
struct FieldSpec {
    name: String,
    label: String,
    #[serde(rename = "type")]
    field_type: FieldType,
    gen: Gen,
    #[serde(default)]
    read_only: bool,
    createable: Option<bool>,
    updateable: Option<bool>,
    nillable: Option<bool>,
    length: Option<u32>,
    precision: Option<u32>,
    scale: Option<u32>,
    digits: Option<u32>,
    defaulted_on_create: Option<bool>,
    filterable: Option<bool>,
    sortable: Option<bool>,
    groupable: Option<bool>,
    unique: Option<bool>,
    external_id: Option<bool>,
    id_lookup: Option<bool>,
    calculated: Option<bool>,
    calculated_formula: Option<String>,
    auto_number: Option<bool>,
    name_field: Option<bool>,
    compound_field_name: Option<String>,
    reference_to: Option<Vec<String>>,
    relationship_name: Option<String>,
    restricted_picklist: Option<bool>,
    picklist_values: Option<Vec<String>>,
    computed: Option<Formula>,
}

impl FieldSpec {
    fn field(self) -> (Field, Gen, Option<Formula>) {
        let mut f = Field::new(&self.name, &self.label, self.field_type);
        if self.read_only {
            read_only(&mut f);
        }
        fn set<T>(target: &mut T, value: Option<T>) {
            if let Some(value) = value {
                *target = value;
            }
        }
        set(&mut f.createable, self.createable);
        set(&mut f.updateable, self.updateable);
        set(&mut f.nillable, self.nillable);
        set(&mut f.length, self.length);
        set(&mut f.precision, self.precision);
        set(&mut f.scale, self.scale);
        set(&mut f.digits, self.digits);
        set(&mut f.defaulted_on_create, self.defaulted_on_create);
        set(&mut f.filterable, self.filterable);
        set(&mut f.sortable, self.sortable);
        set(&mut f.groupable, self.groupable);
        set(&mut f.unique, self.unique);
        set(&mut f.external_id, self.external_id);
        set(&mut f.id_lookup, self.id_lookup);
        set(&mut f.calculated, self.calculated);
        set(&mut f.auto_number, self.auto_number);
        set(&mut f.name_field, self.name_field);
        set(&mut f.restricted_picklist, self.restricted_picklist);
        set(&mut f.reference_to, self.reference_to);
        f.calculated_formula = self.calculated_formula;
        f.compound_field_name = self.compound_field_name;
        f.relationship_name = self.relationship_name;
        if let Some(values) = self.picklist_values {
            f.picklist_values = picklist(&values);
        }
        (f, self.gen, self.computed)
    }
}

fn picklist(values: &[String]) -> Vec<PicklistValue> {
    values
        .iter()
        .map(|v| PicklistValue {
            value: v.clone(),
            label: v.clone(),
            active: true,
            default_value: false,
        })
        .collect()
}

fn read_only(f: &mut Field) {
    f.createable = false;
    f.updateable = false;
}

/// Replaces every `{"$ref": "#/pointer"}` by (a resolved copy of) the value it points at.
fn resolve_refs(value: &mut Json, root: &Json) -> Result<(), CatalogError> {
    match value {
        Json::Object(map) => {
            if let Some(Json::String(target)) = map.get("$ref") {
                let pointer = target.strip_prefix('#').unwrap_or(target);
                let mut resolved = root
                    .pointer(pointer)
                    .cloned()
                    .ok_or_else(|| CatalogError::Ref(target.clone()))?;
                resolve_refs(&mut resolved, root)?;
                *value = resolved;
                return Ok(());
            }
            map.values_mut().try_for_each(|v| resolve_refs(v, root))
        }
        Json::Array(items) => items.iter_mut().try_for_each(|v| resolve_refs(v, root)),
        _ => Ok(()),
    }
}

/// An object's field list being built: fields, their generators and formulas, aligned.
struct Fields<'a> {
    object: &'a str,
    def: &'a mut ObjectDef,
}

impl Fields<'_> {
    fn push(&mut self, field: Field, gen: Gen, formula: Option<Formula>) {
        if let Some(formula) = formula {
            self.def
                .formulas
                .push((self.def.sobject.fields.len(), formula));
        }
        self.def.sobject.fields.push(field);
        self.def.gens.push(gen);
    }

    fn entry(&mut self, entry: &Json) -> Result<(), CatalogError> {
        if let Json::Array(group) = entry {
            return group.iter().try_for_each(|e| self.entry(e));
        }
        let text = |key: &str| entry.get(key).and_then(Json::as_str);
        if let (Some(prefix), Some(Json::Array(fields))) = (text("prefix"), entry.get("fields")) {
            for field in fields {
                let mut field = field.clone();
                if let Json::Object(map) = &mut field {
                    for key in ["name", "compoundFieldName"] {
                        if let Some(Json::String(name)) = map.get_mut(key) {
                            name.insert_str(0, prefix);
                        }
                    }
                    if let Some(Json::String(label)) = map.get_mut("label") {
                        *label = format!("{prefix} {label}").trim().to_string();
                    }
                }
                self.entry(&field)?;
            }
        } else if let Some(count) = entry.get("attributeSeries").and_then(Json::as_u64) {
            for (field, gen) in attribute_series(count as u32) {
                self.push(field, gen, None);
            }
        } else {
            let spec: FieldSpec =
                serde_json::from_value(entry.clone()).map_err(|source| CatalogError::Field {
                    object: self.object.to_string(),
                    field: text("name").unwrap_or("?").to_string(),
                    source,
                })?;
            let (field, gen, formula) = spec.field();
            self.push(field, gen, formula);
        }
        Ok(())
    }
}

fn object_def(spec: &ObjectSpec) -> Result<ObjectDef, CatalogError> {
    let mut def = ObjectDef {
        sobject: SObject {
            name: spec.name.clone(),
            label: spec.label.clone(),
            label_plural: spec.label_plural.clone(),
            key_prefix: spec.key_prefix.clone(),
            custom: spec.name.ends_with("__c"),
            queryable: spec.queryable,
            retrieveable: spec.retrieveable,
            replicateable: spec.replicateable,
            createable: spec.createable,
            updateable: spec.updateable,
            deletable: spec.deletable,
            undeletable: spec.undeletable,
            searchable: spec.searchable,
            triggerable: spec.triggerable,
            bulk_queryable: spec.bulk_queryable,
            fields: Vec::new(),
        },
        gens: Vec::new(),
        base_count: spec.count,
        fixed_count: spec.fixed_count,
        formulas: Vec::new(),
    };
    let mut fields = Fields {
        object: &spec.name,
        def: &mut def,
    };
    spec.fields.iter().try_for_each(|e| fields.entry(e))?;
    Ok(def)
}

/// The parsed catalog: the named objects and the template of the extra ones.
struct Catalog {
    objects: Vec<ObjectDef>,
    extra: ObjectDef,
}

fn load(text: &str) -> Result<Catalog, CatalogError> {
    let root: Json = serde_json::from_str(text).map_err(CatalogError::Json)?;
    let mut resolved = root.clone();
    resolve_refs(&mut resolved, &root)?;
    let file: CatalogFile = serde_json::from_value(resolved).map_err(CatalogError::Shape)?;
    let objects = file
        .objects
        .iter()
        .map(object_def)
        .collect::<Result<Vec<_>, _>>()?;
    Ok(Catalog {
        objects,
        extra: object_def(&file.extra_object)?,
    })
}

fn catalog() -> &'static Catalog {
    static CATALOG: OnceLock<Catalog> = OnceLock::new();
    // catalog.json is compiled in and `tests::the_catalog_loads` proves it loads.
    CATALOG.get_or_init(|| load(CATALOG_JSON).unwrap_or_else(|e| panic!("{}", error_chain(&e))))
}

fn error_chain(error: &dyn std::error::Error) -> String {
    let mut text = error.to_string();
    let mut source = error.source();
    while let Some(e) = source {
        text.push_str(": ");
        text.push_str(&e.to_string());
        source = e.source();
    }
    text
}

/// `Attribute_001__c` … : numbered custom fields cycling through string, double, boolean,
/// date and picklist, so that readers must split the field list (URI length).
fn attribute_series(count: u32) -> Vec<(Field, Gen)> {
    (1..=count)
        .map(|i| {
            let name = format!("Attribute_{i:03}__c");
            let label = format!("Attribute {i:03}");
            match i % 5 {
                0 => {
                    let mut f = Field::new(&name, &label, FieldType::String);
                    f.length = 80;
                    (f, Gen::Words(20))
                }
                1 => (
                    Field::new(&name, &label, FieldType::Double),
                    Gen::Double(0.0, 1000.0, 2),
                ),
                2 => (Field::new(&name, &label, FieldType::Boolean), Gen::Bool(50)),
                3 => (
                    Field::new(&name, &label, FieldType::Date),
                    Gen::DateNear(100),
                ),
                _ => {
                    let mut f = Field::new(&name, &label, FieldType::Picklist);
                    f.picklist_values = picklist(&["Alpha", "Beta", "Gamma"].map(String::from));
                    (f, Gen::Pick(20))
                }
            }
        })
        .collect()
}

/// `count` further custom objects, `Extra_Object_0001__c` and on, for measuring how a client
/// copes with a large org (`--extra-objects`): each has the fields of `extraObject` in
/// `catalog.json` and its count of records.
pub(crate) fn extra_objects(count: u32) -> Vec<ObjectDef> {
    const DIGITS: &[u8; 36] = b"0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ";
    let template = &catalog().extra;
    (1..=count)
        .map(|i| {
            let label = format!("{} {i}", template.sobject.label);
            // `x` and two base-36 digits: 1,296 prefixes, none used by the named objects.
            let n = i as usize;
            let prefix = format!(
                "x{}{}",
                DIGITS[(n / 36) % 36] as char,
                DIGITS[n % 36] as char
            );
            let mut def = template.clone();
            def.sobject.name = format!("Extra_Object_{i:04}__c");
            def.sobject.label = label.clone();
            def.sobject.label_plural = label;
            def.sobject.key_prefix = Some(prefix);
            def
        })
        .collect()
}

/// Every object of the org, in describeGlobal order.
pub(crate) fn objects() -> Vec<ObjectDef> {
    catalog().objects.clone()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_catalog_loads() {
        let catalog = load(CATALOG_JSON).unwrap_or_else(|e| panic!("{}", error_chain(&e)));
        assert_eq!(catalog.objects.len(), 20);
        for def in &catalog.objects {
            assert_eq!(
                def.sobject.fields.len(),
                def.gens.len(),
                "{}",
                def.sobject.name
            );
        }
        assert_eq!(extra_objects(2)[1].sobject.name, "Extra_Object_0002__c");
    }

    #[test]
    fn mistakes_name_their_object_and_field() {
        let text = CATALOG_JSON.replacen(r#""label": "Account Phone""#, r#""lable": "x""#, 1);
        let error = error_chain(&load(&text).err().expect("an error"));
        assert!(
            error.starts_with("catalog.json: object Account, field Phone: unknown field `lable`"),
            "{error}"
        );
        let text = CATALOG_JSON.replacen("#/groups/audit", "#/groups/nothing", 1);
        let error = error_chain(&load(&text).err().expect("an error"));
        assert_eq!(
            error,
            r##"catalog.json: {"$ref": "#/groups/nothing"} points at nothing"##
        );
    }
}
