//! REST writes on single records, as real clients (simple-salesforce, jsforce) use them:
//! `POST sobjects/{Name}` (201 `{"id","success":true,"errors":[]}`), `PATCH` and `DELETE
//! sobjects/{Name}/{Id}` (204), and upsert `PATCH sobjects/{Name}/{Field}/{Value}` (201 created
//! / 200 updated with `created` since API 46.0, 204 before it; 300 with the matching records'
//! URLs when several match; 404 NOT_FOUND for an unknown field). Record errors are 400 with the
//! error array `[{"message","errorCode","fields"}]`; values are checked exactly as Bulk ingest
//! rows are ([`crate::write`]).
//!
//! Source: REST API Developer Guide, "Insert or Update (Upsert) a Record Using an External ID",
//! "Create a Record", "Update a Record", "Delete a Record", "Status Codes and Error Responses".

use axum::body::Bytes;
use axum::extract::{FromRef, Path, State};
use axum::http::{HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::{patch, post};
use axum::Router;
use serde_json::{json, Map, Value as Json};

use crate::schema::{FieldType, SObject};
use crate::store::OrgStore;
use crate::write::record::resolve_column;
use crate::write::value::parse_text;
use crate::write::{
    ApiError, Cell, Column, RecordError, RecordWriter, WriteOperation, WriteRules, WriteState,
};

/// A REST write's reply: status and JSON body (`None` for 204).
#[derive(Clone, Debug, PartialEq)]
pub(crate) struct RestReply {
    pub status: u16,
    pub body: Option<Json>,
}

impl RestReply {
    fn new(status: u16, body: Json) -> Self {
        RestReply {
            status,
            body: Some(body),
        }
    }

    fn no_content() -> Self {
        RestReply {
            status: 204,
            body: None,
        }
    }

    fn record_error(error: &RecordError) -> Self {
        RestReply::new(400, json!([error.to_json()]))
    }

    fn api_error(error: &ApiError) -> Self {
        RestReply::new(error.status, error.body())
    }
}

/// The body's fields as cells: `null` and `""` set null, numbers and booleans are taken as
/// their JSON text, a nested object under a relationship name (`"Account": {"Ext__c": "A1"}`)
/// sets the reference by the parent's external id. Unknown names are INVALID_FIELD.
fn cells_of<'a, S: OrgStore + ?Sized>(
    store: &S,
    sobject: &SObject,
    body: &'a Map<String, Json>,
) -> Result<Vec<(Column, Cell<'a>)>, ApiError> {
    let mut cells = Vec::with_capacity(body.len());
    for (name, value) in body {
        if name == "attributes" {
            continue;
        }
        let no_such = || {
            ApiError::new(
                400,
                "INVALID_FIELD",
                format!(
                    "No such column '{name}' on sobject of type {}",
                    sobject.name
                ),
            )
        };
        if let Json::Object(inner) = value {
            let (parent_field, key) = inner
                .iter()
                .find(|(k, _)| *k != "attributes")
                .ok_or_else(no_such)?;
            let column = resolve_column(store, sobject, &format!("{name}.{parent_field}"))
                .ok_or_else(no_such)?;
            cells.push((column, json_cell(name, key)?));
            continue;
        }
        let column = resolve_column(store, sobject, name)
            .filter(|c| matches!(c, Column::Field(_)))
            .ok_or_else(no_such)?;
        cells.push((column, json_cell(name, value)?));
    }
    Ok(cells)
}

fn json_cell<'a>(name: &str, value: &'a Json) -> Result<Cell<'a>, ApiError> {
    match value {
        Json::Null => Ok(Cell::Null),
        Json::String(s) if s.is_empty() => Ok(Cell::Null),
        Json::String(s) => Ok(Cell::Text(s.as_str())),
        Json::Bool(true) => Ok(Cell::Text("true")),
        Json::Bool(false) => Ok(Cell::Text("false")),
        // `numbers_as_text` turned every number into its text before this point.
        Json::Number(_) => Err(ApiError::new(
            500,
            "UNKNOWN_EXCEPTION",
            format!("{name}: number not converted"),
        )),
        _ => Err(ApiError::new(
            400,
            "JSON_PARSER_ERROR",
            format!("{name}: expected a string, number, boolean or null value"),
        )),
    }
}

/// Numbers become strings so every value can be borrowed as text.
fn numbers_as_text(body: &mut Map<String, Json>) {
    for value in body.values_mut() {
        match value {
            Json::Number(n) => *value = Json::String(n.to_string()),
            Json::Object(inner) => numbers_as_text(inner),
            _ => {}
        }
    }
}

fn parse_body(body: &[u8]) -> Result<Map<String, Json>, ApiError> {
    match serde_json::from_slice::<Json>(body) {
        Ok(Json::Object(mut map)) => {
            numbers_as_text(&mut map);
            Ok(map)
        }
        Ok(_) => Err(ApiError::new(
            400,
            "JSON_PARSER_ERROR",
            "The request body must be a JSON object",
        )),
        Err(e) => Err(ApiError::new(
            400,
            "JSON_PARSER_ERROR",
            format!("Invalid JSON in request body: {e}"),
        )),
    }
}

fn sobject_of<S: OrgStore + ?Sized>(
    store: &S,
    object: &str,
) -> Result<std::sync::Arc<SObject>, ApiError> {
    store.sobject(object).ok_or_else(ApiError::not_found)
}

fn id_column(sobject: &SObject) -> Option<Column> {
    sobject
        .fields
        .iter()
        .position(|f| f.field_type == FieldType::Id)
        .map(Column::Field)
}

/// `POST sobjects/{Name}`.
pub(crate) fn create<S: OrgStore + ?Sized>(
    store: &mut S,
    rules: &mut WriteRules,
    object: &str,
    body: &[u8],
) -> RestReply {
    let result = (|| {
        let sobject = sobject_of(store, object)?;
        let body = parse_body(body)?;
        let cells = cells_of(store, &sobject, &body)?;
        let mut writer = RecordWriter::new(store, rules, sobject, WriteOperation::Insert);
        Ok(writer.write(&cells))
    })();
    match result {
        Ok(Ok(outcome)) => RestReply::new(
            201,
            json!({"id": outcome.id(), "success": true, "errors": []}),
        ),
        Ok(Err(e)) => RestReply::record_error(&e),
        Err(e) => RestReply::api_error(&e),
    }
}

/// Maps an error about the record named in the URL to REST's statuses: an id naming no record
/// is 404 NOT_FOUND, a deleted one 404 ENTITY_IS_DELETED.
fn target_error(error: RecordError) -> RestReply {
    let about_target = error.fields.iter().all(|f| f == "Id");
    match error.code {
        "INVALID_CROSS_REFERENCE_KEY" if about_target => {
            RestReply::api_error(&ApiError::not_found())
        }
        "ENTITY_IS_DELETED" => RestReply::new(404, json!([error.to_json()])),
        _ => RestReply::record_error(&error),
    }
}

/// `PATCH sobjects/{Name}/{Id}`.
pub(crate) fn update<S: OrgStore + ?Sized>(
    store: &mut S,
    rules: &mut WriteRules,
    object: &str,
    id: &str,
    body: &[u8],
) -> RestReply {
    let result = (|| {
        let sobject = sobject_of(store, object)?;
        let id_column = id_column(&sobject).ok_or_else(ApiError::not_found)?;
        let body = parse_body(body)?;
        let mut cells: Vec<(Column, Cell<'_>)> = cells_of(store, &sobject, &body)?
            .into_iter()
            .filter(|(c, _)| *c != id_column)
            .collect();
        cells.push((id_column, Cell::Text(id)));
        let mut writer = RecordWriter::new(store, rules, sobject, WriteOperation::Update);
        Ok(writer.write(&cells))
    })();
    match result {
        Ok(Ok(_)) => RestReply::no_content(),
        Ok(Err(e)) => target_error(e),
        Err(e) => RestReply::api_error(&e),
    }
}

/// `DELETE sobjects/{Name}/{Id}` (to the recycle bin).
pub(crate) fn delete<S: OrgStore + ?Sized>(
    store: &mut S,
    rules: &mut WriteRules,
    object: &str,
    id: &str,
) -> RestReply {
    let result = (|| {
        let sobject = sobject_of(store, object)?;
        let id_column = id_column(&sobject).ok_or_else(ApiError::not_found)?;
        let mut writer = RecordWriter::new(store, rules, sobject, WriteOperation::Delete);
        Ok(writer.write(&[(id_column, Cell::Text(id))]))
    })();
    match result {
        Ok(Ok(_)) => RestReply::no_content(),
        Ok(Err(e)) => target_error(e),
        Err(e) => RestReply::api_error(&e),
    }
}

/// `PATCH sobjects/{Name}/{Field}/{Value}`: upsert on an external id field (or `Id`).
pub(crate) fn upsert<S: OrgStore + ?Sized>(
    store: &mut S,
    rules: &mut WriteRules,
    api_version: &str,
    object: &str,
    field: &str,
    value: &str,
    body: &[u8],
) -> RestReply {
    let result = (|| {
        let sobject = sobject_of(store, object)?;
        let (key, key_field) = sobject
            .field(field)
            .filter(|(_, f)| f.external_id || f.field_type == FieldType::Id)
            .ok_or_else(|| {
                ApiError::new(
                    404,
                    "NOT_FOUND",
                    format!(
                        "Provided external ID field does not exist or is not accessible: {field}"
                    ),
                )
            })?;
        let key_field = key_field.clone();
        let body = parse_body(body)?;
        let mut cells: Vec<(Column, Cell<'_>)> = cells_of(store, &sobject, &body)?
            .into_iter()
            .filter(|(c, _)| *c != Column::Field(key))
            .collect();
        if key_field.field_type != FieldType::Id {
            let key_value =
                parse_text(&key_field, value).map_err(|e| ApiError::new(400, e.code, e.message))?;
            let matches = store.find_by_field(&sobject.name, &key_field.name, &key_value);
            if matches.len() > 1 {
                let urls: Vec<String> = matches
                    .iter()
                    .map(|id| {
                        format!(
                            "/services/data/v{api_version}/sobjects/{}/{id}",
                            sobject.name
                        )
                    })
                    .collect();
                return Ok(Err(RestReply::new(300, json!(urls))));
            }
        }
        cells.push((Column::Field(key), Cell::Text(value)));
        let mut writer = RecordWriter::new(store, rules, sobject, WriteOperation::Upsert { key });
        Ok(Ok(writer.write(&cells)))
    })();
    let with_created = api_version.parse::<f64>().is_ok_and(|v| v >= 46.0);
    match result {
        Ok(Ok(Ok(outcome))) if outcome.created() => {
            let mut body = json!({"id": outcome.id(), "success": true, "errors": []});
            if with_created {
                body["created"] = json!(true);
            }
            RestReply::new(201, body)
        }
        Ok(Ok(Ok(outcome))) if with_created => RestReply::new(
            200,
            json!({"id": outcome.id(), "success": true, "errors": [], "created": false}),
        ),
        Ok(Ok(Ok(_))) => RestReply::no_content(),
        Ok(Ok(Err(e))) => target_error(e),
        Ok(Err(reply)) => reply,
        Err(e) => RestReply::api_error(&e),
    }
}

fn version_number(version: &str) -> &str {
    version.strip_prefix('v').unwrap_or(version)
}

fn respond(reply: RestReply) -> Response {
    let status = StatusCode::from_u16(reply.status).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
    match reply.body {
        None => status.into_response(),
        Some(body) => {
            let mut response = (status, body.to_string()).into_response();
            response.headers_mut().insert(
                axum::http::header::CONTENT_TYPE,
                HeaderValue::from_static("application/json;charset=UTF-8"),
            );
            response
        }
    }
}

async fn blocking(
    state: WriteState,
    f: impl FnOnce(&mut dyn OrgStore, &mut WriteRules) -> RestReply + Send + 'static,
) -> Response {
    let reply =
        tokio::task::spawn_blocking(move || state.with(|store, side| f(store, &mut side.rules)))
            .await
            .unwrap_or_else(|e| {
                RestReply::api_error(&ApiError::new(500, "UNKNOWN_EXCEPTION", e.to_string()))
            });
    respond(reply)
}

async fn create_handler(
    State(state): State<WriteState>,
    Path((_, object)): Path<(String, String)>,
    body: Bytes,
) -> Response {
    blocking(state, move |store, rules| {
        create(store, rules, &object, &body)
    })
    .await
}

async fn update_handler(
    State(state): State<WriteState>,
    Path((_, object, id)): Path<(String, String, String)>,
    body: Bytes,
) -> Response {
    blocking(state, move |store, rules| {
        update(store, rules, &object, &id, &body)
    })
    .await
}

async fn delete_handler(
    State(state): State<WriteState>,
    Path((_, object, id)): Path<(String, String, String)>,
) -> Response {
    blocking(state, move |store, rules| {
        delete(store, rules, &object, &id)
    })
    .await
}

async fn upsert_handler(
    State(state): State<WriteState>,
    Path((version, object, field, value)): Path<(String, String, String, String)>,
    body: Bytes,
) -> Response {
    blocking(state, move |store, rules| {
        upsert(
            store,
            rules,
            version_number(&version),
            &object,
            &field,
            &value,
            &body,
        )
    })
    .await
}

/// The REST write routes for any server state holding a [`WriteState`], to be merged under the
/// server's auth layer. Path parameter names (`version`, `object`, `id`, `field`) are the read
/// side's on the same paths (axum requires one name per position); for an upsert the `id`
/// position holds the external id field and `field` its value.
pub(crate) fn router<S>() -> Router<S>
where
    S: Clone + Send + Sync + 'static,
    WriteState: FromRef<S>,
{
    Router::new()
        .route(
            "/services/data/{version}/sobjects/{object}",
            post(create_handler),
        )
        .route(
            "/services/data/{version}/sobjects/{object}/{id}",
            patch(update_handler).delete(delete_handler),
        )
        .route(
            "/services/data/{version}/sobjects/{object}/{id}/{field}",
            patch(upsert_handler),
        )
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::schema::Value;
    use crate::write::rules::{RuleCondition, ValidationRule};
    use crate::write::test_org::TestOrg;

    fn org() -> (TestOrg, WriteRules) {
        (TestOrg::new(), WriteRules::default())
    }

    #[test]
    fn create_replies_201_with_id_success_and_no_errors() {
        let (mut org, mut rules) = org();
        let reply = create(
            &mut org,
            &mut rules,
            "Account",
            br#"{"Name":"Acme","NumberOfEmployees":12,"Active__c":true}"#,
        );
        assert_eq!(reply.status, 201);
        let body = reply.body.unwrap();
        let id = body["id"].as_str().unwrap();
        assert_eq!(body, json!({"id": id, "success": true, "errors": []}));
        assert_eq!(
            org.value("Account", id, "NumberOfEmployees"),
            Value::Int(12)
        );
        assert_eq!(org.value("Account", id, "Active__c"), Value::Bool(true));
    }

    #[test]
    fn create_errors_are_400_error_arrays() {
        let (mut org, mut rules) = org();
        let reply = create(&mut org, &mut rules, "Account", br#"{"Rating":"Hot"}"#);
        assert_eq!(reply.status, 400);
        assert_eq!(
            reply.body.unwrap(),
            json!([{"message": "Required fields are missing: [Name]", "errorCode": "REQUIRED_FIELD_MISSING", "fields": ["Name"]}])
        );
        let unknown = create(
            &mut org,
            &mut rules,
            "Account",
            br#"{"Name":"A","Nope__c":1}"#,
        );
        assert_eq!(unknown.status, 400);
        assert_eq!(
            unknown.body.unwrap()[0]["message"],
            "No such column 'Nope__c' on sobject of type Account"
        );
        assert_eq!(create(&mut org, &mut rules, "Nope", b"{}").status, 404);
        assert_eq!(
            create(&mut org, &mut rules, "Account", b"[1]")
                .body
                .unwrap()[0]["errorCode"],
            "JSON_PARSER_ERROR"
        );
        let typed = create(
            &mut org,
            &mut rules,
            "Account",
            br#"{"Name":"A","NumberOfEmployees":"many"}"#,
        );
        assert_eq!(
            typed.body.unwrap()[0]["errorCode"],
            "INVALID_TYPE_ON_FIELD_IN_RECORD"
        );
    }

    #[test]
    fn update_and_delete_reply_204_and_404_for_unknown_or_deleted_records() {
        let (mut org, mut rules) = org();
        let id = create(
            &mut org,
            &mut rules,
            "Account",
            br#"{"Name":"A","Website":"a.com"}"#,
        )
        .body
        .unwrap()["id"]
            .as_str()
            .unwrap()
            .to_string();
        assert_eq!(
            update(
                &mut org,
                &mut rules,
                "Account",
                &id,
                br#"{"Name":"B","Website":null}"#
            )
            .status,
            204
        );
        assert_eq!(org.value("Account", &id, "Name"), Value::Text("B".into()));
        assert_eq!(org.value("Account", &id, "Website"), Value::Null);
        let never = crate::write::id::make("001", "R0", 999);
        let missing = update(&mut org, &mut rules, "Account", &never, br#"{"Name":"C"}"#);
        assert_eq!(missing.status, 404);
        assert_eq!(missing.body.unwrap()[0]["errorCode"], "NOT_FOUND");
        assert_eq!(delete(&mut org, &mut rules, "Account", &id).status, 204);
        let again = delete(&mut org, &mut rules, "Account", &id);
        assert_eq!(again.status, 404);
        assert_eq!(again.body.unwrap()[0]["errorCode"], "ENTITY_IS_DELETED");
        assert_eq!(
            update(&mut org, &mut rules, "Account", "garbage", b"{}")
                .body
                .unwrap()[0]["errorCode"],
            "MALFORMED_ID"
        );
    }

    #[test]
    fn upsert_creates_201_then_updates_200_and_204_before_api_46() {
        let (mut org, mut rules) = org();
        let created = upsert(
            &mut org,
            &mut rules,
            "62.0",
            "Account",
            "External_Id__c",
            "X1",
            br#"{"Name":"A"}"#,
        );
        assert_eq!(created.status, 201);
        let id = created.body.as_ref().unwrap()["id"]
            .as_str()
            .unwrap()
            .to_string();
        assert_eq!(
            created.body.unwrap(),
            json!({"id": id, "success": true, "errors": [], "created": true})
        );
        let updated = upsert(
            &mut org,
            &mut rules,
            "62.0",
            "Account",
            "External_Id__c",
            "x1",
            br#"{"Name":"B"}"#,
        );
        assert_eq!(updated.status, 200);
        assert_eq!(
            updated.body.unwrap(),
            json!({"id": id, "success": true, "errors": [], "created": false})
        );
        let old = upsert(
            &mut org,
            &mut rules,
            "45.0",
            "Account",
            "External_Id__c",
            "X1",
            br#"{"Name":"C"}"#,
        );
        assert_eq!(
            old,
            RestReply {
                status: 204,
                body: None
            }
        );
        assert_eq!(org.value("Account", &id, "Name"), Value::Text("C".into()));
    }

    #[test]
    fn upsert_on_unknown_field_is_404_and_several_matches_is_300() {
        let (mut org, mut rules) = org();
        let missing = upsert(
            &mut org, &mut rules, "62.0", "Account", "Name", "A", br#"{}"#,
        );
        assert_eq!(missing.status, 404);
        assert_eq!(
            missing.body.unwrap()[0]["message"],
            "Provided external ID field does not exist or is not accessible: Name"
        );
        let a = create(
            &mut org,
            &mut rules,
            "Account",
            br#"{"Name":"A","External_Id__c":"D1"}"#,
        )
        .body
        .unwrap();
        let b = create(
            &mut org,
            &mut rules,
            "Account",
            br#"{"Name":"B","External_Id__c":"D2"}"#,
        )
        .body
        .unwrap();
        let (idx, _) = org
            .sobject("Account")
            .unwrap()
            .field("External_Id__c")
            .unwrap();
        org.update(
            "Account",
            b["id"].as_str().unwrap(),
            vec![(idx, Value::Text("D1".into()))],
        )
        .unwrap();
        let several = upsert(
            &mut org,
            &mut rules,
            "62.0",
            "Account",
            "External_Id__c",
            "D1",
            br#"{"Name":"C"}"#,
        );
        assert_eq!(several.status, 300);
        assert_eq!(
            several.body.unwrap(),
            json!([
                format!(
                    "/services/data/v62.0/sobjects/Account/{}",
                    a["id"].as_str().unwrap()
                ),
                format!(
                    "/services/data/v62.0/sobjects/Account/{}",
                    b["id"].as_str().unwrap()
                )
            ])
        );
    }

    #[test]
    fn nested_relationship_object_sets_the_reference_by_external_id() {
        let (mut org, mut rules) = org();
        let parent = create(
            &mut org,
            &mut rules,
            "Account",
            br#"{"Name":"P","External_Id__c":"P9"}"#,
        )
        .body
        .unwrap();
        let child = create(
            &mut org,
            &mut rules,
            "Contact",
            br#"{"LastName":"Doe","Account":{"External_Id__c":"P9"}}"#,
        );
        assert_eq!(child.status, 201);
        let child_id = child.body.unwrap()["id"].as_str().unwrap().to_string();
        assert_eq!(
            org.value("Contact", &child_id, "AccountId"),
            Value::Text(parent["id"].as_str().unwrap().into())
        );
    }

    #[test]
    fn validation_rule_applies_to_rest_writes_too() {
        let (mut org, _) = org();
        let mut rules = WriteRules::new(
            vec![ValidationRule {
                object: "Account".into(),
                field: "Name".into(),
                condition: RuleCondition::Equals("Forbidden".into()),
                message: "This name is not allowed".into(),
                error_field: None,
            }],
            vec![],
        );
        let reply = create(&mut org, &mut rules, "Account", br#"{"Name":"Forbidden"}"#);
        assert_eq!(
            reply.body.unwrap(),
            json!([{"message": "This name is not allowed", "errorCode": "FIELD_CUSTOM_VALIDATION_EXCEPTION", "fields": []}])
        );
    }
}
