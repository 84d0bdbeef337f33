//! The OpenAPI 3.1 document: every method in every version it serves, its
//! form parameters and both answer encodings, all from the registry.

use serde_json::{json, Map, Value};

use super::samples::Samples;
use crate::methods::AppState;
use crate::methods::{Kind, Method, Param, Verb, COMMON_ERRORS};
use crate::protocol::version::VersionState;

/// Parameter schema from its declaration.
fn param_schema(p: &Param) -> Value {
    let mut s = match p.kind {
        Kind::Integer { min, max } => json!({"type": "integer", "minimum": min, "maximum": max}),
        Kind::Choice => json!({"type": "string", "enum": p.values}),
        Kind::Timestamp => json!({"type": "string", "examples": ["Thu, 26 Jul 2012 14:53:44 UTC"]}),
        Kind::Url => json!({"type": "string", "format": "uri"}),
        Kind::List => json!({"type": "string", "description": "comma-separated list"}),
        Kind::Text => json!({"type": "string"}),
        Kind::Array => json!({"type": "array", "items": {"type": "string"}}),
    };
    if let (Some(d), Some(obj)) = (p.default, s.as_object_mut()) {
        let default = match p.kind {
            Kind::Integer { .. } => d.parse::<i64>().map(Value::from).unwrap_or(json!(d)),
            _ => json!(d),
        };
        obj.insert("default".into(), default);
    }
    if let Some(obj) = s.as_object_mut() {
        obj.insert("description".into(), json!(p.description));
    }
    s
}

fn request_schema(m: &Method) -> Value {
    let mut props = Map::new();
    let mut required: Vec<&str> = Vec::new();
    for p in m.params {
        props.insert(p.name.into(), param_schema(p));
        if p.required {
            required.push(p.name);
        }
    }
    json!({
        "allOf": [
            {"$ref": "#/components/schemas/AppCredentials"},
            {"type": "object", "properties": props, "required": required}
        ]
    })
}

/// The JSON answer schema: the envelope plus the top-level keys the sample shows.
fn answer_schema(m: &Method, samples: &Samples) -> Value {
    let keys: Vec<String> = samples
        .get(m)
        .and_then(|s| serde_json::from_str::<Value>(&s.json).ok())
        .and_then(|v| {
            v.as_object()
                .map(|o| o.keys().filter(|k| *k != "stat").cloned().collect())
        })
        .unwrap_or_default();
    let props: Map<String, Value> = keys
        .iter()
        .map(|k| (k.clone(), json!({"$ref": "#/components/schemas/Value"})))
        .collect();
    json!({
        "allOf": [
            {"$ref": "#/components/schemas/Ok"},
            {"type": "object", "properties": props, "required": keys}
        ]
    })
}

fn operation(m: &Method, version: &str, samples: &Samples) -> Value {
    let mut responses = Map::new();
    let mut ok_content = json!({
        "text/xml;charset=UTF-8": {"schema": {"type": "string"}},
        "application/json": {"schema": answer_schema(m, samples)}
    });
    if let Some(s) = samples.get(m) {
        ok_content["text/xml;charset=UTF-8"]["example"] = json!(s.xml);
        if let Ok(v) = serde_json::from_str::<Value>(&s.json) {
            ok_content["application/json"]["example"] = v;
        }
    }
    responses.insert(
        "200".into(),
        json!({"description": "Success (JSON with content_type=application/json)", "content": ok_content}),
    );
    // Fatal errors come as text/html, normal ones in the encoding asked for;
    // most codes can be either, so every error lists all three.
    for e in m.errors.iter().chain(COMMON_ERRORS) {
        let content = json!({
            "text/html": {"schema": {"type": "string"}},
            "text/xml;charset=UTF-8": {"schema": {"type": "string"}},
            "application/json": {"schema": {"$ref": "#/components/schemas/Fail"}}
        });
        responses
            .entry(e.code.to_string())
            .or_insert(json!({"description": e.meaning, "content": content}));
    }
    let body = request_schema(m);
    json!({
        "operationId": format!("{}-v{}", m.name, version.replace('.', "_")),
        "summary": m.summary,
        "description": m.description,
        "tags": [m.area.title()],
        "requestBody": {
            "required": true,
            "content": {
                "application/x-www-form-urlencoded": {"schema": body.clone()},
                "multipart/form-data": {"schema": body}
            }
        },
        "responses": responses
    })
}

/// The PUT form of a method: credentials in the query, the body XML or JSON.
fn put_operation(m: &Method, version: &str, samples: &Samples) -> Value {
    let mut op = operation(m, version, samples);
    op["operationId"] = json!(format!("{}-v{}-put", m.name, version.replace('.', "_")));
    op["parameters"] = json!(["api_key", "access_key", "timestamp", "nonce"]
        .iter()
        .map(|n| json!({"name": n, "in": "query", "required": true, "schema": {"type": "string"}}))
        .collect::<Vec<_>>());
    op["requestBody"] = json!({
        "required": true,
        "content": {
            "application/xml": {"schema": {"type": "string"}},
            "application/json": {"schema": {"type": "object"}}
        }
    });
    op
}

/// The whole document.
pub fn document(state: &AppState, samples: &Samples) -> Value {
    let mut paths = Map::new();
    for (version, vstate) in &state.versions.load().versions {
        if *vstate == VersionState::Gone {
            continue;
        }
        for m in state.registry.in_version(*version) {
            let v = version.to_string();
            let mut item = json!({"post": operation(m, &v, samples)});
            if m.verbs.contains(&Verb::Put) {
                item["put"] = put_operation(m, &v, samples);
            }
            if *vstate == VersionState::Deprecated {
                item["post"]["deprecated"] = json!(true);
            }
            paths.insert(format!("/v{v}/{}", m.name), item);
        }
    }
    let mut doc = json!({
        "openapi": "3.1.0",
        "info": {
            "title": "Panthera API",
            "version": env!("CARGO_PKG_VERSION"),
            "description": "Every call is a POST of form parameters signed with the app credentials: \
    access_key = hex(HMAC_algo(api_secret, timestamp || api_key || nonce)). Answers are XML by default, \
    JSON with content_type=application/json. See /guide/app-authentication."
        },
        "servers": [{"url": state.public_url()}],
        "paths": paths,
        "components": {"schemas": {
            "AppCredentials": {
                "type": "object",
                "required": ["api_key", "access_key", "timestamp", "nonce"],
                "properties": {
                    "api_key": {"type": "string", "description": "The app's api key (alias: consumer_key)."},
                    "access_key": {"type": "string", "description": "hex(HMAC_algo(api_secret, timestamp || api_key || nonce))"},
                    "timestamp": {"type": "string", "examples": ["Thu, 26 Jul 2012 14:53:44 UTC"]},
                    "nonce": {"type": "string", "minLength": 1, "maxLength": 128},
                    "algo": {"type": "string", "enum": ["sha1", "sha256", "sha512"], "default": "sha1"},
                    "content_type": {"type": "string", "enum": ["text/xml", "application/json", "application/octet-stream"]},
                    "auth_token": {"type": "string", "description": "User token (methods with user authentication)."},
                    "access_token": {"type": "string", "description": "hex(HMAC_algo(token_secret, timestamp || auth_token || nonce))"}
                }
            },
            "Value": {
                "description": "An element in JSON: a string, an object of values, or an array of them.",
                "anyOf": [
                    {"type": "string"},
                    {"type": "array", "items": {"$ref": "#/components/schemas/Value"}},
                    {"type": "object", "additionalProperties": {"$ref": "#/components/schemas/Value"}}
                ]
            },
            "Ok": {
                "type": "object",
                "required": ["stat"],
                "properties": {"stat": {"const": "ok"}},
                "additionalProperties": {"$ref": "#/components/schemas/Value"}
            },
            "Fail": {
                "type": "object",
                "required": ["stat", "err"],
                "properties": {
                    "stat": {"const": "fail"},
                    "err": {
                        "type": "object",
                        "required": ["code", "msg"],
                        "properties": {"code": {"type": "integer"}, "msg": {"type": "string"}}
                    }
                }
            }
        }}
    });
    super::openapi_rest::add(&mut doc);
    doc
}
