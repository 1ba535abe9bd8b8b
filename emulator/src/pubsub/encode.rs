//! A change event's Avro datum: the `ChangeEventHeader` and the record's fields as Salesforce
//! fills them per change type (everything on CREATE and UNDELETE, the changed fields only on
//! UPDATE, nothing on DELETE and gap events), and the header's field bitmaps. An UPDATE of a long
//! text field may carry a unified diff instead of the new value (see [`super::diff`]).

use apache_avro::types::Value as Avro;
use chrono::{DateTime, NaiveDate, Utc};

use super::diff;
use super::schema::{AvroKind, ChangeSchema, EventField, CHANGE_TYPES};
use crate::schema::Value;

/// `ChangeEventHeader`'s values.
#[derive(Clone, Debug, PartialEq)]
pub(crate) struct Header {
    pub(crate) entity_name: String,
    pub(crate) record_ids: Vec<String>,
    pub(crate) change_type: &'static str,
    pub(crate) change_origin: String,
    pub(crate) transaction_key: String,
    pub(crate) sequence_number: i32,
    pub(crate) commit_timestamp: DateTime<Utc>,
    pub(crate) commit_number: i64,
    pub(crate) commit_user: String,
    pub(crate) nulled_fields: Vec<String>,
    pub(crate) diff_fields: Vec<String>,
    pub(crate) changed_fields: Vec<String>,
}

/// The values of the event's fields after the header, `None` for null, in schema order.
pub(crate) type Body = Vec<FieldValue>;

#[derive(Clone, Debug, PartialEq)]
pub(crate) enum FieldValue {
    Null,
    Scalar(Avro),
    /// A compound's nested record: one value per part.
    Compound(Vec<Option<Avro>>),
}

fn scalar(value: &Value, kind: AvroKind) -> Option<Avro> {
    Some(match (value, kind) {
        (Value::Null, _) => return None,
        (Value::Text(s), AvroKind::String) => Avro::String(s.clone()),
        (Value::Bool(b), AvroKind::Boolean) => Avro::Boolean(*b),
        (Value::Int(i), AvroKind::Int) => Avro::Int(i32::try_from(*i).ok()?),
        (Value::Int(i), AvroKind::Long) => Avro::Long(*i),
        (Value::Int(i), AvroKind::Double) => Avro::Double(*i as f64),
        (Value::Double(d), AvroKind::Double) => Avro::Double(*d),
        (Value::DateTime(t), AvroKind::DateTime) => Avro::Long(t.timestamp_millis()),
        (Value::Date(d), AvroKind::Date) => {
            let epoch = NaiveDate::from_ymd_opt(1970, 1, 1)?;
            Avro::Int(i32::try_from((*d - epoch).num_days()).ok()?)
        }
        (Value::Time(t), AvroKind::Time) => {
            use chrono::Timelike;
            Avro::Int((t.num_seconds_from_midnight() * 1000 + t.nanosecond() / 1_000_000) as i32)
        }
        _ => return None,
    })
}

/// Every field of the record (CREATE, UNDELETE).
pub(crate) fn full_body(schema: &ChangeSchema, row: &[Value]) -> Body {
    schema
        .fields
        .iter()
        .map(|field| match field {
            EventField::Scalar { source, kind, .. } => {
                scalar(&row[*source], *kind).map_or(FieldValue::Null, FieldValue::Scalar)
            }
            EventField::Compound { parts, .. } => {
                let values: Vec<Option<Avro>> = parts
                    .iter()
                    .map(|p| scalar(&row[p.source], p.kind))
                    .collect();
                if values.iter().all(Option::is_none) {
                    FieldValue::Null
                } else {
                    FieldValue::Compound(values)
                }
            }
        })
        .collect()
}

/// An update: the changed fields' new values (unchanged fields null; a long text field's value
/// may be a unified diff), and the bitmaps of the changed, the nulled and the diffed fields.
pub(crate) struct Update {
    pub(crate) body: Body,
    pub(crate) changed: Vec<String>,
    pub(crate) nulled: Vec<String>,
    /// `diffFields`: the fields whose value is a diff (they are in `changed` too).
    pub(crate) diff: Vec<String>,
    /// How many fields changed (what counts toward a transaction's overflow limit).
    pub(crate) field_count: usize,
}

pub(crate) fn update(schema: &ChangeSchema, before: &[Value], after: &[Value]) -> Update {
    let mut changed = Bitmaps::default();
    let mut nulled = Bitmaps::default();
    let mut diffed = Bitmaps::default();
    let mut field_count = 0;
    let body = schema
        .fields
        .iter()
        .enumerate()
        .map(|(i, field)| {
            let position = i + 1;
            match field {
                EventField::Scalar {
                    name,
                    source,
                    kind,
                    long_text,
                } => {
                    // Every update sets LastModifiedDate, even when the org's clock stands
                    // still and the value comes out the same.
                    if before[*source] == after[*source] && name != "LastModifiedDate" {
                        return FieldValue::Null;
                    }
                    field_count += 1;
                    changed.set(position, None);
                    if let (true, Value::Text(old), Value::Text(new)) =
                        (*long_text, &before[*source], &after[*source])
                    {
                        if let Some(text) = diff::unified(old, new) {
                            diffed.set(position, None);
                            return FieldValue::Scalar(Avro::String(text));
                        }
                    }
                    match scalar(&after[*source], *kind) {
                        Some(v) => FieldValue::Scalar(v),
                        None => {
                            nulled.set(position, None);
                            FieldValue::Null
                        }
                    }
                }
                // Components of compounds are short (a street is a 255-character text area),
                // so they never travel as diffs.
                EventField::Compound { parts, .. } => {
                    let mut any = false;
                    let values: Vec<Option<Avro>> = parts
                        .iter()
                        .enumerate()
                        .map(|(j, p)| {
                            if before[p.source] == after[p.source] {
                                return None;
                            }
                            any = true;
                            field_count += 1;
                            changed.set(position, Some(j));
                            let value = scalar(&after[p.source], p.kind);
                            if value.is_none() {
                                nulled.set(position, Some(j));
                            }
                            value
                        })
                        .collect();
                    if any {
                        FieldValue::Compound(values)
                    } else {
                        FieldValue::Null
                    }
                }
            }
        })
        .collect();
    Update {
        body,
        changed: changed.encode(),
        nulled: nulled.encode(),
        diff: diffed.encode(),
        field_count,
    }
}

/// Header only: every field null (DELETE, gap and overflow events).
pub(crate) fn empty_body(schema: &ChangeSchema) -> Body {
    vec![FieldValue::Null; schema.fields.len()]
}

/// The bitmaps of `changedFields` / `nulledFields` / `diffFields`: element 0 `0x…` over the top-level fields
/// (bit i = schema field i, the header being 0), then `pos-0x…` over the fields of the compound
/// at top-level position `pos`.
#[derive(Default)]
struct Bitmaps {
    top: Vec<usize>,
    nested: Vec<(usize, Vec<usize>)>,
}

impl Bitmaps {
    fn set(&mut self, position: usize, part: Option<usize>) {
        match part {
            None => self.top.push(position),
            Some(j) => match self.nested.iter_mut().find(|(p, _)| *p == position) {
                Some((_, bits)) => bits.push(j),
                None => self.nested.push((position, vec![j])),
            },
        }
    }

    fn encode(&self) -> Vec<String> {
        let mut out = Vec::new();
        if !self.top.is_empty() {
            out.push(hex_bitmap(&self.top));
        }
        for (position, bits) in &self.nested {
            out.push(format!("{position}-{}", hex_bitmap(bits)));
        }
        out
    }
}

/// `0x` and the bitmap in upper-case hex, two digits per byte, most significant byte first.
pub(crate) fn hex_bitmap(bits: &[usize]) -> String {
    let highest = bits.iter().copied().max().unwrap_or(0);
    let mut bytes = vec![0u8; highest / 8 + 1];
    for &bit in bits {
        bytes[bit / 8] |= 1 << (bit % 8);
    }
    let hex: String = bytes.iter().rev().map(|b| format!("{b:02X}")).collect();
    format!("0x{hex}")
}

fn strings(items: &[String]) -> Avro {
    Avro::Array(items.iter().cloned().map(Avro::String).collect())
}

fn union(value: Option<Avro>) -> Avro {
    match value {
        None => Avro::Union(0, Box::new(Avro::Null)),
        Some(v) => Avro::Union(1, Box::new(v)),
    }
}

/// The event as one Avro datum (no container header), written with `schema`.
pub(crate) fn datum(schema: &ChangeSchema, header: &Header, body: &Body) -> Vec<u8> {
    let change_type = CHANGE_TYPES
        .iter()
        .position(|t| *t == header.change_type)
        .unwrap_or(0);
    let header_value = Avro::Record(vec![
        (
            "entityName".into(),
            Avro::String(header.entity_name.clone()),
        ),
        ("recordIds".into(), strings(&header.record_ids)),
        (
            "changeType".into(),
            Avro::Enum(change_type as u32, header.change_type.to_string()),
        ),
        (
            "changeOrigin".into(),
            Avro::String(header.change_origin.clone()),
        ),
        (
            "transactionKey".into(),
            Avro::String(header.transaction_key.clone()),
        ),
        ("sequenceNumber".into(), Avro::Int(header.sequence_number)),
        (
            "commitTimestamp".into(),
            Avro::Long(header.commit_timestamp.timestamp_millis()),
        ),
        ("commitNumber".into(), Avro::Long(header.commit_number)),
        (
            "commitUser".into(),
            Avro::String(header.commit_user.clone()),
        ),
        ("nulledFields".into(), strings(&header.nulled_fields)),
        ("diffFields".into(), strings(&header.diff_fields)),
        ("changedFields".into(), strings(&header.changed_fields)),
    ]);
    let mut fields = vec![("ChangeEventHeader".to_string(), header_value)];
    for (field, value) in schema.fields.iter().zip(body) {
        let avro = match (field, value) {
            (_, FieldValue::Null) => union(None),
            (EventField::Scalar { .. }, FieldValue::Scalar(v)) => union(Some(v.clone())),
            (EventField::Compound { parts, .. }, FieldValue::Compound(values)) => {
                let record = parts
                    .iter()
                    .zip(values)
                    .map(|(p, v)| (p.name.clone(), union(v.clone())))
                    .collect();
                union(Some(Avro::Record(record)))
            }
            _ => union(None),
        };
        fields.push((field.name().to_string(), avro));
    }
    apache_avro::to_avro_datum(&schema.avro, Avro::Record(fields))
        .expect("change events are built from their own schema")
}

/// The header of an event's payload as JSON (`{"entityName", "recordIds", "changeType", …}`),
/// read back with the schema it was written with.
pub(crate) fn header_json(schema: &ChangeSchema, payload: &[u8]) -> serde_json::Value {
    let Ok(Avro::Record(fields)) =
        apache_avro::from_avro_datum(&schema.avro, &mut &payload[..], None)
    else {
        return serde_json::Value::Null;
    };
    let Some((_, Avro::Record(header))) = fields.into_iter().next() else {
        return serde_json::Value::Null;
    };
    let json = |v: Avro| -> serde_json::Value {
        match v {
            Avro::String(s) | Avro::Enum(_, s) => s.into(),
            Avro::Int(i) => i.into(),
            Avro::Long(l) => l.into(),
            Avro::Array(items) => items
                .into_iter()
                .map(|i| match i {
                    Avro::String(s) => serde_json::Value::String(s),
                    _ => serde_json::Value::Null,
                })
                .collect(),
            _ => serde_json::Value::Null,
        }
    };
    header.into_iter().map(|(k, v)| (k, json(v))).collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::catalog;
    use crate::schema::SObject;

    fn account() -> SObject {
        catalog::objects()
            .into_iter()
            .find(|d| d.sobject.name == "Account")
            .unwrap()
            .sobject
    }

    /// The event position of a top-level field (the header being 0) and its row index.
    fn position(schema: &ChangeSchema, sobject: &SObject, name: &str) -> (usize, usize) {
        let event = schema.fields.iter().position(|f| f.name() == name).unwrap() + 1;
        let row = sobject.fields.iter().position(|f| f.name == name).unwrap();
        (event, row)
    }

    /// 20 lines of 100 characters.
    fn long_description() -> String {
        (1..=20)
            .map(|i| {
                format!(
                    "{:.<100}",
                    format!("Paragraph {i:02}: business applications are moving to the cloud")
                )
            })
            .collect::<Vec<_>>()
            .join("\n")
    }

    struct Updated {
        update: Update,
        description: (usize, usize),
        last_modified: (usize, usize),
        schema: ChangeSchema,
    }

    /// An Account updated from `old` to `new` Description (and a new LastModifiedDate).
    fn update_description(old: Value, new: Value) -> Updated {
        let sobject = account();
        let schema = ChangeSchema::of(&sobject);
        let description = position(&schema, &sobject, "Description");
        let last_modified = position(&schema, &sobject, "LastModifiedDate");
        let mut before = vec![Value::Null; sobject.fields.len()];
        before[description.1] = old;
        let mut after = before.clone();
        after[description.1] = new;
        after[last_modified.1] = Value::DateTime(Utc::now());
        Updated {
            update: update(&schema, &before, &after),
            description,
            last_modified,
            schema,
        }
    }

    fn text(body: &Body, position: usize) -> Option<String> {
        match &body[position - 1] {
            FieldValue::Scalar(Avro::String(s)) => Some(s.clone()),
            _ => None,
        }
    }

    #[test]
    fn a_long_description_update_carries_a_diff_listed_in_diff_fields() {
        let old = long_description();
        let new = old.replace(
            "Paragraph 02: business applications",
            "Paragraph 02: business apps",
        );
        let u = update_description(Value::Text(old), Value::Text(new.clone()));
        let (description, _) = u.description;
        let (last_modified, _) = u.last_modified;
        let value = text(&u.update.body, description).unwrap();
        let lines: Vec<&str> = value.split('\n').collect();
        assert_eq!(
            lines[..3],
            [
                "--- ",
                &format!("+++ {}", diff::sha256_hex(&new)),
                "@@ -2,1 +2,1 @@"
            ]
        );
        assert!(lines[3].starts_with("-Paragraph 02: business applications are"));
        assert!(lines[4].starts_with("+Paragraph 02: business apps are"));
        assert_eq!(u.update.diff, vec![hex_bitmap(&[description])]);
        assert_eq!(
            u.update.changed,
            vec![hex_bitmap(&[description, last_modified])]
        );
        assert!(u.update.nulled.is_empty());
        // The datum carries the header's diffFields as written.
        let header = Header {
            entity_name: "Account".into(),
            record_ids: vec!["001000000000001AAA".into()],
            change_type: "UPDATE",
            change_origin: String::new(),
            transaction_key: "k".into(),
            sequence_number: 1,
            commit_timestamp: Utc::now(),
            commit_number: 1,
            commit_user: "005000000000001AAA".into(),
            nulled_fields: u.update.nulled.clone(),
            diff_fields: u.update.diff.clone(),
            changed_fields: u.update.changed.clone(),
        };
        let payload = datum(&u.schema, &header, &u.update.body);
        let json = header_json(&u.schema, &payload);
        assert_eq!(
            json["diffFields"],
            serde_json::json!([hex_bitmap(&[description])])
        );
    }

    #[test]
    fn a_short_description_update_carries_the_full_value() {
        let u = update_description(
            Value::Text("A short description.".into()),
            Value::Text("A short description, edited.".into()),
        );
        let (description, _) = u.description;
        assert_eq!(
            text(&u.update.body, description).as_deref(),
            Some("A short description, edited.")
        );
        assert!(u.update.diff.is_empty());
    }

    #[test]
    fn a_long_value_from_null_or_rewritten_is_sent_whole() {
        let new = long_description();
        let u = update_description(Value::Null, Value::Text(new.clone()));
        assert_eq!(text(&u.update.body, u.description.0), Some(new.clone()));
        assert!(u.update.diff.is_empty());
        let rewritten = new.replace("Paragraph", "Section");
        let u = update_description(Value::Text(new), Value::Text(rewritten.clone()));
        assert_eq!(text(&u.update.body, u.description.0), Some(rewritten));
        assert!(u.update.diff.is_empty());
    }

    #[test]
    fn a_long_description_set_to_null_is_nulled_not_diffed() {
        let u = update_description(Value::Text(long_description()), Value::Null);
        let (description, _) = u.description;
        assert_eq!(u.update.body[description - 1], FieldValue::Null);
        assert_eq!(u.update.nulled, vec![hex_bitmap(&[description])]);
        assert!(u.update.diff.is_empty());
    }

    #[test]
    fn bitmaps_are_hex_with_bit_zero_the_header() {
        // Salesforce's documented example: Fax (7) and LastModifiedDate (22).
        assert_eq!(hex_bitmap(&[7, 22]), "0x400080");
        assert_eq!(hex_bitmap(&[4]), "0x10");
        let mut b = Bitmaps::default();
        b.set(3, None);
        b.set(5, Some(1));
        b.set(5, Some(2));
        assert_eq!(b.encode(), vec!["0x08".to_string(), "5-0x06".to_string()]);
    }
}
