//! `/v1/users` and `/v1/users/{id}`: each request is translated into the
//! signed method it stands for, run by [`run_method`], and its answer
//! translated back.
//!
//! | REST | signed method |
//! |---|---|
//! | `GET /v1/users?limit&offset&status` | `get-users` |
//! | `POST /v1/users` | `create-user` (password optional) |
//! | `GET /v1/users/{id}` | `get-user` |
//! | `PUT /v1/users/{id}` | `update-user` (only the fields given) |
//! | `DELETE /v1/users/{id}` | `delete-user` |
//!
//! Fields: `first_name`/`last_name` are the signed `firstname`/`surname`;
//! `username`, `email`, `status`, `company` and `password` (write-only) keep
//! their names; times are ISO 8601. The `Idempotency-Key` header is the
//! `idempotency_key` parameter.

use std::sync::Arc;

use actix_web::http::{header, Method as Verb};
use actix_web::{web, HttpMessage, HttpRequest, HttpResponse};
use bytes::Bytes;
use serde_json::{json, Map, Value};

use super::auth;
use super::errors::RestError;
use crate::answer::tree::{Answer, Node};
use crate::error::ApiError;
use crate::http::headers::RequestId;
use crate::methods::run::{run_method, Principal};
use crate::methods::AppState;
use crate::methods::{self, Lookup, Method};
use crate::ops::forwarded;
use crate::ops::gate::Gate;
use crate::ops::ratelimit::{self, Quota};
use crate::protocol::params::{self, ParamError, ParamValue, Params};
use crate::protocol::timestamp::Timestamp;
use crate::protocol::version::Version;

/// The verbs of each path, for `405` and its `Allow`.
pub const COLLECTION_VERBS: &str = "GET, POST";
pub const ITEM_VERBS: &str = "GET, PUT, DELETE";
/// The header that carries `idempotency_key`.
pub const IDEMPOTENCY_HEADER: &str = "idempotency-key";

/// REST field ↔ signed parameter, for the writable fields.
const FIELDS: &[(&str, &str)] = &[
    ("username", "username"),
    ("email", "email"),
    ("password", "password"),
    ("status", "status"),
    ("first_name", "firstname"),
    ("last_name", "surname"),
    ("company", "company"),
];
/// Fields of the answer a client may send back unchanged; ignored.
const READ_ONLY: &[&str] = &["id", "created_at", "updated_at"];

/// One operation of the resource.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Op {
    List,
    Create,
    Get,
    Update,
    Delete,
}

impl Op {
    fn method_name(self) -> &'static str {
        match self {
            Op::List => "get-users",
            Op::Create => "create-user",
            Op::Get => "get-user",
            Op::Update => "update-user",
            Op::Delete => "delete-user",
        }
    }

    fn method(self, state: &AppState) -> Result<&'static Method, ApiError> {
        if self == Op::Create {
            return Ok(&methods::accounts::CREATE_USER_WITHOUT_PASSWORD);
        }
        match state.registry.lookup(self.method_name(), Version::V1_0) {
            Lookup::Found(m) => Ok(m),
            _ => Err(ApiError::Internal(format!(
                "{} is not registered",
                self.method_name()
            ))),
        }
    }

    fn has_body(self) -> bool {
        matches!(self, Op::Create | Op::Update)
    }
}

/// `/v1/users`.
pub async fn collection(
    req: HttpRequest,
    payload: web::Payload,
    state: web::Data<AppState>,
) -> HttpResponse {
    let op = match *req.method() {
        Verb::GET => Op::List,
        Verb::POST => Op::Create,
        _ => {
            return RestError::method_not_allowed(req.method().as_str(), COLLECTION_VERBS)
                .response()
        }
    };
    serve(req, payload, state.into_inner(), op, None).await
}

/// `/v1/users/{id}`.
pub async fn item(
    req: HttpRequest,
    payload: web::Payload,
    state: web::Data<AppState>,
) -> HttpResponse {
    let op = match *req.method() {
        Verb::GET => Op::Get,
        Verb::PUT => Op::Update,
        Verb::DELETE => Op::Delete,
        _ => return RestError::method_not_allowed(req.method().as_str(), ITEM_VERBS).response(),
    };
    let id = req.match_info().get("id").unwrap_or_default().to_string();
    serve(req, payload, state.into_inner(), op, Some(id)).await
}

/// The request as the blocking part needs it.
struct Incoming {
    op: Op,
    id: Option<String>,
    query: String,
    content_type: Option<String>,
    body: Bytes,
    token: Option<String>,
    idempotency_key: Option<String>,
    base_url: String,
    request_id: String,
}

async fn serve(
    req: HttpRequest,
    payload: web::Payload,
    state: Arc<AppState>,
    op: Op,
    id: Option<String>,
) -> HttpResponse {
    if let Some(refused) = auth::https_refusal(&state, &req) {
        return refused.response();
    }
    let gate = match Gate::enter(
        &state.ops,
        &*state.clock,
        &req,
        op.method_name(),
        &Params::default(),
        None,
    ) {
        Ok(g) => g,
        Err(e) => return RestError::from(e).response(),
    };
    let body = if op.has_body() {
        let secs = state.config.limits.body_timeout_secs;
        let read =
            crate::http::pipeline::read_body(&req, payload, state.config.limits.max_body_bytes);
        match actix_web::rt::time::timeout(std::time::Duration::from_secs(secs), read).await {
            Ok(Ok(b)) => b,
            Ok(Err(e)) => return RestError::from(e).response(),
            Err(_) => return RestError::from(ApiError::BodyTimeout(secs)).response(),
        }
    } else {
        Bytes::new()
    };
    let header = |name| {
        req.headers()
            .get(name)
            .map(|v| String::from_utf8_lossy(v.as_bytes()).into_owned())
    };
    let origin = forwarded::origin(&req, &state.ops.trusted_proxies);
    let incoming = Incoming {
        op,
        id,
        query: req.query_string().to_string(),
        content_type: header(header::CONTENT_TYPE.as_str()),
        body,
        token: auth::token(&req),
        idempotency_key: header(IDEMPOTENCY_HEADER),
        base_url: state.base_url_for(&origin),
        request_id: req
            .extensions()
            .get::<RequestId>()
            .map(|r| r.0.clone())
            .unwrap_or_default(),
    };
    let st = Arc::clone(&state);
    let span = tracing::Span::current();
    let (outcome, quota) = web::block(move || {
        let _request = span.enter();
        let mut quota = None;
        let r = run(&st, &incoming, &mut quota).map(|a| (a, incoming));
        (r, quota)
    })
    .await
    .unwrap_or((Err(ApiError::Unavailable), None));
    gate.leave(&state.ops, &*state.clock, &outcome);
    if let Some(q) = quota {
        req.extensions_mut().insert::<Quota>(q);
    }
    match outcome {
        Ok((answer, incoming)) => reply(&incoming, &answer),
        Err(e) => RestError::from(rename_fields(e)).response(),
    }
}

/// Authentication, the rate limit, then the signed method.
fn run(state: &Arc<AppState>, r: &Incoming, quota: &mut Option<Quota>) -> Result<Answer, ApiError> {
    let key = auth::api_key(state, r.token.as_deref())?;
    let method = r.op.method(state)?;
    ratelimit::charge_api_key(&state.ops, &*state.clock, &key.api_key, method.name, quota)?;
    let params = params_of(state, r)?;
    let caller = Principal {
        key: &key,
        account: None,
        base_url: &r.base_url,
    };
    run_method(state, method, Version::V1_0, &caller, params, &r.request_id)
}

fn one(params: &mut Params, name: &str, value: &str) -> Result<(), ApiError> {
    params
        .insert(name.to_string(), ParamValue::One(value.to_string()))
        .map_err(|e| e.into())
}

/// The signed method's parameters: the query's `limit`/`offset`/`status`
/// for the list, the path's id, the JSON body's fields, the idempotency key.
fn params_of(state: &AppState, r: &Incoming) -> Result<Params, ApiError> {
    let mut p = Params::default();
    if r.op == Op::List {
        let q = params::parse(&r.query, None, &[], &state.param_limits)?;
        for name in ["limit", "offset", "status"] {
            if q.contains(name) {
                let v = q.get(name).ok_or_else(|| {
                    ApiError::InvalidParam(name.into(), "expected a single value".into())
                })?;
                one(&mut p, name, v)?;
            }
        }
    }
    if let Some(id) = &r.id {
        one(&mut p, "id", id)?;
    }
    if r.op.has_body() {
        for (name, value) in body_fields(r.content_type.as_deref(), &r.body)? {
            one(&mut p, name, &value)?;
        }
    }
    if let Some(k) = &r.idempotency_key {
        if r.op != Op::List && r.op != Op::Get {
            one(&mut p, methods::idempotency::PARAM, k)?;
        }
    }
    Ok(p)
}

fn malformed(why: impl Into<String>) -> ApiError {
    ApiError::BadParams(ParamError::Malformed(why.into()))
}

/// The JSON object of a body as signed parameters: strings as they are,
/// `null` clears a name (`first_name`, `last_name`, `company`) and leaves
/// other fields unchanged; read-only fields are ignored, unknown ones and
/// other JSON types are refused (422).
fn body_fields(
    content_type: Option<&str>,
    body: &[u8],
) -> Result<Vec<(&'static str, String)>, ApiError> {
    let essence = content_type
        .and_then(|ct| ct.split(';').next())
        .map(|e| e.trim().to_ascii_lowercase());
    if let Some(e) = essence.filter(|e| !e.is_empty()) {
        if e != "application/json" && !e.ends_with("+json") {
            return Err(malformed(format!(
                "the body must be JSON (Content-Type: application/json), not {}",
                e.chars().take(60).collect::<String>()
            )));
        }
    }
    let value: Value = serde_json::from_slice(body).map_err(|e| {
        if body.iter().all(u8::is_ascii_whitespace) {
            malformed("the body must be a JSON object")
        } else {
            malformed(format!("the body is not valid JSON ({e})"))
        }
    })?;
    let Value::Object(obj) = value else {
        return Err(malformed("the body must be a JSON object"));
    };
    let mut out = Vec::new();
    for (field, v) in obj {
        if READ_ONLY.contains(&field.as_str()) {
            continue;
        }
        let Some((rest_name, param)) = FIELDS.iter().find(|(f, _)| *f == field) else {
            return Err(ApiError::Unprocessable(
                field.chars().take(40).collect(),
                format!(
                    "unknown field; the fields are {}",
                    FIELDS.iter().map(|f| f.0).collect::<Vec<_>>().join(", ")
                ),
            ));
        };
        match v {
            Value::String(s) => out.push((*param, s)),
            Value::Null if matches!(*rest_name, "first_name" | "last_name" | "company") => {
                out.push((*param, String::new()))
            }
            Value::Null => {}
            _ => {
                return Err(ApiError::Unprocessable(
                    (*rest_name).into(),
                    "must be a string".into(),
                ))
            }
        }
    }
    Ok(out)
}

/// Field names in messages as the REST face spells them.
fn rename_fields(e: ApiError) -> ApiError {
    let rest = |f: String| match FIELDS.iter().find(|(_, p)| *p == f) {
        Some((r, _)) => (*r).to_string(),
        None => f,
    };
    match e {
        ApiError::Unprocessable(f, why) => ApiError::Unprocessable(rest(f), why),
        ApiError::InvalidParam(f, why) => ApiError::InvalidParam(rest(f), why),
        ApiError::MissingParam(f) => ApiError::MissingParam(rest(f)),
        other => other,
    }
}

/// The answer: a page, a user (`201` with `Location` when created), or
/// `204` for a deletion.
fn reply(r: &Incoming, answer: &Answer) -> HttpResponse {
    let Some(node) = answer.items.first() else {
        return RestError::from(ApiError::Internal("empty answer".into())).response();
    };
    match r.op {
        Op::Delete => HttpResponse::NoContent().finish(),
        Op::List => {
            let num = |k: &str| {
                attr(node, k)
                    .and_then(|v| v.parse::<i64>().ok())
                    .unwrap_or(0)
            };
            HttpResponse::Ok().json(json!({
                "data": node.children.iter().map(user_json).collect::<Vec<_>>(),
                "total": num("total"),
                "limit": num("limit"),
                "offset": num("offset"),
            }))
        }
        Op::Create => {
            let user = user_json(node);
            let id = user.get("id").and_then(Value::as_str).unwrap_or_default();
            let mut b = HttpResponse::Created();
            b.insert_header((header::LOCATION, format!("{}/v1/users/{id}", r.base_url)));
            b.json(user)
        }
        Op::Get | Op::Update => HttpResponse::Ok().json(user_json(node)),
    }
}

fn attr<'a>(n: &'a Node, key: &str) -> Option<&'a str> {
    n.attrs
        .iter()
        .find(|(k, _)| k == key)
        .map(|(_, v)| v.as_str())
}

/// A signed `user` element as the REST user object.
pub fn user_json(n: &Node) -> Value {
    let s = |k: &str| Value::String(attr(n, k).unwrap_or_default().to_string());
    let time = |k: &str| {
        attr(n, k)
            .and_then(|v| Timestamp::parse(v).ok())
            .map_or(Value::Null, |t| Value::String(t.iso8601()))
    };
    let mut m = Map::new();
    m.insert("id".into(), s("id"));
    m.insert("username".into(), s("username"));
    m.insert("email".into(), s("email"));
    m.insert("first_name".into(), s("firstname"));
    m.insert("last_name".into(), s("surname"));
    m.insert("company".into(), s("company"));
    m.insert("status".into(), s("status"));
    m.insert("created_at".into(), time("created_at"));
    m.insert("updated_at".into(), time("updated_at"));
    Value::Object(m)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn no_signed_method_is_called_users() {
        let r = crate::methods::Registry::new();
        assert!(r.declarations("users").is_empty());
        for op in [Op::List, Op::Create, Op::Get, Op::Update, Op::Delete] {
            assert!(!r.declarations(op.method_name()).is_empty(), "{op:?}");
        }
    }

    #[test]
    fn bodies_become_signed_parameters() {
        let f = body_fields(
            Some("application/json; charset=utf-8"),
            br#"{"username":"jane","first_name":"Jane","last_name":null,"id":"usr_1","status":null}"#,
        )
        .unwrap();
        assert_eq!(
            f,
            vec![
                ("username", "jane".to_string()),
                ("firstname", "Jane".to_string()),
                ("surname", String::new()),
            ]
        );
        assert_eq!(body_fields(None, b"{}").unwrap(), vec![]);
        for (ct, body, status) in [
            (None, &b"[1]"[..], 400),
            (None, b"", 400),
            (None, b"{nope", 400),
            (Some("text/plain"), b"{}", 400),
            (None, br#"{"firstname":"x"}"#, 422),
            (None, br#"{"email":5}"#, 422),
        ] {
            let e = body_fields(ct, body).unwrap_err();
            assert_eq!(RestError::from(e).status, status, "{body:?}");
        }
    }

    #[test]
    fn users_answer_with_iso_times_and_the_seed_names() {
        let u = crate::store::users::User {
            id: "usr_1".into(),
            username: "jane".into(),
            email: "j@example.com".into(),
            firstname: "Jane".into(),
            surname: "Doe".into(),
            company: String::new(),
            status: "active".into(),
            created_at: 0,
            updated_at: 60,
        };
        let v = user_json(&crate::methods::accounts::user_node(&u));
        assert_eq!(v["first_name"], "Jane");
        assert_eq!(v["last_name"], "Doe");
        assert_eq!(v["created_at"], "1970-01-01T00:00:00Z");
        assert_eq!(v["updated_at"], "1970-01-01T00:01:00Z");
        assert!(v.get("password").is_none());
    }
}
