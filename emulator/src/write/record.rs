//! One record written as Salesforce writes it: permission, type, reference, required, unique and
//! validation-rule checks, then the change applied through [`OrgStore`].

use std::sync::Arc;

use super::error::RecordError;
use super::id;
use super::rules::WriteRules;
use super::value::parse_text;
use crate::schema::{FieldType, SObject, Value};
use crate::store::{OrgStore, StoreError};

/// What a write does with its record.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) enum WriteOperation {
    Insert,
    Update,
    /// Match on this field (index into `SObject::fields`; the `Id` field itself matches by id).
    Upsert {
        key: usize,
    },
    Delete,
    HardDelete,
}

/// Where a cell's value goes.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) enum Column {
    /// A field of the object, by index into `SObject::fields`.
    Field(usize),
    /// A reference field set from its parent's external id or idLookup field
    /// (`Account.External_Id__c`): the reference field's index, the parent object and field.
    Relationship {
        reference: usize,
        parent_object: String,
        parent_field: String,
    },
}

/// A cell as the write gives it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Cell<'a> {
    /// Empty cell: unset on create, unchanged on update.
    Empty,
    /// `#N/A` in Bulk CSV, JSON `null` in REST: set the field to null.
    Null,
    Text(&'a str),
}

/// A record the org accepted.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) enum Outcome {
    Created(String),
    Updated(String),
    Deleted(String),
}

impl Outcome {
    pub(crate) fn id(&self) -> &str {
        match self {
            Outcome::Created(id) | Outcome::Updated(id) | Outcome::Deleted(id) => id,
        }
    }

    pub(crate) fn created(&self) -> bool {
        matches!(self, Outcome::Created(_))
    }
}

/// Resolves a column name against the object's describe: a field (case-insensitive) or
/// `Relationship.Field` whose relationship is a reference field's `relationshipName` and whose
/// field is an external id or idLookup field of the parent. `None` when neither.
pub(crate) fn resolve_column<S: OrgStore + ?Sized>(
    store: &S,
    sobject: &SObject,
    name: &str,
) -> Option<Column> {
    if let Some((idx, _)) = sobject.field(name) {
        return Some(Column::Field(idx));
    }
    let (relationship, parent_field) = name.split_once('.')?;
    let (reference, field) = sobject.fields.iter().enumerate().find(|(_, f)| {
        f.relationship_name
            .as_deref()
            .is_some_and(|r| r.eq_ignore_ascii_case(relationship))
    })?;
    field.reference_to.iter().find_map(|parent| {
        let parent_sobject = store.sobject(parent)?;
        let (_, target) = parent_sobject.field(parent_field)?;
        (target.external_id || target.id_lookup).then(|| Column::Relationship {
            reference,
            parent_object: parent_sobject.name.clone(),
            parent_field: target.name.clone(),
        })
    })
}

/// Resolves a Bulk API 2.0 CSV header: a field, `Relationship.Field`, or for a polymorphic
/// lookup `Type:Relationship.Field` (Bulk API 2.0 "Relationship Fields in a Header Row"). The
/// error is the text after `InvalidBatch : ` of the failed job.
pub(crate) fn resolve_header<S: OrgStore + ?Sized>(
    store: &S,
    sobject: &SObject,
    name: &str,
) -> Result<Column, String> {
    if let Some((idx, _)) = sobject.field(name) {
        return Ok(Column::Field(idx));
    }
    let not_found = || format!("Field name not found : {name}");
    let (left, parent_field) = name.split_once('.').ok_or_else(not_found)?;
    let (parent_type, relationship) = match left.split_once(':') {
        Some((t, r)) => (Some(t), r),
        None => (None, left),
    };
    let Some((reference, field)) = sobject.fields.iter().enumerate().find(|(_, f)| {
        f.relationship_name
            .as_deref()
            .is_some_and(|r| r.eq_ignore_ascii_case(relationship))
    }) else {
        return Err(match parent_type {
            Some(_) => format!("Unable to find relationship: {relationship}"),
            None => not_found(),
        });
    };
    let relationship_name = field.relationship_name.clone().unwrap_or_default();
    let parent = match (parent_type, field.reference_to.len() > 1) {
        (Some(_), false) => {
            return Err(format!(
                "type is not needed for non polymorphic foreign key references: {relationship_name}"
            ))
        }
        // Text unconfirmed: a polymorphic lookup without its type cannot be resolved.
        (None, true) => return Err(not_found()),
        (Some(t), true) => field
            .reference_to
            .iter()
            .find(|p| p.eq_ignore_ascii_case(t))
            .ok_or_else(not_found)?,
        (None, false) => field.reference_to.first().ok_or_else(not_found)?,
    };
    let parent_sobject = store.sobject(parent).ok_or_else(not_found)?;
    let (_, target) = parent_sobject.field(parent_field).ok_or_else(not_found)?;
    if !(target.external_id || target.id_lookup) {
        return Err(not_found());
    }
    Ok(Column::Relationship {
        reference,
        parent_object: parent_sobject.name.clone(),
        parent_field: target.name.clone(),
    })
}

/// Writes records of one object with one operation.
pub(crate) struct RecordWriter<'a, S: OrgStore + ?Sized> {
    store: &'a mut S,
    rules: &'a mut WriteRules,
    sobject: Arc<SObject>,
    operation: WriteOperation,
    id_index: Option<usize>,
}

impl<'a, S: OrgStore + ?Sized> RecordWriter<'a, S> {
    pub(crate) fn new(
        store: &'a mut S,
        rules: &'a mut WriteRules,
        sobject: Arc<SObject>,
        operation: WriteOperation,
    ) -> Self {
        let id_index = sobject
            .fields
            .iter()
            .position(|f| f.field_type == FieldType::Id);
        RecordWriter {
            store,
            rules,
            sobject,
            operation,
            id_index,
        }
    }

    /// Validates and applies one record.
    pub(crate) fn write(&mut self, cells: &[(Column, Cell<'_>)]) -> Result<Outcome, RecordError> {
        if self.rules.row_is_locked(&self.sobject.name) {
            return Err(RecordError::unable_to_lock_row());
        }
        let sobject = &self.sobject;
        let refused = match self.operation {
            WriteOperation::Insert if !sobject.createable => Some("inserted"),
            WriteOperation::Update if !sobject.updateable => Some("updated"),
            WriteOperation::Upsert { .. } if !(sobject.createable && sobject.updateable) => {
                Some("upserted")
            }
            WriteOperation::Delete | WriteOperation::HardDelete if !sobject.deletable => {
                Some("deleted")
            }
            _ => None,
        };
        if let Some(verb) = refused {
            return Err(RecordError::invalid_type_for_operation(
                verb,
                &sobject.label,
            ));
        }
        match self.operation.clone() {
            WriteOperation::Insert => self.insert(cells, None),
            WriteOperation::Update => {
                let id = self.target_id(self.id_cell(cells), "update")?;
                self.update(&id, cells, None)
            }
            WriteOperation::Upsert { key } => self.upsert(key, cells),
            WriteOperation::Delete => self.delete(cells, false),
            WriteOperation::HardDelete => self.delete(cells, true),
        }
    }

    fn id_cell<'c>(&self, cells: &[(Column, Cell<'c>)]) -> Cell<'c> {
        cells
            .iter()
            .find(|(c, _)| Some(c) == self.id_index.map(Column::Field).as_ref())
            .map(|(_, cell)| *cell)
            .unwrap_or(Cell::Empty)
    }

    /// The live record a row's Id names.
    fn target_id(&self, cell: Cell<'_>, call: &str) -> Result<String, RecordError> {
        let Cell::Text(text) = cell else {
            return Err(RecordError::missing_id(call));
        };
        let id_field = self.id_index.map(|i| &self.sobject.fields[i]);
        let label = id_field.map(|f| f.label.as_str()).unwrap_or("Record ID");
        let id = id::normalize(text)
            .filter(|id| {
                self.sobject
                    .key_prefix
                    .as_deref()
                    .is_some_and(|p| id.starts_with(p))
            })
            .ok_or_else(|| RecordError::malformed_id(label, "Id", text))?;
        match self.store.get(&self.sobject.name, &id) {
            None => Err(RecordError::invalid_cross_reference(vec!["Id".to_string()])),
            Some(record) if record.is_deleted => Err(RecordError::entity_is_deleted()),
            Some(record) => Ok(record.id),
        }
    }

    fn upsert(&mut self, key: usize, cells: &[(Column, Cell<'_>)]) -> Result<Outcome, RecordError> {
        if Some(key) == self.id_index {
            return match self.id_cell(cells) {
                Cell::Text(_) => {
                    let id = self.target_id(self.id_cell(cells), "upsert")?;
                    self.update(&id, cells, None)
                }
                _ => self.insert(cells, self.id_index),
            };
        }
        let key_field = &self.sobject.fields[key];
        let text = match cells.iter().find(|(c, _)| *c == Column::Field(key)) {
            Some((_, Cell::Text(t))) => *t,
            _ => return Err(RecordError::missing_external_id(&key_field.name)),
        };
        let value = parse_text(key_field, text)?;
        let matches = self
            .store
            .find_by_field(&self.sobject.name, &key_field.name, &value);
        match matches.as_slice() {
            [] => self.insert(cells, None),
            [id] => {
                let id = id.clone();
                self.update(&id, cells, Some(key))
            }
            ids => Err(RecordError::duplicate_external_id(
                &key_field.label,
                &key_field.name,
                ids,
            )),
        }
    }

    fn insert(
        &mut self,
        cells: &[(Column, Cell<'_>)],
        skip: Option<usize>,
    ) -> Result<Outcome, RecordError> {
        let sobject = Arc::clone(&self.sobject);
        let cells: Vec<&(Column, Cell<'_>)> = cells
            .iter()
            .filter(|(c, _)| skip.is_none_or(|s| *c != Column::Field(s)))
            .collect();
        if let Some(id_idx) = self.id_index {
            if cells
                .iter()
                .any(|(c, cell)| *c == Column::Field(id_idx) && *cell != Cell::Empty)
            {
                return Err(RecordError::id_on_insert());
            }
        }
        let refused: Vec<String> = cells
            .iter()
            .filter(|(_, cell)| *cell != Cell::Empty)
            .map(|(c, _)| &sobject.fields[target_index(c)])
            .filter(|f| !f.createable)
            .map(|f| f.name.clone())
            .collect();
        if !refused.is_empty() {
            return Err(RecordError::not_writable(dedup(refused)));
        }
        let mut changes = self.convert(&cells)?;
        for (idx, field) in sobject.fields.iter().enumerate() {
            if !field.createable || changes.iter().any(|(i, _)| *i == idx) {
                continue;
            }
            if let Some(default) = default_value(field) {
                changes.push((idx, default));
            } else if field.defaulted_on_create
                && field.field_type == FieldType::Reference
                && field.reference_to.iter().any(|o| o == "User")
            {
                // OwnerId and the like default to the user the session acts as.
                changes.push((idx, Value::Text(self.store.current_user_id())));
            }
        }
        let mut set = vec![false; sobject.fields.len()];
        for (idx, value) in &changes {
            set[*idx] = !value.is_null();
        }
        let missing: Vec<String> = sobject
            .fields
            .iter()
            .enumerate()
            .filter(|(idx, f)| f.createable && !f.nillable && !f.defaulted_on_create && !set[*idx])
            .map(|(_, f)| f.name.clone())
            .collect();
        if !missing.is_empty() {
            return Err(RecordError::required_field_missing(missing));
        }
        self.check_unique(&changes, None)?;
        if self.has_rules() {
            let mut record = vec![Value::Null; sobject.fields.len()];
            for (idx, value) in &changes {
                record[*idx] = value.clone();
            }
            self.check_rules(&record)?;
        }
        self.store
            .insert(&sobject.name, changes)
            .map(Outcome::Created)
            .map_err(store_error)
    }

    fn update(
        &mut self,
        id: &str,
        cells: &[(Column, Cell<'_>)],
        key: Option<usize>,
    ) -> Result<Outcome, RecordError> {
        let sobject = Arc::clone(&self.sobject);
        let cells: Vec<&(Column, Cell<'_>)> = cells
            .iter()
            .filter(|(c, _)| {
                let idx = Some(target_index(c));
                idx != self.id_index && idx != key
            })
            .collect();
        let refused: Vec<String> = cells
            .iter()
            .filter(|(_, cell)| *cell != Cell::Empty)
            .map(|(c, _)| &sobject.fields[target_index(c)])
            .filter(|f| !f.updateable)
            .map(|f| f.name.clone())
            .collect();
        if !refused.is_empty() {
            return Err(RecordError::not_writable(dedup(refused)));
        }
        let changes = self.convert(&cells)?;
        let missing: Vec<String> = changes
            .iter()
            .filter(|(idx, v)| v.is_null() && !sobject.fields[*idx].nillable)
            .map(|(idx, _)| sobject.fields[*idx].name.clone())
            .collect();
        if !missing.is_empty() {
            return Err(RecordError::required_field_missing(missing));
        }
        self.check_unique(&changes, Some(id))?;
        if self.has_rules() {
            // Rules see the record as it would be saved: its current values and the changes.
            let existing = self
                .store
                .get(&sobject.name, id)
                .ok_or_else(|| RecordError::invalid_cross_reference(vec!["Id".to_string()]))?;
            let mut record = existing.values;
            record.resize(sobject.fields.len(), Value::Null);
            for (idx, value) in &changes {
                record[*idx] = value.clone();
            }
            self.check_rules(&record)?;
        }
        self.store
            .update(&sobject.name, id, changes)
            .map(|()| Outcome::Updated(id.to_string()))
            .map_err(store_error)
    }

    fn delete(&mut self, cells: &[(Column, Cell<'_>)], hard: bool) -> Result<Outcome, RecordError> {
        let id = self.target_id(self.id_cell(cells), "delete")?;
        self.store
            .delete(&self.sobject.name, &id, hard)
            .map(|()| Outcome::Deleted(id))
            .map_err(store_error)
    }

    /// Converts the non-empty cells into (field index, value), first error wins.
    fn convert(&self, cells: &[&(Column, Cell<'_>)]) -> Result<Vec<(usize, Value)>, RecordError> {
        let mut changes: Vec<(usize, Value)> = Vec::with_capacity(cells.len());
        for (column, cell) in cells {
            let text = match cell {
                Cell::Empty => continue,
                Cell::Null => {
                    changes.push((target_index(column), Value::Null));
                    continue;
                }
                Cell::Text(t) => *t,
            };
            let value = match column {
                Column::Field(idx) => self.field_value(*idx, text)?,
                Column::Relationship {
                    reference,
                    parent_object,
                    parent_field,
                } => Value::Text(self.parent_by_key(
                    *reference,
                    parent_object,
                    parent_field,
                    text,
                )?),
            };
            let idx = target_index(column);
            changes.retain(|(i, _)| *i != idx);
            changes.push((idx, value));
        }
        Ok(changes)
    }

    fn field_value(&self, idx: usize, text: &str) -> Result<Value, RecordError> {
        let field = &self.sobject.fields[idx];
        if field.field_type != FieldType::Reference {
            return parse_text(field, text);
        }
        let malformed = || RecordError::malformed_id(&field.label, &field.name, text);
        let id = id::normalize(text).ok_or_else(malformed)?;
        let parent = field
            .reference_to
            .iter()
            .filter_map(|name| self.store.sobject(name))
            .find(|parent| {
                parent
                    .key_prefix
                    .as_deref()
                    .is_some_and(|p| id.starts_with(p))
            })
            .ok_or_else(malformed)?;
        match self.store.get(&parent.name, &id) {
            None => Err(RecordError::invalid_cross_reference(vec![field
                .name
                .clone()])),
            Some(record) if record.is_deleted => Err(RecordError::entity_is_deleted()),
            Some(record) => Ok(Value::Text(record.id)),
        }
    }

    /// The id of the one live parent whose `parent_field` holds `text`.
    fn parent_by_key(
        &self,
        reference: usize,
        parent_object: &str,
        parent_field: &str,
        text: &str,
    ) -> Result<String, RecordError> {
        let parent = self
            .store
            .sobject(parent_object)
            .ok_or_else(|| RecordError::foreign_key_not_found(text, parent_field, parent_object))?;
        let (_, key_field) = parent
            .field(parent_field)
            .ok_or_else(|| RecordError::foreign_key_not_found(text, parent_field, parent_object))?;
        let key = if key_field.field_type == FieldType::Id {
            match id::normalize(text) {
                Some(id) => Value::Text(id),
                None => {
                    return Err(RecordError::foreign_key_not_found(
                        text,
                        parent_field,
                        parent_object,
                    ))
                }
            }
        } else {
            parse_text(key_field, text)?
        };
        let ids = if key_field.field_type == FieldType::Id {
            let Value::Text(id) = &key else {
                unreachable!("ids are text")
            };
            self.store
                .get(&parent.name, id)
                .filter(|r| !r.is_deleted)
                .map(|r| vec![r.id])
                .unwrap_or_default()
        } else {
            self.store
                .find_by_field(&parent.name, &key_field.name, &key)
        };
        match ids.as_slice() {
            [] => Err(RecordError::foreign_key_not_found(
                text,
                &key_field.name,
                &parent.name,
            )),
            [id] => Ok(id.clone()),
            ids => {
                let reference_field = &self.sobject.fields[reference];
                Err(RecordError::duplicate_external_id(
                    &key_field.label,
                    &reference_field.name,
                    ids,
                ))
            }
        }
    }

    fn check_unique(
        &self,
        changes: &[(usize, Value)],
        own_id: Option<&str>,
    ) -> Result<(), RecordError> {
        for (idx, value) in changes {
            let field = &self.sobject.fields[*idx];
            if !field.unique || value.is_null() {
                continue;
            }
            let holders = self
                .store
                .find_by_field(&self.sobject.name, &field.name, value);
            if let Some(other) = holders.iter().find(|id| Some(id.as_str()) != own_id) {
                return Err(RecordError::duplicate_value(&field.name, other));
            }
        }
        Ok(())
    }

    /// Whether a validation rule is configured for this object (only then is the whole
    /// record assembled).
    fn has_rules(&self) -> bool {
        self.rules
            .validation_rules
            .iter()
            .any(|r| r.object.eq_ignore_ascii_case(&self.sobject.name))
    }

    fn check_rules(&self, record: &[Value]) -> Result<(), RecordError> {
        match self.rules.failing_rule(&self.sobject, record) {
            Some(rule) => Err(RecordError::custom_validation(
                &rule.message,
                rule.error_field.as_deref(),
            )),
            None => Ok(()),
        }
    }
}

fn target_index(column: &Column) -> usize {
    match column {
        Column::Field(idx) => *idx,
        Column::Relationship { reference, .. } => *reference,
    }
}

fn dedup(mut names: Vec<String>) -> Vec<String> {
    let mut seen = std::collections::HashSet::new();
    names.retain(|n| seen.insert(n.clone()));
    names
}

/// The value a create gives a field it does not set: describe's `defaultValue`, false for
/// checkboxes.
fn default_value(field: &crate::schema::Field) -> Option<Value> {
    match (&field.default_value, field.field_type) {
        (Some(serde_json::Value::Bool(b)), _) => Some(Value::Bool(*b)),
        (Some(serde_json::Value::String(s)), _) => Some(Value::Text(s.clone())),
        (Some(serde_json::Value::Number(n)), FieldType::Int | FieldType::Long) => {
            n.as_i64().map(Value::Int)
        }
        (Some(serde_json::Value::Number(n)), _) => n.as_f64().map(Value::Double),
        (_, FieldType::Boolean) => Some(Value::Bool(false)),
        _ => None,
    }
}

fn store_error(error: StoreError) -> RecordError {
    match error {
        StoreError::EntityIsDeleted => RecordError::entity_is_deleted(),
        StoreError::NotFound | StoreError::UnknownObject(_) => {
            RecordError::invalid_cross_reference(Vec::new())
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::write::rules::{LockRowFault, RuleCondition, ValidationRule};
    use crate::write::test_org::{TestOrg, USER_ID};

    fn columns(org: &TestOrg, object: &str, names: &[&str]) -> Vec<Column> {
        let sobject = org.sobject(object).unwrap();
        names
            .iter()
            .map(|n| resolve_column(org, &sobject, n).unwrap())
            .collect()
    }

    fn row<'a>(cols: &[Column], cells: &[&'a str]) -> Vec<(Column, Cell<'a>)> {
        cols.iter()
            .cloned()
            .zip(cells.iter().map(|c| match *c {
                "" => Cell::Empty,
                "#N/A" => Cell::Null,
                t => Cell::Text(t),
            }))
            .collect()
    }

    fn write(
        org: &mut TestOrg,
        rules: &mut WriteRules,
        object: &str,
        op: WriteOperation,
        names: &[&str],
        cells: &[&str],
    ) -> Result<Outcome, String> {
        let cols = columns(org, object, names);
        let sobject = org.sobject(object).unwrap();
        let mut writer = RecordWriter::new(org, rules, sobject, op);
        writer.write(&row(&cols, cells)).map_err(|e| e.sf_error())
    }

    fn insert(
        org: &mut TestOrg,
        object: &str,
        names: &[&str],
        cells: &[&str],
    ) -> Result<Outcome, String> {
        write(
            org,
            &mut WriteRules::default(),
            object,
            WriteOperation::Insert,
            names,
            cells,
        )
    }

    fn account(org: &mut TestOrg, name: &str, ext: &str) -> String {
        insert(org, "Account", &["Name", "External_Id__c"], &[name, ext])
            .unwrap()
            .id()
            .to_string()
    }

    fn upsert_key(org: &TestOrg, object: &str, field: &str) -> WriteOperation {
        WriteOperation::Upsert {
            key: org.sobject(object).unwrap().field(field).unwrap().0,
        }
    }

    #[test]
    fn insert_sets_values_and_system_fields() {
        let mut org = TestOrg::new();
        let out = insert(
            &mut org,
            "Account",
            &["Name", "NumberOfEmployees", "Rating"],
            &["Acme", "12", "Hot"],
        )
        .unwrap();
        assert!(out.created());
        assert_eq!(
            org.value("Account", out.id(), "NumberOfEmployees"),
            Value::Int(12)
        );
        assert_eq!(
            org.value("Account", out.id(), "LastModifiedById"),
            Value::Text(USER_ID.into())
        );
        assert_eq!(
            org.value("Account", out.id(), "Active__c"),
            Value::Bool(false),
            "checkbox defaults to false"
        );
    }

    #[test]
    fn object_that_refuses_the_operation_fails_every_row() {
        let mut org = TestOrg::new();
        org.set_object_flags("Opportunity", false, true, false);
        assert_eq!(
            insert(&mut org, "Opportunity", &["Name"], &["O"]),
            Err("INVALID_TYPE_FOR_OPERATION:entity type cannot be inserted: Opportunity:--".into())
        );
    }

    #[test]
    fn owner_defaults_to_the_session_user_on_create() {
        let mut org = TestOrg::new();
        let out = insert(
            &mut org,
            "Opportunity",
            &["Name", "CloseDate", "StageName"],
            &["O", "2026-02-01", "Prospecting"],
        )
        .unwrap();
        assert_eq!(
            org.value("Opportunity", out.id(), "OwnerId"),
            Value::Text(USER_ID.into())
        );
    }

    #[test]
    fn insert_without_required_field_is_required_field_missing() {
        let mut org = TestOrg::new();
        assert_eq!(
            insert(&mut org, "Account", &["Name", "Rating"], &["", "Hot"]),
            Err("REQUIRED_FIELD_MISSING:Required fields are missing: [Name]:Name --".into())
        );
        assert_eq!(
            insert(&mut org, "Opportunity", &["Amount"], &["5"]),
            Err("REQUIRED_FIELD_MISSING:Required fields are missing: [Name, CloseDate, StageName]:Name CloseDate StageName --".into())
        );
    }

    #[test]
    fn not_createable_field_is_invalid_field_for_insert_update() {
        let mut org = TestOrg::new();
        assert_eq!(
            insert(&mut org, "Account", &["Name", "Score__c"], &["Acme", "3"]),
            Err("INVALID_FIELD_FOR_INSERT_UPDATE:Unable to create/update fields: Score__c. Please check the security settings of this field and verify that it is read/write for your profile or permission set.:Score__c --".into())
        );
        assert!(
            insert(&mut org, "Account", &["Name", "Score__c"], &["Acme", ""]).is_ok(),
            "an empty cell sets nothing"
        );
    }

    #[test]
    fn id_in_insert_is_refused() {
        let mut org = TestOrg::new();
        let id = account(&mut org, "A", "A1");
        assert_eq!(
            insert(&mut org, "Account", &["Id", "Name"], &[&id, "B"]),
            Err("INVALID_FIELD_FOR_INSERT_UPDATE:cannot specify Id in an insert call:Id --".into())
        );
    }

    #[test]
    fn reference_by_id_checks_format_prefix_existence_and_deletion() {
        let mut org = TestOrg::new();
        let acct = account(&mut org, "A", "A1");
        let cols = ["LastName", "AccountId"];
        assert!(
            insert(&mut org, "Contact", &cols, &["Doe", &acct[..15]]).is_ok(),
            "15-char ids are accepted"
        );
        assert_eq!(
            insert(&mut org, "Contact", &cols, &["Doe", "001xyz"]),
            Err("MALFORMED_ID:Account ID: id value of incorrect type: 001xyz:AccountId --".into())
        );
        let contact = insert(&mut org, "Contact", &["LastName"], &["X"]).unwrap();
        assert_eq!(
            insert(&mut org, "Contact", &cols, &["Doe", contact.id()]),
            Err(format!(
                "MALFORMED_ID:Account ID: id value of incorrect type: {}:AccountId --",
                contact.id()
            ))
        );
        let never = id::make("001", "R0", 999);
        assert_eq!(
            insert(&mut org, "Contact", &cols, &["Doe", &never]),
            Err("INVALID_CROSS_REFERENCE_KEY:invalid cross reference id:AccountId --".into())
        );
        org.delete("Account", &acct, false).unwrap();
        assert_eq!(
            insert(&mut org, "Contact", &cols, &["Doe", &acct]),
            Err("ENTITY_IS_DELETED:entity is deleted:--".into())
        );
    }

    #[test]
    fn relationship_column_resolves_parent_by_external_id() {
        let mut org = TestOrg::new();
        let acct = account(&mut org, "A", "EXT-1");
        let cols = ["LastName", "Account.External_Id__c"];
        let c = insert(&mut org, "Contact", &cols, &["Doe", "ext-1"]).unwrap();
        assert_eq!(org.value("Contact", c.id(), "AccountId"), Value::Text(acct));
        assert_eq!(
            insert(&mut org, "Contact", &cols, &["Doe", "NOPE"]),
            Err("INVALID_FIELD:Foreign key external ID: NOPE not found for field External_Id__c in entity Account:--".into())
        );
    }

    #[test]
    fn bulk_headers_take_a_type_only_for_polymorphic_lookups() {
        let org = TestOrg::new();
        let contact = org.sobject("Contact").unwrap();
        assert_eq!(
            resolve_header(&org, &contact, "Account:Account.External_Id__c"),
            Err("type is not needed for non polymorphic foreign key references: Account".into())
        );
        assert_eq!(
            resolve_header(&org, &contact, "Account:Nope.External_Id__c"),
            Err("Unable to find relationship: Nope".into())
        );
        assert_eq!(
            resolve_header(&org, &contact, "Account.Name"),
            Err("Field name not found : Account.Name".into())
        );
        assert!(matches!(
            resolve_header(&org, &contact, "account.external_id__c"),
            Ok(Column::Relationship { .. })
        ));
    }

    #[test]
    fn relationship_column_must_name_an_external_id_field() {
        let org = TestOrg::new();
        let contact = org.sobject("Contact").unwrap();
        assert!(resolve_column(&org, &contact, "Account.Name").is_none());
        assert!(resolve_column(&org, &contact, "Account.Id").is_some());
        assert!(resolve_column(&org, &contact, "Nope__r.External_Id__c").is_none());
        assert_eq!(
            resolve_column(&org, &contact, "lastname"),
            Some(Column::Field(contact.field("LastName").unwrap().0))
        );
    }

    #[test]
    fn unique_field_collision_is_duplicate_value() {
        let mut org = TestOrg::new();
        let first = account(&mut org, "A", "K1");
        assert_eq!(
            insert(&mut org, "Account", &["Name", "External_Id__c"], &["B", "k1"]),
            Err(format!("DUPLICATE_VALUE:duplicate value found: External_Id__c duplicates value on record with id: {first}:--"))
        );
    }

    #[test]
    fn update_changes_only_given_cells_and_na_sets_null() {
        let mut org = TestOrg::new();
        let id = insert(
            &mut org,
            "Account",
            &["Name", "Industry", "Website"],
            &["A", "Banking", "x.com"],
        )
        .unwrap()
        .id()
        .to_string();
        let before = org.value("Account", &id, "SystemModstamp");
        let out = write(
            &mut org,
            &mut WriteRules::default(),
            "Account",
            WriteOperation::Update,
            &["Id", "Name", "Industry", "Website"],
            &[&id, "B", "", "#N/A"],
        )
        .unwrap();
        assert_eq!(out, Outcome::Updated(id.clone()));
        assert_eq!(org.value("Account", &id, "Name"), Value::Text("B".into()));
        assert_eq!(
            org.value("Account", &id, "Industry"),
            Value::Text("Banking".into())
        );
        assert_eq!(org.value("Account", &id, "Website"), Value::Null);
        assert_ne!(org.value("Account", &id, "SystemModstamp"), before);
    }

    #[test]
    fn update_errors_for_missing_malformed_unknown_and_deleted_ids() {
        let mut org = TestOrg::new();
        let mut rules = WriteRules::default();
        let cols = ["Id", "Name"];
        let mut update = |org: &mut TestOrg, id: &str| {
            write(
                org,
                &mut rules,
                "Account",
                WriteOperation::Update,
                &cols,
                &[id, "N"],
            )
        };
        assert_eq!(
            update(&mut org, ""),
            Err("MISSING_ARGUMENT:Id not specified in an update call:--".into())
        );
        assert_eq!(
            update(&mut org, "bad"),
            Err("MALFORMED_ID:Account ID: id value of incorrect type: bad:Id --".into())
        );
        let never = id::make("001", "R0", 77);
        assert_eq!(
            update(&mut org, &never),
            Err("INVALID_CROSS_REFERENCE_KEY:invalid cross reference id:Id --".into())
        );
        let id = account(&mut org, "A", "A1");
        org.delete("Account", &id, false).unwrap();
        assert_eq!(
            update(&mut org, &id),
            Err("ENTITY_IS_DELETED:entity is deleted:--".into())
        );
    }

    #[test]
    fn update_to_null_on_required_field_is_required_field_missing() {
        let mut org = TestOrg::new();
        let id = account(&mut org, "A", "A1");
        assert_eq!(
            write(
                &mut org,
                &mut WriteRules::default(),
                "Account",
                WriteOperation::Update,
                &["Id", "Name"],
                &[&id, "#N/A"]
            ),
            Err("REQUIRED_FIELD_MISSING:Required fields are missing: [Name]:Name --".into())
        );
    }

    #[test]
    fn upsert_creates_then_updates_on_the_external_id() {
        let mut org = TestOrg::new();
        let op = upsert_key(&org, "Account", "External_Id__c");
        let cols = ["External_Id__c", "Name"];
        let created = write(
            &mut org,
            &mut WriteRules::default(),
            "Account",
            op.clone(),
            &cols,
            &["U1", "First"],
        )
        .unwrap();
        assert!(created.created());
        let updated = write(
            &mut org,
            &mut WriteRules::default(),
            "Account",
            op.clone(),
            &cols,
            &["u1", "Second"],
        )
        .unwrap();
        assert_eq!(updated, Outcome::Updated(created.id().to_string()));
        assert_eq!(
            org.value("Account", created.id(), "Name"),
            Value::Text("Second".into())
        );
        assert_eq!(
            write(
                &mut org,
                &mut WriteRules::default(),
                "Account",
                op,
                &cols,
                &["", "X"]
            ),
            Err("MISSING_ARGUMENT:External_Id__c not specified:--".into())
        );
    }

    #[test]
    fn upsert_matching_several_records_is_duplicate_external_id() {
        let mut org = TestOrg::new();
        // Two records holding one key: possible when the field was not unique when they were made.
        let a = account(&mut org, "A", "A1");
        let b = account(&mut org, "B", "B1");
        let (idx, _) = org
            .sobject("Account")
            .unwrap()
            .field("External_Id__c")
            .unwrap();
        org.update("Account", &b, vec![(idx, Value::Text("A1".into()))])
            .unwrap();
        let op = upsert_key(&org, "Account", "External_Id__c");
        assert_eq!(
            write(&mut org, &mut WriteRules::default(), "Account", op, &["External_Id__c", "Name"], &["A1", "X"]),
            Err(format!("DUPLICATE_EXTERNAL_ID:External Id: more than one record found for external id field: [{a}, {b}]:External_Id__c --"))
        );
    }

    #[test]
    fn upsert_on_id_inserts_blank_ids_and_updates_given_ones() {
        let mut org = TestOrg::new();
        let op = upsert_key(&org, "Account", "Id");
        let created = write(
            &mut org,
            &mut WriteRules::default(),
            "Account",
            op.clone(),
            &["Id", "Name"],
            &["", "New"],
        )
        .unwrap();
        assert!(created.created());
        let again = write(
            &mut org,
            &mut WriteRules::default(),
            "Account",
            op,
            &["Id", "Name"],
            &[created.id(), "Renamed"],
        )
        .unwrap();
        assert_eq!(again, Outcome::Updated(created.id().to_string()));
    }

    #[test]
    fn delete_soft_then_again_is_entity_is_deleted_and_hard_delete_logs() {
        let mut org = TestOrg::new();
        let a = account(&mut org, "A", "A1");
        let b = account(&mut org, "B", "B1");
        let mut rules = WriteRules::default();
        assert_eq!(
            write(
                &mut org,
                &mut rules,
                "Account",
                WriteOperation::Delete,
                &["Id"],
                &[&a]
            ),
            Ok(Outcome::Deleted(a.clone()))
        );
        assert!(org.get("Account", &a).unwrap().is_deleted);
        assert_eq!(
            write(
                &mut org,
                &mut rules,
                "Account",
                WriteOperation::Delete,
                &["Id"],
                &[&a]
            ),
            Err("ENTITY_IS_DELETED:entity is deleted:--".into())
        );
        assert!(write(
            &mut org,
            &mut rules,
            "Account",
            WriteOperation::HardDelete,
            &["Id"],
            &[&b]
        )
        .is_ok());
        assert!(org.get("Account", &b).is_none());
        assert_eq!(org.deletion_log, vec![("Account".to_string(), b)]);
        assert_eq!(
            write(
                &mut org,
                &mut rules,
                "Account",
                WriteOperation::Delete,
                &["Id"],
                &[""]
            ),
            Err("MISSING_ARGUMENT:Id not specified in a delete call:--".into())
        );
    }

    #[test]
    fn validation_rule_fails_the_record_with_its_message() {
        let mut org = TestOrg::new();
        let mut rules = WriteRules::new(
            vec![ValidationRule {
                object: "Account".into(),
                field: "AnnualRevenue".into(),
                condition: RuleCondition::LessThan(0.0),
                message: "Revenue cannot be negative".into(),
                error_field: Some("AnnualRevenue".into()),
            }],
            vec![],
        );
        let cols = ["Name", "AnnualRevenue"];
        assert_eq!(
            write(
                &mut org,
                &mut rules,
                "Account",
                WriteOperation::Insert,
                &cols,
                &["A", "-5"]
            ),
            Err(
                "FIELD_CUSTOM_VALIDATION_EXCEPTION:Revenue cannot be negative:AnnualRevenue --"
                    .into()
            )
        );
        let ok = write(
            &mut org,
            &mut rules,
            "Account",
            WriteOperation::Insert,
            &cols,
            &["A", "5"],
        )
        .unwrap();
        // The rule sees the merged record on update.
        assert!(write(
            &mut org,
            &mut rules,
            "Account",
            WriteOperation::Update,
            &["Id", "Name"],
            &[ok.id(), "B"]
        )
        .is_ok());
        assert!(write(
            &mut org,
            &mut rules,
            "Account",
            WriteOperation::Update,
            &["Id", "AnnualRevenue"],
            &[ok.id(), "-1"]
        )
        .is_err());
    }

    #[test]
    fn lock_fault_fails_every_nth_row_with_unable_to_lock_row() {
        let mut org = TestOrg::new();
        let mut rules = WriteRules::new(
            vec![],
            vec![LockRowFault {
                object: "Account".into(),
                every_nth: 2,
            }],
        );
        let results: Vec<_> = (0..4)
            .map(|i| {
                write(
                    &mut org,
                    &mut rules,
                    "Account",
                    WriteOperation::Insert,
                    &["Name"],
                    &[&format!("A{i}")],
                )
            })
            .collect();
        assert!(results[0].is_ok() && results[2].is_ok());
        assert_eq!(
            results[1],
            Err("UNABLE_TO_LOCK_ROW:unable to obtain exclusive access to this record:--".into())
        );
        assert_eq!(org.live_count("Account"), 2);
    }
}
