//! Salesforce values → typed JSON record bytes, the same bytes whichever API served them.
//!
//! A [`RecordLayout`] is built once per query from the fields the catalog keeps. It says what to
//! SELECT and how every output value is produced:
//! - Bulk CSV text is typed by the describe type: empty → `null` (Salesforce stores no empty
//!   strings, see "Empty vs null" in the facts file), `NA`/`N/A`/`NULL`/`None` stay strings,
//!   numbers are copied digit for digit (no float rounding), booleans become booleans, datetimes
//!   become `2024-01-01T10:00:00.000Z`.
//! - REST JSON values are copied as sent, except datetimes (`…+0000` → `…Z`), `anyType` values
//!   (always strings) and compound values (rewritten into the Bulk shape below).
//! - Compound fields: Bulk refuses to select `BillingAddress`, so the layout selects its
//!   components (`BillingStreet`, `BillingCity`, …) and rebuilds the object. Both APIs produce
//!   the same object: one key per component describe lists (`street`, `city`, …; `null` when
//!   empty), or `null` when every part is null.

use std::collections::HashMap;

use serde_json::value::RawValue;
use thiserror::Error;

use crate::source::decode::csv_stream::CsvRecord;
use crate::source::decode::field_kind::{
    component_is_number, compound_component_key, FieldKind, ADDRESS_KEYS, LOCATION_KEYS,
};
use crate::source::decode::json_write::{write_number, write_str};

#[derive(Debug, Error, PartialEq, Eq)]
pub(crate) enum ConvertError {
    #[error("field {field}: expected {expected}, got {value:?}")]
    BadValue {
        field: String,
        expected: &'static str,
        value: String,
    },
    #[error("field {field}: value is not valid UTF-8")]
    NotUtf8 { field: String },
    #[error("Bulk result has no column {column} (header: {header})")]
    MissingColumn { column: String, header: String },
    #[error("REST record is not a JSON object: {0}")]
    NotAnObject(String),
    #[error("compound field {compound}: component {component} is not one of its parts")]
    UnknownComponent { compound: String, component: String },
}

/// Which API the query goes to; it decides how compound fields are selected.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Api {
    Bulk,
    Rest,
}

/// A field the catalog keeps, as describe reports it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) struct LayoutField {
    pub name: String,
    pub kind: FieldKind,
    /// For compound fields: the names of the component fields (describe `compoundFieldName`).
    pub components: Vec<String>,
}

impl LayoutField {
    #[cfg(test)]
    pub(crate) fn new(name: impl Into<String>, kind: FieldKind) -> LayoutField {
        LayoutField {
            name: name.into(),
            kind,
            components: Vec::new(),
        }
    }
}

#[derive(Clone, Debug)]
enum Source {
    Column {
        column: usize,
        kind: FieldKind,
    },
    /// Bulk: a compound rebuilt from its component columns.
    Compound {
        kind: FieldKind,
        parts: Vec<Part>,
    },
    /// REST: a compound selected whole, rewritten to carry exactly `keys`.
    WholeCompound {
        column: usize,
        keys: Vec<&'static str>,
    },
}

#[derive(Clone, Debug)]
struct Part {
    key: &'static str,
    column: usize,
}

#[derive(Clone, Debug)]
struct Output {
    name: String,
    /// `"Name":`, escaped once.
    key: Vec<u8>,
    source: Source,
}

/// How one query's rows become records; see the module doc.
#[derive(Clone, Debug)]
pub(crate) struct RecordLayout {
    columns: Vec<String>,
    column_index: HashMap<String, usize>,
    outputs: Vec<Output>,
    id_column: Option<usize>,
    cursor_column: Option<usize>,
}

/// The Id and cursor of the last converted record (the cursor as `…000Z`, empty when null).
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub(crate) struct RecordKeys {
    pub id: String,
    pub cursor: String,
}

/// Column positions of one Bulk result page (its header row).
#[derive(Clone, Debug)]
pub(crate) struct CsvBinding {
    positions: Vec<usize>,
}

impl RecordLayout {
    /// A layout for `fields` read through `api`. `id_field` and `cursor_field`, when given, must be
    /// among `fields`; their values are reported in [`RecordKeys`].
    pub(crate) fn new(
        fields: &[LayoutField],
        api: Api,
        id_field: Option<&str>,
        cursor_field: Option<&str>,
    ) -> Result<RecordLayout, ConvertError> {
        let mut layout = RecordLayout {
            columns: Vec::new(),
            column_index: HashMap::new(),
            outputs: Vec::with_capacity(fields.len()),
            id_column: None,
            cursor_column: None,
        };
        for field in fields {
            let source = if field.kind.is_compound() {
                let mut keys = Vec::with_capacity(field.components.len());
                for component in &field.components {
                    let key = compound_component_key(&field.name, component).ok_or_else(|| {
                        ConvertError::UnknownComponent {
                            compound: field.name.clone(),
                            component: component.clone(),
                        }
                    })?;
                    keys.push((key, component));
                }
                if api == Api::Bulk {
                    let parts = keys
                        .into_iter()
                        .map(|(key, component)| Part {
                            key,
                            column: layout.column(component),
                        })
                        .collect();
                    Source::Compound {
                        kind: field.kind,
                        parts,
                    }
                } else {
                    let order = compound_keys(field.kind);
                    let keys = if keys.is_empty() {
                        default_compound_keys(field.kind).to_vec()
                    } else {
                        order
                            .iter()
                            .copied()
                            .filter(|k| keys.iter().any(|(key, _)| key == k))
                            .collect()
                    };
                    Source::WholeCompound {
                        column: layout.column(&field.name),
                        keys,
                    }
                }
            } else {
                Source::Column {
                    column: layout.column(&field.name),
                    kind: field.kind,
                }
            };
            let mut key = Vec::with_capacity(field.name.len() + 3);
            write_str(&mut key, &field.name);
            key.push(b':');
            layout.outputs.push(Output {
                name: field.name.clone(),
                key,
                source,
            });
        }
        layout.id_column = id_field.map(|f| layout.column(f));
        layout.cursor_column = cursor_field.map(|f| layout.column(f));
        Ok(layout)
    }

    fn column(&mut self, name: &str) -> usize {
        if let Some(&i) = self.column_index.get(name) {
            return i;
        }
        let i = self.columns.len();
        self.columns.push(name.to_string());
        self.column_index.insert(name.to_string(), i);
        i
    }

    /// The fields to SELECT, in order.
    pub(crate) fn select_fields(&self) -> &[String] {
        &self.columns
    }

    /// Maps a Bulk result page's header row onto this layout's columns (by name, ignoring case).
    pub(crate) fn bind_csv_header(
        &self,
        header: &CsvRecord<'_>,
    ) -> Result<CsvBinding, ConvertError> {
        let names: Vec<&[u8]> = (0..header.len()).map(|i| header.field(i)).collect();
        let mut positions = Vec::with_capacity(self.columns.len());
        for column in &self.columns {
            let position = names
                .iter()
                .position(|n| n.eq_ignore_ascii_case(column.as_bytes()))
                .ok_or_else(|| ConvertError::MissingColumn {
                    column: column.clone(),
                    header: names
                        .iter()
                        .map(|n| String::from_utf8_lossy(n).into_owned())
                        .collect::<Vec<_>>()
                        .join(","),
                })?;
            positions.push(position);
        }
        Ok(CsvBinding { positions })
    }

    /// Appends the JSON object for one Bulk CSV row to `out`.
    pub(crate) fn write_csv_record(
        &self,
        binding: &CsvBinding,
        row: &CsvRecord<'_>,
        out: &mut Vec<u8>,
        keys: &mut RecordKeys,
    ) -> Result<(), ConvertError> {
        // UTF-8 is checked once per row, not once per field.
        let text = row.text();
        let cell = |column: usize| -> Result<&str, ConvertError> {
            let position = binding.positions[column];
            match text.as_ref().and_then(|t| t.field(position)) {
                Some(s) => Ok(s),
                None if position >= row.len() => Ok(""),
                None => utf8(row.field(position), &self.columns[column]),
            }
        };
        out.push(b'{');
        self.write_members(out, |out, output| {
            match &output.source {
                Source::Column { column, kind } => {
                    write_csv_value(out, &output.name, *kind, cell(*column)?)?;
                }
                Source::WholeCompound { column, .. } => {
                    // Only REST layouts select compounds whole.
                    write_str(out, cell(*column)?);
                }
                Source::Compound { kind, parts } => {
                    if parts
                        .iter()
                        .all(|p| row.field(binding.positions[p.column]).is_empty())
                    {
                        out.extend_from_slice(b"null");
                        return Ok(());
                    }
                    out.push(b'{');
                    let mut first = true;
                    for key in compound_keys(*kind) {
                        let Some(part) = parts.iter().find(|p| p.key == *key) else {
                            continue;
                        };
                        if !first {
                            out.push(b',');
                        }
                        first = false;
                        write_str(out, key);
                        out.push(b':');
                        let text = cell(part.column)?;
                        let part_kind = if component_is_number(key) {
                            FieldKind::Number
                        } else {
                            FieldKind::Text
                        };
                        write_csv_value(out, &output.name, part_kind, text)?;
                    }
                    out.push(b'}');
                }
            }
            Ok(())
        })?;
        out.push(b'}');
        // An empty cell is no value.
        self.fill_keys(keys, |column| {
            Ok(Some(cell(column)?).filter(|t| !t.is_empty()))
        })
    }

    /// The members of the JSON object for one REST record (a `records[]` element), without the
    /// braces, so the members of several field chunks of one row can be joined into one object.
    pub(crate) fn write_rest_members(
        &self,
        record: &str,
        out: &mut Vec<u8>,
        keys: &mut RecordKeys,
    ) -> Result<(), ConvertError> {
        let values = self.rest_values(record)?;
        self.write_members(out, |out, output| match &output.source {
            Source::Column { column, kind } => {
                write_rest_value(out, &output.name, *kind, values[*column])
            }
            Source::WholeCompound { column, keys } => {
                write_rest_compound(out, &output.name, keys, values[*column])
            }
            Source::Compound { .. } => {
                // Layouts for REST select compound fields whole; components only for Bulk.
                unreachable_compound(out);
                Ok(())
            }
        })?;
        // A value that is not a JSON string is no value.
        self.fill_keys(keys, |column| {
            Ok(values[column].and_then(|raw| serde_json::from_str::<&str>(raw.get()).ok()))
        })
    }

    /// Appends `"key":value` for every output, comma-separated; `value` writes one output's
    /// value (the CSV and REST writers differ only there).
    fn write_members(
        &self,
        out: &mut Vec<u8>,
        mut value: impl FnMut(&mut Vec<u8>, &Output) -> Result<(), ConvertError>,
    ) -> Result<(), ConvertError> {
        for (i, output) in self.outputs.iter().enumerate() {
            if i > 0 {
                out.push(b',');
            }
            out.extend_from_slice(&output.key);
            value(out, output)?;
        }
        Ok(())
    }

    /// Sets `keys` to the row's Id and cursor; `text` reads a column (`None`: no value).
    fn fill_keys<'t>(
        &self,
        keys: &mut RecordKeys,
        mut text: impl FnMut(usize) -> Result<Option<&'t str>, ConvertError>,
    ) -> Result<(), ConvertError> {
        keys.id.clear();
        if let Some(id) = self.id_column.map(&mut text).transpose()?.flatten() {
            keys.id.push_str(id);
        }
        keys.cursor.clear();
        if let Some(cursor) = self.cursor_column.map(&mut text).transpose()?.flatten() {
            push_datetime(&mut keys.cursor, "cursor", cursor)?;
        }
        Ok(())
    }

    fn rest_values<'r>(&self, record: &'r str) -> Result<Vec<Option<&'r RawValue>>, ConvertError> {
        let map: HashMap<&'r str, &'r RawValue> =
            serde_json::from_str(record).map_err(|e| ConvertError::NotAnObject(e.to_string()))?;
        let mut values = vec![None; self.columns.len()];
        for (name, value) in map {
            let column = match self.column_index.get(name) {
                Some(&c) => Some(c),
                None => self
                    .columns
                    .iter()
                    .position(|c| c.eq_ignore_ascii_case(name)),
            };
            if let Some(c) = column {
                if value.get() != "null" {
                    values[c] = Some(value);
                }
            }
        }
        Ok(values)
    }
}

/// REST layouts never hold compound sources (see [`RecordLayout::new`]); writing `null` keeps the
/// output valid JSON should that ever change.
fn unreachable_compound(out: &mut Vec<u8>) {
    out.extend_from_slice(b"null");
}

fn utf8<'a>(bytes: &'a [u8], field: &str) -> Result<&'a str, ConvertError> {
    std::str::from_utf8(bytes).map_err(|_| ConvertError::NotUtf8 {
        field: field.to_string(),
    })
}

fn bad(field: &str, expected: &'static str, value: &[u8]) -> ConvertError {
    let text = String::from_utf8_lossy(value);
    let value: String = text.chars().take(64).collect();
    ConvertError::BadValue {
        field: field.to_string(),
        expected,
        value,
    }
}

/// One Bulk CSV cell as JSON.
fn write_csv_value(
    out: &mut Vec<u8>,
    field: &str,
    kind: FieldKind,
    text: &str,
) -> Result<(), ConvertError> {
    if text.is_empty() {
        out.extend_from_slice(b"null");
        return Ok(());
    }
    let bytes = text.as_bytes();
    match kind {
        FieldKind::Text | FieldKind::Time | FieldKind::Base64 => write_str(out, text),
        FieldKind::Boolean => {
            if text.eq_ignore_ascii_case("true") {
                out.extend_from_slice(b"true");
            } else if text.eq_ignore_ascii_case("false") {
                out.extend_from_slice(b"false");
            } else {
                return Err(bad(field, "true or false", bytes));
            }
        }
        FieldKind::Integer => {
            // Bulk may write an int as `42.0`; the schema says integer.
            let digits = strip_zero_fraction(bytes);
            if !write_number(out, digits) {
                return Err(bad(field, "an integer", bytes));
            }
        }
        FieldKind::Number => {
            if !write_number(out, bytes) {
                return Err(bad(field, "a number", bytes));
            }
        }
        FieldKind::Date => {
            if !is_date(text) {
                return Err(bad(field, "a date YYYY-MM-DD", bytes));
            }
            write_str(out, text);
        }
        FieldKind::DateTime => {
            if is_canonical_datetime(text) {
                write_str(out, text);
            } else {
                let mut canonical = String::with_capacity(24);
                push_datetime(&mut canonical, field, text)?;
                write_str(out, &canonical);
            }
        }
        FieldKind::Address | FieldKind::Location => {
            // A compound selected as one column cannot come from Bulk (it refuses them); if a CSV
            // ever carries one, keep its text rather than lose it.
            write_str(out, text);
        }
    }
    Ok(())
}

/// The JSON text of a REST value; for an absent one, `null` is written and `None` returned.
fn raw_or_null<'v>(out: &mut Vec<u8>, value: Option<&'v RawValue>) -> Option<&'v str> {
    if value.is_none() {
        out.extend_from_slice(b"null");
    }
    value.map(RawValue::get)
}

/// One REST JSON value as JSON.
fn write_rest_value(
    out: &mut Vec<u8>,
    field: &str,
    kind: FieldKind,
    value: Option<&RawValue>,
) -> Result<(), ConvertError> {
    let Some(raw) = raw_or_null(out, value) else {
        return Ok(());
    };
    match kind {
        FieldKind::DateTime => {
            let text: &str = serde_json::from_str(raw)
                .map_err(|_| bad(field, "a datetime string", raw.as_bytes()))?;
            let mut canonical = String::new();
            push_datetime(&mut canonical, field, text)?;
            write_str(out, &canonical);
        }
        FieldKind::Text | FieldKind::Time | FieldKind::Base64 | FieldKind::Date => {
            if raw.starts_with('"') {
                out.extend_from_slice(raw.as_bytes());
            } else {
                // anyType history values may be numbers or booleans in REST; Bulk sends text.
                write_str(out, raw);
            }
        }
        FieldKind::Boolean | FieldKind::Integer | FieldKind::Number => {
            if raw.starts_with('"') {
                let text: &str = serde_json::from_str(raw)
                    .map_err(|_| bad(field, "a number", raw.as_bytes()))?;
                return write_csv_value(out, field, kind, text);
            }
            out.extend_from_slice(raw.as_bytes());
        }
        FieldKind::Address | FieldKind::Location => {
            write_rest_compound(out, field, default_compound_keys(kind), value)?;
        }
    }
    Ok(())
}

/// The keys of a compound value in the order they are written.
fn compound_keys(kind: FieldKind) -> &'static [&'static str] {
    match kind {
        FieldKind::Location => &LOCATION_KEYS,
        _ => &ADDRESS_KEYS,
    }
}

/// Keys of a compound whose components describe did not list (Airbyte's schema keys).
fn default_compound_keys(kind: FieldKind) -> &'static [&'static str] {
    match kind {
        FieldKind::Location => &LOCATION_KEYS,
        _ => &DEFAULT_ADDRESS_KEYS,
    }
}

const DEFAULT_ADDRESS_KEYS: [&str; 8] = [
    "street",
    "city",
    "state",
    "postalCode",
    "country",
    "latitude",
    "longitude",
    "geocodeAccuracy",
];

/// A REST compound value rewritten to carry exactly `keys` (missing ones `null`), or `null`
/// when every part is null, the same object Bulk rows are rebuilt into.
fn write_rest_compound(
    out: &mut Vec<u8>,
    field: &str,
    keys: &[&str],
    value: Option<&RawValue>,
) -> Result<(), ConvertError> {
    let Some(raw) = raw_or_null(out, value) else {
        return Ok(());
    };
    let parts: HashMap<&str, &RawValue> =
        serde_json::from_str(raw).map_err(|_| bad(field, "an object", raw.as_bytes()))?;
    let present = |key: &str| parts.get(key).map(|v| v.get()).filter(|v| *v != "null");
    if keys.iter().all(|k| present(k).is_none()) {
        out.extend_from_slice(b"null");
        return Ok(());
    }
    out.push(b'{');
    for (j, key) in keys.iter().enumerate() {
        if j > 0 {
            out.push(b',');
        }
        write_str(out, key);
        out.push(b':');
        match present(key) {
            None => out.extend_from_slice(b"null"),
            Some(v) => out.extend_from_slice(v.as_bytes()),
        }
    }
    out.push(b'}');
    Ok(())
}

fn strip_zero_fraction(text: &[u8]) -> &[u8] {
    if let Some(dot) = text.iter().position(|&b| b == b'.') {
        if text[dot + 1..].iter().all(|&b| b == b'0') {
            return &text[..dot];
        }
    }
    text
}

fn is_date(s: &str) -> bool {
    let b = s.as_bytes();
    b.len() == 10
        && b[4] == b'-'
        && b[7] == b'-'
        && b.iter()
            .enumerate()
            .all(|(i, c)| i == 4 || i == 7 || c.is_ascii_digit())
}

/// Whether `s` is already `YYYY-MM-DDTHH:MM:SS.sssZ`.
fn is_canonical_datetime(s: &str) -> bool {
    let b = s.as_bytes();
    b.len() == 24
        && b[4] == b'-'
        && b[7] == b'-'
        && b[10] == b'T'
        && b[13] == b':'
        && b[16] == b':'
        && b[19] == b'.'
        && b[23] == b'Z'
        && b.iter()
            .enumerate()
            .all(|(i, c)| matches!(i, 4 | 7 | 10 | 13 | 16 | 19 | 23) || c.is_ascii_digit())
}

/// Appends `text`, a Salesforce datetime in any of its dialects (`…000Z`, `…000+0000`,
/// `…+01:00`, with or without milliseconds), as `YYYY-MM-DDTHH:MM:SS.sssZ` in UTC.
pub(crate) fn push_datetime(out: &mut String, field: &str, text: &str) -> Result<(), ConvertError> {
    if is_canonical_datetime(text) {
        out.push_str(text);
        return Ok(());
    }
    let parsed = chrono::DateTime::parse_from_rfc3339(text)
        .or_else(|_| chrono::DateTime::parse_from_str(text, "%Y-%m-%dT%H:%M:%S%.f%z"))
        .map_err(|_| {
            bad(
                field,
                "a datetime like 2024-01-01T00:00:00.000Z",
                text.as_bytes(),
            )
        })?;
    out.push_str(&crate::salesforce::datetime::datetime_literal(
        parsed.with_timezone(&chrono::Utc),
    ));
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::super::csv_stream::CsvDecoder;
    use super::*;
    use serde_json::{json, Value};

    fn address_field(name: &str, prefix: &str) -> LayoutField {
        LayoutField {
            name: name.into(),
            kind: FieldKind::Address,
            components: [
                "Street",
                "City",
                "State",
                "PostalCode",
                "Country",
                "Latitude",
                "Longitude",
                "GeocodeAccuracy",
            ]
            .iter()
            .map(|s| format!("{prefix}{s}"))
            .collect(),
        }
    }

    /// The layout of [`account_fields`] keyed by `Id`, its cursor `SystemModstamp`.
    fn account_layout(api: Api) -> RecordLayout {
        RecordLayout::new(&account_fields(), api, Some("Id"), Some("SystemModstamp")).unwrap()
    }

    fn account_fields() -> Vec<LayoutField> {
        vec![
            LayoutField::new("Id", FieldKind::Text),
            LayoutField::new("Name", FieldKind::Text),
            LayoutField::new("IsDeleted", FieldKind::Boolean),
            LayoutField::new("NumberOfEmployees", FieldKind::Integer),
            LayoutField::new("AnnualRevenue", FieldKind::Number),
            LayoutField::new("SLAExpirationDate__c", FieldKind::Date),
            LayoutField::new("SystemModstamp", FieldKind::DateTime),
            address_field("BillingAddress", "Billing"),
        ]
    }

    /// Converts every data row of a CSV text; returns the records as JSON values.
    fn convert_csv(
        layout: &RecordLayout,
        text: &str,
    ) -> Result<Vec<(Value, RecordKeys)>, ConvertError> {
        let mut decoder = CsvDecoder::new();
        let mut binding = None;
        let mut rows = Vec::new();
        let mut on_record = |record: &CsvRecord<'_>| -> Result<(), ConvertError> {
            match &binding {
                None => binding = Some(layout.bind_csv_header(record)?),
                Some(b) => {
                    let mut out = Vec::new();
                    let mut keys = RecordKeys::default();
                    layout.write_csv_record(b, record, &mut out, &mut keys)?;
                    rows.push((serde_json::from_slice(&out).expect("valid JSON"), keys));
                }
            }
            Ok(())
        };
        decoder.feed(text.as_bytes(), &mut on_record)?;
        decoder.finish(&mut on_record)?;
        Ok(rows)
    }

    /// Converts one REST record (a `records[]` element) as the REST reader does.
    fn convert_rest(
        layout: &RecordLayout,
        record: &str,
    ) -> Result<(Value, RecordKeys), ConvertError> {
        let mut out = vec![b'{'];
        let mut keys = RecordKeys::default();
        layout.write_rest_members(record, &mut out, &mut keys)?;
        out.push(b'}');
        Ok((serde_json::from_slice(&out).expect("valid JSON"), keys))
    }

    fn csv_header(layout: &RecordLayout) -> String {
        layout
            .select_fields()
            .iter()
            .map(|f| format!("\"{f}\""))
            .collect::<Vec<_>>()
            .join(",")
    }

    #[test]
    fn bulk_layout_selects_components_instead_of_compound_fields() {
        let layout = account_layout(Api::Bulk);
        let fields = layout.select_fields();
        assert!(fields.contains(&"BillingStreet".to_string()));
        assert!(!fields.contains(&"BillingAddress".to_string()));
        let rest = account_layout(Api::Rest);
        assert!(rest.select_fields().contains(&"BillingAddress".to_string()));
    }

    #[test]
    fn csv_cells_become_typed_values() {
        let layout = account_layout(Api::Bulk);
        let text = format!(
            "{}\n\"001A\",\"NA\",\"false\",\"42\",\"9.9213206E7\",\"2024-02-29\",\"2024-01-01T10:00:00.000Z\",\"1 Main St\",\"Paris\",\"\",\"75001\",\"France\",\"48.85\",\"2.35\",\"Address\"\n",
            csv_header(&layout)
        );
        let rows = convert_csv(&layout, &text).unwrap();
        let (record, keys) = &rows[0];
        let expected = json!({
            "Id": "001A", "Name": "NA", "IsDeleted": false, "NumberOfEmployees": 42,
            "AnnualRevenue": 99213206.0, "SLAExpirationDate__c": "2024-02-29",
            "SystemModstamp": "2024-01-01T10:00:00.000Z",
            "BillingAddress": {"street": "1 Main St", "city": "Paris", "state": null,
                "postalCode": "75001", "country": "France", "latitude": 48.85,
                "longitude": 2.35, "geocodeAccuracy": "Address"}
        });
        assert_eq!(record, &expected);
        assert_eq!(keys.id, "001A");
        assert_eq!(keys.cursor, "2024-01-01T10:00:00.000Z");
    }

    #[test]
    fn null_markers_stay_strings_and_empty_cells_are_null() {
        // Text columns Id and A to E, and a number F.
        let mut fields: Vec<LayoutField> = ["Id", "A", "B", "C", "D", "E"]
            .into_iter()
            .map(|name| LayoutField::new(name, FieldKind::Text))
            .collect();
        fields.push(LayoutField::new("F", FieldKind::Number));
        let layout = RecordLayout::new(&fields, Api::Bulk, Some("Id"), None).unwrap();
        let text = "\"Id\",\"A\",\"B\",\"C\",\"D\",\"E\",\"F\"\n\"1\",\"NA\",\"N/A\",\"NULL\",\"None\",\"\",\"\"\n";
        let rows = convert_csv(&layout, text).unwrap();
        assert_eq!(
            rows[0].0,
            json!({"Id":"1","A":"NA","B":"N/A","C":"NULL","D":"None","E":null,"F":null})
        );
    }

    #[test]
    fn compound_address_is_null_when_every_component_is_empty() {
        let fields = vec![
            LayoutField::new("Id", FieldKind::Text),
            address_field("ShippingAddress", "Shipping"),
        ];
        let layout = RecordLayout::new(&fields, Api::Bulk, Some("Id"), None).unwrap();
        let text = format!(
            "{}\n\"1\",\"\",\"\",\"\",\"\",\"\",\"\",\"\",\"\"\n",
            csv_header(&layout)
        );
        let rows = convert_csv(&layout, &text).unwrap();
        assert_eq!(rows[0].0, json!({"Id":"1","ShippingAddress":null}));
    }

    #[test]
    fn numbers_keep_every_digit() {
        let fields = vec![
            LayoutField::new("Id", FieldKind::Text),
            LayoutField::new("Amount", FieldKind::Number),
            LayoutField::new("Big", FieldKind::Number),
        ];
        let layout = RecordLayout::new(&fields, Api::Bulk, None, None).unwrap();
        let text = "\"Id\",\"Amount\",\"Big\"\n\"1\",\"12345678901234.99\",\"9007199254740993\"\n";
        let mut decoder = CsvDecoder::new();
        let mut out = Vec::new();
        let mut binding = None;
        decoder
            .feed(
                text.as_bytes(),
                |r: &CsvRecord<'_>| -> Result<(), ConvertError> {
                    match &binding {
                        None => binding = Some(layout.bind_csv_header(r)?),
                        Some(b) => {
                            layout.write_csv_record(b, r, &mut out, &mut RecordKeys::default())?;
                        }
                    }
                    Ok(())
                },
            )
            .unwrap();
        assert_eq!(
            String::from_utf8(out).unwrap(),
            r#"{"Id":"1","Amount":12345678901234.99,"Big":9007199254740993}"#
        );
    }

    #[test]
    fn bad_values_name_the_field_and_what_was_expected() {
        let fields = vec![LayoutField::new("Active__c", FieldKind::Boolean)];
        let layout = RecordLayout::new(&fields, Api::Bulk, None, None).unwrap();
        let err = convert_csv(&layout, "\"Active__c\"\n\"maybe\"\n").unwrap_err();
        assert_eq!(
            err.to_string(),
            "field Active__c: expected true or false, got \"maybe\""
        );
    }

    #[test]
    fn invalid_utf8_names_the_field() {
        let fields = vec![
            LayoutField::new("Id", FieldKind::Text),
            LayoutField::new("Name", FieldKind::Text),
        ];
        let layout = RecordLayout::new(&fields, Api::Bulk, None, None).unwrap();
        let mut decoder = CsvDecoder::new();
        let mut binding = None;
        let mut result = Ok(());
        let text = b"\"Id\",\"Name\"\n\"1\",\"bad \xff byte\"\n";
        decoder
            .feed(text, |r: &CsvRecord<'_>| -> Result<(), ConvertError> {
                match &binding {
                    None => binding = Some(layout.bind_csv_header(r)?),
                    Some(b) => {
                        result = layout.write_csv_record(
                            b,
                            r,
                            &mut Vec::new(),
                            &mut RecordKeys::default(),
                        );
                    }
                }
                Ok(())
            })
            .unwrap();
        assert_eq!(
            result,
            Err(ConvertError::NotUtf8 {
                field: "Name".into()
            })
        );
    }

    #[test]
    fn a_missing_bulk_column_is_reported() {
        let layout = RecordLayout::new(&account_fields(), Api::Bulk, None, None).unwrap();
        let err = convert_csv(&layout, "\"Id\"\n\"1\"\n").unwrap_err();
        assert!(matches!(err, ConvertError::MissingColumn { ref column, .. } if column == "Name"));
    }

    #[test]
    fn rest_and_bulk_produce_the_same_record() {
        let bulk = account_layout(Api::Bulk);
        let rest = account_layout(Api::Rest);
        let text = format!(
            "{}\n\"001A\",\"N/A\",\"true\",\"\",\"1.0E7\",\"\",\"2024-01-01T10:00:00.000Z\",\"1 Main St\",\"\",\"\",\"\",\"\",\"\",\"\",\"\"\n",
            csv_header(&bulk)
        );
        let from_bulk = convert_csv(&bulk, &text).unwrap().remove(0);
        let rest_json = r#"{"attributes":{"type":"Account","url":"/services/data/v62.0/sobjects/Account/001A"},
            "Id":"001A","Name":"N/A","IsDeleted":true,"NumberOfEmployees":null,"AnnualRevenue":1.0E7,
            "SLAExpirationDate__c":null,"SystemModstamp":"2024-01-01T10:00:00.000+0000",
            "BillingAddress":{"city":null,"country":null,"geocodeAccuracy":null,"latitude":null,
            "longitude":null,"postalCode":null,"state":null,"street":"1 Main St"}}"#;
        assert_eq!(convert_rest(&rest, rest_json).unwrap(), from_bulk);
    }

    #[test]
    fn rest_any_type_values_become_strings() {
        let fields = vec![LayoutField::new("OldValue", FieldKind::Text)];
        let layout = RecordLayout::new(&fields, Api::Rest, None, None).unwrap();
        let (record, _) = convert_rest(&layout, r#"{"OldValue":12.5}"#).unwrap();
        assert_eq!(record, json!({"OldValue": "12.5"}));
    }

    #[test]
    fn datetimes_in_every_dialect_become_one_form() {
        for text in [
            "2024-01-01T10:00:00.000Z",
            "2024-01-01T10:00:00.000+0000",
            "2024-01-01T11:00:00+01:00",
            "2024-01-01T10:00:00Z",
        ] {
            let mut out = String::new();
            push_datetime(&mut out, "f", text).unwrap();
            assert_eq!(out, "2024-01-01T10:00:00.000Z", "from {text}");
        }
        assert!(push_datetime(&mut String::new(), "f", "yesterday").is_err());
    }
}
