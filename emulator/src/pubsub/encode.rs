//! A change event's Avro datum: the `ChangeEventHeader` and the record's fields as Salesforce
//! fills them per change type (everything on CREATE and UNDELETE, the changed fields only on
//! UPDATE, nothing on DELETE and gap events), and the header's field bitmaps.

use apache_avro::types::Value as Avro;
use chrono::{DateTime, NaiveDate, Utc};

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

/// An update: the changed fields' new values (unchanged fields null), and the bitmaps of the
/// changed and of the nulled fields.
pub(crate) struct Update {
    pub(crate) body: Body,
    pub(crate) changed: Vec<String>,
    pub(crate) nulled: Vec<String>,
    /// How many fields changed (what counts toward a transaction's overflow limit).
    pub(crate) field_count: usize,
}

pub(crate) fn update(schema: &ChangeSchema, before: &[Value], after: &[Value]) -> Update {
    let mut changed = Bitmaps::default();
    let mut nulled = Bitmaps::default();
    let mut field_count = 0;
    let body = schema
        .fields
        .iter()
        .enumerate()
        .map(|(i, field)| {
            let position = i + 1;
            match field {
                EventField::Scalar { name, source, kind } => {
                    // Every update sets LastModifiedDate, even when the org's clock stands
                    // still and the value comes out the same.
                    if before[*source] == after[*source] && name != "LastModifiedDate" {
                        return FieldValue::Null;
                    }
                    field_count += 1;
                    changed.set(position, None);
                    match scalar(&after[*source], *kind) {
                        Some(v) => FieldValue::Scalar(v),
                        None => {
                            nulled.set(position, None);
                            FieldValue::Null
                        }
                    }
                }
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
        field_count,
    }
}

/// Header only: every field null (DELETE, gap and overflow events).
pub(crate) fn empty_body(schema: &ChangeSchema) -> Body {
    vec![FieldValue::Null; schema.fields.len()]
}

/// The bitmaps of `changedFields` / `nulledFields`: element 0 `0x…` over the top-level fields
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
