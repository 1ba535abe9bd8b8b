//! REST API calls under `/services/data/v{version}/`: versions, describeGlobal, describe,
//! query / queryAll pages, getDeleted, limits.

use std::collections::BTreeMap;

use chrono::{DateTime, SecondsFormat, Utc};
use reqwest::header::{HeaderMap, HeaderValue};
use serde::{Deserialize, Serialize};
use serde_json::value::RawValue;
use serde_json::{Map, Value};

use super::error::Error;
use super::field_type::FieldType;
use super::{ApiRequest, SalesforceClient};

/// `GET sobjects/` (describeGlobal).
#[derive(Clone, Debug, Default, Deserialize, Serialize)]
#[serde(rename_all = "camelCase", default)]
pub(crate) struct GlobalDescribe {
    pub encoding: Option<String>,
    pub max_batch_size: Option<u32>,
    pub sobjects: Vec<SObjectSummary>,
}

/// One object of describeGlobal; keys this struct does not name are kept in `extra`.
#[derive(Clone, Debug, Default, Deserialize, Serialize)]
#[serde(rename_all = "camelCase", default)]
pub(crate) struct SObjectSummary {
    pub name: String,
    pub label: String,
    pub label_plural: String,
    pub key_prefix: Option<String>,
    pub custom: bool,
    pub custom_setting: bool,
    pub queryable: bool,
    pub retrieveable: bool,
    pub replicateable: bool,
    pub createable: bool,
    pub updateable: bool,
    pub deletable: bool,
    pub undeletable: bool,
    pub deprecated_and_hidden: bool,
    #[serde(flatten)]
    pub extra: Map<String, Value>,
}

/// `GET sobjects/{Name}/describe/`. Keys this struct does not name live in `extra`; the reply
/// exactly as Salesforce sent it is in `raw` (for the source's `Describe` stream).
#[derive(Clone, Debug, Default, Deserialize, Serialize)]
#[serde(rename_all = "camelCase", default)]
pub(crate) struct SObjectDescribe {
    pub name: String,
    pub label: String,
    pub label_plural: String,
    pub key_prefix: Option<String>,
    pub custom: bool,
    pub queryable: bool,
    pub retrieveable: bool,
    pub replicateable: bool,
    pub createable: bool,
    pub updateable: bool,
    pub deletable: bool,
    pub fields: Vec<SObjectField>,
    #[serde(flatten)]
    pub extra: Map<String, Value>,
    /// The describe reply as received (set by [`SalesforceClient::describe`]).
    #[serde(skip)]
    pub raw: Option<Box<RawValue>>,
}

impl SObjectDescribe {
    #[cfg(test)]
    pub(crate) fn field(&self, name: &str) -> Option<&SObjectField> {
        self.fields
            .iter()
            .find(|f| f.name.eq_ignore_ascii_case(name))
    }
}

/// One field of a describe.
#[derive(Clone, Debug, Default, PartialEq, Eq, Deserialize, Serialize)]
#[serde(rename_all = "camelCase", default)]
pub(crate) struct SObjectField {
    pub name: String,
    pub label: String,
    /// Salesforce's field type: `id`, `string`, `double`, `datetime`, `address`, ...
    #[serde(rename = "type")]
    pub field_type: FieldType,
    /// `xsd:string`, `tns:ID`, `urn:address`, ...
    pub soap_type: String,
    pub length: Option<u64>,
    pub byte_length: Option<u64>,
    pub precision: Option<u32>,
    pub scale: Option<i32>,
    pub digits: Option<u32>,
    pub nillable: bool,
    pub createable: bool,
    pub updateable: bool,
    pub defaulted_on_create: bool,
    pub external_id: bool,
    pub id_lookup: bool,
    pub unique: bool,
    pub calculated: bool,
    pub compound_field_name: Option<String>,
    pub filterable: bool,
    pub sortable: bool,
    pub groupable: bool,
    pub reference_to: Vec<String>,
    pub relationship_name: Option<String>,
    pub polymorphic_foreign_key: bool,
    pub picklist_values: Vec<PicklistValue>,
    pub restricted_picklist: bool,
    pub auto_number: bool,
    pub custom: bool,
    pub deprecated_and_hidden: bool,
    #[serde(flatten)]
    pub extra: Map<String, Value>,
}

/// One value of a picklist field.
#[derive(Clone, Debug, Default, PartialEq, Eq, Deserialize, Serialize)]
#[serde(rename_all = "camelCase", default)]
pub(crate) struct PicklistValue {
    pub active: bool,
    pub default_value: bool,
    pub label: Option<String>,
    pub value: String,
    #[serde(flatten)]
    pub extra: Map<String, Value>,
}

/// One page of a SOQL query. Records stay raw JSON so the source converts them without a lossy
/// intermediate.
#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
pub(crate) struct QueryPage {
    pub total_size: u64,
    pub done: bool,
    /// Path of the next page, present while `done` is false.
    #[serde(default)]
    pub next_records_url: Option<String>,
    pub records: Vec<Box<RawValue>>,
}

/// `GET sobjects/{Name}/deleted/`.
#[derive(Clone, Debug, Deserialize, Serialize)]
#[serde(rename_all = "camelCase")]
pub(crate) struct DeletedRecords {
    #[serde(default)]
    pub deleted_records: Vec<DeletedRecord>,
    #[serde(default)]
    pub earliest_date_available: Option<String>,
    #[serde(default)]
    pub latest_date_covered: Option<String>,
}

#[derive(Clone, Debug, PartialEq, Eq, Deserialize, Serialize)]
#[serde(rename_all = "camelCase")]
pub(crate) struct DeletedRecord {
    pub id: String,
    /// `2013-05-07T22:07:19.000+0000`.
    pub deleted_date: String,
}

/// One entry of `GET limits/`; per-app breakdowns are kept in `extra`.
#[derive(Clone, Debug, Default, PartialEq, Deserialize, Serialize)]
#[serde(default)]
pub(crate) struct Limit {
    #[serde(rename = "Max")]
    pub max: i64,
    #[serde(rename = "Remaining")]
    pub remaining: i64,
    #[serde(flatten)]
    pub extra: Map<String, Value>,
}

/// Salesforce's page-size hint for REST queries: 200 to 2,000.
/// Salesforce rejects a URI longer than this many bytes (414).
pub(crate) const MAX_URI_BYTES: usize = 16_384;

const QUERY_BATCH_SIZE: std::ops::RangeInclusive<u32> = 200..=2000;

/// Object names go into URL paths; refuse anything that is not an API name.
fn check_object_name(name: &str) -> Result<(), Error> {
    if !name.is_empty() && name.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'_') {
        Ok(())
    } else {
        Err(Error::Invalid {
            setting: "sobject name".into(),
            value: name.to_string(),
            reason: "expected an API name of letters, digits and underscores".into(),
        })
    }
}

impl SalesforceClient {
    /// describeGlobal: every object of the org.
    pub(crate) async fn describe_global(&self) -> Result<GlobalDescribe, Error> {
        let path = self.data_path("sobjects/");
        self.send_json(ApiRequest::get(&path)).await
    }

    /// describe of one object with all its fields.
    pub(crate) async fn describe(&self, sobject: &str) -> Result<SObjectDescribe, Error> {
        check_object_name(sobject)?;
        let path = self.data_path(&format!("sobjects/{sobject}/describe/"));
        let body = self.send_bytes(ApiRequest::get(&path)).await?;
        let decode_error = |e: serde_json::Error| Error::Decode {
            request: Box::new(super::RequestLine {
                method: "GET".into(),
                host: self
                    .instance_url()
                    .host_str()
                    .unwrap_or_default()
                    .to_string(),
                path: path.clone(),
            }),
            detail: format!("describe of {sobject}: {e}"),
        };
        let mut describe: SObjectDescribe = serde_json::from_slice(&body).map_err(decode_error)?;
        describe.raw = Some(serde_json::from_slice(&body).map_err(decode_error)?);
        Ok(describe)
    }

    /// First page of `query` (or `queryAll`, which adds deleted and archived rows).
    /// `batch_size` is Salesforce's page-size hint (clamped to 200..=2000).
    pub(crate) async fn query(
        &self,
        soql: &str,
        include_deleted: bool,
        batch_size: Option<u32>,
    ) -> Result<QueryPage, Error> {
        let path = self.data_path(if include_deleted {
            "queryAll/"
        } else {
            "query/"
        });
        self.send_json(
            ApiRequest::get(&path)
                .query(&[("q", soql)])
                .headers(query_headers(batch_size)),
        )
        .await
    }

    /// The page at a previous page's `nextRecordsUrl`.
    pub(crate) async fn query_more(
        &self,
        next_records_url: &str,
        batch_size: Option<u32>,
    ) -> Result<QueryPage, Error> {
        if !next_records_url.starts_with("/services/data/") {
            return Err(Error::Invalid {
                setting: "nextRecordsUrl".into(),
                value: next_records_url.to_string(),
                reason: "expected a path under /services/data/".into(),
            });
        }
        self.send_json(ApiRequest::get(next_records_url).headers(query_headers(batch_size)))
            .await
    }

    /// getDeleted: ids of `sobject` rows deleted between `start` and `end`.
    pub(crate) async fn get_deleted(
        &self,
        sobject: &str,
        start: DateTime<Utc>,
        end: DateTime<Utc>,
    ) -> Result<DeletedRecords, Error> {
        check_object_name(sobject)?;
        let path = self.data_path(&format!("sobjects/{sobject}/deleted/"));
        let start = start.to_rfc3339_opts(SecondsFormat::Secs, false);
        let end = end.to_rfc3339_opts(SecondsFormat::Secs, false);
        self.send_json(ApiRequest::get(&path).query(&[("start", &start), ("end", &end)]))
            .await
    }

    /// `GET limits/`: the org's limits by name (`DailyApiRequests`, `DailyBulkV2QueryJobs`...).
    pub(crate) async fn limits(&self) -> Result<BTreeMap<String, Limit>, Error> {
        let path = self.data_path("limits/");
        self.send_json(ApiRequest::get(&path)).await
    }
}

fn query_headers(batch_size: Option<u32>) -> HeaderMap {
    let mut headers = HeaderMap::new();
    if let Some(size) = batch_size {
        let size = size.clamp(*QUERY_BATCH_SIZE.start(), *QUERY_BATCH_SIZE.end());
        headers.insert(
            "Sforce-Query-Options",
            HeaderValue::from_str(&format!("batchSize={size}")).expect("digits are a valid header"),
        );
    }
    headers
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn describe_keeps_unknown_keys_and_round_trips() {
        let raw = r#"{"name":"Account","label":"Account","custom":false,"queryable":true,"newKey":{"x":1},
            "fields":[{"name":"Id","type":"id","soapType":"tns:ID","length":18,"nillable":false,
            "referenceTo":[],"picklistValues":[],"compoundFieldName":null,"mask":null,"byteLength":18},
            {"name":"Rating","type":"picklist","soapType":"xsd:string","picklistValues":[{"active":true,"defaultValue":false,"label":"Hot","validFor":null,"value":"Hot"}]}]}"#;
        let describe: SObjectDescribe = serde_json::from_str(raw).unwrap();
        assert_eq!(describe.fields[0].field_type, FieldType::Id);
        assert_eq!(describe.fields[0].length, Some(18));
        assert_eq!(describe.extra["newKey"], serde_json::json!({"x":1}));
        assert!(describe.fields[0].extra.contains_key("mask"));
        assert_eq!(
            describe.field("rating").unwrap().picklist_values[0].value,
            "Hot"
        );
        let again = serde_json::to_value(&describe).unwrap();
        assert_eq!(again["newKey"]["x"], 1);
        assert_eq!(
            again["fields"][1]["picklistValues"][0]["validFor"],
            Value::Null
        );
    }

    #[test]
    fn object_names_must_be_api_names() {
        assert!(check_object_name("Custom__c").is_ok());
        assert!(check_object_name("../limits").is_err());
        assert!(check_object_name("").is_err());
    }

    #[test]
    fn batch_size_hint_is_clamped() {
        assert_eq!(
            query_headers(Some(50))["sforce-query-options"],
            "batchSize=200"
        );
        assert_eq!(
            query_headers(Some(5000))["sforce-query-options"],
            "batchSize=2000"
        );
        assert!(query_headers(None).is_empty());
    }
}
