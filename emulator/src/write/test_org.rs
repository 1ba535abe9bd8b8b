//! A small in-memory org for the write side's unit tests: Account, Contact and Opportunity with
//! the attributes the write checks look at. The real org is `org.rs`.

use std::collections::BTreeMap;
use std::sync::Arc;

use chrono::{DateTime, Duration, TimeZone, Utc};

use super::id;
use crate::schema::{Field, FieldType, PicklistValue, SObject, Value};
use crate::store::{FieldValues, OrgStore, StoreError, StoredRecord};

pub(crate) const USER_ID: &str = "005000000000001AAA";

pub(crate) struct TestOrg {
    objects: Vec<Arc<SObject>>,
    records: BTreeMap<(String, String), StoredRecord>,
    pub(crate) deletion_log: Vec<(String, String)>,
    counter: u64,
    pub(crate) now: DateTime<Utc>,
}

fn system_fields(label: &str) -> Vec<Field> {
    let mut id = Field::new("Id", &format!("{label} ID"), FieldType::Id);
    id.nillable = false;
    let mut is_deleted = Field::new("IsDeleted", "Deleted", FieldType::Boolean);
    is_deleted.createable = false;
    is_deleted.updateable = false;
    let mut out = vec![id, is_deleted];
    for (name, label, t) in [
        ("CreatedDate", "Created Date", FieldType::DateTime),
        (
            "LastModifiedDate",
            "Last Modified Date",
            FieldType::DateTime,
        ),
        (
            "LastModifiedById",
            "Last Modified By ID",
            FieldType::Reference,
        ),
        ("SystemModstamp", "System Modstamp", FieldType::DateTime),
    ] {
        let mut f = Field::new(name, label, t);
        f.createable = false;
        f.updateable = false;
        f.nillable = false;
        out.push(f);
    }
    out
}

fn sobject(name: &str, prefix: &str, fields: Vec<Field>) -> Arc<SObject> {
    let mut all = system_fields(name);
    all.extend(fields);
    let plural = format!("{name}s");
    Arc::new(SObject::new(name, name, &plural, Some(prefix), all))
}

fn picklist(name: &str, label: &str, values: &[&str], restricted: bool) -> Field {
    let mut f = Field::new(name, label, FieldType::Picklist);
    f.restricted_picklist = restricted;
    f.picklist_values = values
        .iter()
        .map(|v| PicklistValue {
            value: v.to_string(),
            label: v.to_string(),
            active: true,
            default_value: false,
        })
        .collect();
    f
}

fn reference(name: &str, label: &str, to: &str, relationship: &str) -> Field {
    let mut f = Field::new(name, label, FieldType::Reference);
    f.reference_to = vec![to.into()];
    f.relationship_name = Some(relationship.into());
    f
}

impl TestOrg {
    pub(crate) fn new() -> Self {
        let mut name = Field::new("Name", "Account Name", FieldType::String);
        name.nillable = false;
        let mut ext = Field::new("External_Id__c", "External Id", FieldType::String);
        ext.length = 20;
        ext.external_id = true;
        ext.unique = true;
        ext.id_lookup = true;
        let mut employees = Field::new("NumberOfEmployees", "Employees", FieldType::Int);
        employees.digits = 8;
        let mut formula = Field::new("Score__c", "Score", FieldType::Double);
        formula.calculated = true;
        formula.createable = false;
        formula.updateable = false;
        let account = sobject(
            "Account",
            "001",
            vec![
                name,
                ext,
                picklist("Rating", "Account Rating", &["Hot", "Warm", "Cold"], true),
                picklist("Industry", "Industry", &["Banking"], false),
                employees,
                Field::new("AnnualRevenue", "Annual Revenue", FieldType::Currency),
                Field::new("Website", "Website", FieldType::Url),
                Field::new("Active__c", "Active", FieldType::Boolean),
                formula,
                reference("ParentId", "Parent Account ID", "Account", "Parent"),
            ],
        );
        let mut last_name = Field::new("LastName", "Last Name", FieldType::String);
        last_name.nillable = false;
        last_name.length = 80;
        let contact = sobject(
            "Contact",
            "003",
            vec![
                Field::new("FirstName", "First Name", FieldType::String),
                last_name,
                Field::new("Email", "Email", FieldType::Email),
                Field::new("Birthdate", "Birthdate", FieldType::Date),
                Field::new("Last_Contacted__c", "Last Contacted", FieldType::DateTime),
                reference("AccountId", "Account ID", "Account", "Account"),
            ],
        );
        let mut opp_name = Field::new("Name", "Name", FieldType::String);
        opp_name.nillable = false;
        let mut close = Field::new("CloseDate", "Close Date", FieldType::Date);
        close.nillable = false;
        let mut owner = reference("OwnerId", "Owner ID", "User", "Owner");
        owner.nillable = false;
        owner.defaulted_on_create = true;
        let mut stage = picklist("StageName", "Stage", &["Prospecting", "Closed Won"], false);
        stage.nillable = false;
        let opportunity = sobject(
            "Opportunity",
            "006",
            vec![
                opp_name,
                close,
                stage,
                Field::new("Amount", "Amount", FieldType::Currency),
                reference("AccountId", "Account ID", "Account", "Account"),
                owner,
            ],
        );
        TestOrg {
            objects: vec![account, contact, opportunity],
            records: BTreeMap::new(),
            deletion_log: Vec::new(),
            counter: 0,
            now: Utc.with_ymd_and_hms(2026, 1, 1, 0, 0, 0).unwrap(),
        }
    }

    /// Changes an object's createable / updateable / deletable flags.
    pub(crate) fn set_object_flags(
        &mut self,
        object: &str,
        createable: bool,
        updateable: bool,
        deletable: bool,
    ) {
        let position = self.objects.iter().position(|o| o.name == object).unwrap();
        let mut sobject = (*self.objects[position]).clone();
        sobject.createable = createable;
        sobject.updateable = updateable;
        sobject.deletable = deletable;
        self.objects[position] = Arc::new(sobject);
    }

    /// The value of `field` on a record, as the org holds it.
    pub(crate) fn value(&self, object: &str, id: &str, field: &str) -> Value {
        let sobject = self.sobject(object).unwrap();
        let (idx, _) = sobject.field(field).unwrap();
        self.get(object, id).unwrap().values[idx].clone()
    }

    /// Live records of an object.
    pub(crate) fn live_count(&self, object: &str) -> usize {
        self.records
            .iter()
            .filter(|((o, _), r)| o == object && !r.is_deleted)
            .count()
    }

    fn key(&self, object: &str, id: &str) -> Option<(String, String)> {
        let sobject = self.sobject(object)?;
        Some((sobject.name.clone(), id.to_string()))
    }

    fn stamp(&mut self, object: &str, values: &mut [Value]) {
        self.now += Duration::seconds(1);
        let sobject = self.sobject(object).unwrap();
        for (name, value) in [
            ("LastModifiedDate", Value::DateTime(self.now)),
            ("SystemModstamp", Value::DateTime(self.now)),
            ("LastModifiedById", Value::Text(USER_ID.into())),
        ] {
            values[sobject.field(name).unwrap().0] = value;
        }
    }
}

impl OrgStore for TestOrg {
    fn sobject(&self, object: &str) -> Option<Arc<SObject>> {
        self.objects
            .iter()
            .find(|o| o.name.eq_ignore_ascii_case(object))
            .cloned()
    }

    fn now(&self) -> DateTime<Utc> {
        self.now
    }

    fn current_user_id(&self) -> String {
        USER_ID.into()
    }

    fn get(&self, object: &str, id: &str) -> Option<StoredRecord> {
        self.records.get(&self.key(object, id)?).cloned()
    }

    fn find_by_field(&self, object: &str, field: &str, value: &Value) -> Vec<String> {
        let Some(sobject) = self.sobject(object) else {
            return Vec::new();
        };
        let Some((idx, f)) = sobject.field(field) else {
            return Vec::new();
        };
        self.records
            .iter()
            .filter(|((o, _), r)| *o == sobject.name && !r.is_deleted)
            .filter(|(_, r)| match (&r.values[idx], value) {
                (Value::Text(a), Value::Text(b)) if !f.case_sensitive => a.eq_ignore_ascii_case(b),
                (a, b) => a == b,
            })
            .map(|((_, id), _)| id.clone())
            .collect()
    }

    fn insert(&mut self, object: &str, values: FieldValues) -> Result<String, StoreError> {
        let sobject = self
            .sobject(object)
            .ok_or_else(|| StoreError::UnknownObject(object.into()))?;
        self.counter += 1;
        let id = id::make(sobject.key_prefix.as_deref().unwrap(), "R0", self.counter);
        let mut row = vec![Value::Null; sobject.fields.len()];
        for (idx, v) in values {
            row[idx] = v;
        }
        row[0] = Value::Text(id.clone());
        row[1] = Value::Bool(false);
        row[sobject.field("CreatedDate").unwrap().0] =
            Value::DateTime(self.now + Duration::seconds(1));
        self.stamp(object, &mut row);
        self.records.insert(
            (sobject.name.clone(), id.clone()),
            StoredRecord {
                id: id.clone(),
                values: row,
                is_deleted: false,
            },
        );
        Ok(id)
    }

    fn update(&mut self, object: &str, id: &str, values: FieldValues) -> Result<(), StoreError> {
        let key = self
            .key(object, id)
            .ok_or_else(|| StoreError::UnknownObject(object.into()))?;
        let mut row = self
            .records
            .get(&key)
            .ok_or(StoreError::NotFound)?
            .values
            .clone();
        if self.records[&key].is_deleted {
            return Err(StoreError::EntityIsDeleted);
        }
        for (idx, v) in values {
            row[idx] = v;
        }
        self.stamp(object, &mut row);
        self.records.get_mut(&key).unwrap().values = row;
        Ok(())
    }

    fn delete(&mut self, object: &str, id: &str, hard: bool) -> Result<(), StoreError> {
        let key = self
            .key(object, id)
            .ok_or_else(|| StoreError::UnknownObject(object.into()))?;
        let record = self.records.get_mut(&key).ok_or(StoreError::NotFound)?;
        if record.is_deleted {
            return Err(StoreError::EntityIsDeleted);
        }
        if hard {
            self.records.remove(&key);
            self.deletion_log.push(key);
        } else {
            record.is_deleted = true;
            record.values[1] = Value::Bool(true);
        }
        Ok(())
    }

    fn undelete(&mut self, object: &str, id: &str) -> Result<(), StoreError> {
        let key = self
            .key(object, id)
            .ok_or_else(|| StoreError::UnknownObject(object.into()))?;
        let record = self.records.get_mut(&key).ok_or(StoreError::NotFound)?;
        record.is_deleted = false;
        record.values[1] = Value::Bool(false);
        Ok(())
    }
}
