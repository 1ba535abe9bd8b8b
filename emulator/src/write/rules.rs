//! The org's configurable write behaviour: validation rules (FIELD_CUSTOM_VALIDATION_EXCEPTION)
//! and the UNABLE_TO_LOCK_ROW fault.

use std::collections::HashMap;

use serde::{Deserialize, Serialize};

use crate::schema::{SObject, Value};

/// When a validation rule fires, evaluated on the record as it would be saved.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case", tag = "op", content = "value")]
pub enum RuleCondition {
    /// The field's value, as text, equals this (case-sensitive).
    Equals(String),
    /// The field's numeric value is below this.
    LessThan(f64),
    /// The field's numeric value is above this.
    GreaterThan(f64),
    /// The field is null.
    IsBlank,
}

/// A validation rule on one object: `condition` on `field` rejects the record with `message`.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct ValidationRule {
    pub object: String,
    pub field: String,
    pub condition: RuleCondition,
    pub message: String,
    /// The error location: a field name, or none for the top of the page.
    #[serde(default)]
    pub error_field: Option<String>,
}

impl ValidationRule {
    /// Whether the rule fires for a record of `sobject` with these values (aligned with
    /// `sobject.fields`).
    pub fn fires(&self, sobject: &SObject, values: &[Value]) -> bool {
        if !sobject.name.eq_ignore_ascii_case(&self.object) {
            return false;
        }
        let Some((idx, _)) = sobject.field(&self.field) else {
            return false;
        };
        let value = values.get(idx).unwrap_or(&Value::Null);
        match &self.condition {
            RuleCondition::IsBlank => value.is_null(),
            RuleCondition::Equals(expected) => value_text(value).is_some_and(|t| &t == expected),
            RuleCondition::LessThan(limit) => value_number(value).is_some_and(|n| n < *limit),
            RuleCondition::GreaterThan(limit) => value_number(value).is_some_and(|n| n > *limit),
        }
    }
}

fn value_text(value: &Value) -> Option<String> {
    match value {
        Value::Null => None,
        Value::Bool(b) => Some(b.to_string()),
        Value::Int(n) => Some(n.to_string()),
        Value::Double(x) => Some(x.to_string()),
        Value::Text(t) => Some(t.clone()),
        Value::Date(d) => Some(d.to_string()),
        Value::DateTime(d) => Some(d.to_rfc3339()),
        Value::Time(t) => Some(t.to_string()),
        Value::Base64(_) => None,
    }
}

fn value_number(value: &Value) -> Option<f64> {
    match value {
        Value::Int(n) => Some(*n as f64),
        Value::Double(x) => Some(*x),
        _ => None,
    }
}

/// Every `every_nth` row written to `object` (1-based: rows N, 2N, …) fails with
/// UNABLE_TO_LOCK_ROW, as when another transaction holds the record.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct LockRowFault {
    pub object: String,
    pub every_nth: u64,
}

/// Validation rules and lock faults in force, with the row counters the faults need.
#[derive(Clone, Debug, Default)]
pub struct WriteRules {
    pub validation_rules: Vec<ValidationRule>,
    pub lock_faults: Vec<LockRowFault>,
    /// The session user lacks the "Bulk API Hard Delete" permission: `hardDelete` jobs are
    /// refused with FEATURENOTENABLED.
    pub hard_delete_denied: bool,
    rows_seen: HashMap<String, u64>,
}

impl WriteRules {
    pub fn new(validation_rules: Vec<ValidationRule>, lock_faults: Vec<LockRowFault>) -> Self {
        WriteRules {
            validation_rules,
            lock_faults,
            hard_delete_denied: false,
            rows_seen: HashMap::new(),
        }
    }

    /// These rules for a session user with (or without) "Bulk API Hard Delete".
    pub fn with_bulk_api_hard_delete(mut self, granted: bool) -> Self {
        self.hard_delete_denied = !granted;
        self
    }

    /// The first rule that rejects this record.
    pub fn failing_rule(&self, sobject: &SObject, values: &[Value]) -> Option<&ValidationRule> {
        self.validation_rules
            .iter()
            .find(|r| r.fires(sobject, values))
    }

    /// Counts one row written to `object`; true when a lock fault makes it fail.
    pub fn row_is_locked(&mut self, object: &str) -> bool {
        let Some(fault) = self
            .lock_faults
            .iter()
            .find(|f| f.object.eq_ignore_ascii_case(object) && f.every_nth > 0)
        else {
            return false;
        };
        let every = fault.every_nth;
        let seen = self
            .rows_seen
            .entry(object.to_ascii_lowercase())
            .or_insert(0);
        *seen += 1;
        *seen % every == 0
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::schema::{Field, FieldType};

    fn opportunity() -> SObject {
        let fields = vec![
            Field::new("Amount", "Amount", FieldType::Currency),
            Field::new("Name", "Name", FieldType::String),
        ];
        SObject::new(
            "Opportunity",
            "Opportunity",
            "Opportunities",
            Some("006"),
            fields,
        )
    }

    #[test]
    fn less_than_rule_fires_only_below_the_limit() {
        let rule = ValidationRule {
            object: "opportunity".into(),
            field: "Amount".into(),
            condition: RuleCondition::LessThan(0.0),
            message: "Amount must not be negative".into(),
            error_field: Some("Amount".into()),
        };
        let o = opportunity();
        assert!(rule.fires(&o, &[Value::Double(-1.0), Value::Null]));
        assert!(!rule.fires(&o, &[Value::Double(0.0), Value::Null]));
        assert!(!rule.fires(&o, &[Value::Null, Value::Null]));
    }

    #[test]
    fn rule_condition_reads_from_json() {
        let rule: ValidationRule = serde_json::from_str(
            r#"{"object":"Account","field":"Name","condition":{"op":"equals","value":"Bad"},"message":"no"}"#,
        )
        .unwrap();
        assert_eq!(rule.condition, RuleCondition::Equals("Bad".into()));
        assert_eq!(rule.error_field, None);
    }

    #[test]
    fn lock_fault_hits_every_nth_row_of_its_object_only() {
        let mut rules = WriteRules::new(
            vec![],
            vec![LockRowFault {
                object: "Account".into(),
                every_nth: 3,
            }],
        );
        let hits: Vec<bool> = (0..6).map(|_| rules.row_is_locked("Account")).collect();
        assert_eq!(hits, [false, false, true, false, false, true]);
        assert!(!rules.row_is_locked("Contact"));
    }
}
