//! Maps a configured stream to the Salesforce object, operation and CSV columns it writes, and
//! checks it against the object's describe before any job starts.
//!
//! A data-activation catalog names the object (`destination_object_name`), the operation
//! (`destination_sync_mode`) and the upsert key (`primary_key`). Without an object name
//! (PyAirbyte, plain Airbyte catalogs) the stream name is the object and every record is an
//! insert. Names match case-insensitively, as Salesforce does; the plan holds Salesforce's
//! spelling so the CSV header is exact.

use std::collections::HashMap;

use thiserror::Error;

use crate::destination::route::operation::Operation;
use crate::destination::route::relationship::{
    self, Relationship, RelationshipError, RelationshipName,
};
use crate::destination::route::sobject::{FieldInfo, FieldKind, SObjectInfo};
use crate::salesforce::FieldType;

/// Record keys with this prefix are Airbyte bookkeeping (`_airbyte_raw_id`,
/// `_airbyte_extracted_at`, `_airbyte_meta`...) and are never written.
pub(crate) const AIRBYTE_COLUMN_PREFIX: &str = "_airbyte_";

/// Whether a record key or schema property is Airbyte bookkeeping rather than data.
pub(crate) fn is_airbyte_column(name: &str) -> bool {
    name.len() >= AIRBYTE_COLUMN_PREFIX.len()
        && name[..AIRBYTE_COLUMN_PREFIX.len()].eq_ignore_ascii_case(AIRBYTE_COLUMN_PREFIX)
}

/// What the configured catalog says about one stream.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) struct StreamRoute {
    pub stream: String,
    pub namespace: Option<String>,
    pub destination_object_name: Option<String>,
    /// `append`, `append_dedup`, `update`, `soft_delete` (or `overwrite`, refused).
    pub destination_sync_mode: String,
    /// The configured `primary_key`: for an upsert, exactly one single-field key.
    pub primary_key: Vec<Vec<String>>,
    /// The stream's `json_schema.properties` names, in schema order.
    pub properties: Vec<String>,
    /// Listed in `hard_delete_streams`: its `soft_delete` is a `hardDelete`.
    pub hard_delete: bool,
}

impl StreamRoute {
    /// The object name the catalog asks for (before matching it against describeGlobal).
    pub(crate) fn requested_object(&self) -> &str {
        self.destination_object_name
            .as_deref()
            .filter(|name| !name.is_empty())
            .unwrap_or(&self.stream)
    }
}

/// A catalog that cannot be written as configured. Every variant is a `config_error`.
#[derive(Debug, Error, PartialEq, Eq)]
pub(crate) enum MappingError {
    #[error("stream '{stream}': Salesforce object '{object}' does not exist or is not visible to this user (check destination_object_name)")]
    UnknownObject { stream: String, object: String },
    #[error("stream '{stream}': destination_sync_mode '{mode}' is not supported; expected append (insert), append_dedup (upsert), update or soft_delete (delete)")]
    UnsupportedSyncMode { stream: String, mode: String },
    #[error("stream '{stream}' is in hard_delete_streams but its destination_sync_mode is '{mode}'; a hard delete is asked for with soft_delete")]
    HardDeleteNotSoftDelete { stream: String, mode: String },
    #[error("stream '{stream}': Salesforce object '{object}' does not allow {operation}")]
    OperationNotAllowed {
        stream: String,
        object: String,
        operation: &'static str,
    },
    #[error("stream '{stream}': append_dedup (upsert) into '{object}' needs exactly one primary_key field naming an external-id field; got {got}")]
    UpsertWithoutKey {
        stream: String,
        object: String,
        got: String,
    },
    #[error("stream '{stream}': upsert key '{field}' is not an external-id field of '{object}'; external-id fields: {candidates}")]
    KeyNotExternalId {
        stream: String,
        object: String,
        field: String,
        candidates: String,
    },
    #[error("stream '{stream}': field '{field}' does not exist on Salesforce object '{object}'")]
    UnknownField {
        stream: String,
        object: String,
        field: String,
    },
    #[error("stream '{stream}': field '{object}.{field}' cannot be written by {operation} (not {needs} for this user)")]
    ReadOnlyField {
        stream: String,
        object: String,
        field: String,
        operation: &'static str,
        needs: &'static str,
    },
    #[error("stream '{stream}': field '{object}.{field}' has type '{describe_type}', which the Bulk API cannot write")]
    UnsupportedFieldType {
        stream: String,
        object: String,
        field: String,
        describe_type: FieldType,
    },
    #[error("stream '{stream}': properties {first:?} and {second:?} both name the field '{object}.{field}' (names match case-insensitively)")]
    DuplicateColumn {
        stream: String,
        object: String,
        field: String,
        first: String,
        second: String,
    },
    #[error("stream '{stream}': property '{property}' of '{object}': {source}")]
    Relationship {
        stream: String,
        object: String,
        property: String,
        #[source]
        source: Box<RelationshipError>,
    },
    #[error("stream '{stream}': {operation} needs the key field '{field}' in the stream's schema")]
    MissingKeyColumn {
        stream: String,
        operation: &'static str,
        field: String,
    },
}

/// One CSV column: its header and the field whose type its cells take.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) struct Column {
    /// The CSV header: the field name, or `Relationship.Field` for a relationship column.
    pub header: String,
    /// The field written; for a relationship column, the parent's indexed field, named by the
    /// header and carrying the lookup's nillable/createable/updateable.
    pub field: FieldInfo,
    /// Set for a relationship column: the lookup it sets and through which parent field.
    pub relationship: Option<Relationship>,
}

impl Column {
    fn plain(field: &FieldInfo) -> Column {
        Column {
            header: field.describe.name.clone(),
            field: field.clone(),
            relationship: None,
        }
    }

    fn relationship(r: Relationship) -> Column {
        let mut field = r.parent_field.clone();
        field.describe.name = r.header.clone();
        field.describe.nillable = r.reference.describe.nillable;
        field.describe.createable = r.reference.describe.createable;
        field.describe.updateable = r.reference.describe.updateable;
        field.describe.defaulted_on_create = false;
        Column {
            header: r.header.clone(),
            field,
            relationship: Some(r),
        }
    }

    /// The object's own field this column sets (the lookup, for a relationship column).
    pub(crate) fn target_field(&self) -> &FieldInfo {
        self.relationship
            .as_ref()
            .map(|r| &r.reference)
            .unwrap_or(&self.field)
    }
}

/// A stream checked against describe: the object, operation and the CSV columns (Salesforce
/// spelling; the operation's key column first).
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) struct StreamTarget {
    pub stream: String,
    pub namespace: Option<String>,
    pub object: String,
    pub operation: Operation,
    pub columns: Vec<Column>,
    /// Fields an insert must set (createable, not nillable, no default on create), with the
    /// column that sets each if the stream has one: what Salesforce reports as
    /// REQUIRED_FIELD_MISSING, predicted by a dry run.
    pub required_on_insert: Vec<(String, Option<usize>)>,
    /// The record fields that name an input in the outcome report: the stream's `primary_key`
    /// (top-level fields), else the operation's key field.
    pub report_key: Vec<String>,
    by_lower_name: HashMap<String, usize>,
    /// Salesforce spellings and the schema's own spellings: the common case, no allocation.
    by_exact_name: HashMap<String, usize, foldhash::fast::FixedState>,
}

impl StreamTarget {
    /// The column a record key writes, matched case-insensitively.
    pub(crate) fn column_index(&self, record_key: &str) -> Option<usize> {
        if let Some(&index) = self.by_exact_name.get(record_key) {
            return Some(index);
        }
        self.by_lower_name
            .get(&record_key.to_ascii_lowercase())
            .copied()
    }

    /// The index of the operation's key column (`Id`, the external id), if any.
    pub(crate) fn key_column(&self) -> Option<usize> {
        self.operation
            .key_field()
            .and_then(|k| self.column_index(k))
    }

    /// The CSV header: field names (and relationship columns) in Salesforce's spelling.
    pub(crate) fn header(&self) -> impl Iterator<Item = &str> {
        self.columns.iter().map(|c| c.header.as_str())
    }
}

/// Finds the object a stream asks for among describeGlobal's names, ignoring case.
pub(crate) fn resolve_object_name<'a>(
    requested: &str,
    names: impl IntoIterator<Item = &'a str>,
) -> Option<&'a str> {
    names
        .into_iter()
        .find(|name| name.eq_ignore_ascii_case(requested))
}

/// The error for a stream whose object is not in describeGlobal.
pub(crate) fn unknown_object(route: &StreamRoute) -> MappingError {
    MappingError::UnknownObject {
        stream: route.stream.clone(),
        object: route.requested_object().to_string(),
    }
}

/// The parent objects `route`'s relationship columns point to, which [`plan_stream`] needs
/// described.
pub(crate) fn parents_needed(route: &StreamRoute, object: &SObjectInfo) -> Vec<String> {
    let mut out: Vec<String> = Vec::new();
    for property in &route.properties {
        if object.field(property).is_some() {
            continue;
        }
        for parent in relationship::parents_needed(object, property) {
            if !out.contains(&parent) {
                out.push(parent);
            }
        }
    }
    out
}

/// Checks `route` against `object`'s describe and builds its target (`parents`: the describes
/// of the objects its relationship columns point to, by name).
pub(crate) fn plan_stream(
    route: &StreamRoute,
    object: &SObjectInfo,
    parents: &HashMap<String, SObjectInfo>,
) -> Result<StreamTarget, MappingError> {
    let stream = route.stream.clone();
    let operation = operation_for(route, object)?;
    let not_allowed = |operation: &'static str| MappingError::OperationNotAllowed {
        stream: stream.clone(),
        object: object.name.clone(),
        operation,
    };
    match &operation {
        Operation::Insert if !object.createable => return Err(not_allowed("insert")),
        Operation::Update if !object.updateable => return Err(not_allowed("update")),
        Operation::Upsert { .. } if !(object.createable && object.updateable) => {
            return Err(not_allowed("upsert"))
        }
        Operation::Delete | Operation::HardDelete if !object.deletable => {
            return Err(not_allowed("delete"))
        }
        _ => {}
    }

    let mut columns: Vec<Column> = Vec::new();
    let mut by_lower_name: HashMap<String, usize> = HashMap::new();
    let mut property_of: Vec<String> = Vec::new();
    let key = operation.key_field().map(str::to_string);

    if let Some(key) = &key {
        let field = object
            .field(key)
            .ok_or_else(|| MappingError::UnknownField {
                stream: stream.clone(),
                object: object.name.clone(),
                field: key.clone(),
            })?;
        let in_schema = route
            .properties
            .iter()
            .find(|p| p.eq_ignore_ascii_case(key));
        let Some(property) = in_schema else {
            return Err(MappingError::MissingKeyColumn {
                stream,
                operation: operation.as_str(),
                field: field.describe.name.clone(),
            });
        };
        by_lower_name.insert(field.describe.name.to_ascii_lowercase(), 0);
        property_of.push(property.clone());
        columns.push(Column::plain(field));
    }
    // The object's fields set so far (a lookup set twice, by Id and by a relationship column,
    // is refused), by lower-case name -> column.
    let mut targets: HashMap<String, usize> = columns
        .iter()
        .enumerate()
        .map(|(i, c)| (c.field.describe.name.to_ascii_lowercase(), i))
        .collect();

    // A delete job takes only the Id column; other properties of the stream are ignored.
    if !operation.is_delete() {
        for property in &route.properties {
            if is_airbyte_column(property) {
                continue;
            }
            let column = match object.field(property) {
                Some(field) => Column::plain(field),
                None => {
                    let Some(parsed) = RelationshipName::parse(property) else {
                        return Err(MappingError::UnknownField {
                            stream: stream.clone(),
                            object: object.name.clone(),
                            field: property.clone(),
                        });
                    };
                    let resolved =
                        relationship::resolve(object, &parsed, parents).map_err(|source| {
                            MappingError::Relationship {
                                stream: stream.clone(),
                                object: object.name.clone(),
                                property: property.clone(),
                                source: Box::new(source),
                            }
                        })?;
                    Column::relationship(resolved)
                }
            };
            let field = &column.field;
            let lower = column.header.to_ascii_lowercase();
            let target_lower = column.target_field().describe.name.to_ascii_lowercase();
            // `field` set by the property of column `existing` and again by this one.
            let duplicate = |existing: usize, field: &str| MappingError::DuplicateColumn {
                stream: stream.clone(),
                object: object.name.clone(),
                field: field.to_owned(),
                first: property_of[existing].clone(),
                second: property.clone(),
            };
            if column.relationship.is_some() {
                if let Some(&existing) = targets.get(&target_lower) {
                    return Err(duplicate(existing, &column.target_field().describe.name));
                }
            }
            if let Some(&existing) = by_lower_name.get(&lower) {
                if key
                    .as_deref()
                    .is_some_and(|k| k.eq_ignore_ascii_case(&field.describe.name))
                    && property_of[existing] == *property
                {
                    continue;
                }
                return Err(duplicate(existing, &field.describe.name));
            }
            if let Some(&existing) = targets.get(&target_lower) {
                if column.relationship.is_none() && columns[existing].relationship.is_some() {
                    return Err(duplicate(existing, &field.describe.name));
                }
            }
            check_writable(&stream, object, column.target_field(), &operation)?;
            if column.field.kind == FieldKind::Unsupported {
                return Err(MappingError::UnsupportedFieldType {
                    stream: stream.clone(),
                    object: object.name.clone(),
                    field: column.header.clone(),
                    describe_type: column.field.describe.field_type.clone(),
                });
            }
            by_lower_name.insert(lower, columns.len());
            targets.insert(target_lower, columns.len());
            property_of.push(property.clone());
            columns.push(column);
        }
    }

    let mut by_exact_name: HashMap<String, usize, foldhash::fast::FixedState> = HashMap::default();
    for (index, column) in columns.iter().enumerate() {
        by_exact_name.insert(column.header.clone(), index);
        by_exact_name.insert(property_of[index].clone(), index);
    }
    let required_on_insert = if operation == Operation::Insert {
        object
            .fields
            .iter()
            .filter(|f| {
                f.describe.createable && !f.describe.nillable && !f.describe.defaulted_on_create
            })
            .map(|f| {
                let column = columns
                    .iter()
                    .position(|c| c.target_field().describe.name == f.describe.name);
                (f.describe.name.clone(), column)
            })
            .collect()
    } else {
        Vec::new()
    };
    let mut report_key: Vec<String> = route
        .primary_key
        .iter()
        .filter_map(|path| path.first().cloned())
        .collect();
    if report_key.is_empty() {
        report_key.extend(operation.key_field().map(str::to_string));
    }
    Ok(StreamTarget {
        by_exact_name,
        required_on_insert,
        report_key,
        stream: route.stream.clone(),
        namespace: route.namespace.clone(),
        object: object.name.clone(),
        operation,
        columns,
        by_lower_name,
    })
}

fn operation_for(route: &StreamRoute, object: &SObjectInfo) -> Result<Operation, MappingError> {
    if route.hard_delete && route.destination_sync_mode != "soft_delete" {
        return Err(MappingError::HardDeleteNotSoftDelete {
            stream: route.stream.clone(),
            mode: route.destination_sync_mode.clone(),
        });
    }
    let has_object_name = route
        .destination_object_name
        .as_deref()
        .is_some_and(|n| !n.is_empty());
    if !has_object_name {
        return Ok(Operation::Insert);
    }
    match route.destination_sync_mode.as_str() {
        "append" => Ok(Operation::Insert),
        "update" => Ok(Operation::Update),
        "soft_delete" if route.hard_delete => Ok(Operation::HardDelete),
        "soft_delete" => Ok(Operation::Delete),
        "append_dedup" => {
            let key = match route.primary_key.as_slice() {
                [single] if single.len() == 1 => &single[0],
                other => {
                    return Err(MappingError::UpsertWithoutKey {
                        stream: route.stream.clone(),
                        object: object.name.clone(),
                        got: format!("{other:?}"),
                    })
                }
            };
            let candidates = || {
                let names: Vec<&str> = object
                    .external_id_fields()
                    .map(|f| f.describe.name.as_str())
                    .collect();
                if names.is_empty() {
                    "none".to_string()
                } else {
                    names.join(", ")
                }
            };
            match object.field(key) {
                Some(field) if field.describe.external_id || field.describe.name == "Id" => {
                    Ok(Operation::Upsert {
                        external_id_field: field.describe.name.clone(),
                    })
                }
                Some(field) => Err(MappingError::KeyNotExternalId {
                    stream: route.stream.clone(),
                    object: object.name.clone(),
                    field: field.describe.name.clone(),
                    candidates: candidates(),
                }),
                None => Err(MappingError::UnknownField {
                    stream: route.stream.clone(),
                    object: object.name.clone(),
                    field: key.clone(),
                }),
            }
        }
        other => Err(MappingError::UnsupportedSyncMode {
            stream: route.stream.clone(),
            mode: other.to_string(),
        }),
    }
}

fn check_writable(
    stream: &str,
    object: &SObjectInfo,
    field: &FieldInfo,
    operation: &Operation,
) -> Result<(), MappingError> {
    if field.kind == FieldKind::Unsupported {
        return Err(MappingError::UnsupportedFieldType {
            stream: stream.to_string(),
            object: object.name.clone(),
            field: field.describe.name.clone(),
            describe_type: field.describe.field_type.clone(),
        });
    }
    let (ok, needs) = match operation {
        Operation::Insert => (field.describe.createable, "createable"),
        Operation::Update => (field.describe.updateable, "updateable"),
        Operation::Upsert { .. } => (
            field.describe.createable && field.describe.updateable,
            "both createable and updateable",
        ),
        Operation::Delete | Operation::HardDelete => (true, ""),
    };
    if ok {
        Ok(())
    } else {
        Err(MappingError::ReadOnlyField {
            stream: stream.to_string(),
            object: object.name.clone(),
            field: field.describe.name.clone(),
            operation: operation.as_str(),
            needs,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// `route` planned against [`account`] with no relationship targets.
    fn plan(route: &StreamRoute) -> Result<StreamTarget, MappingError> {
        plan_stream(route, &account(), &HashMap::new())
    }

    /// Why `route` cannot be planned against [`account`].
    fn plan_error(route: &StreamRoute) -> String {
        plan(route).unwrap_err().to_string()
    }

    fn account() -> SObjectInfo {
        let mut fields = FieldInfo::account_keys();
        fields.extend([
            FieldInfo::new("Health_Score__c", "double"),
            FieldInfo::system("CreatedDate", "datetime"),
            FieldInfo::new("BillingAddress", "address"),
        ]);
        SObjectInfo::writable("Account", fields)
    }

    /// Why an `Account` stream with these properties cannot be planned.
    /// The error planning a `mode` stream of `properties` to Account fails with, checked to be
    /// the `MappingError` variant named.
    macro_rules! refused {
        ($mode:expr, $properties:expr, $variant:ident) => {{
            let err = plan(&route($mode, Some("Account"), $properties)).unwrap_err();
            assert!(matches!(err, MappingError::$variant { .. }), "{err}");
            err
        }};
    }

    fn route(mode: &str, object: Option<&str>, properties: &[&str]) -> StreamRoute {
        StreamRoute {
            stream: "accounts".into(),
            namespace: None,
            destination_object_name: object.map(str::to_string),
            destination_sync_mode: mode.into(),
            primary_key: vec![],
            hard_delete: false,
            properties: properties.iter().map(|p| p.to_string()).collect(),
        }
    }

    #[test]
    fn lower_cased_pyairbyte_columns_map_to_salesforce_spelling() {
        let r = route(
            "overwrite",
            None,
            &["name", "health_score__c", "_airbyte_raw_id"],
        );
        let target = plan(&r).unwrap();
        assert_eq!(target.operation, Operation::Insert);
        assert_eq!(
            target.header().collect::<Vec<_>>(),
            ["Name", "Health_Score__c"]
        );
        assert_eq!(target.column_index("HEALTH_score__C"), Some(1));
        assert_eq!(target.column_index("_airbyte_raw_id"), None);
    }

    #[test]
    fn upsert_uses_the_primary_key_upsert_key_and_puts_it_first() {
        let mut r = route("append_dedup", Some("account"), &["Name", "ext_id__c"]);
        r.primary_key = vec![vec!["ext_id__c".into()]];
        let target = plan(&r).unwrap();
        assert_eq!(
            target.operation,
            Operation::Upsert {
                external_id_field: "Ext_Id__c".into()
            }
        );
        assert_eq!(target.header().collect::<Vec<_>>(), ["Ext_Id__c", "Name"]);
        assert_eq!(target.key_column(), Some(0));
    }

    #[test]
    fn upsert_without_a_single_key_is_a_config_error() {
        let err = refused!("append_dedup", &["Name"], UpsertWithoutKey);
        assert!(err.to_string().contains("primary_key"));
    }

    #[test]
    fn upsert_on_a_plain_field_names_the_external_id_candidates() {
        let mut r = route("append_dedup", Some("Account"), &["Name"]);
        r.primary_key = vec![vec!["Name".into()]];
        let err = plan_error(&r);
        assert!(err.contains("'Name' is not an external-id field"), "{err}");
        assert!(err.contains("Ext_Id__c"), "{err}");
    }

    #[test]
    fn unknown_field_is_named() {
        let r = route("append", Some("Account"), &["Name", "Nope__c"]);
        let err = plan_error(&r);
        assert!(
            err.contains("'Nope__c' does not exist on Salesforce object 'Account'"),
            "{err}"
        );
    }

    #[test]
    fn read_only_field_for_the_operation_is_named() {
        let r = route("append", Some("Account"), &["Name", "CreatedDate"]);
        let err = plan_error(&r);
        assert!(err.contains("Account.CreatedDate"), "{err}");
        assert!(err.contains("createable"), "{err}");
    }

    #[test]
    fn update_needs_id_in_the_schema() {
        refused!("update", &["Name"], MissingKeyColumn);
        let r = route("update", Some("Account"), &["id", "Name"]);
        let target = plan(&r).unwrap();
        assert_eq!(target.header().collect::<Vec<_>>(), ["Id", "Name"]);
    }

    #[test]
    fn delete_writes_only_the_id_column() {
        let r = route(
            "soft_delete",
            Some("Account"),
            &["Id", "Name", "CreatedDate"],
        );
        let target = plan(&r).unwrap();
        assert_eq!(target.header().collect::<Vec<_>>(), ["Id"]);
    }

    #[test]
    fn overwrite_is_refused_for_data_activation_catalogs() {
        refused!("overwrite", &["Name"], UnsupportedSyncMode);
    }

    #[test]
    fn compound_fields_are_refused() {
        refused!("append", &["BillingAddress"], UnsupportedFieldType);
    }

    #[test]
    fn two_properties_differing_only_in_case_are_refused() {
        refused!("append", &["Name", "name"], DuplicateColumn);
    }

    #[test]
    fn object_names_resolve_case_insensitively() {
        let names = ["Account", "Contact"];
        assert_eq!(resolve_object_name("contact", names), Some("Contact"));
        assert_eq!(resolve_object_name("Lead", names), None);
    }
}
