//! The OpenAPI 3.1 document: every method in every version it serves, its
//! form parameters and both answer encodings, all from the registry.

use serde_json::{json, Map, Value};

use super::samples::Samples;
use crate::methods::AppState;
use crate::methods::{Area, Field, FieldType, Kind, Method, Param, UserAuth, Verb, COMMON_ERRORS};
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

/// The description of an answer field: its meaning, and when it is present.
fn field_description(f: &Field) -> String {
    match f.when {
        Some(w) => format!("{} Present: {w}.", f.meaning),
        None => f.meaning.to_string(),
    }
}

/// The schema of a value of type `ty` (every value is text on the wire).
fn scalar_schema(ty: FieldType) -> Value {
    match ty {
        FieldType::Integer => json!({"type": "string", "pattern": "^-?[0-9]+$"}),
        FieldType::YesNo => json!({"type": "string", "enum": ["yes", "no"]}),
        FieldType::Timestamp => {
            json!({"type": "string", "examples": ["Thu, 26 Jul 2012 14:53:44 UTC"]})
        }
        _ => json!({"type": "string"}),
    }
}

/// An element's members as JSON keys: its attributes and child elements,
/// then `_content` for its text; every key is declared, no other is allowed.
fn json_members(fields: &[Field], text: Option<FieldType>) -> (Map<String, Value>, Vec<&str>) {
    let mut props = Map::new();
    let mut required = Vec::new();
    for f in fields {
        props.insert(f.name.into(), json_field(f));
        if f.always() {
            required.push(f.name);
        }
    }
    if let Some(ty) = text {
        let mut content = scalar_schema(ty);
        content["description"] = json!("The element's text, beside its attributes.");
        props.insert("_content".into(), content);
    }
    (props, required)
}

/// The JSON schema of one field, as the encoder writes it (protocol.md §7):
/// an attribute or an element of text only is a string, any other element
/// an object of its members, and an element that repeats an array when
/// there are several.
fn json_field(f: &Field) -> Value {
    let mut one = if f.attribute || f.fields.is_empty() {
        scalar_schema(f.ty)
    } else {
        let (props, required) = json_members(f.fields, f.has_text().then_some(f.ty));
        let object = json!({
            "type": "object",
            "properties": props,
            "required": required,
            "additionalProperties": false
        });
        if required.is_empty() {
            // without any of its members the element is its text alone
            let plain = if f.has_text() {
                scalar_schema(f.ty)
            } else {
                json!({"const": ""})
            };
            json!({"anyOf": [object, plain]})
        } else {
            object
        }
    };
    one["description"] = json!(field_description(f));
    if f.repeated {
        json!({
            "description": field_description(f),
            "anyOf": [one, {"type": "array", "items": one, "minItems": 2}]
        })
    } else {
        one
    }
}

/// The JSON answer schema, from the declared answer fields: `stat` and the
/// declared elements, nothing else.
pub fn answer_schema(m: &Method) -> Value {
    let (mut props, mut required) = json_members(m.answer, None);
    props.insert("stat".into(), json!({"const": "ok"}));
    required.insert(0, "stat");
    json!({
        "type": "object",
        "properties": props,
        "required": required,
        "additionalProperties": false
    })
}

/// The XML schema of one field: OpenAPI's `xml` object names the elements
/// and flags the attributes.
fn xml_field(f: &Field) -> Value {
    let mut one = if f.attribute || f.fields.is_empty() {
        scalar_schema(f.ty)
    } else {
        let props: Map<String, Value> = f
            .fields
            .iter()
            .map(|c| (c.name.to_string(), xml_field(c)))
            .collect();
        let required: Vec<&str> = f
            .fields
            .iter()
            .filter(|c| c.always())
            .map(|c| c.name)
            .collect();
        json!({"type": "object", "properties": props, "required": required})
    };
    one["description"] = json!(field_description(f));
    one["xml"] = if f.attribute {
        json!({"name": f.name, "attribute": true})
    } else {
        json!({"name": f.name})
    };
    if f.repeated {
        json!({"type": "array", "items": one, "xml": {"name": f.name}})
    } else {
        one
    }
}

/// The XML answer schema: `<rsp stat="ok">` around the declared elements.
fn xml_answer_schema(m: &Method) -> Value {
    let mut props: Map<String, Value> = m
        .answer
        .iter()
        .map(|f| (f.name.to_string(), xml_field(f)))
        .collect();
    props.insert(
        "stat".into(),
        json!({"const": "ok", "xml": {"name": "stat", "attribute": true}}),
    );
    json!({"type": "object", "xml": {"name": "rsp"}, "properties": props})
}

fn operation(m: &Method, version: &str, samples: &Samples) -> Value {
    let mut responses = Map::new();
    let mut ok_content = json!({
        "text/xml;charset=UTF-8": {"schema": xml_answer_schema(m)},
        "application/json": {"schema": answer_schema(m)}
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
        "security": security(m),
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

/// The ways a call of `m` may authenticate: the signed form parameters (with
/// the user token where the method takes one) or the OAuth 1.0 header.
fn security(m: &Method) -> Value {
    match m.user_auth {
        UserAuth::No => json!([{"AppSignature": []}, {"OAuth1": []}]),
        UserAuth::Optional => json!([
            {"AppSignature": []},
            {"AppSignature": [], "UserToken": []},
            {"OAuth1": []}
        ]),
        UserAuth::Required => json!([{"AppSignature": [], "UserToken": []}, {"OAuth1": []}]),
    }
}

/// The security schemes of the signed methods. OpenAPI cannot express an
/// HMAC over form fields, so the form signing is an `apiKey`-style scheme
/// whose description says how the other fields are made.
fn security_schemes() -> Value {
    json!({
        "AppSignature": {
            "type": "apiKey",
            "in": "query",
            "name": "api_key",
            "description": "The app signature, sent as form fields of the POST body (or, for a GET call, of the query): \
    `api_key`, `timestamp` (`Thu, 26 Jul 2012 14:53:44 UTC`, within the server's tolerance, 300 s by default), a fresh `nonce`, \
    optional `algo` (`sha1` default, `sha256`, `sha512`) and `access_key = lowercase_hex(HMAC_algo(key = api_secret, msg = timestamp || api_key || nonce))`. \
    A (api_key, timestamp, nonce) triple is accepted once. See /guide/app-authentication."
        },
        "UserToken": {
            "type": "apiKey",
            "in": "query",
            "name": "auth_token",
            "description": "The user token (approved by the user at its auth_url, see /guide/user-authorization), sent with the app signature as form fields: \
    `auth_token` and `access_token = lowercase_hex(HMAC_algo(key = token_secret, msg = timestamp || auth_token || nonce))`, \
    with the timestamp, nonce and algo of the access_key."
        },
        "OAuth1": {
            "type": "http",
            "scheme": "OAuth",
            "description": "RFC 5849 `Authorization: OAuth ...` header instead of the form fields: oauth_consumer_key = api key, \
    oauth_token = auth_token (for user calls), oauth_signature_method HMAC-SHA1, HMAC-SHA256 or HMAC-SHA512, oauth_timestamp in Unix seconds; \
    key `enc(api_secret)&enc(token_secret)`; the base string covers the method, the URL, the query, an urlencoded body and the oauth parameters. \
    Never mixed with the form fields in one request. See /guide/oauth."
        }
    })
}

/// What a tag (an area of the method list) is about.
fn area_description(a: Area) -> &'static str {
    match a {
        Area::Service => {
            "The service itself: host information, method list and method descriptions."
        }
        Area::Tokens => "User tokens (request, lifetime) and the signed-in user's profile.",
        Area::Accounts => "User accounts, for api keys with the admin role.",
        Area::Media => "Search and describe the media catalogue.",
        Area::Downloads => "Buy and download media, the deposit and past downloads.",
        Area::Contributor => "Media the user contributes, and the upload inbox.",
    }
}

/// The whole document, its server the base URL `base` (`server.public_url`,
/// or the one the request used).
pub fn document(state: &AppState, samples: &Samples, base: &str) -> Value {
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
        "servers": [{"url": base}],
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
    if let (Some(schemes), Some(ours)) = (
        doc["components"]["securitySchemes"].as_object_mut(),
        security_schemes().as_object(),
    ) {
        for (k, v) in ours {
            schemes.insert(k.clone(), v.clone());
        }
    } else {
        doc["components"]["securitySchemes"] = security_schemes();
    }
    doc["tags"] = tags(&doc);
    doc
}

/// One tag per area (in the order of the method list), then the tags of the
/// other operations (the REST users API).
fn tags(doc: &Value) -> Value {
    let mut tags: Vec<Value> = Vec::new();
    let mut seen: Vec<String> = Vec::new();
    for m in crate::methods::all() {
        let name = m.area.title();
        if !seen.iter().any(|s| s == name) {
            seen.push(name.to_string());
            tags.push(json!({"name": name, "description": area_description(m.area)}));
        }
    }
    for item in doc["paths"]
        .as_object()
        .into_iter()
        .flat_map(|p| p.values())
    {
        for op in item.as_object().into_iter().flat_map(|o| o.values()) {
            for t in op["tags"].as_array().into_iter().flatten() {
                if let Some(t) = t.as_str() {
                    if !seen.iter().any(|s| s == t) {
                        seen.push(t.to_string());
                        tags.push(json!({"name": t, "description": "Plain JSON REST access to the user accounts, with an X-API-Key token."}));
                    }
                }
            }
        }
    }
    Value::Array(tags)
}

#[cfg(test)]
mod tests {
    use super::*;

    const LIST: &[Field] = &[Field::group(
        "list",
        "A list.",
        &[
            Field::attr("total", FieldType::Integer, "How many."),
            Field::element("name", FieldType::Text, "A name.").repeated(),
            Field::element("note", FieldType::Text, "A note.")
                .fields(&[Field::attr("lang", FieldType::Text, "Its language.").when("known")])
                .when("asked"),
        ],
    )];

    #[test]
    fn field_schemas_follow_the_json_encoding_and_are_closed() {
        let s = json_field(&LIST[0]);
        assert_eq!(s["type"], "object");
        assert_eq!(s["additionalProperties"], false);
        assert_eq!(s["required"], json!(["total"]));
        assert_eq!(s["properties"]["total"]["pattern"], "^-?[0-9]+$");
        // a repeated element: one value, or an array of several
        let name = &s["properties"]["name"]["anyOf"];
        assert_eq!(name[0]["type"], "string");
        assert_eq!(name[1]["type"], "array");
        assert_eq!(name[1]["minItems"], 2);
        // text with optional attributes: the text alone, or an object with `_content`
        let note = &s["properties"]["note"]["anyOf"];
        assert_eq!(note[0]["properties"]["_content"]["type"], "string");
        assert_eq!(note[0]["additionalProperties"], false);
        assert_eq!(note[1]["type"], "string");
        assert!(s["properties"]["note"]["description"]
            .as_str()
            .is_some_and(|d| d.ends_with("Present: asked.")));
        // XML: names and attribute flags
        let x = xml_field(&LIST[0]);
        assert_eq!(x["xml"]["name"], "list");
        assert_eq!(x["properties"]["total"]["xml"]["attribute"], true);
        assert_eq!(x["properties"]["name"]["type"], "array");
        assert_eq!(x["properties"]["name"]["items"]["xml"]["name"], "name");
    }
}
