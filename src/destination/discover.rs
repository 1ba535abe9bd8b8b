//! `discover`: the data-activation catalog — for every object, the operations it allows and the
//! JSON schema of each, as Airbyte's destination-salesforce lists them.
//!
//! | operation (sync mode)      | offered when                        | fields                   | matching keys |
//! |----------------------------|-------------------------------------|--------------------------|---------------|
//! | insert (`append`)          | createable                          | createable               | —             |
//! | update (`update`)          | updateable                          | `Id` + updateable        | `[["Id"]]`    |
//! | upsert (`append_dedup`)    | createable, updateable, external id | createable and updateable| each external id |
//! | delete (`soft_delete`)     | deletable                           | `Id`                     | `[["Id"]]`    |
//!
//! `required` lists the fields Salesforce insists on: the key, and on create the fields that are
//! neither nillable nor defaulted. Fields the Bulk API cannot write (compound, base64) are left
//! out.
//!
//! Insert, update and upsert also list the object's relationship columns (see
//! [`super::relationship`]): per lookup, per parent object, per external-id or idLookup field
//! of the parent, a property `Relationship.Field` (`Lead:Who.Email` when the lookup is
//! polymorphic) whose description says which lookup it sets.

use std::collections::HashMap;

use futures::{stream, StreamExt, TryStreamExt};
use serde_json::{json, Map, Value};

use crate::protocol::{DestinationCatalog, DestinationOperation, DestinationSyncMode};
use crate::salesforce::{Error, SalesforceClient};

use crate::destination::route::relationship::{self, Relationship};
use crate::destination::route::sobject::{FieldInfo, FieldKind, SObjectInfo};

/// How many describe calls run at once.
const CONCURRENT_DESCRIBES: usize = 8;

/// Describes every writable object of the org and lists its operations, sorted by object.
pub(crate) async fn destination_catalog(
    client: &SalesforceClient,
) -> Result<DestinationCatalog, Error> {
    let global = client.describe_global().await?;
    let names: Vec<String> = global
        .sobjects
        .iter()
        .filter(|o| !o.deprecated_and_hidden && (o.createable || o.updateable || o.deletable))
        .map(|o| o.name.clone())
        .collect();
    let mut objects: Vec<SObjectInfo> = describe_all(client, names).await?;
    objects.sort_by(|a, b| a.name.cmp(&b.name));
    let mut described: HashMap<String, SObjectInfo> = objects
        .iter()
        .map(|o| (o.name.clone(), o.clone()))
        .collect();
    // Parents that are not writable themselves (User...) still identify records by their
    // idLookup fields: describe them too.
    let visible: std::collections::HashSet<&str> =
        global.sobjects.iter().map(|o| o.name.as_str()).collect();
    let mut missing: Vec<String> = objects
        .iter()
        .flat_map(|o| o.fields.iter())
        .filter(|f| f.describe.relationship_name.is_some())
        .flat_map(|f| f.describe.reference_to.iter())
        .filter(|p| !described.contains_key(*p) && visible.contains(p.as_str()))
        .cloned()
        .collect();
    missing.sort();
    missing.dedup();
    for parent in describe_all(client, missing).await? {
        described.insert(parent.name.clone(), parent);
    }
    Ok(DestinationCatalog {
        operations: objects
            .iter()
            .flat_map(|o| operations(o, &relationship::columns(o, &described)))
            .collect(),
    })
}

async fn describe_all(
    client: &SalesforceClient,
    names: Vec<String>,
) -> Result<Vec<SObjectInfo>, Error> {
    stream::iter(names)
        .map(|name| async move { client.describe(&name).await.map(|d| SObjectInfo::from(&d)) })
        .buffer_unordered(CONCURRENT_DESCRIBES)
        .try_collect()
        .await
}

/// The operations one object allows, each with its schema (`relationships`: the object's
/// relationship columns, listed for the operations that may set their lookup).
pub(crate) fn operations(
    object: &SObjectInfo,
    relationships: &[Relationship],
) -> Vec<DestinationOperation> {
    let related = |allowed: fn(&FieldInfo) -> bool| -> Vec<&Relationship> {
        relationships
            .iter()
            .filter(|r| allowed(&r.reference))
            .collect()
    };
    let writable = |f: &&FieldInfo| f.kind != FieldKind::Unsupported;
    let required_on_create = |f: &FieldInfo| {
        f.describe.createable && !f.describe.nillable && !f.describe.defaulted_on_create
    };
    let mut out = Vec::new();
    let id = object.field("Id");

    if object.createable {
        let fields: Vec<&FieldInfo> = object
            .fields
            .iter()
            .filter(|f| f.describe.createable)
            .filter(writable)
            .collect();
        let required = fields
            .iter()
            .filter(|f| required_on_create(f))
            .map(|f| f.describe.name.clone())
            .collect();
        out.push(operation(
            object,
            DestinationSyncMode::Append,
            &fields,
            &related(|f| f.describe.createable),
            required,
            None,
        ));
    }
    if object.updateable {
        if let Some(id) = id {
            let mut fields = vec![id];
            fields.extend(
                object
                    .fields
                    .iter()
                    .filter(|f| f.describe.updateable && f.describe.name != "Id")
                    .filter(writable),
            );
            out.push(operation(
                object,
                DestinationSyncMode::Update,
                &fields,
                &related(|f| f.describe.updateable),
                vec![id.describe.name.clone()],
                Some(vec![vec![id.describe.name.clone()]]),
            ));
        }
    }
    if object.createable && object.updateable {
        let keys: Vec<&FieldInfo> = object.external_id_fields().filter(writable).collect();
        if !keys.is_empty() {
            let fields: Vec<&FieldInfo> = object
                .fields
                .iter()
                .filter(|f| f.describe.createable && f.describe.updateable)
                .filter(writable)
                .collect();
            let mut required: Vec<String> = fields
                .iter()
                .filter(|f| required_on_create(f))
                .map(|f| f.describe.name.clone())
                .collect();
            // Any external id may serve as the key; a record must carry the one chosen.
            required.retain(|name| !keys.iter().any(|k| &k.describe.name == name));
            out.push(operation(
                object,
                DestinationSyncMode::AppendDedup,
                &fields,
                &related(|f| f.describe.createable && f.describe.updateable),
                required,
                Some(keys.iter().map(|k| vec![k.describe.name.clone()]).collect()),
            ));
        }
    }
    if object.deletable {
        if let Some(id) = id {
            out.push(operation(
                object,
                DestinationSyncMode::SoftDelete,
                &[id],
                &[],
                vec![id.describe.name.clone()],
                Some(vec![vec![id.describe.name.clone()]]),
            ));
        }
    }
    out
}

fn operation(
    object: &SObjectInfo,
    sync_mode: DestinationSyncMode,
    fields: &[&FieldInfo],
    relationships: &[&Relationship],
    required: Vec<String>,
    matching_keys: Option<Vec<Vec<String>>>,
) -> DestinationOperation {
    let mut properties: Map<String, Value> = fields
        .iter()
        .map(|f| (f.describe.name.clone(), field_schema(f)))
        .collect();
    for r in relationships {
        let mut key = r.parent_field.clone();
        key.describe.nillable = r.reference.describe.nillable;
        let mut schema = field_schema(&key);
        schema["description"] = json!(format!(
            "Sets {} to the {} whose {} is this value",
            r.reference.describe.name, r.parent, r.parent_field.describe.name
        ));
        properties.insert(r.header.clone(), schema);
    }
    DestinationOperation {
        object_name: object.name.clone(),
        sync_mode,
        json_schema: json!({
            "type": "object",
            "additionalProperties": false,
            "properties": properties,
            "required": required,
        }),
        matching_keys,
    }
}

/// A field's JSON schema, by describe type (nillable fields also accept null).
pub(crate) fn field_schema(field: &FieldInfo) -> Value {
    let base = match field.kind {
        FieldKind::Boolean => "boolean",
        FieldKind::Integer => "integer",
        FieldKind::Long | FieldKind::Decimal => "number",
        _ => "string",
    };
    let types = if field.describe.nillable {
        json!([base, "null"])
    } else {
        json!(base)
    };
    let mut schema = json!({ "type": types });
    match field.kind {
        FieldKind::Date => {
            schema["format"] = json!("date");
        }
        FieldKind::DateTime => {
            schema["format"] = json!("date-time");
            schema["airbyte_type"] = json!("timestamp_with_timezone");
        }
        _ => {}
    }
    schema
}

#[cfg(test)]
mod tests {
    use super::*;

    fn account() -> SObjectInfo {
        let mut active = FieldInfo::new("Active__c", "boolean").required();
        active.describe.defaulted_on_create = true;
        let mut create_only = FieldInfo::new("Source__c", "picklist");
        create_only.describe.updateable = false;
        let mut fields = FieldInfo::account_keys();
        fields.extend([
            active,
            FieldInfo::system("CreatedDate", "datetime"),
            create_only,
            FieldInfo::new("Score__c", "double"),
            FieldInfo::new("Seats__c", "int"),
            FieldInfo::new("Renewal__c", "date"),
            FieldInfo::new("BillingAddress", "address"),
        ]);
        SObjectInfo::writable("Account", fields)
    }

    fn by_mode(ops: &[DestinationOperation], mode: DestinationSyncMode) -> &DestinationOperation {
        ops.iter().find(|o| o.sync_mode == mode).unwrap()
    }

    fn property_names(op: &DestinationOperation) -> Vec<&str> {
        op.json_schema["properties"]
            .as_object()
            .unwrap()
            .keys()
            .map(String::as_str)
            .collect()
    }

    #[test]
    fn a_fully_writable_object_offers_all_four_operations() {
        let ops = operations(&account(), &[]);
        let modes: Vec<_> = ops.iter().map(|o| o.sync_mode).collect();
        assert_eq!(
            modes,
            [
                DestinationSyncMode::Append,
                DestinationSyncMode::Update,
                DestinationSyncMode::AppendDedup,
                DestinationSyncMode::SoftDelete
            ]
        );
    }

    #[test]
    fn insert_lists_createable_fields_and_requires_the_undefaulted_non_nillable_ones() {
        let ops = operations(&account(), &[]);
        let insert = by_mode(&ops, DestinationSyncMode::Append);
        assert_eq!(
            property_names(insert),
            [
                "Name",
                "Ext_Id__c",
                "Active__c",
                "Source__c",
                "Score__c",
                "Seats__c",
                "Renewal__c"
            ]
        );
        assert_eq!(insert.json_schema["required"], json!(["Name"]));
        assert_eq!(insert.json_schema["additionalProperties"], json!(false));
        assert!(insert.matching_keys.is_none());
    }

    #[test]
    fn update_is_keyed_on_id_and_lists_updateable_fields() {
        let ops = operations(&account(), &[]);
        let update = by_mode(&ops, DestinationSyncMode::Update);
        assert_eq!(property_names(update)[0], "Id");
        assert!(!property_names(update).contains(&"Source__c"));
        assert_eq!(update.json_schema["required"], json!(["Id"]));
        assert_eq!(update.matching_keys, Some(vec![vec!["Id".to_string()]]));
    }

    #[test]
    fn upsert_is_offered_per_external_id_with_fields_both_createable_and_updateable() {
        let ops = operations(&account(), &[]);
        let upsert = by_mode(&ops, DestinationSyncMode::AppendDedup);
        assert_eq!(
            upsert.matching_keys,
            Some(vec![vec!["Ext_Id__c".to_string()]])
        );
        assert!(!property_names(upsert).contains(&"Source__c"));
        assert!(property_names(upsert).contains(&"Ext_Id__c"));
    }

    #[test]
    fn delete_takes_only_the_id() {
        let ops = operations(&account(), &[]);
        let delete = by_mode(&ops, DestinationSyncMode::SoftDelete);
        assert_eq!(property_names(delete), ["Id"]);
    }

    #[test]
    fn an_object_without_external_ids_offers_no_upsert() {
        let mut object = account();
        object.fields.retain(|f| f.describe.name != "Ext_Id__c");
        let object = SObjectInfo::new("Account", true, true, true, object.fields);
        assert!(operations(&object, &[])
            .iter()
            .all(|o| o.sync_mode != DestinationSyncMode::AppendDedup));
    }

    #[test]
    fn a_read_only_object_offers_nothing() {
        let object = SObjectInfo::new("LoginHistory", false, false, false, account().fields);
        assert!(operations(&object, &[]).is_empty());
    }

    #[test]
    fn field_schemas_follow_describe_types() {
        let ops = operations(&account(), &[]);
        let insert = by_mode(&ops, DestinationSyncMode::Append);
        let props = &insert.json_schema["properties"];
        assert_eq!(props["Name"], json!({"type": "string"}));
        assert_eq!(props["Score__c"], json!({"type": ["number", "null"]}));
        assert_eq!(props["Seats__c"], json!({"type": ["integer", "null"]}));
        assert_eq!(props["Active__c"], json!({"type": "boolean"}));
        assert_eq!(
            props["Renewal__c"],
            json!({"type": ["string", "null"], "format": "date"})
        );
    }
}
