//! The REST users API (`/v1/users`, src/rest) in the OpenAPI document: its
//! paths, the `User`/`UserPage`/`RestError` schemas and the `ApiKey`
//! security scheme (the `X-API-Key` header).

use serde_json::{json, Map, Value};

use crate::accounts::rules::STATUSES;

fn error(description: &str) -> Value {
    json!({"description": description, "content": {"application/json":
        {"schema": {"$ref": "#/components/schemas/RestError"}}}})
}

fn user(description: &str, status: &str) -> (String, Value) {
    (
        status.to_string(),
        json!({"description": description, "content": {"application/json":
            {"schema": {"$ref": "#/components/schemas/User"}}}}),
    )
}

fn responses(ok: (String, Value), errors: &[(&str, &str)]) -> Value {
    let mut m = Map::new();
    m.insert(ok.0, ok.1);
    for (code, why) in [
        (
            "401",
            "UNAUTHORIZED: the X-API-Key header is missing or not valid",
        ),
        (
            "403",
            "FORBIDDEN: the key lacks the admin role, or plain HTTP while HTTPS is available",
        ),
        (
            "429",
            "TOO_MANY_REQUESTS: rate limit or failed-auth throttle (Retry-After)",
        ),
        ("500", "INTERNAL_ERROR"),
        ("503", "SERVICE_UNAVAILABLE"),
    ]
    .iter()
    .chain(errors)
    {
        m.insert((*code).to_string(), error(why));
    }
    Value::Object(m)
}

fn body(required: &[&str]) -> Value {
    json!({"required": true, "content": {"application/json": {"schema": {
        "allOf": [{"$ref": "#/components/schemas/UserFields"}, {"required": required}]
    }}}})
}

const TAG: &str = "Users (REST)";

/// `/v1/users` and `/v1/users/{id}`.
pub fn paths() -> Vec<(String, Value)> {
    let id = json!({"name": "id", "in": "path", "required": true, "schema": {"type": "string"},
        "description": "The account id (`usr_` + 16 hex digits)."});
    let idem = json!({"name": "Idempotency-Key", "in": "header", "required": false,
        "schema": {"type": "string", "minLength": 1, "maxLength": 255},
        "description": "Runs the request once per key for 24 hours; a retry gets the first answer."});
    let list_params = json!([
        {"name": "limit", "in": "query", "schema": {"type": "integer", "minimum": 1, "maximum": 100, "default": 100}},
        {"name": "offset", "in": "query", "schema": {"type": "integer", "minimum": 0, "default": 0}},
        {"name": "status", "in": "query", "schema": {"type": "string", "enum": STATUSES}}
    ]);
    let page = (
        "200".to_string(),
        json!({"description": "One page", "content": {"application/json":
            {"schema": {"$ref": "#/components/schemas/UserPage"}}}}),
    );
    let deleted = (
        "204".to_string(),
        json!({"description": "Deleted; empty body"}),
    );
    let not_found = ("404", "NOT_FOUND: no account with this id");
    let taken = (
        "409",
        "CONFLICT: the email or username is taken, or an idempotent request is in progress",
    );
    let invalid = (
        "422",
        "VALIDATION_ERROR: a field breaks its rule (the message names it)",
    );
    let bad = ("400", "BAD_REQUEST: the body is not a JSON object");
    let verb = ("405", "METHOD_NOT_ALLOWED (with Allow)");
    vec![
        (
            "/v1/users".into(),
            json!({
                "get": {"operationId": "rest-list-users", "tags": [TAG], "summary": "Lists accounts, a page at a time (get-users).",
                    "parameters": list_params, "responses": responses(page, &[invalid, verb])},
                "post": {"operationId": "rest-create-user", "tags": [TAG],
                    "summary": "Creates an account (create-user); without a password it cannot sign in until one is set.",
                    "parameters": [idem], "requestBody": body(&["username", "email"]),
                    "responses": responses(user("Created; Location names the account", "201"), &[bad, taken, invalid, verb])}
            }),
        ),
        (
            "/v1/users/{id}".into(),
            json!({
                "parameters": [id],
                "get": {"operationId": "rest-get-user", "tags": [TAG], "summary": "Shows one account (get-user).",
                    "responses": responses(user("The account", "200"), &[not_found, verb])},
                "put": {"operationId": "rest-update-user", "tags": [TAG],
                    "summary": "Changes the fields given (update-user); null clears a name.",
                    "requestBody": body(&[]),
                    "responses": responses(user("The account afterwards", "200"), &[bad, not_found, taken, invalid, verb])},
                "delete": {"operationId": "rest-delete-user", "tags": [TAG], "summary": "Deletes an account (delete-user).",
                    "responses": responses(deleted, &[not_found, verb])}
            }),
        ),
    ]
}

/// The schemas the paths name.
pub fn schemas() -> Vec<(String, Value)> {
    let time =
        json!({"type": "string", "format": "date-time", "examples": ["2023-01-15T10:00:00Z"]});
    vec![
        (
            "User".into(),
            json!({
                "type": "object",
                "required": ["id", "username", "email", "first_name", "last_name", "company", "status", "created_at", "updated_at"],
                "properties": {
                    "id": {"type": "string", "examples": ["usr_00000000000a11ce"]},
                    "username": {"type": "string"},
                    "email": {"type": "string"},
                    "first_name": {"type": "string"},
                    "last_name": {"type": "string"},
                    "company": {"type": "string"},
                    "status": {"type": "string", "enum": STATUSES},
                    "created_at": time,
                    "updated_at": time
                }
            }),
        ),
        (
            "UserFields".into(),
            json!({
                "type": "object",
                "additionalProperties": false,
                "properties": {
                    "username": {"type": "string", "description": "3 to 32 characters of a-z, 0-9, _ . -; unique."},
                    "email": {"type": "string", "description": "Unique, compared case-insensitively."},
                    "status": {"type": "string", "enum": STATUSES, "default": "active"},
                    "first_name": {"type": ["string", "null"], "maxLength": 100},
                    "last_name": {"type": ["string", "null"], "maxLength": 100},
                    "company": {"type": ["string", "null"], "maxLength": 100},
                    "password": {"type": "string", "writeOnly": true, "minLength": 10, "maxLength": 256},
                    "id": {"description": "Ignored (read-only)."},
                    "created_at": {"description": "Ignored (read-only)."},
                    "updated_at": {"description": "Ignored (read-only)."}
                }
            }),
        ),
        (
            "UserPage".into(),
            json!({
                "type": "object",
                "required": ["data", "total", "limit", "offset"],
                "properties": {
                    "data": {"type": "array", "items": {"$ref": "#/components/schemas/User"}},
                    "total": {"type": "integer"}, "limit": {"type": "integer"}, "offset": {"type": "integer"}
                }
            }),
        ),
        (
            "RestError".into(),
            json!({
                "type": "object",
                "required": ["code", "message"],
                "properties": {
                    "code": {"type": "string", "enum": ["BAD_REQUEST", "UNAUTHORIZED", "FORBIDDEN", "NOT_FOUND",
                        "METHOD_NOT_ALLOWED", "REQUEST_TIMEOUT", "CONFLICT", "PAYLOAD_TOO_LARGE", "VALIDATION_ERROR",
                        "TOO_MANY_REQUESTS", "INTERNAL_ERROR", "SERVICE_UNAVAILABLE"]},
                    "message": {"type": "string"}
                }
            }),
        ),
    ]
}

/// Adds the paths, schemas and the `ApiKey` scheme to `doc`.
pub fn add(doc: &mut Value) {
    if let Some(paths) = doc["paths"].as_object_mut() {
        for (p, item) in paths_with_security() {
            paths.insert(p, item);
        }
    }
    if let Some(known) = doc["components"]["schemas"].as_object_mut() {
        for (name, s) in schemas() {
            known.insert(name, s);
        }
    }
    doc["components"]["securitySchemes"] = json!({"ApiKey": {
        "type": "apiKey", "in": "header", "name": "X-API-Key",
        "description": "A REST token of an admin api key (`panthera keys rest-token <api_key>`); HTTPS only when the server has HTTPS."
    }});
}

fn paths_with_security() -> Vec<(String, Value)> {
    paths()
        .into_iter()
        .map(|(p, mut item)| {
            if let Some(obj) = item.as_object_mut() {
                for (verb, op) in obj.iter_mut() {
                    if verb != "parameters" {
                        op["security"] = json!([{"ApiKey": []}]);
                    }
                }
            }
            (p, item)
        })
        .collect()
}
