//! Relationship columns: a lookup set through its parent's external id, as Bulk API 2.0 CSV
//! headers allow.
//!
//! `RelationshipName.IndexedField` (`Account.External_Id__c`, `Account__r.External_Id__c` for
//! a custom lookup) names the parent by a field that is an external id or `idLookup` on the
//! parent; Salesforce finds the one parent holding the cell's value and sets the lookup to its
//! Id. A polymorphic lookup (several `referenceTo`) needs the parent's type in front:
//! `Lead:Who.Email`; a lookup with one parent must not have it (Salesforce fails the whole job:
//! "type is not needed for non polymorphic foreign key references"). One level only: no
//! grandparents. A value no parent holds is a row error of Salesforce's (`INVALID_FIELD:
//! Foreign key external ID: … not found`), not a failed sync.

use std::collections::HashMap;

use thiserror::Error;

use crate::destination::route::sobject::{FieldInfo, SObjectInfo};

/// A column header that names a lookup by its parent's indexed field.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) struct RelationshipName<'a> {
    /// `Lead` in `Lead:Who.Email` (polymorphic lookups only).
    pub parent_type: Option<&'a str>,
    pub relationship: &'a str,
    pub parent_field: &'a str,
}

impl<'a> RelationshipName<'a> {
    /// Splits `[Type:]Relationship.Field`; `None` when `name` has no such shape.
    pub(crate) fn parse(name: &'a str) -> Option<RelationshipName<'a>> {
        let (left, parent_field) = name.split_once('.')?;
        let (parent_type, relationship) = match left.split_once(':') {
            Some((t, r)) => (Some(t), r),
            None => (None, left),
        };
        let word =
            |s: &str| !s.is_empty() && s.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'_');
        if !word(relationship) || !word(parent_field) || parent_type.is_some_and(|t| !word(t)) {
            return None;
        }
        Some(RelationshipName {
            parent_type,
            relationship,
            parent_field,
        })
    }
}

/// A relationship column checked against describe.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) struct Relationship {
    /// The header in Salesforce's spelling: `Account.External_Id__c`, `Lead:Who.Email`.
    pub header: String,
    /// The lookup field it sets (`AccountId`).
    pub reference: FieldInfo,
    /// The parent object and its indexed field the cell is matched on.
    pub parent: String,
    pub parent_field: FieldInfo,
}

/// A relationship header that Salesforce would refuse.
#[derive(Debug, Error, Clone, PartialEq, Eq)]
pub(crate) enum RelationshipError {
    #[error("'{relationship}' is not a relationship of '{object}'; relationships: {candidates}")]
    UnknownRelationship {
        object: String,
        relationship: String,
        candidates: String,
    },
    #[error("'{relationship}' ({field}) is polymorphic: write '<Type>:{relationship}.{parent_field}' with <Type> one of {types}")]
    TypeNeeded {
        relationship: String,
        field: String,
        parent_field: String,
        types: String,
    },
    #[error("'{relationship}' ({field}) points only to {parent}: a type is not needed for non polymorphic foreign key references, write '{relationship}.{parent_field}'")]
    TypeNotNeeded {
        relationship: String,
        field: String,
        parent: String,
        parent_field: String,
    },
    #[error("'{relationship}' ({field}) cannot point to '{parent_type}'; it points to {types}")]
    WrongType {
        relationship: String,
        field: String,
        parent_type: String,
        types: String,
    },
    #[error("the parent object '{parent}' of '{relationship}' is not visible to this user")]
    ParentNotVisible {
        relationship: String,
        parent: String,
    },
    #[error("'{parent}.{parent_field}' cannot identify a parent: only external-id and idLookup fields can; those of {parent}: {candidates}")]
    NotIndexed {
        parent: String,
        parent_field: String,
        candidates: String,
    },
}

/// The parent objects a relationship header may need described (the named type, or every
/// `referenceTo` of the lookup); empty when `name` is no relationship of `object`.
pub(crate) fn parents_needed(object: &SObjectInfo, name: &str) -> Vec<String> {
    let Some(parsed) = RelationshipName::parse(name) else {
        return Vec::new();
    };
    let Some(reference) = object.relationship(parsed.relationship) else {
        return Vec::new();
    };
    match parsed.parent_type {
        Some(t) => reference
            .describe
            .reference_to
            .iter()
            .filter(|p| p.eq_ignore_ascii_case(t))
            .cloned()
            .collect(),
        None => reference.describe.reference_to.clone(),
    }
}

/// Checks `parsed` against `object` and its parents' describes (`parents`, by Salesforce's
/// spelling of the object name).
pub(crate) fn resolve(
    object: &SObjectInfo,
    parsed: &RelationshipName<'_>,
    parents: &HashMap<String, SObjectInfo>,
) -> Result<Relationship, RelationshipError> {
    let reference = object.relationship(parsed.relationship).ok_or_else(|| {
        let names: Vec<&str> = object
            .fields
            .iter()
            .filter_map(|f| f.describe.relationship_name.as_deref())
            .collect();
        RelationshipError::UnknownRelationship {
            object: object.name.clone(),
            relationship: parsed.relationship.to_string(),
            candidates: list(names),
        }
    })?;
    let relationship = reference
        .describe
        .relationship_name
        .clone()
        .unwrap_or_else(|| parsed.relationship.to_string());
    let polymorphic = reference.describe.reference_to.len() > 1;
    let parent = match (parsed.parent_type, polymorphic) {
        (None, true) => {
            return Err(RelationshipError::TypeNeeded {
                relationship,
                field: reference.describe.name.clone(),
                parent_field: parsed.parent_field.to_string(),
                types: list(reference.describe.reference_to.iter().map(String::as_str)),
            })
        }
        (Some(_), false) => {
            return Err(RelationshipError::TypeNotNeeded {
                relationship,
                field: reference.describe.name.clone(),
                parent: list(reference.describe.reference_to.iter().map(String::as_str)),
                parent_field: parsed.parent_field.to_string(),
            })
        }
        (Some(t), true) => reference
            .describe
            .reference_to
            .iter()
            .find(|p| p.eq_ignore_ascii_case(t))
            .ok_or_else(|| RelationshipError::WrongType {
                relationship: relationship.clone(),
                field: reference.describe.name.clone(),
                parent_type: t.to_string(),
                types: list(reference.describe.reference_to.iter().map(String::as_str)),
            })?,
        (None, false) => reference.describe.reference_to.first().ok_or_else(|| {
            RelationshipError::ParentNotVisible {
                relationship: relationship.clone(),
                parent: "(none)".into(),
            }
        })?,
    };
    let parent_info = parents
        .get(parent)
        .ok_or_else(|| RelationshipError::ParentNotVisible {
            relationship: relationship.clone(),
            parent: parent.clone(),
        })?;
    let parent_field = parent_info
        .field(parsed.parent_field)
        .filter(|f| is_indexed(f))
        .ok_or_else(|| RelationshipError::NotIndexed {
            parent: parent_info.name.clone(),
            parent_field: parsed.parent_field.to_string(),
            candidates: list(indexed_fields(parent_info).map(|f| f.describe.name.as_str())),
        })?;
    let header = match polymorphic {
        true => format!(
            "{}:{relationship}.{}",
            parent_info.name, parent_field.describe.name
        ),
        false => format!("{relationship}.{}", parent_field.describe.name),
    };
    Ok(Relationship {
        header,
        reference: reference.clone(),
        parent: parent_info.name.clone(),
        parent_field: parent_field.clone(),
    })
}

/// Whether a parent's field can identify it in a relationship column.
pub(crate) fn is_indexed(field: &FieldInfo) -> bool {
    field.describe.external_id || field.describe.id_lookup
}

/// The fields of `parent` a relationship column may match on, `Id` aside (a lookup is set by
/// Id directly).
pub(crate) fn indexed_fields(parent: &SObjectInfo) -> impl Iterator<Item = &FieldInfo> {
    parent
        .fields
        .iter()
        .filter(|f| is_indexed(f) && !f.describe.name.eq_ignore_ascii_case("Id"))
}

/// Every relationship column `object` accepts, given the describes of the objects it points
/// to (`parents` by name): lookup → parent → the parent's external-id and idLookup fields.
pub(crate) fn columns(
    object: &SObjectInfo,
    parents: &HashMap<String, SObjectInfo>,
) -> Vec<Relationship> {
    let mut out = Vec::new();
    for reference in &object.fields {
        let Some(relationship) = reference.describe.relationship_name.as_deref() else {
            continue;
        };
        let polymorphic = reference.describe.reference_to.len() > 1;
        for parent in &reference.describe.reference_to {
            let Some(parent_info) = parents.get(parent) else {
                continue;
            };
            for key in indexed_fields(parent_info) {
                let header = if polymorphic {
                    format!("{}:{relationship}.{}", parent_info.name, key.describe.name)
                } else {
                    format!("{relationship}.{}", key.describe.name)
                };
                out.push(Relationship {
                    header,
                    reference: reference.clone(),
                    parent: parent_info.name.clone(),
                    parent_field: key.clone(),
                });
            }
        }
    }
    out
}

fn list<'a>(names: impl IntoIterator<Item = &'a str>) -> String {
    let names: Vec<&str> = names.into_iter().collect();
    if names.is_empty() {
        "none".to_string()
    } else {
        names.join(", ")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn lookup(name: &str, relationship: &str, to: &[&str]) -> FieldInfo {
        let mut f = FieldInfo::new(name, "reference");
        f.describe.relationship_name = Some(relationship.into());
        f.describe.reference_to = to.iter().map(|s| s.to_string()).collect();
        f
    }

    fn parents() -> HashMap<String, SObjectInfo> {
        let mut ext = FieldInfo::new("External_Id__c", "string");
        ext.describe.external_id = true;
        let mut email = FieldInfo::new("Email", "email");
        email.describe.id_lookup = true;
        let mut id = FieldInfo::new("Id", "id");
        id.describe.id_lookup = true;
        let account = SObjectInfo::new(
            "Account",
            true,
            true,
            true,
            vec![id.clone(), ext, FieldInfo::new("Name", "string")],
        );
        let lead = SObjectInfo::new("Lead", true, true, true, vec![id.clone(), email.clone()]);
        let contact = SObjectInfo::new("Contact", true, true, true, vec![id, email]);
        [account, lead, contact]
            .into_iter()
            .map(|o| (o.name.clone(), o))
            .collect()
    }

    fn task() -> SObjectInfo {
        SObjectInfo::new(
            "Task",
            true,
            true,
            true,
            vec![
                lookup("WhoId", "Who", &["Contact", "Lead"]),
                lookup("WhatId", "What", &["Account"]),
            ],
        )
    }

    #[test]
    fn headers_parse_with_and_without_a_type() {
        assert_eq!(
            RelationshipName::parse("account__r.external_id__c"),
            Some(RelationshipName {
                parent_type: None,
                relationship: "account__r",
                parent_field: "external_id__c"
            })
        );
        assert_eq!(
            RelationshipName::parse("Lead:Who.Email")
                .unwrap()
                .parent_type,
            Some("Lead")
        );
        assert_eq!(RelationshipName::parse("Name"), None);
        assert_eq!(RelationshipName::parse("Account.Owner.Name"), None);
    }

    /// Why the relationship column `name` cannot be resolved on the test task.
    fn refusal(name: &str) -> RelationshipError {
        resolve(&task(), &RelationshipName::parse(name).unwrap(), &parents()).unwrap_err()
    }

    #[test]
    fn a_lookup_resolves_to_the_salesforce_spelling() {
        let parsed = RelationshipName::parse("what.external_id__c").unwrap();
        let r = resolve(&task(), &parsed, &parents()).unwrap();
        assert_eq!(r.header, "What.External_Id__c");
        assert_eq!(r.reference.describe.name, "WhatId");
        assert_eq!(r.parent, "Account");
    }

    #[test]
    fn polymorphic_lookups_need_the_type_and_single_ones_refuse_it() {
        let parsed = RelationshipName::parse("lead:who.email").unwrap();
        assert_eq!(
            resolve(&task(), &parsed, &parents()).unwrap().header,
            "Lead:Who.Email"
        );
        let err = refusal("Who.Email");
        assert!(matches!(err, RelationshipError::TypeNeeded { .. }), "{err}");
        let err = refusal("Account:What.External_Id__c");
        assert!(err.to_string().contains("type is not needed"), "{err}");
        let err = refusal("User:Who.Email");
        assert!(matches!(err, RelationshipError::WrongType { .. }), "{err}");
    }

    #[test]
    fn only_indexed_parent_fields_identify_a_parent() {
        let err = refusal("What.Name");
        assert!(err.to_string().contains("External_Id__c"), "{err}");
        let err = refusal("Nope.Name");
        assert!(err.to_string().contains("Who, What"), "{err}");
    }

    #[test]
    fn columns_list_every_lookup_parent_and_indexed_field() {
        let headers: Vec<String> = columns(&task(), &parents())
            .into_iter()
            .map(|r| r.header)
            .collect();
        assert_eq!(
            headers,
            ["Contact:Who.Email", "Lead:Who.Email", "What.External_Id__c"]
        );
    }
}
