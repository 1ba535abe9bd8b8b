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
use crate::destination::route::sobject::{FieldInfo, FieldKind, SObjectInfo};

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
        describe_type: String,
    },
    #[error("stream '{stream}': properties {first:?} and {second:?} both name the field '{object}.{field}' (names match case-insensitively)")]
    DuplicateColumn {
        stream: String,
        object: String,
        field: String,
        first: String,
        second: String,
    },
    #[error("stream '{stream}': {operation} needs the key field '{field}' in the stream's schema")]
    MissingKeyColumn {
        stream: String,
        operation: &'static str,
        field: String,
    },
}

/// One CSV column: the Salesforce field it writes.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) struct Column {
    pub field: FieldInfo,
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

    /// The CSV header: field names in Salesforce's spelling.
    pub(crate) fn header(&self) -> impl Iterator<Item = &str> {
        self.columns.iter().map(|c| c.field.name.as_str())
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

/// Checks `route` against `object`'s describe and builds its target.
pub(crate) fn plan_stream(
    route: &StreamRoute,
    object: &SObjectInfo,
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
        Operation::Delete if !object.deletable => return Err(not_allowed("delete")),
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
                field: field.name.clone(),
            });
        };
        by_lower_name.insert(field.name.to_ascii_lowercase(), 0);
        property_of.push(property.clone());
        columns.push(Column {
            field: field.clone(),
        });
    }

    // A delete job takes only the Id column; other properties of the stream are ignored.
    if operation != Operation::Delete {
        for property in &route.properties {
            if is_airbyte_column(property) {
                continue;
            }
            let field = object
                .field(property)
                .ok_or_else(|| MappingError::UnknownField {
                    stream: stream.clone(),
                    object: object.name.clone(),
                    field: property.clone(),
                })?;
            let lower = field.name.to_ascii_lowercase();
            if let Some(&existing) = by_lower_name.get(&lower) {
                if key
                    .as_deref()
                    .is_some_and(|k| k.eq_ignore_ascii_case(&field.name))
                    && property_of[existing] == *property
                {
                    continue;
                }
                return Err(MappingError::DuplicateColumn {
                    stream,
                    object: object.name.clone(),
                    field: field.name.clone(),
                    first: property_of[existing].clone(),
                    second: property.clone(),
                });
            }
            check_writable(&stream, object, field, &operation)?;
            by_lower_name.insert(lower, columns.len());
            property_of.push(property.clone());
            columns.push(Column {
                field: field.clone(),
            });
        }
    }

    let mut by_exact_name: HashMap<String, usize, foldhash::fast::FixedState> = HashMap::default();
    for (index, column) in columns.iter().enumerate() {
        by_exact_name.insert(column.field.name.clone(), index);
        by_exact_name.insert(property_of[index].clone(), index);
    }
    Ok(StreamTarget {
        by_exact_name,
        stream: route.stream.clone(),
        namespace: route.namespace.clone(),
        object: object.name.clone(),
        operation,
        columns,
        by_lower_name,
    })
}

fn operation_for(route: &StreamRoute, object: &SObjectInfo) -> Result<Operation, MappingError> {
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
                    .map(|f| f.name.as_str())
                    .collect();
                if names.is_empty() {
                    "none".to_string()
                } else {
                    names.join(", ")
                }
            };
            match object.field(key) {
                Some(field) if field.external_id || field.name == "Id" => Ok(Operation::Upsert {
                    external_id_field: field.name.clone(),
                }),
                Some(field) => Err(MappingError::KeyNotExternalId {
                    stream: route.stream.clone(),
                    object: object.name.clone(),
                    field: field.name.clone(),
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
            field: field.name.clone(),
            describe_type: field.describe_type.clone(),
        });
    }
    let (ok, needs) = match operation {
        Operation::Insert => (field.createable, "createable"),
        Operation::Update => (field.updateable, "updateable"),
        Operation::Upsert { .. } => (
            field.createable && field.updateable,
            "both createable and updateable",
        ),
        Operation::Delete => (true, ""),
    };
    if ok {
        Ok(())
    } else {
        Err(MappingError::ReadOnlyField {
            stream: stream.to_string(),
            object: object.name.clone(),
            field: field.name.clone(),
            operation: operation.as_str(),
            needs,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn account() -> SObjectInfo {
        let mut id = FieldInfo::new("Id", "id");
        id.createable = false;
        id.updateable = false;
        id.nillable = false;
        let mut ext = FieldInfo::new("Ext_Id__c", "string");
        ext.external_id = true;
        let mut created = FieldInfo::new("CreatedDate", "datetime");
        created.createable = false;
        created.updateable = false;
        let mut name = FieldInfo::new("Name", "string");
        name.nillable = false;
        SObjectInfo::new(
            "Account",
            true,
            true,
            true,
            vec![
                id,
                name,
                ext,
                FieldInfo::new("Health_Score__c", "double"),
                created,
                FieldInfo::new("BillingAddress", "address"),
            ],
        )
    }

    fn route(mode: &str, object: Option<&str>, properties: &[&str]) -> StreamRoute {
        StreamRoute {
            stream: "accounts".into(),
            namespace: None,
            destination_object_name: object.map(str::to_string),
            destination_sync_mode: mode.into(),
            primary_key: vec![],
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
        let target = plan_stream(&r, &account()).unwrap();
        assert_eq!(target.operation, Operation::Insert);
        assert_eq!(
            target.header().collect::<Vec<_>>(),
            ["Name", "Health_Score__c"]
        );
        assert_eq!(target.column_index("HEALTH_score__C"), Some(1));
        assert_eq!(target.column_index("_airbyte_raw_id"), None);
    }

    #[test]
    fn upsert_uses_the_primary_key_as_external_id_and_puts_it_first() {
        let mut r = route("append_dedup", Some("account"), &["Name", "ext_id__c"]);
        r.primary_key = vec![vec!["ext_id__c".into()]];
        let target = plan_stream(&r, &account()).unwrap();
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
        let r = route("append_dedup", Some("Account"), &["Name"]);
        let err = plan_stream(&r, &account()).unwrap_err();
        assert!(
            matches!(err, MappingError::UpsertWithoutKey { .. }),
            "{err}"
        );
        assert!(err.to_string().contains("primary_key"));
    }

    #[test]
    fn upsert_on_a_plain_field_names_the_external_id_candidates() {
        let mut r = route("append_dedup", Some("Account"), &["Name"]);
        r.primary_key = vec![vec!["Name".into()]];
        let err = plan_stream(&r, &account()).unwrap_err().to_string();
        assert!(err.contains("'Name' is not an external-id field"), "{err}");
        assert!(err.contains("Ext_Id__c"), "{err}");
    }

    #[test]
    fn unknown_field_is_named() {
        let r = route("append", Some("Account"), &["Name", "Nope__c"]);
        let err = plan_stream(&r, &account()).unwrap_err().to_string();
        assert!(
            err.contains("'Nope__c' does not exist on Salesforce object 'Account'"),
            "{err}"
        );
    }

    #[test]
    fn read_only_field_for_the_operation_is_named() {
        let r = route("append", Some("Account"), &["Name", "CreatedDate"]);
        let err = plan_stream(&r, &account()).unwrap_err().to_string();
        assert!(err.contains("Account.CreatedDate"), "{err}");
        assert!(err.contains("createable"), "{err}");
    }

    #[test]
    fn update_needs_id_in_the_schema() {
        let r = route("update", Some("Account"), &["Name"]);
        let err = plan_stream(&r, &account()).unwrap_err();
        assert!(
            matches!(err, MappingError::MissingKeyColumn { .. }),
            "{err}"
        );
        let r = route("update", Some("Account"), &["id", "Name"]);
        let target = plan_stream(&r, &account()).unwrap();
        assert_eq!(target.header().collect::<Vec<_>>(), ["Id", "Name"]);
    }

    #[test]
    fn delete_writes_only_the_id_column() {
        let r = route(
            "soft_delete",
            Some("Account"),
            &["Id", "Name", "CreatedDate"],
        );
        let target = plan_stream(&r, &account()).unwrap();
        assert_eq!(target.header().collect::<Vec<_>>(), ["Id"]);
    }

    #[test]
    fn overwrite_is_refused_for_data_activation_catalogs() {
        let r = route("overwrite", Some("Account"), &["Name"]);
        let err = plan_stream(&r, &account()).unwrap_err();
        assert!(matches!(err, MappingError::UnsupportedSyncMode { .. }));
    }

    #[test]
    fn compound_fields_are_refused() {
        let r = route("append", Some("Account"), &["BillingAddress"]);
        let err = plan_stream(&r, &account()).unwrap_err();
        assert!(matches!(err, MappingError::UnsupportedFieldType { .. }));
    }

    #[test]
    fn two_properties_differing_only_in_case_are_refused() {
        let r = route("append", Some("Account"), &["Name", "name"]);
        let err = plan_stream(&r, &account()).unwrap_err();
        assert!(matches!(err, MappingError::DuplicateColumn { .. }));
    }

    #[test]
    fn object_names_resolve_case_insensitively() {
        let names = ["Account", "Contact"];
        assert_eq!(resolve_object_name("contact", names), Some("Contact"));
        assert_eq!(resolve_object_name("Lead", names), None);
    }
}
