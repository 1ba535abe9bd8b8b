//! describeGlobal and describe bodies (facts §3, §4): every field attribute Salesforce sends,
//! with null/false where it does not apply, keys in Salesforce's (alphabetical) order.

use serde_json::{json, Value as Json};

use crate::schema::{Field, FieldType, SObject};

fn urls(sobject: &SObject, version: &str) -> Json {
    let base = format!("/services/data/v{version}/sobjects/{}", sobject.name);
    json!({
        "compactLayouts": format!("{base}/describe/compactLayouts"),
        "rowTemplate": format!("{base}/{{ID}}"),
        "approvalLayouts": format!("{base}/describe/approvalLayouts"),
        "defaultValues": format!("{base}/defaultValues?recordTypeId&fields"),
        "listviews": format!("{base}/listviews"),
        "describe": format!("{base}/describe"),
        "quickActions": format!("{base}/quickActions"),
        "layouts": format!("{base}/describe/layouts"),
        "sobject": base,
    })
}

/// One `sobjects[]` entry of describeGlobal.
pub(crate) fn global_entry(sobject: &SObject, version: &str) -> Json {
    let mut entry = object_attributes(sobject);
    entry["urls"] = urls(sobject, version);
    entry
}

fn object_attributes(s: &SObject) -> Json {
    json!({
        "activateable": false,
        "associateEntityType": null,
        "associateParentEntity": null,
        "createable": s.createable,
        "custom": s.custom,
        "customSetting": false,
        "deepCloneable": false,
        "deletable": s.deletable,
        "deprecatedAndHidden": false,
        "feedEnabled": !s.custom && s.createable,
        "hasSubtypes": false,
        "isInterface": false,
        "isSubtype": false,
        "keyPrefix": s.key_prefix,
        "label": s.label,
        "labelPlural": s.label_plural,
        "layoutable": s.createable,
        "mergeable": matches!(s.name.as_str(), "Account" | "Contact" | "Lead" | "Case"),
        "mruEnabled": s.createable,
        "name": s.name,
        "queryable": s.queryable,
        "replicateable": s.replicateable,
        "retrieveable": s.retrieveable,
        "searchable": s.searchable,
        "triggerable": s.triggerable,
        "undeletable": s.undeletable,
        "updateable": s.updateable,
    })
}

/// `GET …/sobjects/` body.
pub(crate) fn global(sobjects: &[&SObject], version: &str) -> Json {
    json!({
        "encoding": "UTF-8",
        "maxBatchSize": 200,
        "sobjects": sobjects.iter().map(|s| global_entry(s, version)).collect::<Vec<_>>(),
    })
}

/// `GET …/sobjects/{Name}/` body (basic information).
pub(crate) fn basic(sobject: &SObject, version: &str) -> Json {
    json!({"objectDescribe": global_entry(sobject, version), "recentItems": []})
}

fn aggregatable(f: &Field) -> bool {
    !f.field_type.is_compound()
        && !matches!(
            f.field_type,
            FieldType::Base64
                | FieldType::Textarea
                | FieldType::Multipicklist
                | FieldType::AnyType
                | FieldType::Json
                | FieldType::EncryptedString
        )
}

/// One `fields[]` entry of describe.
pub(crate) fn field(f: &Field) -> Json {
    let picklist: Vec<Json> = f
        .picklist_values
        .iter()
        .map(|p| json!({"active": p.active, "defaultValue": p.default_value, "label": p.label, "validFor": null, "value": p.value}))
        .collect();
    json!({
        "aggregatable": aggregatable(f),
        "aiPredictionField": false,
        "autoNumber": f.auto_number,
        "byteLength": f.byte_length(),
        "calculated": f.calculated,
        "calculatedFormula": f.calculated_formula,
        "cascadeDelete": false,
        "caseSensitive": f.case_sensitive,
        "compoundFieldName": f.compound_field_name,
        "controllerName": null,
        "createable": f.createable,
        "custom": f.custom,
        "defaultValue": f.default_value,
        "defaultValueFormula": null,
        "defaultedOnCreate": f.defaulted_on_create,
        "dependentPicklist": false,
        "deprecatedAndHidden": false,
        "digits": f.digits,
        "displayLocationInDecimal": f.field_type == FieldType::Location,
        "encrypted": f.field_type == FieldType::EncryptedString,
        "externalId": f.external_id,
        "extraTypeInfo": match f.field_type {
            FieldType::Textarea => Json::from("plaintextarea"),
            FieldType::Reference if f.name.ends_with("OwnerId") || f.name == "OwnerId" => Json::Null,
            _ => Json::Null,
        },
        "filterable": f.filterable,
        "filteredLookupInfo": null,
        "formulaTreatNullNumberAsZero": false,
        "groupable": f.groupable,
        "highScaleNumber": false,
        "htmlFormatted": f.html_formatted,
        "idLookup": f.id_lookup,
        "inlineHelpText": null,
        "label": f.label,
        "length": f.length,
        "mask": null,
        "maskType": null,
        "name": f.name,
        "nameField": f.name_field,
        "namePointing": f.reference_to.len() > 1,
        "nillable": f.nillable,
        "permissionable": f.custom && f.nillable && !f.calculated,
        "picklistValues": picklist,
        "polymorphicForeignKey": f.reference_to.len() > 1,
        "precision": f.precision,
        "queryByDistance": f.field_type == FieldType::Location,
        "referenceTargetField": null,
        "referenceTo": f.reference_to,
        "relationshipName": f.relationship_name,
        "relationshipOrder": null,
        "restrictedDelete": false,
        "restrictedPicklist": f.restricted_picklist,
        "scale": f.scale,
        "searchPrefilterable": false,
        "soapType": f.field_type.soap_type(),
        "sortable": f.sortable,
        "type": f.field_type.as_str(),
        "unique": f.unique,
        "updateable": f.updateable,
        "writeRequiresMasterRead": false,
    })
}

/// `GET …/sobjects/{Name}/describe/` body. `all` gives the other objects, for
/// `childRelationships`.
pub(crate) fn describe(sobject: &SObject, all: &[&SObject], version: &str) -> Json {
    let mut body = object_attributes(sobject);
    let mut children = Vec::new();
    for child in all {
        for f in &child.fields {
            if f.field_type == FieldType::Reference
                && f.reference_to.iter().any(|t| t == &sobject.name)
            {
                let relationship = if f.custom {
                    Json::from(format!("{}__r", child.label_plural.replace(' ', "_")))
                } else if matches!(f.name.as_str(), "CreatedById" | "LastModifiedById") {
                    Json::Null
                } else {
                    Json::from(child.label_plural.replace(' ', ""))
                };
                children.push(json!({
                    "cascadeDelete": false,
                    "childSObject": child.name,
                    "deprecatedAndHidden": false,
                    "field": f.name,
                    "junctionIdListNames": [],
                    "junctionReferenceTo": [],
                    "relationshipName": relationship,
                    "restrictedDelete": false,
                }));
            }
        }
    }
    let object = body
        .as_object_mut()
        .expect("object attributes are an object");
    object.insert("actionOverrides".into(), json!([]));
    object.insert("childRelationships".into(), Json::Array(children));
    object.insert("compactLayoutable".into(), Json::Bool(sobject.createable));
    object.insert(
        "fields".into(),
        Json::Array(sobject.fields.iter().map(field).collect()),
    );
    object.insert("listviewable".into(), Json::Null);
    object.insert("lookupLayoutable".into(), Json::Null);
    object.insert("namedLayoutInfos".into(), json!([]));
    object.insert("networkScopeFieldName".into(), Json::Null);
    object.insert(
        "recordTypeInfos".into(),
        if sobject.createable {
            json!([{
                "active": true, "available": true, "defaultRecordTypeMapping": true,
                "developerName": "Master", "master": true, "name": "Master",
                "recordTypeId": "012000000000000AAA",
                "urls": {"layout": format!("/services/data/v{version}/sobjects/{}/describe/layouts/012000000000000AAA", sobject.name)},
            }])
        } else {
            json!([])
        },
    );
    object.insert("searchLayoutable".into(), Json::Bool(sobject.searchable));
    object.insert(
        "supportedScopes".into(),
        json!([{"label": "All records", "name": "everything"}]),
    );
    object.insert("urls".into(), urls(sobject, version));
    body
}
